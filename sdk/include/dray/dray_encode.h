/*
 * dray_encode.h - byte sinks and the streaming encoders that write rows to
 * them: CSV, NDJSON, PostgreSQL COPY text and binary, and a gzip stage.
 *
 * Encoders never build a whole batch in memory: a row is written to the
 * sink as soon as it is complete, and a sink passes bytes on as its buffer
 * fills. Part of libdray_sdk.a.
 */
#ifndef DRAY_ENCODE_H
#define DRAY_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- growable buffer ---------------------------------------------------- */

struct dray_buf {
    char *data; /* NUL-terminated once anything was added */
    size_t len;
    size_t cap;
};

#define DRAY_BUF_INIT                                                          \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Each returns 0, or -2 when out of memory (the buffer is unchanged). */
int dray_buf_reserve(struct dray_buf *b, size_t extra);
int dray_buf_add(struct dray_buf *b, const void *data, size_t len);
int dray_buf_addc(struct dray_buf *b, char c);
void dray_buf_reset(struct dray_buf *b);
void dray_buf_release(struct dray_buf *b);

/* ---- sinks -------------------------------------------------------------- */

/*
 * A sink consumes bytes. write() returns 0, or a negative value that every
 * encoder passes back unchanged (the caller's own code: -2 is kept for out
 * of memory). close() flushes and finishes (a gzip trailer); it may be
 * NULL.
 */
struct dray_sink {
    int (*write)(void *ctx, const void *data, size_t len);
    int (*close)(void *ctx);
    void *ctx;
};

/* A sink that appends to a dray_buf. */
void dray_sink_to_buf(struct dray_sink *sink, struct dray_buf *buf);

/*
 * A buffering stage: collects bytes and passes them to next in chunks of
 * at least chunk bytes (and on close). Cuts the per-call overhead of small
 * writes in front of a network or compression sink. The first write takes
 * the chunk's room (-2 when that fails); a write of a chunk or more with
 * nothing buffered goes straight on. close() passes on the rest and then
 * closes next, even after an error (the first error is returned).
 */
struct dray_bufsink {
    struct dray_sink next;
    struct dray_buf buf;
    size_t chunk;
};
void dray_bufsink_init(struct dray_bufsink *bs, struct dray_sink next,
                       size_t chunk, struct dray_sink *out);
void dray_bufsink_release(struct dray_bufsink *bs);

/*
 * gzip stage (RFC 1952 via zlib): compresses what it is given and writes
 * the compressed bytes to next in blocks of at most 16 KiB (memory stays
 * at zlib's state and that block); close() writes the trailer and closes
 * next, even after an error; a second close() does nothing. The first
 * error sticks; a write after close() is -1. level 1..9, or -1 for zlib's
 * default (0 stores without compressing). Returns 0, -2, or -1 for a level
 * out of range. Free with dray_gzip_free() after close().
 */
struct dray_gzip;
int dray_gzip_open(struct dray_gzip **gz, struct dray_sink next, int level,
                   struct dray_sink *out);
void dray_gzip_free(struct dray_gzip *gz);

/* ---- values ------------------------------------------------------------- */

/*
 * One field of a row as encoders take it. text is the canonical text of
 * the value (numbers as source digits, timestamps RFC 3339 UTC, nested
 * values as compact JSON); kind decides quoting and the binary form.
 */
enum dray_field_kind {
    DRAY_F_NULL = 0,
    DRAY_F_BOOL = 1,      /* text "true" / "false" */
    DRAY_F_INT = 2,       /* decimal digits, fits int64 */
    DRAY_F_DECIMAL = 3,   /* a JSON number's text */
    DRAY_F_DOUBLE = 4,    /* a JSON number's text, stored as float8 */
    DRAY_F_STRING = 5,    /* UTF-8, may contain any byte but invalid UTF-8 */
    DRAY_F_TIMESTAMP = 6, /* RFC 3339 UTC text; see ts for binary */
    DRAY_F_JSON = 7       /* compact JSON text */
};

struct dray_field {
    int32_t kind; /* enum dray_field_kind */
    const char *text;
    size_t len;
    int64_t i64; /* INT: the value; BOOL: 0/1; TIMESTAMP: microseconds
                    since 1970-01-01T00:00:00Z */
};

/* ---- CSV (RFC 4180) ----------------------------------------------------- */

struct dray_csv_opts {
    char delimiter; /* ',' (default when 0), '|' or '\t' */
    int quote_all;  /* quote every non-NULL field */
    int crlf;       /* "\r\n" line ends (RFC 4180) instead of "\n" */
};

/*
 * NULL is an empty unquoted field; an empty string is "" (always quoted),
 * so the two stay distinguishable. Fields holding the delimiter, a quote,
 * CR or LF, or leading/trailing blanks (space, tab) are quoted, quotes
 * doubled; so is the text \. (PostgreSQL's end-of-data line). Returns 0,
 * the sink's error, or -1 for another delimiter. A row up to 8 KiB goes to
 * the sink in one write, a longer one in pieces of at most 8 KiB.
 */
int dray_csv_write_header(struct dray_sink *sink,
                          const struct dray_csv_opts *opts,
                          const char *const *names, size_t n);
int dray_csv_write_row(struct dray_sink *sink, const struct dray_csv_opts *opts,
                       const struct dray_field *fields, size_t n);

/* ---- NDJSON ------------------------------------------------------------- */

/* One object a line: names[i] -> fields[i]; NULL fields written as null
   unless skip_nulls. BOOL/INT/DECIMAL/DOUBLE as JSON literals, JSON as
   itself (their text must be valid JSON), the rest as strings escaped by
   dray_json_write_string (controls as \u00XX or \n-style escapes, NUL as
   \u0000, UTF-8 as it is). Returns 0 or the sink's error; a row up to
   8 KiB is one sink write, as in CSV. */
int dray_ndjson_write_row(struct dray_sink *sink, const char *const *names,
                          const struct dray_field *fields, size_t n,
                          int skip_nulls);

/* ---- PostgreSQL COPY ---------------------------------------------------- */

/* Text format: tab-separated, \N for NULL, backslash escapes for
   backslash, tab, newline and CR; every other byte as it is. Returns -1
   (writing nothing) when a field holds NUL, which PostgreSQL text cannot;
   else 0 or the sink's error. A row up to 8 KiB is one sink write. */
int dray_copy_text_write_row(struct dray_sink *sink,
                             const struct dray_field *fields, size_t n);

/*
 * Binary format. The header once, then rows, then the trailer. Each field's
 * binary form follows its column's type, given per column as a
 * DRAY_PGTYPE_* so that DECIMAL goes out as numeric and DOUBLE as float8.
 * Returns -1 (and writes nothing of the row) when a value does not fit its
 * type: the caller rejects that record. Otherwise 0, -2, or the sink's
 * error; the row goes to the sink in one write, built in scratch (reused
 * between rows; NULL allocates one per row). Per column type:
 *   TEXT         any kind's text; not with NUL
 *   INT8, INT4   i64 for INT (and BOOL), else the text as decimal digits;
 *                out of the type's range -1
 *   BOOL         i64 for BOOL, else the text "true" / "false"
 *   FLOAT8       the text (a JSON number) through strtod; overflow and
 *                underflow to zero are -1, as in PostgreSQL's float8in
 *   NUMERIC      the text, exactly: dscale as numeric_in gives it (1.5e3 is
 *                1500, 1e-5 is 0.00001, -0.0 is 0.0); at most 131072
 *                digits before the point and 16383 after
 *   TIMESTAMPTZ  i64 of a TIMESTAMP field only; before 4714-11-24 BC -1
 *   JSONB        the text; not with NUL or the escape \u0000 (jsonb has no
 *                place for it)
 */
enum dray_pgtype {
    DRAY_PGTYPE_TEXT = 0,
    DRAY_PGTYPE_INT8 = 1,
    DRAY_PGTYPE_INT4 = 2,
    DRAY_PGTYPE_BOOL = 3,
    DRAY_PGTYPE_FLOAT8 = 4,
    DRAY_PGTYPE_NUMERIC = 5,
    DRAY_PGTYPE_TIMESTAMPTZ = 6,
    DRAY_PGTYPE_JSONB = 7
};
int dray_copy_binary_write_header(struct dray_sink *sink);
int dray_copy_binary_write_row(struct dray_sink *sink,
                               const struct dray_field *fields,
                               const int32_t *pgtypes, size_t n,
                               struct dray_buf *scratch);
int dray_copy_binary_write_trailer(struct dray_sink *sink);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_ENCODE_H */

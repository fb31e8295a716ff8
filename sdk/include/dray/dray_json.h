/*
 * dray_json.h - the record parser on the hot path.
 *
 * dray_json_parse() validates one JSON text (RFC 8259, UTF-8 checked, a
 * depth limit) and records it as a tape: a flat array of tokens in document
 * order that point into the caller's text. Nothing is copied or converted:
 * numbers keep their source text, strings are decoded only on request.
 * An object or array token knows where its subtree ends, so skipping a
 * value is O(1). One doc is reused record after record; its tape grows to
 * the largest record and stays.
 *
 * Part of libdray_sdk.a (not the ABI); used by the host at the gate and by
 * plugins through the same code.
 */
#ifndef DRAY_JSON_H
#define DRAY_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "dray_encode.h"

#ifdef __cplusplus
extern "C" {
#endif

enum dray_json_type {
    DRAY_JSON_NULL = 1,
    DRAY_JSON_FALSE = 2,
    DRAY_JSON_TRUE = 3,
    DRAY_JSON_NUMBER = 4,
    DRAY_JSON_STRING = 5,
    DRAY_JSON_OBJECT = 6,
    DRAY_JSON_ARRAY = 7
};

/* Token flags. */
/* clang-format off */
#define DRAY_JSON_F_ESCAPED  0x01 /* a string with escapes: decode it with
                                     dray_json_string() */
#define DRAY_JSON_F_INTEGER  0x02 /* a number without fraction or exponent */
#define DRAY_JSON_F_NEGATIVE 0x04 /* a number with a leading '-' */
#define DRAY_JSON_F_KEY      0x08 /* a string that is an object member's name */
#define DRAY_JSON_F_NUL      0x10 /* a string whose decoded text holds U+0000 */
/* clang-format on */

struct dray_json_token {
    uint8_t type;    /* enum dray_json_type */
    uint8_t flags;   /* DRAY_JSON_F_* */
    uint16_t depth;  /* 0 for the top-level value */
    uint32_t offset; /* strings: first byte after the opening quote; other
                        scalars: first byte; containers: the bracket */
    uint32_t len;    /* strings: raw bytes between the quotes; numbers and
                        literals: their text; containers: bytes up to and
                        including the closing bracket */
    uint32_t end;    /* index one past the last token of this value */
    uint32_t count;  /* members of an object, elements of an array */
};

struct dray_json_doc {
    const char *text; /* the parsed text (borrowed) */
    size_t text_len;
    struct dray_json_token *tok; /* n_tok tokens; tok[0] is the value */
    uint32_t n_tok;
    uint32_t cap_tok;
    uint32_t max_depth; /* default DRAY_JSON_MAX_DEPTH */
};

#define DRAY_JSON_MAX_DEPTH 512
/* Texts longer than this are refused (offsets are 32-bit). */
#define DRAY_JSON_MAX_TEXT ((size_t)UINT32_MAX - 1)

struct dray_json_error {
    size_t offset;     /* byte offset of the problem in the text */
    char message[120]; /* e.g. "invalid escape '\q' in a string" */
};

void dray_json_doc_init(struct dray_json_doc *doc);
void dray_json_doc_release(struct dray_json_doc *doc);

/*
 * Parses text (len bytes, not necessarily NUL-terminated) into doc. Exactly
 * one value, optionally surrounded by JSON white space. Duplicate member
 * names are kept as they are (dray_json_get finds the last, as most parsers
 * do). Returns 0, or -1 with err filled (err may be NULL); -2 when out of
 * memory.
 *
 * A byte order mark is refused: RFC 8259 says not to send one, and one at
 * the head of a stream is for the stream reader to strip, not each record.
 * "\u0000" is valid JSON and accepted: the string gets DRAY_JSON_F_NUL.
 * Numbers of any length are accepted (their text is kept). Nesting deeper
 * than max_depth containers (at most 65535) is refused.
 */
int dray_json_parse(struct dray_json_doc *doc, const char *text, size_t len,
                    struct dray_json_error *err);

/* The next sibling of token i (the token after its subtree). */
static inline uint32_t dray_json_next(const struct dray_json_doc *doc,
                                      uint32_t i)
{
    return doc->tok[i].end;
}

/*
 * The value of member key (keylen bytes, raw: compared with the member
 * names as written, escapes decoded) in object obj; -1 when absent or when
 * obj is not an object. Of duplicates, the last wins.
 */
int32_t dray_json_get(const struct dray_json_doc *doc, uint32_t obj,
                      const char *key, size_t keylen);

/*
 * Appends the decoded UTF-8 of string token i to out (no terminating NUL
 * counted in out->len, but one is kept after it). Returns 0, -1 when i is
 * not a string, -2 when out of memory.
 */
int dray_json_string(const struct dray_json_doc *doc, uint32_t i,
                     struct dray_buf *out);

/* Compares the decoded text of string token i with s (n bytes). */
int dray_json_string_eq(const struct dray_json_doc *doc, uint32_t i,
                        const char *s, size_t n);

/*
 * Writes token i's value as compact JSON (no insignificant white space;
 * numbers and string escapes as in the source, "\/" written as "/").
 * Returns the sink's status.
 */
int dray_json_write(const struct dray_json_doc *doc, uint32_t i,
                    struct dray_sink *sink);

/* Writes s (n bytes of UTF-8) as a JSON string literal, quotes included. */
int dray_json_write_string(struct dray_sink *sink, const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_JSON_H */

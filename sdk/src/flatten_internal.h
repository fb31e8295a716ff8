/*
 * flatten_internal.h - shared by the flatten_*.c files: fields (the
 * records' structure), columns (the destination's), the table set's life
 * and undo, and the record walks (observe, rows). Not installed.
 */
#ifndef DRAY_FLATTEN_INTERNAL_H
#define DRAY_FLATTEN_INTERNAL_H

#include "dray/dray_datetime.h"
#include "dray/dray_flatten.h"
#include "dray/dray_ident.h"

/* Why every record with a value for a field is a reject. */
enum {
    FIELD_OK = 0,
    FIELD_RESERVED_SUFFIX = 1,
    FIELD_RESERVED_PREFIX = 2,
    FIELD_EMPTY_NAME = 3
};

#define MAX_KEYS 64
#define MAX_LEVELS 64

/*
 * A place in the records' structure: the root object, a member of an
 * object, or the items of an array. Fields are a cache of structure made
 * as records show it; they never change the tables by themselves.
 *
 * A "row owner" is a field whose values are rows: the root, and on
 * flattening dialects the items of an array (one subtable row per
 * element). Every other field's columns live in its row owner's table.
 */
struct field {
    char *name;      /* decoded member name; "" for the root and items */
    size_t name_len; /* its length in bytes (it may hold U+0000) */
    int32_t parent;  /* -1 for the root */
    int32_t node;    /* schema node, or -1 when the schema does not say */
    int32_t owner;   /* the row owner whose table holds this field */
    char *source;    /* "attributes.color": path within the stream */
    char *base;      /* canonical column name before a split suffix */
    int status;      /* FIELD_* */
    const char *status_name; /* the name a reject names: name or base */
    int truncated;           /* base was cut to the limit with a hash */
    int depth;               /* object and array levels below the record */
    int is_items;
    int32_t col[DRAY_ST_COUNT]; /* column per stype in the owner's table */
    int first_stype;            /* DRAY_ST_NONE until a column exists */
    int32_t items;              /* arrays: the items field, or -1 */
    /* Row owners only. */
    char *tname;   /* canonical table name */
    int32_t table; /* index in ts->tables once it exists, else -1 */
    int levels;    /* array levels: 0 for the root */
};

struct seeded {
    char *table;
    char *column;
    int stype;
};

enum { UNDO_TABLE, UNDO_COLUMN, UNDO_RENAME, UNDO_CLAIM, UNDO_FIRST };

struct undo {
    int what;
    int32_t table, col, field;
    int stype;
    char *old_name; /* UNDO_RENAME: the name before */
    uint32_t old_flags;
};

/* Bump allocation for a row's texts, freed at once after the row. */
struct arena_block {
    struct arena_block *next;
    size_t size, used;
    char data[];
};
struct arena {
    struct arena_block *head;
    struct arena_block *spare; /* one released block kept for reuse */
};
/* A point to release back to: the blocks then and the newest one's use. */
struct arena_mark {
    struct arena_block *head;
    size_t used;
};

/* A system timestamp of the last record, converted once. */
struct sys_time {
    char in[DRAY_DATETIME_MAX];
    size_t in_len; /* 0: none yet */
    char out[DRAY_DATETIME_MAX];
    size_t out_len; /* 0: did not parse */
    int64_t us;
};

struct dray_tableset {
    struct dray_flat_opts opts;
    const struct dray_schema *schema;
    char *stream;

    struct dray_table *tables;
    int32_t **owners; /* per table, per column: owning field or -1 */
    struct dray_ident_set **names; /* per table: column names in use */
    size_t n_tables, cap_tables;
    size_t n_tables_sys; /* tables [0, n) have their system columns */

    struct field *fields;
    size_t n_fields, cap_fields;
    int32_t *index; /* (parent, name) -> field + 1; open addressing */
    size_t index_cap;

    struct seeded *seeded;
    size_t n_seeded, cap_seeded;

    int32_t key_fields[MAX_KEYS];
    size_t n_keys;

    struct undo *undo;
    size_t n_undo, cap_undo;

    struct dray_buf name;  /* scratch for names */
    struct dray_buf value; /* scratch for decoded values */
    struct arena arena;    /* texts of the row being emitted */

    /* The system timestamps (extracted, received, batched) of the last
       record, converted: most records of a batch share them. */
    struct sys_time sys_time[3];
};

/* ---- flatten_tableset.c ---- */

char *dray__fl_dup_n(const char *s, size_t n);
char *dray__fl_dup(const char *s);
int dray__ts_push_undo(struct dray_tableset *ts, struct undo u);

/* ---- flatten_fields.c ---- */

/* The root field (the record itself). */
int dray__ts_root(struct dray_tableset *ts, int32_t *out);

/* The member field name (len bytes) of parent, made on first use. */
int dray__ts_member(struct dray_tableset *ts, int32_t parent, const char *name,
                    size_t len, int32_t *out);
/* The items field of array field a, made on first use. */
int dray__ts_items(struct dray_tableset *ts, int32_t a, int32_t *out);

/* ---- flatten_columns.c ---- */

/*
 * Makes the column of field f for stype exist (with its table, and the
 * tables above it), splitting per the dialect. 0, 1 with reason
 * (collision, too many columns), -2. Changes are logged for undo.
 */
int dray__ts_need(struct dray_tableset *ts, int32_t f, int stype,
                  struct dray_buf *reason);
/* Adds the system columns of tables made since the last call (after a
   record's data columns, so that those come first). */
int dray__ts_finish_tables(struct dray_tableset *ts, struct dray_buf *reason);
/* Makes the _sdc_extracted_at column of the root table exist. */
int dray__ts_need_extracted_at(struct dray_tableset *ts,
                               struct dray_buf *reason);
void dray__ts_undo(struct dray_tableset *ts);
void dray__ts_undo_forget(struct dray_tableset *ts);

/* The column of a system role in table t (index for SOURCE_KEY and
   LEVEL_ID), or -1. */
int32_t dray__sys_col(const struct dray_tableset *ts, int32_t t, int role,
                      int index);

/* ---- flatten_walk.c: shared by the walks ---- */

void *dray__fw_arena_alloc(struct arena *a, size_t n);
void dray__fw_arena_reset(struct arena *a);
struct arena_mark dray__fw_arena_mark(const struct arena *a);
/* Frees the blocks made after mark m and restores the newest one's use. */
void dray__fw_arena_release(struct arena *a, struct arena_mark m);
char *dray__fw_arena_copy(struct arena *a, const char *s, size_t n);
/* Sets reason to a + b + c (b, c may be NULL); returns 1, or -2. */
int dray__fw_reject(struct dray_buf *reason, const char *a, const char *b,
                    const char *c);
int dray__fw_string_text(const struct dray_json_doc *doc, uint32_t i,
                         struct dray_buf *buf, const char **s, size_t *n);
/* The field of the member whose name is string token key of an object. */
int dray__fw_member(struct dray_tableset *ts, const struct dray_json_doc *doc,
                    int32_t parent, uint32_t key, int32_t *child);
int dray__fw_parse_i64(const char *s, size_t n, int64_t *out);
int dray__fw_field_reject(const struct field *f, struct dray_buf *reason);
/*
 * The Stitch type of value token v of field fi (DRAY_ST_NONE for null),
 * with the dialect's range check of scalars: shared by observe and rows so
 * both reject the same values. 0, 1 with reason, -2.
 */
int dray__fw_classify(struct dray_tableset *ts, const struct dray_json_doc *doc,
                      int32_t fi, uint32_t v, int *st, struct dray_buf *reason);
int dray__fw_check_keys(struct dray_tableset *ts,
                        const struct dray_json_doc *doc, int32_t *key_tok,
                        struct dray_buf *reason);

#endif

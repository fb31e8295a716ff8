/*
 * dray_flatten.h - from parsed records to destination rows.
 *
 * A table set is the destination's view of one stream: the root table and,
 * on flattening dialects, one subtable per array path (orders__line_items),
 * each with its columns in creation order. It is seeded with what the
 * destination already has, then grows as records are observed:
 *
 *  - a column is created only once a non-null value arrives for it;
 *  - objects become parent__child columns (flattening dialects) or one
 *    nested column (native and document dialects);
 *  - arrays become subtables with _sdc_source_key_<key>, _sdc_sequence,
 *    _sdc_level_<n>_id and the other system columns; arrays of scalars get
 *    a "value" column; a keyless parent's source key is __sdc_primary_key;
 *  - a value of another type than its column's splits the column: a new
 *    column <name>__<suffix> of the value's type, and on rename dialects
 *    the original renamed to carry its own suffix (reference §6.2).
 *
 * Records that cannot load get a reason in Stitch's words and load nowhere:
 * a missing or null key property, a field collision after
 * canonicalisation, a reserved suffix or prefix in a source name, too many
 * columns, too deep a nesting. Part of libdray_sdk.a.
 */
#ifndef DRAY_FLATTEN_H
#define DRAY_FLATTEN_H

#include <stddef.h>
#include <stdint.h>

#include "dray_abi.h"
#include "dray_encode.h"
#include "dray_json.h"
#include "dray_schema.h"
#include "dray_types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dray_flat_opts {
    const struct dray_type_dialect *types; /* dray_types_dialect(...) */
    int ident_dialect;                     /* DRAY_IDENT_* */
    int nesting;                           /* DRAY_NEST_* */
    int double_for_number; /* number without multipleOf: 1 double, 0
                              decimal */
    size_t max_columns;    /* per table; 0: no limit */
    int max_depth;         /* nesting levels; 0: 32 */
};

/* Column flags. */
#define DRAY_COL_NEW 0x01       /* not in the destination yet: create it */
#define DRAY_COL_RENAME 0x02    /* exists as old_name: rename it to name */
#define DRAY_COL_SYSTEM 0x04    /* an _sdc column the loader fills */
#define DRAY_COL_KEY 0x08       /* part of the table's primary key */
#define DRAY_COL_TRUNCATED 0x10 /* name cut to the limit; see source */

/* System column roles (dray_column.system). */
enum {
    DRAY_SYS_NONE = 0,
    DRAY_SYS_EXTRACTED_AT,
    DRAY_SYS_RECEIVED_AT,
    DRAY_SYS_BATCHED_AT,
    DRAY_SYS_SEQUENCE,
    DRAY_SYS_TABLE_VERSION,
    DRAY_SYS_PRIMARY_KEY, /* __sdc_primary_key */
    DRAY_SYS_SOURCE_KEY,  /* _sdc_source_key_<k>; level = key index */
    DRAY_SYS_LEVEL_ID     /* _sdc_level_<n>_id; level = n */
};

struct dray_column {
    char *name;     /* the destination name: canonical, suffixed */
    char *source;   /* the source path ("attributes.color"), for comments */
    char *old_name; /* with DRAY_COL_RENAME */
    int32_t node;   /* schema node, -1 for system and undeclared fields */
    int stype;      /* enum dray_stype */
    uint32_t flags; /* DRAY_COL_* */
    int system;     /* DRAY_SYS_* */
    int level;      /* see DRAY_SYS_* */
};

struct dray_table {
    char *name;         /* destination name */
    char *source;       /* "orders" or "orders.line_items" */
    int32_t parent;     /* parent table index; -1 for the root */
    int32_t array_node; /* schema node of the array; -1 for the root */
    int depth;          /* array levels: 0 for the root */
    uint32_t flags;     /* DRAY_COL_NEW when the table must be created */
    struct dray_column *cols;
    size_t n_cols;
    size_t cap_cols;
};

struct dray_tableset;

/*
 * A table set for stream (its root table's source name) under schema s.
 * The schema must outlive the set. Returns 0, -1 with a reason in err (the
 * stream's name cannot make a table name), -2 when out of memory.
 */
int dray_tableset_new(struct dray_tableset **out,
                      const struct dray_flat_opts *opts,
                      const struct dray_schema *s, const char *stream,
                      char *err, size_t errlen);
void dray_tableset_free(struct dray_tableset *ts);

/*
 * Seeds a column the destination already has (table and column by their
 * destination names), so observing does not create it again and splits
 * continue where the destination is. The stype of a suffixed column comes
 * from its suffix; of a plain one from stype. Returns 0 or -2.
 */
int dray_tableset_seed(struct dray_tableset *ts, const char *table,
                       const char *column, int stype);

/*
 * Observes a record (doc holds its data object): creates the tables and
 * columns its values need, splitting on type changes. Returns 0; 1 when the
 * record is rejected, with Stitch's reason in reason; -2 when out of
 * memory. A rejected record changes nothing.
 */
int dray_flatten_observe(struct dray_tableset *ts,
                         const struct dray_json_doc *doc,
                         const struct dray_record_meta *meta,
                         struct dray_buf *reason);

/*
 * Emits the rows of an observed record, root first, then subtable rows in
 * document order. fields are aligned with the table's columns (n ==
 * n_cols at the time of the call); NULL where the record has no value.
 * Texts are valid until fn returns. only_table >= 0 emits that table's rows
 * alone. Returns 0, fn's non-zero result, 1 with reason for a record that
 * observe would reject, -2 when out of memory.
 */
typedef int (*dray_row_fn)(void *ctx, int32_t table,
                           const struct dray_field *fields, size_t n);
int dray_flatten_rows(struct dray_tableset *ts, const struct dray_json_doc *doc,
                      const struct dray_record_meta *meta, int32_t only_table,
                      dray_row_fn fn, void *ctx, struct dray_buf *reason);

size_t dray_tableset_count(const struct dray_tableset *ts);
const struct dray_table *dray_tableset_table(const struct dray_tableset *ts,
                                             size_t i);
/* Marks every table and column as existing (after the loader's DDL). */
void dray_tableset_commit(struct dray_tableset *ts);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_FLATTEN_H */

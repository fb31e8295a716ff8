/*
 * Flattening, table by table, against cases of reference §11 written out by
 * hand: each case is a dialect, a schema, records, and the expected tables
 * (with their columns) and rows, as text.
 *
 * Table lines:  "orders: id=bigint!, name=string, _sdc_received_at, ..."
 *   data columns as name=stype ('!' marks a key, '~' a name cut to the
 *   limit, "<-old" a rename),
 *   system columns by name alone.
 * Row lines:    "orders: id=1 name='x'" with the non-null data values and
 *   the source key and level columns; other system values are left out.
 * Rejects:      "reject #N: reason".
 */
#include <dray/dray_flatten.h>
#include <dray/dray_ident.h>
#include <dray/dray_json.h>
#include <dray/dray_schema.h>
#include <dray/dray_types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

struct fcase {
    const char *name;
    const char *dialect;
    const char *schema;
    const char *keys; /* comma-separated, or "" */
    const char *records[8];
    const char *expect;
    const char *seed; /* "table.column:stype;..." or NULL */
};

static const char *stype_short(int st)
{
    static const char *const names[] = {"none",      "bigint", "boolean",
                                        "timestamp", "double", "decimal",
                                        "string",    "object", "array"};
    return st >= 0 && st < DRAY_ST_COUNT ? names[st] : "?";
}

static int emit_row(void *ctx, int32_t table, const struct dray_field *f,
                    size_t n)
{
    void **c = ctx;
    struct dray_buf *out = c[0];
    struct dray_tableset *ts = c[1];
    const struct dray_table *tb = dray_tableset_table(ts, (size_t)table);

    dray_buf_add(out, tb->name, strlen(tb->name));
    dray_buf_add(out, ":", 1);
    for (size_t i = 0; i < n; i++) {
        const struct dray_column *col = &tb->cols[i];
        if (f[i].kind == DRAY_F_NULL)
            continue;
        if (col->system != DRAY_SYS_NONE &&
            col->system != DRAY_SYS_SOURCE_KEY &&
            col->system != DRAY_SYS_LEVEL_ID)
            continue;
        dray_buf_add(out, " ", 1);
        dray_buf_add(out, col->name, strlen(col->name));
        dray_buf_add(out, "=", 1);
        if (f[i].kind == DRAY_F_STRING)
            dray_buf_add(out, "'", 1);
        dray_buf_add(out, f[i].text, f[i].len);
        if (f[i].kind == DRAY_F_STRING)
            dray_buf_add(out, "'", 1);
    }
    dray_buf_add(out, "\n", 1);
    return 0;
}

static void dump_tables(struct dray_tableset *ts, struct dray_buf *out)
{
    for (size_t t = 0; t < dray_tableset_count(ts); t++) {
        const struct dray_table *tb = dray_tableset_table(ts, t);
        dray_buf_add(out, tb->name, strlen(tb->name));
        dray_buf_add(out, ":", 1);
        for (size_t i = 0; i < tb->n_cols; i++) {
            const struct dray_column *c = &tb->cols[i];
            dray_buf_add(out, i ? ", " : " ", i ? 2 : 1);
            dray_buf_add(out, c->name, strlen(c->name));
            if (c->system != DRAY_SYS_NONE)
                continue;
            dray_buf_add(out, "=", 1);
            dray_buf_add(out, stype_short(c->stype),
                         strlen(stype_short(c->stype)));
            if (c->flags & DRAY_COL_KEY)
                dray_buf_add(out, "!", 1);
            if (c->flags & DRAY_COL_TRUNCATED)
                dray_buf_add(out, "~", 1);
            if (c->flags & DRAY_COL_RENAME) {
                dray_buf_add(out, "<-", 2);
                dray_buf_add(out, c->old_name, strlen(c->old_name));
            }
        }
        dray_buf_add(out, "\n", 1);
    }
}

static int seed(struct dray_tableset *ts, const char *spec)
{
    char buf[512];
    char *save = NULL;

    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *item = strtok_r(buf, ";", &save); item;
         item = strtok_r(NULL, ";", &save)) {
        char *dot = strchr(item, '.'), *colon = strrchr(item, ':');
        int st = DRAY_ST_STRING;
        if (dot == NULL || colon == NULL)
            return -1;
        *dot = *colon = '\0';
        for (int i = 0; i < DRAY_ST_COUNT; i++)
            if (strcmp(colon + 1, stype_short(i)) == 0)
                st = i;
        if (dray_tableset_seed(ts, item, dot + 1, st) != 0)
            return -1;
    }
    return 0;
}

/* Runs a case: observe every record, dump the tables, then the rows. */
static char *run(const struct fcase *c)
{
    struct dray_schema s = {0};
    struct dray_tableset *ts = NULL;
    struct dray_flat_opts o = {0};
    struct dray_json_doc docs[8];
    struct dray_buf out = DRAY_BUF_INIT, reason = DRAY_BUF_INIT;
    char err[256] = "";
    const char *keys[8];
    char keybuf[128], *save = NULL;
    size_t n_keys = 0, n_rec = 0;
    int rejected[8] = {0};

    snprintf(keybuf, sizeof(keybuf), "%s", c->keys);
    for (char *k = strtok_r(keybuf, ",", &save); k && n_keys < 8;
         k = strtok_r(NULL, ",", &save))
        keys[n_keys++] = k;
    if (dray_schema_parse(&s, c->schema, strlen(c->schema), keys, n_keys, err,
                          sizeof(err)) != 0) {
        UNIT_FAIL_AT("%s: schema: %s", c->name, err);
        return strdup("");
    }
    o.types = dray_types_dialect(c->dialect);
    o.ident_dialect = dray_ident_dialect_from_name(c->dialect);
    o.nesting = o.types && o.types->native_nesting ? DRAY_NEST_NATIVE
                                                   : DRAY_NEST_FLATTEN;
    o.double_for_number = 1;
    o.max_columns = strcmp(c->dialect, "redshift") == 0 ? 12 : 0;
    if (dray_tableset_new(&ts, &o, &s, "orders", err, sizeof(err)) != 0) {
        UNIT_FAIL_AT("%s: tableset: %s", c->name, err);
        dray_schema_release(&s);
        return strdup("");
    }
    if (c->seed && seed(ts, c->seed) != 0)
        UNIT_FAIL_AT("%s: bad seed", c->name);

    for (; n_rec < 8 && c->records[n_rec]; n_rec++) {
        struct dray_json_error je;
        struct dray_record_meta m = {.sequence = (int64_t)(100 + n_rec),
                                     .received_at = "2024-05-01T00:00:00Z",
                                     .batched_at = "2024-05-01T00:00:01Z"};
        int rc;

        dray_json_doc_init(&docs[n_rec]);
        if (dray_json_parse(&docs[n_rec], c->records[n_rec],
                            strlen(c->records[n_rec]), &je) != 0) {
            UNIT_FAIL_AT("%s: record %zu: %s", c->name, n_rec, je.message);
            rejected[n_rec] = 1;
            continue;
        }
        rc = dray_flatten_observe(ts, &docs[n_rec], &m, &reason);
        if (rc == 1) {
            char line[512];
            snprintf(line, sizeof(line), "reject #%zu: %s\n", n_rec,
                     reason.data);
            dray_buf_add(&out, line, strlen(line));
            rejected[n_rec] = 1;
        } else if (rc != 0) {
            UNIT_FAIL_AT("%s: observe returned %d", c->name, rc);
        }
    }
    dump_tables(ts, &out);
    dray_tableset_commit(ts);
    for (size_t i = 0; i < n_rec; i++) {
        struct dray_record_meta m = {.sequence = (int64_t)(100 + i),
                                     .received_at = "2024-05-01T00:00:00Z"};
        void *ctx[2] = {&out, ts};
        if (!rejected[i]) {
            int rc =
                dray_flatten_rows(ts, &docs[i], &m, -1, emit_row, ctx, &reason);
            if (rc != 0)
                UNIT_FAIL_AT("%s: rows of #%zu: %d %s", c->name, i, rc,
                             reason.data ? reason.data : "");
        }
        dray_json_doc_release(&docs[i]);
    }
    dray_tableset_free(ts);
    dray_schema_release(&s);
    dray_buf_release(&reason);
    return out.data ? out.data : strdup("");
}

#define SYS                                                                    \
    " _sdc_received_at, _sdc_batched_at, _sdc_sequence, "                      \
    "_sdc_table_version"

static const struct fcase fcases[] = {
    {"object flattening (case 27)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"attributes\":{\"type\":\"object\",\"properties\":{"
     "\"color\":{\"type\":\"string\"},\"dims\":{\"type\":\"object\","
     "\"properties\":{\"w\":{\"type\":\"integer\"}}}}}}}",
     "id",
     {"{\"id\":1,\"attributes\":{\"color\":\"blue\",\"dims\":{\"w\":2}}}"},
     "orders: id=bigint!, attributes__color=string, "
     "attributes__dims__w=bigint," SYS "\n"
     "orders: id=1 attributes__color='blue' attributes__dims__w=2\n",
     NULL},

    {"arrays of objects two levels deep (case 28)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"order_id\":{\"type\":"
     "\"integer\"},\"line_items\":{\"type\":\"array\",\"items\":{\"type\":"
     "\"object\",\"properties\":{\"sku\":{\"type\":\"string\"},"
     "\"tax_lines\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
     "\"properties\":{\"rate\":{\"type\":\"number\"}}}}}}}}}",
     "order_id",
     {"{\"order_id\":7,\"line_items\":[{\"sku\":\"a\",\"tax_lines\":"
      "[{\"rate\":0.1}]},{\"sku\":\"b\",\"tax_lines\":[{\"rate\":0.2}]}]}"},
     "orders: order_id=bigint!," SYS "\n"
     "orders__line_items: sku=string, _sdc_source_key_order_id, "
     "_sdc_level_0_id," SYS "\n"
     "orders__line_items__tax_lines: rate=double, _sdc_source_key_order_id, "
     "_sdc_level_0_id, _sdc_level_1_id," SYS "\n"
     "orders: order_id=7\n"
     "orders__line_items: sku='a' _sdc_source_key_order_id=7 "
     "_sdc_level_0_id=0\n"
     "orders__line_items__tax_lines: rate=0.1 _sdc_source_key_order_id=7 "
     "_sdc_level_0_id=0 _sdc_level_1_id=0\n"
     "orders__line_items: sku='b' _sdc_source_key_order_id=7 "
     "_sdc_level_0_id=1\n"
     "orders__line_items__tax_lines: rate=0.2 _sdc_source_key_order_id=7 "
     "_sdc_level_0_id=1 _sdc_level_1_id=0\n",
     NULL},

    {"array of scalars (case 29)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}",
     "id",
     {"{\"id\":1,\"tags\":[\"a\",\"b\"]}"},
     "orders: id=bigint!," SYS "\n"
     "orders__tags: value=string, _sdc_source_key_id, _sdc_level_0_id," SYS "\n"
     "orders: id=1\n"
     "orders__tags: value='a' _sdc_source_key_id=1 _sdc_level_0_id=0\n"
     "orders__tags: value='b' _sdc_source_key_id=1 _sdc_level_0_id=1\n",
     NULL},

    {"type split renames on PostgreSQL (cases 13, 15)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"age\":{\"type\":[\"null\",\"integer\"]}}}",
     "id",
     {"{\"id\":1,\"age\":30}", "{\"id\":2,\"age\":16.5}",
      "{\"id\":3,\"age\":\"old\"}"},
     "orders: id=bigint!, age__bi=bigint," SYS ", age__do=double, "
     "age__st=string\n"
     "orders: id=1 age__bi=30\n"
     "orders: id=2 age__do=16.5\n"
     "orders: id=3 age__st='old'\n",
     NULL},

    {"type split keeps the name on Snowflake (case 14)",
     "snowflake",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"has_magic\":{\"type\":\"boolean\"}}}",
     "id",
     {"{\"id\":1,\"has_magic\":true}", "{\"id\":2,\"has_magic\":\"yes\"}"},
     "ORDERS: ID=bigint!, HAS_MAGIC=boolean, _SDC_RECEIVED_AT, "
     "_SDC_BATCHED_AT, _SDC_SEQUENCE, _SDC_TABLE_VERSION, "
     "HAS_MAGIC__ST=string\n"
     "ORDERS: ID=1 HAS_MAGIC=true\n"
     "ORDERS: ID=2 HAS_MAGIC__ST='yes'\n",
     NULL},

    {"split of an existing column renames it (seeded)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"age\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":2,\"age\":\"x\"}"},
     "orders: id=bigint!, age__bi=bigint<-age, _sdc_received_at, "
     "_sdc_batched_at, _sdc_sequence, _sdc_table_version, age__st=string\n"
     "orders: id=2 age__st='x'\n",
     "orders.id:bigint;orders.age:bigint;orders._sdc_received_at:timestamp;"
     "orders._sdc_batched_at:timestamp;orders._sdc_sequence:bigint;"
     "orders._sdc_table_version:bigint"},

    {"reserved suffix and prefix are rejects (cases 16, 17)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"price__st\":\"9\"}", "{\"id\":2,\"_sdc_foo\":1}",
      "{\"id\":3,\"_sdc_deleted_at\":\"2024-01-01T00:00:00Z\"}",
      "{\"id\":4,\"price__st\":null}"},
     "reject #0: column names from client should not include reserved "
     "datatype suffix on [price__st]\n"
     "reject #1: column names from client should not use the reserved "
     "prefixes _sdc or _rjm on [_sdc_foo]\n"
     "orders: id=bigint!, _sdc_deleted_at=string," SYS "\n"
     "orders: id=3 _sdc_deleted_at='2024-01-01T00:00:00Z'\n"
     "orders: id=4\n",
     NULL},

    {"collision after canonicalisation on Redshift (case 19)",
     "redshift",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"ID\":2}", "{\"id\":3}"},
     "reject #0: Field collision on id\n"
     "orders: id=bigint!," SYS "\n"
     "orders: id=3\n",
     NULL},

    {"missing and null keys (case 11)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"n\":{\"type\":\"string\"}}}",
     "id",
     {"{\"n\":\"a\"}", "{\"id\":null,\"n\":\"b\"}", "{\"id\":5,\"n\":\"c\"}"},
     "reject #0: Record is missing key property id\n"
     "reject #1: Record is missing key property id\n"
     "orders: id=bigint!, n=string," SYS "\n"
     "orders: id=5 n='c'\n",
     NULL},

    {"all-null column is not created; new column at the end (cases 32, 33)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"gone\":{\"type\":[\"null\",\"string\"]},\"email\":{\"type\":"
     "\"string\"}}}",
     "id",
     {"{\"id\":1,\"gone\":null}", "{\"id\":2,\"email\":\"e@x\"}"},
     "orders: id=bigint!," SYS ", email=string\n"
     "orders: id=1\n"
     "orders: id=2 email='e@x'\n",
     NULL},

    {"keyless stream: __sdc_primary_key and its source key",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"tags\":{\"type\":\"array\","
     "\"items\":{\"type\":\"integer\"}}}}",
     "",
     {"{\"tags\":[5]}"},
     "orders: __sdc_primary_key," SYS "\n"
     "orders__tags: value=bigint, _sdc_source_key___sdc_primary_key, "
     "_sdc_level_0_id," SYS "\n"
     "orders:\n"
     "orders__tags: value=5 _sdc_level_0_id=0\n",
     NULL},

    {"native nesting keeps objects and arrays (Snowflake, case 29)",
     "snowflake",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
     "\"a\":{\"type\":\"object\"}}}",
     "id",
     {"{\"id\":1,\"tags\":[\"a\",\"b\"],\"a\":{\"x\":[1, 2]}}"},
     "ORDERS: ID=bigint!, TAGS=array, A=object, _SDC_RECEIVED_AT, "
     "_SDC_BATCHED_AT, _SDC_SEQUENCE, _SDC_TABLE_VERSION\n"
     "ORDERS: ID=1 TAGS=[\"a\",\"b\"] A={\"x\":[1,2]}\n",
     NULL},

    {"too many columns rejects the record, and changes nothing (case 21)",
     "redshift",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,"
      "\"h\":1}",
      "{\"id\":2,\"a\":1}"},
     "reject #0: ERROR: too many columns\n"
     "orders: id=bigint!, a=bigint," SYS "\n"
     "orders: id=2 a=1\n",
     NULL},

    {"undeclared fields load by their value's type; timestamps to UTC",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"at\":{\"type\":\"string\",\"format\":\"date-time\"}}}",
     "id",
     {"{\"id\":1,\"extra\":true,\"at\":\"2024-01-02 03:04:05+02:00\"}"},
     "orders: id=bigint!, extra=boolean, at=timestamp," SYS "\n"
     "orders: id=1 extra=true at=2024-01-02T01:04:05.000000Z\n",
     NULL},
    {"values out of the destination's range are rejects (cases 22, 23)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"n\":{\"type\":\"integer\"},\"t\":{\"type\":\"string\","
     "\"format\":\"date-time\"}}}",
     "id",
     {"{\"id\":1,\"n\":9223372036854775808}",
      "{\"id\":2,\"t\":\"300000-01-01T00:00:00Z\"}",
      "{\"id\":3,\"n\":-9223372036854775808,\"t\":\"0001-01-01T00:00:00Z\"}"},
     "reject #0: integer out of range for PostgreSQL on "
     "[9223372036854775808]\n"
     "reject #1: timestamp out of range for PostgreSQL on "
     "[300000-01-01T00:00:00Z]\n"
     "orders: id=bigint!, n=bigint, t=timestamp," SYS "\n"
     "orders: id=3 n=-9223372036854775808 t=0001-01-01T00:00:00.000000Z\n",
     NULL},

    {"BigQuery NUMERIC range (case 24)",
     "bigquery",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"d\":{\"type\":\"number\",\"multipleOf\":0.01}}}",
     "id",
     {"{\"id\":1,\"d\":123456789012345678901234567890.5}",
      "{\"id\":2,\"d\":12.25}"},
     "reject #0: Numeric out of range for BigQuery on "
     "[123456789012345678901234567890.5]\n"
     "orders: id=bigint!, d=decimal," SYS "\n"
     "orders: id=2 d=12.25\n",
     NULL},

    {"a key that changes type cannot key existing subtables",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
     "[\"integer\",\"string\"]},\"items\":{\"type\":\"array\","
     "\"items\":{\"type\":\"integer\"}}}}",
     "id",
     {"{\"id\":1,\"items\":[5]}", "{\"id\":\"x\",\"items\":[6]}"},
     "reject #1: Field collision on _sdc_source_key_id\n"
     "orders: id=bigint!," SYS "\n"
     "orders__items: value=bigint, _sdc_source_key_id, _sdc_level_0_id," SYS
     "\n"
     "orders: id=1\n"
     "orders__items: value=5 _sdc_source_key_id=1 _sdc_level_0_id=0\n",
     NULL},

    /* The hash is FNV-1a 32 of the full name, 6d319aaf, computed outside
       dray. */
    {"names over the limit are cut with a hash, not dropped (case 20)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"a_column_name_that_is_much_longer_than_sixty_three_bytes_"
      "for_postgres\":\"kept\"}"},
     "orders: id=bigint!, "
     "a_column_name_that_is_much_longer_than_sixty_three_byt_6d319aaf="
     "string~," SYS "\n"
     "orders: id=1 "
     "a_column_name_that_is_much_longer_than_sixty_three_byt_6d319aaf="
     "'kept'\n",
     NULL},

    {"empty objects and arrays, null and missing: no columns, no rows",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"o\":{\"type\":\"object\"},\"a\":{\"type\":\"array\"},"
     "\"s\":{\"type\":[\"null\",\"string\"]}}}",
     "id",
     {"{\"id\":1,\"o\":{},\"a\":[],\"s\":null}", "{\"id\":2}",
      "{\"id\":3,\"s\":\"\"}"},
     "orders: id=bigint!," SYS ", s=string\n"
     "orders: id=1\n"
     "orders: id=2\n"
     "orders: id=3 s=''\n",
     NULL},

    {"nesting deeper than the limit is a reject",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{"
      "\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{"
      "\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{"
      "\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":1"
      "}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}}",
      "{\"id\":2}"},
     "reject #0: the record nests deeper than 32 levels\n"
     "orders: id=bigint!," SYS "\n"
     "orders: id=2\n",
     NULL},

    {"system names after canonicalisation are reserved (Redshift case)",
     "redshift",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"_SDC_SEQUENCE\":5}", "{\"id\":2}"},
     "reject #0: column names from client should not use the reserved "
     "prefixes _sdc or _rjm on [_SDC_SEQUENCE]\n"
     "orders: id=bigint!," SYS "\n"
     "orders: id=2\n",
     NULL},

    {"system names after canonicalisation are reserved (PostgreSQL '#')",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"#_sdc_sequence\":5}", "{\"id\":2}"},
     "reject #0: column names from client should not use the reserved "
     "prefixes _sdc or _rjm on [#_sdc_sequence]\n"
     "orders: id=bigint!," SYS "\n"
     "orders: id=2\n",
     NULL},

    {"__sdc is a reserved prefix (keyless stream)",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}",
     "",
     {"{\"__sdc_primary_key\":\"x\",\"a\":1}", "{\"a\":2}"},
     "reject #0: column names from client should not use the reserved "
     "prefixes _sdc or _rjm on [__sdc_primary_key]\n"
     "orders: a=bigint, __sdc_primary_key," SYS "\n"
     "orders: a=2\n",
     NULL},

    {"a flattened child cannot make a split column's name",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"age\":{\"bi\":7}}", "{\"id\":2}"},
     "reject #0: column names from client should not include reserved "
     "datatype suffix on [age__bi]\n"
     "orders: age__bi=bigint, age__do=double, id=bigint!," SYS "\n"
     "orders: id=2\n",
     "orders.age__bi:bigint;orders.age__do:double"},

    {"integers beyond int64 load where the destination holds them (Snowflake)",
     "snowflake",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"n\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"n\":123456789012345678901234}"},
     "ORDERS: ID=bigint!, N=bigint, _SDC_RECEIVED_AT, _SDC_BATCHED_AT, "
     "_SDC_SEQUENCE, _SDC_TABLE_VERSION\n"
     "ORDERS: ID=1 N=123456789012345678901234\n",
     NULL},

    {"integers beyond int64 load where the destination holds them (files)",
     "files",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
     "\"n\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"n\":123456789012345678901234}"},
     "orders: id=bigint!, n=bigint," SYS "\n"
     "orders: id=1 n=123456789012345678901234\n",
     NULL},

    {"files never split: another type shares the field's column",
     "files",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"v\":5}", "{\"id\":2,\"v\":\"five\"}",
      "{\"id\":3,\"v\":true}"},
     "orders: id=bigint!, v=bigint," SYS "\n"
     "orders: id=1 v=5\n"
     "orders: id=2 v='five'\n"
     "orders: id=3 v=true\n",
     NULL},

    {"a member name with U+0000 is one field",
     "postgres",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}",
     "id",
     {"{\"id\":1,\"a\\u0000b\":1}", "{\"id\":2,\"a\\u0000b\":2}"},
     "orders: id=bigint!, ab=bigint," SYS "\n"
     "orders: id=1 ab=1\n"
     "orders: id=2 ab=2\n",
     NULL},
};

static void test_cases(void)
{
    for (size_t i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
        char *got = run(&fcases[i]);
        if (strcmp(got, fcases[i].expect) != 0)
            UNIT_FAIL_AT("%s:\n--- expected\n%s--- got\n%s", fcases[i].name,
                         fcases[i].expect, got);
        free(got);
    }
}

UNIT_MAIN(UNIT_CASE(test_cases))

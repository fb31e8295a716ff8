/*
 * libFuzzer target: records through the flattener. The first byte picks a
 * dialect and a schema; the rest is a record. Observe, then rows, must
 * never crash, leak or hand out a row that does not match its table, and a
 * rejected record must leave the tables exactly as they were.
 */
#include <dray/dray_flatten.h>
#include <dray/dray_ident.h>
#include <dray/dray_json.h>
#include <dray/dray_schema.h>
#include <dray/dray_types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char *const dialects[] = {"postgres", "redshift", "snowflake",
                                       "bigquery", "files"};

static const char *const schemas[] = {
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
    "\"a\":{\"type\":\"object\",\"properties\":{\"b\":{\"type\":\"array\","
    "\"items\":{\"type\":\"object\",\"properties\":{\"c\":{\"type\":"
    "\"number\",\"multipleOf\":0.01}}}}}},\"t\":{\"type\":\"string\","
    "\"format\":\"date-time\"}}}",
    "{\"type\":\"object\"}",
};

static size_t count_cols(const struct dray_tableset *ts)
{
    size_t n = 0;

    for (size_t t = 0; t < dray_tableset_count(ts); t++)
        n += dray_tableset_table(ts, t)->n_cols;
    return n;
}

static int check_row(void *ctx, int32_t table, const struct dray_field *f,
                     size_t n)
{
    const struct dray_tableset *ts = ctx;
    const struct dray_table *tb = dray_tableset_table(ts, (size_t)table);

    if (tb == NULL || n != tb->n_cols)
        abort();
    for (size_t i = 0; i < n; i++)
        if (f[i].kind != DRAY_F_NULL && f[i].text == NULL)
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct dray_schema s;
    struct dray_tableset *ts = NULL;
    struct dray_flat_opts o = {0};
    struct dray_json_doc doc;
    struct dray_buf reason = DRAY_BUF_INIT;
    struct dray_record_meta m = {.sequence = 1,
                                 .received_at = "2024-01-01T00:00:00Z"};
    const char *keys[] = {"id"};
    char err[256];

    if (size < 1)
        return 0;
    const char *dialect = dialects[data[0] % 5];
    int with_keys = (data[0] >> 3) & 1;
    const char *schema = schemas[(data[0] >> 4) & 1];

    if (dray_schema_parse(&s, schema, strlen(schema), keys, with_keys ? 1 : 0,
                          err, sizeof(err)) != 0)
        return 0;
    o.types = dray_types_dialect(dialect);
    o.ident_dialect = dray_ident_dialect_from_name(dialect);
    o.nesting = o.types && o.types->native_nesting ? DRAY_NEST_NATIVE
                                                   : DRAY_NEST_FLATTEN;
    o.double_for_number = (data[0] >> 5) & 1;
    o.max_columns = 40;
    o.max_depth = 8;
    dray_json_doc_init(&doc);
    if (dray_tableset_new(&ts, &o, &s, "fuzz", err, sizeof(err)) == 0 &&
        dray_json_parse(&doc, (const char *)data + 1, size - 1, NULL) == 0) {
        /* Twice: the second time sees the first one's columns. */
        for (int pass = 0; pass < 2; pass++) {
            size_t before = count_cols(ts), tables = dray_tableset_count(ts);
            int rc = dray_flatten_observe(ts, &doc, &m, &reason);
            if (rc == 1 &&
                (count_cols(ts) != before || dray_tableset_count(ts) != tables))
                abort(); /* a reject changed the tables */
            if (rc == 0) {
                dray_tableset_commit(ts);
                if (dray_flatten_rows(ts, &doc, &m, -1, check_row, ts,
                                      &reason) < 0)
                    abort();
            }
        }
    }
    dray_tableset_free(ts);
    dray_json_doc_release(&doc);
    dray_schema_release(&s);
    dray_buf_release(&reason);
    return 0;
}

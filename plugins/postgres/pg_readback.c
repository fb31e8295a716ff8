/*
 * pg_readback.c - what the conformance harness reads and makes: a table's
 * rows as canonical NDJSON (docs/ABI.md, "Readback and namespaces"), the
 * tables of a schema, and schemas made and dropped per scenario.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"

static dray_status namespace_of(struct pg *pg, const char *ns, char **out,
                                dray_error *err)
{
    if (ns == NULL && strstr(pg->schema_tmpl, "{integration}") != NULL)
        return dray_error_set(err, DRAY_E_CONFIG, NULL,
                              "the 'schema' option names a schema per "
                              "integration: say which namespace to read");
    *out = pg_schema_for(pg, ns, NULL);
    if (*out == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    return DRAY_OK;
}

static dray_status write_out(dray_output *out, struct dray_buf *b)
{
    dray_status st = dray_host()->output_write(out, b->data, b->len);

    dray_buf_reset(b);
    return st;
}

static int sink_buf_write(void *ctx, const void *data, size_t len)
{
    return dray_buf_add(ctx, data, len);
}

static void json_string(struct dray_buf *b, const char *s, size_t n)
{
    struct dray_sink sink = {sink_buf_write, NULL, b};

    dray_json_write_string(&sink, s, n);
}

/* ORDER BY: the primary key, else the source keys, then the levels,
   else _sdc_sequence; every column last, so the order is total. Key
   columns are qualified with the table's alias: a bare name would be the
   output column of the same name, the value as text (1, 10, 2). */
static void order_by(struct dray_buf *q, const struct pg_table *t)
{
    int any = 0;

    pg_add(q, " ORDER BY ");
    for (size_t k = 0; k < t->n_pkey; k++) {
        pg_add(q, any++ ? ", t." : "t.");
        pg_ident(q, NULL, t->pkey[k]);
    }
    for (size_t c = 0; t->n_pkey == 0 && c < t->n_cols; c++)
        if (strncmp(t->cols[c].name, "_sdc_source_key_", 16) == 0) {
            pg_add(q, any++ ? ", t." : "t.");
            pg_ident(q, NULL, t->cols[c].name);
        }
    for (size_t c = 0; t->n_pkey == 0 && c < t->n_cols; c++)
        if (strncmp(t->cols[c].name, "_sdc_level_", 11) == 0) {
            pg_add(q, any++ ? ", t." : "t.");
            pg_ident(q, NULL, t->cols[c].name);
        }
    if (pg_column_index(t, "_sdc_sequence") >= 0) {
        pg_add(q, any++ ? ", " : "");
        pg_add(q, "t.\"_sdc_sequence\"");
    }
    for (size_t c = 0; c < t->n_cols; c++) {
        pg_add(q, any++ ? ", " : "");
        pg_addf(q, "%zu", c + 1);
    }
}

static void value(struct dray_buf *b, const struct pg_column *c,
                  const PGresult *res, int row, int col)
{
    const char *v = PQgetvalue(res, row, col);

    if (PQgetisnull(res, row, col))
        pg_add(b, "null");
    else if (c->stype == DRAY_ST_BIGINT)
        pg_add(b, v);
    else if (c->stype == DRAY_ST_BOOLEAN)
        pg_add(b, v[0] == 't' ? "true" : "false");
    else
        json_string(b, v, (size_t)PQgetlength(res, row, col));
}

dray_status pg_readback(void *state, const char *ns, const char *table,
                        dray_output *out, dray_error *err)
{
    struct pg *pg = state;
    struct pg_catalog cat = {0};
    struct dray_buf q = DRAY_BUF_INIT, line = DRAY_BUF_INIT;
    const struct pg_table *t;
    PGresult *res = NULL;
    char *schema = NULL;
    dray_status st = namespace_of(pg, ns, &schema, err);

    if (st == DRAY_OK)
        st = pg_connect(pg, err);
    if (st == DRAY_OK)
        st = pg_catalog_read(pg, schema, table, &cat, err);
    if (st != DRAY_OK)
        goto out;
    t = pg_catalog_find(&cat, table);
    if (t == NULL) {
        st = dray_error_set(err, DRAY_E_PERMANENT, NULL, "no table %s.%s",
                            schema, table);
        goto out;
    }
    pg_add(&q, "SELECT ");
    for (size_t c = 0; c < t->n_cols; c++) {
        pg_add(&q, c ? ", " : "");
        if (t->cols[c].stype == DRAY_ST_TIMESTAMP) {
            pg_add(&q, "to_char(");
            pg_ident(&q, NULL, t->cols[c].name);
            pg_add(&q, " AT TIME ZONE 'UTC', "
                       "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
        } else {
            pg_ident(&q, NULL, t->cols[c].name);
            pg_add(&q, "::text");
        }
    }
    pg_add(&q, " FROM ");
    pg_ident(&q, schema, table);
    pg_add(&q, " AS t");
    order_by(&q, t);
    st = pg_query(pg, q.data, 0, NULL, &res, "reading the table back", err);
    for (int r = 0; st == DRAY_OK && r < PQntuples(res); r++) {
        dray_buf_addc(&line, '{');
        for (size_t c = 0; c < t->n_cols; c++) {
            if (c)
                dray_buf_addc(&line, ',');
            json_string(&line, t->cols[c].name, strlen(t->cols[c].name));
            dray_buf_addc(&line, ':');
            value(&line, &t->cols[c], res, r, (int)c);
        }
        pg_add(&line, "}\n");
        st = write_out(out, &line);
    }
out:
    PQclear(res);
    pg_catalog_release(&cat);
    dray_buf_release(&q);
    dray_buf_release(&line);
    free(schema);
    return st;
}

dray_status pg_list_tables(void *state, const char *ns, dray_output *out,
                           dray_error *err)
{
    struct pg *pg = state;
    struct dray_buf list = DRAY_BUF_INIT;
    char *schema = NULL;
    dray_status st = namespace_of(pg, ns, &schema, err);

    if (st == DRAY_OK)
        st = pg_connect(pg, err);
    if (st == DRAY_OK)
        st = pg_catalog_list(pg, schema, &list, err);
    if (st == DRAY_OK && list.len > 0)
        st = write_out(out, &list);
    dray_buf_release(&list);
    free(schema);
    return st;
}

dray_status pg_namespace_create(void *state, const char *ns, dray_error *err)
{
    struct pg *pg = state;
    struct dray_buf q = DRAY_BUF_INIT;
    dray_status st = pg_connect(pg, err);

    pg_add(&q, "CREATE SCHEMA IF NOT EXISTS ");
    pg_ident(&q, NULL, ns);
    if (st == DRAY_OK)
        st = pg_exec(pg, q.data, "creating a schema", err);
    dray_buf_release(&q);
    return st;
}

dray_status pg_namespace_drop(void *state, const char *ns, dray_error *err)
{
    struct pg *pg = state;
    struct dray_buf q = DRAY_BUF_INIT;
    const char *params[1] = {ns};
    dray_status st = pg_connect(pg, err);

    if (st == DRAY_OK)
        st = pg_ddl_ledger(pg, err);
    pg_add(&q, "DROP SCHEMA IF EXISTS ");
    pg_ident(&q, NULL, ns);
    pg_add(&q, " CASCADE");
    if (st == DRAY_OK)
        st = pg_exec(pg, q.data, "dropping a schema", err);
    /* Its batches may load again into a schema of the same name. */
    if (st == DRAY_OK)
        st = pg_query(pg, "DELETE FROM _dray.loads WHERE schema_name = $1", 1,
                      params, NULL, "clearing the ledger", err);
    dray_buf_release(&q);
    return st;
}

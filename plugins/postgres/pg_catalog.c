/*
 * pg_catalog.c - what a schema already holds for a stream: its root table
 * and subtables, their columns in order with the Stitch type each holds,
 * and their primary keys. Read under the stream's DDL lock, so it stays
 * true for the batch.
 */
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"

static int stype_of(const char *type)
{
    if (strcmp(type, "bigint") == 0 || strcmp(type, "integer") == 0 ||
        strcmp(type, "smallint") == 0)
        return DRAY_ST_BIGINT;
    if (strcmp(type, "boolean") == 0)
        return DRAY_ST_BOOLEAN;
    if (strncmp(type, "timestamp", 9) == 0)
        return DRAY_ST_TIMESTAMP;
    if (strcmp(type, "double precision") == 0 || strcmp(type, "real") == 0)
        return DRAY_ST_DOUBLE;
    if (strncmp(type, "numeric", 7) == 0)
        return DRAY_ST_DECIMAL;
    return DRAY_ST_STRING;
}

static struct pg_table *table_for(struct pg_catalog *cat, const char *name)
{
    struct pg_table *t;

    if (cat->n_tables > 0 &&
        strcmp(cat->tables[cat->n_tables - 1].name, name) == 0)
        return &cat->tables[cat->n_tables - 1];
    t = realloc(cat->tables, (cat->n_tables + 1) * sizeof(*t));
    if (t == NULL)
        return NULL;
    cat->tables = t;
    t = &cat->tables[cat->n_tables];
    memset(t, 0, sizeof(*t));
    t->name = strdup(name);
    if (t->name == NULL)
        return NULL;
    cat->n_tables++;
    return t;
}

static int push(char ***v, size_t *n, const char *s)
{
    char **p = realloc(*v, (*n + 1) * sizeof(**v));

    if (p == NULL)
        return -1;
    *v = p;
    p[*n] = strdup(s);
    if (p[*n] == NULL)
        return -1;
    (*n)++;
    return 0;
}

static int add_column(struct pg_table *t, const char *name, const char *type)
{
    struct pg_column *c = realloc(t->cols, (t->n_cols + 1) * sizeof(*c));

    if (c == NULL)
        return -1;
    t->cols = c;
    c[t->n_cols].name = strdup(name);
    c[t->n_cols].type = strdup(type);
    c[t->n_cols].stype = stype_of(type);
    if (c[t->n_cols].name == NULL || c[t->n_cols].type == NULL) {
        free(c[t->n_cols].name);
        free(c[t->n_cols].type);
        return -1;
    }
    t->n_cols++;
    return 0;
}

/* Columns of the stream's tables, in table then column order. */
static const char columns_sql[] =
    "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " JOIN pg_attribute a ON a.attrelid = c.oid"
    " WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')"
    " AND (c.relname = $2 OR starts_with(c.relname, $2 || '__'))"
    " AND a.attnum > 0 AND NOT a.attisdropped"
    " ORDER BY c.relname, a.attnum";

/* Primary keys, columns in key order. */
static const char pkeys_sql[] =
    "SELECT c.relname, k.conname, a.attname"
    " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u(attnum, pos)"
    " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = u.attnum"
    " WHERE n.nspname = $1 AND k.contype = 'p'"
    " AND (c.relname = $2 OR starts_with(c.relname, $2 || '__'))"
    " ORDER BY c.relname, u.pos";

dray_status pg_catalog_read(struct pg *pg, const char *schema, const char *root,
                            struct pg_catalog *cat, dray_error *err)
{
    const char *params[2] = {schema, root};
    PGresult *res = NULL;
    dray_status st;

    memset(cat, 0, sizeof(*cat));
    st = pg_query(pg, columns_sql, 2, params, &res, "reading the catalog", err);
    if (st != DRAY_OK)
        return st;
    for (int i = 0; i < PQntuples(res); i++) {
        struct pg_table *t = table_for(cat, PQgetvalue(res, i, 0));
        if (t == NULL ||
            add_column(t, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2)) != 0)
            goto nomem;
    }
    PQclear(res);
    st = pg_query(pg, pkeys_sql, 2, params, &res, "reading the catalog", err);
    if (st != DRAY_OK)
        return st;
    for (int i = 0; i < PQntuples(res); i++) {
        struct pg_table *t =
            (struct pg_table *)pg_catalog_find(cat, PQgetvalue(res, i, 0));
        if (t == NULL)
            continue;
        if (t->pkey_name == NULL &&
            (t->pkey_name = strdup(PQgetvalue(res, i, 1))) == NULL)
            goto nomem;
        if (push(&t->pkey, &t->n_pkey, PQgetvalue(res, i, 2)) != 0)
            goto nomem;
    }
    PQclear(res);
    return DRAY_OK;
nomem:
    PQclear(res);
    return dray_error_set(err, DRAY_E_NOMEM, NULL,
                          "out of memory reading the catalog");
}

void pg_catalog_release(struct pg_catalog *cat)
{
    for (size_t i = 0; i < cat->n_tables; i++) {
        struct pg_table *t = &cat->tables[i];
        for (size_t c = 0; c < t->n_cols; c++) {
            free(t->cols[c].name);
            free(t->cols[c].type);
        }
        for (size_t k = 0; k < t->n_pkey; k++)
            free(t->pkey[k]);
        free(t->cols);
        free(t->pkey);
        free(t->pkey_name);
        free(t->name);
    }
    free(cat->tables);
    memset(cat, 0, sizeof(*cat));
}

const struct pg_table *pg_catalog_find(const struct pg_catalog *cat,
                                       const char *name)
{
    for (size_t i = 0; i < cat->n_tables; i++)
        if (strcmp(cat->tables[i].name, name) == 0)
            return &cat->tables[i];
    return NULL;
}

int pg_column_index(const struct pg_table *t, const char *name)
{
    for (size_t i = 0; t && i < t->n_cols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

dray_status pg_catalog_list(struct pg *pg, const char *schema,
                            struct dray_buf *out, dray_error *err)
{
    const char *params[1] = {schema};
    PGresult *res = NULL;
    dray_status st =
        pg_query(pg,
                 "SELECT c.relname FROM pg_class c JOIN pg_namespace n"
                 " ON n.oid = c.relnamespace WHERE n.nspname = $1"
                 " AND c.relkind IN ('r', 'p') ORDER BY c.relname",
                 1, params, &res, "listing tables", err);

    if (st != DRAY_OK)
        return st;
    for (int i = 0; i < PQntuples(res); i++) {
        pg_add(out, PQgetvalue(res, i, 0));
        dray_buf_addc(out, '\n');
    }
    PQclear(res);
    return DRAY_OK;
}

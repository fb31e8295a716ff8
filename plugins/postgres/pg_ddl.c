/*
 * pg_ddl.c - the schema changes a batch needs, made in its transaction:
 * the schema, the ledger, the rejects table, new tables (a real primary
 * key for upserted streams), split renames and new columns at the end.
 */
#include <string.h>

#include "pg_internal.h"

const char *pg_column_type(const struct pg *pg, const struct dray_column *c,
                           char *buf, size_t n)
{
    if (dray_types_sql(&pg->types, c->stype, -1, buf, n) < 0)
        return "text"; /* nested values never reach a flattening dialect */
    return buf;
}

void pg_column_def(const struct pg *pg, struct dray_buf *sql,
                   const struct dray_column *c)
{
    char type[64];

    pg_ident(sql, NULL, c->name);
    dray_buf_addc(sql, ' ');
    pg_add(sql, pg_column_type(pg, c, type, sizeof(type)));
}

void pg_column_defs(const struct pg *pg, struct dray_buf *sql,
                    const struct dray_table *tb)
{
    for (size_t c = 0; c < tb->n_cols; c++) {
        if (c > 0)
            pg_add(sql, ", ");
        pg_column_def(pg, sql, &tb->cols[c]);
    }
}

int32_t pg_column_pgtype(int stype)
{
    switch (stype) {
    case DRAY_ST_BIGINT:
        return DRAY_PGTYPE_INT8;
    case DRAY_ST_BOOLEAN:
        return DRAY_PGTYPE_BOOL;
    case DRAY_ST_TIMESTAMP:
        return DRAY_PGTYPE_TIMESTAMPTZ;
    case DRAY_ST_DOUBLE:
        return DRAY_PGTYPE_FLOAT8;
    case DRAY_ST_DECIMAL:
        return DRAY_PGTYPE_NUMERIC;
    default:
        return DRAY_PGTYPE_TEXT;
    }
}

dray_status pg_ddl_schema(struct pg *pg, const char *schema, dray_error *err)
{
    struct dray_buf sql = DRAY_BUF_INIT;
    const char *params[1] = {schema};
    PGresult *res = NULL;
    dray_status st;

    st = pg_query(pg, "SELECT 1 FROM pg_namespace WHERE nspname = $1", 1,
                  params, &res, "looking for the schema", err);
    if (st != DRAY_OK || PQntuples(res) > 0)
        goto out;
    /* Two workers creating one schema would race on its catalog row. */
    st = pg_lock(pg, schema, err);
    if (st != DRAY_OK)
        goto out;
    pg_add(&sql, "CREATE SCHEMA IF NOT EXISTS ");
    pg_ident(&sql, NULL, schema);
    st = pg_exec(pg, sql.data, "creating the schema", err);
out:
    PQclear(res);
    dray_buf_release(&sql);
    return st;
}

dray_status pg_ddl_ledger(struct pg *pg, dray_error *err)
{
    dray_status st;

    if (pg->ledger_ready)
        return DRAY_OK;
    /* Its own transaction: it outlives any batch that fails. */
    st = pg_exec(pg,
                 "BEGIN; SELECT pg_advisory_xact_lock(1685217657, 0);"
                 " CREATE SCHEMA IF NOT EXISTS _dray;"
                 " CREATE TABLE IF NOT EXISTS _dray.loads ("
                 "schema_name text NOT NULL, batch_id text NOT NULL,"
                 " table_name text NOT NULL, rows bigint NOT NULL,"
                 " loaded_at timestamptz NOT NULL DEFAULT now(),"
                 " PRIMARY KEY (schema_name, batch_id, table_name)); COMMIT",
                 "creating the ledger _dray.loads", err);
    if (st != DRAY_OK) {
        if (pg->conn)
            PQclear(PQexec(pg->conn, "ROLLBACK"));
        return st;
    }
    pg->ledger_ready = 1;
    return DRAY_OK;
}

dray_status pg_ddl_rejects(struct pg *pg, const char *schema, dray_error *err)
{
    struct dray_buf sql = DRAY_BUF_INIT;
    dray_status st = pg_lock(pg, schema, err);

    if (st != DRAY_OK)
        return st;
    pg_add(&sql, "CREATE TABLE IF NOT EXISTS ");
    pg_ident(&sql, schema, "_sdc_rejected");
    pg_add(&sql, " (_sdc_rejected_at timestamptz NOT NULL, table_name text,"
                 " reason text NOT NULL, record text)");
    st = pg_exec(pg, sql.data, "creating _sdc_rejected", err);
    dray_buf_release(&sql);
    return st;
}

static void create_table(const struct pg *pg, struct dray_buf *sql,
                         const char *schema, const struct dray_table *tb,
                         int keyed)
{
    int any_key = 0;

    pg_add(sql, "CREATE TABLE ");
    pg_ident(sql, schema, tb->name);
    pg_add(sql, " (");
    pg_column_defs(pg, sql, tb);
    /* PostgreSQL names it <table>_pkey, cut to fit, as Stitch's does. */
    for (size_t c = 0; keyed && c < tb->n_cols; c++) {
        if (!(tb->cols[c].flags & DRAY_COL_KEY) ||
            tb->cols[c].system == DRAY_SYS_PRIMARY_KEY)
            continue;
        pg_add(sql, any_key ? ", " : ", PRIMARY KEY (");
        pg_ident(sql, NULL, tb->cols[c].name);
        any_key = 1;
    }
    pg_add(sql, any_key ? "));\n" : ");\n");
}

static void column_comments(struct dray_buf *sql, const char *schema,
                            const struct dray_table *tb)
{
    for (size_t c = 0; c < tb->n_cols; c++) {
        const struct dray_column *col = &tb->cols[c];
        if (!(col->flags & DRAY_COL_NEW) ||
            !(col->flags & DRAY_COL_TRUNCATED) || col->source == NULL)
            continue;
        /* The name was cut to 63 bytes: the comment keeps the source's. */
        pg_add(sql, "COMMENT ON COLUMN ");
        pg_ident(sql, schema, tb->name);
        dray_buf_addc(sql, '.');
        pg_ident(sql, NULL, col->name);
        pg_add(sql, " IS ");
        pg_literal(sql, col->source);
        pg_add(sql, ";\n");
    }
}

static void alter_table(const struct pg *pg, struct dray_buf *sql,
                        const char *schema, const struct dray_table *tb)
{
    int any = 0;

    for (size_t c = 0; c < tb->n_cols; c++) {
        const struct dray_column *col = &tb->cols[c];
        if (!(col->flags & DRAY_COL_RENAME) || col->old_name == NULL)
            continue;
        pg_add(sql, "ALTER TABLE ");
        pg_ident(sql, schema, tb->name);
        pg_add(sql, " RENAME COLUMN ");
        pg_ident(sql, NULL, col->old_name);
        pg_add(sql, " TO ");
        pg_ident(sql, NULL, col->name);
        pg_add(sql, ";\n");
    }
    for (size_t c = 0; c < tb->n_cols; c++) {
        const struct dray_column *col = &tb->cols[c];
        if (!(col->flags & DRAY_COL_NEW))
            continue;
        if (!any) {
            pg_add(sql, "ALTER TABLE ");
            pg_ident(sql, schema, tb->name);
        }
        pg_add(sql, any ? ", ADD COLUMN " : " ADD COLUMN ");
        pg_column_def(pg, sql, col);
        any = 1;
    }
    if (any)
        pg_add(sql, ";\n");
}

dray_status pg_ddl_apply(struct pg *pg, const char *schema,
                         const struct dray_tableset *ts, int keyed,
                         dray_error *err)
{
    struct dray_buf sql = DRAY_BUF_INIT;
    dray_status st = DRAY_OK;

    for (size_t i = 0; i < dray_tableset_count(ts); i++) {
        const struct dray_table *tb = dray_tableset_table(ts, i);
        if (tb->flags & DRAY_COL_NEW)
            create_table(pg, &sql, schema, tb, keyed);
        else
            alter_table(pg, &sql, schema, tb);
        column_comments(&sql, schema, tb);
    }
    if (sql.len > 0) {
        if (dray_log_enabled(pg->inst, DRAY_LOG_DEBUG))
            dray_log(pg->inst, DRAY_LOG_DEBUG, "DDL: %s", sql.data);
        st = pg_exec(pg, sql.data, "changing the tables", err);
    }
    dray_buf_release(&sql);
    return st;
}

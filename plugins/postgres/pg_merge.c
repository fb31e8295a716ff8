/*
 * pg_merge.c - from the stages into the tables: upsert guarded by
 * _sdc_sequence with subtable rows replaced, or append; then
 * ACTIVATE_VERSION and the ledger row, all in the batch's transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_load.h"

#define WINNERS "_dray_winners"

static const struct dray_table *root_table(const struct pg_load *L,
                                           size_t *index)
{
    for (size_t i = 0; i < L->n_t; i++)
        if (dray_tableset_table(L->ts, i)->parent < 0) {
            *index = i;
            return dray_tableset_table(L->ts, i);
        }
    return NULL;
}

static void cols(struct dray_buf *sql, const struct dray_table *tb,
                 const char *alias)
{
    for (size_t c = 0; c < tb->n_cols; c++) {
        if (c > 0)
            pg_add(sql, ", ");
        if (alias) {
            pg_add(sql, alias);
            dray_buf_addc(sql, '.');
        }
        pg_ident(sql, NULL, tb->cols[c].name);
    }
}

/* Runs L->sql (one or more statements); rows adds the last one's count. */
static dray_status run(struct pg_load *L, const char *what, int64_t *rows,
                       dray_error *err)
{
    PGresult *res = PQexec(L->pg->conn, L->sql.data);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    dray_status st = DRAY_OK;

    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        st = pg_fail(L->pg, res, what, err);
    else if (rows)
        *rows += strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return st;
}

/* INSERT INTO table SELECT FROM its stage (alias s), for the caller to
   add to. */
static void insert_from_stage(struct pg_load *L, size_t i)
{
    const struct dray_table *tb = dray_tableset_table(L->ts, i);

    dray_buf_reset(&L->sql);
    pg_add(&L->sql, "INSERT INTO ");
    pg_ident(&L->sql, L->schema, tb->name);
    pg_add(&L->sql, " (");
    cols(&L->sql, tb, NULL);
    pg_add(&L->sql, ") SELECT ");
    cols(&L->sql, tb, "s");
    pg_add(&L->sql, " FROM ");
    pg_ident(&L->sql, NULL, L->t[i].stage);
    pg_add(&L->sql, " s");
}

static void key_list(struct dray_buf *q, const char **keys, size_t n_keys,
                     const char *alias)
{
    for (size_t k = 0; k < n_keys; k++) {
        pg_add(q, k ? ", " : "");
        if (alias) {
            pg_add(q, alias);
            dray_buf_addc(q, '.');
        }
        pg_ident(q, NULL, keys[k]);
    }
}

/*
 * Per key, the record with the highest _sdc_sequence (the later one on a
 * tie) goes in, unless the table holds a newer row for the key. With
 * subtables, the keys and sequences that went in are kept in WINNERS:
 * their subtable rows are replaced by those of the same record (a
 * record's _sdc_sequence is its own: the spool numbers every record).
 */
static dray_status upsert_root(struct pg_load *L, size_t ri, const char **keys,
                               size_t n_keys, int children, dray_error *err)
{
    const struct dray_table *root = dray_tableset_table(L->ts, ri);
    struct dray_buf *q = &L->sql;
    dray_status st;
    int any = 0;

    if (children && !L->winners_made) {
        dray_buf_reset(q);
        pg_add(q, "CREATE TEMP TABLE " WINNERS " ON COMMIT DROP AS SELECT ");
        key_list(q, keys, n_keys, NULL);
        pg_add(q, ", \"_sdc_sequence\" FROM ");
        pg_ident(q, NULL, L->t[ri].stage);
        pg_add(q, " WITH NO DATA");
        st = run(L, "making the winners table", NULL, err);
        if (st != DRAY_OK)
            return st;
        L->winners_made = 1;
    }
    dray_buf_reset(q);
    if (children)
        pg_add(q, "WITH applied AS (");
    pg_add(q, "INSERT INTO ");
    pg_ident(q, L->schema, root->name);
    pg_add(q, " AS t (");
    cols(q, root, NULL);
    pg_add(q, ") SELECT DISTINCT ON (");
    key_list(q, keys, n_keys, "s");
    pg_add(q, ") ");
    cols(q, root, "s");
    pg_add(q, " FROM ");
    pg_ident(q, NULL, L->t[ri].stage);
    pg_add(q, " s ORDER BY ");
    key_list(q, keys, n_keys, "s");
    pg_add(q, ", s.\"_sdc_sequence\" DESC ON CONFLICT (");
    key_list(q, keys, n_keys, NULL);
    pg_add(q, ") DO UPDATE SET ");
    /* Every column: a field the record lacks becomes NULL (a log-based
       delete keeps only its key and _sdc_deleted_at). */
    for (size_t c = 0; c < root->n_cols; c++) {
        if ((root->cols[c].flags & DRAY_COL_KEY) &&
            root->cols[c].system == DRAY_SYS_NONE)
            continue;
        pg_add(q, any ? ", " : "");
        pg_ident(q, NULL, root->cols[c].name);
        pg_add(q, " = EXCLUDED.");
        pg_ident(q, NULL, root->cols[c].name);
        any = 1;
    }
    if (!any)
        pg_add(q, "\"_sdc_sequence\" = EXCLUDED.\"_sdc_sequence\"");
    pg_add(q, " WHERE t.\"_sdc_sequence\" IS NULL OR"
              " t.\"_sdc_sequence\" <= EXCLUDED.\"_sdc_sequence\"");
    if (children) {
        pg_add(q, " RETURNING ");
        key_list(q, keys, n_keys, "t");
        pg_add(q, ", t.\"_sdc_sequence\") INSERT INTO " WINNERS
                  " SELECT * FROM applied");
    }
    return run(L, "upserting rows", &L->t[ri].rows, err);
}

/* The subtable's _sdc_source_key_* columns, in key order. */
/* A subtable's _sdc_source_key_* columns, in key order: of a table the
   destination has, by name; of one in the table set, by role. */
static size_t catalog_source_keys(const struct pg_table *t, const char **sk)
{
    size_t n = 0;

    for (size_t c = 0; c < t->n_cols && n < 64; c++)
        if (strncmp(t->cols[c].name, "_sdc_source_key_", 16) == 0)
            sk[n++] = t->cols[c].name;
    return n;
}

static size_t table_source_keys(const struct dray_table *tb, const char **sk)
{
    size_t n = 0;

    for (size_t c = 0; c < tb->n_cols; c++)
        if (tb->cols[c].system == DRAY_SYS_SOURCE_KEY && tb->cols[c].level < 64)
            sk[tb->cols[c].level] = tb->cols[c].name, n++;
    return n;
}

/* Deletes the rows of a subtable that belong to a winning key: the new
   record's array replaces them, even when it is now empty. */
static dray_status clear_children(struct pg_load *L, const char *table,
                                  const char **sk, size_t n_sk,
                                  const char **keys, size_t n_keys,
                                  dray_error *err)
{
    struct dray_buf *q = &L->sql;

    if (n_sk != n_keys)
        return DRAY_OK; /* not keyed like the root: leave it */
    dray_buf_reset(q);
    pg_add(q, "DELETE FROM ");
    pg_ident(q, L->schema, table);
    pg_add(q, " c USING " WINNERS " w WHERE ");
    for (size_t k = 0; k < n_keys; k++) {
        pg_add(q, k ? " AND c." : "c.");
        pg_ident(q, NULL, sk[k]);
        pg_add(q, " = w.");
        pg_ident(q, NULL, keys[k]);
    }
    return run(L, "replacing subtable rows", NULL, err);
}

/* The stream has subtables, in the destination or in the batch. */
static int has_children(const struct pg_load *L, const char *root)
{
    for (size_t i = 0; i < L->cat.n_tables; i++)
        if (strcmp(L->cat.tables[i].name, root) != 0)
            return 1;
    return L->n_t > 1;
}

/* A subtable's rows of the records that went in. */
static dray_status insert_children(struct pg_load *L, size_t i,
                                   const char **keys, size_t n_keys,
                                   dray_error *err)
{
    const struct dray_table *tb = dray_tableset_table(L->ts, i);
    const char *sk[64];
    size_t n_sk = table_source_keys(tb, sk);

    if (n_sk != n_keys)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "subtable %s has %zu source key columns for "
                              "%zu key properties",
                              tb->name, n_sk, n_keys);
    insert_from_stage(L, i);
    pg_add(&L->sql, " JOIN " WINNERS " w ON s.\"_sdc_sequence\" ="
                    " w.\"_sdc_sequence\"");
    for (size_t k = 0; k < n_keys; k++) {
        pg_add(&L->sql, " AND s.");
        pg_ident(&L->sql, NULL, sk[k]);
        pg_add(&L->sql, " = w.");
        pg_ident(&L->sql, NULL, keys[k]);
    }
    return run(L, "inserting subtable rows", &L->t[i].rows, err);
}

static dray_status upsert(struct pg_load *L, size_t ri, dray_error *err)
{
    const struct dray_table *root = dray_tableset_table(L->ts, ri);
    const char *keys[64], *sk[64];
    size_t n_keys = 0;
    dray_status st;

    for (size_t c = 0; c < root->n_cols && n_keys < 64; c++)
        if ((root->cols[c].flags & DRAY_COL_KEY) &&
            root->cols[c].system == DRAY_SYS_NONE)
            keys[n_keys++] = root->cols[c].name;
    st = upsert_root(L, ri, keys, n_keys, has_children(L, root->name), err);
    /* Subtables the destination has, whether this segment has rows for
       them or not: those it had before the batch, and those the batch
       made. */
    for (size_t i = 0; st == DRAY_OK && i < L->cat.n_tables; i++) {
        const struct pg_table *t = &L->cat.tables[i];
        if (strcmp(t->name, root->name) != 0)
            st = clear_children(L, t->name, sk, catalog_source_keys(t, sk),
                                keys, n_keys, err);
    }
    for (size_t i = 0; st == DRAY_OK && i < L->n_t; i++) {
        const struct dray_table *tb = dray_tableset_table(L->ts, i);
        if (i != ri && pg_catalog_find(&L->cat, tb->name) == NULL)
            st = clear_children(L, tb->name, sk, table_source_keys(tb, sk),
                                keys, n_keys, err);
    }
    for (size_t i = 0; st == DRAY_OK && i < L->n_t; i++)
        if (i != ri)
            st = insert_children(L, i, keys, n_keys, err);
    return st;
}

/* The segment's stages (and winners) are emptied for the next one. */
static dray_status empty_stages(struct pg_load *L, dray_error *err)
{
    dray_buf_reset(&L->sql);
    for (size_t i = 0; i < L->n_t; i++) {
        if (!L->t[i].has_stage)
            continue;
        pg_add(&L->sql, L->sql.len ? ", " : "TRUNCATE ");
        pg_ident(&L->sql, NULL, L->t[i].stage);
    }
    if (L->sql.len == 0)
        return DRAY_OK;
    if (L->winners_made)
        pg_add(&L->sql, ", " WINNERS);
    return run(L, "emptying the stage tables", NULL, err);
}

dray_status pg_merge(struct pg_load *L, dray_error *err)
{
    size_t ri = 0;
    dray_status st = DRAY_OK;

    if (root_table(L, &ri) == NULL)
        return DRAY_OK;
    if (L->upsert)
        st = upsert(L, ri, err);
    for (size_t i = 0; !L->upsert && st == DRAY_OK && i < L->n_t; i++) {
        if (!L->t[i].staged)
            continue;
        insert_from_stage(L, i);
        st = run(L, "inserting rows", &L->t[i].rows, err);
    }
    if (st == DRAY_OK)
        st = empty_stages(L, err);
    return st;
}

/* Deletes every row of another version from one table. */
static dray_status drop_versions(struct pg_load *L, const char *table,
                                 dray_error *err)
{
    dray_buf_reset(&L->sql);
    pg_add(&L->sql, "DELETE FROM ");
    pg_ident(&L->sql, L->schema, table);
    pg_addf(&L->sql, " WHERE \"_sdc_table_version\" IS DISTINCT FROM %lld",
            (long long)L->info.table_version);
    return run(L, "activating the table version", NULL, err);
}

dray_status pg_activate(struct pg_load *L, dray_error *err)
{
    dray_status st = DRAY_OK;

    /* Every table of the stream, in this commit: readers see the old
       version or the new one, never an empty table. */
    for (size_t i = 0; st == DRAY_OK && i < L->cat.n_tables; i++)
        if (pg_column_index(&L->cat.tables[i], "_sdc_table_version") >= 0)
            st = drop_versions(L, L->cat.tables[i].name, err);
    for (size_t i = 0; st == DRAY_OK && i < L->n_t; i++) {
        const struct dray_table *tb = dray_tableset_table(L->ts, i);
        if (pg_catalog_find(&L->cat, tb->name) == NULL)
            st = drop_versions(L, tb->name, err);
    }
    if (st == DRAY_OK)
        dray_log(L->pg->inst, DRAY_LOG_INFO,
                 "stream '%s': table version %lld is now the only one",
                 L->info.stream, (long long)L->info.table_version);
    return st;
}

dray_status pg_ledger_write(struct pg_load *L, dray_error *err)
{
    char rows[24];
    const char *params[4] = {L->schema, L->info.batch_id, "", "0"};
    dray_status st = DRAY_OK;
    int any = 0;
    static const char sql[] =
        "INSERT INTO _dray.loads (schema_name, batch_id, table_name, rows)"
        " VALUES ($1, $2, $3, $4)";

    for (size_t i = 0; st == DRAY_OK && i < L->n_t; i++) {
        if (L->t[i].rows == 0)
            continue;
        snprintf(rows, sizeof(rows), "%lld", (long long)L->t[i].rows);
        params[2] = dray_tableset_table(L->ts, i)->name;
        params[3] = rows;
        st = pg_query(L->pg, sql, 4, params, NULL, "writing the ledger", err);
        any = 1;
    }
    /* A batch that loaded no rows is still done. */
    if (st == DRAY_OK && !any)
        st = pg_query(L->pg, sql, 4, params, NULL, "writing the ledger", err);
    return st;
}

/*
 * pg_rows.c - pass 2: every record that pass 1 kept, flattened into rows
 * and encoded as binary COPY. The root table's rows stream into its COPY
 * as they come; subtable rows wait in spill buffers and are copied after.
 * Rows go straight into the tables when appending to columns of dray's own
 * types, else into temporary stages that pg_merge.c merges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_load.h"

#define STREAM_CHUNK (256 * 1024)

/* The destination's column can take the binary form dray sends. */
static int exact_types(struct pg_load *L, const struct dray_table *tb)
{
    const struct pg_table *have = pg_catalog_find(&L->cat, tb->name);
    char type[64];

    for (size_t c = 0; have && c < tb->n_cols; c++) {
        const struct dray_column *col = &tb->cols[c];
        int i = pg_column_index(have,
                                col->old_name && (col->flags & DRAY_COL_RENAME)
                                    ? col->old_name
                                    : col->name);
        if (i >= 0 &&
            strcmp(have->cols[i].type,
                   pg_column_type(L->pg, col, type, sizeof(type))) != 0)
            return 0;
    }
    return 1;
}

static void column_list(struct dray_buf *sql, const struct dray_table *tb,
                        int with_row)
{
    dray_buf_addc(sql, '(');
    for (size_t c = 0; c < tb->n_cols; c++) {
        if (c > 0)
            pg_add(sql, ", ");
        pg_ident(sql, NULL, tb->cols[c].name);
    }
    if (with_row) {
        pg_add(sql, ", ");
        pg_ident(sql, NULL, PG_ROW_COLUMN);
    }
    dray_buf_addc(sql, ')');
}

static void copy_sql(struct pg_load *L, size_t i, struct dray_buf *sql)
{
    const struct dray_table *tb = dray_tableset_table(L->ts, i);

    dray_buf_reset(sql);
    pg_add(sql, "COPY ");
    if (L->t[i].staged)
        pg_ident(sql, NULL, L->t[i].stage);
    else
        pg_ident(sql, L->schema, tb->name);
    dray_buf_addc(sql, ' ');
    column_list(sql, tb, L->t[i].staged);
    pg_add(sql, " FROM STDIN (FORMAT binary)");
}

/* Decides where each table's rows go and makes the stages. */
static dray_status prepare(struct pg_load *L, dray_error *err)
{
    char type[64];

    L->n_t = dray_tableset_count(L->ts);
    L->t = calloc(L->n_t ? L->n_t : 1, sizeof(*L->t));
    if (L->t == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    dray_buf_reset(&L->sql);
    for (size_t i = 0; i < L->n_t; i++) {
        const struct dray_table *tb = dray_tableset_table(L->ts, i);
        struct pg_tbl *t = &L->t[i];
        t->staged = L->upsert || !exact_types(L, tb);
        t->streamed = tb->parent < 0;
        t->pgtypes = calloc(tb->n_cols + 1, sizeof(*t->pgtypes));
        if (t->pgtypes == NULL)
            return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        for (size_t c = 0; c < tb->n_cols; c++)
            t->pgtypes[c] = pg_column_pgtype(tb->cols[c].stype);
        t->pgtypes[tb->n_cols] = DRAY_PGTYPE_INT8;
        if (!t->staged)
            continue;
        snprintf(t->stage, sizeof(t->stage), "_dray_stage_%zu", i);
        pg_add(&L->sql, "CREATE TEMP TABLE ");
        pg_ident(&L->sql, NULL, t->stage);
        pg_add(&L->sql, " (");
        for (size_t c = 0; c < tb->n_cols; c++) {
            pg_ident(&L->sql, NULL, tb->cols[c].name);
            dray_buf_addc(&L->sql, ' ');
            pg_add(&L->sql,
                   pg_column_type(L->pg, &tb->cols[c], type, sizeof(type)));
            pg_add(&L->sql, ", ");
        }
        pg_ident(&L->sql, NULL, PG_ROW_COLUMN);
        pg_add(&L->sql, " bigint) ON COMMIT DROP;\n");
    }
    if (L->sql.len == 0)
        return DRAY_OK;
    return pg_exec(L->pg, L->sql.data, "making the stage tables", err);
}

static int emit_row(void *ctx, int32_t table, const struct dray_field *fields,
                    size_t n)
{
    struct pg_load *L = ctx;
    struct pg_tbl *t = &L->t[table];
    struct dray_sink sink;
    char digits[24];
    int rc;

    if (n + 1 > L->cap_fields) {
        struct dray_field *f = realloc(L->fields, (n + 1) * sizeof(*f));
        if (f == NULL)
            return -2;
        L->fields = f;
        L->cap_fields = n + 1;
    }
    memcpy(L->fields, fields, n * sizeof(*fields));
    if (t->staged) {
        int len =
            snprintf(digits, sizeof(digits), "%lld", (long long)L->cur_row);
        L->fields[n] =
            (struct dray_field){DRAY_F_INT, digits, (size_t)len, L->cur_row};
        n++;
    }
    dray_sink_to_buf(&sink, &t->out.mem);
    rc = dray_copy_binary_write_row(&sink, L->fields, t->pgtypes, n,
                                    &L->scratch);
    if (rc == -1) {
        L->row_failed = 1;
        return 1;
    }
    if (rc != 0)
        return rc;
    t->out.rows_pending++;
    return 0;
}

/* After a record: keep its rows, or drop them all. */
static dray_status settle(struct pg_load *L, int ok, dray_error *err)
{
    size_t limit = (size_t)L->pg->spill_memory / (L->n_t > 1 ? L->n_t - 1 : 1);

    for (size_t i = 0; i < L->n_t; i++) {
        struct pg_tbl *t = &L->t[i];
        if (!ok) {
            pg_spill_rollback(&t->out);
            continue;
        }
        if (t->streamed) {
            pg_spill_commit(&t->out, (size_t)-1);
            if (t->out.mem.len >= STREAM_CHUNK) {
                dray_status st =
                    pg_copy_put(L->pg, t->out.mem.data, t->out.mem.len, err);
                t->out.mem.len = t->out.committed = 0;
                if (st != DRAY_OK)
                    return st;
            }
        } else if (pg_spill_commit(&t->out, limit) != 0) {
            return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                                  "cannot write a temporary file for table "
                                  "%s's rows (is TMPDIR full?)",
                                  dray_tableset_table(L->ts, i)->name);
        }
    }
    return DRAY_OK;
}

static dray_status pass2(struct pg_load *L, dray_error *err)
{
    const struct dray_host_api *h = dray_host();
    const dray_record *rec;
    dray_status st = h->batch_rewind(L->b, err);
    int64_t n = 0;

    while (st == DRAY_OK) {
        struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
        const char *json;
        uint64_t len;
        int rc;

        st = h->batch_next(L->b, &rec, err);
        if (st != DRAY_OK || rec == NULL)
            break;
        if ((++n & 4095) == 0 && h->should_stop(L->pg->inst))
            return dray_error_set(err, DRAY_E_CANCELLED, NULL, "stopped");
        h->record_meta(rec, &meta);
        if (meta.row >= 0 && meta.row <= L->info.row_count &&
            (L->rejected[meta.row / 8] & (1u << (meta.row % 8))))
            continue;
        h->record_json(rec, &json, &len);
        if (dray_json_parse(&L->doc, json, (size_t)len, NULL) != 0)
            continue; /* pass 1 rejected it */
        for (size_t i = 0; i < L->n_t; i++)
            pg_spill_mark(&L->t[i].out);
        L->row_failed = 0;
        L->cur_row = meta.row;
        dray_buf_reset(&L->reason);
        rc = dray_flatten_rows(L->ts, &L->doc, &meta, -1, emit_row, L,
                               &L->reason);
        if (rc == -2)
            return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        st = settle(L, rc == 0 && !L->row_failed, err);
        if (st == DRAY_OK && (rc != 0 || L->row_failed))
            st = pg_reject(L, rec, NULL,
                           L->row_failed    ? "a value does not fit its "
                                              "PostgreSQL column"
                           : L->reason.data ? L->reason.data
                                            : "cannot be flattened",
                           err);
    }
    return st;
}

dray_status pg_rows_load(struct pg_load *L, dray_error *err)
{
    struct dray_buf sql = DRAY_BUF_INIT;
    size_t root = (size_t)-1;
    dray_status st = prepare(L, err);

    for (size_t i = 0; i < L->n_t; i++)
        if (L->t[i].streamed)
            root = i;
    if (st == DRAY_OK && root != (size_t)-1) {
        copy_sql(L, root, &sql);
        st = pg_copy_begin(L->pg, sql.data, err);
        if (st == DRAY_OK)
            L->copying = 1;
    }
    if (st == DRAY_OK && L->n_t > 0)
        st = pass2(L, err);
    if (st == DRAY_OK && root != (size_t)-1) {
        struct pg_tbl *t = &L->t[root];
        st = pg_copy_put(L->pg, t->out.mem.data, t->out.committed, err);
        if (st == DRAY_OK) {
            L->copying = 0;
            st = pg_copy_end(L->pg, NULL, err);
        }
    }
    for (size_t i = 0; st == DRAY_OK && i < L->n_t; i++) {
        if (i == root || L->t[i].out.rows == 0)
            continue;
        copy_sql(L, i, &sql);
        st = pg_copy_spill(L->pg, sql.data, &L->t[i].out, err);
    }
    for (size_t i = 0; st == DRAY_OK && i < L->n_t; i++)
        if (!L->t[i].staged)
            L->t[i].rows = L->t[i].out.rows;
    dray_buf_release(&sql);
    return st;
}

void pg_rows_release(struct pg_load *L)
{
    for (size_t i = 0; i < L->n_t; i++) {
        pg_spill_release(&L->t[i].out);
        free(L->t[i].pgtypes);
    }
    free(L->t);
    free(L->fields);
    L->t = NULL;
    L->n_t = 0;
}

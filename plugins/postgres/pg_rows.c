/*
 * pg_rows.c - the one pass over a batch: each record parsed once (the
 * SDK's tape), observed, flattened into rows and encoded as binary COPY.
 *
 * The root table's rows stream into its COPY as they come, while the
 * server works; subtable rows wait in spill buffers and are copied after
 * it (one COPY at a time per connection). Rows go straight into the
 * tables when appending to columns of dray's own types, else into
 * temporary stages that pg_merge.c merges.
 *
 * A record that needs a new table or column (or a split) ends the
 * segment: its COPYs finish and its stages merge, the DDL runs, and a new
 * segment starts with the new columns. Merging segment by segment gives
 * what one merge would: the _sdc_sequence guard orders them. In a steady
 * stream the whole batch is one segment.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_load.h"

#define STREAM_CHUNK (256 * 1024)

/* Tables plus columns: grows with every DDL change observe makes. */
static size_t shape_of(const struct dray_tableset *ts)
{
    size_t n = 0;

    for (size_t i = 0; i < dray_tableset_count(ts); i++)
        n += 1 + dray_tableset_table(ts, i)->n_cols;
    return n;
}

/* The destination's columns take the binary form dray sends. */
static int exact_types(struct pg_load *L, const struct dray_table *tb)
{
    const struct pg_table *have = pg_catalog_find(&L->cat, tb->name);
    char type[64];

    for (size_t c = 0; have && c < tb->n_cols; c++) {
        int i = pg_column_index(have, tb->cols[c].name);
        if (i >= 0 &&
            strcmp(have->cols[i].type, pg_column_type(L->pg, &tb->cols[c], type,
                                                      sizeof(type))) != 0)
            return 0;
    }
    return 1;
}

/* A column's name in the table as it is: before the DDL of a pending
   split, the renamed column still has its old name. */
static const char *name_now(const struct dray_column *c)
{
    return (c->flags & DRAY_COL_RENAME) && c->old_name ? c->old_name : c->name;
}

/* COPY of the segment's layout: its columns, as the table has them. */
static void copy_sql(struct pg_load *L, size_t i, struct dray_buf *sql)
{
    const struct dray_table *tb = dray_tableset_table(L->ts, i);

    dray_buf_reset(sql);
    pg_add(sql, "COPY ");
    if (L->t[i].staged)
        pg_ident(sql, NULL, L->t[i].stage);
    else
        pg_ident(sql, L->schema, tb->name);
    pg_add(sql, " (");
    for (size_t c = 0; c < L->t[i].ncols; c++) {
        if (c > 0)
            pg_add(sql, ", ");
        pg_ident(sql, NULL, name_now(&tb->cols[c]));
    }
    pg_add(sql, ") FROM STDIN (FORMAT binary)");
}

/* Gives the segment's stages the columns the DDL gives the tables, so
   they merge by the new names. */
static dray_status alter_stages(struct pg_load *L, dray_error *err)
{
    dray_buf_reset(&L->sql);
    for (size_t i = 0; i < L->n_t; i++) {
        const struct dray_table *tb = dray_tableset_table(L->ts, i);
        if (!L->t[i].staged)
            continue;
        for (size_t c = 0; c < tb->n_cols; c++) {
            const struct dray_column *col = &tb->cols[c];
            if (c < L->t[i].ncols && !(col->flags & DRAY_COL_RENAME))
                continue;
            pg_add(&L->sql, "ALTER TABLE ");
            pg_ident(&L->sql, NULL, L->t[i].stage);
            if (c < L->t[i].ncols) {
                pg_add(&L->sql, " RENAME COLUMN ");
                pg_ident(&L->sql, NULL, col->old_name);
                pg_add(&L->sql, " TO ");
                pg_ident(&L->sql, NULL, col->name);
            } else {
                pg_add(&L->sql, " ADD COLUMN ");
                pg_column_def(L->pg, &L->sql, col);
            }
            pg_add(&L->sql, ";\n");
        }
    }
    if (L->sql.len == 0)
        return DRAY_OK;
    return pg_exec(L->pg, L->sql.data, "changing the stage tables", err);
}

static void create_stage(struct pg_load *L, size_t i)
{
    pg_add(&L->sql, "CREATE TEMP TABLE ");
    pg_ident(&L->sql, NULL, L->t[i].stage);
    pg_add(&L->sql, " (");
    pg_column_defs(L->pg, &L->sql, dray_tableset_table(L->ts, i));
    pg_add(&L->sql, ") ON COMMIT DROP;\n");
}

/* Lays the tables out for a segment and makes their stages. */
dray_status pg_layout(struct pg_load *L, dray_error *err)
{
    size_t n = dray_tableset_count(L->ts);

    if (n > L->n_t) {
        struct pg_tbl *t = realloc(L->t, n * sizeof(*t));
        if (t == NULL)
            return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        memset(t + L->n_t, 0, (n - L->n_t) * sizeof(*t));
        for (size_t i = L->n_t; i < n; i++) {
            const struct dray_table *tb = dray_tableset_table(L->ts, i);
            t[i].staged = L->upsert || !exact_types(L, tb);
            t[i].streamed = tb->parent < 0;
            snprintf(t[i].stage, sizeof(t[i].stage), "_dray_stage_%zu", i);
        }
        L->t = t;
        L->n_t = n;
    }
    dray_buf_reset(&L->sql);
    for (size_t i = 0; i < n; i++) {
        const struct dray_table *tb = dray_tableset_table(L->ts, i);
        struct pg_tbl *t = &L->t[i];
        int32_t *p = realloc(t->pgtypes, (tb->n_cols + 1) * sizeof(*p));
        if (p == NULL)
            return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        t->pgtypes = p;
        for (size_t c = 0; c < tb->n_cols; c++)
            p[c] = pg_column_pgtype(tb->cols[c].stype);
        t->ncols = tb->n_cols;
        /* Made once per batch, then emptied after each merge: creating
           and dropping per segment would pile up locks. */
        if (t->staged && !t->has_stage) {
            create_stage(L, i);
            t->has_stage = 1;
        }
    }
    if (L->sql.len == 0)
        return DRAY_OK;
    return pg_exec(L->pg, L->sql.data, "making the stage tables", err);
}

static size_t root_index(const struct pg_load *L)
{
    for (size_t i = 0; i < L->n_t; i++)
        if (L->t[i].streamed)
            return i;
    return (size_t)-1;
}

dray_status pg_segment_begin(struct pg_load *L, dray_error *err)
{
    size_t root;
    dray_status st = pg_layout(L, err);

    if (st != DRAY_OK || (root = root_index(L)) == (size_t)-1)
        return st;
    copy_sql(L, root, &L->sql);
    st = pg_copy_begin(L->pg, L->sql.data, err);
    if (st == DRAY_OK)
        L->copying = 1;
    return st;
}

/* Finishes the segment's COPYs. */
dray_status pg_segment_flush(struct pg_load *L, dray_error *err)
{
    size_t root = root_index(L);
    dray_status st = DRAY_OK;

    if (L->copying) {
        struct pg_tbl *t = &L->t[root];
        st = pg_copy_put(L->pg, t->out.mem.data, t->out.committed, err);
        if (st != DRAY_OK)
            return st;
        L->copying = 0;
        st = pg_copy_end(L->pg, NULL, err);
    }
    for (size_t i = 0; st == DRAY_OK && i < L->n_t; i++) {
        if (i == root || L->t[i].out.rows == 0)
            continue;
        copy_sql(L, i, &L->sql);
        st = pg_copy_spill(L->pg, L->sql.data, &L->t[i].out, err);
    }
    if (st == DRAY_OK && !L->careful)
        st = pg_flush_late_rejects(L, err);
    return st;
}

/* Merges the segment's stages; its spill buffers start over. */
dray_status pg_segment_merge(struct pg_load *L, dray_error *err)
{
    dray_status st = pg_merge(L, err);

    for (size_t i = 0; i < L->n_t; i++) {
        if (!L->t[i].staged)
            L->t[i].rows += L->t[i].out.rows;
        pg_spill_reset(&L->t[i].out);
    }
    return st;
}

/* The table set grew: the segment's rows go in with the old columns, the
   tables (and stages) change, the stages merge, a new segment starts. */
static dray_status restructure(struct pg_load *L, int open, dray_error *err)
{
    dray_status st = DRAY_OK;

    if (open)
        st = pg_segment_flush(L, err);
    if (st == DRAY_OK && open)
        st = alter_stages(L, err);
    if (st == DRAY_OK && !L->mode_chosen)
        st = pg_choose_mode(L, err);
    if (st == DRAY_OK)
        st = pg_ddl_apply(L->pg, L->schema, L->ts, L->upsert, err);
    if (st != DRAY_OK)
        return st;
    dray_tableset_commit(L->ts);
    if (open)
        st = pg_segment_merge(L, err);
    if (st == DRAY_OK)
        st = pg_segment_begin(L, err);
    return st;
}

static int emit_row(void *ctx, int32_t table, const struct dray_field *fields,
                    size_t n)
{
    struct pg_load *L = ctx;
    struct pg_tbl *t = &L->t[table];
    struct dray_sink sink;
    int rc;

    dray_sink_to_buf(&sink, &t->out.mem);
    rc = dray_copy_binary_write_row(&sink, fields, t->pgtypes, n, &L->scratch);
    if (rc == -1) {
        L->row_failed = 1;
        return 1;
    }
    if (rc != 0)
        return rc;
    t->out.rows_pending++;
    return 0;
}

/* After a record's rows: keep them all, or none. */
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

/* A string (or member name) holding U+0000, which text and jsonb cannot
   store; name gets the member's name when there is one. */
static int find_nul(const struct dray_json_doc *doc, struct dray_buf *name)
{
    for (uint32_t i = 0; i < doc->n_tok; i++) {
        uint32_t k = i;
        if (!(doc->tok[i].flags & DRAY_JSON_F_NUL))
            continue;
        if (!(doc->tok[i].flags & DRAY_JSON_F_KEY) && i > 0 &&
            (doc->tok[i - 1].flags & DRAY_JSON_F_KEY))
            k = i - 1;
        dray_buf_reset(name);
        if (doc->tok[k].flags & DRAY_JSON_F_KEY)
            dray_json_string(doc, k, name);
        for (size_t j = 0; j < name->len; j++)
            if (name->data[j] == '\0')
                name->data[j] = '?';
        dray_buf_add(name, "", 0);
        return 1;
    }
    return 0;
}

/* Parses and observes a record. Returns 1 when it is to be rejected
   (the reason in L->reason), 0 to load it, -2 when out of memory. */
int pg_take(struct pg_load *L, const char *json, size_t len,
            const struct dray_record_meta *meta)
{
    struct dray_json_error je;
    char why[300];
    int rc = dray_json_parse(&L->doc, json, len, &je);

    dray_buf_reset(&L->reason);
    if (rc == -2)
        return -2;
    if (rc != 0) {
        snprintf(why, sizeof(why), "the record is not valid JSON: %s",
                 je.message);
        dray_buf_add(&L->reason, why, strlen(why));
        return 1;
    }
    if (find_nul(&L->doc, &L->scratch)) {
        snprintf(why, sizeof(why),
                 "string contains a NUL byte, which PostgreSQL cannot store "
                 "on [%.200s]",
                 L->scratch.data ? L->scratch.data : "");
        dray_buf_add(&L->reason, why, strlen(why));
        return 1;
    }
    return dray_flatten_observe(L->ts, &L->doc, meta, &L->reason);
}

static dray_status one(struct pg_load *L, const dray_record *rec, int *open,
                       dray_error *err)
{
    const struct dray_host_api *h = dray_host();
    struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
    const char *json;
    uint64_t len;
    dray_status st;
    int rc;

    h->record_meta(rec, &meta);
    if (meta.flags & DRAY_REC_REJECTED)
        return pg_reject(L, rec, NULL,
                         meta.reject_reason ? meta.reject_reason
                                            : "rejected at the gate",
                         err);
    h->record_json(rec, &json, &len);
    rc = pg_take(L, json, (size_t)len, &meta);
    if (rc == -2)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    if (rc != 0)
        return pg_reject(L, rec, NULL, L->reason.data ? L->reason.data : "?",
                         err);
    if (!*open || shape_of(L->ts) != L->shape) {
        st = restructure(L, *open, err);
        if (st != DRAY_OK)
            return st;
        *open = 1;
        L->shape = shape_of(L->ts);
    }
    return pg_emit(L, rec, &meta, err);
}

dray_status pg_emit(struct pg_load *L, const dray_record *rec,
                    const struct dray_record_meta *meta, dray_error *err)
{
    dray_status st;
    int rc;

    for (size_t i = 0; i < L->n_t; i++)
        pg_spill_mark(&L->t[i].out);
    L->row_failed = 0;
    dray_buf_reset(&L->reason);
    rc = dray_flatten_rows(L->ts, &L->doc, meta, -1, emit_row, L, &L->reason);
    if (rc == -2)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    st = settle(L, rc == 0 && !L->row_failed, err);
    if (st == DRAY_OK && (rc != 0 || L->row_failed))
        st = pg_reject(L, rec, NULL,
                       L->row_failed   ? "a value does not fit its PostgreSQL "
                                         "column"
                       : L->reason.len ? L->reason.data
                                       : "cannot be flattened",
                       err);
    return st;
}

dray_status pg_rows_load(struct pg_load *L, dray_error *err)
{
    const struct dray_host_api *h = dray_host();
    const dray_record *rec;
    dray_status st = DRAY_OK;
    int64_t n = 0;
    int open = 0;

    while (st == DRAY_OK) {
        st = h->batch_next(L->b, &rec, err);
        if (st != DRAY_OK || rec == NULL)
            break;
        if ((++n & 4095) == 0 && h->should_stop(L->pg->inst))
            return dray_error_set(err, DRAY_E_CANCELLED, NULL, "stopped");
        st = one(L, rec, &open, err);
    }
    if (st == DRAY_OK && open)
        st = pg_segment_flush(L, err);
    if (st == DRAY_OK && open)
        st = pg_segment_merge(L, err);
    if (st == DRAY_OK)
        st = pg_flush_late_rejects(L, err);
    return st;
}

void pg_rows_release(struct pg_load *L)
{
    for (size_t i = 0; i < L->n_t; i++) {
        pg_spill_release(&L->t[i].out);
        free(L->t[i].pgtypes);
    }
    free(L->t);
    L->t = NULL;
    L->n_t = 0;
}

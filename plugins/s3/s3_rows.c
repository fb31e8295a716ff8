/*
 * s3_rows.c - the passes over a batch that write its rows.
 *
 * CSV: each record is parsed once (the SDK's tape), observed and flattened;
 * rows stream into their table's object as they come. A CSV header is
 * written before the first row, so a column that first appears later in
 * the batch makes that table's object stale: it is dropped and written
 * again in a second pass over the batch, for the stale tables only, with
 * the final columns. A stream whose columns are all there in its first
 * rows (the usual case) takes one pass.
 *
 * JSON lines: each record intact, with Stitch's _sdc_* fields added at the
 * end of the object; the record is parsed only to apply the same reject
 * rules (reserved names) as CSV.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_load.h"

#define STOP_POLL 4096

static int grow_tables(struct s3_load *L)
{
    size_t n = dray_tableset_count(L->ts);
    struct s3_obj **t;

    if (n <= L->nt)
        return 0;
    t = realloc(L->t, n * sizeof(*t));
    if (t == NULL)
        return -2;
    L->t = t;
    for (; L->nt < n; L->nt++)
        if ((t[L->nt] = calloc(1, sizeof(**t))) == NULL)
            return -2;
    return 0;
}

static dray_status open_table(struct s3_load *L, int32_t i, size_t n)
{
    const struct dray_table *tb = dray_tableset_table(L->ts, (size_t)i);
    const char **names = malloc((n ? n : 1) * sizeof(*names));
    int stale = L->t[i]->stale;
    dray_status st;

    if (names == NULL)
        return dray_error_set(L->err, DRAY_E_NOMEM, NULL, "out of memory");
    for (size_t c = 0; c < n; c++)
        names[c] = tb->cols[c].name;
    st = s3_obj_open(L, L->t[i], tb->name, names, n);
    L->t[i]->stale = stale;
    free(names);
    return st;
}

static int on_row(void *ctx, int32_t table, const struct dray_field *fields,
                  size_t n)
{
    struct s3_load *L = ctx;
    struct s3_obj *o = L->t[table];

    if (L->redo != o->stale)
        return 0; /* pass 1: stale already; pass 2: not stale */
    if (o->obj == NULL) {
        L->failed = open_table(L, table, n);
        if (L->failed != DRAY_OK)
            return 1;
    } else if (n != o->ncols) {
        o->stale = 1; /* pass 1 only: pass 2 opens with the final columns */
        return 0;
    }
    if (dray_csv_write_row(&o->sink, &L->csv, fields, n) != 0) {
        L->failed = s3_obj_error(L, o);
        return 1;
    }
    o->rows++;
    return 0;
}

/* Parses a record into L->doc. 0, 1 with the reason in L->reason, -2. */
static int parse(struct s3_load *L, const dray_record *rec)
{
    struct dray_json_error je;
    const char *json;
    uint64_t len;
    char why[200];
    int rc;

    dray_host()->record_json(rec, &json, &len);
    rc = dray_json_parse(&L->doc, json, (size_t)len, &je);
    if (rc == 1 || rc == -1) {
        snprintf(why, sizeof(why), "the record is not valid JSON: %s",
                 je.message);
        dray_buf_reset(&L->reason);
        dray_buf_add(&L->reason, why, strlen(why));
        return 1;
    }
    return rc;
}

static int skipped(const struct s3_load *L, const struct dray_record_meta *m)
{
    return m->row >= 0 && m->row < L->info.row_count &&
           (L->skip[m->row / 8] & (1u << (m->row % 8)));
}

/* One record of pass 1 (observe, then rows) or pass 2 (rows only). */
static dray_status csv_record(struct s3_load *L, const dray_record *rec)
{
    struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
    int rc;

    dray_host()->record_meta(rec, &meta);
    if (L->redo && skipped(L, &meta))
        return DRAY_OK;
    if (!L->redo && (meta.flags & DRAY_REC_REJECTED))
        return s3_reject(L, rec, NULL,
                         meta.reject_reason ? meta.reject_reason
                                            : "rejected at the gate");
    rc = parse(L, rec);
    dray_buf_reset(&L->reason);
    if (rc == 0 && !L->redo)
        rc = dray_flatten_observe(L->ts, &L->doc, &meta, &L->reason);
    if (rc == 0 && grow_tables(L) != 0)
        rc = -2;
    if (rc == -2)
        return dray_error_set(L->err, DRAY_E_NOMEM, NULL, "out of memory");
    if (rc == 1)
        return s3_reject(L, rec, NULL, L->reason.data ? L->reason.data : "?");
    L->failed = DRAY_OK;
    rc = dray_flatten_rows(L->ts, &L->doc, &meta, -1, on_row, L, &L->reason);
    if (rc == -2)
        return dray_error_set(L->err, DRAY_E_NOMEM, NULL, "out of memory");
    if (rc != 0 && L->failed != DRAY_OK)
        return L->failed;
    if (rc != 0)
        return dray_error_set(L->err, DRAY_E_PERMANENT, NULL,
                              "record %" PRId64 " could not be flattened: %s",
                              meta.row, L->reason.data ? L->reason.data : "?");
    return DRAY_OK;
}

static dray_status each_record(struct s3_load *L,
                               dray_status (*fn)(struct s3_load *L,
                                                 const dray_record *rec))
{
    const struct dray_host_api *h = dray_host();
    const dray_record *rec;
    dray_status st;
    int64_t n = 0;

    for (;;) {
        if (++n % STOP_POLL == 0 && h->should_stop(L->p->inst))
            return dray_error_set(L->err, DRAY_E_CANCELLED, NULL,
                                  "stopped while writing the batch");
        st = h->batch_next(L->b, &rec, L->err);
        if (st != DRAY_OK)
            return st;
        if (rec == NULL)
            return DRAY_OK;
        st = fn(L, rec);
        if (st != DRAY_OK)
            return st;
    }
}

dray_status s3_rows_csv(struct s3_load *L)
{
    dray_status st = each_record(L, csv_record);
    int any = 0;

    if (st != DRAY_OK)
        return st;
    for (size_t i = 0; i < L->nt; i++) {
        struct s3_obj *o = L->t[i];
        if (o->obj != NULL && o->ncols != dray_tableset_table(L->ts, i)->n_cols)
            o->stale = 1;
        if (o->stale) {
            s3_obj_discard(L, o);
            o->stale = 1;
            any = 1;
        }
    }
    if (!any)
        return DRAY_OK;
    dray_log(L->p->inst, DRAY_LOG_DEBUG,
             "batch %s: columns appeared after the first rows; writing the "
             "tables concerned again",
             L->info.batch_id);
    L->redo = 1;
    st = dray_host()->batch_rewind(L->b, L->err);
    return st != DRAY_OK ? st : each_record(L, csv_record);
}

/* ---- JSON lines ---- */

static int put(struct dray_sink *s, const char *text, size_t n)
{
    return s->write(s->ctx, text, n);
}

static int put_time(struct dray_sink *s, const char *name, const char *t)
{
    int rc = put(s, name, strlen(name));

    if (rc == 0 && t == NULL)
        return put(s, "null", 4);
    rc = rc ? rc : put(s, "\"", 1);
    rc = rc ? rc : put(s, t, strlen(t));
    return rc ? rc : put(s, "\"", 1);
}

static dray_status jsonl_record(struct s3_load *L, const dray_record *rec)
{
    struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
    struct s3_obj *o = L->t[0];
    struct dray_sink *s;
    const char *json;
    uint64_t len;
    char tail[96];
    int rc;

    dray_host()->record_meta(rec, &meta);
    if (meta.flags & DRAY_REC_REJECTED)
        return s3_reject(L, rec, NULL,
                         meta.reject_reason ? meta.reject_reason
                                            : "rejected at the gate");
    rc = parse(L, rec);
    dray_buf_reset(&L->reason);
    if (rc == 0)
        rc = dray_flatten_observe(L->ts, &L->doc, &meta, &L->reason);
    if (rc == -2)
        return dray_error_set(L->err, DRAY_E_NOMEM, NULL, "out of memory");
    if (rc == 1)
        return s3_reject(L, rec, NULL, L->reason.data ? L->reason.data : "?");
    if (o->obj == NULL) {
        dray_status st = s3_obj_open(L, o, L->root, NULL, 0);
        if (st != DRAY_OK)
            return st;
    }
    s = &o->sink;
    dray_host()->record_json(rec, &json, &len);
    /* The object without its closing brace, then the system fields. */
    rc = put(s, json, (size_t)len - 1);
    if (rc == 0 && len > 2)
        rc = put(s, ",", 1);
    rc = rc ? rc : put_time(s, "\"_sdc_extracted_at\":", meta.extracted_at);
    rc = rc ? rc : put_time(s, ",\"_sdc_received_at\":", meta.received_at);
    rc = rc ? rc : put_time(s, ",\"_sdc_batched_at\":", meta.batched_at);
    snprintf(tail, sizeof(tail),
             ",\"_sdc_table_version\":%" PRId64 ",\"_sdc_sequence\":%" PRId64
             "}\n",
             meta.table_version, meta.sequence);
    rc = rc ? rc : put(s, tail, strlen(tail));
    if (rc != 0)
        return s3_obj_error(L, o);
    o->rows++;
    return DRAY_OK;
}

dray_status s3_rows_jsonl(struct s3_load *L)
{
    /* One object: the stream's, whatever tables observing makes. */
    L->t = calloc(1, sizeof(*L->t));
    if (L->t == NULL || (L->t[0] = calloc(1, sizeof(**L->t))) == NULL)
        return dray_error_set(L->err, DRAY_E_NOMEM, NULL, "out of memory");
    L->nt = 1;
    return each_record(L, jsonl_record);
}

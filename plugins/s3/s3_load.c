/*
 * s3_load.c - one batch: one object per table (keys from the template,
 * so a retried batch writes the same keys and replaces its own objects),
 * plus the rejected records in _sdc_rejected/<timestamp>_<batch id>.jsonl.
 *
 * Objects are committed after the whole batch was encoded; if one commit
 * fails, the objects this attempt already committed are removed again (best
 * effort), so a batch that never succeeds leaves no half of itself behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dray/dray_datetime.h>
#include <dray/dray_ident.h>

#include "s3_load.h"

#define ENCODE_CHUNK (256 * 1024)

static const char *ext_of(const struct s3_plugin *p, int jsonl)
{
    if (jsonl)
        return p->gzip ? "jsonl.gz" : "jsonl";
    return p->gzip ? "csv.gz" : "csv";
}

/* The store key: [namespace/]rendered template. */
static int make_key(struct s3_load *L, const char *table, int jsonl,
                    struct dray_buf *out)
{
    struct s3_key_vars v;

    v.integration = L->info.integration ? L->info.integration : "";
    v.table = table;
    v.version = (L->info.flags & DRAY_BATCH_HAS_TABLE_VERSION)
                    ? L->info.table_version
                    : 0;
    v.loaded_ms = L->info.created_at_ms;
    v.ext = ext_of(L->p, jsonl);
    dray_buf_reset(out);
    if (L->info.ns != NULL &&
        (dray_buf_add(out, L->info.ns, strlen(L->info.ns)) != 0 ||
         dray_buf_addc(out, '/') != 0))
        return -2;
    return s3_template_render(&L->p->tmpl, &v, out);
}

/* The store's sink, noting when it refuses bytes: then the store, not the
   encoder, knows why (s3_obj_error). */
static int store_write(void *ctx, const void *data, size_t len)
{
    struct s3_obj *o = ctx;
    int rc = o->store.write(o->store.ctx, data, len);

    if (rc != 0)
        o->store_failed = 1;
    return rc;
}

static int store_close(void *ctx)
{
    struct s3_obj *o = ctx;
    int rc = o->store.close ? o->store.close(o->store.ctx) : 0;

    if (rc != 0)
        o->store_failed = 1;
    return rc;
}

/* o's store sink (o->store, just opened) behind the check above. */
static struct dray_sink watched(struct s3_obj *o)
{
    struct dray_sink s;

    s.write = store_write;
    s.close = store_close;
    s.ctx = o;
    return s;
}

dray_status s3_obj_error(struct s3_load *L, struct s3_obj *o)
{
    struct s3_store *store = L->p->store;

    if (o->store_failed && o->obj != NULL) {
        dray_status st = store->ops->commit(store, o->obj, L->err);
        if (st != DRAY_OK)
            return st;
    }
    return dray_error_set(L->err, DRAY_E_RETRYABLE, NULL, "writing '%s' failed",
                          o->key);
}

dray_status s3_obj_open(struct s3_load *L, struct s3_obj *o, const char *table,
                        const char *const *header, size_t n)
{
    struct s3_plugin *p = L->p;
    struct dray_buf key = DRAY_BUF_INIT;
    struct dray_sink store, next;
    const char *type = header ? "text/csv" : "application/x-ndjson";
    dray_status st;

    memset(o, 0, sizeof(*o));
    if (make_key(L, table, header == NULL, &key) != 0 ||
        (o->table = strdup(table)) == NULL) {
        dray_buf_release(&key);
        return dray_error_set(L->err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    o->key = key.data;
    if (p->gzip)
        type = "application/gzip";
    st =
        p->store->ops->open(p->store, o->key, type, &o->obj, &o->store, L->err);
    if (st != DRAY_OK)
        return st;
    store = watched(o);
    next = store;
    if (p->gzip && dray_gzip_open(&o->gz, store, 6, &next) != 0)
        return dray_error_set(L->err, DRAY_E_NOMEM, NULL, "out of memory");
    dray_bufsink_init(&o->bs, next, ENCODE_CHUNK, &o->sink);
    o->ncols = n;
    if (header != NULL &&
        dray_csv_write_header(&o->sink, &L->csv, header, n) != 0)
        return s3_obj_error(L, o);
    return DRAY_OK;
}

static void obj_release(struct s3_obj *o)
{
    dray_bufsink_release(&o->bs);
    if (o->gz != NULL)
        dray_gzip_free(o->gz);
    free(o->key);
    free(o->table);
    memset(o, 0, sizeof(*o));
}

void s3_obj_discard(struct s3_load *L, struct s3_obj *o)
{
    if (o->obj != NULL) {
        if (o->gz != NULL)
            o->sink.close(o->sink.ctx); /* frees zlib's state */
        L->p->store->ops->discard(L->p->store, o->obj);
    }
    obj_release(o);
}

/* Flushes the encoder's buffer and the gzip trailer, then makes the
   object visible. */
static dray_status obj_commit(struct s3_load *L, struct s3_obj *o)
{
    struct s3_store *store = L->p->store;
    dray_status st;

    if (o->sink.close(o->sink.ctx) != 0)
        return s3_obj_error(L, o);
    st = store->ops->commit(store, o->obj, L->err);
    if (st == DRAY_OK)
        o->committed = 1;
    return st;
}

/* ---- rejects ---- */

static int add_str(struct dray_sink *s, const char *text)
{
    return s->write(s->ctx, text, strlen(text));
}

dray_status s3_reject(struct s3_load *L, const dray_record *rec,
                      const char *table, const char *reason)
{
    const struct dray_host_api *h = dray_host();
    struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
    struct dray_timestamp now;
    char when[DRAY_DATETIME_MAX];
    struct timespec ts;
    const char *json;
    uint64_t len;
    dray_status st;
    int rc;

    if (table == NULL)
        table = L->root;
    st = h->reject_record(L->b, rec, table, reason);
    if (st != DRAY_OK)
        return dray_error_set(L->err, st, NULL, "too many rejected records");
    h->record_meta(rec, &meta);
    if (meta.row >= 0 && meta.row < L->info.row_count)
        L->skip[meta.row / 8] |= (uint8_t)(1u << (meta.row % 8));
    L->n_rejected++;
    if (L->p->max_rejects > 0 && L->n_rejected > L->p->max_rejects)
        return dray_error_set(L->err, DRAY_E_PERMANENT, NULL,
                              "more than max_rejects (%lld) records of the "
                              "batch were rejected; the last: %s",
                              (long long)L->p->max_rejects, reason);
    if (L->rej.obj == NULL) {
        struct dray_buf key = DRAY_BUF_INIT;
        const char *ns = L->info.ns;
        char name[200];
        snprintf(name, sizeof(name), "%lld_%s.jsonl",
                 (long long)L->info.created_at_ms, L->info.batch_id);
        if ((ns && (dray_buf_add(&key, ns, strlen(ns)) != 0 ||
                    dray_buf_addc(&key, '/') != 0)) ||
            dray_buf_add(&key, L->info.integration,
                         strlen(L->info.integration)) != 0 ||
            dray_buf_add(&key, "/_sdc_rejected/", 15) != 0 ||
            dray_buf_add(&key, name, strlen(name)) != 0 ||
            (L->rej.table = strdup("_sdc_rejected")) == NULL) {
            dray_buf_release(&key);
            return dray_error_set(L->err, DRAY_E_NOMEM, NULL, "out of memory");
        }
        L->rej.key = key.data;
        st = L->p->store->ops->open(L->p->store, L->rej.key,
                                    "application/x-ndjson", &L->rej.obj,
                                    &L->rej.store, L->err);
        if (st != DRAY_OK)
            return st;
        dray_bufsink_init(&L->rej.bs, watched(&L->rej), ENCODE_CHUNK,
                          &L->rej.sink);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    now.seconds = ts.tv_sec;
    now.nanos = (int32_t)ts.tv_nsec;
    dray_datetime_format(&now, when);
    h->record_json(rec, &json, &len);
    rc = add_str(&L->rej.sink, "{\"_sdc_rejected_at\":\"");
    rc = rc ? rc : add_str(&L->rej.sink, when);
    rc = rc ? rc : add_str(&L->rej.sink, "\",\"table_name\":");
    rc = rc ? rc : dray_json_write_string(&L->rej.sink, table, strlen(table));
    rc = rc ? rc : add_str(&L->rej.sink, ",\"reason\":");
    rc = rc ? rc : dray_json_write_string(&L->rej.sink, reason, strlen(reason));
    rc = rc ? rc : add_str(&L->rej.sink, ",\"record\":");
    rc = rc ? rc
            : (len > 0 ? L->rej.sink.write(L->rej.sink.ctx, json, (size_t)len)
                       : add_str(&L->rej.sink, "null"));
    rc = rc ? rc : add_str(&L->rej.sink, "}\n");
    L->rej.rows++;
    if (rc != 0)
        return s3_obj_error(L, &L->rej);
    return DRAY_OK;
}

/* ---- the batch ---- */

static dray_status setup(struct s3_load *L)
{
    const struct dray_host_api *h = dray_host();
    struct dray_flat_opts o = {0};
    const char *json;
    uint64_t len;
    char why[300];
    int rc;

    h->batch_schema_json(L->b, &json, &len);
    rc = dray_schema_parse(&L->sch, json, (size_t)len, L->info.key_properties,
                           L->info.n_key_properties, why, sizeof(why));
    if (rc != 0)
        return dray_error_set(L->err,
                              rc == -2 ? DRAY_E_NOMEM : DRAY_E_PERMANENT, NULL,
                              "the stream's schema: %s", why);
    o.types = dray_types_dialect("files");
    o.ident_dialect = DRAY_IDENT_FILES;
    o.nesting =
        L->p->format == S3_FMT_JSONL ? DRAY_NEST_DOCUMENT : DRAY_NEST_FLATTEN;
    o.double_for_number = 0; /* text keeps a number's digits either way */
    rc = dray_tableset_new(&L->ts, &o, &L->sch, L->info.stream, why,
                           sizeof(why));
    if (rc != 0)
        return dray_error_set(L->err,
                              rc == -2 ? DRAY_E_NOMEM : DRAY_E_PERMANENT, NULL,
                              "stream '%s': %s", L->info.stream, why);
    dray_buf_reset(&L->reason);
    dray_ident_canon(DRAY_IDENT_FILES, L->info.stream, strlen(L->info.stream),
                     &L->reason);
    L->root = strdup(L->reason.data ? L->reason.data : "");
    L->skip = calloc((size_t)L->info.row_count / 8 + 1, 1);
    if (L->root == NULL || L->skip == NULL)
        return dray_error_set(L->err, DRAY_E_NOMEM, NULL, "out of memory");
    L->csv.delimiter = L->p->delimiter;
    L->csv.quote_all = L->p->quote_all;
    return DRAY_OK;
}

/* Commits every table's object, then the rejects; reports the rows. On
   a failure removes what this attempt committed. */
static dray_status commit_all(struct s3_load *L)
{
    const struct dray_host_api *h = dray_host();
    dray_status st = DRAY_OK;

    for (size_t i = 0; st == DRAY_OK && i < L->nt; i++)
        if (L->t[i]->obj != NULL)
            st = obj_commit(L, L->t[i]);
    if (st == DRAY_OK && L->rej.obj != NULL)
        st = obj_commit(L, &L->rej);
    for (size_t i = 0; st != DRAY_OK && i <= L->nt; i++) {
        struct s3_obj *o = i < L->nt ? L->t[i] : &L->rej;
        dray_error *none = NULL;
        if (!o->committed)
            continue;
        if (L->p->store->ops->remove(L->p->store, o->key, none) != DRAY_OK)
            dray_log(L->p->inst, DRAY_LOG_WARN,
                     "could not remove '%s' after the batch failed; a retry "
                     "replaces it",
                     o->key);
        o->committed = 0;
    }
    for (size_t i = 0; st == DRAY_OK && i < L->nt; i++)
        if (L->t[i]->obj != NULL)
            st = h->report_rows(L->b, L->t[i]->table, L->t[i]->rows);
    return st;
}

static void finish(struct s3_load *L)
{
    for (size_t i = 0; i < L->nt; i++) {
        s3_obj_discard(L, L->t[i]);
        free(L->t[i]);
    }
    s3_obj_discard(L, &L->rej);
    free(L->t);
    dray_tableset_free(L->ts);
    dray_schema_release(&L->sch);
    dray_json_doc_release(&L->doc);
    dray_buf_release(&L->reason);
    dray_buf_release(&L->scratch);
    free(L->root);
    free(L->skip);
}

dray_status s3_load_batch(void *state, dray_batch *batch, dray_error *err)
{
    struct s3_load L;
    dray_status st;

    memset(&L, 0, sizeof(L));
    L.p = state;
    L.b = batch;
    L.err = err;
    L.info = (struct dray_batch_info)DRAY_VIEW_INIT(struct dray_batch_info);
    dray_json_doc_init(&L.doc);
    dray_host()->batch_info(batch, &L.info);
    st = setup(&L);
    if (st == DRAY_OK)
        st = L.p->format == S3_FMT_JSONL ? s3_rows_jsonl(&L) : s3_rows_csv(&L);
    if (st == DRAY_OK)
        st = commit_all(&L);
    if (st == DRAY_OK && L.n_rejected > 0) {
        const struct s3_url *u = &L.p->url;
        int s3 = u->kind == S3_URL_S3;
        dray_log(L.p->inst, DRAY_LOG_WARN,
                 "batch %s: %lld record%s rejected, written to %s%s%s%s%s%s",
                 L.info.batch_id, (long long)L.n_rejected,
                 L.n_rejected == 1 ? "" : "s", s3 ? "s3://" : "",
                 s3 ? u->bucket : "", s3 ? "/" : "", u->prefix,
                 u->prefix[0] ? "/" : "", L.rej.key);
    }
    finish(&L);
    return st;
}

/*
 * rp_batch.c - load_batch: the namespace's state under its lock, the
 * ledger (a batch loaded before reports its rows again and changes
 * nothing), one pass over the records, the merge, the activation, and the
 * state written whole before DRAY_OK.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dray/dray_ident.h>
#include <dray/dray_json.h>

#include "rp_load.h"

#define OOM(L) dray_error_set((L)->err, DRAY_E_NOMEM, NULL, "out of memory")

static dray_status reject(struct load *L, const dray_record *rec,
                          const char *reason)
{
    dray_status st = dray_host()->reject_record(L->b, rec, NULL, reason);

    if (st != DRAY_OK)
        return dray_error_set(L->err, st, NULL, "too many rejected records");
    return DRAY_OK;
}

static char *canon(const char *name)
{
    struct dray_buf b = DRAY_BUF_INIT;

    if (dray_ident_canon(DRAY_IDENT_POSTGRES, name, strlen(name), &b) < 0) {
        dray_buf_release(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

static int same_keys(const struct load *L, const struct rp_table *t)
{
    if (t->n_keys != L->info.n_key_properties)
        return 0;
    for (size_t k = 0; k < t->n_keys; k++)
        if (strcmp(t->keys[k], L->keys[k]) != 0)
            return 0;
    return 1;
}

/* Upsert or append: chosen when the root table first appears; a table
   whose keys change is appended to from then on (docs/POSTGRES.md "Key
   change", reference §4.4). */
static void choose_mode(struct load *L, struct rp_table *root)
{
    int want = L->p->mode == DRAY_MODE_UPSERT && L->info.n_key_properties > 0;

    L->upsert = want;
    if (root == NULL)
        return;
    if (root->upsert && want && !same_keys(L, root))
        dray_log(L->p->inst, DRAY_LOG_WARN,
                 "the keys of stream '%s' changed; table %s is append-only "
                 "from now on",
                 L->info.stream, root->name);
    if (root->upsert && (!want || !same_keys(L, root))) {
        root->upsert = 0;
        for (size_t k = 0; k < root->n_keys; k++)
            free(root->keys[k]);
        root->n_keys = 0;
    }
    L->upsert = root->upsert;
    L->root = root;
}

static dray_status setup(struct load *L)
{
    const struct dray_host_api *h = dray_host();
    struct dray_flat_opts o = {0};
    const char *json;
    uint64_t len;
    char why[300], *root;
    int rc;

    h->batch_schema_json(L->b, &json, &len);
    rc = dray_schema_parse(&L->sch, json, (size_t)len, L->info.key_properties,
                           L->info.n_key_properties, why, sizeof(why));
    if (rc != 0)
        return dray_error_set(L->err,
                              rc == -2 ? DRAY_E_NOMEM : DRAY_E_PERMANENT, NULL,
                              "the stream's schema: %s", why);
    o.types = &L->p->types;
    o.ident_dialect = DRAY_IDENT_POSTGRES;
    o.nesting = DRAY_NEST_FLATTEN;
    o.double_for_number = 1;
    o.max_columns = 1600;
    rc = dray_tableset_new(&L->ts, &o, &L->sch, L->info.stream, why,
                           sizeof(why));
    if (rc != 0)
        return dray_error_set(L->err,
                              rc == -2 ? DRAY_E_NOMEM : DRAY_E_PERMANENT, NULL,
                              "stream '%s': %s", L->info.stream, why);
    L->keys = calloc(L->info.n_key_properties + 1, sizeof(char *));
    if (L->keys == NULL)
        return OOM(L);
    for (uint32_t k = 0; k < L->info.n_key_properties; k++)
        if ((L->keys[k] = canon(L->info.key_properties[k])) == NULL)
            return OOM(L);
    if ((root = canon(L->info.stream)) == NULL)
        return OOM(L);
    choose_mode(L, rp_table_find(L->ns, root));
    free(root);
    /* The stream's tables as stored, so splits go on where they are. */
    for (size_t i = 0; i < L->ns->n_t; i++) {
        const struct rp_table *t = L->ns->t[i];
        if (strcmp(t->stream, L->info.stream) != 0)
            continue;
        for (size_t c = 0; c < t->n_cols; c++)
            if (dray_tableset_seed(L->ts, t->name, t->cols[c].name,
                                   t->cols[c].stype) != 0)
                return OOM(L);
    }
    return DRAY_OK;
}

static dray_status one(struct load *L, const dray_record *rec)
{
    const struct dray_host_api *h = dray_host();
    struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
    struct dray_json_error je;
    const char *json;
    uint64_t len;
    int rc;

    h->record_meta(rec, &meta);
    if (meta.flags & DRAY_REC_REJECTED)
        return reject(L, rec,
                      meta.reject_reason ? meta.reject_reason
                                         : "rejected at the gate");
    h->record_json(rec, &json, &len);
    rc = dray_json_parse(&L->doc, json, (size_t)len, &je);
    if (rc == -2)
        return OOM(L);
    if (rc != 0)
        return reject(L, rec, "the record is not valid JSON");
    dray_buf_reset(&L->reason);
    rc = dray_flatten_observe(L->ts, &L->doc, &meta, &L->reason);
    if (rc == -2)
        return OOM(L);
    if (rc == 1)
        return reject(L, rec, L->reason.data ? L->reason.data : "rejected");
    if (rp_changed(L) && rp_apply_ddl(L) != 0)
        return OOM(L);
    if (L->upsert && rp_begin_pend(L, meta.sequence) != 0)
        return OOM(L);
    rc = dray_flatten_rows(L->ts, &L->doc, &meta, -1, rp_on_row, L, &L->reason);
    if (rc == -2)
        return OOM(L);
    if (rc == 0 && L->upsert)
        rc = rp_end_pend(L);
    if (rc == -2)
        return OOM(L);
    if (rc != 0)
        return dray_error_set(L->err, DRAY_E_PERMANENT, NULL,
                              "record %lld of stream '%s' could not be "
                              "flattened: %s",
                              (long long)meta.row, L->info.stream,
                              L->reason.data ? L->reason.data : "?");
    return DRAY_OK;
}

static dray_status each_record(struct load *L)
{
    const struct dray_host_api *h = dray_host();
    const dray_record *rec;
    dray_status st = DRAY_OK;
    int64_t n = 0;

    while (st == DRAY_OK) {
        if ((++n & 4095) == 0 && h->should_stop(L->p->inst))
            return dray_error_set(L->err, DRAY_E_CANCELLED, NULL,
                                  "stopped while loading the batch");
        st = h->batch_next(L->b, &rec, L->err);
        if (st != DRAY_OK || rec == NULL)
            break;
        st = one(L, rec);
    }
    return st;
}

/* ---- ledger ---- */

/* {"ledger":"<id>","rows":{"<table>":n,...}} */
static int ledger_line(struct load *L, struct dray_buf *out)
{
    struct dray_sink sink;
    char num[32];
    int rc, any = 0;

    dray_sink_to_buf(&sink, out);
    rc = dray_buf_add(out, "{\"ledger\":", 10);
    rc = rc ? rc
            : dray_json_write_string(&sink, L->info.batch_id,
                                     strlen(L->info.batch_id));
    rc = rc ? rc : dray_buf_add(out, ",\"rows\":{", 9);
    for (size_t i = 0; rc == 0 && i < L->ns->n_t; i++) {
        const struct rp_table *t = L->ns->t[i];
        if (t->batch_rows == 0)
            continue;
        rc = any++ ? dray_buf_addc(out, ',') : 0;
        rc = rc ? rc : dray_json_write_string(&sink, t->name, strlen(t->name));
        snprintf(num, sizeof(num), ":%lld", (long long)t->batch_rows);
        rc = rc ? rc : dray_buf_add(out, num, strlen(num));
    }
    return rc ? rc : dray_buf_add(out, "}}", 2);
}

/* A batch loaded before: the rows it reported then, and nothing else. */
static dray_status ledger_report(struct load *L, const char *line)
{
    struct dray_buf name = DRAY_BUF_INIT;
    int32_t rows;
    dray_status st = DRAY_OK;

    if (dray_json_parse(&L->doc, line, strlen(line), NULL) != 0 ||
        (rows = dray_json_get(&L->doc, 0, "rows", 4)) < 0)
        return dray_error_set(L->err, DRAY_E_PERMANENT, NULL,
                              "the ledger of '%s' is damaged", L->ns->dir);
    for (uint32_t i = (uint32_t)rows + 1;
         st == DRAY_OK && i < L->doc.tok[rows].end; i += 2) {
        dray_buf_reset(&name);
        if (dray_json_string(&L->doc, i, &name) != 0)
            break;
        st = dray_host()->report_rows(
            L->b, name.data ? name.data : "",
            strtoll(L->doc.text + L->doc.tok[i + 1].offset, NULL, 10));
    }
    dray_buf_release(&name);
    return st;
}

/* ---- the batch ---- */

static dray_status report(struct load *L)
{
    dray_status st = DRAY_OK;

    for (size_t i = 0; st == DRAY_OK && i < L->ns->n_t; i++)
        if (L->ns->t[i]->batch_rows > 0)
            st = dray_host()->report_rows(L->b, L->ns->t[i]->name,
                                          L->ns->t[i]->batch_rows);
    return st;
}

static void finish(struct load *L)
{
    for (size_t i = 0; i < L->n_prows; i++)
        rp_row_free(&L->prows[i].row);
    for (size_t i = 0; i < L->n_pend; i++)
        free(L->pend[i].key);
    for (size_t i = 0; i < L->n_tt; i++)
        free(L->cmap[i]);
    for (uint32_t k = 0; L->keys && k < L->info.n_key_properties; k++)
        free(L->keys[k]);
    free(L->keys);
    free(L->prows);
    free(L->pend);
    free(L->cmap);
    free(L->tt);
    free(L->texts);
    free(L->lens);
    free(L->offs);
    dray_tableset_free(L->ts);
    dray_schema_release(&L->sch);
    dray_json_doc_release(&L->doc);
    dray_buf_release(&L->reason);
    dray_buf_release(&L->val);
    if (L->ns != NULL) {
        rp_ns_close(L->ns);
        free(L->ns);
    }
}

/* The namespace's state: read under its lock; broken_early_ok keeps the
   state it has not written yet and goes on from there. */
static dray_status open_ns(struct load *L)
{
    struct rp_plugin *p = L->p;
    const char *name = L->info.ns ? L->info.ns : "main";
    char dir[4200];

    snprintf(dir, sizeof(dir), "%s/%s", p->path, name);
    if (p->pending != NULL && strcmp(p->pending->dir, dir) == 0) {
        L->ns = p->pending;
        p->pending = NULL;
        return DRAY_OK;
    }
    if (p->pending != NULL) {
        dray_status st = rp_ns_write(p->pending, L->err);
        rp_ns_close(p->pending);
        free(p->pending);
        p->pending = NULL;
        if (st != DRAY_OK)
            return st;
    }
    L->ns = malloc(sizeof(*L->ns));
    if (L->ns == NULL)
        return OOM(L);
    return rp_ns_open(L->ns, p->path, name, 1, 1, L->err);
}

/* Makes the batch durable, then reports its rows (a worker killed in
   between leaves a batch the ledger knows); broken_early_ok only says
   so. */
static dray_status commit(struct load *L)
{
#ifdef BROKEN_EARLY_OK
    /* broken: written when the next namespace comes or the instance
       ends; a worker killed before then loses acknowledged batches */
    dray_status st = report(L);

    if (L->ns->lock_fd >= 0)
        close(L->ns->lock_fd);
    L->ns->lock_fd = -1;
    L->p->pending = L->ns;
    L->ns = NULL;
    return st;
#else
    dray_status st = rp_ns_write(L->ns, L->err);

    return st == DRAY_OK ? report(L) : st;
#endif
}

dray_status rp_load_batch(void *state, dray_batch *batch, dray_error *err)
{
    struct load L;
    struct dray_buf line = DRAY_BUF_INIT;
    dray_status st;
    int done;

    memset(&L, 0, sizeof(L));
    L.p = state;
    L.b = batch;
    L.err = err;
    L.info = (struct dray_batch_info)DRAY_VIEW_INIT(struct dray_batch_info);
    dray_json_doc_init(&L.doc);
    dray_host()->batch_info(batch, &L.info);
    st = open_ns(&L);
    done = st == DRAY_OK ? rp_ledger_find(L.ns, L.info.batch_id) : -1;
#ifdef BROKEN_DUP_REPLAY
    done = -1; /* broken: a batch offered again loads again */
#endif
    if (done >= 0) {
        st = ledger_report(&L, L.ns->l[done].line);
        finish(&L);
        return st;
    }
#ifdef BROKEN_SEGFAULT
    if (st == DRAY_OK && L.ns->n_t > 0) {
        /* broken: any batch after a namespace's first kills the worker */
        raise(SIGSEGV);
    }
#endif
    for (size_t i = 0; st == DRAY_OK && i < L.ns->n_t; i++)
        L.ns->t[i]->batch_rows = 0;
    if (st == DRAY_OK)
        st = setup(&L);
    if (st == DRAY_OK)
        st = each_record(&L);
    if (st == DRAY_OK && L.upsert && L.n_pend > 0) {
        int rc = rp_merge(&L);
        if (rc != 0)
            st = rc == -2 ? OOM(&L)
                          : dray_error_set(err, DRAY_E_PERMANENT, NULL,
                                           "stream '%s': the key columns are "
                                           "missing from its table",
                                           L.info.stream);
    }
    if (st == DRAY_OK && (L.info.flags & DRAY_BATCH_ACTIVATE_VERSION))
        rp_activate(&L);
    if (st == DRAY_OK && (ledger_line(&L, &line) != 0 ||
                          rp_ledger_add(L.ns, L.info.batch_id, line.data) != 0))
        st = OOM(&L);
    if (st == DRAY_OK)
        st = commit(&L);
    dray_buf_release(&line);
    finish(&L);
    return st;
}

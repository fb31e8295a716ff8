/*
 * s3_store_s3.c - the s3:// store: objects through the SDK's S3 client.
 *
 * Each object streams through a dray_s3_writer (parts uploaded from a
 * temp file while the batch is still being encoded), which borrows the
 * store's long-lived client for the one PutObject of a small object, so
 * many small objects share a connection. Keys are deterministic
 * per batch, so a retried batch overwrites its own objects; after a
 * multipart object is complete, any other upload of the same key still in
 * progress (left by an attempt that was killed) is aborted, so nothing
 * stays billable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_internal.h"

struct s3_store_s3 {
    struct s3_store base;
    struct s3_plugin *p;
    struct dray_s3_opts opts;
    struct dray_s3 *client; /* listing, reading, deleting, small objects */
};

struct s3_object {
    struct dray_s3_writer *w;
    char *key;
};

dray_status s3_fail(dray_error *err, const struct dray_s3_error *e)
{
    dray_status cls = e->config        ? DRAY_E_CONFIG
                      : e->retryable   ? DRAY_E_RETRYABLE
                      : e->status == 0 ? DRAY_E_RETRYABLE
                                       : DRAY_E_PERMANENT;
    char code[24];

    snprintf(code, sizeof(code), "%d", e->status);
    return dray_error_set(err, cls, e->code[0] ? e->code : code, "%s",
                          e->message[0] ? e->message : "S3 request failed");
}

/* The full key: the URL's prefix, then the store key. */
static char *full_key(const struct s3_store_s3 *s, const char *key)
{
    const char *pre = s->p->url.prefix;
    size_t np = strlen(pre), nk = strlen(key);
    char *k = malloc(np + nk + 2);

    if (k == NULL)
        return NULL;
    if (np == 0) {
        memcpy(k, key, nk + 1);
    } else {
        memcpy(k, pre, np);
        k[np] = '/';
        memcpy(k + np + 1, key, nk + 1);
    }
    return k;
}

static dray_status x_open(struct s3_store *st, const char *key,
                          const char *content_type, struct s3_object **out,
                          struct dray_sink *sink, dray_error *err)
{
    struct s3_store_s3 *s = (struct s3_store_s3 *)st;
    struct dray_s3_writer_opts wo = {0};
    struct s3_object *o = calloc(1, sizeof(*o));
    struct dray_s3_error e;

    if (o == NULL || (o->key = full_key(s, key)) == NULL) {
        free(o);
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    wo.part_size = (size_t)s->p->part_size;
    wo.tmp_dir = s->p->tmp_dir;
    wo.content_type = content_type;
    wo.checksum = s->p->checksum;
    wo.client = s->client; /* small objects: one warm connection */
    memset(&e, 0, sizeof(e));
    if (dray_s3_writer_open(&o->w, &s->opts, s->p->url.bucket, o->key, &wo,
                            sink, &e) != 0) {
        free(o->key);
        free(o);
        return s3_fail(err, &e);
    }
    *out = o;
    return DRAY_OK;
}

struct sweep_ctx {
    struct s3_store_s3 *s;
    const char *key;
    int aborted;
};

static int abort_leftover(void *ctx, const struct dray_s3_upload *u)
{
    struct sweep_ctx *c = ctx;
    struct dray_s3_error e;

    if (strcmp(u->key, c->key) != 0)
        return 0; /* a longer key that shares the prefix */
    memset(&e, 0, sizeof(e));
    if (dray_s3_mpu_abort(c->s->client, c->s->p->url.bucket, u->key,
                          u->upload_id, &e) == 0)
        c->aborted++;
    else
        dray_log(c->s->base.inst, DRAY_LOG_WARN,
                 "could not abort the unfinished upload %s of '%s': %s",
                 u->upload_id, u->key, e.message);
    return 0;
}

static dray_status x_commit(struct s3_store *st, struct s3_object *o,
                            dray_error *err)
{
    struct s3_store_s3 *s = (struct s3_store_s3 *)st;
    struct sweep_ctx c = {s, o->key, 0};
    struct dray_s3_error e;

    memset(&e, 0, sizeof(e));
    if (dray_s3_writer_commit(o->w, &e) != 0)
        return s3_fail(err, &e);
    /* Only an object big enough for multipart can have had an upload
       left behind by an earlier attempt of the same batch. */
    if (dray_s3_writer_bytes(o->w) < s->p->part_size)
        return DRAY_OK;
    memset(&e, 0, sizeof(e));
    if (dray_s3_list_uploads(s->client, s->p->url.bucket, o->key,
                             abort_leftover, &c, &e) != 0)
        dray_log(st->inst, DRAY_LOG_WARN,
                 "could not list unfinished uploads of '%s': %s", o->key,
                 e.message);
    else if (c.aborted > 0)
        dray_log(st->inst, DRAY_LOG_INFO,
                 "aborted %d unfinished upload%s of '%s' left by an earlier "
                 "attempt",
                 c.aborted, c.aborted == 1 ? "" : "s", o->key);
    return DRAY_OK;
}

static void x_discard(struct s3_store *st, struct s3_object *o)
{
    (void)st;
    if (o == NULL)
        return;
    if (o->w != NULL) {
        dray_s3_writer_abort(o->w);
        dray_s3_writer_free(o->w);
    }
    free(o->key);
    free(o);
}

struct list_ctx {
    size_t strip;
    int (*fn)(void *ctx, const char *key);
    void *ctx;
};

static int list_one(void *ctx, const struct dray_s3_object *o)
{
    struct list_ctx *c = ctx;

    if (strlen(o->key) < c->strip)
        return 0;
    return c->fn(c->ctx, o->key + c->strip);
}

static dray_status x_list(struct s3_store *st, const char *prefix,
                          int (*fn)(void *ctx, const char *key), void *ctx,
                          dray_error *err)
{
    struct s3_store_s3 *s = (struct s3_store_s3 *)st;
    char *full = full_key(s, prefix);
    struct list_ctx c = {0, fn, ctx};
    struct dray_s3_error e;
    int rc;

    if (full == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    c.strip = strlen(full) - strlen(prefix);
    memset(&e, 0, sizeof(e));
    rc = dray_s3_list_objects(s->client, s->p->url.bucket, full, list_one, &c,
                              &e);
    free(full);
    return rc < 0 ? s3_fail(err, &e) : DRAY_OK;
}

static dray_status x_get(struct s3_store *st, const char *key,
                         struct dray_sink *sink, dray_error *err)
{
    struct s3_store_s3 *s = (struct s3_store_s3 *)st;
    char *full = full_key(s, key);
    struct dray_s3_error e;
    int rc;

    if (full == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    memset(&e, 0, sizeof(e));
    rc = dray_s3_get_object(s->client, s->p->url.bucket, full, sink, &e);
    free(full);
    return rc != 0 ? s3_fail(err, &e) : DRAY_OK;
}

static dray_status x_remove(struct s3_store *st, const char *key,
                            dray_error *err)
{
    struct s3_store_s3 *s = (struct s3_store_s3 *)st;
    char *full = full_key(s, key);
    struct dray_s3_error e;
    int rc;

    if (full == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    memset(&e, 0, sizeof(e));
    rc = dray_s3_delete_object(s->client, s->p->url.bucket, full, &e);
    free(full);
    return rc != 0 ? s3_fail(err, &e) : DRAY_OK;
}

struct keys {
    char **k;
    size_t n;
};

static int collect(void *ctx, const struct dray_s3_object *o)
{
    struct keys *ks = ctx;
    char **p = realloc(ks->k, (ks->n + 1) * sizeof(*p));

    if (p == NULL)
        return -2;
    ks->k = p;
    if ((p[ks->n] = strdup(o->key)) == NULL)
        return -2;
    ks->n++;
    return 0;
}

static dray_status x_remove_prefix(struct s3_store *st, const char *prefix,
                                   dray_error *err)
{
    struct s3_store_s3 *s = (struct s3_store_s3 *)st;
    char *full = full_key(s, prefix);
    struct keys ks = {NULL, 0};
    struct dray_s3_error e;
    dray_status rc = DRAY_OK;
    int lr;

    if (full == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    memset(&e, 0, sizeof(e));
    lr = dray_s3_list_objects(s->client, s->p->url.bucket, full, collect, &ks,
                              &e);
    if (lr == -2)
        rc = dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    else if (lr != 0)
        rc = s3_fail(err, &e);
    for (size_t i = 0; rc == DRAY_OK && i < ks.n; i++)
        if (dray_s3_delete_object(s->client, s->p->url.bucket, ks.k[i], &e) !=
            0)
            rc = s3_fail(err, &e);
    for (size_t i = 0; i < ks.n; i++)
        free(ks.k[i]);
    free(ks.k);
    free(full);
    return rc;
}

static int first_only(void *ctx, const struct dray_s3_object *o)
{
    (void)ctx;
    (void)o;
    return 1;
}

/* Credentials, the bucket and the right to list and write: a tiny object
   is written and deleted under the prefix. */
static dray_status x_probe(struct s3_store *st, dray_error *err)
{
    struct s3_store_s3 *s = (struct s3_store_s3 *)st;
    struct dray_http_body body = DRAY_HTTP_BODY_NONE;
    char *key = full_key(s, "_dray_check");
    struct dray_s3_error e;
    dray_status rc = DRAY_OK;

    if (key == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    memset(&e, 0, sizeof(e));
    body.data = "dray check\n";
    body.len = 11;
    if (dray_s3_list_objects(s->client, s->p->url.bucket, key, first_only, NULL,
                             &e) < 0 ||
        dray_s3_put_object(s->client, s->p->url.bucket, key, &body,
                           "text/plain", &e) != 0 ||
        dray_s3_delete_object(s->client, s->p->url.bucket, key, &e) != 0)
        rc = s3_fail(err, &e);
    free(key);
    return rc;
}

static void x_close(struct s3_store *st)
{
    struct s3_store_s3 *s = (struct s3_store_s3 *)st;

    if (s == NULL)
        return;
    dray_s3_free(s->client);
    free(s);
}

static const struct s3_store_ops s3_ops = {
    x_open,   x_commit,        x_discard, x_list,  x_get,
    x_remove, x_remove_prefix, x_probe,   x_close,
};

static int cancelled(void *ctx)
{
    return dray_host()->should_stop(ctx) != 0;
}

dray_status s3_store_s3_open(struct s3_plugin *p, struct s3_store **out,
                             dray_error *err)
{
    struct s3_store_s3 *s = calloc(1, sizeof(*s));
    char why[256];

    if (s == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    s->base.ops = &s3_ops;
    s->base.inst = p->inst;
    s->p = p;
    s->opts.region = p->region;
    s->opts.endpoint = p->endpoint;
    s->opts.path_style = p->path_style;
    s->opts.ca_bundle = p->ca_bundle;
    s->opts.creds = p->creds;
    s->opts.retry = &p->retry;
    s->opts.cancel = cancelled;
    s->opts.cancel_ctx = p->inst;
    if (dray_s3_new(&s->client, &s->opts, why, sizeof(why)) != 0) {
        free(s);
        return dray_error_set(err, DRAY_E_CONFIG, NULL, "S3 client: %s", why);
    }
    *out = &s->base;
    return DRAY_OK;
}

/*
 * s3_writer.c - the streaming object writer.
 *
 * Bytes are appended to an unlinked temporary file and fed to the SHA-256
 * and CRC32 of the part they belong to (no MD5: nothing sends it). A part
 * is handed over when it is complete and another byte arrives (so the last
 * part is never empty and an object of exactly one part is a plain
 * PutObject): one background thread, with its own client, creates the
 * multipart upload and sends the parts strictly in order, each from its
 * range of the file (nothing of a part is held in memory), then frees that
 * range of the file. At most AHEAD parts wait behind the one in flight:
 * past that the caller's write blocks, so a slow network slows the writer
 * down instead of filling the disk. Commit joins the thread, sends the
 * last part on the thread's (warm) connection and completes; any failure
 * aborts the upload. An object under one part is one PutObject at commit,
 * through the caller's lent client when there is one: a batch of many
 * small objects then opens one connection, not one per object.
 */
#define _GNU_SOURCE /* O_TMPFILE, fallocate */
#include "net_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define MIB ((size_t)1024 * 1024)
#define DEFAULT_PART (8 * MIB)
#define MIN_PART (5 * MIB)
#define MAX_PART (5 * 1024 * MIB)
#define MAX_PARTS 10000
#define AHEAD 2            /* parts queued behind the one uploading */
#define STAGE (128 * 1024) /* small writes are gathered before write(2) */

struct part {
    int no;
    int64_t offset, len;
    char sha256[65], crc32[9];
};

enum { W_OPEN, W_DONE, W_FAILED };

struct dray_s3_writer {
    struct dray_s3 *s3;   /* the thread's while it runs, the caller's after */
    struct dray_s3 *lent; /* the caller's long-lived client, or NULL */
    int (*user_cancel)(void *ctx);
    void *user_cancel_ctx;
    char *bucket, *key, *content_type;
    size_t part_size;
    int crc; /* send CRC32 checksums */
    int fd;
    int state;
    struct dray_s3_error err; /* why state is W_FAILED */
    int64_t bytes;            /* written in all */
    int64_t part_len;         /* of the part being written */
    int parts_handed;         /* numbered and queued so far */
    struct dray_digest *dg;   /* SHA-256 of the part being written */
    uLong part_crc;           /* its CRC32 */
    char **crcs;              /* of the parts handed, for Complete */
    int n_crcs;
    char *stage;
    size_t staged;

    /* Shared with the thread, under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct part queue[AHEAD];
    int q_head, q_len;
    int closing; /* no more parts will come */
    int failed;  /* the thread stopped: thread_err says why */
    struct dray_s3_error thread_err;
    atomic_int stop;    /* give up the thread's request now */
    atomic_int cleanup; /* aborting the upload: not to be cancelled */

    int thread_running; /* started and not yet joined */
    pthread_t thread;
    /* The thread's, read by the caller once it is joined. */
    char *upload_id;
    char **etags;
    int n_etags;
};

/* e := a failure of the writer itself (not of an S3 request). */
static void writer_error(struct dray_s3_error *e, const char *bucket,
                         const char *key, const char *code, int config,
                         const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void writer_error(struct dray_s3_error *e, const char *bucket,
                         const char *key, const char *code, int config,
                         const char *fmt, ...)
{
    struct dray__s3_req rq;
    char what[400];
    va_list ap;

    memset(&rq, 0, sizeof(rq));
    rq.op = "writing";
    rq.bucket = bucket;
    rq.key = key;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    dray__s3_error_set(e, &rq, 0, code, 0, config, "%s", what);
}

/* The writer failed on the caller's side: remembered for commit. */
static int fail_local(struct dray_s3_writer *w, const char *code,
                      const char *what, int err)
{
    if (w->state == W_OPEN) {
        writer_error(&w->err, w->bucket, w->key, code, 0, "%s: %s", what,
                     strerror(err));
        w->state = W_FAILED;
    }
    return -1;
}

/* The HTTP cancel hook of the writer's client: the caller's own, and the
   writer's stop while the thread is being wound down; never during the
   abort that cleans up. The caller's hook is polled from the thread. */
static int writer_cancel(void *ctx)
{
    struct dray_s3_writer *w = ctx;

    if (atomic_load(&w->cleanup))
        return 0;
    if (atomic_load(&w->stop))
        return 1;
    return w->user_cancel != NULL ? w->user_cancel(w->user_cancel_ctx) : 0;
}

/* ---- the temporary file ------------------------------------------------- */

static int open_tmp(const char *dir)
{
    char path[4096];
    int fd;

#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
#endif
    /* No O_TMPFILE here (an old kernel, some file systems): a named file,
       unlinked at once, so that nothing is left behind after a crash. */
    if (snprintf(path, sizeof(path), "%s/dray-s3-XXXXXX", dir) >=
        (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

static int flush_stage(struct dray_s3_writer *w)
{
    size_t done = 0;

    while (done < w->staged) {
        ssize_t n = write(w->fd, w->stage + done, w->staged - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_local(w, "TempFileError",
                              "cannot write to the temporary file (check "
                              "the space in tmp_dir)",
                              errno);
        done += (size_t)n;
    }
    w->staged = 0;
    return 0;
}

/* Gives the disk space of an uploaded part back; best effort. */
static void release_range(int fd, int64_t offset, int64_t len)
{
#ifdef FALLOC_FL_PUNCH_HOLE
    (void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    (off_t)offset, (off_t)len);
#else
    (void)fd;
    (void)offset;
    (void)len;
#endif
}

/* ---- the thread --------------------------------------------------------- */

static void thread_failed(struct dray_s3_writer *w,
                          const struct dray_s3_error *e)
{
    pthread_mutex_lock(&w->mu);
    w->failed = 1;
    w->thread_err = *e;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static int add_etag(struct dray_s3_writer *w, char *etag)
{
    char **grown;

    if (w->n_etags % 64 == 0) {
        grown = realloc(w->etags, (size_t)(w->n_etags + 64) * sizeof(*grown));
        if (grown == NULL)
            return -2;
        w->etags = grown;
    }
    w->etags[w->n_etags++] = etag;
    return 0;
}

static void *uploader(void *arg)
{
    struct dray_s3_writer *w = arg;
    struct dray_s3_error e;
    char *id = NULL, *etag;

    if (dray__s3_mpu_create(w->s3, w->bucket, w->key, w->content_type, w->crc,
                            &id, &e) != 0) {
        thread_failed(w, &e);
        return NULL;
    }
    w->upload_id = id;
    for (;;) {
        struct dray_http_body body = DRAY_HTTP_BODY_NONE;
        struct part pt;

        pthread_mutex_lock(&w->mu);
        while (w->q_len == 0 && !w->closing && !atomic_load(&w->stop))
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->q_len == 0 || atomic_load(&w->stop)) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        pt = w->queue[w->q_head];
        w->q_head = (w->q_head + 1) % AHEAD;
        w->q_len--;
        pthread_cond_broadcast(&w->cv); /* room for the caller's next */
        pthread_mutex_unlock(&w->mu);

        body.fd = w->fd;
        body.offset = pt.offset;
        body.len = pt.len;
        if (dray__s3_upload_part(w->s3, w->bucket, w->key, id, pt.no, &body,
                                 pt.sha256, w->crc ? pt.crc32 : NULL, &etag,
                                 &e) != 0) {
            thread_failed(w, &e);
            break;
        }
        if (add_etag(w, etag) != 0) {
            free(etag);
            writer_error(&e, w->bucket, w->key, "OutOfMemory", 0,
                         "out of memory");
            thread_failed(w, &e);
            break;
        }
        release_range(w->fd, pt.offset, pt.len);
    }
    return NULL;
}

static void join_thread(struct dray_s3_writer *w)
{
    if (!w->thread_running)
        return;
    pthread_mutex_lock(&w->mu);
    w->closing = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    w->thread_running = 0;
}

/* ---- writing ------------------------------------------------------------ */

/* The part being written is done: its SHA-256 (hex) and CRC32 (S3's
   base64); both start over for the next. */
static void final_sums(struct dray_s3_writer *w, char sha256[65],
                       char crc32_b64[9])
{
    dray_digest_final(w->dg, sha256, NULL);
    dray__s3_crc32_b64((uint32_t)w->part_crc, crc32_b64);
    w->part_crc = crc32(0L, Z_NULL, 0);
}

/* Keeps a handed part's CRC32 for Complete (caller's side only). */
static int add_crc(struct dray_s3_writer *w, const char *crc)
{
    char **grown, *c;

    if (w->n_crcs % 64 == 0) {
        grown = realloc(w->crcs, (size_t)(w->n_crcs + 64) * sizeof(*grown));
        if (grown == NULL)
            return -2;
        w->crcs = grown;
    }
    if ((c = strdup(crc)) == NULL)
        return -2;
    w->crcs[w->n_crcs++] = c;
    return 0;
}

/* The part being written is complete and more bytes follow: queue it for
   the thread (starting it for the first part), waiting while AHEAD parts
   already wait. */
static int hand_over(struct dray_s3_writer *w)
{
    struct part pt;
    int rc;

    if (flush_stage(w) != 0)
        return -1;
    if (w->parts_handed + 1 >= MAX_PARTS) { /* the last one needs a number */
        writer_error(&w->err, w->bucket, w->key, "TooManyParts", 1,
                     "the object outgrows %d parts of %zu bytes: raise "
                     "part_size",
                     MAX_PARTS, w->part_size);
        w->state = W_FAILED;
        return -1;
    }
    pt.no = w->parts_handed + 1;
    pt.offset = w->bytes - w->part_len;
    pt.len = w->part_len;
    final_sums(w, pt.sha256, pt.crc32);
    if (w->crc && add_crc(w, pt.crc32) != 0) {
        writer_error(&w->err, w->bucket, w->key, "OutOfMemory", 0,
                     "out of memory");
        w->state = W_FAILED;
        return -1;
    }
    if (w->parts_handed == 0) {
        rc = pthread_create(&w->thread, NULL, uploader, w);
        if (rc != 0)
            return fail_local(w, "ThreadError",
                              "cannot start the upload thread", rc);
        w->thread_running = 1;
    }
    pthread_mutex_lock(&w->mu);
    while (w->q_len == AHEAD && !w->failed)
        pthread_cond_wait(&w->cv, &w->mu);
    if (w->failed) {
        w->err = w->thread_err;
        w->state = W_FAILED;
        pthread_mutex_unlock(&w->mu);
        return -1;
    }
    w->queue[(w->q_head + w->q_len) % AHEAD] = pt;
    w->q_len++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    w->parts_handed++;
    w->part_len = 0;
    return 0;
}

static int writer_write(void *ctx, const void *data, size_t len)
{
    struct dray_s3_writer *w = ctx;
    const char *p = data;

    if (w->state != W_OPEN)
        return -1;
    while (len > 0) {
        size_t take, room;

        if (w->part_len == (int64_t)w->part_size && hand_over(w) != 0)
            return -1;
        take = w->part_size - (size_t)w->part_len;
        if (take > len)
            take = len;
        room = STAGE - w->staged;
        if (take > room)
            take = room;
        dray_digest_update(w->dg, p, take);
        if (w->crc)
            w->part_crc = crc32_z(w->part_crc, (const Bytef *)p, take);
        memcpy(w->stage + w->staged, p, take);
        w->staged += take;
        w->part_len += (int64_t)take;
        w->bytes += (int64_t)take;
        p += take;
        len -= take;
        if (w->staged == STAGE && flush_stage(w) != 0)
            return -1;
    }
    return 0;
}

static int writer_close(void *ctx)
{
    struct dray_s3_writer *w = ctx;

    if (w->state != W_OPEN)
        return -1;
    return flush_stage(w);
}

int dray_s3_writer_open(struct dray_s3_writer **out,
                        const struct dray_s3_opts *opts, const char *bucket,
                        const char *key, const struct dray_s3_writer_opts *wo,
                        struct dray_sink *sink, struct dray_s3_error *e)
{
    struct dray_s3_writer *w;
    struct dray_s3_opts o;
    const char *dir = wo != NULL ? wo->tmp_dir : NULL;
    size_t part = wo != NULL && wo->part_size ? wo->part_size : DEFAULT_PART;
    char why[300];
    int rc;

    *out = NULL;
    memset(e, 0, sizeof(*e));
    if (opts == NULL || bucket == NULL || bucket[0] == '\0' || key == NULL ||
        key[0] == '\0') {
        writer_error(e, bucket, key, "InvalidArgument", 0,
                     "the options, a bucket and a key are required");
        return -1;
    }
    if (part < MIN_PART || part > MAX_PART) {
        writer_error(e, bucket, key, "InvalidPartSize", 1,
                     "part_size %zu is not between 5 MiB and 5 GiB", part);
        return -1;
    }
    if ((w = calloc(1, sizeof(*w))) == NULL)
        goto oom;
    w->fd = -1;
    w->part_size = part;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->bucket = strdup(bucket);
    w->key = strdup(key);
    w->content_type = strdup(wo != NULL && wo->content_type != NULL
                                 ? wo->content_type
                                 : "application/octet-stream");
    w->crc = wo == NULL || wo->checksum != DRAY_S3_CHECKSUM_NONE;
    w->lent = wo != NULL ? wo->client : NULL;
    w->part_crc = crc32(0L, Z_NULL, 0);
    w->dg = dray__digest_new_sha256();
    w->stage = malloc(STAGE);
    if (!w->bucket || !w->key || !w->content_type || !w->dg || !w->stage)
        goto oom;
    w->user_cancel = opts->cancel;
    w->user_cancel_ctx = opts->cancel_ctx;
    o = *opts;
    o.cancel = writer_cancel;
    o.cancel_ctx = w;
    rc = dray_s3_new(&w->s3, &o, why, sizeof(why));
    if (rc == -2)
        goto oom;
    if (rc != 0) {
        writer_error(e, bucket, key, "InvalidConfig", 1, "%s", why);
        dray_s3_writer_free(w);
        return -1;
    }
    if (dir == NULL || dir[0] == '\0')
        dir = getenv("TMPDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    if ((w->fd = open_tmp(dir)) < 0) {
        writer_error(e, bucket, key, "TempFileError", 1,
                     "cannot create a temporary file in %.200s (%s): set "
                     "tmp_dir to a writable folder",
                     dir, strerror(errno));
        dray_s3_writer_free(w);
        return -1;
    }
    sink->write = writer_write;
    sink->close = writer_close;
    sink->ctx = w;
    *out = w;
    return 0;
oom:
    writer_error(e, bucket, key, "OutOfMemory", 0, "out of memory");
    dray_s3_writer_free(w);
    return -1;
}

/* ---- the end ------------------------------------------------------------ */

static void abort_upload(struct dray_s3_writer *w)
{
    struct dray_s3_error e;

    if (w->upload_id == NULL)
        return;
    atomic_store(&w->cleanup, 1);
    /* Best effort: a failed abort leaves an upload that a bucket lifecycle
       rule (AbortIncompleteMultipartUpload) removes. */
    dray_s3_mpu_abort(w->s3, w->bucket, w->key, w->upload_id, &e);
    atomic_store(&w->cleanup, 0);
    free(w->upload_id);
    w->upload_id = NULL;
}

/* Stops the thread without waiting for the parts still queued. */
static void stop_thread(struct dray_s3_writer *w)
{
    atomic_store(&w->stop, 1);
    join_thread(w);
    atomic_store(&w->stop, 0);
}

static int commit_failed(struct dray_s3_writer *w, struct dray_s3_error *e)
{
    w->err = *e;
    w->state = W_FAILED;
    stop_thread(w);
    abort_upload(w);
    return -1;
}

int dray_s3_writer_commit(struct dray_s3_writer *w, struct dray_s3_error *e)
{
    struct dray_http_body body = DRAY_HTTP_BODY_NONE;
    char sha[65], crc[9], *etag = NULL;
    int rc;

    memset(e, 0, sizeof(*e));
    if (w->state == W_DONE) {
        writer_error(e, w->bucket, w->key, "AlreadyCommitted", 0,
                     "the object was already committed");
        return -1;
    }
    if (w->state == W_OPEN)
        flush_stage(w);
    if (w->state == W_FAILED) {
        *e = w->err;
        return commit_failed(w, e);
    }
    final_sums(w, sha, crc);
    body.fd = w->fd;
    body.offset = w->bytes - w->part_len;
    body.len = w->part_len;
    if (w->parts_handed == 0) {
        /* The whole object is one part or less: one PutObject, on the
           lent client's warm connection when there is one. */
        if (dray__s3_put(w->lent != NULL ? w->lent : w->s3, w->bucket, w->key,
                         &body, w->content_type, sha, w->crc ? crc : NULL,
                         e) != 0)
            return commit_failed(w, e);
        w->state = W_DONE;
        return 0;
    }
    join_thread(w);
    if (w->failed) {
        *e = w->thread_err;
        return commit_failed(w, e);
    }
    rc = w->crc && add_crc(w, crc) != 0 ? -2 : 0;
    if (rc == 0)
        rc = dray__s3_upload_part(w->s3, w->bucket, w->key, w->upload_id,
                                  w->parts_handed + 1, &body, sha,
                                  w->crc ? crc : NULL, &etag, e);
    if (rc == 0 && add_etag(w, etag) != 0) {
        free(etag);
        rc = -2;
    }
    if (rc == -2)
        writer_error(e, w->bucket, w->key, "OutOfMemory", 0, "out of memory");
    if (rc == 0)
        rc = dray__s3_mpu_complete(w->s3, w->bucket, w->key, w->upload_id,
                                   w->etags, w->crc ? w->crcs : NULL,
                                   w->n_etags, e);
    if (rc != 0)
        return commit_failed(w, e);
    w->state = W_DONE;
    free(w->upload_id); /* complete: nothing to abort any more */
    w->upload_id = NULL;
    return 0;
}

void dray_s3_writer_abort(struct dray_s3_writer *w)
{
    if (w == NULL || w->state == W_DONE)
        return;
    stop_thread(w);
    if (w->state == W_OPEN) {
        writer_error(&w->err, w->bucket, w->key, "Aborted", 0,
                     "the writer was aborted");
        w->state = W_FAILED;
    }
    abort_upload(w);
}

int64_t dray_s3_writer_bytes(const struct dray_s3_writer *w)
{
    return w->bytes;
}

void dray_s3_writer_free(struct dray_s3_writer *w)
{
    if (w == NULL)
        return;
    if (w->s3 != NULL)
        dray_s3_writer_abort(w); /* nothing left running or billable */
    if (w->fd >= 0)
        close(w->fd);
    for (int i = 0; i < w->n_etags; i++)
        free(w->etags[i]);
    free(w->etags);
    for (int i = 0; i < w->n_crcs; i++)
        free(w->crcs[i]);
    free(w->crcs);
    free(w->upload_id);
    dray_s3_free(w->s3);
    dray_digest_free(w->dg);
    free(w->stage);
    free(w->bucket);
    free(w->key);
    free(w->content_type);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

/*
 * rp_write.c - a namespace's state written whole: a temporary file,
 * fsync, rename over state.ndjson, the folder fsynced; and a namespace
 * removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dray/dray_json.h>

#include "refplug.h"

#define STATE "state.ndjson"
#define STATE_TMP ".state.tmp"
#define FLUSH_AT (1u << 20)

struct writer {
    int fd;
    int failed;
    struct dray_buf buf;
};

static int w_flush(struct writer *w)
{
    const char *p = w->buf.data;
    size_t n = w->buf.len;

    while (!w->failed && n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            w->failed = errno;
            break;
        }
        p += k;
        n -= (size_t)k;
    }
    dray_buf_reset(&w->buf);
    return w->failed ? -1 : 0;
}

static int w_sink(void *ctx, const void *data, size_t len)
{
    struct writer *w = ctx;

    if (dray_buf_add(&w->buf, data, len) != 0)
        return -2;
    return w->buf.len >= FLUSH_AT ? w_flush(w) : 0;
}

static int w_str(struct writer *w, const char *s)
{
    return w_sink(w, s, strlen(s));
}

static int w_json(struct writer *w, const char *s)
{
    struct dray_sink sink = {w_sink, NULL, w};

    return dray_json_write_string(&sink, s, strlen(s));
}

static int write_table(struct writer *w, const struct rp_table *t)
{
    char num[16];
    int rc = w_str(w, "{\"table\":");

    rc = rc ? rc : w_json(w, t->name);
    rc = rc ? rc : w_str(w, ",\"stream\":");
    rc = rc ? rc : w_json(w, t->stream);
    rc = rc ? rc
            : w_str(w, t->upsert ? ",\"upsert\":true" : ",\"upsert\":false");
    rc = rc ? rc : w_str(w, ",\"keys\":[");
    for (size_t i = 0; rc == 0 && i < t->n_keys; i++) {
        rc = i ? w_str(w, ",") : 0;
        rc = rc ? rc : w_json(w, t->keys[i]);
    }
    rc = rc ? rc : w_str(w, "],\"columns\":[");
    for (size_t i = 0; rc == 0 && i < t->n_cols; i++) {
        snprintf(num, sizeof(num), ",%d]", t->cols[i].stype);
        rc = w_str(w, i ? ",[" : "[");
        rc = rc ? rc : w_json(w, t->cols[i].name);
        rc = rc ? rc : w_str(w, num);
    }
    rc = rc ? rc : w_str(w, "]}\n");
    for (size_t r = 0; rc == 0 && r < t->n_rows; r++) {
        rc = w_str(w, "[");
        for (size_t c = 0; rc == 0 && c < t->n_cols; c++) {
            const char *v = rp_val(&t->rows[r], (int)c);
            rc = c ? w_str(w, ",") : 0;
            rc = rc ? rc : w_str(w, v ? v : "null");
        }
        rc = rc ? rc : w_str(w, "]\n");
    }
    return rc;
}

dray_status rp_ns_write(struct rp_ns *ns, dray_error *err)
{
    char tmp[4200], final[4200];
    struct writer w = {-1, 0, DRAY_BUF_INIT};
    int rc = 0, dfd;

    snprintf(tmp, sizeof(tmp), "%s/" STATE_TMP, ns->dir);
    snprintf(final, sizeof(final), "%s/" STATE, ns->dir);
    w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w.fd < 0)
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "cannot create '%s': %s", tmp, strerror(errno));
    for (size_t i = 0; rc == 0 && i < ns->n_l; i++) {
        rc = w_str(&w, ns->l[i].line);
        rc = rc ? rc : w_str(&w, "\n");
    }
    for (size_t i = 0; rc == 0 && i < ns->n_t; i++)
        rc = write_table(&w, ns->t[i]);
    rc = rc ? rc : w_flush(&w);
    dray_buf_release(&w.buf);
    if (rc == 0 && fsync(w.fd) != 0)
        rc = -1;
    if (close(w.fd) != 0 && rc == 0)
        rc = -1;
    if (rc == 0 && rename(tmp, final) != 0)
        rc = -1;
    if (rc != 0) {
        int e = w.failed ? w.failed : errno;
        unlink(tmp);
        if (rc == -2)
            return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "cannot write '%s': %s", final, strerror(e));
    }
    /* The rename is durable once the folder is. */
    dfd = open(ns->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return DRAY_OK;
}

dray_status rp_ns_drop(const char *path, const char *name, dray_error *err)
{
    static const char *const files[] = {STATE, STATE_TMP, ".lock"};
    char dir[4200], file[4300];

    if (!rp_ns_name_ok(name))
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "'%s' is not a namespace name ([a-z0-9_])", name);
    snprintf(dir, sizeof(dir), "%s/%s", path, name);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(file, sizeof(file), "%s/%s", dir, files[i]);
        if (unlink(file) != 0 && errno != ENOENT)
            return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                                  "cannot remove '%s': %s", file,
                                  strerror(errno));
    }
    if (rmdir(dir) != 0 && errno != ENOENT)
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "cannot remove '%s': %s", dir, strerror(errno));
    return DRAY_OK;
}

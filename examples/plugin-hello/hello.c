/*
 * hello: the smallest useful dray destination. It writes every batch as a
 * JSON-lines file, <path>/<stream>/<batch id>.jsonl, one record a line;
 * records the gate rejected go beside it with their reason, in
 * <batch id>.rejected.jsonl.
 *
 * The file is written under a temporary name, flushed to disk and renamed,
 * so a reader never sees half a batch, and loading the same batch again
 * replaces its file instead of adding rows: loads are idempotent by batch
 * id, as dray asks of every plugin.
 */
#include <dray/dray_plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct hello {
    dray_instance *inst;
    const char *path;
};

static const struct dray_option hello_options[] = {
    {"path", DRAY_OPT_STRING, DRAY_OPTF_REQUIRED | DRAY_OPTF_PATH, NULL, NULL,
     0, 0, "folder the JSON-lines files are written to"},
};

static dray_status hello_create(dray_instance *inst, const dray_config *cfg,
                                void **state, dray_error *err)
{
    struct hello *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    h->inst = inst;
    dray_host()->cfg_str(cfg, "path", &h->path);
    *state = h;
    return DRAY_OK;
}

static void hello_destroy(void *state)
{
    free(state);
}

static dray_status hello_check(void *state, dray_error *err)
{
    struct hello *h = state;

    if (access(h->path, W_OK) != 0) {
        dray_error_set(err, DRAY_E_CONFIG, NULL, "cannot write to '%s': %s",
                       h->path, strerror(errno));
        dray_error_hint(err, "create the folder or fix option 'path'");
        return DRAY_E_CONFIG;
    }
    return DRAY_OK;
}

/* Writes all of buf or fails. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static int stream_dir(const struct hello *h, const char *stream, char *out,
                      size_t outlen)
{
    /* Stream names come from the tap; keep them out of parent folders. */
    if (strchr(stream, '/') || strcmp(stream, "..") == 0 ||
        strcmp(stream, ".") == 0 || *stream == '\0')
        return -1;
    snprintf(out, outlen, "%s/%s", h->path, stream);
    if (mkdir(out, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Records rejected at the gate, as JSON lines {"reason":..,"record":..}. */
struct rejects {
    char *data;
    size_t len, cap;
};

static int add_bytes(struct rejects *r, const char *p, size_t n)
{
    if (r->len + n > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        while (cap < r->len + n)
            cap *= 2;
        char *q = realloc(r->data, cap);
        if (q == NULL)
            return -1;
        r->data = q;
        r->cap = cap;
    }
    memcpy(r->data + r->len, p, n);
    r->len += n;
    return 0;
}

static int keep_reject(struct rejects *r, const char *reason, const char *json,
                       uint64_t len)
{
    const char *p = reason ? reason : "";

    if (add_bytes(r, "{\"reason\":\"", 11) != 0)
        return -1;
    for (; *p; p++) { /* the host keeps reasons on one line */
        if ((*p == '"' || *p == '\\') && add_bytes(r, "\\", 1) != 0)
            return -1;
        if (add_bytes(r, p, 1) != 0)
            return -1;
    }
    return add_bytes(r, "\",\"record\":", 11) != 0 ||
                   add_bytes(r, json, (size_t)len) != 0 ||
                   add_bytes(r, "}\n", 2) != 0
               ? -1
               : 0;
}

/* <dir>/<batch id>.rejected.jsonl, written whole and renamed into place. */
static dray_status write_rejects(const char *dir, const char *batch_id,
                                 const struct rejects *r, dray_error *err)
{
    char tmp[4200], final[4200];
    int fd;

    snprintf(final, sizeof(final), "%s/%s.rejected.jsonl", dir, batch_id);
    snprintf(tmp, sizeof(tmp), "%s/.%s.rejected.tmp", dir, batch_id);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, r->data, r->len) != 0 || fsync(fd) != 0 ||
        close(fd) != 0 || rename(tmp, final) != 0) {
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "cannot write '%s': %s", final, strerror(errno));
    }
    return DRAY_OK;
}

static dray_status hello_load(void *state, dray_batch *batch, dray_error *err)
{
    const struct dray_host_api *host = dray_host();
    struct hello *h = state;
    struct dray_batch_info info = DRAY_VIEW_INIT(struct dray_batch_info);
    char dir[4096], tmp[4200], final[4200];
    const dray_record *rec;
    int64_t rows = 0;
    dray_status st = DRAY_OK;
    struct rejects rejects = {NULL, 0, 0};
    struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
    int fd;

    host->batch_info(batch, &info);
    if (stream_dir(h, info.stream, dir, sizeof(dir)) != 0)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "cannot make a folder for stream '%s' in '%s'",
                              info.stream, h->path);
    snprintf(final, sizeof(final), "%s/%s.jsonl", dir, info.batch_id);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, info.batch_id);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "cannot create '%s': %s", tmp, strerror(errno));
    for (;;) {
        const char *json;
        uint64_t len;

        if (host->should_stop(h->inst)) {
            st = dray_error_set(err, DRAY_E_CANCELLED, NULL, "stopped");
            goto fail;
        }
        st = host->batch_next(batch, &rec, err);
        if (st != DRAY_OK)
            goto fail;
        if (rec == NULL)
            break;
        host->record_json(rec, &json, &len);
        host->record_meta(rec, &meta);
        if (meta.flags & DRAY_REC_REJECTED) {
            /* Rejected at the gate: kept aside with the reason, counted,
               never mixed with the stream's rows. */
            if (keep_reject(&rejects, meta.reject_reason, json, len) != 0)
                goto io_error;
            host->reject_record(batch, rec, NULL, meta.reject_reason);
            continue;
        }
        if (write_all(fd, json, (size_t)len) != 0 ||
            write_all(fd, "\n", 1) != 0)
            goto io_error;
        rows++;
    }
    if (fsync(fd) != 0)
        goto io_error;
    if (close(fd) != 0) {
        fd = -1;
        goto io_error;
    }
    fd = -1;
    if (rename(tmp, final) != 0)
        goto io_error;
    if (rejects.len > 0 &&
        write_rejects(dir, info.batch_id, &rejects, err) != DRAY_OK) {
        free(rejects.data);
        return DRAY_E_RETRYABLE;
    }
    free(rejects.data);
    host->report_rows(batch, info.stream, rows);
    dray_log(h->inst, DRAY_LOG_INFO, "wrote %lld rows to %s", (long long)rows,
             final);
    return DRAY_OK;

io_error:
    st = dray_error_set(err, DRAY_E_RETRYABLE, NULL, "cannot write '%s': %s",
                        tmp, strerror(errno));
fail:
    free(rejects.data);
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return st;
}

static const struct dray_plugin_vtable hello_vtable = {
    DRAY_PLUGIN_VTABLE_HDR, .create = hello_create,   .destroy = hello_destroy,
    .check = hello_check,   .load_batch = hello_load,
};

static const struct dray_dialect hello_dialect = {
    DRAY_DIALECT_HDR,
    .type_map = "files",
    .nesting = DRAY_NEST_DOCUMENT,
    .split_rule = DRAY_SPLIT_KEEP,
    .modes = DRAY_MODE_BIT(DRAY_MODE_APPEND),
};

static const struct dray_plugin_desc hello_desc = {
    DRAY_PLUGIN_DESC_HDR,
    .name = "hello",
    .version = "1.0.0",
    .vendor = "dray examples",
    .license = "MIT",
    .description = "writes each batch as a JSON-lines file",
    .caps = DRAY_CAP_IDEMPOTENT_LOADS | DRAY_CAP_CHECK,
    DRAY_OPTIONS(hello_options),
    .dialect = &hello_dialect,
    .vtable = &hello_vtable,
};

DRAY_PLUGIN_DEFINE(hello_desc)

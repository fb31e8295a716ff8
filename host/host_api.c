/*
 * The host table: what a plugin can call. Every entry checks its handles,
 * copies what it is given and never hands out memory the plugin must free.
 */
#include "host_api.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "log.h"

/* ---- errors ---- */

void error_init(struct dray_error *err)
{
    memset(err, 0, sizeof(*err));
}

void error_release(struct dray_error *err)
{
    free(err->code);
    free(err->message);
    free(err->detail);
    free(err->hint);
    error_init(err);
}

/* Messages are one line: a plugin's newlines become spaces, and a
   trailing full stop goes. */
static char *finish_line(struct strbuf *sb)
{
    for (size_t i = 0; i < sb->len; i++)
        if (sb->buf[i] == '\n' || sb->buf[i] == '\r')
            sb->buf[i] = ' ';
    while (sb->len > 0 &&
           (sb->buf[sb->len - 1] == ' ' || sb->buf[sb->len - 1] == '.'))
        sb->buf[--sb->len] = '\0';
    return strbuf_detach(sb);
}

static char *xstrdup_oneline(const char *msg)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_adds(&sb, msg);
    return finish_line(&sb);
}

static char *vformat_line(const char *fmt, va_list ap)
{
    struct strbuf sb = STRBUF_INIT;

    strbuf_vaddf(&sb, fmt, ap);
    return finish_line(&sb);
}

static void api_error_vset(dray_error *err, dray_status cls, const char *code,
                           const char *fmt, va_list ap)
{
    if (err == NULL || fmt == NULL)
        return;
    error_release(err);
    /* An error with status OK is still an error; call it permanent. */
    err->cls = cls == DRAY_OK ? DRAY_E_PERMANENT : cls;
    err->code = xstrdup_or_null(code);
    err->message = vformat_line(fmt, ap);
}

static void api_error_vdetail(dray_error *err, const char *fmt, va_list ap)
{
    if (err == NULL || fmt == NULL)
        return;
    free(err->detail);
    err->detail = vformat_line(fmt, ap);
}

static void api_error_vhint(dray_error *err, const char *fmt, va_list ap)
{
    if (err == NULL || fmt == NULL)
        return;
    free(err->hint);
    err->hint = vformat_line(fmt, ap);
}

static void api_error_retry_after(dray_error *err, uint32_t ms)
{
    if (err != NULL)
        err->retry_after_ms = ms;
}

void error_setf(struct dray_error *err, dray_status cls, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    api_error_vset(err, cls, NULL, fmt, ap);
    va_end(ap);
}

static void error_setf_code(struct dray_error *err, dray_status cls,
                            const char *code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    api_error_vset(err, cls, code, fmt, ap);
    va_end(ap);
}

static char *one_line(const char *msg)
{
    return xstrdup_oneline(msg);
}

char *error_oneline(const struct dray_error *err)
{
    struct strbuf sb = STRBUF_INIT;

    if (err->message)
        strbuf_adds(&sb, err->message);
    else
        strbuf_addf(&sb, "failed with %s and no message",
                    dray_status_name(err->cls));
    if (err->detail)
        strbuf_addf(&sb, " (%s)", err->detail);
    if (err->hint)
        strbuf_addf(&sb, "; %s", err->hint);
    return strbuf_detach(&sb);
}

/* ---- logging ---- */

static int32_t api_log_enabled(const dray_instance *inst, int32_t level)
{
    (void)inst;
    return level <= log_level();
}

static void api_vlog(const dray_instance *inst, int32_t level, const char *fmt,
                     va_list ap)
{
    if (fmt == NULL)
        return;
    log_vmsg(level, inst ? inst->who : "plugin", fmt, ap);
}

static void api_log_write(const dray_instance *inst, int32_t level,
                          const char *msg, uint64_t len)
{
    if (msg == NULL || len > INT32_MAX)
        return;
    log_msg_who(level, inst ? inst->who : "plugin", msg, (size_t)len);
}

static void api_error_set_str(dray_error *err, dray_status cls,
                              const char *code, const char *msg)
{
    if (msg != NULL)
        error_setf_code(err, cls, code, "%s", msg);
}

static void api_error_detail_str(dray_error *err, const char *msg)
{
    if (err == NULL || msg == NULL)
        return;
    free(err->detail);
    err->detail = one_line(msg);
}

static void api_error_hint_str(dray_error *err, const char *msg)
{
    if (err == NULL || msg == NULL)
        return;
    free(err->hint);
    err->hint = one_line(msg);
}

/* ---- options ---- */

/* The value of option name: NULL and *known = 0 when the table has no
   such option. */
static const struct opt_value *find_value(const dray_config *cfg,
                                          const char *name, int *known)
{
    *known = 0;
    if (cfg == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n; i++)
        if (strcmp(cfg->specs[i].name, name) == 0) {
            *known = 1;
            return cfg->values[i].set ? &cfg->values[i] : NULL;
        }
    return NULL;
}

/* The common start of every cfg_* entry: 1 with *v set, or the result. */
static int32_t lookup(const dray_config *cfg, const char *name,
                      const struct opt_value **v)
{
    int known;

    *v = find_value(cfg, name, &known);
    if (!known)
        return -2;
    return *v ? 1 : 0;
}

static int32_t api_cfg_str(const dray_config *cfg, const char *name,
                           const char **out)
{
    const struct opt_value *v;
    int32_t rc = lookup(cfg, name, &v);

    if (rc == 1 && out)
        *out = v->text;
    return rc;
}

static int32_t api_cfg_i64(const dray_config *cfg, const char *name,
                           int64_t *out)
{
    const struct opt_value *v;
    int32_t rc = lookup(cfg, name, &v);

    if (rc != 1)
        return rc;
    switch (v->spec->type) {
    case DRAY_OPT_INT:
    case DRAY_OPT_SIZE:
    case DRAY_OPT_DURATION:
    case DRAY_OPT_BOOL:
        if (out)
            *out = v->i64;
        return 1;
    }
    return -1;
}

static int32_t api_cfg_bool(const dray_config *cfg, const char *name,
                            int32_t *out)
{
    const struct opt_value *v;
    int32_t rc = lookup(cfg, name, &v);

    if (rc != 1)
        return rc;
    if (v->spec->type != DRAY_OPT_BOOL)
        return -1;
    if (out)
        *out = (int32_t)v->i64;
    return 1;
}

static int32_t api_cfg_f64(const dray_config *cfg, const char *name,
                           double *out)
{
    const struct opt_value *v;
    int32_t rc = lookup(cfg, name, &v);

    if (rc != 1)
        return rc;
    if (v->spec->type == DRAY_OPT_FLOAT) {
        if (out)
            *out = v->f64;
        return 1;
    }
    if (v->spec->type == DRAY_OPT_INT) {
        if (out)
            *out = (double)v->i64;
        return 1;
    }
    return -1;
}

/* Copies at most what both sides know, the caller's header first. */
static int32_t fill_view(void *out, const void *full, uint32_t full_size)
{
    struct dray_hdr *h = out;
    uint32_t n = h->struct_size < full_size ? h->struct_size : full_size;

    if (n < sizeof(struct dray_hdr))
        return -1;
    memcpy((char *)out + sizeof(struct dray_hdr),
           (const char *)full + sizeof(struct dray_hdr),
           n - sizeof(struct dray_hdr));
    return 0;
}

static int32_t api_cfg_info(const dray_config *cfg,
                            struct dray_config_info *out)
{
    struct dray_config_info info = {DRAY_HDR_INIT(struct dray_config_info),
                                    NULL, NULL, 0, 0};

    if (out == NULL || cfg == NULL)
        return -1;
    info.destination = cfg->destination;
    info.plugin = cfg->plugin;
    info.mode = cfg->mode;
    return fill_view(out, &info, sizeof(info));
}

/* ---- output ---- */

/* An fd output passes its bytes on in pieces of about this size. */
#define OUTPUT_CHUNK ((size_t)64 * 1024)

int output_flush(struct dray_output *out)
{
    size_t off = 0;

    if (out->fd <= 0 || out->error)
        return out->error ? -1 : 0;
    while (off < out->buf.len) {
        ssize_t n = write(out->fd, out->buf.buf + off, out->buf.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            out->error = n < 0 ? errno : EIO;
            return -1;
        }
        off += (size_t)n;
    }
    strbuf_reset(&out->buf);
    return 0;
}

static dray_status api_output_write(dray_output *out, const void *data,
                                    uint64_t len)
{
    if (out == NULL || (data == NULL && len > 0))
        return DRAY_E_ABI;
    /* A length past what memory could hold is a plugin bug (a -1 from a
       failed read, say), not a request to grow. */
    if (len >= SIZE_MAX / 2 - out->buf.len)
        return DRAY_E_ABI;
    if (out->limit && len > out->limit - out->buf.len)
        return DRAY_E_PERMANENT;
    if (out->error)
        return DRAY_E_PERMANENT; /* the reader is gone: stop early */
    strbuf_add(&out->buf, data, (size_t)len);
    if (out->fd > 0 && out->buf.len >= OUTPUT_CHUNK && output_flush(out) != 0)
        return DRAY_E_PERMANENT;
    return DRAY_OK;
}

/* ---- lifecycle ---- */

static int32_t api_should_stop(const dray_instance *inst)
{
    return inst != NULL && atomic_load(&((dray_instance *)inst)->stop);
}

/* ---- batch entries: thin checks around batch.c ---- */

static int32_t api_batch_info(const dray_batch *b, struct dray_batch_info *out)
{
    struct dray_batch_info info;

    if (b == NULL || out == NULL)
        return -1;
    batch_get_info(b, &info);
    return fill_view(out, &info, sizeof(info));
}

static int32_t api_schema_node(const dray_batch *b, int32_t index,
                               struct dray_schema_node *out)
{
    struct dray_schema_node node;

    if (b == NULL || out == NULL || batch_get_node(b, index, &node) != 0)
        return -1;
    return fill_view(out, &node, sizeof(node));
}

static int32_t api_record_meta(const dray_record *r,
                               struct dray_record_meta *out)
{
    struct dray_record_meta meta;

    if (r == NULL || out == NULL)
        return -1;
    record_get_meta(r, &meta);
    return fill_view(out, &meta, sizeof(meta));
}

static int32_t api_record_value(const dray_record *r, int32_t node,
                                struct dray_value *out)
{
    struct dray_value v;

    if (r == NULL || out == NULL || record_get_value(r, node, &v) != 0)
        return -1;
    return fill_view(out, &v, sizeof(v));
}

static dray_status api_reject_record(dray_batch *b, const dray_record *r,
                                     const char *table, const char *reason)
{
    if (b == NULL || r == NULL)
        return DRAY_E_ABI;
    batch_reject(b, r, table, reason);
    return DRAY_OK;
}

static dray_status api_report_rows(dray_batch *b, const char *table,
                                   int64_t rows)
{
    if (b == NULL || table == NULL || rows < 0)
        return DRAY_E_ABI;
    batch_report_rows(b, table, rows);
    return DRAY_OK;
}

static const struct dray_host_api the_host_api = {
    .hdr = DRAY_HDR_INIT(struct dray_host_api),
    .host_version = DRAY_SDK_VERSION_HEX,
    .caps = 0,
    .caps_known = DRAY_CAP_KNOWN_1_0,
    .log_enabled = api_log_enabled,
    .vlog = api_vlog,
    .log_write = api_log_write,
    .error_vset = api_error_vset,
    .error_vdetail = api_error_vdetail,
    .error_vhint = api_error_vhint,
    .error_set_str = api_error_set_str,
    .error_detail_str = api_error_detail_str,
    .error_hint_str = api_error_hint_str,
    .error_retry_after = api_error_retry_after,
    .cfg_str = api_cfg_str,
    .cfg_i64 = api_cfg_i64,
    .cfg_bool = api_cfg_bool,
    .cfg_f64 = api_cfg_f64,
    .cfg_info = api_cfg_info,
    .batch_info = api_batch_info,
    .batch_schema_json = batch_schema_json,
    .batch_schema_nodes = batch_schema_nodes,
    .batch_schema_node = api_schema_node,
    .batch_next = batch_next,
    .batch_rewind = batch_rewind,
    .record_json = record_json,
    .record_meta = api_record_meta,
    .record_value = api_record_value,
    .reject_record = api_reject_record,
    .report_rows = api_report_rows,
    .output_write = api_output_write,
    .should_stop = api_should_stop,
};

static const struct dray_host_api *installed = &the_host_api;

const struct dray_host_api *host_api(void)
{
    return installed;
}

const struct dray_host_api *host_api_base(void)
{
    return &the_host_api;
}

void host_api_install(const struct dray_host_api *table)
{
    installed = table != NULL ? table : &the_host_api;
}

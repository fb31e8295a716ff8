/*
 * ndjson: a small append-only dray destination, the running example of
 * docs/PLUGIN_GUIDE.md. Each batch becomes one file,
 * <path>/<namespace>/<stream>/<batch id>.ndjson, one record a line with
 * its _sdc_sequence in front and its null members left out. Files are written
 * under a hidden temporary name, flushed and renamed, so a batch is visible
 * whole or not at all and loading it again replaces it: loads are idempotent by
 * batch id.
 *
 * It implements readback, list_tables and namespaces, so the conformance
 * harness (dray-plugin-test) can check it.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <dray/dray_cfg.h>
#include <dray/dray_encode.h>
#include <dray/dray_json.h>
#include <dray/dray_plugin.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_NS "main" /* where batches go without a namespace */

struct ndjson {
    dray_instance *inst;
    const char *path;
};

static const struct dray_option ndjson_options[] = {
    {"path", DRAY_OPT_STRING, DRAY_OPTF_REQUIRED | DRAY_OPTF_PATH, NULL, NULL,
     0, 0, "folder the NDJSON files are written to"},
};

static dray_status ndjson_create(dray_instance *inst, const dray_config *cfg,
                                 void **state, dray_error *err)
{
    struct ndjson *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    p->inst = inst;
    p->path = dray_cfg_str(cfg, "path"); /* required: always set */
    *state = p;
    return DRAY_OK;
}

static void ndjson_destroy(void *state)
{
    free(state);
}

static dray_status ndjson_check(void *state, dray_error *err)
{
    struct ndjson *p = state;

    if (access(p->path, W_OK) != 0) {
        dray_error_set(err, DRAY_E_CONFIG, NULL, "cannot write to '%s': %s",
                       p->path, strerror(errno));
        dray_error_hint(err, "create the folder or fix option 'path'");
        return DRAY_E_CONFIG;
    }
    return DRAY_OK;
}

/* A name used as one path component: no separators, no dot files. */
static int safe_name(const char *name)
{
    return name && *name && *name != '.' && strchr(name, '/') == NULL;
}

/* <path>/<ns>[/<table>] into out; -1 for an unsafe name or a long path. */
static int folder(const struct ndjson *p, const char *ns, const char *table,
                  char *out, size_t outlen)
{
    int n;

    if (ns == NULL)
        ns = DEFAULT_NS;
    if (!safe_name(ns) || (table && !safe_name(table)))
        return -1;
    n = table ? snprintf(out, outlen, "%s/%s/%s", p->path, ns, table)
              : snprintf(out, outlen, "%s/%s", p->path, ns);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int make_dirs(const struct ndjson *p, const char *ns, const char *table)
{
    char dir[4096];

    if (folder(p, ns, NULL, dir, sizeof(dir)) != 0 ||
        (mkdir(dir, 0755) != 0 && errno != EEXIST) ||
        folder(p, ns, table, dir, sizeof(dir)) != 0 ||
        (mkdir(dir, 0755) != 0 && errno != EEXIST))
        return -1;
    return 0;
}

/* Per-load scratch: the parsed record and the row being built. */
struct row_buf {
    struct dray_json_doc doc;
    struct dray_buf line;
};

/*
 * Builds one stored row in rb->line: {"_sdc_sequence":N, then the record's
 * members that are not null. Leaving nulls out keeps the canonical rule
 * that a column exists only once a non-null value arrived for it. Returns
 * 0, -1 for a record that is not a JSON object, -2 when out of memory.
 */
static int build_row(struct row_buf *rb, int64_t seq, const char *json,
                     uint64_t len)
{
    struct dray_sink sink;
    char head[48];
    uint32_t i;
    int rc;

    rc = dray_json_parse(&rb->doc, json, (size_t)len, NULL);
    if (rc != 0 || rb->doc.tok[0].type != DRAY_JSON_OBJECT)
        return rc == -2 ? -2 : -1;
    dray_buf_reset(&rb->line);
    dray_sink_to_buf(&sink, &rb->line);
    snprintf(head, sizeof(head), "{\"_sdc_sequence\":%lld", (long long)seq);
    if (dray_buf_add(&rb->line, head, strlen(head)) != 0)
        return -2;
    /* Tokens of an object: a key, then its value's subtree, in turn. */
    for (i = 1; i < rb->doc.tok[0].end; i = dray_json_next(&rb->doc, i + 1)) {
        const struct dray_json_token *key = &rb->doc.tok[i];
        if (rb->doc.tok[i + 1].type == DRAY_JSON_NULL)
            continue;
        /* The key's raw text, escapes and all, is valid JSON as it is. */
        if (dray_buf_add(&rb->line, ",\"", 2) != 0 ||
            dray_buf_add(&rb->line, json + key->offset, key->len) != 0 ||
            dray_buf_add(&rb->line, "\":", 2) != 0 ||
            dray_json_write(&rb->doc, i + 1, &sink) != 0)
            return -2;
    }
    return dray_buf_add(&rb->line, "}\n", 2) != 0 ? -2 : 0;
}

static dray_status ndjson_load(void *state, dray_batch *batch, dray_error *err)
{
    const struct dray_host_api *host = dray_host();
    struct ndjson *p = state;
    struct dray_batch_info info = DRAY_VIEW_INIT(struct dray_batch_info);
    struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
    char dir[4096], tmp[4400], final[4400];
    const dray_record *rec;
    int64_t rows = 0;
    struct row_buf rb = {.line = DRAY_BUF_INIT};
    dray_status st;
    FILE *f;

    host->batch_info(batch, &info);
    if (folder(p, info.ns, info.stream, dir, sizeof(dir)) != 0 ||
        make_dirs(p, info.ns, info.stream) != 0)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "cannot make a folder for stream '%s' in '%s'",
                              info.stream, p->path);
    snprintf(final, sizeof(final), "%s/%s.ndjson", dir, info.batch_id);
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, info.batch_id);
    f = fopen(tmp, "we");
    if (f == NULL)
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "cannot create '%s': %s", tmp, strerror(errno));
    dray_json_doc_init(&rb.doc);
    for (;;) {
        const char *json;
        uint64_t len;

        if (host->should_stop(p->inst)) {
            st = dray_error_set(err, DRAY_E_CANCELLED, NULL, "stopped");
            goto fail;
        }
        st = host->batch_next(batch, &rec, err);
        if (st != DRAY_OK)
            goto fail; /* e.g. E_RETRYABLE: passed on, the batch comes back */
        if (rec == NULL)
            break;
        host->record_meta(rec, &meta);
        if (meta.flags & DRAY_REC_REJECTED) {
            /* Never mixed with the stream's rows; the host counts it. */
            st = host->reject_record(batch, rec, NULL, meta.reject_reason);
            if (st != DRAY_OK)
                goto fail;
            continue;
        }
        host->record_json(rec, &json, &len);
        /* The gate passed only valid JSON objects: -1 cannot happen. */
        if (build_row(&rb, meta.sequence, json, len) != 0) {
            st = dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
            goto fail;
        }
        if (fwrite(rb.line.data, 1, rb.line.len, f) != rb.line.len)
            goto io_error;
        rows++;
    }
    /* The durability point: flushed to disk and renamed before DRAY_OK. */
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        goto io_error;
    if (fclose(f) != 0) {
        f = NULL;
        goto io_error;
    }
    f = NULL;
    if (rename(tmp, final) != 0)
        goto io_error;
    dray_json_doc_release(&rb.doc);
    dray_buf_release(&rb.line);
    return host->report_rows(batch, info.stream, rows);

io_error:
    st = dray_error_set(err, DRAY_E_RETRYABLE, NULL, "cannot write '%s': %s",
                        tmp, strerror(errno));
fail:
    dray_json_doc_release(&rb.doc);
    dray_buf_release(&rb.line);
    if (f != NULL)
        fclose(f);
    unlink(tmp);
    return st;
}

/* Rows read back, sorted by their _sdc_sequence. */
struct row {
    long long seq;
    char *line;
};

static int by_sequence(const void *a, const void *b)
{
    const struct row *x = a, *y = b;

    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Appends every line of file to *rows. */
static int read_rows(const char *file, struct row **rows, size_t *n)
{
    FILE *f = fopen(file, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;

    if (f == NULL)
        return -1;
    while ((len = getline(&line, &cap, f)) > 0) {
        struct row *r = realloc(*rows, (*n + 1) * sizeof(**rows));
        if (r == NULL) {
            rc = -1;
            break;
        }
        *rows = r;
        r[*n].seq = strtoll(line + strlen("{\"_sdc_sequence\":"), NULL, 10);
        r[*n].line = line;
        (*n)++;
        line = NULL;
        cap = 0;
    }
    free(line);
    fclose(f);
    return rc;
}

/* The rows are the records as the tap sent them: already canonical NDJSON
   for a "files" dialect that keeps documents (docs/ABI.md, Readback). */
static dray_status ndjson_readback(void *state, const char *ns,
                                   const char *table, dray_output *out,
                                   dray_error *err)
{
    const struct dray_host_api *host = dray_host();
    char dir[4096], file[4400];
    struct row *rows = NULL;
    size_t n = 0;
    struct dirent *e;
    dray_status st = DRAY_OK;
    DIR *d;

    if (folder(state, ns, table, dir, sizeof(dir)) != 0 ||
        (d = opendir(dir)) == NULL)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "no table '%s' in namespace '%s'", table,
                              ns ? ns : DEFAULT_NS);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        /* Hidden names are unfinished batches: never rows. */
        if (e->d_name[0] == '.' || len < 7 ||
            strcmp(e->d_name + len - 7, ".ndjson") != 0)
            continue;
        snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
        if (read_rows(file, &rows, &n) != 0) {
            st = dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                                "cannot read '%s': %s", file, strerror(errno));
            break;
        }
    }
    closedir(d);
    if (n > 0)
        qsort(rows, n, sizeof(*rows), by_sequence);
    for (size_t i = 0; i < n; i++) {
        if (st == DRAY_OK)
            st = host->output_write(out, rows[i].line, strlen(rows[i].line));
        free(rows[i].line);
    }
    free(rows);
    return st;
}

static dray_status ndjson_list_tables(void *state, const char *ns,
                                      dray_output *out, dray_error *err)
{
    char dir[4096];
    struct dirent *e;
    dray_status st = DRAY_OK;
    DIR *d;

    if (folder(state, ns, NULL, dir, sizeof(dir)) != 0)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL, "bad namespace '%s'",
                              ns);
    d = opendir(dir);
    if (d == NULL) /* nothing loaded yet: no tables */
        return errno == ENOENT ? DRAY_OK
                               : dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                                                "cannot list '%s': %s", dir,
                                                strerror(errno));
    while (st == DRAY_OK && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            st = dray_host()->output_write(out, e->d_name, strlen(e->d_name));
            if (st == DRAY_OK)
                st = dray_host()->output_write(out, "\n", 1);
        }
    closedir(d);
    return st;
}

static dray_status ndjson_namespace_create(void *state, const char *ns,
                                           dray_error *err)
{
    char dir[4096];

    if (folder(state, ns, NULL, dir, sizeof(dir)) != 0 ||
        (mkdir(dir, 0755) != 0 && errno != EEXIST))
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "cannot create namespace '%s' in '%s'", ns,
                              ((struct ndjson *)state)->path);
    return DRAY_OK;
}

static int remove_one(const char *path, const struct stat *sb, int type,
                      struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static dray_status ndjson_namespace_drop(void *state, const char *ns,
                                         dray_error *err)
{
    char dir[4096];

    if (folder(state, ns, NULL, dir, sizeof(dir)) != 0 ||
        (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
         errno != ENOENT))
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "cannot drop namespace '%s': %s", ns,
                              strerror(errno));
    return DRAY_OK;
}

static const struct dray_plugin_vtable ndjson_vtable = {
    DRAY_PLUGIN_VTABLE_HDR,
    .create = ndjson_create,
    .destroy = ndjson_destroy,
    .check = ndjson_check,
    .load_batch = ndjson_load,
    .readback = ndjson_readback,
    .list_tables = ndjson_list_tables,
    .namespace_create = ndjson_namespace_create,
    .namespace_drop = ndjson_namespace_drop,
};

static const struct dray_dialect ndjson_dialect = {
    DRAY_DIALECT_HDR,
    .type_map = "files",
    .nesting = DRAY_NEST_DOCUMENT,
    .split_rule = DRAY_SPLIT_KEEP,
    .modes = DRAY_MODE_BIT(DRAY_MODE_APPEND),
};

static const struct dray_plugin_desc ndjson_desc = {
    DRAY_PLUGIN_DESC_HDR,
    .name = "ndjson",
    .version = "1.0.0",
    .vendor = "dray examples",
    .license = "MIT",
    .description = "appends each batch as an NDJSON file per table",
    .caps = DRAY_CAP_IDEMPOTENT_LOADS | DRAY_CAP_CHECK | DRAY_CAP_READBACK |
            DRAY_CAP_NAMESPACES,
    DRAY_OPTIONS(ndjson_options),
    .dialect = &ndjson_dialect,
    .vtable = &ndjson_vtable,
};

DRAY_PLUGIN_DEFINE(ndjson_desc)

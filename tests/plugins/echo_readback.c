/*
 * echo_readback.c - what the conformance harness's host pieces read from
 * and make in the echo plugin: readback (a stream's records in a
 * namespace, ordered by _sdc_sequence), list_tables (the streams),
 * namespaces (subfolders of out_dir) and check (out_dir is a writable
 * folder). It reads back the files echo.c writes.
 */
#include <dray/dray_plugin.h>

#include <dray/dray_json.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "echo_internal.h"

/* The namespace's folder: a subfolder of out_dir, or out_dir itself. */
static void ns_dir(const void *state, const char *ns, char *dir, size_t n)
{
    const char *out_dir = echo_out_dir(state);

    if (ns != NULL)
        snprintf(dir, n, "%s/%s", out_dir, ns);
    else
        snprintf(dir, n, "%s", out_dir);
}

struct row {
    long long seq;
    char *data; /* the record's JSON and a newline */
    size_t len;
};

struct rows {
    struct row *v;
    size_t n, cap;
    char **streams; /* every stream seen, once */
    size_t n_streams;
};

static void rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i].data);
    for (size_t i = 0; i < r->n_streams; i++)
        free(r->streams[i]);
    free(r->v);
    free(r->streams);
}

static int add_stream(struct rows *r, const char *name)
{
    char **grown;

    for (size_t i = 0; i < r->n_streams; i++)
        if (strcmp(r->streams[i], name) == 0)
            return 0;
    grown = realloc(r->streams, (r->n_streams + 1) * sizeof(*grown));
    if (grown == NULL)
        return -1;
    r->streams = grown;
    r->streams[r->n_streams] = strdup(name);
    return r->streams[r->n_streams++] == NULL ? -1 : 0;
}

static int add_row(struct rows *r, const struct dray_json_doc *doc)
{
    int32_t seq = dray_json_get(doc, 0, "seq", 3);
    int32_t data = dray_json_get(doc, 0, "data", 4);
    const struct dray_json_token *t;

    if (seq < 0 || data < 0)
        return -1;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        struct row *grown = realloc(r->v, cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        r->v = grown;
        r->cap = cap;
    }
    t = &doc->tok[data];
    r->v[r->n].seq = strtoll(doc->text + doc->tok[seq].offset, NULL, 10);
    r->v[r->n].data = malloc((size_t)t->len + 1);
    if (r->v[r->n].data == NULL)
        return -1;
    memcpy(r->v[r->n].data, doc->text + t->offset, t->len);
    r->v[r->n].data[t->len] = '\n';
    r->v[r->n].len = (size_t)t->len + 1;
    r->n++;
    return 0;
}

/* One file this plugin wrote: its stream, and its rows when table is its
   stream (NULL: streams only). */
static int read_file(const char *path, const char *table, struct rows *r)
{
    struct dray_json_doc doc;
    struct dray_buf stream = DRAY_BUF_INIT;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0, first = 1, wanted = 0;
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return -1;
    dray_json_doc_init(&doc);
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        if (dray_json_parse(&doc, line, (size_t)n, NULL) != 0) {
            rc = -1;
        } else if (first) {
            int32_t s = dray_json_get(&doc, 0, "stream", 6);
            if (s < 0 || dray_json_string(&doc, (uint32_t)s, &stream) != 0 ||
                add_stream(r, stream.data) != 0)
                rc = -1;
            else
                wanted = table != NULL && strcmp(stream.data, table) == 0;
            first = 0;
        } else if (wanted) {
            rc = add_row(r, &doc);
        } else {
            break;
        }
    }
    free(line);
    fclose(f);
    dray_json_doc_release(&doc);
    dray_buf_release(&stream);
    return rc;
}

/* Every <batch>.jsonl of the namespace's folder. */
static dray_status read_ns(const void *state, const char *ns, const char *table,
                           struct rows *r, dray_error *err)
{
    char dir[4096], path[4400];
    struct dirent *de;
    DIR *d;
    int rc = 0;

    ns_dir(state, ns, dir, sizeof(dir));
    d = opendir(dir);
    if (d == NULL && ns != NULL)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "no namespace '%s' (no folder '%s')", ns, dir);
    if (d == NULL)
        return dray_error_set(err, DRAY_E_CONFIG, NULL,
                              "cannot read out_dir '%s'", dir);
    while (rc == 0 && (de = readdir(d)) != NULL) {
        size_t k = strlen(de->d_name);
        if (k <= 6 || strcmp(de->d_name + k - 6, ".jsonl") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        rc = read_file(path, table, r);
    }
    closedir(d);
    if (rc != 0)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL, "cannot read '%s'",
                              path);
    return DRAY_OK;
}

static int by_seq(const void *a, const void *b)
{
    const struct row *x = a, *y = b;

    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

dray_status echo_readback(void *state, const char *ns, const char *table,
                          dray_output *out, dray_error *err)
{
    struct rows r = {0};
    dray_status st = read_ns(state, ns, table, &r, err);
    int found = 0;

    for (size_t i = 0; st == DRAY_OK && i < r.n_streams; i++)
        found |= strcmp(r.streams[i], table) == 0;
    if (st == DRAY_OK && !found)
        st = dray_error_set(err, DRAY_E_PERMANENT, NULL,
                            "no table '%s' in namespace '%s'", table,
                            ns ? ns : "(configured)");
    if (st == DRAY_OK && r.n > 1)
        qsort(r.v, r.n, sizeof(*r.v), by_seq);
    for (size_t i = 0; st == DRAY_OK && i < r.n; i++)
        st = dray_host()->output_write(out, r.v[i].data, r.v[i].len);
    rows_free(&r);
    return st;
}

dray_status echo_list_tables(void *state, const char *ns, dray_output *out,
                             dray_error *err)
{
    struct rows r = {0};
    dray_status st = read_ns(state, ns, NULL, &r, err);

    if (st == DRAY_OK && r.n_streams > 1)
        qsort(r.streams, r.n_streams, sizeof(*r.streams), by_name);
    for (size_t i = 0; st == DRAY_OK && i < r.n_streams; i++) {
        st = dray_host()->output_write(out, r.streams[i], strlen(r.streams[i]));
        if (st == DRAY_OK)
            st = dray_host()->output_write(out, "\n", 1);
    }
    rows_free(&r);
    return st;
}

dray_status echo_namespace_create(void *state, const char *ns, dray_error *err)
{
    char dir[4096];

    ns_dir(state, ns, dir, sizeof(dir));
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "cannot make folder '%s': %s", dir,
                              strerror(errno));
    return DRAY_OK;
}

dray_status echo_namespace_drop(void *state, const char *ns, dray_error *err)
{
    char dir[4096], path[4400];
    struct dirent *de;
    DIR *d;

    ns_dir(state, ns, dir, sizeof(dir));
    d = opendir(dir);
    if (d == NULL)
        return DRAY_OK; /* already gone */
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        remove(path);
    }
    closedir(d);
    if (rmdir(dir) != 0)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "cannot remove folder '%s': %s", dir,
                              strerror(errno));
    return DRAY_OK;
}

dray_status echo_check(void *state, dray_error *err)
{
    const char *out_dir = echo_out_dir(state);
    struct stat st;

    if (stat(out_dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        access(out_dir, W_OK) != 0) {
        dray_error_set(err, DRAY_E_CONFIG, NULL,
                       "out_dir '%s' is not a writable folder", out_dir);
        dray_error_hint(err, "create it, or point out_dir elsewhere");
        return DRAY_E_CONFIG;
    }
    return DRAY_OK;
}

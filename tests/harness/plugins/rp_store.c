/*
 * rp_store.c - a namespace's state file read under its lock, and the
 * tables, rows and ledger it holds in memory (rp_write.c writes it).
 *
 * state.ndjson, one JSON value a line:
 *   {"ledger":"<batch id>","rows":{...}}         a loaded batch
 *   {"table":..,"stream":..,"upsert":..,"keys":[..],"columns":[[name,stype],..]}
 *   [v, ...]                                     a row of the table above
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dray/dray_json.h>

#include "refplug.h"

#define STATE "state.ndjson"

int rp_ns_name_ok(const char *ns)
{
    size_t n = strlen(ns);

    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((ns[i] >= 'a' && ns[i] <= 'z') ||
              (ns[i] >= '0' && ns[i] <= '9') || ns[i] == '_'))
            return 0;
    return 1;
}

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- tables and rows ---- */

struct rp_table *rp_table_find(const struct rp_ns *ns, const char *name)
{
    for (size_t i = 0; i < ns->n_t; i++)
        if (strcmp(ns->t[i]->name, name) == 0)
            return ns->t[i];
    return NULL;
}

struct rp_table *rp_table_add(struct rp_ns *ns, const char *name,
                              const char *stream)
{
    struct rp_table *t;

    if (ns->n_t == ns->cap_t) {
        size_t cap = ns->cap_t ? ns->cap_t * 2 : 8;
        struct rp_table **p = realloc(ns->t, cap * sizeof(*p));
        if (p == NULL)
            return NULL;
        ns->t = p;
        ns->cap_t = cap;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->name = strdup(name);
    t->stream = strdup(stream);
    if (t->name == NULL || t->stream == NULL) {
        free(t->name);
        free(t->stream);
        free(t);
        return NULL;
    }
    ns->t[ns->n_t++] = t;
    return t;
}

int rp_col_find(const struct rp_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

int rp_col_add(struct rp_table *t, const char *name, int stype)
{
    if (t->n_cols == t->cap_cols) {
        size_t cap = t->cap_cols ? t->cap_cols * 2 : 16;
        struct rp_col *p = realloc(t->cols, cap * sizeof(*p));
        if (p == NULL)
            return -2;
        t->cols = p;
        t->cap_cols = cap;
    }
    t->cols[t->n_cols].name = strdup(name);
    if (t->cols[t->n_cols].name == NULL)
        return -2;
    t->cols[t->n_cols].stype = stype;
    return (int)t->n_cols++;
}

int rp_row_make(struct rp_row *row, char *const *texts, const size_t *lens,
                size_t n)
{
    size_t bytes = n * sizeof(char *);
    char *p;

    for (size_t i = 0; i < n; i++)
        if (texts[i] != NULL)
            bytes += lens[i] + 1;
    row->v = malloc(bytes ? bytes : 1);
    if (row->v == NULL)
        return -2;
    row->n = n;
    p = (char *)(row->v + n);
    for (size_t i = 0; i < n; i++) {
        if (texts[i] == NULL) {
            row->v[i] = NULL;
            continue;
        }
        memcpy(p, texts[i], lens[i]);
        p[lens[i]] = '\0';
        row->v[i] = p;
        p += lens[i] + 1;
    }
    return 0;
}

void rp_row_free(struct rp_row *row)
{
    free(row->v);
    row->v = NULL;
    row->n = 0;
}

int rp_row_push(struct rp_table *t, struct rp_row *row)
{
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? t->cap_rows * 2 : 64;
        struct rp_row *p = realloc(t->rows, cap * sizeof(*p));
        if (p == NULL)
            return -2;
        t->rows = p;
        t->cap_rows = cap;
    }
    t->rows[t->n_rows++] = *row;
    row->v = NULL;
    row->n = 0;
    return 0;
}

const char *rp_val(const struct rp_row *r, int c)
{
    return c >= 0 && (size_t)c < r->n ? r->v[c] : NULL;
}

void rp_rows_filter(struct rp_table *t,
                    int (*keep)(void *ctx, const struct rp_row *r), void *ctx)
{
    size_t w = 0;

    for (size_t i = 0; i < t->n_rows; i++) {
        if (keep(ctx, &t->rows[i]))
            t->rows[w++] = t->rows[i];
        else
            rp_row_free(&t->rows[i]);
    }
    t->n_rows = w;
}

static void table_free(struct rp_table *t)
{
    for (size_t i = 0; i < t->n_cols; i++)
        free(t->cols[i].name);
    for (size_t i = 0; i < t->n_rows; i++)
        rp_row_free(&t->rows[i]);
    for (size_t i = 0; i < t->n_keys; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->cols);
    free(t->rows);
    free(t->name);
    free(t->stream);
    free(t);
}

int rp_ledger_find(const struct rp_ns *ns, const char *batch_id)
{
    for (size_t i = 0; i < ns->n_l; i++)
        if (strcmp(ns->l[i].batch_id, batch_id) == 0)
            return (int)i;
    return -1;
}

int rp_ledger_add(struct rp_ns *ns, const char *batch_id, const char *line)
{
    if (ns->n_l == ns->cap_l) {
        size_t cap = ns->cap_l ? ns->cap_l * 2 : 16;
        struct rp_ledger *p = realloc(ns->l, cap * sizeof(*p));
        if (p == NULL)
            return -2;
        ns->l = p;
        ns->cap_l = cap;
    }
    ns->l[ns->n_l].batch_id = strdup(batch_id);
    ns->l[ns->n_l].line = strdup(line);
    if (ns->l[ns->n_l].batch_id == NULL || ns->l[ns->n_l].line == NULL) {
        free(ns->l[ns->n_l].batch_id);
        free(ns->l[ns->n_l].line);
        return -2;
    }
    ns->n_l++;
    return 0;
}

/* ---- reading ---- */

/* The text of token i as JSON (a string with its quotes). */
static void token_text(const struct dray_json_doc *doc, uint32_t i,
                       const char **s, size_t *n)
{
    const struct dray_json_token *t = &doc->tok[i];

    if (t->type == DRAY_JSON_STRING) {
        *s = doc->text + t->offset - 1;
        *n = (size_t)t->len + 2;
    } else {
        *s = doc->text + t->offset;
        *n = t->len;
    }
}

static char *member_str(const struct dray_json_doc *doc, uint32_t obj,
                        const char *key)
{
    struct dray_buf b = DRAY_BUF_INIT;
    int32_t i = dray_json_get(doc, obj, key, strlen(key));

    if (i < 0 || doc->tok[i].type != DRAY_JSON_STRING ||
        dray_json_string(doc, (uint32_t)i, &b) != 0) {
        dray_buf_release(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}

static int read_table(struct rp_ns *ns, const struct dray_json_doc *doc,
                      struct rp_table **cur)
{
    char *name = member_str(doc, 0, "table");
    char *stream = member_str(doc, 0, "stream");
    int32_t cols = dray_json_get(doc, 0, "columns", 7);
    int32_t keys = dray_json_get(doc, 0, "keys", 4);
    int32_t up = dray_json_get(doc, 0, "upsert", 6);
    struct rp_table *t = NULL;
    int rc = -1;

    if (name == NULL || stream == NULL || cols < 0 ||
        doc->tok[cols].type != DRAY_JSON_ARRAY)
        goto out;
    rc = -2;
    if ((t = rp_table_add(ns, name, stream)) == NULL)
        goto out;
    t->upsert = up >= 0 && doc->tok[up].type == DRAY_JSON_TRUE;
    if (keys >= 0 && doc->tok[keys].type == DRAY_JSON_ARRAY &&
        doc->tok[keys].count > 0) {
        t->keys = calloc(doc->tok[keys].count, sizeof(char *));
        if (t->keys == NULL)
            goto out;
        for (uint32_t i = (uint32_t)keys + 1; i < doc->tok[keys].end;
             i = doc->tok[i].end) {
            struct dray_buf b = DRAY_BUF_INIT;
            if (dray_json_string(doc, i, &b) != 0 || b.data == NULL) {
                dray_buf_release(&b);
                goto out;
            }
            t->keys[t->n_keys++] = b.data;
        }
    }
    for (uint32_t i = (uint32_t)cols + 1; i < doc->tok[cols].end;
         i = doc->tok[i].end) {
        struct dray_buf b = DRAY_BUF_INIT;
        int ok = doc->tok[i].type == DRAY_JSON_ARRAY &&
                 doc->tok[i].count == 2 &&
                 dray_json_string(doc, i + 1, &b) == 0 && b.data != NULL &&
                 rp_col_add(t, b.data,
                            atoi(doc->text + doc->tok[i + 2].offset)) >= 0;
        dray_buf_release(&b);
        if (!ok)
            goto out;
    }
    *cur = t;
    rc = 0;
out:
    free(name);
    free(stream);
    return rc;
}

static int read_row(struct rp_table *t, const struct dray_json_doc *doc)
{
    uint32_t n = doc->tok[0].count, k = 0;
    char **texts = calloc(n ? n : 1, sizeof(char *));
    size_t *lens = calloc(n ? n : 1, sizeof(size_t));
    struct rp_row row;
    int rc = -2;

    if (texts == NULL || lens == NULL)
        goto out;
    for (uint32_t i = 1; i < doc->n_tok; i = doc->tok[i].end, k++) {
        const char *s;
        token_text(doc, i, &s, &lens[k]);
        texts[k] = doc->tok[i].type == DRAY_JSON_NULL ? NULL : (char *)s;
    }
    rc = rp_row_make(&row, texts, lens, n);
    if (rc == 0 && (rc = rp_row_push(t, &row)) != 0)
        rp_row_free(&row);
out:
    free(texts);
    free(lens);
    return rc;
}

static int read_line(struct rp_ns *ns, struct dray_json_doc *doc,
                     const char *line, size_t len, struct rp_table **cur)
{
    int rc = dray_json_parse(doc, line, len, NULL);

    if (rc != 0)
        return rc;
    if (doc->tok[0].type == DRAY_JSON_ARRAY)
        return *cur ? read_row(*cur, doc) : -1;
    if (doc->tok[0].type != DRAY_JSON_OBJECT)
        return -1;
    if (dray_json_get(doc, 0, "table", 5) >= 0)
        return read_table(ns, doc, cur);
    {
        char *id = member_str(doc, 0, "ledger");
        char *text = dup_n(line, len);
        rc = id && text ? rp_ledger_add(ns, id, text) : -1;
        free(id);
        free(text);
    }
    return rc;
}

static dray_status read_state(struct rp_ns *ns, dray_error *err)
{
    char path[4200];
    struct dray_json_doc doc;
    struct rp_table *cur = NULL;
    char *data = NULL, *p, *end;
    struct stat st;
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/" STATE, ns->dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return DRAY_OK;
    if (fd < 0 || fstat(fd, &st) != 0 ||
        (data = malloc((size_t)st.st_size + 1)) == NULL) {
        if (fd >= 0)
            close(fd);
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "cannot read '%s': %s", path, strerror(errno));
    }
    for (off_t got = 0; got < st.st_size;) {
        ssize_t n = read(fd, data + got, (size_t)(st.st_size - got));
        if (n <= 0) {
            close(fd);
            free(data);
            return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                                  "cannot read '%s': %s", path,
                                  n < 0 ? strerror(errno) : "file shrank");
        }
        got += n;
    }
    close(fd);
    data[st.st_size] = '\0';
    dray_json_doc_init(&doc);
    for (p = data, end = data + st.st_size; rc == 0 && p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0)
            rc = read_line(ns, &doc, p, len, &cur);
        p += len + 1;
    }
    dray_json_doc_release(&doc);
    free(data);
    if (rc == -2)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    if (rc != 0)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "'%s' is damaged; remove the namespace's folder",
                              path);
    return DRAY_OK;
}

dray_status rp_ns_open(struct rp_ns *ns, const char *path, const char *name,
                       int create, int exclusive, dray_error *err)
{
    char lock[4200];
    size_t n;

    memset(ns, 0, sizeof(*ns));
    ns->lock_fd = -1;
    if (name == NULL)
        name = "main";
    if (!rp_ns_name_ok(name))
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "'%s' is not a namespace name ([a-z0-9_])", name);
    n = strlen(path) + strlen(name) + 2;
    if ((ns->dir = malloc(n)) == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    snprintf(ns->dir, n, "%s/%s", path, name);
    if (create && ((mkdir(path, 0755) != 0 && errno != EEXIST) ||
                   (mkdir(ns->dir, 0755) != 0 && errno != EEXIST)))
        return dray_error_set(err, DRAY_E_CONFIG, NULL,
                              "cannot make the folder '%s': %s", ns->dir,
                              strerror(errno));
    snprintf(lock, sizeof(lock), "%s/.lock", ns->dir);
    ns->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (ns->lock_fd < 0 && errno == ENOENT && !create)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "no namespace '%s' in '%s'", name, path);
    if (ns->lock_fd < 0 ||
        flock(ns->lock_fd, exclusive ? LOCK_EX : LOCK_SH) != 0)
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "cannot lock '%s': %s", lock, strerror(errno));
    return read_state(ns, err);
}

void rp_ns_close(struct rp_ns *ns)
{
    for (size_t i = 0; i < ns->n_t; i++)
        table_free(ns->t[i]);
    for (size_t i = 0; i < ns->n_l; i++) {
        free(ns->l[i].batch_id);
        free(ns->l[i].line);
    }
    free(ns->t);
    free(ns->l);
    free(ns->dir);
    if (ns->lock_fd >= 0)
        close(ns->lock_fd); /* drops the lock */
    memset(ns, 0, sizeof(*ns));
    ns->lock_fd = -1;
}

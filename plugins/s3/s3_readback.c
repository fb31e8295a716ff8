/*
 * s3_readback.c - the conformance harness's view of what was written:
 * the tables under a namespace, a table's rows as canonical NDJSON read
 * back from its objects, and namespaces (a sub-prefix of the URL's).
 *
 * Objects are read in key-template order (table version, then load time),
 * rows in the order they were written. CSV has no types, so every value
 * but NULL (an unquoted empty field) reads back as a string; JSON lines
 * read back as stored. docs/S3.md has the details.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "s3_load.h"

struct found {
    char *key;
    int64_t version;
    int64_t loaded_ms;
};

struct scan {
    const struct s3_plugin *p;
    size_t strip; /* the namespace prefix */
    const char *table;
    struct found *f;
    size_t n;
    struct dray_buf name;
    int nomem;
};

static int is_reject_key(const char *key)
{
    const char *at = strstr(key, "/_sdc_rejected/");
    size_t n = strlen(key);

    return at != NULL && n > 6 && strcmp(key + n - 6, ".jsonl") == 0 &&
           strchr(at + 15, '/') == NULL;
}

static int add_found(struct scan *s, const char *key, int64_t v, int64_t t)
{
    struct found *f = realloc(s->f, (s->n + 1) * sizeof(*f));

    if (f == NULL || (f[s->n].key = strdup(key)) == NULL) {
        if (f != NULL)
            s->f = f;
        s->nomem = 1;
        return 1;
    }
    s->f = f;
    f[s->n].version = v;
    f[s->n].loaded_ms = t;
    s->n++;
    return 0;
}

static int on_key(void *ctx, const char *key)
{
    struct scan *s = ctx;
    const char *rel = key + s->strip;
    int64_t v = 0, t = 0;

    if (is_reject_key(rel)) {
        if (s->table == NULL)
            return add_found(s, "_sdc_rejected", 0, 0);
        if (strcmp(s->table, "_sdc_rejected") == 0)
            return add_found(s, key, 0, 0);
        return 0;
    }
    if (!s3_template_match(&s->p->tmpl, rel, &s->name, &v, &t))
        return 0;
    if (s->table != NULL && strcmp(s->name.data, s->table) != 0)
        return 0;
    return add_found(s, s->table ? key : s->name.data, v, t);
}

static int cmp_found(const void *a, const void *b)
{
    const struct found *x = a, *y = b;

    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    if (x->loaded_ms != y->loaded_ms)
        return x->loaded_ms < y->loaded_ms ? -1 : 1;
    return strcmp(x->key, y->key);
}

static void scan_release(struct scan *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->f[i].key);
    free(s->f);
    dray_buf_release(&s->name);
}

static dray_status scan(struct s3_plugin *p, const char *ns, const char *table,
                        struct scan *s, dray_error *err)
{
    char prefix[160];
    dray_status st;

    memset(s, 0, sizeof(*s));
    s->p = p;
    s->table = table;
    snprintf(prefix, sizeof(prefix), "%s%s", ns ? ns : "", ns ? "/" : "");
    s->strip = strlen(prefix);
    st = p->store->ops->list(p->store, prefix, on_key, s, err);
    if (st == DRAY_OK && s->nomem)
        st = dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    if (st == DRAY_OK)
        qsort(s->f, s->n, sizeof(*s->f), cmp_found);
    return st;
}

/* ---- decoding ---- */

static int gunzip(const struct dray_buf *in, struct dray_buf *out)
{
    z_stream z;
    char chunk[65536];
    int rc;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return -1;
    z.next_in = (Bytef *)in->data;
    z.avail_in = (uInt)in->len;
    do {
        z.next_out = (Bytef *)chunk;
        z.avail_out = sizeof(chunk);
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END)
            break;
        dray_buf_add(out, chunk, sizeof(chunk) - z.avail_out);
        /* Concatenated gzip members, as gzip -dc reads them. */
        if (rc == Z_STREAM_END && z.avail_in > 0) {
            inflateReset(&z);
            rc = Z_OK;
        }
    } while (rc == Z_OK);
    inflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

/* One CSV field at *pos: its text in out; returns 1 when it was quoted,
   0 when not; *end set to the delimiter, newline or end that follows. */
static int csv_field(const char *s, size_t n, size_t *pos, char delim,
                     struct dray_buf *out)
{
    size_t i = *pos;
    int quoted = 0;

    dray_buf_reset(out);
    if (i < n && s[i] == '"') {
        quoted = 1;
        for (i++; i < n; i++) {
            if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') {
                dray_buf_addc(out, '"');
                i++;
            } else if (s[i] == '"') {
                i++;
                break;
            } else {
                dray_buf_addc(out, s[i]);
            }
        }
    }
    while (i < n && s[i] != delim && s[i] != '\n' && s[i] != '\r')
        dray_buf_addc(out, s[i++]);
    *pos = i;
    dray_buf_add(out, "", 0);
    return quoted;
}

static int put(dray_output *out, const char *s, size_t n)
{
    return dray_host()->output_write(out, s, n) == DRAY_OK ? 0 : -1;
}

/* Emits one object's CSV rows as NDJSON: keys from its header. */
static int csv_to_ndjson(const struct dray_buf *data, char delim,
                         dray_output *out)
{
    struct dray_buf *names = NULL, field = DRAY_BUF_INIT, line = DRAY_BUF_INIT;
    struct dray_sink sink;
    size_t n_names = 0, pos = 0, len = data->len;
    const char *s = data->data ? data->data : "";
    int rc = 0, header = 1;

    dray_sink_to_buf(&sink, &line);
    while (rc == 0 && pos < len) {
        size_t col = 0;
        dray_buf_reset(&line);
        dray_buf_addc(&line, '{');
        for (;;) {
            int quoted = csv_field(s, len, &pos, delim, &field);
            if (header) {
                struct dray_buf *nn =
                    realloc(names, (n_names + 1) * sizeof(*nn));
                if (nn == NULL) {
                    rc = -1;
                    break;
                }
                names = nn;
                names[n_names] = (struct dray_buf)DRAY_BUF_INIT;
                dray_buf_add(&names[n_names], field.data, field.len);
                dray_buf_add(&names[n_names++], "", 0);
            } else if (col < n_names) {
                if (col > 0)
                    dray_buf_addc(&line, ',');
                dray_json_write_string(&sink, names[col].data, names[col].len);
                dray_buf_addc(&line, ':');
                if (!quoted && field.len == 0)
                    dray_buf_add(&line, "null", 4);
                else
                    dray_json_write_string(&sink, field.data, field.len);
            }
            col++;
            if (pos < len && s[pos] == delim) {
                pos++;
                continue;
            }
            break;
        }
        if (pos < len && s[pos] == '\r')
            pos++;
        if (pos < len && s[pos] == '\n')
            pos++;
        if (!header && rc == 0) {
            dray_buf_add(&line, "}\n", 2);
            rc = put(out, line.data, line.len);
        }
        header = 0;
    }
    for (size_t i = 0; i < n_names; i++)
        dray_buf_release(&names[i]);
    free(names);
    dray_buf_release(&field);
    dray_buf_release(&line);
    return rc;
}

dray_status s3_readback(void *state, const char *ns, const char *table,
                        dray_output *out, dray_error *err)
{
    struct s3_plugin *p = state;
    struct dray_buf raw = DRAY_BUF_INIT, plain = DRAY_BUF_INIT;
    struct dray_sink sink;
    struct scan s;
    dray_status st = scan(p, ns, table, &s, err);

    for (size_t i = 0; st == DRAY_OK && i < s.n; i++) {
        const char *key = s.f[i].key, *rel = key + s.strip;
        size_t n = strlen(key);
        int gz = n > 3 && strcmp(key + n - 3, ".gz") == 0;
        const struct dray_buf *data = gz ? &plain : &raw;
        int csv = strstr(rel, ".csv") != NULL && !is_reject_key(rel);

        dray_buf_reset(&raw);
        dray_buf_reset(&plain);
        dray_sink_to_buf(&sink, &raw);
        st = p->store->ops->get(p->store, key, &sink, err);
        if (st != DRAY_OK)
            break;
        if (gz && gunzip(&raw, &plain) != 0) {
            st = dray_error_set(err, DRAY_E_PERMANENT, NULL,
                                "'%s' is not valid gzip", key);
            break;
        }
        if (csv ? csv_to_ndjson(data, p->delimiter, out) != 0
                : (data->len > 0 && put(out, data->data, data->len) != 0))
            st = dray_error_set(err, DRAY_E_NOMEM, NULL,
                                "could not write the rows of '%s'", key);
    }
    dray_buf_release(&raw);
    dray_buf_release(&plain);
    scan_release(&s);
    return st;
}

dray_status s3_list_tables(void *state, const char *ns, dray_output *out,
                           dray_error *err)
{
    struct s3_plugin *p = state;
    struct scan s;
    dray_status st = scan(p, ns, NULL, &s, err);

    /* Sorted by version first: print each name once. */
    for (size_t i = 0; st == DRAY_OK && i < s.n; i++) {
        const char *name = s.f[i].key;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(s.f[j].key, name) == 0;
        if (!seen && (put(out, name, strlen(name)) != 0 || put(out, "\n", 1)))
            st = dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    scan_release(&s);
    return st;
}

dray_status s3_namespace_create(void *state, const char *ns, dray_error *err)
{
    /* A prefix exists once an object is under it. */
    (void)state;
    (void)ns;
    (void)err;
    return DRAY_OK;
}

dray_status s3_namespace_drop(void *state, const char *ns, dray_error *err)
{
    struct s3_plugin *p = state;
    char prefix[160];

    if (ns == NULL || *ns == '\0')
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "namespace_drop needs a namespace");
    snprintf(prefix, sizeof(prefix), "%s/", ns);
    return p->store->ops->remove_prefix(p->store, prefix, err);
}

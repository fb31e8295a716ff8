/*
 * harness_expect.c - from an expectation's logical rows to the rows each
 * of the dialect's tables must hold (docs/HARNESS.md, "Expectations
 * through the dialect"). It follows the SDK's flattening (dray_flatten.h):
 *
 *  - objects become parent__child columns, names joined and canonicalised
 *    with dray_ident_join as the data core does;
 *  - an array becomes rows of <owner table>__<column>, each with
 *    _sdc_source_key_<key> (the root's key values), _sdc_level_<n>_id (the
 *    element's index at each array level, outermost first) and its
 *    element's fields, or a "value" column for scalars;
 *  - native and document dialects keep nested values as they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dray/dray_abi.h"
#include "dray/dray_ident.h"
#include "harness.h"

char *dray__canon_name(int ident, const char *name)
{
    struct dray_buf b = DRAY_BUF_INIT;
    int rc = dray_ident_canon(ident, name, strlen(name), &b);
    char *out;

    if (rc < 0 || (rc & DRAY_IDENT_EMPTY) || b.data == NULL) {
        dray_buf_release(&b);
        return NULL;
    }
    out = dray__xstrdup(b.data);
    dray_buf_release(&b);
    return out;
}

static char *join_name(int ident, const char *parent, const char *child)
{
    struct dray_buf b = DRAY_BUF_INIT;
    int rc = dray_ident_join(ident, parent, child, strlen(child), &b);
    char *out = NULL;

    if (rc >= 0 && !(rc & DRAY_IDENT_EMPTY) && b.data != NULL)
        out = dray__xstrdup(b.data);
    dray_buf_release(&b);
    return out;
}

struct walk {
    const struct map_opts *o;
    struct xtables *out;
    const struct hv *root; /* the logical row: the source keys' values */
    long long levels[64];  /* element indexes, outermost first */
    int depth;
    char *err;
    size_t errlen;
};

static size_t table_index(struct xtables *x, const char *name, int depth)
{
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->t[i].name, name) == 0)
            return i;
    x->t = dray__xrealloc(x->t, (x->n + 1) * sizeof(*x->t));
    memset(&x->t[x->n], 0, sizeof(x->t[x->n]));
    x->t[x->n].name = dray__xstrdup(name);
    x->t[x->n].depth = depth;
    return x->n++;
}

static void add_row(struct xtables *x, size_t t, struct hv *row)
{
    struct xtable *tb = &x->t[t];

    if (tb->n == tb->cap) {
        tb->cap = tb->cap ? tb->cap * 2 : 8;
        tb->rows = dray__xrealloc(tb->rows, tb->cap * sizeof(*tb->rows));
    }
    tb->rows[tb->n++] = row;
}

static int bad_name(struct walk *w, const char *name)
{
    snprintf(w->err, w->errlen,
             "'%s' gives no usable name in this dialect; rename it", name);
    return -1;
}

/* A copy of v whose object member names are canonical (BigQuery RECORD
   fields are columns; Snowflake VARIANT keeps a document's names). */
static struct hv *canon_nested(int ident, const struct hv *v)
{
    struct hv *c;

    if (v->t != HV_OBJ && v->t != HV_ARR)
        return dray__hv_dup(v);
    c = dray__hv_new(v->t);
    for (size_t i = 0; i < v->n; i++) {
        struct hv *m = canon_nested(ident, v->v[i]);
        if (v->t == HV_ARR) {
            dray__hv_push(c, m);
            continue;
        }
        char *name = dray__canon_name(ident, v->keys[i]);
        dray__hv_set(c, name ? name : v->keys[i], m);
        free(name);
    }
    return c;
}

static int walk_object(struct walk *w, const struct hv *obj, const char *prefix,
                       const char *table, struct hv *row);

/* The rows of one array: subtable join(table, column). */
static int walk_array(struct walk *w, const struct hv *arr, const char *column,
                      const char *table)
{
    const struct map_opts *o = w->o;
    char *sub = join_name(o->ident, table, column);
    int rc = 0;

    if (sub == NULL)
        return bad_name(w, column);
    if (w->depth >= 64) {
        free(sub);
        snprintf(w->err, w->errlen, "arrays nested over 64 levels deep");
        return -1;
    }
    size_t t = table_index(w->out, sub, w->depth + 1);
    for (size_t i = 0; rc == 0 && i < arr->n; i++) {
        const struct hv *el = arr->v[i];
        struct hv *row = dray__hv_new(HV_OBJ);
        char raw[600];
        w->levels[w->depth++] = (long long)i;
        /* Keyless roots get a generated source key the harness cannot
           know; then only the levels are expected. */
        for (size_t k = 0; k < o->n_keys; k++) {
            const struct hv *kv = dray__hv_get(w->root, o->keys[k]);
            snprintf(raw, sizeof(raw), "_sdc_source_key_%s", o->keys[k]);
            char *col = dray__canon_name(o->ident, raw);
            if (kv != NULL && col != NULL)
                dray__hv_set(row, col, dray__hv_dup(kv));
            free(col);
        }
        for (int l = 0; l < w->depth; l++) {
            char num[32];
            snprintf(raw, sizeof(raw), "_sdc_level_%d_id", l);
            snprintf(num, sizeof(num), "%lld", w->levels[l]);
            char *col = dray__canon_name(o->ident, raw);
            dray__hv_set(row, col, dray__hv_num(num));
            free(col);
        }
        if (el->t == HV_OBJ) {
            rc = walk_object(w, el, NULL, sub, row);
        } else if (el->t == HV_ARR) {
            /* An array of arrays: the inner ones are the subtable of the
               element's "value". */
            char *val = dray__canon_name(o->ident, "value");
            rc = walk_array(w, el, val, sub);
            free(val);
        } else {
            char *val = dray__canon_name(o->ident, "value");
            dray__hv_set(row, val, dray__hv_dup(el));
            free(val);
        }
        w->depth--;
        add_row(w->out, t, row);
    }
    free(sub);
    return rc;
}

static int walk_object(struct walk *w, const struct hv *obj, const char *prefix,
                       const char *table, struct hv *row)
{
    const struct map_opts *o = w->o;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < obj->n; i++) {
        const char *k = obj->keys[i];
        const struct hv *v = obj->v[i];
        char *col = prefix ? join_name(o->ident, prefix, k)
                           : dray__canon_name(o->ident, k);
        if (col == NULL)
            return bad_name(w, k);
        if (o->nesting != DRAY_NEST_FLATTEN)
            dray__hv_set(row, col,
                         o->native_canon_keys ? canon_nested(o->ident, v)
                                              : dray__hv_dup(v));
        else if (v->t == HV_OBJ)
            rc = walk_object(w, v, col, table, row);
        else if (v->t == HV_ARR)
            rc = walk_array(w, v, col, table);
        else
            dray__hv_set(row, col, dray__hv_dup(v));
        free(col);
    }
    return rc;
}

int dray__map_rows(const struct map_opts *o, const char *name,
                   struct hv *const *rows, size_t n, struct xtables *out,
                   char *err, size_t errlen)
{
    char *root = dray__canon_name(o->ident, name);
    struct walk w;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    if (root == NULL) {
        snprintf(err, errlen, "table '%s' gives no usable name", name);
        return -1;
    }
    size_t t = table_index(out, root, 0);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct hv *row = dray__hv_new(HV_OBJ);
        memset(&w, 0, sizeof(w));
        w.o = o;
        w.out = out;
        w.root = rows[i];
        w.err = err;
        w.errlen = errlen;
        rc = walk_object(&w, rows[i], NULL, root, row);
        add_row(out, t, row);
    }
    free(root);
    if (rc != 0)
        dray__xtables_release(out);
    return rc;
}

void dray__xtables_release(struct xtables *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->t[i].name);
        for (size_t k = 0; k < x->t[i].n; k++)
            dray__hv_free(x->t[i].rows[k]);
        free(x->t[i].rows);
    }
    free(x->t);
    memset(x, 0, sizeof(*x));
}

/*
 * rp_readback.c - a table's rows as canonical NDJSON, in the ABI's order
 * (docs/ABI.md "Readback and namespaces"): by the primary key; subtables
 * by their source keys, then level ids; tables without keys by
 * _sdc_sequence; every column last, so the order is total.
 */
#include <stdlib.h>
#include <string.h>

#include <dray/dray_json.h>

#include "refplug.h"

struct order {
    int *cols;
    size_t n;
};

static int is_int(const char *v)
{
    if (*v == '-')
        v++;
    if (*v < '0' || *v > '9')
        return 0;
    while (*v >= '0' && *v <= '9')
        v++;
    return *v == '\0';
}

/* Integers by value, else the JSON texts bytewise; NULL last. */
static int cmp_val(const char *a, const char *b)
{
    int an, bn;

    if (a == NULL || b == NULL)
        return (a == NULL) - (b == NULL);
    an = is_int(a);
    bn = is_int(b);
    if (an && bn) {
        int neg_a = *a == '-', neg_b = *b == '-';
        size_t la = strlen(a), lb = strlen(b);
        int c;
        if (neg_a != neg_b)
            return neg_a ? -1 : 1;
        c = la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
        return neg_a ? -c : c;
    }
    if (an != bn)
        return an ? -1 : 1;
    return strcmp(a, b);
}

static int cmp_rows(const struct order *o, const struct rp_row *a,
                    const struct rp_row *b)
{
    for (size_t i = 0; i < o->n; i++) {
        int c = cmp_val(rp_val(a, o->cols[i]), rp_val(b, o->cols[i]));
        if (c != 0)
            return c;
    }
    return 0;
}

/* A merge sort, stable and with a context (qsort has neither). */
static void sort_rows(const struct order *o, const struct rp_row **v,
                      const struct rp_row **tmp, size_t n)
{
    size_t h = n / 2, i = 0, j = h, k = 0;

    if (n < 2)
        return;
    sort_rows(o, v, tmp, h);
    sort_rows(o, v + h, tmp, n - h);
    while (i < h && j < n)
        tmp[k++] = cmp_rows(o, v[j], v[i]) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

static void add(struct order *o, int c)
{
    if (c >= 0)
        o->cols[o->n++] = c;
}

static void order_of(const struct rp_table *t, struct order *o)
{
    if (t->upsert)
        for (size_t k = 0; k < t->n_keys; k++)
            add(o, rp_col_find(t, t->keys[k]));
    for (size_t c = 0; !t->upsert && c < t->n_cols; c++)
        if (strncmp(t->cols[c].name, "_sdc_source_key_", 16) == 0)
            add(o, (int)c);
    for (size_t c = 0; !t->upsert && c < t->n_cols; c++)
        if (strncmp(t->cols[c].name, "_sdc_level_", 11) == 0)
            add(o, (int)c);
    add(o, rp_col_find(t, "_sdc_sequence"));
    for (size_t c = 0; c < t->n_cols; c++)
        add(o, (int)c);
}

static int sink_buf(void *ctx, const void *data, size_t len)
{
    return dray_buf_add(ctx, data, len);
}

dray_status rp_readback(const struct rp_table *t, dray_output *out,
                        dray_error *err)
{
    const struct dray_host_api *h = dray_host();
    struct order o = {NULL, 0};
    const struct rp_row **v = malloc((t->n_rows + 1) * sizeof(*v));
    const struct rp_row **tmp = malloc((t->n_rows + 1) * sizeof(*tmp));
    struct dray_buf line = DRAY_BUF_INIT;
    struct dray_sink sink = {sink_buf, NULL, &line};
    dray_status st = DRAY_OK;

    o.cols = malloc((2 * t->n_cols + t->n_keys + 1) * sizeof(int));
    if (v == NULL || tmp == NULL || o.cols == NULL) {
        st = dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    order_of(t, &o);
    for (size_t r = 0; r < t->n_rows; r++)
        v[r] = &t->rows[r];
    sort_rows(&o, v, tmp, t->n_rows);
    for (size_t r = 0; st == DRAY_OK && r < t->n_rows; r++) {
        int rc = dray_buf_addc(&line, '{');
        for (size_t c = 0; rc == 0 && c < t->n_cols; c++) {
            const char *val = rp_val(v[r], (int)c);
            rc = c ? dray_buf_addc(&line, ',') : 0;
            rc = rc ? rc
                    : dray_json_write_string(&sink, t->cols[c].name,
                                             strlen(t->cols[c].name));
            rc = rc ? rc : dray_buf_addc(&line, ':');
            rc = rc ? rc
                    : dray_buf_add(&line, val ? val : "null",
                                   strlen(val ? val : "null"));
        }
        rc = rc ? rc : dray_buf_add(&line, "}\n", 2);
        if (rc != 0) {
            st = dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
            break;
        }
        st = h->output_write(out, line.data, line.len);
        dray_buf_reset(&line);
    }
out:
    dray_buf_release(&line);
    free(o.cols);
    free(v);
    free(tmp);
    return st;
}

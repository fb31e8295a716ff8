/*
 * harness_compare.c - expected rows against the rows read back.
 *
 * Rows compare as multisets over the columns the expectation names: each
 * row becomes the canonical texts of those columns (harness_value.c), and
 * sorting both sides pairs equal rows. Expected rows that leave some of
 * those columns out are matched afterwards, one by one. Then, when every
 * row matched, the readback's order is checked against the ABI's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"

/* Diff lines shown per table; the rest are counted. */
#define MAX_DIFF_LINES 40

struct keyed {
    char *key;
    size_t row;
    int sign; /* '-' expected, '+' actual */
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    if (x->sign != y->sign)
        return x->sign == '-' ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

struct cols {
    const char **name;
    int *absent; /* "$absent" somewhere: the column must not exist */
    size_t n;
};

static void collect_cols(struct hv *const *exp, size_t ne, struct cols *c)
{
    size_t cap = 0;

    memset(c, 0, sizeof(*c));
    for (size_t r = 0; r < ne; r++)
        for (size_t i = 0; i < exp[r]->n; i++) {
            size_t k;
            for (k = 0; k < c->n && strcmp(c->name[k], exp[r]->keys[i]); k++)
                ;
            if (k == c->n) {
                if (c->n == cap) {
                    cap = cap ? cap * 2 : 16;
                    c->name = dray__xrealloc(c->name, cap * sizeof(char *));
                    c->absent = dray__xrealloc(c->absent, cap * sizeof(int));
                }
                c->name[k] = exp[r]->keys[i];
                c->absent[k] = 0;
                c->n++;
            }
            if (dray__hv_is_absent(exp[r]->v[i]))
                c->absent[k] = 1;
        }
}

/* The key of a row over the columns; 0 when an expected row leaves one
   out (it is matched one by one). */
static int row_key(const struct hv *row, const struct cols *c, int files,
                   int expected, struct dray_buf *out)
{
    static const struct hv null_value = {HV_NULL, NULL, 0, 0, 0, NULL, NULL};
    int full = 1;

    dray_buf_reset(out);
    for (size_t i = 0; i < c->n; i++) {
        if (c->absent[i])
            continue;
        const struct hv *v = dray__hv_get(row, c->name[i]);
        if (expected && v == NULL)
            full = 0;
        dray__hv_canon(out, v ? v : &null_value, files);
        dray__xadd(out, "\x1f", 1);
    }
    dray__xadd(out, "", 0);
    return full;
}

/* An expected row that names only some columns, against an actual row. */
static int partial_match(const struct hv *e, const struct hv *a, int files)
{
    struct dray_buf x = DRAY_BUF_INIT, y = DRAY_BUF_INIT;
    int same = 1;

    for (size_t i = 0; same && i < e->n; i++) {
        const struct hv *av = dray__hv_get(a, e->keys[i]);
        if (dray__hv_is_absent(e->v[i]))
            continue;
        dray_buf_reset(&x);
        dray_buf_reset(&y);
        dray__hv_canon(&x, e->v[i], files);
        if (av != NULL)
            dray__hv_canon(&y, av, files);
        else
            dray__xadds(&y, "n");
        same = strcmp(x.data, y.data) == 0;
    }
    dray_buf_release(&x);
    dray_buf_release(&y);
    return same;
}

/* An actual row shown with the expectation's columns only. */
static void show_actual(struct dray_buf *out, const struct hv *a,
                        const struct cols *c)
{
    struct hv proj = {HV_OBJ, NULL, 0, 0, 0, NULL, NULL};
    struct hv **vals = dray__xmalloc((c->n + 1) * sizeof(*vals));
    char **keys = dray__xmalloc((c->n + 1) * sizeof(*keys));

    proj.v = vals;
    proj.keys = keys;
    for (size_t i = 0; i < c->n; i++) {
        struct hv *v = dray__hv_get(a, c->name[i]);
        if (v != NULL && !c->absent[i]) {
            keys[proj.n] = (char *)c->name[i];
            vals[proj.n++] = v;
        }
    }
    dray__hv_write(out, &proj);
    free(vals);
    free(keys);
}

static void write_diff(struct dray_buf *diff, const char *table,
                       struct keyed *lines, size_t n, struct hv *const *exp,
                       struct hv *const *act, const struct cols *c)
{
    qsort(lines, n, sizeof(*lines), cmp_keyed);
    dray__xaddf(diff, "  table %s:\n", table);
    for (size_t i = 0; i < n && i < MAX_DIFF_LINES; i++) {
        dray__xaddf(diff, "  %c ", lines[i].sign);
        if (lines[i].sign == '-')
            dray__hv_write(diff, exp[lines[i].row]);
        else
            show_actual(diff, act[lines[i].row], c);
        dray__xadds(diff, "\n");
    }
    if (n > MAX_DIFF_LINES)
        dray__xaddf(diff, "  ... and %zu more\n", n - MAX_DIFF_LINES);
}

static int level_col(const char *name, long *level)
{
    char *end;

    if (strncasecmp(name, "_sdc_level_", 11) != 0)
        return 0;
    *level = strtol(name + 11, &end, 10);
    return end != name + 11 && strcasecmp(end, "_id") == 0;
}

/* The columns a subtable's rows are ordered by: its source keys, then its
   levels, outermost first. */
static size_t subtable_order(const struct hv *row, const char **out, size_t max)
{
    size_t n = 0;
    long want = 0, lv;

    for (size_t i = 0; i < row->n && n < max; i++)
        if (strncasecmp(row->keys[i], "_sdc_source_key_", 16) == 0)
            out[n++] = row->keys[i];
    for (int found = 1; found && n < max; want++) {
        found = 0;
        for (size_t i = 0; i < row->n; i++)
            if (level_col(row->keys[i], &lv) && lv == want) {
                out[n++] = row->keys[i];
                found = 1;
                break;
            }
    }
    return n;
}

/* 0 in order; 1 out of order, with the message and the two rows. */
static int check_order(const char *table, struct hv *const *act, size_t na,
                       const struct order_spec *ord, struct dray_buf *diff,
                       char *msg, size_t msglen)
{
    const char *cols[80];
    size_t nc = 0;

    if (ord == NULL || ord->kind == ORDER_NONE || na < 2)
        return 0;
    if (ord->kind == ORDER_SUBTABLE)
        nc = subtable_order(act[0], cols, 80);
    for (size_t i = 0; ord->kind == ORDER_COLUMNS && i < ord->n && i < 80; i++)
        cols[nc++] = ord->cols[i];
    for (size_t r = 1; r < na; r++) {
        int c = 0;
        for (size_t k = 0; c == 0 && k < nc; k++) {
            const struct hv *a = dray__hv_get(act[r - 1], cols[k]);
            const struct hv *b = dray__hv_get(act[r], cols[k]);
            c = a && b ? dray__hv_order(a, b) : 2;
        }
        if (c != 1)
            continue;
        struct dray_buf by = DRAY_BUF_INIT;
        for (size_t k = 0; k < nc; k++)
            dray__xaddf(&by, "%s%s", k ? ", " : "", cols[k]);
        snprintf(msg, msglen,
                 "table '%s': rows out of order: row %zu comes after row %zu "
                 "but sorts before it by (%s)",
                 table, r + 1, r, by.data);
        dray__xaddf(diff, "  table %s, rows %zu and %zu:\n    ", table, r,
                    r + 1);
        dray__hv_write(diff, act[r - 1]);
        dray__xadds(diff, "\n    ");
        dray__hv_write(diff, act[r]);
        dray__xadds(diff, "\n");
        dray_buf_release(&by);
        return 1;
    }
    return 0;
}

int dray__cmp_table(const char *table, struct hv *const *exp, size_t ne,
                    struct hv *const *act, size_t na,
                    const struct order_spec *ord, int files,
                    struct dray_buf *diff, char *msg, size_t msglen)
{
    struct cols c;
    struct keyed *ek = dray__xcalloc(ne + 1, sizeof(*ek));
    struct keyed *ak = dray__xcalloc(na + 1, sizeof(*ak));
    char *e_used = dray__xcalloc(ne + 1, 1), *a_used = dray__xcalloc(na + 1, 1);
    size_t nfull = 0, missing = 0, extra = 0, nlines = 0;
    struct keyed *lines;
    struct dray_buf key = DRAY_BUF_INIT;
    int rc = 0;

    collect_cols(exp, ne, &c);
    for (size_t i = 0; i < c.n; i++)
        for (size_t r = 0; c.absent[i] && r < na; r++)
            if (dray__hv_get(act[r], c.name[i]) != NULL) {
                snprintf(msg, msglen,
                         "table '%s': column '%s' exists but must not", table,
                         c.name[i]);
                dray__xaddf(diff, "  table %s has column %s:\n  + ", table,
                            c.name[i]);
                dray__hv_write(diff, act[r]);
                dray__xadds(diff, "\n");
                rc = 1;
                goto out;
            }

    /* Sort both sides by key and pair equal keys. */
    for (size_t r = 0; r < ne; r++)
        if (row_key(exp[r], &c, files, 1, &key)) {
            ek[nfull].key = dray__xstrdup(key.data);
            ek[nfull].row = r;
            ek[nfull++].sign = '-';
        }
    for (size_t r = 0; r < na; r++) {
        row_key(act[r], &c, files, 0, &key);
        ak[r].key = dray__xstrdup(key.data);
        ak[r].row = r;
        ak[r].sign = '+';
    }
    qsort(ek, nfull, sizeof(*ek), cmp_keyed);
    qsort(ak, na, sizeof(*ak), cmp_keyed);
    for (size_t i = 0, j = 0; i < nfull && j < na;) {
        int d = strcmp(ek[i].key, ak[j].key);
        if (d == 0) {
            e_used[ek[i].row] = a_used[ak[j].row] = 1;
            i++, j++;
        } else if (d < 0) {
            i++;
        } else {
            j++;
        }
    }
    /* Rows that name only some columns: the first free row that fits. */
    for (size_t r = 0; r < ne; r++) {
        if (e_used[r] || row_key(exp[r], &c, files, 1, &key))
            continue;
        for (size_t j = 0; j < na; j++)
            if (!a_used[ak[j].row] &&
                partial_match(exp[r], act[ak[j].row], files)) {
                e_used[r] = a_used[ak[j].row] = 1;
                break;
            }
    }

    lines = dray__xcalloc(ne + na + 1, sizeof(*lines));
    for (size_t r = 0; r < ne; r++)
        if (!e_used[r]) {
            row_key(exp[r], &c, files, 1, &key);
            lines[nlines].key = dray__xstrdup(key.data);
            lines[nlines].row = r;
            lines[nlines++].sign = '-';
            missing++;
        }
    for (size_t j = 0; j < na; j++)
        if (!a_used[ak[j].row]) {
            lines[nlines].key = dray__xstrdup(ak[j].key);
            lines[nlines].row = ak[j].row;
            lines[nlines++].sign = '+';
            extra++;
        }
    if (nlines > 0) {
        char m1[64] = "", m2[64] = "";
        if (missing)
            snprintf(m1, sizeof(m1), "%zu expected row%s missing%s", missing,
                     missing == 1 ? "" : "s", extra ? ", " : "");
        if (extra)
            snprintf(m2, sizeof(m2), "%zu row%s not expected", extra,
                     extra == 1 ? "" : "s");
        snprintf(msg, msglen, "table '%s': %s%s (%zu read back)", table, m1, m2,
                 na);
        write_diff(diff, table, lines, nlines, exp, act, &c);
        rc = 1;
    } else {
        rc = check_order(table, act, na, ord, diff, msg, msglen);
    }
    for (size_t i = 0; i < nlines; i++)
        free(lines[i].key);
    free(lines);
out:
    for (size_t i = 0; i < nfull; i++)
        free(ek[i].key);
    for (size_t i = 0; i < na; i++)
        free(ak[i].key);
    free(ek);
    free(ak);
    free(e_used);
    free(a_used);
    free(c.name);
    free(c.absent);
    dray_buf_release(&key);
    return rc;
}

int dray__parse_rows(const char *text, size_t len, struct hv ***rows, size_t *n,
                     char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    size_t cap = 0;
    int line = 0;

    *rows = NULL;
    *n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char why[200];
        struct hv *row;
        line++;
        if (l == 0 || (l == 1 && *p == '\r')) {
            p += l + 1;
            continue;
        }
        row = dray__hv_parse(p, l, why, sizeof(why));
        if (row == NULL || row->t != HV_OBJ) {
            snprintf(err, errlen, "line %d: %s", line,
                     row ? "a row must be a JSON object" : why);
            dray__hv_free(row);
            dray__rows_free(*rows, *n);
            *rows = NULL;
            *n = 0;
            return -1;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *rows = dray__xrealloc(*rows, cap * sizeof(**rows));
        }
        (*rows)[(*n)++] = row;
        p += l + 1;
    }
    return 0;
}

void dray__rows_free(struct hv **rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dray__hv_free(rows[i]);
    free(rows);
}

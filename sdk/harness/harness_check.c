/*
 * harness_check.c - after a scenario's steps: the tables read back through
 * `dray __plugin-op` and compared with its [expect] sections through the
 * plugin's dialect, [expect-tables] and [expect-rejects].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dray/dray_abi.h"
#include "dray/dray_ident.h"
#include "harness.h"

static int list_tables(struct run_ctx *c, char ***names, size_t *n)
{
    struct proc_result pr;
    const char *p, *end;

    *names = NULL;
    *n = 0;
    if (dray__plugin_op(c, "list-tables", NULL, &pr) != 0)
        return -1;
    if (dray__expect_exit(c, "list-tables", &pr, 0) != 0) {
        dray__proc_release(&pr);
        return -1;
    }
    for (p = pr.out.data, end = p + pr.out.len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0) {
            *names = dray__xrealloc(*names, (*n + 1) * sizeof(char *));
            (*names)[(*n)++] = dray__xstrndup(p, len);
        }
        p += len + 1;
    }
    dray__proc_release(&pr);
    return 0;
}

static int listed(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

static void check_tables(struct run_ctx *c, char *const *have, size_t n_have)
{
    const struct scenario *s = c->s;
    struct dray_buf missing = DRAY_BUF_INIT, extra = DRAY_BUF_INIT;
    char **want = dray__xcalloc(s->n_expect_tables + 1, sizeof(char *));

    for (size_t i = 0; i < s->n_expect_tables; i++) {
        want[i] = dray__canon_name(c->h->pi->ident, s->expect_tables[i]);
        if (want[i] == NULL)
            want[i] = dray__xstrdup(s->expect_tables[i]);
        if (!listed(have, n_have, want[i]))
            dray__xaddf(&missing, " %s", want[i]);
    }
    for (size_t i = 0; i < n_have; i++)
        if (!listed(want, s->n_expect_tables, have[i]))
            dray__xaddf(&extra, " %s", have[i]);
    if (missing.len || extra.len)
        dray__fail(c, "tables differ:%s%s%s%s%s", missing.len ? " missing" : "",
                   missing.len ? missing.data : "",
                   missing.len && extra.len ? ";" : "",
                   extra.len ? " unexpected" : "", extra.len ? extra.data : "");
    dray__strv_free(want, s->n_expect_tables);
    dray_buf_release(&missing);
    dray_buf_release(&extra);
}

static int read_table(struct run_ctx *c, const char *table, struct hv ***rows,
                      size_t *n)
{
    struct proc_result pr;
    char why[300];
    int rc;

    if (dray__plugin_op(c, "readback", table, &pr) != 0)
        return -1;
    rc = dray__expect_exit(c, "readback", &pr, 0);
    if (rc == 0 && dray__parse_rows(pr.out.data, pr.out.len, rows, n, why,
                                    sizeof(why)) != 0) {
        dray__fail(c, "readback of '%s' is not NDJSON: %s", table, why);
        rc = -1;
    }
    dray__proc_release(&pr);
    return rc;
}

int dray__order_rule(const struct scenario *s, const char *stream, int mode,
                     int depth, int *by_sequence)
{
    char **keys;
    size_t n_keys;
    int has_schema = dray__scn_keys(s, stream, &keys, &n_keys);
    int keyed = has_schema && n_keys > 0 && mode == DRAY_MODE_UPSERT;

    dray__strv_free(keys, n_keys);
    *by_sequence = 0;
    /* After a key change the table is appended to (docs/POSTGRES.md "Key
       change"), or stopped: neither key orders its rows any more. */
    if (keyed && dray__scn_key_changed(s, stream))
        return ORDER_NONE;
    if (depth > 0)
        return keyed ? ORDER_SUBTABLE : ORDER_NONE;
    if (keyed)
        return ORDER_COLUMNS;
    *by_sequence = has_schema;
    return has_schema ? ORDER_COLUMNS : ORDER_NONE;
}

static void check_expect(struct run_ctx *c, const struct scn_expect *e,
                         char *const *have, size_t n_have, int *n_failed)
{
    const struct plugin_info *pi = c->h->pi;
    struct map_opts o = {pi->ident, pi->nesting, 0, NULL, 0};
    struct xtables x;
    char why[300], msg[512];

    dray__scn_keys(c->s, e->table, &o.keys, &o.n_keys);
    o.native_canon_keys =
        pi->ident == DRAY_IDENT_BIGQUERY && pi->nesting == DRAY_NEST_NATIVE;
    if (dray__map_rows(&o, e->table, e->rows, e->n_rows, &x, why,
                       sizeof(why)) != 0) {
        dray__fail(c, "[expect %s]: %s", e->table, why);
        dray__strv_free(o.keys, o.n_keys);
        return;
    }
    for (size_t t = 0; t < x.n; t++) {
        struct xtable *xt = &x.t[t];
        struct hv **rows = NULL;
        size_t n = 0;
        struct order_spec ord = {ORDER_NONE, NULL, 0};
        char *seq = dray__canon_name(pi->ident, "_sdc_sequence");
        char **keycols = dray__xcalloc(o.n_keys + 1, sizeof(char *));
        for (size_t k = 0; k < o.n_keys; k++)
            keycols[k] = dray__canon_name(pi->ident, o.keys[k]);
        /* The ABI's order (docs/HARNESS.md): upserted tables by their
           key (subtables: source keys, then levels); appended root tables
           by _sdc_sequence; appended subtables are not checked (their
           order across records is the destination's), nor tables whose
           key changed. */
        int by_seq;
        ord.kind =
            dray__order_rule(c->s, e->table, c->mode, xt->depth, &by_seq);
        if (ord.kind == ORDER_COLUMNS && by_seq)
            ord = (struct order_spec){ORDER_COLUMNS, &seq, 1};
        else if (ord.kind == ORDER_COLUMNS)
            ord = (struct order_spec){ORDER_COLUMNS, keycols, o.n_keys};
        if (listed(have, n_have, xt->name) &&
            read_table(c, xt->name, &rows, &n) != 0) {
            free(seq);
            dray__strv_free(keycols, o.n_keys);
            break;
        }
        if (e->empty && t == 0 && n > 0) {
            snprintf(msg, sizeof(msg),
                     "table '%s' holds %zu row%s, expected none", xt->name, n,
                     n == 1 ? "" : "s");
            dray__xaddf(&c->r->diff, "  table %s:\n", xt->name);
            for (size_t i = 0; i < n && i < 10; i++) {
                dray__xadds(&c->r->diff, "  + ");
                dray__hv_write(&c->r->diff, rows[i]);
                dray__xadds(&c->r->diff, "\n");
            }
            if ((*n_failed)++ == 0)
                dray__fail(c, "%s", msg);
        } else if (!e->empty && dray__cmp_table(xt->name, xt->rows, xt->n, rows,
                                                n, &ord, pi->files, &c->r->diff,
                                                msg, sizeof(msg)) != 0) {
            if ((*n_failed)++ == 0)
                dray__fail(c, "%s", msg);
        }
        dray__rows_free(rows, n);
        free(seq);
        dray__strv_free(keycols, o.n_keys);
    }
    dray__xtables_release(&x);
    dray__strv_free(o.keys, o.n_keys);
}

static void check_rejects(struct run_ctx *c)
{
    const char *args[] = {"status", "-c", c->cfg, "--json", NULL};
    struct proc_result pr;
    struct hv *root = NULL, *dests;
    char why[200], want[32], got[32] = "none";

    if (dray__run_dray(c, args, NULL, NULL, &pr) != 0)
        return;
    if (dray__expect_exit(c, "dray status", &pr, 0) == 0)
        root = dray__hv_parse(pr.out.data, pr.out.len, why, sizeof(why));
    dests = dray__hv_get(root, "destinations");
    for (size_t i = 0; dests && dests->t == HV_ARR && i < dests->n; i++) {
        struct hv *name = dray__hv_get(dests->v[i], "name");
        struct hv *rej = dray__hv_get(dests->v[i], "rows_rejected");
        if (name && name->t == HV_STR && strcmp(name->s, "dut") == 0 && rej &&
            rej->t == HV_NUM)
            snprintf(got, sizeof(got), "%s", rej->s);
    }
    snprintf(want, sizeof(want), "%ld", c->s->expect_rejects);
    if (strcmp(got, want) != 0)
        dray__fail(c, "expected %s rejected records, dray status says %s", want,
                   got);
    dray__hv_free(root);
    dray__proc_release(&pr);
}

void dray__run_checks(struct run_ctx *c)
{
    const struct scenario *s = c->s;
    char **have = NULL;
    size_t n_have = 0;
    int n_failed = 0;

    if (s->n_expects > 0 || s->has_expect_tables) {
        if (list_tables(c, &have, &n_have) != 0)
            return;
        if (s->has_expect_tables)
            check_tables(c, have, n_have);
        for (size_t i = 0; i < s->n_expects; i++)
            check_expect(c, &s->expects[i], have, n_have, &n_failed);
        if (n_failed > 1)
            snprintf(c->r->msg + strlen(c->r->msg),
                     sizeof(c->r->msg) - strlen(c->r->msg), "; %d more table%s",
                     n_failed - 1, n_failed > 2 ? "s differ" : " differs");
    }
    if (s->expect_rejects >= 0)
        check_rejects(c);
    if (c->stats[0] && c->r->status != RES_FAIL)
        dray__run_resource_checks(c);
    dray__strv_free(have, n_have);
}

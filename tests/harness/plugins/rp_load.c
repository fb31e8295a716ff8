/*
 * rp_load.c - a batch's rows into a namespace's tables, with Stitch's
 * semantics through the SDK's flattener (reference stitch-semantics.md
 * §4, §5.1, §6): the stored tables follow the table set (new tables and
 * columns, split renames); upsert with the _sdc_sequence guard and child
 * rows replaced, or append; ACTIVATE_VERSION.
 *
 * The broken variants of tests/harness/ are this file and rp_batch.c
 * compiled with one of BROKEN_DROP_ROW, BROKEN_DUP_REPLAY,
 * BROKEN_NO_SEQUENCE, BROKEN_LOSE_NESTED, BROKEN_SEGFAULT or
 * BROKEN_EARLY_OK; each breaks one promise, and the conformance harness
 * must notice.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dray/dray_json.h>

#include "rp_load.h"
#include "rp_map.h"

/* ---- values ---- */

/* The canonical JSON of a field (docs/ABI.md): integers as numbers,
   decimals, floats and timestamps as strings. */
static int field_json(struct dray_buf *b, const struct dray_field *f, int stype)
{
    struct dray_sink sink;

    dray_sink_to_buf(&sink, b);
    switch (f->kind) {
    case DRAY_F_BOOL:
        return dray_buf_add(b, f->i64 ? "true" : "false", f->i64 ? 4 : 5);
    case DRAY_F_INT:
        return dray_buf_add(b, f->text, f->len);
    case DRAY_F_DECIMAL:
        if (stype == DRAY_ST_BIGINT)
            return dray_buf_add(b, f->text, f->len);
        break;
    default:
        break;
    }
    return dray_json_write_string(&sink, f->text, f->len);
}

/* The key of row r at columns cols: their texts joined by \x1f. */
static char *key_of(const struct rp_row *r, const int *cols, size_t n)
{
    struct dray_buf b = DRAY_BUF_INIT;

    for (size_t i = 0; i < n; i++) {
        const char *v = rp_val(r, cols[i]);
        if ((i && dray_buf_addc(&b, '\x1f') != 0) ||
            dray_buf_add(&b, v ? v : "\x1e", strlen(v ? v : "\x1e")) != 0) {
            dray_buf_release(&b);
            return NULL;
        }
    }
    return b.data ? b.data : strdup("");
}

static int root_key_cols(const struct rp_table *t, int *cols)
{
    for (size_t k = 0; k < t->n_keys; k++)
        if ((cols[k] = rp_col_find(t, t->keys[k])) < 0)
            return -1;
    return 0;
}

/* _sdc_source_key_* columns of a subtable, in key order. */
static size_t source_key_cols(const struct rp_table *t, int *cols)
{
    size_t n = 0;

    for (size_t c = 0; c < t->n_cols; c++)
        if (strncmp(t->cols[c].name, "_sdc_source_key_", 16) == 0)
            cols[n++] = (int)c;
    return n;
}

/* ---- tables: the stored ones follow the table set ---- */

static int copy_keys(struct load *L, struct rp_table *t)
{
    t->keys = calloc(L->info.n_key_properties + 1, sizeof(char *));
    if (t->keys == NULL)
        return -2;
    for (uint32_t k = 0; k < L->info.n_key_properties; k++)
        if ((t->keys[t->n_keys++] = strdup(L->keys[k])) == NULL)
            return -2;
    return 0;
}

/* Creates the tables, renames and columns the table set asks for, and
   maps its columns onto the stored ones. */
int rp_apply_ddl(struct load *L)
{
    size_t n = dray_tableset_count(L->ts);
    struct rp_table **tt = realloc(L->tt, n * sizeof(*tt));
    int **cmap = tt ? realloc(L->cmap, n * sizeof(*cmap)) : NULL;

    if (tt)
        L->tt = tt;
    if (cmap == NULL)
        return -2;
    L->cmap = cmap;
    for (size_t i = L->n_tt; i < n; i++)
        L->cmap[i] = NULL;
    L->n_tt = n;
    for (size_t i = 0; i < n; i++) {
        const struct dray_table *tb = dray_tableset_table(L->ts, i);
        struct rp_table *t = rp_table_find(L->ns, tb->name);
        int *map = realloc(L->cmap[i], (tb->n_cols + 1) * sizeof(int));

        if (map == NULL)
            return -2;
        L->cmap[i] = map;
        if (t == NULL) {
            t = rp_table_add(L->ns, tb->name, L->info.stream);
            if (t == NULL)
                return -2;
            if (tb->parent < 0 && L->upsert) {
                t->upsert = 1;
                if (copy_keys(L, t) != 0)
                    return -2;
            }
        }
        if (tb->parent < 0)
            L->root = t;
        L->tt[i] = t;
        for (size_t c = 0; c < tb->n_cols; c++) {
            const struct dray_column *col = &tb->cols[c];
            int k;
            if ((col->flags & DRAY_COL_RENAME) && col->old_name != NULL &&
                (k = rp_col_find(t, col->old_name)) >= 0) {
                char *name = strdup(col->name);
                if (name == NULL)
                    return -2;
                free(t->cols[k].name);
                t->cols[k].name = name;
            }
            k = rp_col_find(t, col->name);
            if (k < 0 && (k = rp_col_add(t, col->name, col->stype)) < 0)
                return -2;
            map[c] = k;
        }
        if (t->n_cols > L->cap_vals) {
            size_t cap = t->n_cols * 2;
            char **tx = realloc(L->texts, cap * sizeof(*tx));
            size_t *ln = tx ? realloc(L->lens, cap * sizeof(*ln)) : NULL;
            size_t *of = ln ? realloc(L->offs, cap * sizeof(*of)) : NULL;
            if (tx)
                L->texts = tx;
            if (ln)
                L->lens = ln;
            if (of == NULL)
                return -2;
            L->offs = of;
            L->cap_vals = cap;
        }
    }
    dray_tableset_commit(L->ts);
    return 0;
}

/* Whether the table set grew since the last apply_ddl. */
int rp_changed(const struct load *L)
{
    size_t n = dray_tableset_count(L->ts);

    if (n != L->n_tt)
        return 1;
    for (size_t i = 0; i < n; i++) {
        const struct dray_table *tb = dray_tableset_table(L->ts, i);
        if (tb->flags & DRAY_COL_NEW)
            return 1;
        for (size_t c = 0; c < tb->n_cols; c++)
            if (tb->cols[c].flags & (DRAY_COL_NEW | DRAY_COL_RENAME))
                return 1;
    }
    return 0;
}

/* ---- rows ---- */

static int keep_row(struct load *L, struct rp_table *t, struct rp_row *row)
{
    if (!L->upsert) {
        t->batch_rows++;
        return rp_row_push(t, row);
    }
    if (L->n_prows == L->cap_prows) {
        size_t cap = L->cap_prows ? L->cap_prows * 2 : 256;
        struct pend_row *p = realloc(L->prows, cap * sizeof(*p));
        if (p == NULL)
            return -2;
        L->prows = p;
        L->cap_prows = cap;
    }
    L->prows[L->n_prows].t = t;
    L->prows[L->n_prows].row = *row;
    L->n_prows++;
    row->v = NULL;
    return 0;
}

int rp_on_row(void *ctx, int32_t table, const struct dray_field *f, size_t n)
{
    struct load *L = ctx;
    struct rp_table *t = L->tt[table];
    const int *map = L->cmap[table];
    struct rp_row row;
    int rc;

#ifdef BROKEN_LOSE_NESTED
    if (t != L->root)
        return 0; /* broken: subtable rows vanish */
#endif
#ifdef BROKEN_DROP_ROW
    if (t == L->root && !L->dropped) {
        L->dropped = 1;
        return 0; /* broken: the batch's first row vanishes */
    }
#endif
    dray_buf_reset(&L->val);
    for (size_t c = 0; c < t->n_cols; c++)
        L->offs[c] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        int c = map[i];
        if (f[i].kind == DRAY_F_NULL)
            continue;
        L->offs[c] = L->val.len;
        if (field_json(&L->val, &f[i], t->cols[c].stype) != 0)
            return -2;
        L->lens[c] = L->val.len - L->offs[c];
    }
    for (size_t c = 0; c < t->n_cols; c++)
        L->texts[c] = L->offs[c] == SIZE_MAX ? NULL : L->val.data + L->offs[c];
    if (rp_row_make(&row, L->texts, L->lens, t->n_cols) != 0)
        return -2;
    rc = keep_row(L, t, &row);
    rp_row_free(&row);
    return rc;
}

int rp_begin_pend(struct load *L, int64_t seq)
{
    if (L->n_pend == L->cap_pend) {
        size_t cap = L->cap_pend ? L->cap_pend * 2 : 256;
        struct pend *p = realloc(L->pend, cap * sizeof(*p));
        if (p == NULL)
            return -2;
        L->pend = p;
        L->cap_pend = cap;
    }
    memset(&L->pend[L->n_pend], 0, sizeof(L->pend[0]));
    L->pend[L->n_pend].seq = seq;
    L->pend[L->n_pend].first = L->n_prows;
    L->n_pend++;
    return 0;
}

int rp_end_pend(struct load *L)
{
    struct pend *pd = &L->pend[L->n_pend - 1];
    int cols[64];

    pd->n = L->n_prows - pd->first;
    if (L->root == NULL || L->root->n_keys > 64 ||
        root_key_cols(L->root, cols) != 0)
        return -1;
    for (size_t i = pd->first; i < L->n_prows; i++)
        if (L->prows[i].t == L->root) {
            pd->key = key_of(&L->prows[i].row, cols, L->root->n_keys);
            return pd->key ? 0 : -2;
        }
    return 0;
}

/* ---- upsert ---- */

#ifdef BROKEN_NO_SEQUENCE
#define SEQUENCE_GUARD 0 /* broken: the last record loaded wins */
#else
#define SEQUENCE_GUARD 1
#endif

struct replaced {
    struct rp_map *keys;
    int cols[64];
    size_t n;
};

static int keep_unreplaced(void *ctx, const struct rp_row *r)
{
    struct replaced *rep = ctx;
    char *k = key_of(r, rep->cols, rep->n);
    int keep = k == NULL || !rp_map_get(rep->keys, k, NULL);

    free(k);
    return keep;
}

static int64_t seq_of(const struct rp_row *r, int col)
{
    const char *v = rp_val(r, col);

    return v ? strtoll(v, NULL, 10) : INT64_MIN;
}

/* Per key the record with the highest _sdc_sequence (the later one on a
   tie) replaces the stored row unless that is newer; the winner's child
   rows replace the stored ones. */
int rp_merge(struct load *L)
{
    struct rp_map *latest = rp_map_new(), *stored = rp_map_new();
    struct replaced rep = {rp_map_new(), {0}, 0};
    int cols[64], seq_col, rc = -2;

    if (latest == NULL || stored == NULL || rep.keys == NULL)
        goto out;
    rc = -1;
    if (L->root == NULL || L->root->n_keys > 64 ||
        root_key_cols(L->root, cols) != 0)
        goto out;
    rc = -2;
    seq_col = rp_col_find(L->root, "_sdc_sequence");
    for (size_t i = 0; i < L->n_pend; i++) {
        size_t j;
        if (L->pend[i].key == NULL)
            continue;
        if (rp_map_get(latest, L->pend[i].key, &j) &&
            L->pend[j].seq > L->pend[i].seq)
            continue;
        if (rp_map_put(latest, L->pend[i].key, i) != 0)
            goto out;
    }
    for (size_t r = 0; r < L->root->n_rows; r++) {
        char *k = key_of(&L->root->rows[r], cols, L->root->n_keys);
        int bad = k == NULL || rp_map_put(stored, k, r) != 0;
        free(k);
        if (bad)
            goto out;
    }
    for (size_t i = 0; i < L->n_pend; i++) {
        struct pend *pd = &L->pend[i];
        struct pend_row *root = NULL;
        size_t j, at;
        if (pd->key == NULL || !rp_map_get(latest, pd->key, &j) || j != i)
            continue;
        for (size_t k = pd->first; k < pd->first + pd->n; k++)
            if (L->prows[k].t == L->root)
                root = &L->prows[k];
        if (rp_map_get(stored, pd->key, &at)) {
            if (SEQUENCE_GUARD && seq_of(&L->root->rows[at], seq_col) > pd->seq)
                continue; /* an older record never replaces a newer row */
            rp_row_free(&L->root->rows[at]);
            L->root->rows[at] = root->row;
        } else {
            if (rp_map_put(stored, pd->key, L->root->n_rows) != 0 ||
                rp_row_push(L->root, &root->row) != 0)
                goto out;
        }
        root->row.v = NULL;
        L->root->batch_rows++;
        pd->won = 1;
        if (rp_map_put(rep.keys, pd->key, 0) != 0)
            goto out;
    }
    for (size_t t = 0; t < L->ns->n_t; t++) {
        struct rp_table *tb = L->ns->t[t];
        if (tb == L->root || strcmp(tb->stream, L->info.stream) != 0)
            continue;
        rep.n = source_key_cols(tb, rep.cols);
        if (rep.n > 0)
            rp_rows_filter(tb, keep_unreplaced, &rep);
    }
    for (size_t i = 0; i < L->n_pend; i++)
        for (size_t k = L->pend[i].first;
             L->pend[i].won && k < L->pend[i].first + L->pend[i].n; k++) {
            struct pend_row *pr = &L->prows[k];
            if (pr->t == L->root || pr->row.v == NULL)
                continue;
            if (rp_row_push(pr->t, &pr->row) != 0)
                goto out;
            pr->t->batch_rows++;
        }
    rc = 0;
out:
    rp_map_free(latest);
    rp_map_free(stored);
    rp_map_free(rep.keys);
    return rc;
}

/* ---- ACTIVATE_VERSION ---- */

struct version {
    const char *text;
    int col;
};

static int keep_version(void *ctx, const struct rp_row *r)
{
    const struct version *v = ctx;
    const char *have = rp_val(r, v->col);

    return have != NULL && strcmp(have, v->text) == 0;
}

/* Every row of the stream's tables of another version goes. */
void rp_activate(struct load *L)
{
    char text[24];
    struct version v = {text, -1};

    snprintf(text, sizeof(text), "%" PRId64, L->info.table_version);
    for (size_t t = 0; t < L->ns->n_t; t++) {
        struct rp_table *tb = L->ns->t[t];
        if (strcmp(tb->stream, L->info.stream) != 0)
            continue;
        v.col = rp_col_find(tb, "_sdc_table_version");
        rp_rows_filter(tb, keep_version, &v);
    }
}

/*
 * The table set's life: creation, seeding, commit, free, and the undo log
 * that makes a rejected record change nothing.
 */
#include "flatten_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

char *dray__fl_dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *dray__fl_dup(const char *s)
{
    return dray__fl_dup_n(s, strlen(s));
}

int dray__ts_push_undo(struct dray_tableset *ts, struct undo u)
{
    if (ts->n_undo == ts->cap_undo) {
        size_t cap = ts->cap_undo ? ts->cap_undo * 2 : 16;
        struct undo *p = realloc(ts->undo, cap * sizeof(*p));
        if (p == NULL)
            return -2;
        ts->undo = p;
        ts->cap_undo = cap;
    }
    ts->undo[ts->n_undo++] = u;
    return 0;
}

/* ---- undo ---- */

/* The name set refuses collisions; after an undo it is rebuilt so that no
   name of an undone column or rename is left in it. */
static void rebuild_names(struct dray_tableset *ts, int32_t t)
{
    struct dray_table *tb = &ts->tables[t];
    struct dray_ident_set *set = dray_ident_set_new();

    if (set == NULL)
        return; /* keep the old set: stale names only refuse more */
    for (size_t i = 0; i < tb->n_cols; i++)
        if (dray_ident_set_add(set, tb->cols[i].name) < 0) {
            dray_ident_set_free(set);
            return;
        }
    dray_ident_set_free(ts->names[t]);
    ts->names[t] = set;
}

static void free_column(struct dray_column *c)
{
    free(c->name);
    free(c->source);
    free(c->old_name);
}

static void free_table(struct dray_table *tb)
{
    for (size_t i = 0; i < tb->n_cols; i++)
        free_column(&tb->cols[i]);
    free(tb->cols);
    free(tb->name);
    free(tb->source);
}

void dray__ts_undo(struct dray_tableset *ts)
{
    while (ts->n_undo > 0) {
        struct undo *u = &ts->undo[--ts->n_undo];
        switch (u->what) {
        case UNDO_TABLE:
            ts->fields[u->field].table = -1;
            free_table(&ts->tables[u->table]);
            free(ts->owners[u->table]);
            dray_ident_set_free(ts->names[u->table]);
            ts->n_tables--;
            if (ts->n_tables_sys > ts->n_tables)
                ts->n_tables_sys = ts->n_tables;
            break;
        case UNDO_COLUMN: {
            struct dray_table *tb = &ts->tables[u->table];
            free_column(&tb->cols[--tb->n_cols]);
            if (u->field >= 0)
                ts->fields[u->field].col[u->stype] = -1;
            rebuild_names(ts, u->table);
            break;
        }
        case UNDO_RENAME: {
            struct dray_column *c = &ts->tables[u->table].cols[u->col];
            free(c->name);
            c->name = u->old_name;
            u->old_name = NULL;
            if (!(u->old_flags & DRAY_COL_RENAME)) {
                free(c->old_name);
                c->old_name = NULL;
            }
            c->flags = u->old_flags;
            rebuild_names(ts, u->table);
            break;
        }
        case UNDO_CLAIM: {
            struct dray_column *c = &ts->tables[u->table].cols[u->col];
            ts->owners[u->table][u->col] = -1;
            if (u->field >= 0)
                ts->fields[u->field].col[u->stype] = -1;
            else {
                c->system = DRAY_SYS_NONE;
                c->flags &= ~(uint32_t)(DRAY_COL_SYSTEM | DRAY_COL_KEY);
            }
            break;
        }
        case UNDO_FIRST:
            ts->fields[u->field].first_stype = DRAY_ST_NONE;
            break;
        }
    }
}

void dray__ts_undo_forget(struct dray_tableset *ts)
{
    for (size_t i = 0; i < ts->n_undo; i++)
        free(ts->undo[i].old_name);
    ts->n_undo = 0;
}

/* ---- public ---- */

int dray_tableset_new(struct dray_tableset **out,
                      const struct dray_flat_opts *opts,
                      const struct dray_schema *s, const char *stream,
                      char *err, size_t errlen)
{
    struct dray_tableset *ts = calloc(1, sizeof(*ts));
    int32_t root;
    int rc;

    *out = NULL;
    if (ts == NULL)
        return -2;
    ts->opts = *opts;
    if (ts->opts.max_depth <= 0)
        ts->opts.max_depth = 32;
    if (ts->opts.max_depth > MAX_LEVELS - 1)
        ts->opts.max_depth = MAX_LEVELS - 1;
    ts->schema = s;
    ts->stream = dray__fl_dup(stream);
    if (ts->stream == NULL)
        goto oom;
    rc = dray_ident_canon(ts->opts.ident_dialect, stream, strlen(stream),
                          &ts->name);
    if (rc < 0)
        goto oom;
    if (rc & DRAY_IDENT_EMPTY) {
        snprintf(err, errlen,
                 "stream '%s' gives no usable table name for this destination",
                 stream);
        dray_tableset_free(ts);
        return -1;
    }
    if (dray__ts_root(ts, &root) != 0)
        goto oom;
    if (s->n_keys > MAX_KEYS) {
        snprintf(err, errlen, "stream '%s' has more than %d key properties",
                 stream, MAX_KEYS);
        dray_tableset_free(ts);
        return -1;
    }
    for (size_t k = 0; k < s->n_keys; k++) {
        if (dray__ts_member(ts, 0, s->keys[k], strlen(s->keys[k]),
                            &ts->key_fields[k]) != 0)
            goto oom;
        ts->n_keys++;
    }
    *out = ts;
    return 0;
oom:
    dray_tableset_free(ts);
    return -2;
}

void dray_tableset_free(struct dray_tableset *ts)
{
    if (ts == NULL)
        return;
    dray__ts_undo_forget(ts);
    free(ts->undo);
    for (size_t i = 0; i < ts->n_tables; i++) {
        free_table(&ts->tables[i]);
        free(ts->owners[i]);
        dray_ident_set_free(ts->names[i]);
    }
    free(ts->tables);
    free(ts->owners);
    free(ts->names);
    for (size_t i = 0; i < ts->n_fields; i++) {
        free(ts->fields[i].name);
        free(ts->fields[i].source);
        free(ts->fields[i].base);
        free(ts->fields[i].tname);
    }
    free(ts->fields);
    free(ts->index);
    for (size_t i = 0; i < ts->n_seeded; i++) {
        free(ts->seeded[i].table);
        free(ts->seeded[i].column);
    }
    free(ts->seeded);
    free(ts->stream);
    dray_buf_release(&ts->name);
    dray_buf_release(&ts->value);
    while (ts->arena.head) {
        struct arena_block *b = ts->arena.head;
        ts->arena.head = b->next;
        free(b);
    }
    free(ts->arena.spare);
    free(ts);
}

int dray_tableset_seed(struct dray_tableset *ts, const char *table,
                       const char *column, int stype)
{
    struct seeded *sd;

    if (ts->n_seeded == ts->cap_seeded) {
        size_t cap = ts->cap_seeded ? ts->cap_seeded * 2 : 16;
        struct seeded *p = realloc(ts->seeded, cap * sizeof(*p));
        if (p == NULL)
            return -2;
        ts->seeded = p;
        ts->cap_seeded = cap;
    }
    /* A suffixed column's type is its suffix's. */
    if (ts->opts.types) {
        size_t n = strlen(column);
        for (int st = 1; st < DRAY_ST_COUNT; st++) {
            const char *suf = ts->opts.types->map[st].suffix;
            size_t sl = suf ? strlen(suf) : 0;
            if (sl && n > sl && strcmp(column + n - sl, suf) == 0) {
                stype = st;
                break;
            }
        }
    }
    sd = &ts->seeded[ts->n_seeded];
    sd->table = dray__fl_dup(table);
    sd->column = dray__fl_dup(column);
    sd->stype = stype;
    if (sd->table == NULL || sd->column == NULL) {
        free(sd->table);
        free(sd->column);
        return -2;
    }
    ts->n_seeded++;
    return 0;
}

size_t dray_tableset_count(const struct dray_tableset *ts)
{
    return ts->n_tables;
}

const struct dray_table *dray_tableset_table(const struct dray_tableset *ts,
                                             size_t i)
{
    return i < ts->n_tables ? &ts->tables[i] : NULL;
}

void dray_tableset_commit(struct dray_tableset *ts)
{
    dray__ts_undo_forget(ts);
    for (size_t t = 0; t < ts->n_tables; t++) {
        struct dray_table *tb = &ts->tables[t];
        tb->flags &= ~(uint32_t)DRAY_COL_NEW;
        for (size_t i = 0; i < tb->n_cols; i++) {
            tb->cols[i].flags &= ~(uint32_t)(DRAY_COL_NEW | DRAY_COL_RENAME);
            free(tb->cols[i].old_name);
            tb->cols[i].old_name = NULL;
        }
    }
}

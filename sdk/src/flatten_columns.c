/*
 * Tables and columns: making what a record's values need, with the system
 * columns of each table, splits on type changes per the dialect's rule,
 * collisions and limits, and columns claimed from what the destination
 * already has. Every change is logged for undo.
 */
#include "flatten_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tables and columns ---- */

static int add_column(struct dray_tableset *ts, int32_t t, const char *name,
                      const char *source, int stype, uint32_t flags, int sys,
                      int level, int32_t owner, int32_t *out)
{
    struct dray_table *tb = &ts->tables[t];
    struct dray_column *c;
    int rc;

    if (tb->n_cols == tb->cap_cols) {
        size_t cap = tb->cap_cols ? tb->cap_cols * 2 : 16;
        struct dray_column *p = realloc(tb->cols, cap * sizeof(*p));
        int32_t *o = realloc(ts->owners[t], cap * sizeof(*o));
        if (p)
            tb->cols = p;
        if (o)
            ts->owners[t] = o;
        if (p == NULL || o == NULL)
            return -2;
        tb->cap_cols = cap;
    }
    rc = dray_ident_set_add(ts->names[t], name);
    if (rc < 0)
        return -2;
    c = &tb->cols[tb->n_cols];
    memset(c, 0, sizeof(*c));
    c->name = dray__fl_dup(name);
    c->source = dray__fl_dup(source ? source : "");
    if (c->name == NULL || c->source == NULL) {
        free(c->name);
        free(c->source);
        return -2;
    }
    c->node = owner >= 0 ? ts->fields[owner].node : -1;
    c->stype = stype;
    c->flags = flags;
    c->system = sys;
    c->level = level;
    ts->owners[t][tb->n_cols] = owner;
    *out = (int32_t)tb->n_cols++;
    return dray__ts_push_undo(
        ts, (struct undo){UNDO_COLUMN, t, *out, owner, stype, NULL, 0});
}

static int32_t find_column(const struct dray_tableset *ts, int32_t t,
                           const char *name)
{
    const struct dray_table *tb = &ts->tables[t];

    for (size_t i = 0; i < tb->n_cols; i++)
        if (strcmp(tb->cols[i].name, name) == 0)
            return (int32_t)i;
    return -1;
}

int32_t dray__sys_col(const struct dray_tableset *ts, int32_t t, int role,
                      int index)
{
    const struct dray_table *tb = &ts->tables[t];

    for (size_t i = 0; i < tb->n_cols; i++)
        if (tb->cols[i].system == role &&
            (role != DRAY_SYS_SOURCE_KEY && role != DRAY_SYS_LEVEL_ID
                 ? 1
                 : tb->cols[i].level == index))
            return (int32_t)i;
    return -1;
}

static int reject(struct dray_buf *reason, const char *text, const char *arg);

/* A system column: claimed from the seed when the destination has it. A
   name a data column owns is a collision: the record is a reject. */
static int system_column(struct dray_tableset *ts, int32_t t, const char *raw,
                         int stype, int role, int level, uint32_t flags,
                         struct dray_buf *reason)
{
    int32_t c;
    int rc =
        dray_ident_canon(ts->opts.ident_dialect, raw, strlen(raw), &ts->name);

    if (rc < 0)
        return -2;
    c = find_column(ts, t, ts->name.data);
    if (c >= 0 && ts->owners[t][c] == -1 &&
        ts->tables[t].cols[c].system == DRAY_SYS_NONE) {
        ts->tables[t].cols[c].system = role;
        ts->tables[t].cols[c].level = level;
        ts->tables[t].cols[c].flags |= DRAY_COL_SYSTEM | flags;
        return dray__ts_push_undo(
            ts, (struct undo){UNDO_CLAIM, t, c, -1, DRAY_ST_NONE, NULL, 0});
    }
    if (c >= 0 && ts->owners[t][c] != -1)
        return reject(reason, "Field collision on ", ts->name.data);
    if (c >= 0)
        return 0;
    return add_column(ts, t, ts->name.data, raw, stype,
                      DRAY_COL_NEW | DRAY_COL_SYSTEM | flags, role, level, -1,
                      &c);
}

static int seed_table_columns(struct dray_tableset *ts, int32_t t)
{
    for (size_t i = 0; i < ts->n_seeded; i++) {
        struct seeded *sd = &ts->seeded[i];
        int32_t c;
        if (strcmp(sd->table, ts->tables[t].name) != 0)
            continue;
        if (find_column(ts, t, sd->column) >= 0)
            continue;
        if (add_column(ts, t, sd->column, NULL, sd->stype, 0, DRAY_SYS_NONE, 0,
                       -1, &c) != 0)
            return -2;
    }
    return 0;
}

static int table_seeded(const struct dray_tableset *ts, const char *name)
{
    for (size_t i = 0; i < ts->n_seeded; i++)
        if (strcmp(ts->seeded[i].table, name) == 0)
            return 1;
    return 0;
}

/* The stype a root key column holds: the type of its first column. */
static int key_stype(const struct dray_tableset *ts, size_t k)
{
    const struct field *f = &ts->fields[ts->key_fields[k]];

    return f->first_stype != DRAY_ST_NONE ? f->first_stype : DRAY_ST_STRING;
}

/* The system columns of every table, root and subtables alike. */
static const struct {
    const char *name;
    int stype;
    int role;
} every_table[] = {
    {"_sdc_received_at", DRAY_ST_TIMESTAMP, DRAY_SYS_RECEIVED_AT},
    {"_sdc_batched_at", DRAY_ST_TIMESTAMP, DRAY_SYS_BATCHED_AT},
    {"_sdc_sequence", DRAY_ST_BIGINT, DRAY_SYS_SEQUENCE},
    {"_sdc_table_version", DRAY_ST_BIGINT, DRAY_SYS_TABLE_VERSION},
};

static int add_system_columns(struct dray_tableset *ts, int32_t t, int levels,
                              struct dray_buf *reason)
{
    char raw[160];
    int rc = 0;

    if (levels > 0) {
        if (ts->n_keys == 0)
            rc = system_column(ts, t, "_sdc_source_key___sdc_primary_key",
                               DRAY_ST_STRING, DRAY_SYS_SOURCE_KEY, 0,
                               DRAY_COL_KEY, reason);
        for (size_t k = 0; rc == 0 && k < ts->n_keys; k++) {
            snprintf(raw, sizeof(raw), "_sdc_source_key_%s",
                     ts->fields[ts->key_fields[k]].name);
            rc =
                system_column(ts, t, raw, key_stype(ts, k), DRAY_SYS_SOURCE_KEY,
                              (int)k, DRAY_COL_KEY, reason);
        }
        for (int l = 0; rc == 0 && l < levels; l++) {
            snprintf(raw, sizeof(raw), "_sdc_level_%d_id", l);
            rc = system_column(ts, t, raw, DRAY_ST_BIGINT, DRAY_SYS_LEVEL_ID, l,
                               DRAY_COL_KEY, reason);
        }
    } else if (ts->n_keys == 0) {
        rc = system_column(ts, t, "__sdc_primary_key", DRAY_ST_STRING,
                           DRAY_SYS_PRIMARY_KEY, 0, DRAY_COL_KEY, reason);
    }
    for (size_t i = 0;
         rc == 0 && i < sizeof(every_table) / sizeof(every_table[0]); i++)
        rc = system_column(ts, t, every_table[i].name, every_table[i].stype,
                           every_table[i].role, 0, 0, reason);
    return rc;
}

/* Makes row owner o's table exist, with the tables above it. */
static int ensure_table(struct dray_tableset *ts, int32_t o)
{
    struct field *f = &ts->fields[o];
    struct dray_table *tb;
    int32_t parent = -1, t;
    int rc;

    if (f->table >= 0)
        return 0;
    if (o != 0) {
        int32_t up = ts->fields[f->parent].owner;
        rc = ensure_table(ts, up);
        if (rc != 0)
            return rc;
        parent = ts->fields[up].table;
        f = &ts->fields[o];
    }
    if (ts->n_tables == ts->cap_tables) {
        size_t cap = ts->cap_tables ? ts->cap_tables * 2 : 4;
        struct dray_table *p = realloc(ts->tables, cap * sizeof(*p));
        int32_t **ow = realloc(ts->owners, cap * sizeof(*ow));
        struct dray_ident_set **nm = realloc(ts->names, cap * sizeof(*nm));
        if (p)
            ts->tables = p;
        if (ow)
            ts->owners = ow;
        if (nm)
            ts->names = nm;
        if (p == NULL || ow == NULL || nm == NULL)
            return -2;
        ts->cap_tables = cap;
    }
    t = (int32_t)ts->n_tables;
    tb = &ts->tables[t];
    memset(tb, 0, sizeof(*tb));
    ts->owners[t] = NULL;
    ts->names[t] = dray_ident_set_new();
    tb->name = dray__fl_dup(f->tname);
    tb->source = dray__fl_dup(f->source);
    if (ts->names[t] == NULL || tb->name == NULL || tb->source == NULL) {
        dray_ident_set_free(ts->names[t]);
        free(tb->name);
        free(tb->source);
        return -2;
    }
    tb->parent = parent;
    tb->array_node = o == 0 ? -1 : ts->fields[f->parent].node;
    tb->depth = f->levels;
    tb->flags = table_seeded(ts, tb->name) ? 0 : DRAY_COL_NEW;
    ts->n_tables++;
    f->table = t;
    rc =
        dray__ts_push_undo(ts, (struct undo){UNDO_TABLE, t, -1, o, 0, NULL, 0});
    if (rc == 0)
        rc = seed_table_columns(ts, t);
    /* System columns follow the data columns the table is made with: see
       dray__ts_finish_tables. */
    return rc;
}

int dray__ts_finish_tables(struct dray_tableset *ts, struct dray_buf *reason)
{
    for (size_t t = ts->n_tables_sys; t < ts->n_tables; t++) {
        int rc =
            add_system_columns(ts, (int32_t)t, ts->tables[t].depth, reason);
        if (rc != 0)
            return rc;
    }
    ts->n_tables_sys = ts->n_tables;
    return 0;
}

static int check_room(struct dray_tableset *ts, int32_t t,
                      struct dray_buf *reason);

int dray__ts_need_extracted_at(struct dray_tableset *ts,
                               struct dray_buf *reason)
{
    static const char raw[] = "_sdc_extracted_at";
    int32_t t;
    int rc = ensure_table(ts, 0);

    if (rc != 0)
        return rc;
    t = ts->fields[0].table;
    if (dray__sys_col(ts, t, DRAY_SYS_EXTRACTED_AT, 0) >= 0)
        return 0;
    /* A new column counts against the limit like any other. */
    rc = dray_ident_canon(ts->opts.ident_dialect, raw, sizeof(raw) - 1,
                          &ts->name);
    if (rc < 0)
        return -2;
    if (find_column(ts, t, ts->name.data) < 0) {
        rc = check_room(ts, t, reason);
        if (rc != 0)
            return rc;
    }
    return system_column(ts, t, raw, DRAY_ST_TIMESTAMP, DRAY_SYS_EXTRACTED_AT,
                         0, 0, reason);
}

/* The name a field's column of stype gets: base, or base + suffix. */
static int column_name(struct dray_tableset *ts, const struct field *f,
                       int stype, int suffixed)
{
    const char *suffix = NULL;

    if (suffixed && ts->opts.types)
        suffix = ts->opts.types->map[stype].suffix;
    dray_buf_reset(&ts->name);
    if (dray_buf_add(&ts->name, f->base, strlen(f->base)) != 0)
        return -2;
    if (suffix && dray_buf_add(&ts->name, suffix, strlen(suffix)) != 0)
        return -2;
    /* The suffixed name is canonical already; only its case may need the
       dialect's treatment (Snowflake upper-cases suffixes too). */
    if (suffix) {
        struct dray_buf tmp = DRAY_BUF_INIT;
        int rc = dray_ident_canon(ts->opts.ident_dialect, ts->name.data,
                                  ts->name.len, &tmp);
        if (rc < 0) {
            dray_buf_release(&tmp);
            return -2;
        }
        dray_buf_reset(&ts->name);
        rc = dray_buf_add(&ts->name, tmp.data, tmp.len);
        dray_buf_release(&tmp);
        if (rc != 0)
            return -2;
    }
    return 0;
}

/* Claims a seeded column of f's table matching f's names. */
static int claim_seeded(struct dray_tableset *ts, int32_t fi)
{
    struct field *f = &ts->fields[fi];
    int32_t t = ts->fields[f->owner].table;
    int first_plain = DRAY_ST_NONE;

    for (int st = 1; st < DRAY_ST_COUNT; st++) {
        int32_t c;
        for (int suffixed = 0; suffixed <= 1; suffixed++) {
            if (suffixed &&
                (!ts->opts.types || !ts->opts.types->map[st].suffix))
                continue;
            if (column_name(ts, f, st, suffixed) != 0)
                return -2;
            c = find_column(ts, t, ts->name.data);
            if (c < 0 || ts->owners[t][c] != -1 ||
                ts->tables[t].cols[c].system != DRAY_SYS_NONE)
                continue;
            /* A plain column holds the type the destination says it has. */
            if (!suffixed && ts->tables[t].cols[c].stype != st)
                continue;
            ts->owners[t][c] = fi;
            ts->tables[t].cols[c].node = f->node;
            for (size_t k = 0; k < ts->n_keys; k++)
                if (ts->key_fields[k] == fi)
                    ts->tables[t].cols[c].flags |= DRAY_COL_KEY;
            free(ts->tables[t].cols[c].source);
            ts->tables[t].cols[c].source = dray__fl_dup(f->source);
            f->col[st] = c;
            if (!suffixed)
                first_plain = st;
            if (dray__ts_push_undo(
                    ts, (struct undo){UNDO_CLAIM, t, c, fi, st, NULL, 0}) != 0)
                return -2;
        }
    }
    if (f->first_stype == DRAY_ST_NONE) {
        if (first_plain != DRAY_ST_NONE) {
            f->first_stype = first_plain;
        } else {
            /* Only suffixed columns: the earliest in the table came first. */
            int32_t best = -1;
            for (int st = 1; st < DRAY_ST_COUNT; st++)
                if (f->col[st] >= 0 && (best < 0 || f->col[st] < f->col[best]))
                    best = st;
            if (best > 0)
                f->first_stype = best;
        }
        if (f->first_stype != DRAY_ST_NONE &&
            dray__ts_push_undo(ts, (struct undo){UNDO_FIRST, t, -1, fi,
                                                 DRAY_ST_NONE, NULL, 0}) != 0)
            return -2;
    }
    return 0;
}

static int reject(struct dray_buf *reason, const char *text, const char *arg)
{
    dray_buf_reset(reason);
    if (dray_buf_add(reason, text, strlen(text)) != 0)
        return -2;
    if (arg && dray_buf_add(reason, arg, strlen(arg)) != 0)
        return -2;
    return 1;
}

/* System columns a table still lacks (they come after a record's data
   columns, but count against the limit from the start). */
static size_t pending_system(const struct dray_tableset *ts, int32_t t)
{
    size_t levels = (size_t)ts->tables[t].depth;

    if ((size_t)t < ts->n_tables_sys)
        return 0;
    return 4 + (levels ? (ts->n_keys ? ts->n_keys : 1) + levels
                       : (ts->n_keys ? 0 : 1));
}

static int check_room(struct dray_tableset *ts, int32_t t,
                      struct dray_buf *reason)
{
    if (ts->opts.max_columns &&
        ts->tables[t].n_cols + pending_system(ts, t) >= ts->opts.max_columns)
        return reject(reason, "ERROR: too many columns", NULL);
    return 0;
}

int dray__ts_need(struct dray_tableset *ts, int32_t fi, int stype,
                  struct dray_buf *reason)
{
    struct field *f = &ts->fields[fi];
    int32_t t, c;
    int rc;

    if (f->col[stype] >= 0)
        return 0;
    rc = ensure_table(ts, f->owner);
    if (rc != 0)
        return rc;
    f = &ts->fields[fi];
    t = ts->fields[f->owner].table;
    if (f->first_stype == DRAY_ST_NONE) {
        rc = claim_seeded(ts, fi);
        if (rc != 0)
            return rc;
        f = &ts->fields[fi];
        if (f->col[stype] >= 0)
            return 0;
    }
    /* Files have no column types: a value of another type goes into the
       field's one column instead of splitting it (docs/DATA_CORE.md). */
    if (f->first_stype != DRAY_ST_NONE && ts->opts.types &&
        strcmp(ts->opts.types->name, "files") == 0) {
        f->col[stype] = f->col[f->first_stype];
        return 0;
    }
    rc = check_room(ts, t, reason);
    if (rc != 0)
        return rc;

    int first = f->first_stype == DRAY_ST_NONE;
    int rename = !first && ts->opts.types && ts->opts.types->rename_on_split;
    rc = column_name(ts, f, stype, !first);
    if (rc != 0)
        return rc;
    if (dray_ident_set_has(ts->names[t], ts->name.data))
        return reject(reason, "Field collision on ", ts->name.data);

    /* Rename dialects give the original column its suffix at the first
       split (age -> age__bi, then age__do). */
    if (rename) {
        int32_t oc = f->col[f->first_stype];
        struct dray_column *col = &ts->tables[t].cols[oc];
        struct dray_buf want = DRAY_BUF_INIT;
        char *new_name;

        if (dray_buf_add(&want, ts->name.data, ts->name.len) != 0)
            return -2;
        rc = column_name(ts, f, f->first_stype, 1);
        if (rc != 0) {
            dray_buf_release(&want);
            return rc;
        }
        if (strcmp(col->name, ts->name.data) != 0) {
            if (dray_ident_set_has(ts->names[t], ts->name.data)) {
                rc = reject(reason, "Field collision on ", ts->name.data);
                dray_buf_release(&want);
                return rc;
            }
            new_name = dray__fl_dup(ts->name.data);
            if (new_name == NULL ||
                dray_ident_set_add(ts->names[t], new_name) < 0 ||
                dray__ts_push_undo(ts, (struct undo){UNDO_RENAME, t, oc, fi, 0,
                                                     col->name, col->flags}) !=
                    0) {
                free(new_name);
                dray_buf_release(&want);
                return -2;
            }
            /* A column still to be created is simply created renamed. */
            if (!(col->flags & DRAY_COL_NEW)) {
                col->old_name =
                    col->old_name ? col->old_name : dray__fl_dup(col->name);
                col->flags |= DRAY_COL_RENAME;
            }
            col->name = new_name;
        }
        dray_buf_reset(&ts->name);
        rc = dray_buf_add(&ts->name, want.data, want.len);
        dray_buf_release(&want);
        if (rc != 0)
            return -2;
    }
    rc = add_column(ts, t, ts->name.data, f->source, stype,
                    DRAY_COL_NEW | (f->truncated ? DRAY_COL_TRUNCATED : 0u),
                    DRAY_SYS_NONE, 0, fi, &c);
    if (rc != 0)
        return rc;
    f = &ts->fields[fi];
    f->col[stype] = c;
    for (size_t k = 0; k < ts->n_keys; k++)
        if (ts->key_fields[k] == fi)
            ts->tables[t].cols[c].flags |= DRAY_COL_KEY;
    if (first) {
        f->first_stype = stype;
        rc = dray__ts_push_undo(
            ts, (struct undo){UNDO_FIRST, t, -1, fi, DRAY_ST_NONE, NULL, 0});
    }
    return rc;
}

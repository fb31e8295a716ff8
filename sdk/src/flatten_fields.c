/*
 * Fields: the structure of the records as they show it (members, array
 * items), found again by (parent, name) through a hash index, with the
 * table and column names each maps to.
 */
#include "flatten_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_INDEX_MIN 64

static uint32_t hash_name(int32_t parent, const char *s, size_t n)
{
    uint32_t h = 2166136261u ^ (uint32_t)parent;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* ---- fields ---- */

static int index_insert(struct dray_tableset *ts, int32_t f);

static int index_grow(struct dray_tableset *ts)
{
    size_t cap = ts->index_cap ? ts->index_cap * 2 : FIELD_INDEX_MIN;
    int32_t *old = ts->index;
    size_t old_cap = ts->index_cap;

    ts->index = calloc(cap, sizeof(*ts->index));
    if (ts->index == NULL) {
        ts->index = old;
        return -2;
    }
    ts->index_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i] > 0 && index_insert(ts, old[i] - 1) != 0) {
            free(old);
            return -2;
        }
    free(old);
    return 0;
}

static int index_insert(struct dray_tableset *ts, int32_t f)
{
    const struct field *fl = &ts->fields[f];
    size_t mask = ts->index_cap - 1;
    size_t i = hash_name(fl->parent, fl->name, strlen(fl->name)) & mask;

    while (ts->index[i] != 0)
        i = (i + 1) & mask;
    ts->index[i] = f + 1;
    return 0;
}

static int32_t index_find(const struct dray_tableset *ts, int32_t parent,
                          const char *name, size_t len, int items)
{
    size_t mask = ts->index_cap - 1;
    size_t i;

    if (ts->index_cap == 0)
        return -1;
    i = hash_name(parent, name, len) & mask;
    while (ts->index[i] != 0) {
        const struct field *fl = &ts->fields[ts->index[i] - 1];
        if (fl->parent == parent && fl->is_items == items &&
            strlen(fl->name) == len && memcmp(fl->name, name, len) == 0)
            return ts->index[i] - 1;
        i = (i + 1) & mask;
    }
    return -1;
}

static int is_row_owner(const struct dray_tableset *ts, int32_t f)
{
    return f == 0 ||
           (ts->fields[f].is_items && ts->opts.nesting == DRAY_NEST_FLATTEN);
}

/* System names taps legitimately send, loaded as ordinary columns
   (reference §3: _sdc_deleted_at and the source-specific ones). */
static int allowed_system_name(const char *name)
{
    static const char *const allowed[] = {
        "_sdc_deleted_at",      "_sdc_extra",
        "_sdc_source_file",     "_sdc_source_lineno",
        "_sdc_customer_id",     "_sdc_record_hash",
        "_sdc_report_datetime", "_sdc_dimensions_hash_key",
        "_sdc_replication_id",
    };

    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strcmp(name, allowed[i]) == 0)
            return 1;
    return 0;
}

static int field_status(const struct dray_tableset *ts, const char *name)
{
    size_t n = strlen(name);

    if (ts->opts.types &&
        dray_types_has_reserved_suffix(ts->opts.types, name, n))
        return FIELD_RESERVED_SUFFIX;
    if ((strncmp(name, "_sdc", 4) == 0 || strncmp(name, "_rjm", 4) == 0) &&
        !allowed_system_name(name))
        return FIELD_RESERVED_PREFIX;
    return FIELD_OK;
}

/* Makes a field; name is n bytes (decoded). */
static int new_field(struct dray_tableset *ts, int32_t parent, const char *name,
                     size_t n, int items, int32_t *out)
{
    struct field *f;
    int32_t idx;
    int rc;

    if (ts->n_fields == ts->cap_fields) {
        size_t cap = ts->cap_fields ? ts->cap_fields * 2 : 16;
        struct field *p = realloc(ts->fields, cap * sizeof(*p));
        if (p == NULL)
            return -2;
        ts->fields = p;
        ts->cap_fields = cap;
    }
    if ((ts->n_fields + 1) * 2 > ts->index_cap && index_grow(ts) != 0)
        return -2;
    idx = (int32_t)ts->n_fields;
    f = &ts->fields[idx];
    memset(f, 0, sizeof(*f));
    for (int t = 0; t < DRAY_ST_COUNT; t++)
        f->col[t] = -1;
    f->parent = parent;
    f->items = -1;
    f->table = -1;
    f->is_items = items;
    f->name = dray__fl_dup_n(name, n);
    if (f->name == NULL)
        return -2;
    ts->n_fields++;

    if (parent < 0) {
        f->node = 0;
        f->owner = idx;
        f->source = dray__fl_dup(ts->stream);
        f->tname = NULL;
        if (f->source == NULL)
            return -2;
        rc = dray_ident_canon(ts->opts.ident_dialect, ts->stream,
                              strlen(ts->stream), &ts->name);
        if (rc < 0)
            return -2;
        f->tname = dray__fl_dup(ts->name.data);
        if (f->tname == NULL)
            return -2;
        return index_insert(ts, (*out = idx));
    }

    struct field *pf = &ts->fields[parent];
    const struct dray_schema *s = ts->schema;
    int32_t pnode = pf->node;

    f->depth = pf->depth + 1;
    if (pnode >= 0 && !(s->nodes[pnode].flags & DRAY_NODE_DEPTH_CUT))
        f->node = items ? s->nodes[pnode].items
                        : dray_schema_child(s, pnode, name, n);
    else
        f->node = -1;
    f->status = items ? FIELD_OK : field_status(ts, f->name);

    /* Source path: parent's path, '.', name; items add "[]". */
    size_t plen = strlen(pf->source);
    f->source = malloc(plen + n + 4);
    if (f->source == NULL)
        return -2;
    memcpy(f->source, pf->source, plen);
    if (items) {
        memcpy(f->source + plen, "[]", 3);
    } else {
        f->source[plen] = '.';
        memcpy(f->source + plen + 1, name, n);
        f->source[plen + 1 + n] = '\0';
    }

    if (items && ts->opts.nesting == DRAY_NEST_FLATTEN) {
        /* A subtable: named after its parent table and the array's
           flattened name; its scalar values go to a "value" column. */
        const struct field *owner = &ts->fields[pf->owner];
        f->owner = idx;
        f->levels = owner->levels + 1;
        rc = dray_ident_join(ts->opts.ident_dialect, owner->tname,
                             pf->base ? pf->base : "",
                             pf->base ? strlen(pf->base) : 0, &ts->name);
        if (rc < 0)
            return -2;
        f->tname = dray__fl_dup(ts->name.data);
        rc = dray_ident_canon(ts->opts.ident_dialect, "value", 5, &ts->name);
    } else {
        f->owner = is_row_owner(ts, parent) ? parent : pf->owner;
        if (is_row_owner(ts, parent) || pf->base == NULL)
            rc = dray_ident_canon(ts->opts.ident_dialect, name, n, &ts->name);
        else
            rc = dray_ident_join(ts->opts.ident_dialect, pf->base, name, n,
                                 &ts->name);
    }
    if (rc < 0)
        return -2;
    if (rc & DRAY_IDENT_TRUNCATED)
        f->truncated = 1;
    if (rc & DRAY_IDENT_EMPTY)
        f->status = f->status ? f->status : FIELD_EMPTY_NAME;
    f->base = dray__fl_dup(ts->name.data ? ts->name.data : "");
    if (f->base == NULL ||
        (items && ts->opts.nesting == DRAY_NEST_FLATTEN && f->tname == NULL))
        return -2;
    *out = idx;
    return index_insert(ts, idx);
}

int dray__ts_root(struct dray_tableset *ts, int32_t *out)
{
    return new_field(ts, -1, "", 0, 0, out);
}

int dray__ts_member(struct dray_tableset *ts, int32_t parent, const char *name,
                    size_t len, int32_t *out)
{
    int32_t f = index_find(ts, parent, name, len, 0);

    if (f >= 0) {
        *out = f;
        return 0;
    }
    return new_field(ts, parent, name, len, 0, out);
}

int dray__ts_items(struct dray_tableset *ts, int32_t a, int32_t *out)
{
    int rc;

    if (ts->fields[a].items >= 0) {
        *out = ts->fields[a].items;
        return 0;
    }
    rc = new_field(ts, a, "", 0, 1, out);
    if (rc == 0)
        ts->fields[a].items = *out;
    return rc;
}

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

/* 1 when the n bytes of a and b are equal but for ASCII case. */
static int same_nocase(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

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
    size_t i = hash_name(fl->parent, fl->name, fl->name_len) & mask;

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
            fl->name_len == len && memcmp(fl->name, name, len) == 0)
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
   (reference §3: _sdc_deleted_at and the source-specific ones). Compared
   without case: canonical names are upper case on some dialects. */
static int allowed_system_name(const char *name, size_t n)
{
    static const char *const allowed[] = {
        "_sdc_deleted_at",      "_sdc_extra",
        "_sdc_source_file",     "_sdc_source_lineno",
        "_sdc_customer_id",     "_sdc_record_hash",
        "_sdc_report_datetime", "_sdc_dimensions_hash_key",
        "_sdc_replication_id",
    };

    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (strlen(allowed[i]) == n && same_nocase(name, allowed[i], n))
            return 1;
    return 0;
}

/* 1 when name (n bytes) starts with _sdc, __sdc or _rjm in any case and is
   not one of the allowed system names. */
static int reserved_prefix(const char *name, size_t n)
{
    if (!((n >= 4 && same_nocase(name, "_sdc", 4)) ||
          (n >= 5 && same_nocase(name, "__sdc", 5)) ||
          (n >= 4 && same_nocase(name, "_rjm", 4))))
        return 0;
    return !allowed_system_name(name, n);
}

/*
 * The status of member field f once its base is known. A reserved suffix
 * is looked for in the source name and in the joined base (a child "bi" of
 * "age" makes age__bi); a reserved prefix in the canonical base (after the
 * dialect's canonicalisation: _SDC_SEQUENCE on Redshift, #_sdc_sequence on
 * PostgreSQL), and in the canonical member name when it is nested. cname
 * is that canonical member name (the base itself at a row's top level).
 */
static void set_status(const struct dray_tableset *ts, struct field *f,
                       const char *cname)
{
    size_t bn = strlen(f->base);

    f->status = FIELD_OK;
    f->status_name = f->name;
    if (ts->opts.types &&
        dray_types_has_reserved_suffix(ts->opts.types, f->name, f->name_len)) {
        f->status = FIELD_RESERVED_SUFFIX;
    } else if (ts->opts.types &&
               dray_types_has_reserved_suffix(ts->opts.types, f->base, bn)) {
        f->status = FIELD_RESERVED_SUFFIX;
        f->status_name = f->base;
    } else if (reserved_prefix(f->base, bn) ||
               (cname && reserved_prefix(cname, strlen(cname)))) {
        f->status = FIELD_RESERVED_PREFIX;
    }
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
    f->name_len = n;
    f->status_name = f->name;
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
    char *cname = NULL;

    f->depth = pf->depth + 1;
    if (pnode >= 0 && !(s->nodes[pnode].flags & DRAY_NODE_DEPTH_CUT))
        f->node = items ? s->nodes[pnode].items
                        : dray_schema_child(s, pnode, name, n);
    else
        f->node = -1;

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
        if (!is_row_owner(ts, parent) && pf->base != NULL) {
            /* The member's own canonical name, for the prefix check. */
            rc = dray_ident_canon(ts->opts.ident_dialect, name, n, &ts->name);
            if (rc < 0)
                return -2;
            cname = dray__fl_dup(ts->name.data ? ts->name.data : "");
            if (cname == NULL)
                return -2;
            rc = dray_ident_join(ts->opts.ident_dialect, pf->base, name, n,
                                 &ts->name);
        } else {
            rc = dray_ident_canon(ts->opts.ident_dialect, name, n, &ts->name);
        }
    }
    if (rc < 0) {
        free(cname);
        return -2;
    }
    if (rc & DRAY_IDENT_TRUNCATED)
        f->truncated = 1;
    f->base = dray__fl_dup(ts->name.data ? ts->name.data : "");
    if (f->base == NULL ||
        (items && ts->opts.nesting == DRAY_NEST_FLATTEN && f->tname == NULL)) {
        free(cname);
        return -2;
    }
    if (!items)
        set_status(ts, f, cname);
    free(cname);
    if (rc & DRAY_IDENT_EMPTY)
        f->status = f->status ? f->status : FIELD_EMPTY_NAME;
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

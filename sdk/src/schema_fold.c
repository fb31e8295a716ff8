/*
 * schema_fold.c - what one schema node allows, from all the subschemas
 * that describe it. anyOf and oneOf are unions, allOf, "type" and $ref
 * intersections ("number" admitting integers). Each subschema is visited
 * once per node: a second way to it reuses its result, and a way back into
 * one still being folded (a recursive $ref) says nothing new, which keeps
 * recursive and diamond-shaped schemas linear.
 */
#include "schema_fold.h"

#include <stdlib.h>
#include <string.h>

/* Nesting of anyOf/allOf/$ref within one node (C stack depth). */
#define FOLD_MAX_DEPTH 256

static uint32_t type_bit(const json_t *name)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } types[] = {{"null", DRAY_JT_NULL},       {"boolean", DRAY_JT_BOOLEAN},
                 {"integer", DRAY_JT_INTEGER}, {"number", DRAY_JT_NUMBER},
                 {"string", DRAY_JT_STRING},   {"object", DRAY_JT_OBJECT},
                 {"array", DRAY_JT_ARRAY}};

    if (!json_is_string(name))
        return 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(json_string_value(name), types[i].name) == 0)
            return types[i].bit;
    return 0; /* unknown names are ignored */
}

/* The types a subschema's own "type" allows; all when it has none. */
uint32_t dray__own_types(const json_t *sch)
{
    const json_t *t = json_object_get(sch, "type"), *v;
    uint32_t bits = 0;
    size_t i;

    if (!json_is_string(t) && !json_is_array(t))
        return DRAY__JT_ALL;
    if (json_is_string(t))
        return type_bit(t);
    json_array_foreach (t, i, v)
        bits |= type_bit(v);
    return bits;
}

/* Intersection, where "number" admits the integers: number and integer
   meet in integer. */
static uint32_t meet(uint32_t a, uint32_t b)
{
    uint32_t r = a & b;

    if (a == DRAY__JT_NEUTRAL)
        return b;
    if (b == DRAY__JT_NEUTRAL)
        return a;
    if (!(r & DRAY_JT_NUMBER) &&
        (((a & DRAY_JT_INTEGER) && (b & DRAY_JT_NUMBER)) ||
         ((a & DRAY_JT_NUMBER) && (b & DRAY_JT_INTEGER))))
        r |= DRAY_JT_INTEGER;
    return r;
}

/* ---- $ref ---- */

/* The JSON Pointer segment p[0..n) with ~1 and ~0 decoded into out. */
static size_t pointer_segment(const char *p, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1'))
            out[o++] = p[++i] == '0' ? '~' : '/';
        else
            out[o++] = p[i];
    }
    return o;
}

/* Follows a local reference ("#", "#/definitions/a", "#/$defs/a", any
   JSON Pointer into the document). *out is NULL when it does not resolve.
   Returns 0 or -2. */
static int resolve_ref(const struct dray__fold *fo, const json_t *ref,
                       const json_t **out)
{
    const char *r = json_string_value(ref);
    size_t len = json_string_length(ref), i = 1;
    const json_t *cur = fo->root;
    char *seg;

    *out = NULL;
    if (len == 0 || r[0] != '#' || (len > 1 && r[1] != '/'))
        return 0; /* remote references are not followed */
    seg = malloc(len + 1);
    if (seg == NULL)
        return -2;
    while (cur != NULL && i < len) {
        size_t start = ++i, n;
        while (i < len && r[i] != '/')
            i++;
        n = pointer_segment(r + start, i - start, seg);
        seg[n] = '\0'; /* strspn and strtoul stop here */
        if (json_is_object(cur)) {
            cur = json_object_getn(cur, seg, n);
        } else if (json_is_array(cur) && n > 0 && n < 10 &&
                   strspn(seg, "0123456789") >= n) {
            cur = json_array_get(cur, strtoul(seg, NULL, 10));
        } else {
            cur = NULL;
        }
    }
    free(seg);
    *out = cur;
    return 0;
}

/* ---- folding the facets of a node ---- */

static int facet_eq(const void *ctx, int32_t id)
{
    const struct dray__facets *f = ctx;

    return f->v[id] == f->v[f->n];
}

static uint32_t facet_hash(const json_t *sch)
{
    uintptr_t p = (uintptr_t)sch;

    return dray__hash_bytes(&p, sizeof(p), 0);
}

/* The index of sch in f, or -1; f->v[f->n] is used as the probe. */
static int32_t facet_find(struct dray__facets *f, const json_t *sch)
{
    if (dray__grow(&f->v, &f->cap, f->n + 1, sizeof(*f->v)) != 0)
        return -2;
    f->v[f->n] = sch;
    return dray__idtab_find(&f->tab, facet_hash(sch), facet_eq, f);
}

static int facet_add(struct dray__facets *f, const json_t *sch)
{
    if (dray__grow(&f->bits, &f->cap_bits, f->n + 1, sizeof(*f->bits)) != 0 ||
        dray__idtab_add(&f->tab, facet_hash(sch), (int32_t)f->n) != 0)
        return -2;
    f->v[f->n] = sch;
    f->bits[f->n] = DRAY__JT_NEUTRAL; /* a way back into it while folding */
    return (int)f->n++;
}

static int walk(struct dray__fold *fo, const json_t *sch,
                struct dray__facets *f, int depth, uint32_t *out);

/* The union of the branches of an anyOf/oneOf list (DRAY__JT_NEUTRAL if none
   says anything). */
static int walk_union(struct dray__fold *fo, const json_t *list,
                      struct dray__facets *f, int depth, uint32_t *out)
{
    uint32_t u = DRAY__JT_NEUTRAL, bits;
    const json_t *v;
    size_t i;
    int rc;

    json_array_foreach (list, i, v) {
        if ((rc = walk(fo, v, f, depth + 1, &bits)) != 0)
            return rc;
        if (bits != DRAY__JT_NEUTRAL)
            u = u == DRAY__JT_NEUTRAL ? bits : u | bits;
    }
    *out = u;
    return 0;
}

/* The types of subschema sch (facets it reaches added to f). Returns 0,
   -1 with the error set, -2. */
static int walk(struct dray__fold *fo, const json_t *sch,
                struct dray__facets *f, int depth, uint32_t *out)
{
    static const char *const unions[] = {"anyOf", "oneOf"};
    const json_t *v, *target;
    uint32_t t, bits;
    int32_t idx;
    size_t i;
    int rc;

    *out = json_is_false(sch) ? 0 : DRAY__JT_ALL; /* true (or junk): anything */
    if (!json_is_object(sch))
        return 0;
    idx = facet_find(f, sch);
    if (idx == -2)
        return -2;
    if (idx >= 0 || depth > FOLD_MAX_DEPTH) {
        *out = idx >= 0 ? f->bits[idx] : DRAY__JT_NEUTRAL;
        return 0;
    }
    if (--fo->budget < 0)
        return -1;
    if ((idx = facet_add(f, sch)) < 0)
        return -2;
    t = dray__own_types(sch);
    for (i = 0; i < 2; i++) {
        v = json_object_get(sch, unions[i]);
        if (json_is_array(v) && json_array_size(v) > 0) {
            if ((rc = walk_union(fo, v, f, depth, &bits)) != 0)
                return rc;
            t = meet(t, bits);
        }
    }
    json_array_foreach (json_object_get(sch, "allOf"), i, v) {
        if ((rc = walk(fo, v, f, depth + 1, &bits)) != 0)
            return rc;
        t = meet(t, bits);
    }
    v = json_object_get(sch, "$ref");
    if (json_is_string(v)) {
        if (resolve_ref(fo, v, &target) != 0)
            return -2;
        if (target && (rc = walk(fo, target, f, depth + 1, &bits)) != 0)
            return rc;
        if (target)
            t = meet(t, bits);
    }
    f->bits[idx] = t;
    *out = t;
    return 0;
}

void dray__facets_release(struct dray__facets *f)
{
    free(f->v);
    free(f->bits);
    dray__idtab_release(&f->tab);
}

int dray__fold(struct dray__fold *fo, const json_t *sch, struct dray__facets *f,
               uint32_t *bits)
{
    return walk(fo, sch, f, 0, bits);
}

/*
 * schema_fold.h - internal to libdray_sdk.a: folding the subschemas that
 * describe one schema node (anyOf, oneOf, allOf, $ref) into its JSON
 * types and its list of facets (schema_fold.c, used by schema.c).
 */
#ifndef DRAY_SCHEMA_FOLD_H
#define DRAY_SCHEMA_FOLD_H

#include <jansson.h>

#include "schema_internal.h"

#define DRAY__JT_ALL                                                           \
    (DRAY_JT_NULL | DRAY_JT_BOOLEAN | DRAY_JT_INTEGER | DRAY_JT_NUMBER |       \
     DRAY_JT_STRING | DRAY_JT_OBJECT | DRAY_JT_ARRAY)
/* The fold of a subschema that says nothing (a $ref back into itself, one
   that does not resolve): the identity of both union and intersection. */
#define DRAY__JT_NEUTRAL (1u << 31)

/* Subschema visits per parse: bounds the work an adversarial web of anyOf
   and $ref can cause before the node limit would. */
#define DRAY__FOLD_BUDGET 2000000

struct dray__fold {
    const json_t *root; /* what "#/..." references resolve against */
    long budget;        /* visits left; DRAY__FOLD_BUDGET to start */
};

/* The subschemas of one node, each once, in the order reached. */
struct dray__facets {
    const json_t **v;
    uint32_t *bits; /* their folded types; DRAY__JT_NEUTRAL while folding */
    size_t n, cap, cap_bits;
    struct dray__idtab tab;
};

/*
 * Adds sch and every subschema it reaches to f; *bits gets the types it
 * allows (DRAY__JT_NEUTRAL when it says nothing). Returns 0, -1 when the
 * budget ran out, -2 when out of memory.
 */
int dray__fold(struct dray__fold *fo, const json_t *sch, struct dray__facets *f,
               uint32_t *bits);
void dray__facets_release(struct dray__facets *f);

/* The types a subschema's own "type" keyword allows; all without one. */
uint32_t dray__own_types(const json_t *sch);

#endif

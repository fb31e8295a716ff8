/*
 * dray_schema.h - a Singer SCHEMA as a column model.
 *
 * The JSON Schema of a stream becomes a tree of nodes in pre-order (node 0
 * is the record). ["null", ...] unions and anyOf fold into one node with
 * every JSON type allowed; $ref to local "#/definitions/..." is inlined,
 * recursive references cut at a depth limit (the node keeps the value as
 * JSON); format date-time, multipleOf (decimal scale) and
 * additionalProperties are kept. SCHEMA messages are rare, so this uses
 * jansson; records never go through it. Part of libdray_sdk.a.
 */
#ifndef DRAY_SCHEMA_H
#define DRAY_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "dray_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DRAY_SCHEMA_MAX_DEPTH 32 /* recursive $ref cut here */
#define DRAY_SCHEMA_MAX_NODES 100000

/* SDK-only node flags (bits 16 and up of dray_schema_field.flags; they
   never reach the ABI view). DECIMAL_STRING: the string format
   "singer.decimal", a decimal carried as text. */
#define DRAY_SCHEMA_DECIMAL_STRING (1u << 16)

struct dray_schema_field {
    char *name;     /* property name; "" for the root and array items */
    int32_t parent; /* -1 for the root */
    int32_t depth;
    uint32_t json_types;  /* DRAY_JT_* */
    int32_t format;       /* DRAY_FMT_* */
    uint32_t flags;       /* DRAY_NODE_* */
    int32_t scale;        /* decimal places from multipleOf; -1: none */
    char *multiple_of;    /* its source text, or NULL */
    int32_t first_child;  /* -1 when none */
    int32_t next_sibling; /* -1 when last */
    int32_t items;        /* for arrays: the items node, or -1; it is
                             not in the first_child chain */
};

struct dray__schema_index;

struct dray_schema {
    struct dray_schema_field *nodes;
    int32_t n_nodes;
    char **keys; /* key properties, in order */
    size_t n_keys;
    struct dray__schema_index *index; /* child lookup; NULL: linear */
};

/*
 * Builds the model from the SCHEMA message's "schema" value (json, len
 * bytes) and its key properties. Returns 0, or -1 with a one-line reason in
 * err (the top level is not an object, a key property is not a top-level
 * property, the schema is too large), -2 when out of memory.
 */
int dray_schema_parse(struct dray_schema *s, const char *json, size_t len,
                      const char *const *keys, size_t n_keys, char *err,
                      size_t errlen);
void dray_schema_release(struct dray_schema *s);

/* The child of node parent named name (n bytes), or -1. */
int32_t dray_schema_child(const struct dray_schema *s, int32_t parent,
                          const char *name, size_t n);

/* Fills the ABI view of node i (for the host's batch_schema_node): the
   caller sets out->hdr first; only the fields that fit in its struct_size
   are written and the header is left as it is. Nothing is written for an
   index out of range. */
void dray_schema_view(const struct dray_schema *s, int32_t i,
                      struct dray_schema_node *out);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_SCHEMA_H */

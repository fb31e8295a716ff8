/*
 * dray_ident.h - destination identifiers: canonical names, limits and
 * collisions, per dialect (reference: stitch-semantics.md §6.3).
 *
 * dray departs from Stitch on purpose for names over the limit: instead of
 * dropping the column (data loss) the name is cut to the limit and ends in
 * "_" plus 8 hex digits of a hash of the full name, never splitting a UTF-8
 * character; the caller records the original name (a column comment or
 * description). Part of libdray_sdk.a.
 */
#ifndef DRAY_IDENT_H
#define DRAY_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include "dray_encode.h"

#ifdef __cplusplus
extern "C" {
#endif

enum dray_ident_dialect {
    DRAY_IDENT_POSTGRES = 0,  /* case kept, 63 bytes */
    DRAY_IDENT_REDSHIFT = 1,  /* lower case, [a-z0-9_$], 127 bytes */
    DRAY_IDENT_SNOWFLAKE = 2, /* upper case, 255 characters */
    DRAY_IDENT_BIGQUERY = 3,  /* lower case, [a-z0-9_], 300 characters */
    DRAY_IDENT_FILES = 4      /* S3 and files: names kept, 1024 bytes */
};

/* The dialect named by a dray_dialect.type_map ("postgres", ...); -1 when
   unknown. */
int dray_ident_dialect_from_name(const char *type_map);

/* Limit of a dialect's identifiers, and whether it counts bytes (0 for
   an unknown dialect). */
size_t dray_ident_limit(int dialect, int *in_bytes);

/* Result flags of dray_ident_canon. */
#define DRAY_IDENT_CHANGED 0x01   /* differs from the source name */
#define DRAY_IDENT_TRUNCATED 0x02 /* cut to the limit with a hash */
#define DRAY_IDENT_EMPTY 0x04     /* nothing usable was left */

/*
 * Canonicalises a source name (n bytes of UTF-8) for dialect into out
 * (replacing its contents; name may point into out). System names
 * (starting "_sdc" or "__sdc", any case) keep their leading underscores.
 * Returns the DRAY_IDENT_* flags, -1 for an unknown dialect or a NULL
 * name with n > 0, or -2 when out of memory (out then unchanged). An EMPTY
 * result is the caller's to reject. Rules: docs/IDENTIFIERS.md.
 */
int dray_ident_canon(int dialect, const char *name, size_t n,
                     struct dray_buf *out);

/*
 * Joins a parent and a child name with "__" (object flattening and
 * subtables) and canonicalises the result as a whole, so the limit applies
 * to the joined name; a NULL or empty parent gives the child alone.
 * CHANGED compares with parent "__" child. Returns as dray_ident_canon.
 */
int dray_ident_join(int dialect, const char *parent, const char *child,
                    size_t child_len, struct dray_buf *out);

/*
 * Quotes an identifier for SQL of the dialect ("..." with "" doubled;
 * `...` with ` and \ escaped by \ for BigQuery; FILES: the name as it is).
 * Appends to out; returns 0, -1 for an unknown dialect, or -2 when out of
 * memory (out then unchanged).
 */
int dray_ident_quote(int dialect, const char *name, struct dray_buf *out);

/* A set of names in one scope (a table's columns, a schema's tables) that
   finds collisions after canonicalisation. */
struct dray_ident_set;
struct dray_ident_set *dray_ident_set_new(void);
void dray_ident_set_free(struct dray_ident_set *set);
/* Adds (a copy of) name; returns 1 when added, 0 when already present,
   -2 on OOM (the set unchanged). Names compare byte for byte: add them
   canonical. */
int dray_ident_set_add(struct dray_ident_set *set, const char *name);
/* 1 when name is in the set, else 0. */
int dray_ident_set_has(const struct dray_ident_set *set, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_IDENT_H */

/*
 * schema_internal.h - internal to libdray_sdk.a: the pieces the schema
 * model (schema*.c) and the type tables (types*.c) share.
 */
#ifndef DRAY_SCHEMA_INTERNAL_H
#define DRAY_SCHEMA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "dray/dray_encode.h"
#include "dray/dray_schema.h"
#include "dray/dray_types.h"

/*
 * Rewrites a JSON text so that every number in a value position becomes a
 * string holding its source text (1.50 -> "1.50"), which jansson then
 * keeps to the digit. Returns 0 with the new text in out, 1 when the text
 * has no number or is not well-formed (parse the original: jansson gives
 * the error), -2 when out of memory.
 */
int dray__schema_quote_numbers(const char *text, size_t len,
                               struct dray_buf *out);

/*
 * A decimal number's text, read without ever going through a double.
 * Mantissa digit j (0-based, the point skipped) has the place value
 * 10^(point - 1 - j); first and last are the first and last non-zero
 * digits (first = -1 for zero).
 */
struct dray__decimal {
    const char *digits; /* the first mantissa digit */
    int64_t n_int;      /* mantissa digits before the point */
    int64_t n_digits;   /* mantissa digits in all */
    int64_t point;      /* n_int + exponent (saturated) */
    int64_t first, last;
    int negative;
};

/* Reads [+-]digits[.digits][e[+-]digits] (at least one mantissa digit;
   the whole of s). Returns 0, or -1 when s is not such a number. */
int dray__decimal_scan(const char *s, size_t n, struct dray__decimal *d);
/* Significant digits left of the point (0 for 0.5), and right of it with
   trailing zeros dropped (0 for 1.500e1 = 15). */
int64_t dray__decimal_int_digits(const struct dray__decimal *d);
int64_t dray__decimal_frac_digits(const struct dray__decimal *d);
/* The digit at place value 10^place, 0..9. */
int dray__decimal_digit(const struct dray__decimal *d, int64_t place);

/*
 * A small open-addressing table of int32 ids under 32-bit hashes; the
 * caller keeps the keys and says which id matches (schema_access.c).
 */
struct dray__idslot {
    int32_t id; /* -1: empty */
    uint32_t hash;
};
struct dray__idtab {
    struct dray__idslot *slot;
    size_t mask; /* slots - 1; 0 when nothing was added */
    size_t n;
};
typedef int (*dray__id_eq)(const void *ctx, int32_t id);

uint32_t dray__hash_bytes(const void *p, size_t n, uint32_t seed);
/* Adds id (the caller knows it is not there yet). Returns 0 or -2. */
int dray__idtab_add(struct dray__idtab *t, uint32_t hash, int32_t id);
/* The id under hash for which eq(ctx, id) is true, or -1. */
int32_t dray__idtab_find(const struct dray__idtab *t, uint32_t hash,
                         dray__id_eq eq, const void *ctx);
void dray__idtab_release(struct dray__idtab *t);

/* Grows *p (an array of size-byte items, *cap of them) to hold need.
   Returns 0 or -2 (the array unchanged). */
int dray__grow(void *p, size_t *cap, size_t need, size_t size);

/* Builds the child index of a parsed schema (s->index). 0 or -2. */
int dray__schema_index_build(struct dray_schema *s);
void dray__schema_index_free(struct dray_schema *s);

/* The type tables (types_tables.c): entry i, or NULL past the last. */
const struct dray_type_dialect *dray__types_table(size_t i);

#endif

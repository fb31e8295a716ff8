/*
 * dray_types.h - Stitch's type mapping as data: which destination type a
 * value gets, the suffix of its split column, and the ranges a destination
 * takes (reference: stitch-semantics.md §6.2, §8). One table per dialect;
 * no plugin has switch cases of its own. Part of libdray_sdk.a.
 *
 * Decisions where the sources conflict (written down once, here and in
 * docs/DATA_CORE.md): _sdc_sequence is an int64; PostgreSQL timestamps are
 * timestamptz; integer is bigint; number with multipleOf is a decimal,
 * number without it a double (float on Snowflake and BigQuery); a string
 * declared date-time that does not parse as one is a string.
 */
#ifndef DRAY_TYPES_H
#define DRAY_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "dray_json.h"
#include "dray_schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The Stitch type of a value (what a column holds). */
enum dray_stype {
    DRAY_ST_NONE = 0,   /* null: creates nothing */
    DRAY_ST_BIGINT = 1, /* integer */
    DRAY_ST_BOOLEAN = 2,
    DRAY_ST_TIMESTAMP = 3, /* string + date-time that parses */
    DRAY_ST_DOUBLE = 4,    /* number without multipleOf */
    DRAY_ST_DECIMAL = 5,   /* number with multipleOf */
    DRAY_ST_STRING = 6,
    DRAY_ST_OBJECT = 7, /* nested; flattened, or native */
    DRAY_ST_ARRAY = 8,
    DRAY_ST_COUNT = 9
};

/* What a dialect does with a Stitch type. */
struct dray_type_map {
    const char *sql;    /* the column type, e.g. "bigint", "TIMESTAMP_TZ(9)";
                           NULL when the dialect has none (nested on a
                           flattening dialect) */
    const char *suffix; /* the split suffix, e.g. "__bi" */
};

struct dray_type_dialect {
    const char *name;    /* "postgres", "redshift", "snowflake",
                            "bigquery", "files" */
    int rename_on_split; /* 1: the original column gets a suffix too */
    int native_nesting;  /* objects and arrays are column types */
    struct dray_type_map map[DRAY_ST_COUNT];
    const char *const *reserved_suffixes; /* NULL-terminated */
    int64_t min_year, max_year;           /* timestamp range (years, 0 is
                                             1 BC) */
    int decimal_max_precision;            /* digits in all; 0: no limit */
    int decimal_max_scale;
    const char *display;       /* the name in rejection reasons: "Redshift" */
    const char *decimal_word;  /* "decimal"; BigQuery says "Numeric" */
    int integer_digits;        /* 0: the int64 range; else at most this many
                                  digits (Snowflake NUMBER(38,0)) */
    int decimal_default_scale; /* column scale of a decimal that declares
                                  none (no multipleOf) */
    int decimal_scale_cap;     /* the largest declared scale a column takes */
    int decimal_sql_scaled;    /* 1: the column type is sql(precision,scale) */
    int suffix_case_sensitive; /* 0: "__ST" counts as the suffix "__st" */
};

/* The table of a dialect by name; NULL when unknown. */
const struct dray_type_dialect *dray_types_dialect(const char *name);

/*
 * The Stitch type of token i of doc under schema node node (node may be -1
 * for a field the schema does not declare: the type follows the value).
 * double_for_number: number without multipleOf maps to DOUBLE (1) or
 * DECIMAL (0). Null gives DRAY_ST_NONE; -1 when i is not a token of doc.
 * A value of a JSON type the node does not allow gets its own natural type.
 */
int dray_types_classify(const struct dray_schema *s, int32_t node,
                        const struct dray_json_doc *doc, uint32_t i,
                        int double_for_number);

/* The stype a schema node declares (the column's expected type), or
   DRAY_ST_NONE for a node that allows only null or declares no type. Of
   several types, numbers come first, then boolean, string, object,
   array. */
int dray_types_declared(const struct dray_schema *s, int32_t node,
                        int double_for_number);

/*
 * When a value of stype does not fit the dialect's column type, writes the
 * Stitch rejection reason ("integer out of range for PostgreSQL on
 * [9223372036854775808]") to reason and returns -1; else 0. text is the
 * value's canonical text.
 */
int dray_types_check_range(const struct dray_type_dialect *d, int stype,
                           const char *text, size_t len, char *reason,
                           size_t reason_len);

/*
 * The same for a decimal: the check uses the column's scale (that of
 * dray_types_decimal_scale(d, scale)); digits beyond it are rounded by the
 * destination, so only the integer part (after rounding) is checked.
 * dray_types_check_range() checks decimals at the dialect's default scale.
 */
int dray_types_check_decimal(const struct dray_type_dialect *d, int32_t scale,
                             const char *text, size_t len, char *reason,
                             size_t reason_len);

/* The scale of the decimal column of a node declaring scale (-1: none). */
int32_t dray_types_decimal_scale(const struct dray_type_dialect *d,
                                 int32_t scale);

/*
 * Writes the column type of stype for a node declaring scale (-1: none) to
 * buf, e.g. "decimal(38,2)". Returns its length, or -1 when the dialect
 * has no column type for stype (or buf is too small).
 */
int dray_types_sql(const struct dray_type_dialect *d, int stype, int32_t scale,
                   char *buf, size_t n);

/* The stype whose split suffix name (n bytes) ends in, or DRAY_ST_NONE
   (Snowflake's __va gives DRAY_ST_OBJECT). */
int dray_types_suffix_stype(const struct dray_type_dialect *d, const char *name,
                            size_t n);

/* 1 when name (n bytes) ends in one of the dialect's reserved suffixes. */
int dray_types_has_reserved_suffix(const struct dray_type_dialect *d,
                                   const char *name, size_t n);

const char *dray_stype_name(int stype);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_TYPES_H */

/*
 * types_tables.c - Stitch's type mapping per destination, as data
 * (reference: stitch-semantics.md §6.2 suffix table, §8.1-8.5). Every
 * choice where the sources disagree is explained in docs/DATA_CORE.md,
 * "Type mapping".
 */
#include "schema_internal.h"

#include <stdint.h>

static const char *const relational_reserved[] = {
    "__bi", "__bo", "__de", "__do", "__it", "__st", "__ti", NULL};
static const char *const snowflake_reserved[] = {"__bo", "__de", "__fl", "__it",
                                                 "__st", "__ti", "__va", NULL};
static const char *const bigquery_reserved[] = {"__bo", "__fl", "__it", "__nu",
                                                "__st", "__ti", NULL};
static const char *const no_reserved[] = {NULL};

// clang-format off
static const struct dray_type_dialect tables[] = {
    {
        .name = "postgres",
        .rename_on_split = 1,
        .native_nesting = 0,
        .map = {
            [DRAY_ST_BIGINT] = {"bigint", "__bi"},
            [DRAY_ST_BOOLEAN] = {"boolean", "__bo"},
            [DRAY_ST_TIMESTAMP] = {"timestamp with time zone", "__ti"},
            [DRAY_ST_DOUBLE] = {"double precision", "__do"},
            [DRAY_ST_DECIMAL] = {"numeric", "__de"},
            [DRAY_ST_STRING] = {"text", "__st"},
        },
        .reserved_suffixes = relational_reserved,
        .min_year = -4712, /* 4713 BC */
        .max_year = 294276,
        /* numeric: 131072 digits before the point, 16383 after. */
        .decimal_max_precision = 131072 + 16383,
        .decimal_max_scale = 16383,
        .display = "PostgreSQL",
        .decimal_word = "decimal",
        .integer_digits = 0,
        .decimal_default_scale = 16383, /* unconstrained numeric */
        .decimal_scale_cap = 16383,
        .decimal_sql_scaled = 0,
        .suffix_case_sensitive = 1,
    },
    {
        .name = "redshift",
        .rename_on_split = 1,
        .native_nesting = 0,
        .map = {
            [DRAY_ST_BIGINT] = {"bigint", "__bi"},
            [DRAY_ST_BOOLEAN] = {"boolean", "__bo"},
            [DRAY_ST_TIMESTAMP] = {"timestamp without time zone", "__ti"},
            [DRAY_ST_DOUBLE] = {"double precision", "__do"},
            [DRAY_ST_DECIMAL] = {"decimal", "__de"},
            [DRAY_ST_STRING] = {"varchar", "__st"},
        },
        .reserved_suffixes = relational_reserved,
        .min_year = -4712,
        .max_year = 294276,
        .decimal_max_precision = 38,
        .decimal_max_scale = 37,
        .display = "Redshift",
        .decimal_word = "decimal",
        .integer_digits = 0,
        .decimal_default_scale = 6,
        .decimal_scale_cap = 18,
        .decimal_sql_scaled = 1,
        .suffix_case_sensitive = 0,
    },
    {
        .name = "snowflake",
        .rename_on_split = 0,
        .native_nesting = 1,
        .map = {
            [DRAY_ST_BIGINT] = {"NUMBER(38,0)", "__it"},
            [DRAY_ST_BOOLEAN] = {"BOOLEAN", "__bo"},
            [DRAY_ST_TIMESTAMP] = {"TIMESTAMP_TZ(9)", "__ti"},
            [DRAY_ST_DOUBLE] = {"FLOAT", "__fl"},
            [DRAY_ST_DECIMAL] = {"NUMBER", "__de"},
            [DRAY_ST_STRING] = {"VARCHAR(16777216)", "__st"},
            [DRAY_ST_OBJECT] = {"VARIANT", "__va"},
            [DRAY_ST_ARRAY] = {"VARIANT", "__va"},
        },
        .reserved_suffixes = snowflake_reserved,
        .min_year = 1,
        .max_year = 9999,
        .decimal_max_precision = 38,
        .decimal_max_scale = 37,
        .display = "Snowflake",
        .decimal_word = "decimal",
        .integer_digits = 38,
        .decimal_default_scale = 6,
        .decimal_scale_cap = 18,
        .decimal_sql_scaled = 1,
        .suffix_case_sensitive = 0,
    },
    {
        .name = "bigquery",
        .rename_on_split = 0,
        .native_nesting = 1,
        .map = {
            [DRAY_ST_BIGINT] = {"INT64", "__it"},
            [DRAY_ST_BOOLEAN] = {"BOOL", "__bo"},
            [DRAY_ST_TIMESTAMP] = {"TIMESTAMP", "__ti"},
            [DRAY_ST_DOUBLE] = {"FLOAT64", "__fl"},
            [DRAY_ST_DECIMAL] = {"NUMERIC", "__nu"},
            [DRAY_ST_STRING] = {"STRING", "__st"},
            [DRAY_ST_OBJECT] = {"RECORD", "__re"},
            [DRAY_ST_ARRAY] = {"REPEATED RECORD", "__ar"},
        },
        .reserved_suffixes = bigquery_reserved,
        .min_year = 1,
        .max_year = 9999,
        /* NUMERIC: 29 digits before the point, 9 after. */
        .decimal_max_precision = 38,
        .decimal_max_scale = 9,
        .display = "BigQuery",
        .decimal_word = "Numeric",
        .integer_digits = 0,
        .decimal_default_scale = 9,
        .decimal_scale_cap = 9,
        .decimal_sql_scaled = 0,
        .suffix_case_sensitive = 0,
    },
    {
        /* Files (S3 CSV/JSONL): text has no column types, so nothing
           splits and nothing is out of range. */
        .name = "files",
        .rename_on_split = 0,
        .native_nesting = 0,
        .map = {{NULL, NULL}},
        .reserved_suffixes = no_reserved,
        .min_year = INT64_MIN,
        .max_year = INT64_MAX,
        .decimal_max_precision = 0,
        .decimal_max_scale = 0,
        .display = "files",
        .decimal_word = "decimal",
        .integer_digits = 0,
        .decimal_default_scale = 0,
        .decimal_scale_cap = 0,
        .decimal_sql_scaled = 0,
        .suffix_case_sensitive = 1,
    },
};
// clang-format on

const struct dray_type_dialect *dray__types_table(size_t i)
{
    return i < sizeof(tables) / sizeof(tables[0]) ? &tables[i] : NULL;
}

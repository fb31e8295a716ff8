/*
 * types.c - which Stitch type a value has under its schema node, and what
 * a dialect's table makes of it (column types, split suffixes). The
 * tables are in types_tables.c, the range checks in types_range.c.
 */
#include "schema_internal.h"

#include <stdio.h>
#include <string.h>

#include "dray/dray_datetime.h"

#define JT_NON_NULL                                                            \
    (DRAY_JT_BOOLEAN | DRAY_JT_INTEGER | DRAY_JT_NUMBER | DRAY_JT_STRING |     \
     DRAY_JT_OBJECT | DRAY_JT_ARRAY)

/* Longest escaped string classify decodes to look for a date-time or a
   decimal in it; longer escaped strings are plain strings. */
#define SMALL_TEXT 64

const struct dray_type_dialect *dray_types_dialect(const char *name)
{
    const struct dray_type_dialect *d;

    if (name == NULL)
        return NULL;
    for (size_t i = 0; (d = dray__types_table(i)) != NULL; i++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

const char *dray_stype_name(int stype)
{
    static const char *const names[DRAY_ST_COUNT] = {
        "none",    "bigint", "boolean", "timestamp", "double",
        "decimal", "string", "object",  "array"};

    return stype >= 0 && stype < DRAY_ST_COUNT ? names[stype] : "unknown";
}

static const struct dray_schema_field *node_of(const struct dray_schema *s,
                                               int32_t node)
{
    return s != NULL && node >= 0 && node < s->n_nodes ? &s->nodes[node] : NULL;
}

/* A number under f (NULL: undeclared) that is not taken as an integer. */
static int number_type(const struct dray_schema_field *f, int double_for_number)
{
    if (f != NULL && f->scale >= 0)
        return DRAY_ST_DECIMAL; /* multipleOf: an exact decimal */
    return double_for_number ? DRAY_ST_DOUBLE : DRAY_ST_DECIMAL;
}

static int classify_number(const struct dray_schema_field *f,
                           const struct dray_json_token *t,
                           int double_for_number)
{
    uint32_t jt = f ? f->json_types : 0;

    if (t->flags & DRAY_JSON_F_INTEGER) {
        /* 5 under "number" is a number; under anything else an integer. */
        if ((jt & DRAY_JT_NUMBER) && !(jt & DRAY_JT_INTEGER))
            return number_type(f, double_for_number);
        return DRAY_ST_BIGINT;
    }
    /* 16.5 (or 1e3) under "integer" alone is not one: its own type. */
    return number_type((jt & DRAY_JT_NUMBER) ? f : NULL, double_for_number);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* The decoded text of a short escaped string, ASCII only (date-times and
   decimals are). Returns its length, or -1. */
static int small_unescape(const char *s, size_t n, char out[SMALL_TEXT])
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e;
    size_t o = 0;
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (o == SMALL_TEXT)
            return -1;
        if (s[i] != '\\') {
            out[o++] = s[i];
            continue;
        }
        if (++i >= n)
            return -1;
        if (s[i] == 'u') {
            if (i + 4 >= n)
                return -1;
            for (int k = 1; k <= 4 && v >= 0; k++)
                v = hex_value(s[i + k]) < 0 ? -1 : v * 16 + hex_value(s[i + k]);
            if (v < 0 || v >= 0x80)
                return -1;
            out[o++] = (char)v;
            v = 0;
            i += 4;
        } else if (s[i] != '\0' && (e = strchr(from, s[i])) != NULL) {
            out[o++] = to[e - from];
        } else {
            return -1;
        }
    }
    return (int)o;
}

static int classify_string(const struct dray_schema_field *f,
                           const struct dray_json_doc *doc,
                           const struct dray_json_token *t)
{
    const char *s = doc->text + t->offset;
    size_t n = t->len;
    char buf[SMALL_TEXT];
    struct dray_timestamp ts;
    struct dray__decimal dec;
    int len;

    if (f == NULL || !(f->json_types & DRAY_JT_STRING))
        return DRAY_ST_STRING; /* a string is a string unless declared */
    if (f->format != DRAY_FMT_DATE_TIME && f->format != DRAY_FMT_DATE &&
        !(f->flags & DRAY_SCHEMA_DECIMAL_STRING))
        return DRAY_ST_STRING;
    if (t->flags & DRAY_JSON_F_ESCAPED) {
        if (n > 6 * SMALL_TEXT || (len = small_unescape(s, n, buf)) < 0)
            return DRAY_ST_STRING;
        s = buf;
        n = (size_t)len;
    }
    if (f->flags & DRAY_SCHEMA_DECIMAL_STRING)
        return dray__decimal_scan(s, n, &dec) == 0 ? DRAY_ST_DECIMAL
                                                   : DRAY_ST_STRING;
    /* A date-time that does not parse stays a string (a split column). */
    return dray_datetime_parse(s, n, &ts) == 0 ? DRAY_ST_TIMESTAMP
                                               : DRAY_ST_STRING;
}

int dray_types_classify(const struct dray_schema *s, int32_t node,
                        const struct dray_json_doc *doc, uint32_t i,
                        int double_for_number)
{
    const struct dray_schema_field *f = node_of(s, node);
    const struct dray_json_token *t;

    if (doc == NULL || i >= doc->n_tok)
        return -1;
    t = &doc->tok[i];
    switch (t->type) {
    case DRAY_JSON_NULL:
        return DRAY_ST_NONE;
    case DRAY_JSON_FALSE:
    case DRAY_JSON_TRUE:
        return DRAY_ST_BOOLEAN;
    case DRAY_JSON_NUMBER:
        return classify_number(f, t, double_for_number);
    case DRAY_JSON_STRING:
        return classify_string(f, doc, t);
    case DRAY_JSON_OBJECT:
        return DRAY_ST_OBJECT;
    case DRAY_JSON_ARRAY:
        return DRAY_ST_ARRAY;
    default:
        return -1;
    }
}

int dray_types_declared(const struct dray_schema *s, int32_t node,
                        int double_for_number)
{
    const struct dray_schema_field *f = node_of(s, node);
    uint32_t jt = f ? f->json_types : 0;

    /* Everything allowed declares nothing: the first value decides. */
    if ((jt & JT_NON_NULL) == JT_NON_NULL)
        return DRAY_ST_NONE;
    if (jt & DRAY_JT_NUMBER)
        return number_type(f, double_for_number);
    if (jt & DRAY_JT_INTEGER)
        return DRAY_ST_BIGINT;
    if (jt & DRAY_JT_BOOLEAN)
        return DRAY_ST_BOOLEAN;
    if (jt & DRAY_JT_STRING) {
        if (f->flags & DRAY_SCHEMA_DECIMAL_STRING)
            return DRAY_ST_DECIMAL;
        return f->format == DRAY_FMT_DATE_TIME || f->format == DRAY_FMT_DATE
                   ? DRAY_ST_TIMESTAMP
                   : DRAY_ST_STRING;
    }
    if (jt & DRAY_JT_OBJECT)
        return DRAY_ST_OBJECT;
    return jt & DRAY_JT_ARRAY ? DRAY_ST_ARRAY : DRAY_ST_NONE;
}

/* ---- suffixes and column types ---- */

static int ends_with(const char *name, size_t n, const char *suffix,
                     int case_sensitive)
{
    size_t m = strlen(suffix);

    if (n < m)
        return 0;
    name += n - m;
    if (case_sensitive)
        return memcmp(name, suffix, m) == 0;
    for (size_t i = 0; i < m; i++) {
        char c = name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i];
        if (c != suffix[i])
            return 0;
    }
    return 1;
}

int dray_types_has_reserved_suffix(const struct dray_type_dialect *d,
                                   const char *name, size_t n)
{
    if (d == NULL || name == NULL || d->reserved_suffixes == NULL)
        return 0;
    for (const char *const *r = d->reserved_suffixes; *r; r++)
        if (ends_with(name, n, *r, d->suffix_case_sensitive))
            return 1;
    return 0;
}

int dray_types_suffix_stype(const struct dray_type_dialect *d, const char *name,
                            size_t n)
{
    if (d == NULL || name == NULL)
        return DRAY_ST_NONE;
    for (int st = DRAY_ST_NONE + 1; st < DRAY_ST_COUNT; st++)
        if (d->map[st].suffix != NULL &&
            ends_with(name, n, d->map[st].suffix, d->suffix_case_sensitive))
            return st;
    return DRAY_ST_NONE;
}

int32_t dray_types_decimal_scale(const struct dray_type_dialect *d,
                                 int32_t scale)
{
    if (d == NULL)
        return 0;
    /* A type without a scale of its own (numeric, NUMERIC) has one. */
    if (!d->decimal_sql_scaled || scale < 0)
        return d->decimal_default_scale;
    return scale < d->decimal_scale_cap ? scale : d->decimal_scale_cap;
}

int dray_types_sql(const struct dray_type_dialect *d, int stype, int32_t scale,
                   char *buf, size_t n)
{
    const char *base;
    int len;

    if (d == NULL || stype <= DRAY_ST_NONE || stype >= DRAY_ST_COUNT ||
        (base = d->map[stype].sql) == NULL || buf == NULL)
        return -1;
    if (stype == DRAY_ST_DECIMAL && d->decimal_sql_scaled)
        len = snprintf(buf, n, "%s(%d,%d)", base, d->decimal_max_precision,
                       (int)dray_types_decimal_scale(d, scale));
    else
        len = snprintf(buf, n, "%s", base);
    return len < 0 || (size_t)len >= n ? -1 : len;
}

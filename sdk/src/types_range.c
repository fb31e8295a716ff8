/*
 * types_range.c - whether a value fits its destination column, with
 * Stitch's rejection reasons ("integer out of range for PostgreSQL on
 * [9223372036854775808]"). Numbers are judged on their text, digit by
 * digit: a 39-digit decimal or 2^63 never goes through a double.
 */
#include "schema_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dray/dray_datetime.h"

/* Digits of DBL_MAX before the point (1.797...e308). */
#define DOUBLE_INT_DIGITS 309
/* Significant digits that decide a double's rounding near DBL_MAX. */
#define DOUBLE_DIGITS 40

/* Writes "<what> out of range for <Dest> on [<text>]" (control bytes as
   '?', so it stays one line) and returns -1. */
static int reject(const struct dray_type_dialect *d, const char *what,
                  const char *text, size_t len, char *reason, size_t cap)
{
    int n;
    size_t at, i;

    if (reason == NULL || cap == 0)
        return -1;
    n = snprintf(reason, cap, "%s out of range for %s on [", what, d->display);
    at = n < 0 ? 0 : (size_t)n;
    for (i = 0; i < len && at + 2 < cap; i++)
        reason[at++] = (unsigned char)text[i] < 0x20 ? '?' : text[i];
    if (at + 1 < cap)
        reason[at++] = ']';
    reason[at < cap ? at : cap - 1] = '\0';
    return -1;
}

/* 1 when text is [+-]digits and fits the dialect's integer column. */
static int integer_fits(const struct dray_type_dialect *d, const char *s,
                        size_t n)
{
    static const char max[] = "9223372036854775807";
    int negative = n > 0 && s[0] == '-';
    size_t i = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0, digits;
    int cmp;

    if (i == n || strspn(s + i, "0123456789") < n - i)
        return 0;
    while (i + 1 < n && s[i] == '0')
        i++;
    digits = n - i;
    if (d->integer_digits > 0)
        return digits <= (size_t)d->integer_digits;
    if (digits != sizeof(max) - 1)
        return digits < sizeof(max) - 1;
    /* 19 digits: compare with 2^63 - 1 (2^63 itself when negative). */
    cmp = memcmp(s + i, max, digits);
    return cmp <= 0 ||
           (negative && memcmp(s + i, "9223372036854775808", digits) == 0);
}

/* 1 when a double holds the number without becoming infinite. */
static int double_fits(const char *s, size_t n)
{
    struct dray__decimal dec;
    char buf[DOUBLE_DIGITS + 16];
    size_t o = 0;

    if (dray__decimal_scan(s, n, &dec) != 0)
        return 0;
    if (dray__decimal_int_digits(&dec) != DOUBLE_INT_DIGITS)
        return dray__decimal_int_digits(&dec) < DOUBLE_INT_DIGITS;
    /* At DBL_MAX's magnitude the leading digits decide: d.ddd...e308. */
    for (int64_t p = DOUBLE_INT_DIGITS - 1; p >= 0 && o < DOUBLE_DIGITS; p--) {
        buf[o++] = (char)('0' + dray__decimal_digit(&dec, p));
        if (o == 1)
            buf[o++] = '.';
    }
    memcpy(buf + o, "e308", 5);
    return !isinf(strtod(buf, NULL));
}

/* Whether rounding to scale digits after the point carries into a new
   leading digit (999.996 at scale 2 becomes 1000.00). */
static int rounds_up_a_digit(const struct dray__decimal *dec, int64_t scale,
                             int64_t int_digits)
{
    if (dray__decimal_frac_digits(dec) <= scale ||
        dray__decimal_digit(dec, -scale - 1) < 5)
        return 0;
    for (int64_t p = int_digits - 1; p >= -scale; p--)
        if (dray__decimal_digit(dec, p) != 9)
            return 0;
    return 1;
}

int dray_types_check_decimal(const struct dray_type_dialect *d, int32_t scale,
                             const char *text, size_t len, char *reason,
                             size_t reason_len)
{
    struct dray__decimal dec;
    int64_t col_scale, max_int, digits;

    if (d == NULL || d->map[DRAY_ST_DECIMAL].sql == NULL ||
        d->decimal_max_precision <= 0)
        return 0; /* no column type, no limit */
    if (text == NULL)
        text = "", len = 0;
    col_scale = dray_types_decimal_scale(d, scale);
    max_int = d->decimal_max_precision - col_scale;
    /* Digits past the column's scale are rounded away by the destination;
       only the integer part can overflow. */
    if (dray__decimal_scan(text, len, &dec) == 0) {
        digits = dray__decimal_int_digits(&dec);
        if (digits < max_int ||
            (digits == max_int && !rounds_up_a_digit(&dec, col_scale, max_int)))
            return 0;
    }
    return reject(d, d->decimal_word, text, len, reason, reason_len);
}

static int timestamp_fits(const struct dray_type_dialect *d, const char *s,
                          size_t n)
{
    struct dray_timestamp ts;
    int64_t year;

    if (n > 0 && s[0] == '+') /* +300000-01-01T00:00:00Z */
        s++, n--;
    if (dray_datetime_parse(s, n, &ts) != 0)
        return 0;
    year = dray_datetime_year(&ts);
    return year >= d->min_year && year <= d->max_year;
}

int dray_types_check_range(const struct dray_type_dialect *d, int stype,
                           const char *text, size_t len, char *reason,
                           size_t reason_len)
{
    if (reason && reason_len)
        reason[0] = '\0';
    if (d == NULL || stype <= DRAY_ST_NONE || stype >= DRAY_ST_COUNT ||
        d->map[stype].sql == NULL)
        return 0; /* no column type, no limit (files) */
    if (text == NULL)
        text = "", len = 0;
    switch (stype) {
    case DRAY_ST_BIGINT:
        if (integer_fits(d, text, len))
            return 0;
        return reject(d, "integer", text, len, reason, reason_len);
    case DRAY_ST_TIMESTAMP:
        if (timestamp_fits(d, text, len))
            return 0;
        return reject(d, "timestamp", text, len, reason, reason_len);
    case DRAY_ST_DOUBLE:
        if (double_fits(text, len))
            return 0;
        return reject(d, d->decimal_word, text, len, reason, reason_len);
    case DRAY_ST_DECIMAL:
        return dray_types_check_decimal(d, -1, text, len, reason, reason_len);
    default:
        return 0;
    }
}

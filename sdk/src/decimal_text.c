/*
 * decimal_text.c - decimal numbers read as text: digit counts for scales
 * (multipleOf) and destination ranges. Never through a double, so 38-digit
 * values and 1e-40 keep every digit.
 */
#include "schema_internal.h"

/* Exponents are clamped here: far beyond any destination's limits, far
   from int64 overflow even with 2^32 mantissa digits added. */
#define DECIMAL_EXP_LIMIT 1000000000000LL

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char mantissa_digit(const struct dray__decimal *d, int64_t j)
{
    /* Digits after the point sit one byte further on, past the '.'. */
    return d->digits[j < d->n_int ? j : j + 1];
}

/* Reads the exponent after 'e' from s[i..n); -1 when malformed. */
static int scan_exponent(const char *s, size_t n, size_t i, int64_t *exp)
{
    int neg = 0;
    int64_t v = 0;
    size_t start;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    start = i;
    for (; i < n && is_digit(s[i]); i++)
        if (v < DECIMAL_EXP_LIMIT)
            v = v * 10 + (s[i] - '0');
    if (i == start || i != n)
        return -1;
    if (v > DECIMAL_EXP_LIMIT)
        v = DECIMAL_EXP_LIMIT;
    *exp = neg ? -v : v;
    return 0;
}

int dray__decimal_scan(const char *s, size_t n, struct dray__decimal *d)
{
    size_t i = 0;
    int64_t exp = 0;

    d->negative = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        d->negative = s[i++] == '-';
    d->digits = s + i;
    d->n_int = 0;
    d->n_digits = 0;
    for (; i < n && is_digit(s[i]); i++)
        d->n_int++;
    d->n_digits = d->n_int;
    if (i < n && s[i] == '.')
        for (i++; i < n && is_digit(s[i]); i++)
            d->n_digits++;
    if (d->n_digits == 0)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (scan_exponent(s, n, i + 1, &exp) != 0)
            return -1;
    } else if (i != n) {
        return -1;
    }
    d->point = d->n_int + exp;
    d->first = -1;
    d->last = -1;
    for (int64_t j = 0; j < d->n_digits; j++) {
        if (mantissa_digit(d, j) == '0')
            continue;
        if (d->first < 0)
            d->first = j;
        d->last = j;
    }
    return 0;
}

int64_t dray__decimal_int_digits(const struct dray__decimal *d)
{
    if (d->first < 0 || d->point <= d->first)
        return 0;
    return d->point - d->first;
}

int64_t dray__decimal_frac_digits(const struct dray__decimal *d)
{
    if (d->first < 0 || d->last + 1 <= d->point)
        return 0;
    return d->last + 1 - d->point;
}

int dray__decimal_digit(const struct dray__decimal *d, int64_t place)
{
    int64_t j = d->point - 1 - place;

    if (d->first < 0 || j < d->first || j > d->last)
        return 0;
    return mantissa_digit(d, j) - '0';
}

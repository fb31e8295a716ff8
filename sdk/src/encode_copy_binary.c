/*
 * PostgreSQL COPY binary format: each value in the binary form of its
 * column's type, as the type's receive function expects it. A row is
 * built in scratch and goes to the sink in one write, so a value that does
 * not fit its type (-1) leaves nothing of the row behind.
 */
#include "encode_internal.h"

#include <errno.h>
#include <langinfo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 2000-01-01 (PostgreSQL's epoch) in microseconds since 1970. */
#define PG_EPOCH_US INT64_C(946684800000000)
/* PostgreSQL's first valid timestamp, 4714-11-24 00:00 BC (its
   MIN_TIMESTAMP), in microseconds since 1970. Its upper bound, 294277 AD,
   lies beyond what an int64 of microseconds since 1970 can reach. */
#define PG_TS_MIN_US (INT64_C(-211813488000000000) + PG_EPOCH_US)

/* numeric's binary form: base-10000 digits, limits from PostgreSQL. */
#define NUMERIC_POS 0x0000
#define NUMERIC_NEG 0x4000
#define NUMERIC_NBASE 10000
#define NUMERIC_MAX_INT_DIGITS 131072 /* before the point (weight <= 32767) */
#define NUMERIC_MAX_DSCALE 16383      /* after the point */
/* Exponents are clamped here: far past any limit, far from overflow. */
#define NUMBER_EXP_CAP INT64_C(1000000000)

/* ---- big-endian output -------------------------------------------------- */

static void store_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static int put_be(struct dray_buf *b, uint64_t v, int bytes)
{
    unsigned char tmp[8];

    store_be(tmp, v, bytes);
    return dray_buf_add(b, tmp, (size_t)bytes);
}

/* ---- numbers as text ---------------------------------------------------- */

/* A number's text taken apart: [sign] digits [. digits] [e [sign] digits]. */
struct number {
    int neg;
    const char *ip; /* digits before the point */
    size_t ilen;
    const char *fp; /* digits after it */
    size_t flen;
    int64_t exp; /* clamped to +-NUMBER_EXP_CAP */
};

static size_t count_digits(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* 0, or -1 when s is not a number: no inf, nan, hex or blanks. */
static int number_parse(const char *s, size_t n, struct number *num)
{
    size_t i = 0, k;
    int eneg = 0;

    memset(num, 0, sizeof(*num));
    if (i < n && (s[i] == '-' || s[i] == '+'))
        num->neg = s[i++] == '-';
    num->ip = s + i;
    num->ilen = count_digits(s + i, n - i);
    i += num->ilen;
    if (i < n && s[i] == '.') {
        i++;
        num->fp = s + i;
        num->flen = count_digits(s + i, n - i);
        i += num->flen;
    }
    if (num->ilen + num->flen == 0)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        k = count_digits(s + i, n - i);
        if (k == 0)
            return -1;
        for (; k > 0; k--, i++)
            if (num->exp < NUMBER_EXP_CAP)
                num->exp = num->exp * 10 + (s[i] - '0');
        if (num->exp > NUMBER_EXP_CAP)
            num->exp = NUMBER_EXP_CAP;
        if (eneg)
            num->exp = -num->exp;
    }
    return i == n ? 0 : -1;
}

/* Decimal digit p of the number's digits, those after the point last. */
static int number_digit(const struct number *num, int64_t p)
{
    if ((size_t)p < num->ilen)
        return num->ip[p] - '0';
    return num->fp[(size_t)p - num->ilen] - '0';
}

/* Floor division by 4 for negative exponents too. */
static int64_t floor_div4(int64_t x)
{
    return x >= 0 ? x / 4 : -((-x + 3) / 4);
}

/*
 * numeric: ndigits, weight (the power of 10000 of the first digit), sign,
 * dscale (decimal digits after the point on display), then the digits.
 * dscale follows numeric_in: digits after the point less the exponent, so
 * 1.5e3 is 1500 and 1e-5 is 0.00001. Zero is positive: -0.0 is 0.0.
 */
static int encode_numeric(struct dray_buf *b, const char *s, size_t n)
{
    static const int pow10[4] = {1, 10, 100, 1000};
    struct number num;
    int64_t len, point, dscale, first, last, top, weight, ndigits;
    unsigned char *d;

    if (number_parse(s, n, &num) != 0)
        return -1;
    /* All digits in a row, the point after the first `point` of them. */
    len = (int64_t)(num.ilen + num.flen);
    point = (int64_t)num.ilen + num.exp;
    dscale = len > point ? len - point : 0;
    if (dscale > NUMERIC_MAX_DSCALE)
        return -1;
    for (first = 0; first < len && number_digit(&num, first) == 0;)
        first++;
    for (last = len; last > first && number_digit(&num, last - 1) == 0;)
        last--;
    if (first == last) {
        if (put_be(b, 0, 2) || put_be(b, 0, 2) || put_be(b, NUMERIC_POS, 2) ||
            put_be(b, (uint64_t)dscale, 2))
            return -2;
        return 0;
    }
    top = point - 1 - first; /* power of ten of the first nonzero digit */
    if (top >= NUMERIC_MAX_INT_DIGITS)
        return -1;
    weight = floor_div4(top);
    ndigits = weight - floor_div4(point - last) + 1;
    if (put_be(b, (uint64_t)ndigits, 2) || put_be(b, (uint64_t)weight, 2) ||
        put_be(b, num.neg ? NUMERIC_NEG : NUMERIC_POS, 2) ||
        put_be(b, (uint64_t)dscale, 2) ||
        dray_buf_reserve(b, (size_t)ndigits * 2) != 0)
        return -2;
    d = (unsigned char *)b->data + b->len;
    memset(d, 0, (size_t)ndigits * 2);
    for (int64_t p = first; p < last; p++) {
        int64_t x = point - 1 - p; /* this digit's power of ten */
        int64_t g = floor_div4(x);
        unsigned char *slot = d + 2 * (weight - g);
        int v = slot[0] << 8 | slot[1];

        v += number_digit(&num, p) * pow10[x - 4 * g];
        store_be(slot, (uint64_t)v, 2);
    }
    b->len += (size_t)ndigits * 2;
    b->data[b->len] = '\0';
    return 0;
}

/*
 * float8 through strtod, which needs a NUL-terminated copy in the current
 * locale's radix character: made at the end of b and dropped again. Out
 * of range as float8in has it: overflow, or underflow to zero.
 */
static int encode_float8(struct dray_buf *b, const char *s, size_t n)
{
    const char *radix = nl_langinfo(RADIXCHAR);
    size_t at = b->len, radix_len = strlen(radix);
    struct number num;
    int saved = errno, range, whole;
    char *end;
    double v;
    uint64_t bits;

    if (number_parse(s, n, &num) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int rc = s[i] == '.' ? dray_buf_add(b, radix, radix_len)
                             : dray_buf_addc(b, s[i]);
        if (rc != 0) {
            b->len = at;
            return -2;
        }
    }
    errno = 0;
    v = strtod(b->data + at, &end);
    range = errno == ERANGE && (v == 0.0 || isinf(v));
    whole = (size_t)(end - (b->data + at)) == b->len - at;
    errno = saved;
    b->len = at;
    b->data[at] = '\0';
    if (range || !whole)
        return -1;
    memcpy(&bits, &v, sizeof(bits));
    return put_be(b, bits, 8);
}

/* ---- other types -------------------------------------------------------- */

/* An integer from i64 (INT, BOOL) or from decimal text (other kinds). */
static int field_int(const struct dray_field *f, int64_t *out)
{
    const char *s = dray__field_text(f);
    size_t n = dray__field_len(f), i = 0;
    uint64_t mag = 0, limit = (uint64_t)INT64_MAX;
    int neg = 0;

    if (f->kind == DRAY_F_INT || f->kind == DRAY_F_BOOL) {
        *out = f->i64;
        return 0;
    }
    if (n > 0 && s[0] == '-') {
        neg = 1;
        limit++; /* the magnitude of INT64_MIN */
        i++;
    }
    if (i == n)
        return -1;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';

        if (d > 9 || mag > (limit - d) / 10)
            return -1;
        mag = mag * 10 + d;
    }
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

static int field_bool(const struct dray_field *f, int *out)
{
    const char *s = dray__field_text(f);
    size_t n = dray__field_len(f);

    if (f->kind == DRAY_F_BOOL)
        *out = f->i64 != 0;
    else if (n == 4 && memcmp(s, "true", 4) == 0)
        *out = 1;
    else if (n == 5 && memcmp(s, "false", 5) == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* jsonb cannot hold NUL, neither raw nor as the escape \u0000. */
static int jsonb_can_hold(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0')
            return 0;
        if (s[i] != '\\')
            continue;
        if (i + 5 < n && memcmp(s + i + 1, "u0000", 5) == 0)
            return 0;
        i++; /* past the escaped character */
    }
    return 1;
}

static int encode_value(struct dray_buf *b, const struct dray_field *f,
                        int32_t pgtype)
{
    const char *s = dray__field_text(f);
    size_t n = dray__field_len(f);
    int64_t v;
    int t;

    switch (pgtype) {
    case DRAY_PGTYPE_TEXT:
        if (memchr(s, '\0', n) != NULL)
            return -1;
        return dray_buf_add(b, s, n);
    case DRAY_PGTYPE_JSONB:
        if (!jsonb_can_hold(s, n))
            return -1;
        return dray_buf_addc(b, 1) || dray_buf_add(b, s, n) ? -2 : 0;
    case DRAY_PGTYPE_INT8:
        if (field_int(f, &v) != 0)
            return -1;
        return put_be(b, (uint64_t)v, 8);
    case DRAY_PGTYPE_INT4:
        if (field_int(f, &v) != 0 || v < INT32_MIN || v > INT32_MAX)
            return -1;
        return put_be(b, (uint64_t)v, 4);
    case DRAY_PGTYPE_BOOL:
        if (field_bool(f, &t) != 0)
            return -1;
        return dray_buf_addc(b, (char)t);
    case DRAY_PGTYPE_FLOAT8:
        return encode_float8(b, s, n);
    case DRAY_PGTYPE_NUMERIC:
        return encode_numeric(b, s, n);
    case DRAY_PGTYPE_TIMESTAMPTZ:
        if (f->kind != DRAY_F_TIMESTAMP || f->i64 < PG_TS_MIN_US)
            return -1;
        return put_be(b, (uint64_t)(f->i64 - PG_EPOCH_US), 8);
    default:
        return -1;
    }
}

/* A field: its length (-1 for NULL), then its bytes. */
static int encode_field(struct dray_buf *b, const struct dray_field *f,
                        int32_t pgtype)
{
    size_t at = b->len, body;
    int rc;

    if (f->kind == DRAY_F_NULL)
        return put_be(b, UINT32_MAX, 4);
    if (put_be(b, 0, 4) != 0) /* the length, filled in below */
        return -2;
    rc = encode_value(b, f, pgtype);
    if (rc != 0)
        return rc;
    body = b->len - at - 4;
    if (body > INT32_MAX)
        return -1;
    store_be((unsigned char *)b->data + at, body, 4);
    return 0;
}

/* ---- the stream --------------------------------------------------------- */

int dray_copy_binary_write_header(struct dray_sink *sink)
{
    /* Signature, flags (no OIDs), header extension length. */
    static const unsigned char header[19] = {
        'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n',
        0,   0,   0,   0,   0,   0,   0,    0,    0};

    return sink->write(sink->ctx, header, sizeof(header));
}

int dray_copy_binary_write_row(struct dray_sink *sink,
                               const struct dray_field *fields,
                               const int32_t *pgtypes, size_t n,
                               struct dray_buf *scratch)
{
    struct dray_buf local = DRAY_BUF_INIT;
    struct dray_buf *b = scratch ? scratch : &local;
    int rc = -1;

    dray_buf_reset(b);
    if (n > INT16_MAX)
        goto cleanup;
    rc = put_be(b, n, 2);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = encode_field(b, &fields[i], pgtypes[i]);
    if (rc == 0)
        rc = sink->write(sink->ctx, b->data, b->len);
cleanup:
    dray_buf_release(&local);
    return rc;
}

int dray_copy_binary_write_trailer(struct dray_sink *sink)
{
    static const unsigned char trailer[2] = {0xff, 0xff}; /* field count -1 */

    return sink->write(sink->ctx, trailer, sizeof(trailer));
}

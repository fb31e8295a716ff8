/*
 * datetime.c - RFC 3339 / ISO 8601 date-times as taps send them, to and
 * from seconds since the epoch in UTC.
 *
 * Calendar arithmetic is done here on the proleptic Gregorian calendar
 * (days from a civil date and back, by 400-year eras), so no libc time
 * function, TZ setting or locale is involved and every year works.
 */
#include "dray/dray_datetime.h"

#include <string.h>

#define SECS_PER_DAY 86400
#define DAYS_PER_ERA 146097 /* 400 Gregorian years */
/* Days from 0000-03-01 to 1970-01-01. */
#define EPOCH_SHIFT 719468

/* ---- calendar ----------------------------------------------------------- */

static int is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int64_t y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30,
                                           31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/*
 * Days since 1970-01-01 of y-m-d. The year is counted from March, so the
 * leap day falls at the end of it; a March-based year splits into 400-year
 * eras of equal length.
 */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t yr = m <= 2 ? y - 1 : y;
    int64_t era = floor_div(yr, 400);
    int64_t yoe = yr - era * 400;             /* 0..399 */
    int64_t mp = m <= 2 ? m + 9 : m - 3;      /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * DAYS_PER_ERA + doe - EPOCH_SHIFT;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + EPOCH_SHIFT;
    int64_t era = floor_div(z, DAYS_PER_ERA);
    int64_t doe = z - era * DAYS_PER_ERA; /* 0..146096 */
    int64_t yoe =
        (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ---- parsing ------------------------------------------------------------ */

struct cursor {
    const char *s;
    size_t n, i;
};

static int at(const struct cursor *c, char ch)
{
    return c->i < c->n && c->s[c->i] == ch;
}

/* Consumes ch when it is next. */
static int eat(struct cursor *c, char ch)
{
    if (!at(c, ch))
        return 0;
    c->i++;
    return 1;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Reads exactly k digits. */
static int digits(struct cursor *c, int k, int *out)
{
    int v = 0;

    if (c->n - c->i < (size_t)k)
        return -1;
    for (int j = 0; j < k; j++) {
        char ch = c->s[c->i + (size_t)j];

        if (!is_digit(ch))
            return -1;
        v = v * 10 + (ch - '0');
    }
    c->i += (size_t)k;
    *out = v;
    return 0;
}

/* "hh", "hh:mm" or "hhmm" after the sign; returns the offset in seconds. */
static int parse_offset(struct cursor *c, int32_t *secs)
{
    int sign = c->s[c->i] == '-' ? -1 : 1;
    int hh, mm = 0;

    c->i++;
    if (digits(c, 2, &hh) != 0 || hh > 23)
        return -1;
    if (eat(c, ':')) {
        if (digits(c, 2, &mm) != 0)
            return -1;
    } else if (c->i < c->n && digits(c, 2, &mm) != 0)
        return -1;
    if (mm > 59)
        return -1;
    *secs = sign * (hh * 3600 + mm * 60);
    return 0;
}

/* The time part: "hh:mm:ss[.f{1,9}][offset]"; leaves the local time of day
   in seconds (60 for a leap second allowed), nanos and the offset. */
static int parse_time(struct cursor *c, int32_t *tod, int32_t *nanos,
                      int32_t *offset)
{
    int hh, mi, ss;

    if (digits(c, 2, &hh) != 0 || !eat(c, ':') || digits(c, 2, &mi) != 0 ||
        !eat(c, ':') || digits(c, 2, &ss) != 0)
        return -1;
    if (hh > 23 || mi > 59 || ss > 60)
        return -1;
    *tod = hh * 3600 + mi * 60 + ss;
    *nanos = 0;
    if (eat(c, '.')) {
        int k = 0;
        int32_t f = 0;

        while (c->i < c->n && is_digit(c->s[c->i])) {
            if (++k > 9)
                return -1;
            f = f * 10 + (c->s[c->i++] - '0');
        }
        if (k == 0)
            return -1;
        while (k++ < 9)
            f *= 10;
        *nanos = f;
    }
    *offset = 0;
    if (eat(c, 'Z') || eat(c, 'z'))
        return 0;
    if (at(c, '+') || at(c, '-'))
        return parse_offset(c, offset);
    return 0;
}

int dray_datetime_parse(const char *s, size_t n, struct dray_timestamp *out)
{
    struct cursor c = {s, n, 0};
    int64_t year = 0, days;
    int32_t tod = 0, nanos = 0, offset = 0;
    int mon, day, ny = 0;

    /* Year: 4 to 6 digits, optionally signed '+' (expanded form). */
    eat(&c, '+');
    while (c.i < n && is_digit(s[c.i]) && ny < 7) {
        year = year * 10 + (s[c.i++] - '0');
        ny++;
    }
    if (ny < 4 || ny > 6 || !eat(&c, '-') || digits(&c, 2, &mon) != 0 ||
        !eat(&c, '-') || digits(&c, 2, &day) != 0)
        return -1;
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon))
        return -1;
    if (c.i < n) {
        char sep = s[c.i++];

        if (sep != 'T' && sep != 't' && sep != ' ')
            return -1;
        if (parse_time(&c, &tod, &nanos, &offset) != 0)
            return -1;
    }
    if (c.i != n)
        return -1;
    days = days_from_civil(year, mon, day);
    /* A leap second (tod ends in :60) rolls into the next minute. */
    out->seconds = days * SECS_PER_DAY + tod - offset;
    out->nanos = nanos;
    return 0;
}

/* ---- output ------------------------------------------------------------- */

/* Splits ts into whole days and a second of the day, clamping nanos into
   range so that odd input still formats. */
static void split(const struct dray_timestamp *ts, int64_t *days, int32_t *sod,
                  int32_t *nanos)
{
    int64_t r = ts->seconds % SECS_PER_DAY; /* no product: any int64 works */

    *days = floor_div(ts->seconds, SECS_PER_DAY);
    *sod = (int32_t)(r < 0 ? r + SECS_PER_DAY : r);
    *nanos = ts->nanos < 0 ? 0 : ts->nanos > 999999999 ? 999999999 : ts->nanos;
}

/* Writes v as exactly k digits (k fits v). */
static char *put_digits(char *p, int64_t v, int k)
{
    for (int j = k - 1; j >= 0; j--) {
        p[j] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + k;
}

size_t dray_datetime_format(const struct dray_timestamp *ts,
                            char buf[DRAY_DATETIME_MAX])
{
    int64_t days, year, ay;
    int32_t sod, nanos;
    int mon, day, k = 4;
    char *p = buf;

    split(ts, &days, &sod, &nanos);
    civil_from_days(days, &year, &mon, &day);
    if (year < 0)
        *p++ = '-';
    else if (year > 9999)
        *p++ = '+';
    ay = year < 0 ? -year : year;
    for (int64_t lim = 10000; ay >= lim && k < 18; lim *= 10)
        k++;
    p = put_digits(p, ay, k);
    *p++ = '-';
    p = put_digits(p, mon, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = 'T';
    p = put_digits(p, sod / 3600, 2);
    *p++ = ':';
    p = put_digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, sod % 60, 2);
    *p++ = '.';
    p = put_digits(p, nanos / 1000, 6);
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - buf);
}

int dray_datetime_micros(const struct dray_timestamp *ts, int64_t *out)
{
    int64_t days, secs = ts->seconds, us;
    int32_t sod, nanos, frac;

    split(ts, &days, &sod, &nanos);
    frac = nanos / 1000;
    /* Below zero, borrow a second first so that the product cannot
       overflow where the sum would still fit (INT64_MIN micros). */
    if (secs < 0 && frac > 0) {
        secs++;
        frac -= 1000000;
    }
    if (__builtin_mul_overflow(secs, (int64_t)1000000, &us) ||
        __builtin_add_overflow(us, (int64_t)frac, &us))
        return -1;
    *out = us;
    return 0;
}

int64_t dray_datetime_year(const struct dray_timestamp *ts)
{
    int64_t days, year;
    int32_t sod, nanos;
    int mon, day;

    split(ts, &days, &sod, &nanos);
    civil_from_days(days, &year, &mon, &day);
    return year;
}

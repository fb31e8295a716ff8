/*
 * test_datetime.c - date-time parsing and output: every accepted form and
 * rejection, round trips through dray_datetime_format, negative epochs,
 * years 0 to 999999, microsecond overflow, and every day of years 0-9999
 * against the test's own calendar and libc's timegm.
 */
#include "dray/dray_datetime.h"
#include "unit.h"

#include <stdlib.h>
#include <time.h>

#define YEAR_300000 9404918380800LL /* 300000-01-01T00:00:00Z */

static void test_accepted(void)
{
    static const struct {
        const char *in;
        int64_t seconds;
        int32_t nanos;
    } cases[] = {
        {"1970-01-01T00:00:00Z", 0, 0},
        {"2024-01-02T03:04:05Z", 1704164645, 0},
        {"2024-01-02t03:04:05z", 1704164645, 0},
        {"2024-01-02 03:04:05", 1704164645, 0},
        {"2024-01-02T03:04:05", 1704164645, 0},
        {"2024-01-02 03:04:05Z", 1704164645, 0},
        {"2024-01-02T03:04:05+02:00", 1704157445, 0},
        {"2024-01-02T03:04:05+0200", 1704157445, 0},
        {"2024-01-02T03:04:05+02", 1704157445, 0},
        {"2024-01-02T03:04:05-05:30", 1704184445, 0},
        {"2024-01-02T03:04:05-0530", 1704184445, 0},
        {"2024-01-02T03:04:05+00:00", 1704164645, 0},
        {"2024-01-02T03:04:05-00:00", 1704164645, 0},
        {"2024-01-02T03:04:05+23:59", 1704078305, 0},
        {"2024-01-01T00:30:00+01:00", 1704065400, 0},
        {"2024-01-02T03:04:05.123456+02:00", 1704157445, 123456000},
        {"2024-01-02T03:04:05.1Z", 1704164645, 100000000},
        {"2024-01-02T03:04:05.5", 1704164645, 500000000},
        {"2024-01-02T03:04:05.000000001Z", 1704164645, 1},
        {"2024-01-02T03:04:05.123456789Z", 1704164645, 123456789},
        {"2024-01-02T03:04:05.999999999-01", 1704168245, 999999999},
        {"2024-01-02", 1704153600, 0},
        /* Leap seconds fold into the next second. */
        {"2016-12-31T23:59:60Z", 1483228800, 0},
        {"1998-12-31T23:59:60.5Z", 915148800, 500000000},
        {"2016-12-31T23:59:60+00:00", 1483228800, 0},
        /* Leap days. */
        {"2024-02-29", 1709164800, 0},
        {"2000-02-29", 951782400, 0},
        {"1600-02-29", -11670998400LL, 0},
        /* Before the epoch. */
        {"1969-12-31T23:59:59.5Z", -1, 500000000},
        {"1900-01-01T00:00:00Z", -2208988800LL, 0},
        {"0001-01-01T00:00:00Z", -62135596800LL, 0},
        {"0000-01-01", -62167219200LL, 0},
        /* Far ahead: 4 to 6 digit years, '+' allowed. */
        {"9999-12-31T23:59:59.999999999Z", 253402300799LL, 999999999},
        {"10000-01-01T00:00:00Z", 253402300800LL, 0},
        {"+10000-01-01T00:00:00Z", 253402300800LL, 0},
        {"+2024-01-02", 1704153600, 0},
        {"300000-01-01T00:00:00Z", YEAR_300000, 0},
        {"999999-12-31T23:59:59Z", 31494784780799LL, 0},
    };
    struct dray_timestamp ts;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *in = cases[i].in;

        ts.seconds = -7;
        ts.nanos = -7;
        if (dray_datetime_parse(in, strlen(in), &ts) != 0) {
            UNIT_FAIL_AT("refused: %s", in);
            continue;
        }
        if (ts.seconds != cases[i].seconds || ts.nanos != cases[i].nanos)
            UNIT_FAIL_AT("%s: %" PRId64 ".%09d, expected %" PRId64 ".%09d", in,
                         ts.seconds, (int)ts.nanos, cases[i].seconds,
                         (int)cases[i].nanos);
    }
}

static void test_rejected(void)
{
    static const char *const cases[] = {
        "",
        "2024",
        "2024-01",
        "2024-1-02",
        "2024-01-2",
        "24-01-02",
        "202-01-02",
        "1234567-01-01",
        "-2024-01-01",
        "+-2024-01-01",
        "++2024-01-01",
        "abcd-01-02",
        "2024/01/02",
        "20240102",
        "2024-00-10",
        "2024-13-01",
        "2024-01-00",
        "2024-01-32",
        "2023-02-29",
        "1900-02-29",
        "2100-02-29",
        "2024-02-30",
        "2024-04-31",
        "2024-06-31",
        "2024-09-31",
        "2024-11-31",
        "2024-01-02T",
        "2024-01-02 ",
        "2024-01-02Z",
        "2024-01-02T03:04",
        "2024-01-02T03:04Z",
        "2024-01-02T3:04:05",
        "2024-01-02T03:4:05",
        "2024-01-02T03:04:5",
        "2024-01-02T24:00:00",
        "2024-01-02T25:00:00",
        "2024-01-02T03:60:00",
        "2024-01-02T03:04:61",
        "2024-01-02T03:04:99",
        "2024-01-02T03:04:05.",
        "2024-01-02T03:04:05.Z",
        "2024-01-02T03:04:05.1234567890",
        "2024-01-02T03:04:05.1.2",
        "2024-01-02T03:04:05,5Z",
        "2024-01-02T03:04:05+2",
        "2024-01-02T03:04:05+24:00",
        "2024-01-02T03:04:05+02:60",
        "2024-01-02T03:04:05+02:",
        "2024-01-02T03:04:05+02:0",
        "2024-01-02T03:04:05+020",
        "2024-01-02T03:04:05+02:00:00",
        "2024-01-02T03:04:05+",
        "2024-01-02T03:04:05 +02:00",
        "2024-01-02T03:04:05Z ",
        "2024-01-02T03:04:05ZZ",
        "2024-01-02T03:04:05GMT",
        "2024-01-02T03:04:05UTC",
        " 2024-01-02",
        "2024-01-02X03:04:05",
        "2024-01-02  03:04:05",
        "2024-01-02TT03:04:05",
        "2024-01-02T03:04:05.123Z+01:00",
        "２０２４-01-02",
    };
    struct dray_timestamp ts = {42, 7};

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (dray_datetime_parse(cases[i], strlen(cases[i]), &ts) != -1)
            UNIT_FAIL_AT("accepted: '%s'", cases[i]);
    }
    /* Bytes after n are not looked at; a NUL inside n is refused. */
    CHECK_INT(dray_datetime_parse("2024-01-02T03:04:05Zjunk", 20, &ts), 0);
    CHECK_INT(ts.seconds, 1704164645);
    CHECK_INT(dray_datetime_parse("2024-01-02\0", 11, &ts), -1);
    CHECK_INT(dray_datetime_parse("2024-01-02", 9, &ts), -1);
}

static void test_format(void)
{
    static const struct {
        int64_t seconds;
        int32_t nanos;
        const char *out;
    } cases[] = {
        {0, 0, "1970-01-01T00:00:00.000000Z"},
        {0, 999, "1970-01-01T00:00:00.000000Z"},
        {-1, 500000000, "1969-12-31T23:59:59.500000Z"},
        {-86400, 0, "1969-12-31T00:00:00.000000Z"},
        {-86401, 0, "1969-12-30T23:59:59.000000Z"},
        {1704164645, 123456789, "2024-01-02T03:04:05.123456Z"},
        {1709164800, 0, "2024-02-29T00:00:00.000000Z"},
        {-62135596800LL, 0, "0001-01-01T00:00:00.000000Z"},
        {-62167219200LL, 0, "0000-01-01T00:00:00.000000Z"},
        {-62167219201LL, 0, "-0001-12-31T23:59:59.000000Z"},
        {253402300799LL, 999999999, "9999-12-31T23:59:59.999999Z"},
        {253402300800LL, 0, "+10000-01-01T00:00:00.000000Z"},
        {YEAR_300000, 1000, "+300000-01-01T00:00:00.000001Z"},
        {31494784780799LL, 0, "+999999-12-31T23:59:59.000000Z"},
    };
    struct dray_timestamp ts, back;
    char buf[DRAY_DATETIME_MAX];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;

        ts.seconds = cases[i].seconds;
        ts.nanos = cases[i].nanos;
        n = dray_datetime_format(&ts, buf);
        CHECK_STR(buf, cases[i].out);
        CHECK_INT(n, strlen(cases[i].out));
        /* Round trip, to the microsecond (years 0 and up only). */
        if (buf[0] == '-')
            continue;
        CHECK_INT(dray_datetime_parse(buf, n, &back), 0);
        CHECK_INT(back.seconds, ts.seconds);
        CHECK_INT(back.nanos, ts.nanos / 1000 * 1000);
    }
    /* Any int64 formats within the buffer. */
    for (int s = -1; s <= 1; s += 2) {
        ts.seconds = s < 0 ? INT64_MIN : INT64_MAX;
        ts.nanos = 999999999;
        CHECK(dray_datetime_format(&ts, buf) < DRAY_DATETIME_MAX);
        CHECK(buf[0] == (s < 0 ? '-' : '+'));
        CHECK(buf[strlen(buf) - 1] == 'Z');
    }
}

static void test_micros_and_year(void)
{
    static const struct {
        int64_t seconds;
        int32_t nanos;
        int rc;
        int64_t micros;
        int64_t year;
    } cases[] = {
        {0, 999, 0, 0, 1970},
        {-1, 999999, 0, -999001, 1969},
        {-1, 0, 0, -1000000, 1969},
        {1704164645, 123456789, 0, 1704164645123456LL, 2024},
        {-62135596800LL, 0, 0, -62135596800000000LL, 1},
        {-62135596801LL, 0, 0, -62135596801000000LL, 0},
        {-62167219201LL, 0, 0, -62167219201000000LL, -1},
        {253402300800LL, 0, 0, 253402300800000000LL, 10000},
        {9223372036854LL, 775807000, 0, INT64_MAX, 294247},
        {9223372036854LL, 775808000, -1, 0, 294247},
        {-9223372036855LL, 224192000, 0, INT64_MIN, -290308},
        {-9223372036855LL, 224191999, -1, 0, -290308},
        {YEAR_300000, 0, -1, 0, 300000},
        {INT64_MAX, 0, -1, 0, 292277026596LL},
    };
    struct dray_timestamp ts;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = 12345;

        ts.seconds = cases[i].seconds;
        ts.nanos = cases[i].nanos;
        CHECK_INT(dray_datetime_micros(&ts, &us), cases[i].rc);
        CHECK_INT(us, cases[i].rc == 0 ? cases[i].micros : 12345);
        CHECK_INT(dray_datetime_year(&ts), cases[i].year);
    }
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Every day of years 0..9999: consecutive, formatted back the same, the
   day after the month's last refused; timegm agrees where it can. */
static void test_every_day(void)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct dray_timestamp ts;
    int64_t expect = -62167219200LL; /* 0000-01-01 */
    char in[32], out[DRAY_DATETIME_MAX], want[64];
    long failures = 0;

    for (int y = 0; y <= 9999 && failures < 10; y++)
        for (int m = 1; m <= 12; m++) {
            int last = mdays[m - 1] + (m == 2 && leap(y));

            for (int d = 1; d <= last + 1; d++) {
                int n = snprintf(in, sizeof in, "%04d-%02d-%02d", y, m, d);
                int rc = dray_datetime_parse(in, (size_t)n, &ts);

                if (d > last) {
                    if (rc != -1 && failures++ < 10)
                        UNIT_FAIL_AT("accepted %s", in);
                    continue;
                }
                if ((rc != 0 || ts.seconds != expect) && failures++ < 10)
                    UNIT_FAIL_AT("%s: %" PRId64 ", expected %" PRId64, in,
                                 ts.seconds, expect);
                dray_datetime_format(&ts, out);
                snprintf(want, sizeof want, "%sT00:00:00.000000Z", in);
                if (strcmp(out, want) != 0 && failures++ < 10)
                    UNIT_FAIL_AT("%s formats as %s", in, out);
                if (dray_datetime_year(&ts) != y && failures++ < 10)
                    UNIT_FAIL_AT("%s: year %" PRId64, in,
                                 dray_datetime_year(&ts));
                if (y >= 1 && d % 7 == 0) {
                    struct tm tm = {0};

                    tm.tm_year = y - 1900;
                    tm.tm_mon = m - 1;
                    tm.tm_mday = d;
                    tm.tm_hour = 13;
                    tm.tm_min = 14;
                    tm.tm_sec = 15;
                    if ((int64_t)timegm(&tm) != expect + 47655 &&
                        failures++ < 10)
                        UNIT_FAIL_AT("%s: timegm disagrees", in);
                }
                expect += 86400;
            }
        }
}

/* A time of day at every second of one day, with and without offsets. */
static void test_every_second(void)
{
    static const char *const offsets[] = {"Z", "+05:45", "-1100", "+14"};
    static const int32_t offset_secs[] = {0, 20700, -39600, 50400};
    struct dray_timestamp ts;
    char in[48];

    for (int s = 0; s < 86400; s++)
        for (int k = 0; k < 4; k++) {
            int n = snprintf(in, sizeof in, "2023-06-15T%02d:%02d:%02d%s",
                             s / 3600, s / 60 % 60, s % 60, offsets[k]);

            if (dray_datetime_parse(in, (size_t)n, &ts) != 0 ||
                ts.seconds != 1686787200LL + s - offset_secs[k]) {
                UNIT_FAIL_AT("%s", in);
                return;
            }
        }
}

UNIT_MAIN(UNIT_CASE(test_accepted), UNIT_CASE(test_rejected),
          UNIT_CASE(test_format), UNIT_CASE(test_micros_and_year),
          UNIT_CASE(test_every_day), UNIT_CASE(test_every_second))

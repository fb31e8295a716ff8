/*
 * fuzz_datetime.c - libFuzzer target for dray_datetime_parse and _format.
 *
 * Whatever parses must format, and the formatted text must parse back to
 * the same instant (to the microsecond) and format the same again. The
 * input's first 12 bytes, read as a raw timestamp, must format within the
 * buffer and, for years 0..999999, round-trip too.
 */
#include "dray/dray_datetime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *text)
{
    fprintf(stderr, "fuzz_datetime: %s: %s\n", what, text);
    abort();
}

/* ts formats; the text parses back to ts (microseconds) and re-formats
   to the same text. */
static void check_roundtrip(const struct dray_timestamp *ts)
{
    char buf[DRAY_DATETIME_MAX], again[DRAY_DATETIME_MAX];
    struct dray_timestamp back;
    size_t n = dray_datetime_format(ts, buf);
    int64_t us;

    if (n >= DRAY_DATETIME_MAX || strlen(buf) != n)
        die("format length", buf);
    if (dray_datetime_parse(buf, n, &back) != 0)
        die("formatted text does not parse", buf);
    if (back.seconds != ts->seconds || back.nanos != ts->nanos / 1000 * 1000)
        die("round trip changed the instant", buf);
    if (dray_datetime_format(&back, again) != n || strcmp(buf, again) != 0)
        die("formatting is not stable", buf);
    if (dray_datetime_micros(ts, &us) == 0 &&
        (us / 1000000 - (us % 1000000 < 0) != ts->seconds))
        die("micros disagree with seconds", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dray_timestamp ts;
    char buf[DRAY_DATETIME_MAX];
    int64_t year;

    if (dray_datetime_parse((const char *)data, size, &ts) == 0) {
        if (ts.nanos < 0 || ts.nanos > 999999999)
            die("nanos out of range", "parsed input");
        year = dray_datetime_year(&ts);
        /* An offset can move an instant into the year before or after. */
        if (year < -1 || year > 1000000)
            die("year out of range", "parsed input");
        if (year >= 0 && year <= 999999)
            check_roundtrip(&ts);
    }
    if (size >= 12) {
        uint32_t nanos;

        memcpy(&ts.seconds, data, 8);
        memcpy(&nanos, data + 8, 4);
        ts.nanos = (int32_t)(nanos % 1000000000u);
        if (dray_datetime_format(&ts, buf) >= DRAY_DATETIME_MAX)
            die("format overflow", buf);
        year = dray_datetime_year(&ts);
        if (year >= 0 && year <= 999999)
            check_roundtrip(&ts);
    }
    return 0;
}

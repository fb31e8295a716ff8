/*
 * dray_datetime.h - date-times as taps send them, normalised to UTC.
 *
 * Accepted: RFC 3339 ("2024-01-02T03:04:05Z", "...05.123456+02:00"), the
 * space-separated ISO 8601 form many taps emit ("2024-01-02 03:04:05"),
 * 't'/'z' in lower case, a missing offset (taken as UTC), "+0200" and
 * "+02" offsets, up to 9 fractional digits, and years of 4 to 6 digits
 * (range checks against a destination belong to its type table, not here).
 * A date alone ("2024-01-02") is midnight UTC. Part of libdray_sdk.a.
 */
#ifndef DRAY_DATETIME_H
#define DRAY_DATETIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dray_timestamp {
    int64_t seconds; /* since 1970-01-01T00:00:00Z, may be negative */
    int32_t nanos;   /* 0 .. 999999999 */
};

/* Returns 0, or -1 when s (n bytes) is not a date-time of the forms above
   or names an impossible date or time (Feb 30, 25:00, second 61). A leap
   second (:60) is accepted and folded into the next second. */
int dray_datetime_parse(const char *s, size_t n, struct dray_timestamp *out);

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" (microseconds, truncated); years beyond
   9999 get a leading '+'. Writes a NUL; returns the length (< 40). */
#define DRAY_DATETIME_MAX 40
size_t dray_datetime_format(const struct dray_timestamp *ts,
                            char buf[DRAY_DATETIME_MAX]);

/* Microseconds since the epoch (truncated); -1 and *out untouched when the
   value does not fit an int64. */
int dray_datetime_micros(const struct dray_timestamp *ts, int64_t *out);

/* The civil year of ts (proleptic Gregorian, UTC). */
int64_t dray_datetime_year(const struct dray_timestamp *ts);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_DATETIME_H */

/*
 * json_internal.h - what json_parse.c, json_scan.c and json_access.c
 * share, and the hooks the unit test uses to check the string scanner's
 * portable path on machines where the parser itself takes the SSE2 one.
 * The string scanner's hot path is here, inline, for the parser's loop.
 */
#ifndef DRAY_JSON_INTERNAL_H
#define DRAY_JSON_INTERNAL_H

#include "dray/dray_json.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(DRAY_JSON_NO_SIMD)
#include <emmintrin.h>
#define DRAY__JSON_SSE2 1
#endif

/* Fills err (when not NULL) with the offset of at and the message; -1. */
__attribute__((cold, format(printf, 4, 5))) int
dray__json_fail(struct dray_json_error *err, const unsigned char *base,
                const unsigned char *at, const char *fmt, ...);

/* The value of one hex digit, or -1. */
static inline int dray__json_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* fold A-F onto a-f */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The code unit of the four hex digits at p, or -1 when one is not hex. */
static inline int32_t dray__json_hex4(const unsigned char *p)
{
    int a = dray__json_hexval(p[0]), b = dray__json_hexval(p[1]);
    int c = dray__json_hexval(p[2]), d = dray__json_hexval(p[3]);

    if ((a | b | c | d) < 0)
        return -1;
    return (int32_t)((a << 12) | (b << 8) | (c << 4) | d);
}

/*
 * The first byte in [p, end) that ends a plain run inside a string: '"',
 * '\\', a control byte (< 0x20) or a non-ASCII byte (>= 0x80); end when
 * there is none. find_special is what the parser uses (dray__json_find_fast
 * below: SSE2 where the compiler targets it); find_special_portable is the
 * SWAR fallback (dray__json_find_swar).
 */
const unsigned char *dray__json_find_special(const unsigned char *p,
                                             const unsigned char *end);
const unsigned char *dray__json_find_special_portable(const unsigned char *p,
                                                      const unsigned char *end);

/* ---- the string scanner (json_scan.c) ----------------------------------- */

static inline int dray__json_is_special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

#define DRAY__JSON_SWAR_ONES 0x0101010101010101ULL
#define DRAY__JSON_SWAR_HIGH 0x8080808080808080ULL

/* High bit set in each byte of w that is special (exact for the lowest
   such byte; bytes above it may be flagged by borrows, which is fine). */
static inline uint64_t dray__json_swar_special(uint64_t w)
{
    uint64_t q = w ^ (DRAY__JSON_SWAR_ONES * '"');
    uint64_t b = w ^ (DRAY__JSON_SWAR_ONES * '\\');
    uint64_t ctl = (w - DRAY__JSON_SWAR_ONES * 0x20) & ~w;
    uint64_t quote = (q - DRAY__JSON_SWAR_ONES) & ~q;
    uint64_t bs = (b - DRAY__JSON_SWAR_ONES) & ~b;

    return (ctl | quote | bs | w) & DRAY__JSON_SWAR_HIGH;
}

static inline const unsigned char *
dray__json_find_swar(const unsigned char *p, const unsigned char *end)
{
    while (end - p >= 8) {
        uint64_t w, m;

        memcpy(&w, p, 8);
        m = dray__json_swar_special(w);
        if (m != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(m) >> 3);
#else
            break; /* the byte loop below finds it */
#endif
        }
        p += 8;
    }
    while (p < end && !dray__json_is_special(*p))
        p++;
    return p;
}

static inline const unsigned char *
dray__json_find_fast(const unsigned char *p, const unsigned char *end)
{
#ifdef DRAY__JSON_SSE2
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    /* Signed compare: control bytes and bytes >= 0x80 are both < 0x20. */
    const __m128i space = _mm_set1_epi8(0x20);

    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
            _mm_cmplt_epi8(v, space));
        int mask = _mm_movemask_epi8(hit);

        if (mask != 0)
            return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    return dray__json_find_swar(p, end);
}

/* Validates the run of non-ASCII code points at p; returns the byte after
   it, or NULL with err filled. */
const unsigned char *dray__json_scan_utf8(const unsigned char *p,
                                          const unsigned char *end,
                                          const unsigned char *base,
                                          struct dray_json_error *err);

/* Validates the escape at p (a backslash); returns the byte after it. */
const unsigned char *dray__json_scan_escape(const unsigned char *p,
                                            const unsigned char *end,
                                            uint8_t *flags,
                                            const unsigned char *base,
                                            struct dray_json_error *err);

/* Scans a string's body from p (after the opening quote); returns the
   closing quote, or NULL with err filled. */
static inline const unsigned char *
dray__json_scan_string(const unsigned char *p, const unsigned char *end,
                       uint8_t *flags, const unsigned char *base,
                       struct dray_json_error *err)
{
    for (;;) {
        p = dray__json_find_fast(p, end);
        if (p == end) {
            dray__json_fail(err, base, end,
                            "unexpected end of text in a string");
            return NULL;
        }
        if (*p == '"')
            return p;
        if (*p == '\\')
            p = dray__json_scan_escape(p, end, flags, base, err);
        else if (*p < 0x20) {
            dray__json_fail(
                err, base, p,
                "control character 0x%02x in a string (must be escaped)", *p);
            return NULL;
        } else
            p = dray__json_scan_utf8(p, end, base, err);
        if (p == NULL)
            return NULL;
    }
}

#endif

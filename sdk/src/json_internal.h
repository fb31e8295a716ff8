/*
 * json_internal.h - what json_parse.c and json_access.c share, and the
 * hooks the unit test uses to check the string scanner's portable path on
 * machines where the parser itself takes the SSE2 one.
 */
#ifndef DRAY_JSON_INTERNAL_H
#define DRAY_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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
 * there is none. find_special is what the parser uses (SSE2 where the
 * compiler targets it); find_special_portable is the SWAR fallback.
 */
const unsigned char *dray__json_find_special(const unsigned char *p,
                                             const unsigned char *end);
const unsigned char *dray__json_find_special_portable(const unsigned char *p,
                                                      const unsigned char *end);

#endif

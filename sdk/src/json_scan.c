/*
 * json_scan.c - the string scanner's slow paths: UTF-8 and escape
 * validation, and the out-of-line entry points to the special-byte finders
 * (the hot path itself is inline in json_internal.h).
 */
#include "json_internal.h"

const unsigned char *dray__json_find_special(const unsigned char *p,
                                             const unsigned char *end)
{
    return dray__json_find_fast(p, end);
}

const unsigned char *dray__json_find_special_portable(const unsigned char *p,
                                                      const unsigned char *end)
{
    return dray__json_find_swar(p, end);
}

/*
 * UTF-8 lead bytes 0x80..0xff: sequence length << 4 | the range index of
 * the second byte (Unicode table 3-7); 0 for a byte that cannot lead.
 */
// clang-format off
static const uint8_t utf8_lead[128] = {
    /* 0x80..0xbf: continuation bytes; 0xc0, 0xc1: overlong leads */
    0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
    0,0,0x20,0x20,0x20,0x20,0x20,0x20, 0x20,0x20,0x20,0x20,0x20,0x20,0x20,0x20,
    0x20,0x20,0x20,0x20,0x20,0x20,0x20,0x20, 0x20,0x20,0x20,0x20,0x20,0x20,0x20,0x20,
    /* 0xe0..0xef */
    0x31,0x30,0x30,0x30,0x30,0x30,0x30,0x30, 0x30,0x30,0x30,0x30,0x30,0x32,0x30,0x30,
    /* 0xf0..0xff */
    0x43,0x40,0x40,0x40,0x44,0,0,0, 0,0,0,0,0,0,0,0,
};
static const uint8_t utf8_lo[5] = {0x80, 0xa0, 0x80, 0x90, 0x80};
static const uint8_t utf8_hi[5] = {0xbf, 0xbf, 0x9f, 0xbf, 0x8f};
// clang-format on

/* Validates the run of non-ASCII code points at p; returns the byte after
   it, or NULL with err filled. */
const unsigned char *dray__json_scan_utf8(const unsigned char *p,
                                          const unsigned char *end,
                                          const unsigned char *base,
                                          struct dray_json_error *err)
{
    do {
        unsigned cls = utf8_lead[*p - 0x80];
        unsigned need = cls >> 4, r = cls & 15;

        if (cls == 0)
            goto bad;
        for (unsigned k = 1; k < need; k++) {
            unsigned lo = k == 1 ? utf8_lo[r] : 0x80;
            unsigned hi = k == 1 ? utf8_hi[r] : 0xbf;

            if (p + k == end) {
                dray__json_fail(err, base, end,
                                "unexpected end of text in a string");
                return NULL;
            }
            if (p[k] < lo || p[k] > hi) {
                p += k;
                goto bad;
            }
        }
        p += need;
    } while (p < end && *p >= 0x80);
    return p;
bad:
    dray__json_fail(err, base, p, "invalid UTF-8 byte 0x%02x in a string", *p);
    return NULL;
}

/* The four hex digits at p: the code unit, -1 when one is not hex, -2 when
   the text ends first. */
static int32_t read_hex4(const unsigned char *p, const unsigned char *end)
{
    if (end - p >= 4)
        return dray__json_hex4(p);
    for (; p < end; p++)
        if (dray__json_hexval(*p) < 0)
            return -1;
    return -2;
}

/* Validates the escape at p (a backslash); returns the byte after it. */
const unsigned char *dray__json_scan_escape(const unsigned char *p,
                                            const unsigned char *end,
                                            uint8_t *flags,
                                            const unsigned char *base,
                                            struct dray_json_error *err)
{
    const unsigned char *q;
    int32_t hi, lo;

    *flags |= DRAY_JSON_F_ESCAPED;
    if (end - p < 2)
        goto eof;
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return p + 2;
    case 'u':
        break;
    default:
        if (p[1] > 0x20 && p[1] < 0x7f)
            dray__json_fail(err, base, p, "invalid escape '\\%c' in a string",
                            p[1]);
        else
            dray__json_fail(err, base, p,
                            "invalid escape (backslash, byte 0x%02x) "
                            "in a string",
                            p[1]);
        return NULL;
    }
    if ((hi = read_hex4(p + 2, end)) < 0)
        goto hex_error;
    if (hi == 0)
        *flags |= DRAY_JSON_F_NUL;
    if (hi >= 0xdc00 && hi <= 0xdfff) {
        dray__json_fail(err, base, p, "lone low surrogate \\u%04x in a string",
                        (unsigned)hi);
        return NULL;
    }
    if (hi < 0xd800 || hi > 0xdbff)
        return p + 6;
    /* A high surrogate: the low half must follow as the next escape. */
    q = p + 6;
    if (q == end || (*q == '\\' && q + 1 == end))
        goto eof;
    if (*q != '\\' || q[1] != 'u')
        goto unpaired;
    if ((lo = read_hex4(q + 2, end)) < 0) {
        hi = lo;
        p = q;
        goto hex_error;
    }
    if (lo < 0xdc00 || lo > 0xdfff)
        goto unpaired;
    return q + 6;
unpaired:
    dray__json_fail(err, base, p,
                    "high surrogate \\u%04x not followed by a low surrogate",
                    (unsigned)hi);
    return NULL;
hex_error:
    if (hi == -1) {
        dray__json_fail(err, base, p,
                        "invalid \\u escape in a string (4 hex digits needed)");
        return NULL;
    }
eof:
    dray__json_fail(err, base, end, "unexpected end of text in a string");
    return NULL;
}

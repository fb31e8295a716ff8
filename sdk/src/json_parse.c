/*
 * json_parse.c - the validating JSON scanner that builds the tape.
 *
 * One pass over the text, no recursion and no per-token allocation. An open
 * container keeps its parent's index in its own `end` field until it
 * closes, so the tape doubles as the nesting stack. Strings are scanned in
 * 16- or 8-byte steps up to the next quote, backslash, control byte or
 * non-ASCII byte; only those stop the fast path.
 */
#include "dray/dray_json.h"
#include "json_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && !defined(DRAY_JSON_NO_SIMD)
#include <emmintrin.h>
#define JSON_SSE2 1
#endif

#define NO_PARENT UINT32_MAX
#define TAPE_MIN 64

/* ---- errors ------------------------------------------------------------- */

__attribute__((cold, noinline, format(printf, 4, 5))) static int
fail(struct dray_json_error *err, const unsigned char *base,
     const unsigned char *at, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    err->offset = (size_t)(at - base);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* "unexpected character 'x' <where>", naming unprintable bytes in hex. */
__attribute__((cold, noinline)) static int
unexpected(struct dray_json_error *err, const unsigned char *base,
           const unsigned char *at, const unsigned char *end, const char *where)
{
    if (at == end)
        return fail(err, base, at, "unexpected end of text %s", where);
    if (*at > 0x20 && *at < 0x7f)
        return fail(err, base, at, "unexpected character '%c' %s", *at, where);
    return fail(err, base, at, "unexpected byte 0x%02x %s", *at, where);
}

/* ---- the string scanner ------------------------------------------------- */

static inline int is_special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

#define SWAR_ONES 0x0101010101010101ULL
#define SWAR_HIGH 0x8080808080808080ULL

/* High bit set in each byte of w that is special (exact for the lowest
   such byte; bytes above it may be flagged by borrows, which is fine). */
static inline uint64_t swar_special(uint64_t w)
{
    uint64_t q = w ^ (SWAR_ONES * '"');
    uint64_t b = w ^ (SWAR_ONES * '\\');
    uint64_t ctl = (w - SWAR_ONES * 0x20) & ~w;
    uint64_t quote = (q - SWAR_ONES) & ~q;
    uint64_t bs = (b - SWAR_ONES) & ~b;

    return (ctl | quote | bs | w) & SWAR_HIGH;
}

static inline const unsigned char *find_swar(const unsigned char *p,
                                             const unsigned char *end)
{
    while (end - p >= 8) {
        uint64_t w, m;

        memcpy(&w, p, 8);
        m = swar_special(w);
        if (m != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(m) >> 3);
#else
            break; /* the byte loop below finds it */
#endif
        }
        p += 8;
    }
    while (p < end && !is_special(*p))
        p++;
    return p;
}

static inline const unsigned char *find_special(const unsigned char *p,
                                                const unsigned char *end)
{
#ifdef JSON_SSE2
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
    return find_swar(p, end);
}

const unsigned char *dray__json_find_special(const unsigned char *p,
                                             const unsigned char *end)
{
    return find_special(p, end);
}

const unsigned char *dray__json_find_special_portable(const unsigned char *p,
                                                      const unsigned char *end)
{
    return find_swar(p, end);
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
static const unsigned char *scan_utf8(const unsigned char *p,
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
                fail(err, base, end, "unexpected end of text in a string");
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
    fail(err, base, p, "invalid UTF-8 byte 0x%02x in a string", *p);
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
static const unsigned char *
scan_escape(const unsigned char *p, const unsigned char *end, uint8_t *flags,
            const unsigned char *base, struct dray_json_error *err)
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
            fail(err, base, p, "invalid escape '\\%c' in a string", p[1]);
        else
            fail(err, base, p,
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
        fail(err, base, p, "lone low surrogate \\u%04x in a string",
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
    fail(err, base, p, "high surrogate \\u%04x not followed by a low surrogate",
         (unsigned)hi);
    return NULL;
hex_error:
    if (hi == -1) {
        fail(err, base, p,
             "invalid \\u escape in a string (4 hex digits needed)");
        return NULL;
    }
eof:
    fail(err, base, end, "unexpected end of text in a string");
    return NULL;
}

/* Scans a string's body from p (after the opening quote); returns the
   closing quote, or NULL with err filled. */
static inline const unsigned char *
scan_string(const unsigned char *p, const unsigned char *end, uint8_t *flags,
            const unsigned char *base, struct dray_json_error *err)
{
    for (;;) {
        p = find_special(p, end);
        if (p == end) {
            fail(err, base, end, "unexpected end of text in a string");
            return NULL;
        }
        if (*p == '"')
            return p;
        if (*p == '\\')
            p = scan_escape(p, end, flags, base, err);
        else if (*p < 0x20) {
            fail(err, base, p,
                 "control character 0x%02x in a string (must be escaped)", *p);
            return NULL;
        } else
            p = scan_utf8(p, end, base, err);
        if (p == NULL)
            return NULL;
    }
}

/* ---- numbers, white space, the tape ------------------------------------ */

static inline int is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10;
}

/* Scans a number at p ('-' or a digit); returns the byte after it, or NULL
   with err filled. Sets the INTEGER and NEGATIVE flags. */
static inline const unsigned char *
scan_number(const unsigned char *p, const unsigned char *end, uint8_t *flags,
            const unsigned char *base, struct dray_json_error *err)
{
    uint8_t f = DRAY_JSON_F_INTEGER;

    if (*p == '-') {
        f |= DRAY_JSON_F_NEGATIVE;
        p++;
        if (p == end || !is_digit(*p)) {
            unexpected(err, base, p, end, "after '-' (a digit is needed)");
            return NULL;
        }
    }
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            fail(err, base, p - 1, "leading zero in a number");
            return NULL;
        }
    } else {
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && *p == '.') {
        f &= (uint8_t)~DRAY_JSON_F_INTEGER;
        p++;
        if (p == end || !is_digit(*p)) {
            unexpected(err, base, p, end,
                       "after a decimal point (a digit is needed)");
            return NULL;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p | 0x20) == 'e') {
        f &= (uint8_t)~DRAY_JSON_F_INTEGER;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p)) {
            unexpected(err, base, p, end, "in an exponent (a digit is needed)");
            return NULL;
        }
        while (p < end && is_digit(*p))
            p++;
    }
    *flags = f;
    return p;
}

static inline const unsigned char *skip_ws(const unsigned char *p,
                                           const unsigned char *end)
{
    while (p < end && *p <= ' ' &&
           (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Makes room for at least one more token, doubling the tape. */
__attribute__((noinline)) static int tape_grow(struct dray_json_doc *doc)
{
    uint32_t cap = doc->cap_tok;
    struct dray_json_token *t;

    if (cap == UINT32_MAX)
        return -2;
    cap = cap < TAPE_MIN         ? TAPE_MIN
          : cap > UINT32_MAX / 2 ? UINT32_MAX
                                 : cap * 2;
#if SIZE_MAX <= UINT32_MAX
    if (cap > SIZE_MAX / sizeof *t) /* only a 32-bit size_t can overflow */
        return -2;
#endif
    t = realloc(doc->tok, (size_t)cap * sizeof *t);
    if (t == NULL)
        return -2;
    doc->tok = t;
    doc->cap_tok = cap;
    return 0;
}

void dray_json_doc_init(struct dray_json_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    doc->max_depth = DRAY_JSON_MAX_DEPTH;
}

void dray_json_doc_release(struct dray_json_doc *doc)
{
    free(doc->tok);
    doc->tok = NULL;
    doc->n_tok = doc->cap_tok = 0;
}

static inline int is_literal(const unsigned char *p, const unsigned char *end,
                             const char *word, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* The type of the literal at p, its length in *len; 0 when there is none. */
static inline unsigned scan_literal(const unsigned char *p,
                                    const unsigned char *end, uint32_t *len)
{
    *len = 4;
    if (is_literal(p, end, "true", 4))
        return DRAY_JSON_TRUE;
    if (is_literal(p, end, "null", 4))
        return DRAY_JSON_NULL;
    *len = 5;
    return is_literal(p, end, "false", 5) ? DRAY_JSON_FALSE : 0;
}

/* ---- the parser --------------------------------------------------------- */

static inline void set_token(struct dray_json_token *t, unsigned type,
                             uint8_t flags, uint32_t depth, uint32_t offset,
                             uint32_t len, uint32_t end)
{
    t->type = (uint8_t)type;
    t->flags = flags;
    t->depth = (uint16_t)depth;
    t->offset = offset;
    t->len = len;
    t->end = end;
    t->count = 0;
}

/* Ensures tok[n] exists; returns from the parser on failure. */
#define TAPE_ROOM()                                                            \
    do {                                                                       \
        if (n == cap) {                                                        \
            doc->n_tok = n;                                                    \
            if (tape_grow(doc) != 0) {                                         \
                doc->n_tok = 0;                                                \
                fail(err, base, p, "out of memory");                           \
                return -2;                                                     \
            }                                                                  \
            tok = doc->tok;                                                    \
            cap = doc->cap_tok;                                                \
        }                                                                      \
    } while (0)

int dray_json_parse(struct dray_json_doc *doc, const char *text, size_t len,
                    struct dray_json_error *err)
{
    const unsigned char *base = (const unsigned char *)text;
    const unsigned char *p = base, *end = base + len, *q;
    struct dray_json_token *tok = doc->tok;
    uint32_t n = 0, cap = doc->cap_tok, cur = NO_PARENT, depth = 0, limit;
    uint32_t wlen;
    unsigned type;
    int in_obj = 0;
    uint8_t flags;

    doc->text = text;
    doc->text_len = len;
    doc->n_tok = 0;
    if (len == 0)
        return fail(err, base, p, "empty text");
    if (len > DRAY_JSON_MAX_TEXT)
        return fail(err, base, p, "text of %zu bytes is over the limit of %zu",
                    len, DRAY_JSON_MAX_TEXT);
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        return fail(err, base, p, "byte order mark at the start of the text");
    /* The token depth is 16 bits wide. */
    limit = doc->max_depth < UINT16_MAX ? doc->max_depth : UINT16_MAX;

value:
    p = skip_ws(p, end);
    if (p == end)
        goto bad_value;
    TAPE_ROOM();
    switch (*p) {
    case '"':
        flags = 0;
        q = scan_string(p + 1, end, &flags, base, err);
        if (q == NULL)
            return -1;
        set_token(&tok[n], DRAY_JSON_STRING, flags, depth,
                  (uint32_t)(p + 1 - base), (uint32_t)(q - p - 1), n + 1);
        n++;
        p = q + 1;
        goto after_value;
    case '{':
    case '[':
        if (depth >= limit)
            return fail(err, base, p, "nesting deeper than %u levels",
                        (unsigned)limit);
        in_obj = *p == '{';
        /* While open, `end` links to the parent container. */
        set_token(&tok[n], in_obj ? DRAY_JSON_OBJECT : DRAY_JSON_ARRAY, 0,
                  depth, (uint32_t)(p - base), 0, cur);
        cur = n++;
        depth++;
        p = skip_ws(p + 1, end);
        if (p < end && *p == (in_obj ? '}' : ']'))
            goto close;
        tok[cur].count = 1;
        if (!in_obj)
            goto value;
        if (p < end && *p == '"')
            goto key;
        goto bad_key;
    case 't':
    case 'f':
    case 'n':
        if ((type = scan_literal(p, end, &wlen)) == 0)
            return fail(err, base, p,
                        "invalid literal (true, false or null expected)");
        set_token(&tok[n], type, 0, depth, (uint32_t)(p - base), wlen, n + 1);
        n++;
        p += wlen;
        goto after_value;
    default:
        if (*p != '-' && !is_digit(*p))
            goto bad_value;
        q = scan_number(p, end, &flags, base, err);
        if (q == NULL)
            return -1;
        set_token(&tok[n], DRAY_JSON_NUMBER, flags, depth, (uint32_t)(p - base),
                  (uint32_t)(q - p), n + 1);
        n++;
        p = q;
        goto after_value;
    }

key: /* p is at the opening quote of a member name */
    TAPE_ROOM();
    flags = DRAY_JSON_F_KEY;
    q = scan_string(p + 1, end, &flags, base, err);
    if (q == NULL)
        return -1;
    set_token(&tok[n], DRAY_JSON_STRING, flags, depth, (uint32_t)(p + 1 - base),
              (uint32_t)(q - p - 1), n + 1);
    n++;
    p = skip_ws(q + 1, end);
    if (p < end && *p == ':') {
        p++;
        goto value;
    }
    return unexpected(err, base, p, end, "after a member name");

after_value:
    if (cur == NO_PARENT)
        goto done;
    p = skip_ws(p, end);
    if (p < end && *p == ',') {
        tok[cur].count++;
        p = skip_ws(p + 1, end);
        if (!in_obj)
            goto value;
        if (p < end && *p == '"')
            goto key;
        goto bad_key;
    }
    if (p < end && *p == (in_obj ? '}' : ']'))
        goto close;
    return unexpected(err, base, p, end,
                      in_obj ? "after an object member"
                             : "after an array element");

close : /* p is at the closing bracket of tok[cur] */
{
    struct dray_json_token *t = &tok[cur];
    uint32_t parent = t->end;

    t->len = (uint32_t)(p + 1 - base) - t->offset;
    t->end = n;
    cur = parent;
    depth--;
    p++;
    if (cur != NO_PARENT)
        in_obj = tok[cur].type == DRAY_JSON_OBJECT;
    goto after_value;
}

done:
    p = skip_ws(p, end);
    if (p != end)
        return unexpected(err, base, p, end, "after the top-level value");
    doc->n_tok = n;
    return 0;

bad_value:
    return unexpected(err, base, p, end, "where a value was expected");
bad_key:
    return unexpected(err, base, p, end, "where a member name was expected");
}

/*
 * json_parse.c - the validating JSON scanner that builds the tape.
 *
 * One pass over the text, no recursion and no per-token allocation. An open
 * container keeps its parent's index in its own `end` field until it
 * closes, so the tape doubles as the nesting stack. Strings are scanned by
 * dray__json_scan_string (json_internal.h, json_scan.c).
 */
#include "dray/dray_json.h"
#include "json_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_PARENT UINT32_MAX
#define TAPE_MIN 64

/* ---- errors ------------------------------------------------------------- */

__attribute__((cold, noinline, format(printf, 4, 5))) int
dray__json_fail(struct dray_json_error *err, const unsigned char *base,
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
        return dray__json_fail(err, base, at, "unexpected end of text %s",
                               where);
    if (*at > 0x20 && *at < 0x7f)
        return dray__json_fail(err, base, at, "unexpected character '%c' %s",
                               *at, where);
    return dray__json_fail(err, base, at, "unexpected byte 0x%02x %s", *at,
                           where);
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
            dray__json_fail(err, base, p - 1, "leading zero in a number");
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
                dray__json_fail(err, base, p, "out of memory");                \
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
        return dray__json_fail(err, base, p, "empty text");
    if (len > DRAY_JSON_MAX_TEXT)
        return dray__json_fail(err, base, p,
                               "text of %zu bytes is over the limit of %zu",
                               len, DRAY_JSON_MAX_TEXT);
    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        return dray__json_fail(err, base, p,
                               "byte order mark at the start of the text");
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
        q = dray__json_scan_string(p + 1, end, &flags, base, err);
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
            return dray__json_fail(
                err, base, p, "nesting deeper than %u levels", (unsigned)limit);
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
            return dray__json_fail(
                err, base, p, "invalid literal (true, false or null expected)");
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
    q = dray__json_scan_string(p + 1, end, &flags, base, err);
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

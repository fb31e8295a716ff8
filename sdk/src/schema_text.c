/*
 * schema_text.c - the one pass over a SCHEMA's text before jansson reads
 * it: every number in a value position is turned into a string of its
 * source text. jansson stores reals as doubles (multipleOf 0.1 would come
 * back as 0.10000000000000001) and refuses integers past int64 (taps write
 * "maximum": 1e38 bounds as 100000...0), so the text is the only faithful
 * record of the digits. Only well-formed structure is rewritten, so a text
 * jansson would refuse is refused the same way.
 */
#include "schema_internal.h"

#include <string.h>

/* jansson's own nesting limit; deeper texts are refused by it anyway. */
#define QUOTE_MAX_DEPTH 2048

enum expect {
    EXPECT_VALUE, /* a value (top level, after ':' or ',' in array) */
    EXPECT_FIRST, /* a key or '}' right after '{' */
    EXPECT_KEY,   /* a key after ',' in an object */
    EXPECT_ITEM,  /* a value or ']' right after '[' */
    EXPECT_COLON, /* ':' after a key */
    EXPECT_AFTER, /* ',' or the closing bracket */
    EXPECT_END    /* only white space */
};

struct quote_state {
    const char *text;
    size_t len, pos, copied;
    char stack[QUOTE_MAX_DEPTH]; /* '{' or '[' */
    int depth;
    enum expect expect;
    int rewrote;
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 8259 number at pos; its length, or 0 when malformed. */
static size_t json_number_len(const char *s, size_t n)
{
    size_t i = 0;

    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && is_digit(s[i]))
        while (i < n && is_digit(s[i]))
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        if (++i >= n || !is_digit(s[i]))
            return 0;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            return 0;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i;
}

/* The value just ended: what may follow depends on the container. */
static void value_done(struct quote_state *q)
{
    q->expect = q->depth == 0 ? EXPECT_END : EXPECT_AFTER;
}

static int at_value(const struct quote_state *q)
{
    return q->expect == EXPECT_VALUE || q->expect == EXPECT_ITEM;
}

/* Skips the string starting at q->pos (the quote); -1 if unterminated. */
static int skip_string(struct quote_state *q)
{
    size_t i = q->pos + 1;

    while (i < q->len && q->text[i] != '"')
        i += q->text[i] == '\\' ? 2 : 1;
    if (i >= q->len)
        return -1;
    q->pos = i + 1;
    return 0;
}

static int quote_number(struct quote_state *q, size_t n, struct dray_buf *out)
{
    if (dray_buf_add(out, q->text + q->copied, q->pos - q->copied) != 0 ||
        dray_buf_addc(out, '"') != 0 ||
        dray_buf_add(out, q->text + q->pos, n) != 0 ||
        dray_buf_addc(out, '"') != 0)
        return -2;
    q->pos += n;
    q->copied = q->pos;
    q->rewrote = 1;
    return 0;
}

static int open_container(struct quote_state *q, char c)
{
    if (!at_value(q) || q->depth >= QUOTE_MAX_DEPTH)
        return -1;
    q->stack[q->depth++] = c;
    q->expect = c == '{' ? EXPECT_FIRST : EXPECT_ITEM;
    q->pos++;
    return 0;
}

static int close_container(struct quote_state *q, char c)
{
    char open = c == '}' ? '{' : '[';
    int may_close = q->expect == EXPECT_AFTER ||
                    (c == '}' && q->expect == EXPECT_FIRST) ||
                    (c == ']' && q->expect == EXPECT_ITEM);

    if (!may_close || q->depth == 0 || q->stack[q->depth - 1] != open)
        return -1;
    q->depth--;
    q->pos++;
    value_done(q);
    return 0;
}

/* One token at q->pos. Returns 0, -1 when malformed, -2 out of memory. */
static int step(struct quote_state *q, struct dray_buf *out)
{
    char c = q->text[q->pos];
    size_t n;

    switch (c) {
    case '{':
    case '[':
        return open_container(q, c);
    case '}':
    case ']':
        return close_container(q, c);
    case ':':
        if (q->expect != EXPECT_COLON)
            return -1;
        q->expect = EXPECT_VALUE;
        q->pos++;
        return 0;
    case ',':
        if (q->expect != EXPECT_AFTER)
            return -1;
        q->expect = q->stack[q->depth - 1] == '{' ? EXPECT_KEY : EXPECT_VALUE;
        q->pos++;
        return 0;
    case '"':
        if (q->expect == EXPECT_FIRST || q->expect == EXPECT_KEY) {
            q->expect = EXPECT_COLON;
        } else if (at_value(q)) {
            value_done(q);
        } else {
            return -1;
        }
        return skip_string(q);
    default:
        break;
    }
    if (!at_value(q))
        return -1;
    if (c == '-' || is_digit(c)) {
        n = json_number_len(q->text + q->pos, q->len - q->pos);
        if (n == 0)
            return -1;
        value_done(q);
        if (q->depth == 0) { /* a bare number is no schema: say so */
            q->pos += n;
            return 0;
        }
        return quote_number(q, n, out);
    }
    /* true, false, null: jansson checks the spelling. */
    for (n = 0; q->pos + n < q->len && q->text[q->pos + n] >= 'a' &&
                q->text[q->pos + n] <= 'z';
         n++)
        ;
    if (n == 0)
        return -1;
    q->pos += n;
    value_done(q);
    return 0;
}

int dray__schema_quote_numbers(const char *text, size_t len,
                               struct dray_buf *out)
{
    struct quote_state q = {.text = text, .len = len, .expect = EXPECT_VALUE};
    int rc;

    while (q.pos < q.len) {
        char c = text[q.pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            q.pos++;
            continue;
        }
        if (q.expect == EXPECT_END)
            goto unchanged;
        rc = step(&q, out);
        if (rc == -2)
            return -2;
        if (rc != 0)
            goto unchanged;
    }
    if (q.expect != EXPECT_END || !q.rewrote)
        goto unchanged;
    if (dray_buf_add(out, text + q.copied, len - q.copied) != 0)
        return -2;
    return 0;
unchanged:
    dray_buf_reset(out);
    return 1;
}

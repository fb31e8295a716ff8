/*
 * json_access.c - reading a parsed tape: member lookup, string decoding and
 * comparison, and writing values back out as compact JSON.
 *
 * Everything here trusts the tape: the text was validated by
 * dray_json_parse, so escapes are well formed and surrogates paired.
 */
#include "dray/dray_json.h"
#include "json_internal.h"

#include <string.h>

/* ---- decoding ----------------------------------------------------------- */

static size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The one-letter escapes and the bytes they stand for, in pairs. */
static const char simple_escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";

/* Decodes the (validated) escape at *pp into out; returns its length in
   bytes and moves *pp past it. */
static size_t decode_escape(const unsigned char **pp, unsigned char out[4])
{
    const unsigned char *p = *pp;
    uint32_t cp;

    if (p[1] != 'u') {
        const char *e = strchr(simple_escapes, p[1]);

        *pp = p + 2;
        out[0] = (unsigned char)e[1];
        return 1;
    }
    cp = (uint32_t)dray__json_hex4(p + 2);
    *pp = p + 6;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) +
             ((uint32_t)dray__json_hex4(p + 8) - 0xdc00);
        *pp = p + 12;
    }
    return utf8_encode(cp, out);
}

/*
 * Walks a string's raw bytes in pieces of decoded text: a run without
 * escapes (pointing into the source) or one decoded escape (in tmp).
 */
struct piece_iter {
    const unsigned char *p, *end;
    unsigned char tmp[4];
};

static int next_piece(struct piece_iter *it, const unsigned char **s, size_t *n)
{
    const unsigned char *bs;

    if (it->p == it->end)
        return 0;
    if (*it->p == '\\') {
        *n = decode_escape(&it->p, it->tmp);
        *s = it->tmp;
        return 1;
    }
    bs = memchr(it->p, '\\', (size_t)(it->end - it->p));
    if (bs == NULL)
        bs = it->end;
    *s = it->p;
    *n = (size_t)(bs - it->p);
    it->p = bs;
    return 1;
}

static void piece_init(struct piece_iter *it, const struct dray_json_doc *doc,
                       const struct dray_json_token *t)
{
    it->p = (const unsigned char *)doc->text + t->offset;
    it->end = it->p + t->len;
}

int dray_json_string(const struct dray_json_doc *doc, uint32_t i,
                     struct dray_buf *out)
{
    const struct dray_json_token *t;
    struct piece_iter it;
    const unsigned char *s;
    size_t n;

    if (i >= doc->n_tok || doc->tok[i].type != DRAY_JSON_STRING)
        return -1;
    t = &doc->tok[i];
    if (!(t->flags & DRAY_JSON_F_ESCAPED))
        return dray_buf_add(out, doc->text + t->offset, t->len);
    /* Decoded text is never longer than its source. */
    if (dray_buf_reserve(out, t->len) != 0)
        return -2;
    piece_init(&it, doc, t);
    while (next_piece(&it, &s, &n)) {
        memcpy(out->data + out->len, s, n);
        out->len += n;
    }
    out->data[out->len] = '\0';
    return 0;
}

int dray_json_string_eq(const struct dray_json_doc *doc, uint32_t i,
                        const char *s, size_t n)
{
    const struct dray_json_token *t;
    struct piece_iter it;
    const unsigned char *piece;
    size_t len;

    if (i >= doc->n_tok || doc->tok[i].type != DRAY_JSON_STRING)
        return 0;
    t = &doc->tok[i];
    if (!(t->flags & DRAY_JSON_F_ESCAPED))
        return t->len == n &&
               (n == 0 || memcmp(doc->text + t->offset, s, n) == 0);
    piece_init(&it, doc, t);
    while (next_piece(&it, &piece, &len)) {
        if (len > n || memcmp(piece, s, len) != 0)
            return 0;
        s += len;
        n -= len;
    }
    return n == 0;
}

int32_t dray_json_get(const struct dray_json_doc *doc, uint32_t obj,
                      const char *key, size_t keylen)
{
    int32_t found = -1;
    uint32_t k, m;

    if (obj >= doc->n_tok || doc->tok[obj].type != DRAY_JSON_OBJECT)
        return -1;
    k = obj + 1;
    for (m = 0; m < doc->tok[obj].count; m++) {
        if (dray_json_string_eq(doc, k, key, keylen))
            found = (int32_t)(k + 1);
        k = doc->tok[k + 1].end;
    }
    return found;
}

/* ---- writing ------------------------------------------------------------ */

/* Collects small writes so that a value reaches the sink in few calls. */
struct wout {
    struct dray_sink *sink;
    int rc;
    size_t n;
    char buf[512];
};

static void wout_flush(struct wout *o)
{
    if (o->n > 0 && o->rc == 0)
        o->rc = o->sink->write(o->sink->ctx, o->buf, o->n);
    o->n = 0;
}

static void wout_put(struct wout *o, const void *s, size_t n)
{
    if (n > sizeof o->buf - o->n) {
        wout_flush(o);
        if (n >= sizeof o->buf) {
            if (o->rc == 0)
                o->rc = o->sink->write(o->sink->ctx, s, n);
            return;
        }
    }
    memcpy(o->buf + o->n, s, n);
    o->n += n;
}

static void wout_putc(struct wout *o, char c)
{
    if (o->n == sizeof o->buf)
        wout_flush(o);
    o->buf[o->n++] = c;
}

/* The bytes between two tokens are white space and punctuation: keeps the
   punctuation. */
static void write_gap(struct wout *o, const unsigned char *p,
                      const unsigned char *end)
{
    for (; p < end; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
            wout_putc(o, (char)*p);
}

/* A string as written in the source, but "\/" as "/". */
static void write_raw_string(struct wout *o, const unsigned char *p, size_t len,
                             int escaped)
{
    const unsigned char *end = p + len, *bs;

    wout_putc(o, '"');
    while (escaped && (bs = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        wout_put(o, p, (size_t)(bs - p));
        if (bs[1] == '/')
            wout_putc(o, '/');
        else
            wout_put(o, bs, 2);
        p = bs + 2;
    }
    wout_put(o, p, (size_t)(end - p));
    wout_putc(o, '"');
}

int dray_json_write(const struct dray_json_doc *doc, uint32_t i,
                    struct dray_sink *sink)
{
    const unsigned char *text = (const unsigned char *)doc->text;
    const struct dray_json_token *t;
    struct wout o;
    size_t pos, stop;
    uint32_t j, last;

    if (i >= doc->n_tok)
        return -1;
    o.sink = sink;
    o.rc = 0;
    o.n = 0;
    t = &doc->tok[i];
    last = t->end;
    pos = t->offset - (t->type == DRAY_JSON_STRING);
    stop = pos;
    if (t->type == DRAY_JSON_OBJECT || t->type == DRAY_JSON_ARRAY)
        stop = (size_t)t->offset + t->len;
    /* Token by token in text order; closing brackets, commas and colons are
       the non-blank bytes of the gaps between them. */
    for (j = i; j < last && o.rc == 0; j++) {
        t = &doc->tok[j];
        switch (t->type) {
        case DRAY_JSON_STRING:
            write_gap(&o, text + pos, text + t->offset - 1);
            write_raw_string(&o, text + t->offset, t->len,
                             t->flags & DRAY_JSON_F_ESCAPED);
            pos = (size_t)t->offset + t->len + 1;
            break;
        case DRAY_JSON_OBJECT:
        case DRAY_JSON_ARRAY:
            write_gap(&o, text + pos, text + t->offset);
            wout_putc(&o, (char)text[t->offset]);
            pos = (size_t)t->offset + 1;
            break;
        default:
            write_gap(&o, text + pos, text + t->offset);
            wout_put(&o, text + t->offset, t->len);
            pos = (size_t)t->offset + t->len;
            break;
        }
    }
    if (stop > pos)
        write_gap(&o, text + pos, text + stop);
    wout_flush(&o);
    return o.rc;
}

/* Bytes that need an escape in a string literal: '"', '\\', controls. */
static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* The letter of the one-letter escape for byte c, or 0. */
static char escape_letter(unsigned char c)
{
    for (size_t i = 0; i + 1 < sizeof simple_escapes; i += 2)
        if ((unsigned char)simple_escapes[i + 1] == c)
            return simple_escapes[i];
    return 0;
}

int dray_json_write_string(struct dray_sink *sink, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;
    struct wout o;
    char esc[6] = {'\\', 'u', '0', '0'};

    o.sink = sink;
    o.rc = 0;
    o.n = 0;
    wout_putc(&o, '"');
    while (p < end) {
        char letter;

        for (run = p; p < end && !needs_escape(*p); p++)
            ;
        wout_put(&o, run, (size_t)(p - run));
        if (p == end)
            break;
        if ((letter = escape_letter(*p)) != 0) {
            char two[2] = {'\\', letter};

            wout_put(&o, two, 2);
        } else {
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            wout_put(&o, esc, 6);
        }
        p++;
    }
    wout_putc(&o, '"');
    wout_flush(&o);
    return o.rc;
}

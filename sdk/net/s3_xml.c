/*
 * s3_xml.c - a minimal reader for the XML bodies S3 answers with: the text
 * of the first element of a name, the elements of a name one after the
 * other, entity decoding, and escaping for the bodies we send.
 *
 * S3's documents are small and flat, so this is a tag scanner, not a
 * parser: comments, processing instructions, CDATA and DOCTYPE are
 * skipped, namespace prefixes ignored, and anything malformed or cut short
 * reads as "not found" (never past the end of the input).
 */
#include "net_internal.h"

#include <stdint.h>
#include <string.h>

enum { TAG_OPEN, TAG_CLOSE, TAG_EMPTY };

struct tag {
    int kind;
    const char *name; /* the local name (after any prefix) */
    size_t name_len;
    size_t start; /* the '<' */
    size_t end;   /* after the '>' */
};

static int starts_with(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);

    return len - i >= n && memcmp(s + i, lit, n) == 0;
}

/* Offset just past the first lit at or after i, or 0 when absent. */
static size_t skip_past(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);

    for (; i + n <= len; i++)
        if (memcmp(s + i, lit, n) == 0)
            return i + n;
    return 0;
}

static int is_name_end(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/' ||
           c == '>' || c == '<';
}

/* The next element tag at or after *pos; 0 at the end or on a tag cut
   short. */
static int next_tag(const char *s, size_t len, size_t *pos, struct tag *t)
{
    size_t i = *pos;

    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        size_t j, n0, k;
        char quote = 0;

        if (lt == NULL)
            return 0;
        i = (size_t)(lt - s);
        if (starts_with(s, len, i, "<!--") ||
            starts_with(s, len, i, "<![CDATA[") ||
            starts_with(s, len, i, "<?") || starts_with(s, len, i, "<!")) {
            const char *close = starts_with(s, len, i, "<!--")        ? "-->"
                                : starts_with(s, len, i, "<![CDATA[") ? "]]>"
                                : starts_with(s, len, i, "<?")        ? "?>"
                                                                      : ">";
            i = skip_past(s, len, i + 2, close);
            if (i == 0)
                return 0;
            continue;
        }
        j = i + 1;
        t->kind = TAG_OPEN;
        if (j < len && s[j] == '/') {
            t->kind = TAG_CLOSE;
            j++;
        }
        n0 = j;
        while (j < len && !is_name_end(s[j]))
            j++;
        if (j == n0 || j >= len) {
            if (j >= len)
                return 0;
            i = j; /* a stray '<': not a tag */
            continue;
        }
        t->name = s + n0;
        t->name_len = j - n0;
        for (k = n0; k < j; k++) /* "s3:Key" is Key */
            if (s[k] == ':') {
                t->name = s + k + 1;
                t->name_len = j - k - 1;
            }
        /* To the '>' that ends the tag; quoted attribute values may hold
           one. */
        for (; j < len; j++) {
            if (quote) {
                if (s[j] == quote)
                    quote = 0;
            } else if (s[j] == '"' || s[j] == '\'') {
                quote = s[j];
            } else if (s[j] == '>') {
                break;
            }
        }
        if (j >= len)
            return 0;
        if (t->kind == TAG_OPEN && s[j - 1] == '/')
            t->kind = TAG_EMPTY;
        t->start = i;
        t->end = j + 1;
        *pos = j + 1;
        return 1;
    }
    return 0;
}

static int tag_is(const struct tag *t, const char *name)
{
    size_t n = strlen(name);

    return t->name_len == n && memcmp(t->name, name, n) == 0;
}

int dray__xml_next(struct dray__xml x, const char *tag, size_t *pos,
                   struct dray__xml *inner)
{
    struct tag t;

    if (x.s == NULL)
        return 0;
    while (next_tag(x.s, x.len, pos, &t)) {
        size_t content;
        int depth = 1;

        if (t.kind == TAG_CLOSE || !tag_is(&t, tag))
            continue;
        if (t.kind == TAG_EMPTY) {
            inner->s = x.s + t.end;
            inner->len = 0;
            return 1;
        }
        content = t.end;
        while (next_tag(x.s, x.len, pos, &t)) {
            if (!tag_is(&t, tag))
                continue;
            if (t.kind == TAG_OPEN)
                depth++;
            else if (t.kind == TAG_CLOSE && --depth == 0) {
                inner->s = x.s + content;
                inner->len = t.start - content;
                return 1;
            }
        }
        return 0; /* never closed: cut short */
    }
    return 0;
}

int dray__xml_find(struct dray__xml x, const char *tag, struct dray__xml *inner)
{
    size_t pos = 0;

    return dray__xml_next(x, tag, &pos, inner);
}

int dray__xml_root_is(struct dray__xml x, const char *tag)
{
    struct tag t;
    size_t pos = 0;

    if (x.s == NULL || !next_tag(x.s, x.len, &pos, &t))
        return 0;
    return t.kind != TAG_CLOSE && tag_is(&t, tag);
}

int dray__xml_root_closed(struct dray__xml x)
{
    struct dray__xml in;
    struct tag t;
    size_t pos = 0;
    char name[128];

    if (x.s == NULL || !next_tag(x.s, x.len, &pos, &t) || t.kind == TAG_CLOSE)
        return 0;
    if (t.kind == TAG_EMPTY)
        return 1;
    if (t.name_len >= sizeof(name))
        return 0;
    memcpy(name, t.name, t.name_len);
    name[t.name_len] = '\0';
    pos = 0;
    return dray__xml_next(x, name, &pos, &in);
}

/* ---- text --------------------------------------------------------------- */

static int add_utf8(struct dray_buf *out, uint32_t cp)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return dray_buf_add(out, u, n);
}

/* The code point of "#NN" / "#xNN" (the text between '&' and ';'), or
   UINT32_MAX when it is not one XML allows. */
static uint32_t char_ref(const char *s, size_t n)
{
    uint32_t cp = 0;
    int hex = n > 1 && (s[1] == 'x' || s[1] == 'X');
    size_t i = hex ? 2 : 1;

    if (n <= i || n - i > 8)
        return UINT32_MAX;
    for (; i < n; i++) {
        char c = s[i];
        uint32_t d;

        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return UINT32_MAX;
        cp = cp * (hex ? 16 : 10) + d;
        if (cp > 0x10FFFF)
            return UINT32_MAX;
    }
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
        return UINT32_MAX;
    return cp;
}

int dray__xml_decode(struct dray_buf *out, const char *s, size_t len)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    size_t i = 0;

    if (dray_buf_add(out, "", 0) != 0) /* "" rather than NULL when empty */
        return -2;
    while (i < len) {
        size_t run = i, end, n;
        int done = 0;

        while (i < len && s[i] != '&' && s[i] != '<')
            i++;
        if (dray_buf_add(out, s + run, i - run) != 0)
            return -2;
        if (i >= len)
            break;
        if (s[i] == '<') {
            /* CDATA is literal text; any other markup inside text (a
               child element) is kept as it is. */
            if (starts_with(s, len, i, "<![CDATA[")) {
                end = skip_past(s, len, i + 9, "]]>");
                if (end == 0)
                    end = len + 3; /* cut short: take the rest */
                if (dray_buf_add(out, s + i + 9, end - 3 - (i + 9)) != 0)
                    return -2;
                i = end > len ? len : end;
            } else {
                if (dray_buf_addc(out, '<') != 0)
                    return -2;
                i++;
            }
            continue;
        }
        /* '&': a reference up to ';', else a literal '&'. */
        for (end = i + 1; end < len && end - i <= 12 && s[end] != ';'; end++)
            ;
        if (end < len && s[end] == ';') {
            n = end - i - 1;
            if (n > 0 && s[i + 1] == '#') {
                uint32_t cp = char_ref(s + i + 1, n);

                if (cp != UINT32_MAX) {
                    if (add_utf8(out, cp) != 0)
                        return -2;
                    done = 1;
                }
            } else {
                for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
                    if (strlen(named[k].name) == n &&
                        memcmp(named[k].name, s + i + 1, n) == 0) {
                        if (dray_buf_addc(out, named[k].c) != 0)
                            return -2;
                        done = 1;
                        break;
                    }
            }
        }
        if (done) {
            i = end + 1;
        } else {
            if (dray_buf_addc(out, '&') != 0)
                return -2;
            i++;
        }
    }
    return 0;
}

int dray__xml_text(struct dray__xml x, const char *tag, struct dray_buf *out)
{
    struct dray__xml in;

    dray_buf_reset(out);
    if (!dray__xml_find(x, tag, &in))
        return 0;
    return dray__xml_decode(out, in.s, in.len) == 0 ? 1 : -2;
}

int dray__xml_copy(struct dray__xml x, const char *tag, char *buf, size_t size)
{
    struct dray_buf b = DRAY_BUF_INIT;
    int rc;
    size_t n;

    if (size == 0)
        return 0;
    buf[0] = '\0';
    rc = dray__xml_text(x, tag, &b);
    if (rc == 1) {
        n = b.len < size - 1 ? b.len : size - 1;
        /* Cut on a character boundary, not inside a UTF-8 sequence. */
        if (n < b.len)
            while (n > 0 && ((unsigned char)b.data[n] & 0xC0) == 0x80)
                n--;
        memcpy(buf, b.data, n);
        buf[n] = '\0';
    }
    dray_buf_release(&b);
    return rc == 1;
}

int dray__xml_escape(struct dray_buf *out, const char *s)
{
    size_t run = 0, i;

    for (i = 0; s[i] != '\0'; i++) {
        const char *rep = s[i] == '&'   ? "&amp;"
                          : s[i] == '<' ? "&lt;"
                          : s[i] == '>' ? "&gt;"
                                        : NULL;

        if (rep == NULL)
            continue;
        if (dray_buf_add(out, s + run, i - run) != 0 ||
            dray_buf_add(out, rep, strlen(rep)) != 0)
            return -2;
        run = i + 1;
    }
    return dray_buf_add(out, s + run, i - run);
}

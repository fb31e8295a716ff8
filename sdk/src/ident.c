/*
 * Destination identifiers: a source name made canonical for a dialect, cut
 * to the dialect's limit with a hash, and quoted for SQL. The rules and the
 * reasons for each are in docs/IDENTIFIERS.md; keep the two in step.
 */
#include "dray/dray_ident.h"

#include "dray/dray_abi.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* What a character becomes (map_char), besides an ASCII byte. */
#define MAP_DROP (-1) /* removed */
#define MAP_COPY (-2) /* kept as its source bytes */

/* A byte that does not start a well-formed UTF-8 sequence. */
#define BAD_UTF8 0xFFFFFFFFu

/* "_" and 8 hex digits end a truncated name. */
#define HASH_SUFFIX_LEN 9

struct dialect_rules {
    size_t limit;
    int in_bytes;         /* limit counts bytes, else characters */
    int case_map;         /* DRAY_CASE_* */
    const char *keep;     /* ASCII punctuation kept as it is */
    const char *to_under; /* ASCII punctuation that becomes '_' */
    int other;            /* any other character: MAP_DROP, '_' or
                             MAP_COPY */
    /* The dialect's rules for the start of a name, applied after the
       characters are mapped; capacity for one more byte is there. */
    void (*fix_start)(char *s, size_t *len, int system);
};

static int is_alpha(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

static int in_ascii_set(const char *set, uint32_t c)
{
    /* strchr finds the terminator for c == 0: rule it out first. */
    return c != 0 && c < 0x80 && strchr(set, (int)c) != NULL;
}

/* Removes leading characters until a letter (or '_' when allowed). */
static void strip_start(char *s, size_t *len, int allow_under)
{
    size_t i = 0;

    while (i < *len && !is_alpha((unsigned char)s[i]) &&
           !(allow_under && s[i] == '_'))
        i++;
    memmove(s, s + i, *len - i);
    *len -= i;
}

static void fix_start_postgres(char *s, size_t *len, int system)
{
    (void)system; /* a leading '_' is kept anyway */
    strip_start(s, len, 1);
}

static void fix_start_letter(char *s, size_t *len, int system)
{
    if (!system)
        strip_start(s, len, 0);
}

static int has_prefix(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(s, prefix, n) == 0;
}

/* Column prefixes BigQuery reserves (the name is lower case by now). */
static const char *const bigquery_reserved[] = {"_table_",    "_file_",
                                                "_partition", "_row_timestamp",
                                                "__root__",   "_colidentifier"};

static void fix_start_bigquery(char *s, size_t *len, int system)
{
    size_t i;

    (void)system; /* system names start with '_' and are not reserved */
    for (i = 0; i < *len && is_digit((unsigned char)s[i]); i++)
        s[i] = '_';
    for (i = 0; i < sizeof bigquery_reserved / sizeof *bigquery_reserved; i++) {
        if (has_prefix(s, *len, bigquery_reserved[i])) {
            /* One more '_' in front: no reserved prefix matches then. */
            memmove(s + 1, s, *len);
            s[0] = '_';
            (*len)++;
            return;
        }
    }
}

static void fix_start_files(char *s, size_t *len, int system)
{
    (void)system;
    /* "." and ".." would name the folder itself or its parent. */
    if ((*len == 1 && s[0] == '.') || (*len == 2 && s[0] == '.' && s[1] == '.'))
        memset(s, '_', *len);
}

static const struct dialect_rules dialects[] = {
    [DRAY_IDENT_POSTGRES] = {63, 1, DRAY_CASE_PRESERVE, "$ ", "", MAP_DROP,
                             fix_start_postgres},
    [DRAY_IDENT_REDSHIFT] = {127, 1, DRAY_CASE_LOWER, "$", " ", MAP_DROP,
                             fix_start_letter},
    [DRAY_IDENT_SNOWFLAKE] = {255, 0, DRAY_CASE_UPPER, "", " ", MAP_DROP,
                              fix_start_letter},
    [DRAY_IDENT_BIGQUERY] = {300, 0, DRAY_CASE_LOWER, "", "", '_',
                             fix_start_bigquery},
    [DRAY_IDENT_FILES] = {1024, 1, DRAY_CASE_PRESERVE, "", "/", MAP_COPY,
                          fix_start_files},
};

#define DIALECT_COUNT ((int)(sizeof dialects / sizeof *dialects))

static const struct dialect_rules *rules_of(int dialect)
{
    return dialect >= 0 && dialect < DIALECT_COUNT ? &dialects[dialect] : NULL;
}

int dray_ident_dialect_from_name(const char *type_map)
{
    static const struct {
        const char *name;
        int dialect;
    } names[] = {
        {"postgres", DRAY_IDENT_POSTGRES},   {"redshift", DRAY_IDENT_REDSHIFT},
        {"snowflake", DRAY_IDENT_SNOWFLAKE}, {"bigquery", DRAY_IDENT_BIGQUERY},
        {"files", DRAY_IDENT_FILES},         {"s3", DRAY_IDENT_FILES}};
    size_t i;

    if (type_map == NULL)
        return -1;
    for (i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(type_map, names[i].name) == 0)
            return names[i].dialect;
    return -1;
}

size_t dray_ident_limit(int dialect, int *in_bytes)
{
    const struct dialect_rules *r = rules_of(dialect);

    if (in_bytes)
        *in_bytes = r ? r->in_bytes : 1;
    return r ? r->limit : 0;
}

/*
 * Decodes one character of s (n > 0 bytes): stores the code point, or
 * BAD_UTF8 for a byte that starts no well-formed sequence (overlong forms,
 * surrogates and values past U+10FFFF included), and returns the bytes
 * used (1 for a bad byte, so decoding resumes at the next one).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len, i;
    uint32_t c, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        c = s[0] & 0x1Fu;
        min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        c = s[0] & 0x0Fu;
        min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        c = s[0] & 0x07u;
        min = 0x10000;
    } else {
        goto bad;
    }
    if (len > n)
        goto bad;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            goto bad;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        goto bad;
    *cp = c;
    return len;
bad:
    *cp = BAD_UTF8;
    return 1;
}

/* What character cp becomes: an ASCII byte, MAP_DROP or MAP_COPY. */
static int map_char(const struct dialect_rules *r, uint32_t cp)
{
    if (cp == BAD_UTF8)
        return '_'; /* keeps a trace of the byte and the output valid */
    if (cp == 0)
        /* A NUL is never copied: it would end the C string. */
        return r->other == MAP_COPY ? '_' : r->other;
    if (is_alpha(cp)) {
        if (r->case_map == DRAY_CASE_LOWER)
            return (int)(cp | 0x20u);
        if (r->case_map == DRAY_CASE_UPPER)
            return (int)(cp & ~0x20u);
        return (int)cp;
    }
    if (is_digit(cp) || cp == '_' || in_ascii_set(r->keep, cp))
        return (int)cp;
    if (in_ascii_set(r->to_under, cp))
        return '_';
    return r->other;
}

/* Maps every character of name into s; returns the bytes written (at most
   n: no character grows). */
static size_t map_name(const struct dialect_rules *r, const char *name,
                       size_t n, char *s)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t i = 0, len = 0, used;
    uint32_t cp;
    int m;

    while (i < n) {
        used = utf8_decode(p + i, n - i, &cp);
        m = map_char(r, cp);
        if (m == MAP_COPY) {
            memcpy(s + len, p + i, used);
            len += used;
        } else if (m != MAP_DROP) {
            s[len++] = (char)m;
        }
        i += used;
    }
    return len;
}

/* Names the loader owns keep their leading underscores (header). */
static int is_system_name(const char *name, size_t n)
{
    size_t skip = n >= 2 && name[0] == '_' && name[1] == '_';

    return n >= skip + 4 && name[skip] == '_' &&
           strncasecmp(name + skip + 1, "sdc", 3) == 0;
}

/* FNV-1a, 32 bits: the documented hash of a truncated name. */
static uint32_t fnv1a32(const char *s, size_t len)
{
    uint32_t h = 0x811C9DC5u;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x01000193u;
    }
    return h;
}

static int is_continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

static size_t count_chars(const char *s, size_t len)
{
    size_t i, chars = 0;

    for (i = 0; i < len; i++)
        chars += !is_continuation(s[i]);
    return chars;
}

/*
 * Where to cut s (valid UTF-8 of len bytes) so that the kept part has at
 * most room bytes or characters and ends on a character boundary.
 */
static size_t cut_point(const char *s, size_t len, size_t room, int in_bytes)
{
    size_t i, chars = 0;

    if (in_bytes) {
        i = room < len ? room : len;
        while (i > 0 && i < len && is_continuation(s[i]))
            i--;
        return i;
    }
    for (i = 0; i < len; i++) {
        if (!is_continuation(s[i]) && chars++ == room)
            return i;
    }
    return len;
}

/* Cuts s to the limit, ending in "_" and the hash of the whole of it;
   returns 1 when it did. */
static int truncate_name(const struct dialect_rules *r, char *s, size_t *len)
{
    const char *hex = r->case_map == DRAY_CASE_UPPER ? "0123456789ABCDEF"
                                                     : "0123456789abcdef";
    size_t size = r->in_bytes ? *len : count_chars(s, *len);
    size_t cut, i;
    uint32_t h;

    if (size <= r->limit)
        return 0;
    h = fnv1a32(s, *len);
    cut = cut_point(s, *len, r->limit - HASH_SUFFIX_LEN, r->in_bytes);
    s[cut] = '_';
    for (i = 0; i < 8; i++)
        s[cut + 1 + i] = hex[(h >> (28 - 4 * i)) & 0xFu];
    *len = cut + HASH_SUFFIX_LEN;
    return 1;
}

/* Canonicalises name into out, whose memory name must not share. */
static int canon_into(const struct dialect_rules *r, const char *name, size_t n,
                      struct dray_buf *out)
{
    size_t old_len = out->len, len;
    int flags = 0;

    /* Room for the name, one '_' a reserved prefix may add, and the NUL. */
    out->len = 0;
    if (dray_buf_reserve(out, n + 1) != 0) {
        out->len = old_len;
        return -2;
    }
    len = map_name(r, name, n, out->data);
    r->fix_start(out->data, &len, is_system_name(name, n));
    if (truncate_name(r, out->data, &len))
        flags |= DRAY_IDENT_TRUNCATED;
    out->len = len;
    out->data[len] = '\0';
    if (len != n || (n > 0 && memcmp(out->data, name, n) != 0))
        flags |= DRAY_IDENT_CHANGED;
    if (len == 0)
        flags |= DRAY_IDENT_EMPTY;
    return flags;
}

static int overlaps(const char *p, size_t n, const struct dray_buf *b)
{
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)b->data;

    return b->data != NULL && n > 0 && a < lo + b->cap && lo < a + n;
}

int dray_ident_canon(int dialect, const char *name, size_t n,
                     struct dray_buf *out)
{
    const struct dialect_rules *r = rules_of(dialect);
    struct dray_buf copy = DRAY_BUF_INIT;
    int rc;

    if (r == NULL || out == NULL || (name == NULL && n > 0))
        return -1;
    if (n > SIZE_MAX - 4)
        return -2;
    if (!overlaps(name, n, out))
        return canon_into(r, name, n, out);
    /* Canonicalising out's own text: work from a copy. */
    if (dray_buf_add(&copy, name, n) != 0) {
        rc = -2;
        goto cleanup;
    }
    rc = canon_into(r, copy.data, n, out);
cleanup:
    dray_buf_release(&copy);
    return rc;
}

int dray_ident_join(int dialect, const char *parent, const char *child,
                    size_t child_len, struct dray_buf *out)
{
    struct dray_buf joined = DRAY_BUF_INIT;
    size_t parent_len = parent ? strlen(parent) : 0;
    int rc;

    if (child == NULL && child_len > 0)
        return -1;
    if (child_len > SIZE_MAX / 2 - parent_len)
        return -2;
    if (parent_len == 0)
        return dray_ident_canon(dialect, child, child_len, out);
    /* The parent may be out's own text: joining into a copy covers it. */
    if (dray_buf_reserve(&joined, parent_len + 2 + child_len) != 0 ||
        dray_buf_add(&joined, parent, parent_len) != 0 ||
        dray_buf_add(&joined, "__", 2) != 0 ||
        dray_buf_add(&joined, child, child_len) != 0) {
        rc = -2;
        goto cleanup;
    }
    rc = dray_ident_canon(dialect, joined.data, joined.len, out);
cleanup:
    dray_buf_release(&joined);
    return rc;
}

/* Whether c is written with an escape inside quote characters. */
static int needs_escape(char c, char quote)
{
    return c == quote || (quote == '`' && c == '\\');
}

int dray_ident_quote(int dialect, const char *name, struct dray_buf *out)
{
    size_t n, i, extra, off = 0;
    char quote = 0, *p;
    int inside;

    if (rules_of(dialect) == NULL || name == NULL || out == NULL)
        return -1;
    n = strlen(name);
    if (dialect != DRAY_IDENT_FILES)
        quote = dialect == DRAY_IDENT_BIGQUERY ? '`' : '"';
    extra = quote ? 2 : 0;
    for (i = 0; quote && i < n; i++)
        extra += needs_escape(name[i], quote);
    /* name may be out's own text: find it again after out grows. */
    inside = overlaps(name, n, out);
    if (inside)
        off = (size_t)(name - out->data);
    /* One reservation, so that out is unchanged when memory runs out. */
    if (n > SIZE_MAX - extra - 1 || dray_buf_reserve(out, n + extra) != 0)
        return -2;
    if (inside)
        name = out->data + off;
    p = out->data + out->len;
    if (quote)
        *p++ = quote;
    for (i = 0; i < n; i++) {
        if (quote && needs_escape(name[i], quote))
            *p++ = quote == '"' ? '"' : '\\';
        *p++ = name[i];
    }
    if (quote)
        *p++ = quote;
    *p = '\0';
    out->len = (size_t)(p - out->data);
    return 0;
}

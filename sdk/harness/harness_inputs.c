/*
 * harness_inputs.c - what a scenario's [input] lines hold beyond Singer:
 * the @REPEAT(text,count)@ and @SEQ(from,to,template)@ macros that write
 * large inputs in a line, and the key properties of a stream's SCHEMA,
 * which the mapping of expected rows needs (docs/HARNESS.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Largest expansion of one macro: a scenario is a test, not a data set. */
#define MAX_REPEAT 100000000L

/* ---- @REPEAT / @SEQ ---- */

static int starts(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

int dray__parse_long(const char *s, size_t n, long *out)
{
    char tmp[32], *endp;

    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    *out = strtol(tmp, &endp, 10);
    return errno == 0 && *endp == '\0' ? 0 : -1;
}

static int expand_macro(int seq, const char *in, size_t n, struct dray_buf *out,
                        char *err, size_t errlen)
{
    const char *c1, *c2;
    long from, to, count;

    if (!seq) {
        c1 = NULL;
        for (size_t i = 0; i < n; i++)
            if (in[i] == ',')
                c1 = in + i;
        if (c1 == NULL ||
            dray__parse_long(c1 + 1, (size_t)(in + n - c1 - 1), &count) != 0 ||
            count < 0 || count > MAX_REPEAT) {
            snprintf(err, errlen,
                     "@REPEAT(text,count)@ needs a count "
                     "from 0 to 100000000 after the last comma");
            return -1;
        }
        for (long k = 0; k < count; k++)
            dray__xadd(out, in, (size_t)(c1 - in));
        return 0;
    }
    c1 = memchr(in, ',', n);
    c2 = c1 ? memchr(c1 + 1, ',', (size_t)(in + n - c1 - 1)) : NULL;
    if (c2 == NULL || dray__parse_long(in, (size_t)(c1 - in), &from) != 0 ||
        dray__parse_long(c1 + 1, (size_t)(c2 - c1 - 1), &to) != 0 ||
        to - from >= MAX_REPEAT) {
        snprintf(err, errlen,
                 "@SEQ(from,to,template)@ needs two integers, "
                 "at most 100000000 apart, before the template");
        return -1;
    }
    const char *tpl = c2 + 1, *tend = in + n;
    for (long k = from; k <= to; k++) {
        char num[32];
        int nl = snprintf(num, sizeof(num), "%ld", k);
        for (const char *p = tpl; p < tend;) {
            if (starts(p, tend, "{n}")) {
                dray__xadd(out, num, (size_t)nl);
                p += 3;
            } else {
                dray__xadd(out, p++, 1);
            }
        }
        if (k < to)
            dray__xadd(out, "\n", 1);
    }
    return 0;
}

int dray__scn_expand(const char *text, size_t len, struct dray_buf *out,
                     char *err, size_t errlen)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        int seq = starts(p, end, "@SEQ(");
        if (!seq && !starts(p, end, "@REPEAT(")) {
            dray__xadd(out, p++, 1);
            continue;
        }
        const char *body = p + (seq ? 5 : 8), *q = body;
        int depth = 1;
        while (q < end) {
            if (starts(q, end, "@SEQ(") || starts(q, end, "@REPEAT(")) {
                depth++;
                q += 5;
            } else if (starts(q, end, ")@")) {
                if (--depth == 0)
                    break;
                q += 2;
            } else {
                q++;
            }
        }
        if (depth != 0) {
            snprintf(err, errlen, "%s without its closing ')@'",
                     seq ? "@SEQ(" : "@REPEAT(");
            return -1;
        }
        struct dray_buf inner = DRAY_BUF_INIT;
        int rc =
            dray__scn_expand(body, (size_t)(q - body), &inner, err, errlen);
        if (rc == 0)
            rc = expand_macro(seq, inner.data ? inner.data : "", inner.len, out,
                              err, errlen);
        dray_buf_release(&inner);
        if (rc != 0)
            return rc;
        p = q + 2;
    }
    dray__xadd(out, "", 0);
    return 0;
}

static int contains(const char *p, size_t n, const char *lit)
{
    size_t m = strlen(lit);

    for (size_t i = 0; i + m <= n; i++)
        if (p[i] == lit[0] && memcmp(p + i, lit, m) == 0)
            return 1;
    return 0;
}

/* Calls fn with the key_properties (NULL when absent) of each SCHEMA
   message of stream in the inputs, in order. */
static void each_schema(const struct scenario *s, const char *stream,
                        void (*fn)(void *ctx, const struct hv *kp), void *ctx)
{
    for (size_t i = 0; i < s->n_steps; i++) {
        const char *p = s->steps[i].text, *end = p ? p + s->steps[i].len : p;
        while (p != NULL && p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            char why[200];
            struct hv *m = NULL, *t, *st;
            /* Only SCHEMA lines are parsed: inputs may be 100k records. */
            if (contains(p, len, "SCHEMA"))
                m = dray__hv_parse(p, len, why, sizeof(why));
            p += len + 1;
            t = dray__hv_get(m, "type");
            st = dray__hv_get(m, "stream");
            if (t && t->t == HV_STR && strcmp(t->s, "SCHEMA") == 0 && st &&
                st->t == HV_STR && strcmp(st->s, stream) == 0)
                fn(ctx, dray__hv_get(m, "key_properties"));
            dray__hv_free(m);
        }
    }
}

struct keys_seen {
    char **keys;
    size_t n;
    int found;
};

/* The last SCHEMA wins. */
static void take_keys(void *ctx, const struct hv *kp)
{
    struct keys_seen *k = ctx;

    dray__strv_free(k->keys, k->n);
    k->found = 1;
    k->keys = NULL;
    k->n = 0;
    for (size_t i = 0; kp && kp->t == HV_ARR && i < kp->n; i++) {
        if (kp->v[i]->t != HV_STR)
            continue;
        k->keys = dray__xrealloc(k->keys, (k->n + 1) * sizeof(char *));
        k->keys[k->n++] = dray__xstrdup(kp->v[i]->s);
    }
}

int dray__scn_keys(const struct scenario *s, const char *stream, char ***keys,
                   size_t *n)
{
    struct keys_seen k = {NULL, 0, 0};

    each_schema(s, stream, take_keys, &k);
    *keys = k.keys;
    *n = k.n;
    return k.found;
}

struct key_change {
    struct dray_buf first; /* the first SCHEMA's keys, as JSON */
    int seen, changed;
};

static void compare_keys(void *ctx, const struct hv *kp)
{
    struct key_change *kc = ctx;
    struct dray_buf now = DRAY_BUF_INIT;

    /* No key_properties is no key, as [] is. */
    if (kp != NULL && !(kp->t == HV_ARR && kp->n == 0))
        dray__hv_write(&now, kp);
    dray__xadd(&now, "", 0);
    if (!kc->seen)
        dray__xadds(&kc->first, now.data);
    else if (strcmp(kc->first.data ? kc->first.data : "", now.data) != 0)
        kc->changed = 1;
    kc->seen = 1;
    dray_buf_release(&now);
}

int dray__scn_key_changed(const struct scenario *s, const char *stream)
{
    struct key_change kc = {DRAY_BUF_INIT, 0, 0};

    each_schema(s, stream, compare_keys, &kc);
    dray_buf_release(&kc.first);
    return kc.changed;
}

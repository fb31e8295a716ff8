/*
 * harness_value.c - JSON values for expected and read-back rows.
 *
 * Parsed with the SDK's tape parser so numbers keep their source digits
 * (jansson would turn 12345678901234567890.5 into a double). Canonical
 * texts make equal values equal strings, so rows compare by sorting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dray/dray_datetime.h"
#include "dray/dray_json.h"
#include "harness.h"

struct hv *dray__hv_new(int t)
{
    struct hv *v = dray__xcalloc(1, sizeof(*v));

    v->t = t;
    return v;
}

struct hv *dray__hv_str(const char *s, size_t n)
{
    struct hv *v = dray__hv_new(HV_STR);

    v->s = dray__xstrndup(s, n);
    v->len = n;
    return v;
}

struct hv *dray__hv_num(const char *text)
{
    struct hv *v = dray__hv_new(HV_NUM);

    v->s = dray__xstrdup(text);
    v->len = strlen(text);
    return v;
}

void dray__hv_free(struct hv *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n; i++) {
        if (v->keys)
            free(v->keys[i]);
        dray__hv_free(v->v[i]);
    }
    free(v->keys);
    free(v->v);
    free(v->s);
    free(v);
}

static void grow(struct hv *c)
{
    if (c->n < c->cap)
        return;
    c->cap = c->cap ? c->cap * 2 : 8;
    c->v = dray__xrealloc(c->v, c->cap * sizeof(*c->v));
    if (c->t == HV_OBJ)
        c->keys = dray__xrealloc(c->keys, c->cap * sizeof(*c->keys));
}

struct hv *dray__hv_get(const struct hv *v, const char *key)
{
    if (v == NULL || v->t != HV_OBJ)
        return NULL;
    for (size_t i = v->n; i-- > 0;)
        if (strcmp(v->keys[i], key) == 0)
            return v->v[i];
    return NULL;
}

void dray__hv_set(struct hv *obj, const char *key, struct hv *val)
{
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) {
            dray__hv_free(obj->v[i]);
            obj->v[i] = val;
            return;
        }
    grow(obj);
    obj->keys[obj->n] = dray__xstrdup(key);
    obj->v[obj->n++] = val;
}

void dray__hv_push(struct hv *arr, struct hv *val)
{
    grow(arr);
    arr->v[arr->n++] = val;
}

struct hv *dray__hv_dup(const struct hv *v)
{
    struct hv *c = dray__hv_new(v->t);

    if (v->s != NULL) {
        c->s = dray__xstrndup(v->s, v->len);
        c->len = v->len;
    }
    for (size_t i = 0; i < v->n; i++) {
        if (v->t == HV_OBJ)
            dray__hv_set(c, v->keys[i], dray__hv_dup(v->v[i]));
        else
            dray__hv_push(c, dray__hv_dup(v->v[i]));
    }
    return c;
}

int dray__hv_is_absent(const struct hv *v)
{
    return v != NULL && v->t == HV_STR && v->len == 7 &&
           memcmp(v->s, "$absent", 7) == 0;
}

/* ---- parsing ---- */

static struct hv *build(const struct dray_json_doc *d, uint32_t i,
                        struct dray_buf *tmp)
{
    const struct dray_json_token *t = &d->tok[i];
    struct hv *v;

    switch (t->type) {
    case DRAY_JSON_NULL:
        return dray__hv_new(HV_NULL);
    case DRAY_JSON_FALSE:
        return dray__hv_new(HV_FALSE);
    case DRAY_JSON_TRUE:
        return dray__hv_new(HV_TRUE);
    case DRAY_JSON_NUMBER:
        v = dray__hv_new(HV_NUM);
        v->s = dray__xstrndup(d->text + t->offset, t->len);
        v->len = t->len;
        return v;
    case DRAY_JSON_STRING:
        dray_buf_reset(tmp);
        if (dray_json_string(d, i, tmp) == -2)
            dray__oom();
        return dray__hv_str(tmp->data ? tmp->data : "", tmp->len);
    case DRAY_JSON_ARRAY:
        v = dray__hv_new(HV_ARR);
        for (uint32_t j = i + 1; j < t->end; j = d->tok[j].end)
            dray__hv_push(v, build(d, j, tmp));
        return v;
    default: /* an object: a key token, then its value */
        v = dray__hv_new(HV_OBJ);
        for (uint32_t j = i + 1; j < t->end; j = d->tok[j + 1].end) {
            dray_buf_reset(tmp);
            if (dray_json_string(d, j, tmp) == -2)
                dray__oom();
            char *key = dray__xstrdup(tmp->data ? tmp->data : "");
            dray__hv_set(v, key, build(d, j + 1, tmp));
            free(key);
        }
        return v;
    }
}

struct hv *dray__hv_parse(const char *text, size_t len, char *err,
                          size_t errlen)
{
    struct dray_json_doc doc;
    struct dray_json_error je;
    struct dray_buf tmp = DRAY_BUF_INIT;
    struct hv *v = NULL;
    int rc;

    dray_json_doc_init(&doc);
    rc = dray_json_parse(&doc, text, len, &je);
    if (rc == 0)
        v = build(&doc, 0, &tmp);
    else if (rc == -1)
        snprintf(err, errlen, "not JSON: %s at byte %zu", je.message,
                 je.offset + 1);
    else
        snprintf(err, errlen, "out of memory");
    dray_buf_release(&tmp);
    dray_json_doc_release(&doc);
    return v;
}

/* ---- writing ---- */

static void write_string(struct dray_buf *out, const char *s, size_t n)
{
    struct dray_sink sink;

    dray_sink_to_buf(&sink, out);
    if (dray_json_write_string(&sink, s, n) != 0)
        dray__oom();
}

void dray__hv_write(struct dray_buf *out, const struct hv *v)
{
    switch (v->t) {
    case HV_NULL:
        dray__xadds(out, "null");
        break;
    case HV_FALSE:
        dray__xadds(out, "false");
        break;
    case HV_TRUE:
        dray__xadds(out, "true");
        break;
    case HV_NUM:
        dray__xadd(out, v->s, v->len);
        break;
    case HV_STR:
        write_string(out, v->s, v->len);
        break;
    default:
        dray__xadds(out, v->t == HV_OBJ ? "{" : "[");
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                dray__xadds(out, ",");
            if (v->t == HV_OBJ) {
                write_string(out, v->keys[i], strlen(v->keys[i]));
                dray__xadds(out, ":");
            }
            dray__hv_write(out, v->v[i]);
        }
        dray__xadds(out, v->t == HV_OBJ ? "}" : "]");
    }
}

/* ---- numbers ---- */

/* A number in JSON syntax, as sign, significant digits (no leading or
   trailing zeros) and the exponent of the last digit. Zero has none. */
struct dec {
    int neg;
    char digits[512];
    size_t nd;
    long long exp;
};

/* 1 when s (n bytes) is a JSON number small enough to normalise. */
static int parse_dec(const char *s, size_t n, struct dec *d)
{
    size_t i = 0, int_start, nfrac = 0;
    long long e = 0;
    int eneg = 0;

    memset(d, 0, sizeof(*d));
    if (i < n && s[i] == '-')
        d->neg = 1, i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return 0;
    if (s[i] == '0' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9')
        return 0; /* a leading zero: not JSON */
    int_start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    size_t int_end = i, frac_start = i;
    if (i < n && s[i] == '.') {
        frac_start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        nfrac = i - frac_start;
        if (nfrac == 0)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            if (e > 100000000000LL)
                return 0;
            e = e * 10 + (s[i] - '0');
        }
    }
    if (i != n || (int_end - int_start) + nfrac >= sizeof(d->digits))
        return 0;
    for (size_t k = int_start; k < int_end; k++)
        d->digits[d->nd++] = s[k];
    for (size_t k = frac_start; k < frac_start + nfrac; k++)
        d->digits[d->nd++] = s[k];
    d->exp = (eneg ? -e : e) - (long long)nfrac;
    size_t lead = 0;
    while (lead < d->nd && d->digits[lead] == '0')
        lead++;
    memmove(d->digits, d->digits + lead, d->nd - lead);
    d->nd -= lead;
    while (d->nd > 0 && d->digits[d->nd - 1] == '0')
        d->nd--, d->exp++;
    if (d->nd == 0)
        d->neg = 0, d->exp = 0;
    d->digits[d->nd] = '\0';
    return 1;
}

static int cmp_dec(const struct dec *a, const struct dec *b)
{
    int sign = a->neg ? -1 : 1;

    if (a->nd == 0 || b->nd == 0) {
        if (a->nd == 0 && b->nd == 0)
            return 0;
        if (a->nd == 0)
            return b->neg ? 1 : -1;
        return a->neg ? -1 : 1;
    }
    if (a->neg != b->neg)
        return a->neg ? -1 : 1;
    /* The magnitude's order: the position of the first digit. */
    long long pa = a->exp + (long long)a->nd, pb = b->exp + (long long)b->nd;
    if (pa != pb)
        return pa < pb ? -sign : sign;
    int c = strcmp(a->digits, b->digits);
    return c < 0 ? -sign : c > 0 ? sign : 0;
}

/* ---- canonical texts ---- */

static int as_dec(const struct hv *v, struct dec *d)
{
    return (v->t == HV_NUM || v->t == HV_STR) && parse_dec(v->s, v->len, d);
}

static int as_instant(const struct hv *v, struct dray_timestamp *ts)
{
    return v->t == HV_STR && v->len >= 10 &&
           dray_datetime_parse(v->s, v->len, ts) == 0;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A null, or an object of nothing but such members: a flattening
   destination stores it as NULL columns, so every dialect compares it as
   null (a native or document one may keep the object or leave it out). */
static int nullish(const struct hv *v)
{
    if (v->t != HV_OBJ)
        return v->t == HV_NULL;
    for (size_t i = 0; i < v->n; i++)
        if (!nullish(v->v[i]))
            return 0;
    return 1;
}

void dray__hv_canon(struct dray_buf *out, const struct hv *v, int files)
{
    struct dec d;
    struct dray_timestamp ts;

    if (nullish(v)) {
        dray__xadds(out, "n");
        return;
    }
    switch (v->t) {
    case HV_FALSE:
    case HV_TRUE:
        if (files)
            dray__xadds(out, v->t == HV_TRUE ? "s\"true\"" : "s\"false\"");
        else
            dray__xadds(out, v->t == HV_TRUE ? "b1" : "b0");
        return;
    case HV_NUM:
    case HV_STR:
        if (as_dec(v, &d)) {
            dray__xaddf(out, "d%s%se%lld", d.neg ? "-" : "",
                        d.nd ? d.digits : "0", d.exp);
        } else if (as_instant(v, &ts)) {
            dray__xaddf(out, "t%lld.%09d", (long long)ts.seconds,
                        (int)ts.nanos);
        } else {
            dray__xadds(out, "s");
            write_string(out, v->s, v->len);
        }
        return;
    case HV_ARR:
        dray__xadds(out, "[");
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                dray__xadds(out, ",");
            dray__hv_canon(out, v->v[i], files);
        }
        dray__xadds(out, "]");
        return;
    default: {
        /* Members by name, nulls left out: a null and a missing member
           are the same value. */
        char **names = dray__xmalloc((v->n + 1) * sizeof(*names));
        size_t k = 0;
        for (size_t i = 0; i < v->n; i++)
            if (!nullish(v->v[i]))
                names[k++] = v->keys[i];
        qsort(names, k, sizeof(*names), cmp_keys);
        dray__xadds(out, "{");
        for (size_t i = 0; i < k; i++) {
            if (i)
                dray__xadds(out, ",");
            write_string(out, names[i], strlen(names[i]));
            dray__xadds(out, ":");
            dray__hv_canon(out, dray__hv_get(v, names[i]), files);
        }
        dray__xadds(out, "}");
        free(names);
    }
    }
}

/* Strings whose bytewise order every collation shares. */
static int plain_key(const struct hv *v)
{
    if (v->t != HV_STR)
        return 0;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int dray__hv_order(const struct hv *a, const struct hv *b)
{
    struct dec da, db;
    struct dray_timestamp ta, tb;

    if (as_dec(a, &da) && as_dec(b, &db))
        return cmp_dec(&da, &db);
    if (as_instant(a, &ta) && as_instant(b, &tb)) {
        if (ta.seconds != tb.seconds)
            return ta.seconds < tb.seconds ? -1 : 1;
        return ta.nanos < tb.nanos ? -1 : ta.nanos > tb.nanos;
    }
    if ((a->t == HV_FALSE || a->t == HV_TRUE) &&
        (b->t == HV_FALSE || b->t == HV_TRUE))
        return (a->t == HV_TRUE) - (b->t == HV_TRUE);
    if (plain_key(a) && plain_key(b)) {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = memcmp(a->s, b->s, n);
        if (c != 0)
            return c < 0 ? -1 : 1;
        return a->len < b->len ? -1 : a->len > b->len;
    }
    return 2;
}

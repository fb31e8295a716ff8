/*
 * aws_sigv4.c - AWS Signature Version 4, header-based, for S3 and any other
 * service: canonical request, string to sign, signing key chain and the
 * Authorization header value. Paths and queries arrive already encoded (by
 * aws_encode.c), exactly as they are sent.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "dray/dray_aws.h"
#include "net_internal.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

/* One header to sign: its lower-case name and its folded value, both in a
   scratch buffer (offsets while it grows, base once it is complete). idx
   keeps the given order among headers of the same name. */
struct canon_header {
    const char *base;
    size_t name_off, name_len;
    size_t value_off, value_len;
    size_t idx;
};

struct header_set {
    struct dray_buf scratch;
    struct canon_header *h;
    size_t n, cap;
};

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static int add_str(struct dray_buf *b, const char *s)
{
    return dray_buf_add(b, s, strlen(s));
}

/* Adds name (lower-cased) and value (trimmed, inner blank runs folded to
   one space, as SigV4 canonicalises them). */
static int header_add(struct header_set *hs, const char *name,
                      const char *value)
{
    struct canon_header *e;
    size_t nlen = strlen(name), vlen = strlen(value), start;
    int pending_space = 0;

    if (hs->n == hs->cap) {
        size_t cap = hs->cap ? 2 * hs->cap : 8;
        struct canon_header *p = realloc(hs->h, cap * sizeof(*p));

        if (p == NULL)
            return -2;
        hs->h = p;
        hs->cap = cap;
    }
    if (dray_buf_reserve(&hs->scratch, nlen + vlen) != 0)
        return -2;
    e = &hs->h[hs->n];
    e->name_off = hs->scratch.len;
    e->name_len = nlen;
    for (size_t i = 0; i < nlen; i++) {
        unsigned char c = (unsigned char)name[i];

        dray_buf_addc(&hs->scratch,
                      (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    start = hs->scratch.len;
    for (size_t i = 0; i < vlen; i++) {
        unsigned char c = (unsigned char)value[i];

        if (is_blank(c)) {
            pending_space = hs->scratch.len > start;
            continue;
        }
        if (pending_space)
            dray_buf_addc(&hs->scratch, ' ');
        pending_space = 0;
        dray_buf_addc(&hs->scratch, (char)c);
    }
    e->value_off = start;
    e->value_len = hs->scratch.len - start;
    e->idx = hs->n;
    hs->n++;
    return 0;
}

static int cmp_header(const void *va, const void *vb)
{
    const struct canon_header *a = va, *b = vb;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->base + a->name_off, b->base + b->name_off, n);

    if (c != 0)
        return c;
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The signer sets these itself: given ones are not signed twice (and an
   Authorization header cannot sign itself). */
static int is_own_header(const char *name)
{
    static const char *const own[] = {"host", "x-amz-date",
                                      "x-amz-content-sha256",
                                      "x-amz-security-token", "authorization"};

    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (strcasecmp(name, own[i]) == 0)
            return 1;
    return 0;
}

static int collect_headers(struct header_set *hs,
                           const struct dray_sigv4_input *in,
                           const char *amz_date, const char *token)
{
    if (header_add(hs, "host", in->host) != 0 ||
        header_add(hs, "x-amz-content-sha256", in->payload_hash) != 0 ||
        header_add(hs, "x-amz-date", amz_date) != 0)
        return -2;
    if (token != NULL && header_add(hs, "x-amz-security-token", token) != 0)
        return -2;
    for (size_t i = 0; i < in->n_headers; i++) {
        const struct dray_http_header *h = &in->headers[i];

        /* A NULL value removes a header curl would add: not sent, so
           not signed. */
        if (h->value == NULL || is_own_header(h->name))
            continue;
        if (header_add(hs, h->name, h->value) != 0)
            return -2;
    }
    for (size_t i = 0; i < hs->n; i++)
        hs->h[i].base = hs->scratch.data;
    qsort(hs->h, hs->n, sizeof(*hs->h), cmp_header);
    return 0;
}

static int same_name(const struct canon_header *a, const struct canon_header *b)
{
    return a->name_len == b->name_len &&
           memcmp(a->base + a->name_off, b->base + b->name_off, a->name_len) ==
               0;
}

/* Appends the canonical header lines (a repeated header's values joined
   with ','), then the blank line, then the signed headers list to both
   cr and signed_list. */
static int write_headers(const struct header_set *hs, struct dray_buf *cr,
                         struct dray_buf *signed_list)
{
    for (size_t i = 0; i < hs->n; i++) {
        const struct canon_header *e = &hs->h[i];
        int first = i == 0 || !same_name(e, &hs->h[i - 1]);
        int last = i + 1 == hs->n || !same_name(e, &hs->h[i + 1]);

        if (first) {
            if (dray_buf_add(cr, e->base + e->name_off, e->name_len) != 0 ||
                dray_buf_addc(cr, ':') != 0)
                return -2;
            if ((signed_list->len > 0 && dray_buf_addc(signed_list, ';')) ||
                dray_buf_add(signed_list, e->base + e->name_off, e->name_len) !=
                    0)
                return -2;
        } else if (dray_buf_addc(cr, ',') != 0) {
            return -2;
        }
        if (dray_buf_add(cr, e->base + e->value_off, e->value_len) != 0 ||
            (last && dray_buf_addc(cr, '\n') != 0))
            return -2;
    }
    if (dray_buf_addc(cr, '\n') != 0 ||
        dray_buf_add(cr, signed_list->data, signed_list->len) != 0)
        return -2;
    return 0;
}

static int hmac_sha256(const void *key, size_t keylen, const void *data,
                       size_t len, unsigned char out[32])
{
    unsigned int outlen = 0;

    if (keylen > 0x7fffffff)
        return -2;
    if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) == NULL ||
        outlen != 32)
        return -2;
    return 0;
}

/* kSigning = HMAC chain over date, region, service and "aws4_request",
   keyed first with "AWS4" + secret; then the signature over sts. */
static int compute_signature(const struct dray_sigv4_input *in,
                             const char *date, const struct dray_buf *sts,
                             char sig_hex[65])
{
    struct dray_buf k0 = DRAY_BUF_INIT;
    unsigned char key[32], mac[32];
    int rc = -2;

    if (add_str(&k0, "AWS4") != 0 ||
        add_str(&k0, in->creds->secret_access_key) != 0)
        goto done;
    if (hmac_sha256(k0.data, k0.len, date, strlen(date), key) != 0 ||
        hmac_sha256(key, 32, in->region, strlen(in->region), key) != 0 ||
        hmac_sha256(key, 32, in->service, strlen(in->service), key) != 0 ||
        hmac_sha256(key, 32, "aws4_request", 12, key) != 0 ||
        hmac_sha256(key, 32, sts->data, sts->len, mac) != 0)
        goto done;
    dray__hex_lower(mac, 32, sig_hex);
    rc = 0;
done:
    /* The secret and every key derived from it stay out of freed memory. */
    if (k0.data != NULL)
        OPENSSL_cleanse(k0.data, k0.cap);
    dray_buf_release(&k0);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

static int is_empty(const char *s)
{
    return s == NULL || *s == '\0';
}

static int input_ok(const struct dray_sigv4_input *in)
{
    if (is_empty(in->method) || is_empty(in->host) ||
        is_empty(in->canonical_uri) || is_empty(in->payload_hash) ||
        is_empty(in->region) || is_empty(in->service) || in->creds == NULL ||
        is_empty(in->creds->access_key_id) ||
        is_empty(in->creds->secret_access_key))
        return 0;
    if (in->n_headers > 0 && in->headers == NULL)
        return 0;
    for (size_t i = 0; i < in->n_headers; i++)
        if (is_empty(in->headers[i].name))
            return 0;
    return 1;
}

int dray_sigv4_sign(const struct dray_sigv4_input *in,
                    struct dray_sigv4_output *out)
{
    struct header_set hs = {DRAY_BUF_INIT, NULL, 0, 0};
    struct dray_buf signed_list = DRAY_BUF_INIT, scope = DRAY_BUF_INIT;
    struct dray_buf *cr, *sts, *auth;
    const char *token;
    char date[9], cr_hash[65], sig[65];
    struct tm tm;
    int rc = -2;

    if (in == NULL || out == NULL || !input_ok(in))
        return -1;
    cr = &out->canonical_request;
    sts = &out->string_to_sign;
    auth = &out->authorization;
    dray_buf_reset(cr);
    dray_buf_reset(sts);
    dray_buf_reset(auth);
    if (gmtime_r(&in->now, &tm) == NULL ||
        strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm) !=
            16) {
        out->amz_date[0] = '\0';
        return -1;
    }
    memcpy(date, out->amz_date, 8);
    date[8] = '\0';
    token =
        is_empty(in->creds->session_token) ? NULL : in->creds->session_token;

    if (add_str(cr, in->method) != 0 || dray_buf_addc(cr, '\n') != 0 ||
        add_str(cr, in->canonical_uri) != 0 || dray_buf_addc(cr, '\n') != 0 ||
        (in->canonical_query && add_str(cr, in->canonical_query) != 0) ||
        dray_buf_addc(cr, '\n') != 0)
        goto done;
    if (collect_headers(&hs, in, out->amz_date, token) != 0 ||
        write_headers(&hs, cr, &signed_list) != 0 ||
        dray_buf_addc(cr, '\n') != 0 || add_str(cr, in->payload_hash) != 0)
        goto done;
    dray_sha256_hex(cr->data, cr->len, cr_hash);
    if (cr_hash[0] == '\0')
        goto done;

    if (add_str(&scope, date) != 0 || dray_buf_addc(&scope, '/') != 0 ||
        add_str(&scope, in->region) != 0 || dray_buf_addc(&scope, '/') != 0 ||
        add_str(&scope, in->service) != 0 ||
        add_str(&scope, "/aws4_request") != 0)
        goto done;
    if (add_str(sts, ALGORITHM "\n") != 0 || add_str(sts, out->amz_date) != 0 ||
        dray_buf_addc(sts, '\n') != 0 ||
        dray_buf_add(sts, scope.data, scope.len) != 0 ||
        dray_buf_addc(sts, '\n') != 0 || add_str(sts, cr_hash) != 0)
        goto done;
    if (compute_signature(in, date, sts, sig) != 0)
        goto done;

    if (add_str(auth, ALGORITHM " Credential=") != 0 ||
        add_str(auth, in->creds->access_key_id) != 0 ||
        dray_buf_addc(auth, '/') != 0 ||
        dray_buf_add(auth, scope.data, scope.len) != 0 ||
        add_str(auth, ", SignedHeaders=") != 0 ||
        dray_buf_add(auth, signed_list.data, signed_list.len) != 0 ||
        add_str(auth, ", Signature=") != 0 || add_str(auth, sig) != 0)
        goto done;
    rc = 0;
done:
    dray_buf_release(&hs.scratch);
    free(hs.h);
    dray_buf_release(&signed_list);
    dray_buf_release(&scope);
    return rc;
}

void dray_sigv4_output_release(struct dray_sigv4_output *out)
{
    if (out == NULL)
        return;
    out->amz_date[0] = '\0';
    dray_buf_release(&out->authorization);
    dray_buf_release(&out->canonical_request);
    dray_buf_release(&out->string_to_sign);
}

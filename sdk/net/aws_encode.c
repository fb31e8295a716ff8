/*
 * aws_encode.c - percent-encoding of paths and query strings as SigV4
 * canonicalises them. The bytes produced here go both into the URL and into
 * the canonical request, so what is signed is what is sent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dray/dray_aws.h"
#include "net_internal.h"

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Writes the encoding of s into dst, which has room for 3 * len bytes;
   returns the count written. */
static size_t encode_into(char *dst, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (is_unreserved(c) || (c == '/' && keep_slash)) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 0x0f];
        }
    }
    return o;
}

int dray_aws_uri_encode(struct dray_buf *out, const char *s, size_t len,
                        int keep_slash)
{
    size_t n;

    if (len > (SIZE_MAX - 1) / 3)
        return -2;
    /* Room for the worst case first, so a failure leaves out unchanged. */
    if (dray_buf_reserve(out, 3 * len) != 0)
        return -2;
    n = encode_into(out->data + out->len, s, len, keep_slash);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

/* One encoded parameter: its name at base + off, its value right after.
   Offsets while encoding, as the scratch buffer moves while it grows; base
   is set once it is complete, for qsort's comparison. */
struct enc_param {
    const char *base;
    size_t off;
    size_t name_len;
    size_t value_len;
};

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int cmp_param(const void *va, const void *vb)
{
    const struct enc_param *a = va, *b = vb;
    const char *an = a->base + a->off, *bn = b->base + b->off;
    int c = cmp_bytes(an, a->name_len, bn, b->name_len);

    if (c != 0)
        return c;
    return cmp_bytes(an + a->name_len, a->value_len, bn + b->name_len,
                     b->value_len);
}

static int encode_param(struct dray_buf *scratch, const char *s,
                        size_t *len_out)
{
    size_t before = scratch->len;

    if (dray_aws_uri_encode(scratch, s, s ? strlen(s) : 0, 0) != 0)
        return -2;
    *len_out = scratch->len - before;
    return 0;
}

int dray_aws_canonical_query(struct dray_buf *out,
                             const struct dray_aws_param *params, size_t n)
{
    struct dray_buf scratch = DRAY_BUF_INIT;
    struct enc_param *sorted = NULL;
    size_t total = 0;
    int rc = -2;

    if (n == 0)
        return 0;
    if (n > SIZE_MAX / sizeof(*sorted))
        return -2;
    sorted = malloc(n * sizeof(*sorted));
    if (sorted == NULL)
        goto done;
    for (size_t i = 0; i < n; i++) {
        sorted[i].off = scratch.len;
        if (encode_param(&scratch, params[i].name, &sorted[i].name_len) != 0 ||
            encode_param(&scratch, params[i].value, &sorted[i].value_len) != 0)
            goto done;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i].base = scratch.data;
    qsort(sorted, n, sizeof(*sorted), cmp_param);

    /* name=value pairs plus n - 1 '&': reserve it all before writing. */
    total = scratch.len + 2 * n - 1;
    if (dray_buf_reserve(out, total) != 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const char *p = scratch.data + sorted[i].off;

        if (i > 0)
            dray_buf_addc(out, '&');
        dray_buf_add(out, p, sorted[i].name_len);
        dray_buf_addc(out, '=');
        dray_buf_add(out, p + sorted[i].name_len, sorted[i].value_len);
    }
    rc = 0;
done:
    free(sorted);
    dray_buf_release(&scratch);
    return rc;
}

/*
 * aws_digest.c - SHA-256 and MD5 over OpenSSL's EVP interface: the one-shot
 * hex SHA-256 the signer needs, and the incremental pair a multipart part
 * is hashed with as it is written (x-amz-content-sha256 and Content-MD5).
 * The S3 client itself sends no Content-MD5, so it uses a digest without
 * the MD5 half (dray__digest_new_sha256): MD5 is the slower of the two.
 */
#include <stdlib.h>

#include <openssl/evp.h>

#include "dray/dray_aws.h"
#include "net_internal.h"

struct dray_digest {
    EVP_MD_CTX *sha256;
    EVP_MD_CTX *md5;
};

void dray__hex_lower(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

void dray_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    /* Fails only when OpenSSL cannot allocate its context: an empty string
       then, which no server takes for a hash, rather than garbage. */
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32) {
        out[0] = '\0';
        return;
    }
    dray__hex_lower(md, 32, out);
}

static int digest_start(struct dray_digest *d)
{
    return EVP_DigestInit_ex(d->sha256, EVP_sha256(), NULL) == 1 &&
           (d->md5 == NULL || EVP_DigestInit_ex(d->md5, EVP_md5(), NULL) == 1);
}

static struct dray_digest *digest_new(int md5)
{
    struct dray_digest *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->sha256 = EVP_MD_CTX_new();
    if (md5)
        d->md5 = EVP_MD_CTX_new();
    if (d->sha256 == NULL || (md5 && d->md5 == NULL) || !digest_start(d))
        goto fail;
    return d;
fail:
    dray_digest_free(d);
    return NULL;
}

struct dray_digest *dray_digest_new(void)
{
    return digest_new(1);
}

struct dray_digest *dray__digest_new_sha256(void)
{
    return digest_new(0);
}

void dray_digest_update(struct dray_digest *d, const void *data, size_t len)
{
    if (len == 0)
        return;
    EVP_DigestUpdate(d->sha256, data, len);
    if (d->md5 != NULL)
        EVP_DigestUpdate(d->md5, data, len);
}

void dray_digest_final(struct dray_digest *d, char sha256_hex[65],
                       char md5_b64[25])
{
    unsigned char sha[EVP_MAX_MD_SIZE], md5[EVP_MAX_MD_SIZE];
    unsigned int shalen = 0, md5len = 0;

    if (EVP_DigestFinal_ex(d->sha256, sha, &shalen) == 1 && shalen == 32)
        dray__hex_lower(sha, 32, sha256_hex);
    else
        sha256_hex[0] = '\0';
    /* 16 bytes are 24 base64 characters; EVP_EncodeBlock adds the NUL. */
    if (d->md5 != NULL && EVP_DigestFinal_ex(d->md5, md5, &md5len) == 1 &&
        md5len == 16) {
        if (md5_b64 != NULL)
            EVP_EncodeBlock((unsigned char *)md5_b64, md5, 16);
    } else if (md5_b64 != NULL) {
        md5_b64[0] = '\0';
    }
    digest_start(d);
}

void dray_digest_free(struct dray_digest *d)
{
    if (d == NULL)
        return;
    EVP_MD_CTX_free(d->sha256);
    EVP_MD_CTX_free(d->md5);
    free(d);
}

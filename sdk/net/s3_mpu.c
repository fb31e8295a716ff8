/*
 * s3_mpu.c - multipart uploads: create, upload a part, complete, abort.
 *
 * Complete is the one request whose retry can find its own earlier try
 * done: S3 may finish the upload and still answer with an error (a 200
 * carrying <Error>, a reset, a 500), and the next try then hears
 * NoSuchUpload. When it does, the object is looked at: if its ETag is the
 * one S3 gives these parts (the MD5 of their MD5s, "-n"), the upload is
 * complete and the operation succeeded.
 */
#include "net_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XML_HEAD                                                               \
    "<CompleteMultipartUpload "                                                \
    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"

int dray__s3_mpu_create(struct dray_s3 *s3, const char *bucket, const char *key,
                        const char *content_type, int crc32, char **upload_id,
                        struct dray_s3_error *e)
{
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_aws_param p = {"uploads", NULL};
    struct dray_http_header h[2] = {{"Content-Type", NULL},
                                    {"x-amz-checksum-algorithm", "CRC32"}};
    struct dray_buf id = DRAY_BUF_INIT;
    struct dray__s3_req rq;
    int rc;

    *upload_id = NULL;
    dray__s3_req_init(&rq, "CreateMultipartUpload", "s3:PutObject", "POST",
                      bucket, key, 1);
    h[0].value = content_type && *content_type ? content_type
                                               : "application/octet-stream";
    rq.params = &p;
    rq.n_params = 1;
    rq.headers = h;
    /* Declared, every part carries its CRC32 and the object's checksum is
       their composite; undeclared, the store makes a full-object one at
       Complete (moto copies the whole object again for it). */
    rq.n_headers = crc32 ? 2 : 1;
    rc = dray__s3_send(s3, &rq, &resp, e);
    if (rc == 0) {
        rc = dray__xml_text(dray__s3_body_xml(&resp), "UploadId", &id);
        if (rc == 1 && id.len > 0) {
            *upload_id = id.data; /* handed over */
            id.data = NULL;
            rc = 0;
        } else if (rc == -2) {
            dray__s3_error_set(e, &rq, 0, "OutOfMemory", 0, 0, "out of memory");
        } else {
            dray__s3_error_set(e, &rq, (int)resp.status, "MalformedResponse", 0,
                               0,
                               "S3's answer has no UploadId: is the "
                               "endpoint an S3 service?");
            rc = -1;
        }
    }
    dray_buf_release(&id);
    dray_http_response_release(&resp);
    return rc;
}

int dray_s3_mpu_create(struct dray_s3 *s3, const char *bucket, const char *key,
                       const char *content_type, char **upload_id,
                       struct dray_s3_error *e)
{
    return dray__s3_mpu_create(s3, bucket, key, content_type, 0, upload_id, e);
}

int dray__s3_upload_part(struct dray_s3 *s3, const char *bucket,
                         const char *key, const char *upload_id, int part_no,
                         const struct dray_http_body *body,
                         const char *sha256_hex, const char *crc32_b64,
                         char **etag, struct dray_s3_error *e)
{
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_aws_param p[2];
    struct dray_http_header h[2];
    struct dray__s3_req rq;
    char num[16], sha[65], tag[256];
    int rc;

    *etag = NULL;
    dray__s3_req_init(&rq, "UploadPart", "s3:PutObject", "PUT", bucket, key, 1);
    if (part_no < 1 || part_no > 10000) {
        dray__s3_error_set(e, &rq, 0, "InvalidPartNumber", 0, 0,
                           "part number %d is not in 1..10000: raise the "
                           "part size",
                           part_no);
        return -1;
    }
    if (body != NULL)
        rq.body = *body;
    if (sha256_hex == NULL) {
        rc = dray__s3_body_digest(&rq.body, sha, NULL);
        if (rc == -2) {
            dray__s3_error_set(e, &rq, 0, "OutOfMemory", 0, 0, "out of memory");
            return -2;
        }
        if (rc == -1) {
            dray__s3_error_set(e, &rq, 0, "BodyUnreadable", 0, 0,
                               "cannot read part %d from its file", part_no);
            return -1;
        }
        if (rc == 0)
            sha256_hex = sha;
    }
    snprintf(num, sizeof(num), "%d", part_no);
    p[0].name = "partNumber";
    p[0].value = num;
    p[1].name = "uploadId";
    p[1].value = upload_id;
    rq.params = p;
    rq.n_params = 2;
    /* No Content-Type (a part has none of its own) and no Content-MD5: the
       signed x-amz-content-sha256 already makes S3 check the body
       (XAmzContentSHA256Mismatch), and a second hash costs S3-compatible
       stores time. A CRC32 is sent when the upload was created with it. */
    if (crc32_b64 != NULL) {
        h[0].name = "x-amz-checksum-crc32";
        h[0].value = crc32_b64;
        h[1].name = "x-amz-sdk-checksum-algorithm";
        h[1].value = "CRC32";
        rq.headers = h;
        rq.n_headers = 2;
    }
    rq.sha256_hex = sha256_hex;
    rc = dray__s3_send(s3, &rq, &resp, e);
    if (rc == 0) {
        if (dray_http_response_header(&resp, "ETag", tag, sizeof(tag)) ==
                NULL ||
            tag[0] == '\0') {
            dray__s3_error_set(e, &rq, (int)resp.status, "MalformedResponse", 0,
                               0, "S3's answer to part %d has no ETag",
                               part_no);
            rc = -1;
        } else if ((*etag = strdup(tag)) == NULL) {
            dray__s3_error_set(e, &rq, 0, "OutOfMemory", 0, 0, "out of memory");
            rc = -2;
        }
    }
    dray_http_response_release(&resp);
    return rc;
}

int dray_s3_mpu_upload_part(struct dray_s3 *s3, const char *bucket,
                            const char *key, const char *upload_id, int part_no,
                            const struct dray_http_body *body,
                            const char *sha256_hex, const char *md5_b64,
                            char **etag, struct dray_s3_error *e)
{
    (void)md5_b64; /* not sent: see dray__s3_upload_part */
    return dray__s3_upload_part(s3, bucket, key, upload_id, part_no, body,
                                sha256_hex, NULL, etag, e);
}

/* ---- complete ----------------------------------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* The ETag S3 gives an object completed from these parts: "MD5-n" where
   MD5 is of the parts' binary MD5s. 1, or 0 when a part's ETag is not an
   MD5 (an encrypted object's): then it cannot be predicted. */
static int composite_etag(char *const *etags, int n, char out[48])
{
    static const char hex[] = "0123456789abcdef";
    struct dray_digest *d = dray_digest_new();
    unsigned char raw[18];
    char sha[65], md5[25];
    uint32_t acc = 0;
    int bits = 0, k = 0;

    if (d == NULL)
        return 0;
    for (int i = 0; i < n; i++) {
        const char *s = etags[i];
        size_t len = strlen(s);

        if (len == 34 && s[0] == '"' && s[33] == '"') {
            s++;
            len = 32;
        }
        if (len != 32) {
            dray_digest_free(d);
            return 0;
        }
        for (int j = 0; j < 16; j++) {
            int hi = hex_value(s[2 * j]), lo = hex_value(s[2 * j + 1]);

            if (hi < 0 || lo < 0) {
                dray_digest_free(d);
                return 0;
            }
            raw[j] = (unsigned char)(hi << 4 | lo);
        }
        dray_digest_update(d, raw, 16);
    }
    dray_digest_final(d, sha, md5);
    dray_digest_free(d);
    for (const char *p = md5; *p && *p != '=' && k < 16; p++) {
        int v = b64_value(*p);

        if (v < 0)
            return 0;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[k++] = (unsigned char)(acc >> bits);
        }
    }
    if (k != 16)
        return 0;
    out[0] = '"';
    for (int j = 0; j < 16; j++) {
        out[1 + 2 * j] = hex[raw[j] >> 4];
        out[2 + 2 * j] = hex[raw[j] & 15];
    }
    snprintf(out + 33, 15, "-%d\"", n);
    return 1;
}

/* After NoSuchUpload: whether the object is the one these parts make. */
static int completed_already(struct dray_s3 *s3, const char *bucket,
                             const char *key, char *const *etags, int n)
{
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_s3_error e;
    struct dray__s3_req rq;
    char want[48], got[64];
    int done = 0;

    if (!composite_etag(etags, n, want))
        return 0;
    dray__s3_req_init(&rq, "HeadObject", "s3:GetObject", "HEAD", bucket, key,
                      1);
    if (dray__s3_send(s3, &rq, &resp, &e) == 0 &&
        dray_http_response_header(&resp, "ETag", got, sizeof(got)) != NULL)
        done = strcasecmp(got, want) == 0;
    dray_http_response_release(&resp);
    return done;
}

int dray__s3_mpu_complete(struct dray_s3 *s3, const char *bucket,
                          const char *key, const char *upload_id,
                          char *const *etags, char *const *crc32s, int n,
                          struct dray_s3_error *e)
{
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_aws_param p = {"uploadId", NULL};
    struct dray_http_header h = {"Content-Type", "application/xml"};
    struct dray_buf xml = DRAY_BUF_INIT;
    struct dray__s3_req rq;
    char num[48];
    int rc = 0;

    dray__s3_req_init(&rq, "CompleteMultipartUpload", "s3:PutObject", "POST",
                      bucket, key, 1);
    p.value = upload_id;
    rq.params = &p;
    rq.n_params = 1;
    rq.headers = &h;
    rq.n_headers = 1;
    rq.complete = 1;
    if (n < 1) {
        dray__s3_error_set(e, &rq, 0, "InvalidArgument", 0, 0,
                           "an upload needs at least one part");
        return -1;
    }
    if (dray_buf_add(&xml, XML_HEAD, strlen(XML_HEAD)) != 0)
        rc = -2;
    for (int i = 0; i < n && rc == 0; i++) {
        snprintf(num, sizeof(num), "<Part><PartNumber>%d</PartNumber><ETag>",
                 i + 1);
        if (dray_buf_add(&xml, num, strlen(num)) != 0 ||
            dray__xml_escape(&xml, etags[i]) != 0 ||
            dray_buf_add(&xml, "</ETag>", 7) != 0)
            rc = -2;
        /* An upload created with CRC32 names every part's again. */
        if (rc == 0 && crc32s != NULL &&
            (dray_buf_add(&xml, "<ChecksumCRC32>", 15) != 0 ||
             dray__xml_escape(&xml, crc32s[i]) != 0 ||
             dray_buf_add(&xml, "</ChecksumCRC32>", 16) != 0))
            rc = -2;
        if (rc == 0 && dray_buf_add(&xml, "</Part>", 7) != 0)
            rc = -2;
    }
    if (rc == 0 && dray_buf_add(&xml, "</CompleteMultipartUpload>", 26) != 0)
        rc = -2;
    if (rc == -2) {
        dray_buf_release(&xml);
        dray__s3_error_set(e, &rq, 0, "OutOfMemory", 0, 0, "out of memory");
        return -2;
    }
    rq.body.data = xml.data;
    rq.body.len = (int64_t)xml.len;
    rc = dray__s3_send(s3, &rq, &resp, e);
    if (rc == -1 && strcmp(e->code, "NoSuchUpload") == 0 &&
        completed_already(s3, bucket, key, etags, n)) {
        memset(e, 0, sizeof(*e));
        rc = 0;
    }
    dray_http_response_release(&resp);
    dray_buf_release(&xml);
    return rc;
}

int dray_s3_mpu_complete(struct dray_s3 *s3, const char *bucket,
                         const char *key, const char *upload_id,
                         char *const *etags, int n, struct dray_s3_error *e)
{
    return dray__s3_mpu_complete(s3, bucket, key, upload_id, etags, NULL, n, e);
}

int dray_s3_mpu_abort(struct dray_s3 *s3, const char *bucket, const char *key,
                      const char *upload_id, struct dray_s3_error *e)
{
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_aws_param p = {"uploadId", NULL};
    struct dray__s3_req rq;
    int rc;

    dray__s3_req_init(&rq, "AbortMultipartUpload", "s3:AbortMultipartUpload",
                      "DELETE", bucket, key, 1);
    p.value = upload_id;
    rq.params = &p;
    rq.n_params = 1;
    rc = dray__s3_send(s3, &rq, &resp, e);
    /* Already gone (completed, aborted, expired): nothing left to bill. */
    if (rc == -1 && (strcmp(e->code, "NoSuchUpload") == 0 ||
                     strcmp(e->code, "NotFound") == 0)) {
        memset(e, 0, sizeof(*e));
        rc = 0;
    }
    dray_http_response_release(&resp);
    return rc;
}

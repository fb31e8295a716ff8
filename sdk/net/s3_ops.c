/*
 * s3_ops.c - the S3 operations: objects, listings page by page, and
 * multipart uploads, each a request (or one per page) through
 * dray__s3_send, which signs, retries and explains failures.
 */
#include "net_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OCTET_STREAM "application/octet-stream"

/* A 2xx whose body is not the document expected. */
static int malformed(struct dray_s3_error *e, const struct dray__s3_req *rq,
                     const struct dray_http_response *resp, const char *what)
{
    dray__s3_error_set(e, rq, (int)resp->status, "MalformedResponse", 0, 0,
                       "S3's answer is not %s: is the endpoint an S3 "
                       "service?",
                       what);
    return -1;
}

static int out_of_memory(struct dray_s3_error *e, const struct dray__s3_req *rq)
{
    dray__s3_error_set(e, rq, 0, "OutOfMemory", 0, 0, "out of memory");
    return -2;
}

/* ---- objects ------------------------------------------------------------ */

int dray__s3_put(struct dray_s3 *s3, const char *bucket, const char *key,
                 const struct dray_http_body *body, const char *content_type,
                 const char *sha256_hex, const char *crc32_b64,
                 struct dray_s3_error *e)
{
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray__s3_req rq;
    struct dray_http_header h[3];
    char sha[65];
    int rc;

    dray__s3_req_init(&rq, "PutObject", "s3:PutObject", "PUT", bucket, key, 1);
    if (body != NULL)
        rq.body = *body;
    if (sha256_hex == NULL) {
        rc = dray__s3_body_digest(&rq.body, sha, NULL);
        if (rc == -2)
            return out_of_memory(e, &rq);
        if (rc == -1) {
            dray__s3_error_set(e, &rq, 0, "BodyUnreadable", 0, 0,
                               "cannot read the body from its file");
            return -1;
        }
        if (rc == 0)
            sha256_hex = sha;
    }
    h[0].name = "Content-Type";
    h[0].value = content_type && *content_type ? content_type : OCTET_STREAM;
    rq.n_headers = 1;
    /* No Content-MD5: the signed x-amz-content-sha256 already makes S3
       check the body. A CRC32 is kept with the object for readers. */
    if (crc32_b64 != NULL) {
        h[1].name = "x-amz-checksum-crc32";
        h[1].value = crc32_b64;
        h[2].name = "x-amz-sdk-checksum-algorithm";
        h[2].value = "CRC32";
        rq.n_headers = 3;
    }
    rq.headers = h;
    rq.sha256_hex = sha256_hex;
    rc = dray__s3_send(s3, &rq, &resp, e);
    dray_http_response_release(&resp);
    return rc;
}

int dray_s3_put_object(struct dray_s3 *s3, const char *bucket, const char *key,
                       const struct dray_http_body *body,
                       const char *content_type, struct dray_s3_error *e)
{
    return dray__s3_put(s3, bucket, key, body, content_type, NULL, NULL, e);
}

int dray_s3_get_object(struct dray_s3 *s3, const char *bucket, const char *key,
                       struct dray_sink *sink, struct dray_s3_error *e)
{
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray__s3_req rq;
    int rc;

    dray__s3_req_init(&rq, "GetObject", "s3:GetObject", "GET", bucket, key, 1);
    rq.sink = sink;
    rc = dray__s3_send(s3, &rq, &resp, e);
    dray_http_response_release(&resp);
    return rc;
}

int dray_s3_delete_object(struct dray_s3 *s3, const char *bucket,
                          const char *key, struct dray_s3_error *e)
{
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray__s3_req rq;
    int rc;

    dray__s3_req_init(&rq, "DeleteObject", "s3:DeleteObject", "DELETE", bucket,
                      key, 1);
    rc = dray__s3_send(s3, &rq, &resp, e);
    /* S3 answers 204 for a missing key; other stores may say 404. */
    if (rc == -1 && strcmp(e->code, "NoSuchKey") == 0) {
        memset(e, 0, sizeof(*e));
        rc = 0;
    }
    dray_http_response_release(&resp);
    return rc;
}

/* ---- listings ----------------------------------------------------------- */

/* *out := the decoded text of tag in x, or "" when missing. 0 or -2. */
static int field(struct dray__xml x, const char *tag, struct dray_buf *out)
{
    int rc = dray__xml_text(x, tag, out);

    if (rc == -2)
        return -2;
    return dray_buf_add(out, "", 0); /* "" rather than NULL */
}

static int is_true(struct dray__xml x, const char *tag)
{
    char v[8];

    dray__xml_copy(x, tag, v, sizeof(v));
    return strcmp(v, "true") == 0;
}

int dray_s3_list_objects(struct dray_s3 *s3, const char *bucket,
                         const char *prefix,
                         int (*fn)(void *ctx, const struct dray_s3_object *o),
                         void *ctx, struct dray_s3_error *e)
{
    struct dray_buf token = DRAY_BUF_INIT, key = DRAY_BUF_INIT,
                    etag = DRAY_BUF_INIT, when = DRAY_BUF_INIT,
                    size = DRAY_BUF_INIT;
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_aws_param p[4];
    struct dray__s3_req rq;
    char max[16];
    int rc = 0;

    dray__s3_req_init(&rq, "ListObjectsV2", "s3:ListBucket", "GET", bucket,
                      NULL, 0);
    snprintf(max, sizeof(max), "%d", dray__s3_page_size(s3));
    memset(e, 0, sizeof(*e));
    for (;;) {
        struct dray__xml x, c;
        size_t pos = 0, n = 0;

        p[n].name = "list-type";
        p[n++].value = "2";
        p[n].name = "max-keys";
        p[n++].value = max;
        if (prefix != NULL && prefix[0] != '\0') {
            p[n].name = "prefix";
            p[n++].value = prefix;
        }
        if (token.len > 0) {
            p[n].name = "continuation-token";
            p[n++].value = token.data;
        }
        rq.params = p;
        rq.n_params = n;
        if ((rc = dray__s3_send(s3, &rq, &resp, e)) != 0)
            break;
        x = dray__s3_body_xml(&resp);
        if (!dray__xml_root_is(x, "ListBucketResult")) {
            rc = malformed(e, &rq, &resp, "a ListBucketResult");
            break;
        }
        while (rc == 0 && dray__xml_next(x, "Contents", &pos, &c)) {
            struct dray_s3_object o;

            if (field(c, "Key", &key) != 0 || field(c, "ETag", &etag) != 0 ||
                field(c, "LastModified", &when) != 0 ||
                field(c, "Size", &size) != 0) {
                rc = out_of_memory(e, &rq);
                break;
            }
            o.key = key.data;
            o.size = strtoll(size.data, NULL, 10);
            o.etag = etag.data;
            o.last_modified = when.data;
            rc = fn(ctx, &o);
        }
        if (rc != 0 || !is_true(x, "IsTruncated"))
            break;
        dray_buf_reset(&token);
        if (field(x, "NextContinuationToken", &token) != 0) {
            rc = out_of_memory(e, &rq);
            break;
        }
        if (token.len == 0) { /* would start over: an endless walk */
            rc = malformed(e, &rq, &resp,
                           "a truncated listing with its continuation token");
            break;
        }
        dray_http_response_release(&resp);
    }
    dray_http_response_release(&resp);
    dray_buf_release(&token);
    dray_buf_release(&key);
    dray_buf_release(&etag);
    dray_buf_release(&when);
    dray_buf_release(&size);
    return rc;
}

int dray_s3_list_uploads(struct dray_s3 *s3, const char *bucket,
                         const char *prefix,
                         int (*fn)(void *ctx, const struct dray_s3_upload *u),
                         void *ctx, struct dray_s3_error *e)
{
    struct dray_buf km = DRAY_BUF_INIT, um = DRAY_BUF_INIT, key = DRAY_BUF_INIT,
                    id = DRAY_BUF_INIT, when = DRAY_BUF_INIT;
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_aws_param p[5];
    struct dray__s3_req rq;
    char max[16];
    int rc = 0;

    dray__s3_req_init(&rq, "ListMultipartUploads",
                      "s3:ListBucketMultipartUploads", "GET", bucket, NULL, 0);
    snprintf(max, sizeof(max), "%d", dray__s3_page_size(s3));
    memset(e, 0, sizeof(*e));
    for (;;) {
        struct dray__xml x, u;
        size_t pos = 0, n = 0;

        p[n].name = "uploads";
        p[n++].value = NULL;
        p[n].name = "max-uploads";
        p[n++].value = max;
        if (prefix != NULL && prefix[0] != '\0') {
            p[n].name = "prefix";
            p[n++].value = prefix;
        }
        if (km.len > 0) {
            p[n].name = "key-marker";
            p[n++].value = km.data;
        }
        if (um.len > 0) {
            p[n].name = "upload-id-marker";
            p[n++].value = um.data;
        }
        rq.params = p;
        rq.n_params = n;
        if ((rc = dray__s3_send(s3, &rq, &resp, e)) != 0)
            break;
        x = dray__s3_body_xml(&resp);
        if (!dray__xml_root_is(x, "ListMultipartUploadsResult")) {
            rc = malformed(e, &rq, &resp, "a ListMultipartUploadsResult");
            break;
        }
        while (rc == 0 && dray__xml_next(x, "Upload", &pos, &u)) {
            struct dray_s3_upload up;

            if (field(u, "Key", &key) != 0 || field(u, "UploadId", &id) != 0 ||
                field(u, "Initiated", &when) != 0) {
                rc = out_of_memory(e, &rq);
                break;
            }
            up.key = key.data;
            up.upload_id = id.data;
            up.initiated = when.data;
            rc = fn(ctx, &up);
        }
        if (rc != 0 || !is_true(x, "IsTruncated"))
            break;
        dray_buf_reset(&km);
        dray_buf_reset(&um);
        if (field(x, "NextKeyMarker", &km) != 0 ||
            field(x, "NextUploadIdMarker", &um) != 0) {
            rc = out_of_memory(e, &rq);
            break;
        }
        if (km.len == 0 && um.len == 0) {
            rc = malformed(e, &rq, &resp,
                           "a truncated listing with its next markers");
            break;
        }
        dray_http_response_release(&resp);
    }
    dray_http_response_release(&resp);
    dray_buf_release(&km);
    dray_buf_release(&um);
    dray_buf_release(&key);
    dray_buf_release(&id);
    dray_buf_release(&when);
    return rc;
}

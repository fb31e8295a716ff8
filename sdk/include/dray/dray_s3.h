/*
 * dray_s3.h - an Amazon S3 client (and S3-compatible stores) on the SDK's
 * HTTP client and SigV4 signer: objects, multipart uploads, listings, and
 * a streaming object writer with bounded memory.
 *
 * Every operation signs each try afresh, retries transient failures (5xx,
 * SlowDown, RequestTimeout, connection resets, a 200 whose body is an
 * <Error>) with back-off and jitter, and on failure fills a struct
 * dray_s3_error whose message names the problem and the fix. A struct
 * dray_s3 is one connection and is not thread-safe; the credential
 * provider may be shared. Part of libdray_sdk_net.a (DraySDK::net).
 */
#ifndef DRAY_S3_H
#define DRAY_S3_H

#include <stddef.h>
#include <stdint.h>

#include "dray_aws.h"
#include "dray_encode.h"
#include "dray_http.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dray_s3_opts {
    const char *region;    /* required ("us-east-1") */
    const char *endpoint;  /* NULL: https://s3.<region>.amazonaws.com; else
                              a scheme, host and optional port
                              ("http://127.0.0.1:9000") */
    int path_style;        /* 1: ENDPOINT/bucket/key; 0: virtual-hosted
                              bucket.HOST/key */
    const char *ca_bundle; /* NULL: the system store */
    struct dray_aws_cred_provider *creds; /* borrowed; required */
    const struct dray_retry *retry;       /* NULL: the defaults */
    int64_t connect_timeout_ms;           /* 0: the HTTP default */
    int64_t stall_timeout_ms;             /* 0: the HTTP default */
    int (*cancel)(void *ctx);             /* optional, as in HTTP */
    void *cancel_ctx;
};

struct dray_s3;

/* Returns 0, -1 with a reason in err (a bad endpoint, no region), -2. */
int dray_s3_new(struct dray_s3 **out, const struct dray_s3_opts *opts,
                char *err, size_t errlen);
void dray_s3_free(struct dray_s3 *s3);

/* What went wrong, after retries ran out. */
struct dray_s3_error {
    int status;        /* HTTP status; 0 for a transport failure */
    char code[64];     /* S3's error code ("NoSuchBucket"), or the
                          transport's ("ConnectionRefused") */
    char message[512]; /* one line: the operation, the object, what S3
                          said and what to do */
    int retryable;     /* a later try may succeed (the service was
                          unavailable, throttled, unreachable) */
    int config;        /* credentials, permissions, bucket or clock: the
                          configuration must change */
};

/* Each operation returns 0, or -1 with e filled (-2: out of memory). */

int dray_s3_put_object(struct dray_s3 *s3, const char *bucket, const char *key,
                       const struct dray_http_body *body,
                       const char *content_type, struct dray_s3_error *e);
/* Streams the object's bytes to sink (2xx only). */
int dray_s3_get_object(struct dray_s3 *s3, const char *bucket, const char *key,
                       struct dray_sink *sink, struct dray_s3_error *e);
/* A missing key is not an error. */
int dray_s3_delete_object(struct dray_s3 *s3, const char *bucket,
                          const char *key, struct dray_s3_error *e);

struct dray_s3_object {
    const char *key;
    int64_t size;
    const char *etag;
    const char *last_modified;
};
/* Every object under prefix in key order, page by page (ListObjectsV2);
   fn returning non-zero stops the walk and is returned. */
int dray_s3_list_objects(struct dray_s3 *s3, const char *bucket,
                         const char *prefix,
                         int (*fn)(void *ctx, const struct dray_s3_object *o),
                         void *ctx, struct dray_s3_error *e);

/* ---- multipart uploads -------------------------------------------------- */

int dray_s3_mpu_create(struct dray_s3 *s3, const char *bucket, const char *key,
                       const char *content_type, char **upload_id,
                       struct dray_s3_error *e);
/* Uploads part part_no (1..10000); sha256_hex of the body (optional,
   computed when NULL for memory and file bodies) is signed, so S3 checks
   the body against it; md5_b64 is accepted for callers that have it and
   not sent (no second hash). *etag is malloc'd. */
int dray_s3_mpu_upload_part(struct dray_s3 *s3, const char *bucket,
                            const char *key, const char *upload_id, int part_no,
                            const struct dray_http_body *body,
                            const char *sha256_hex, const char *md5_b64,
                            char **etag, struct dray_s3_error *e);
/* Completes with parts 1..n and their ETags; a 200 carrying an <Error> is
   a failure (retried when the code is transient). */
int dray_s3_mpu_complete(struct dray_s3 *s3, const char *bucket,
                         const char *key, const char *upload_id,
                         char *const *etags, int n, struct dray_s3_error *e);
/* An upload already gone (NoSuchUpload) is not an error. */
int dray_s3_mpu_abort(struct dray_s3 *s3, const char *bucket, const char *key,
                      const char *upload_id, struct dray_s3_error *e);

struct dray_s3_upload {
    const char *key;
    const char *upload_id;
    const char *initiated;
};
/* Every multipart upload in progress under prefix (ListMultipartUploads,
   paged); fn as in dray_s3_list_objects. */
int dray_s3_list_uploads(struct dray_s3 *s3, const char *bucket,
                         const char *prefix,
                         int (*fn)(void *ctx, const struct dray_s3_upload *u),
                         void *ctx, struct dray_s3_error *e);

/* ---- the streaming object writer ---------------------------------------- */

/*
 * Writes one object from a stream of bytes with bounded memory: the bytes
 * go to an unlinked temporary file in tmp_dir; each time part_size bytes
 * are complete, a background thread (with its own connection) uploads that
 * part from the file while the caller goes on writing. An object that
 * stays under part_size is sent with one PutObject at commit. Abort (or a
 * failed commit) aborts the multipart upload, so nothing stays billable.
 * Every request signs its body's SHA-256; by default each also carries
 * S3's CRC32 checksum of the body, which S3 checks and keeps with the
 * object (a multipart object gets the composite of its parts' CRC32s).
 */
enum {
    DRAY_S3_CHECKSUM_CRC32 = 0, /* the default */
    DRAY_S3_CHECKSUM_NONE = 1   /* for stores that refuse x-amz-checksum-* */
};

struct dray_s3_writer_opts {
    size_t part_size;         /* 0: 8 MiB; at least 5 MiB */
    const char *tmp_dir;      /* NULL: TMPDIR, else /tmp */
    const char *content_type; /* NULL: application/octet-stream */
    int checksum;             /* DRAY_S3_CHECKSUM_* */
    /* Optional, borrowed: a long-lived client made with the same options,
       which sends the one PutObject of an object under part_size, so that
       many small objects in a row reuse its connection instead of opening
       one each. Used from the caller's thread only (in commit); it must
       not be used elsewhere at the same time. */
    struct dray_s3 *client;
};

struct dray_s3_writer;

/* opts are the client's options (the thread opens its own client). sink
   receives the writer's byte sink; its errors are -1 (see commit's e). */
int dray_s3_writer_open(struct dray_s3_writer **out,
                        const struct dray_s3_opts *opts, const char *bucket,
                        const char *key, const struct dray_s3_writer_opts *wo,
                        struct dray_sink *sink, struct dray_s3_error *e);
/* Finishes the object: the last part and Complete, or one PutObject.
   Returns 0, or -1 with e filled (the upload is aborted). */
int dray_s3_writer_commit(struct dray_s3_writer *w, struct dray_s3_error *e);
/* Gives up: aborts the upload, if any. Safe after a failed commit. */
void dray_s3_writer_abort(struct dray_s3_writer *w);
/* Bytes written so far. */
int64_t dray_s3_writer_bytes(const struct dray_s3_writer *w);
void dray_s3_writer_free(struct dray_s3_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_S3_H */

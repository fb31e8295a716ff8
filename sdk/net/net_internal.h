/*
 * net_internal.h - declarations shared between the files of the SDK's net
 * library (libdray_sdk_net.a); not installed.
 */
#ifndef DRAY_NET_INTERNAL_H
#define DRAY_NET_INTERNAL_H

#include <stddef.h>

/* ---- net_util.c --------------------------------------------------------- */

/* printf into err (errlen bytes); nothing when err is NULL. */
void dray__set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- aws_digest.c ------------------------------------------------------- */

/* Writes n bytes as 2n lower-case hex digits and a NUL. */
void dray__hex_lower(const unsigned char *in, size_t n, char *out);
/* A dray_digest of SHA-256 alone: dray_digest_final gives "" for the MD5
   (md5_b64 may then be NULL). NULL when out of memory. */
struct dray_digest *dray__digest_new_sha256(void);

/* ---- aws_creds.c, aws_profile.c, aws_imds.c: the credential chain ------ */

#include <stdint.h>

struct dray_aws_creds;

/* Zeroes n bytes so that a secret does not outlive its use in freed
   memory; frees a NUL-terminated secret after zeroing it. */
void dray__aws_wipe(void *p, size_t n);
void dray__aws_free_secret(char *s);

/* Which file: the sections are named differently ([name] against
   [profile name]). */
enum { DRAY__AWS_CREDENTIALS_FILE = 0, DRAY__AWS_CONFIG_FILE = 1 };

/* What one file says of one profile; NULL: not set. */
struct dray__aws_profile {
    int found; /* the file has the profile's section */
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
    char *region;
    const char *unsupported; /* a key such as role_arn, or NULL */
};

/* Adds the settings of profile's section in the file at path (NULL or a
   missing file: nothing) to *out, which starts zeroed. Returns 0, -1 with
   the file and line in err (never a value), -2 when out of memory. */
int dray__aws_profile_read(const char *path, int kind, const char *profile,
                           struct dray__aws_profile *out, char *err,
                           size_t errlen);
void dray__aws_profile_release(struct dray__aws_profile *p);
/* A shared file's path: the variable var (a leading "~/" is HOME), else
   $HOME/.aws/leaf; *out NULL when HOME is not set. Returns 0 or -2. */
int dray__aws_shared_path(const char *var, const char *leaf, char **out);
/* path, or a stand-in naming the default for a message when NULL. */
const char *dray__aws_shown_path(const char *path, int kind);

/* Outcomes of one remote source; 0, 1 and -2 as dray_aws_creds_get's, -1
   for an error that is not "nothing here" (malformed answer, refused
   request), and DRAY__AWS_NONE when the source has no credentials to give
   (not on EC2, no role): err says why in a few words. */
#define DRAY__AWS_NONE 2

/* Where the container credentials are and how to authorise. */
struct dray__aws_container {
    const char *url;        /* the full URL */
    const char *token;      /* Authorization value, or NULL */
    const char *token_file; /* file holding it, read at each fetch */
    const char *ca_bundle;
};
int dray__aws_container_fetch(const struct dray__aws_container *c,
                              struct dray_aws_creds *out, char *err,
                              size_t errlen);
/* IMDSv2 at endpoint ("http://169.254.169.254", no trailing slash). */
int dray__aws_imds_fetch(const char *endpoint, struct dray_aws_creds *out,
                         char *err, size_t errlen);

/* "2026-12-05T22:00:00Z" (fractions and a +hh:mm offset allowed) to Unix
   ms. Returns 0, or -1 when malformed. */
int dray__aws_iso8601_ms(const char *s, int64_t *ms);

/* ---- aws_creds_chain.c: the chain's sources, for aws_creds.c ----------- */

#include "dray/dray_aws.h"

/* Which source gave credentials. */
enum {
    DRAY__AWS_SRC_NONE,
    DRAY__AWS_SRC_OPTIONS,
    DRAY__AWS_SRC_ENV,
    DRAY__AWS_SRC_PROFILE,
    DRAY__AWS_SRC_CONTAINER,
    DRAY__AWS_SRC_IMDS
};

/* What open learnt of the sources; fixed afterwards. Starts zeroed. */
struct dray__aws_chain {
    struct dray_aws_creds explicit_creds; /* options or environment */
    int explicit_kind;                    /* _OPTIONS, _ENV or _NONE */
    char *profile;
    const char *profile_from; /* "the profile option", "AWS_PROFILE" */
    char *files[2];           /* credentials, config; NULL: no HOME */
    char *sources[2];         /* "profile NAME in FILE" for each */
    struct dray__aws_container container;
    char *container_url, *container_token, *container_token_file;
    char *ca_bundle;
    char *imds_endpoint; /* NULL: disabled */
};

/* Reads the options and the environment into c, and checks a profile
   named explicitly; never the network. Returns 0, -1 with err, -2. On
   failure c holds what was made: release it. */
int dray__aws_chain_open(struct dray__aws_chain *c,
                         const struct dray_aws_cred_opts *o, char *err,
                         size_t errlen);
void dray__aws_chain_release(struct dray__aws_chain *c);
/* Walks the chain in order for the first credentials: 0 with *out, *kind
   and *source (a static text or one of c's), else -1, 1 or -2 with err,
   as dray_aws_creds_get. */
int dray__aws_chain_resolve(struct dray__aws_chain *c,
                            struct dray_aws_creds *out, int *kind,
                            const char **source, char *err, size_t errlen);
/* Asks the container or IMDS (kind) again; "nothing there" becomes 1. */
int dray__aws_chain_refetch(struct dray__aws_chain *c, int kind,
                            struct dray_aws_creds *out, char *err,
                            size_t errlen);
/* A deep copy of src (session_token may be NULL). Returns 0 or -2, dst
   then zeroed. */
int dray__aws_creds_copy(const struct dray_aws_creds *src,
                         struct dray_aws_creds *dst);

/* ---- http.c, http_xfer.c: the HTTP client ------------------------------ */

struct dray_http;
struct dray_http_request;
struct dray_http_response;

/* Bytes the last dray_http_perform passed to req->sink: a try that
   streamed some cannot be repeated. */
int64_t dray__http_sink_bytes(const struct dray_http *h);
/* Non-zero when the handle's opts.cancel asks to stop. */
int dray__http_cancelled(const struct dray_http *h);

/* Why one of our callbacks stopped a transfer. */
enum {
    DRAY__XF_NONE = 0,
    DRAY__XF_TOO_LARGE,
    DRAY__XF_SINK,
    DRAY__XF_BODY,
    DRAY__XF_OOM,
    DRAY__XF_CANCEL
};

/* The state of one dray_http_perform, handed to every curl callback. */
struct dray__http_xfer {
    const struct dray_http_request *req;
    struct dray_http_response *resp;
    size_t max_response;
    int (*cancel)(void *ctx);
    void *cancel_ctx;
    int64_t body_pos; /* request body bytes handed to curl */
    int64_t sink_bytes;
    long status; /* of the latest status line */
    int to_sink; /* -1: not decided yet for this response */
    int failed;  /* DRAY__XF_* */
    int sink_error;
    char why[128]; /* with DRAY__XF_BODY */
};

/* Points the curl handle's callbacks at x; returns a CURLcode. */
int dray__http_xfer_bind(void *curl, struct dray__http_xfer *x);
/* The DRAY_HTTP_T_* of a failed transfer (a CURLcode and x->failed). */
int dray__http_transport(int curl_code, int failed);

/* ---- s3_xml.c: S3's XML bodies ------------------------------------------ */

#include "dray/dray_encode.h"

/* A range of XML text (not NUL-terminated). */
struct dray__xml {
    const char *s;
    size_t len;
};

/* The next element named tag (local name, any prefix) at or after *pos,
   which it moves past the element; *inner is its content. Returns 1, or 0
   when there is none or it is cut short. Start *pos at 0 to iterate. */
int dray__xml_next(struct dray__xml x, const char *tag, size_t *pos,
                   struct dray__xml *inner);
/* The first element named tag anywhere in x: 1 found, 0 not. */
int dray__xml_find(struct dray__xml x, const char *tag,
                   struct dray__xml *inner);
/* The document's root element is named tag. */
int dray__xml_root_is(struct dray__xml x, const char *tag);
/* The document has a root element and it is complete (not cut short). */
int dray__xml_root_closed(struct dray__xml x);
/* Appends s with its entities (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;)
   and CDATA decoded; unknown or invalid references stay as written. out
   is NUL-terminated after, even when empty. Returns 0 or -2. */
int dray__xml_decode(struct dray_buf *out, const char *s, size_t len);
/* out := the decoded text of the first element tag. Returns 1, 0 when
   missing (out empty), -2. */
int dray__xml_text(struct dray__xml x, const char *tag, struct dray_buf *out);
/* The same into buf, cut to size on a character boundary; "" when
   missing. Returns 1 when found. */
int dray__xml_copy(struct dray__xml x, const char *tag, char *buf, size_t size);
/* Appends s with & < > escaped, for element text. Returns 0 or -2. */
int dray__xml_escape(struct dray_buf *out, const char *s);

/* ---- s3_client.c, s3_send.c, s3_errors.c, s3_ops.c, s3_mpu.c,
        s3_writer.c: the S3 client ------------------------------------- */

#include "dray/dray_s3.h"

/* A client (s3_client.c makes it, s3_send.c uses it). */
struct dray_s3 {
    struct dray_http *http;
    struct dray_aws_cred_provider *creds; /* borrowed */
    char *region;
    char *scheme; /* "http" or "https" */
    char *host;   /* as in a Host header: "h", "h:9000", "[::1]:9000" */
    int host_is_ip;
    int path_style;
    int has_retry;
    struct dray_retry retry;
    int page_size;
    int (*cancel)(void *ctx);
    void *cancel_ctx;
};

/* One S3 request as an operation describes it to dray__s3_send. */
struct dray__s3_req {
    const char *op;   /* the API name, for messages: "PutObject" */
    const char *perm; /* the IAM action it needs: "s3:PutObject" */
    const char *method;
    const char *bucket;
    const char *key; /* NULL: the bucket itself */
    int object;      /* an object operation: key required */
    const struct dray_aws_param *params;
    size_t n_params;
    const struct dray_http_header *headers; /* extra, signed and sent */
    size_t n_headers;
    struct dray_http_body body;
    const char *sha256_hex; /* of the body; NULL: computed here */
    struct dray_sink *sink; /* for a 2xx body; NULL: collected */
    int complete; /* CompleteMultipartUpload: a 200 may carry <Error> */
};

/* Starts rq for an operation (op, the IAM permission perm, the method,
   bucket and key; object: an object operation), without a body. */
void dray__s3_req_init(struct dray__s3_req *rq, const char *op,
                       const char *perm, const char *method, const char *bucket,
                       const char *key, int object);
/* A response's body as XML to read. */
struct dray__xml dray__s3_body_xml(const struct dray_http_response *resp);

/* Signs and sends rq with retries. Returns 0 after a 2xx (resp holds
   it), -1 with e filled (resp holds the last answer, if any), -2 when out
   of memory. Release resp in every case. */
int dray__s3_send(struct dray_s3 *s3, const struct dray__s3_req *rq,
                  struct dray_http_response *resp, struct dray_s3_error *e);
/* The region the client signs for. */
const char *dray__s3_region(const struct dray_s3 *s3);
/* Entries per list page (max-keys, max-uploads): 1000 unless a test sets
   fewer. */
int dray__s3_page_size(const struct dray_s3 *s3);
void dray__s3_set_page_size(struct dray_s3 *s3, int n);

/* Hex SHA-256 and base64 MD5 of a memory or file body; the SHA-256 alone
   when md5_b64 is NULL. Returns 0; 1 for a callback body (it cannot be
   read ahead); -1 when the file range cannot be read (errno set); -2 when
   out of memory. */
int dray__s3_body_digest(const struct dray_http_body *b, char sha256_hex[65],
                         char md5_b64[25]);

/* S3's CRC32 checksum of a body as its x-amz-checksum-crc32 header wants
   it: the big-endian value in base64 (8 characters and a NUL). */
void dray__s3_crc32_b64(uint32_t crc, char out[9]);

/* PutObject with the body's SHA-256 known (NULL: computed) and, when
   crc32_b64 is not NULL, its CRC32 sent for S3 to check and keep. */
int dray__s3_put(struct dray_s3 *s3, const char *bucket, const char *key,
                 const struct dray_http_body *body, const char *content_type,
                 const char *sha256_hex, const char *crc32_b64,
                 struct dray_s3_error *e);

/* The multipart operations of dray_s3.h with CRC32 checksums: crc32 (non-
   zero) creates the upload with the CRC32 algorithm; then every part
   must carry its crc32_b64 and complete must name them all (crc32s, n
   entries). With 0 and NULLs they are the public ones. */
int dray__s3_mpu_create(struct dray_s3 *s3, const char *bucket, const char *key,
                        const char *content_type, int crc32, char **upload_id,
                        struct dray_s3_error *e);
int dray__s3_upload_part(struct dray_s3 *s3, const char *bucket,
                         const char *key, const char *upload_id, int part_no,
                         const struct dray_http_body *body,
                         const char *sha256_hex, const char *crc32_b64,
                         char **etag, struct dray_s3_error *e);
int dray__s3_mpu_complete(struct dray_s3 *s3, const char *bucket,
                          const char *key, const char *upload_id,
                          char *const *etags, char *const *crc32s, int n,
                          struct dray_s3_error *e);

/* What one try's answer means for rq: DRAY_HTTP_DONE, _RETRY or _FAIL.
   Retried: connection failures, timeouts, resets, 5xx, SlowDown,
   RequestTimeout, InternalError, 409 ConditionalRequestConflict, and a
   CompleteMultipartUpload 200 whose <Error> is one of those. */
int dray__s3_classify(const struct dray_http_response *resp, int complete);
/* S3's error code of an answer (its <Error><Code>, else one named after
   the status) into code. */
void dray__s3_error_code(const struct dray_http_response *resp, char code[64]);
/* Fills e for rq's failure from its last answer; rc is what the HTTP call
   returned; region is the client's. */
void dray__s3_error_fill(struct dray_s3_error *e, const struct dray__s3_req *rq,
                         const char *region, int rc,
                         const struct dray_http_response *resp);
/* Fills e with a message made of rq's operation and object and fmt. */
void dray__s3_error_set(struct dray_s3_error *e, const struct dray__s3_req *rq,
                        int status, const char *code, int retryable, int config,
                        const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* "s3://bucket/key" for messages: control bytes shown as '?', a long key
   cut with "...". */
void dray__s3_object_name(char *buf, size_t size, const char *bucket,
                          const char *key);

#endif /* DRAY_NET_INTERNAL_H */

/*
 * dray_aws.h - AWS request signing (Signature Version 4) and the default
 * credential chain, for the S3 client and the plugins built on it
 * (Redshift staging, Snowflake external stages).
 *
 * The signer is our own code over OpenSSL (libcurl's built-in one
 * mishandles unsorted and valueless query parameters). Paths and query
 * strings are encoded once, by the functions below, and the same bytes go
 * into the URL and into the canonical request, so the two cannot disagree.
 * Part of libdray_sdk_net.a (DraySDK::net).
 */
#ifndef DRAY_AWS_H
#define DRAY_AWS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dray_encode.h"
#include "dray_http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- hashes ------------------------------------------------------------- */

/* Lower-case hex SHA-256 of data (65 bytes with the NUL). */
void dray_sha256_hex(const void *data, size_t len, char out[65]);
/* Incremental SHA-256 and MD5 of a stream (a multipart part as it is
   written). Opaque; dray_digest_new returns NULL when out of memory. */
struct dray_digest;
struct dray_digest *dray_digest_new(void);
void dray_digest_update(struct dray_digest *d, const void *data, size_t len);
/* Finishes: hex SHA-256 and base64 MD5 (Content-MD5), then starts over. */
void dray_digest_final(struct dray_digest *d, char sha256_hex[65],
                       char md5_b64[25]);
void dray_digest_free(struct dray_digest *d);

/* ---- encoding ----------------------------------------------------------- */

/*
 * Appends s percent-encoded as SigV4 wants it: every byte but A-Z a-z 0-9
 * - . _ ~ as %XX (upper-case hex); '/' kept when keep_slash (object keys in
 * paths). Returns 0 or -2.
 */
int dray_aws_uri_encode(struct dray_buf *out, const char *s, size_t len,
                        int keep_slash);

/* A query parameter, not encoded; value NULL is written "name=". */
struct dray_aws_param {
    const char *name;
    const char *value;
};

/* Appends the canonical query string: each name and value encoded, sorted
   by encoded name then value, joined with '&'; nothing for n == 0. Use
   it for the URL too. Returns 0 or -2. */
int dray_aws_canonical_query(struct dray_buf *out,
                             const struct dray_aws_param *params, size_t n);

/* ---- credentials -------------------------------------------------------- */

struct dray_aws_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;   /* NULL when none */
    int64_t expires_at_ms; /* Unix ms; 0: does not expire */
};
void dray_aws_creds_clear(struct dray_aws_creds *c);

/* ---- SigV4 -------------------------------------------------------------- */

struct dray_sigv4_input {
    const char *method;
    const char *host;            /* the Host header as sent ("h:port" for
                                    a port that is not the scheme's) */
    const char *canonical_uri;   /* the encoded path as sent: "/", or
                                    "/bucket/a%20b" */
    const char *canonical_query; /* from dray_aws_canonical_query, as sent;
                                    "" or NULL for none */
    /* Other headers sent and signed (content-type, content-md5, x-amz-*,
       if-none-match, range, ...). Names in any case; values are trimmed
       and inner runs of blanks folded, as SigV4 says. */
    const struct dray_http_header *headers;
    size_t n_headers;
    const char *payload_hash; /* hex SHA-256 of the body, or
                                 "UNSIGNED-PAYLOAD" */
    const char *region;       /* "us-east-1" */
    const char *service;      /* "s3" */
    time_t now;               /* signing time, UTC */
    const struct dray_aws_creds *creds;
};

struct dray_sigv4_output {
    char amz_date[17];             /* x-amz-date: yyyymmddThhmmssZ */
    struct dray_buf authorization; /* the Authorization header value */
    struct dray_buf canonical_request;
    struct dray_buf string_to_sign;
};
#define DRAY_SIGV4_OUTPUT_INIT                                                 \
    {                                                                          \
        "", DRAY_BUF_INIT, DRAY_BUF_INIT, DRAY_BUF_INIT                        \
    }

/*
 * Signs: host, x-amz-date, x-amz-content-sha256 (= payload_hash) and, with
 * a session token, x-amz-security-token are always signed, with the given
 * headers. The caller sends x-amz-date, x-amz-content-sha256, the token
 * header and Authorization. Returns 0, -1 for missing input, -2 when out of
 * memory.
 */
int dray_sigv4_sign(const struct dray_sigv4_input *in,
                    struct dray_sigv4_output *out);
void dray_sigv4_output_release(struct dray_sigv4_output *out);

/*
 * The default chain, in AWS's order: explicit options; the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the shared
 * files (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, then
 * AWS_CONFIG_FILE or ~/.aws/config, section chosen by the profile option or
 * AWS_PROFILE, default "default"); container credentials
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN); IMDSv2 (unless
 * AWS_EC2_METADATA_DISABLED=true; endpoint from the option, or
 * AWS_EC2_METADATA_SERVICE_ENDPOINT, or http://169.254.169.254). Expiring
 * credentials are fetched again five minutes before they expire. Secrets
 * never appear in messages.
 */
struct dray_aws_cred_opts {
    const char *access_key_id; /* explicit: both or neither */
    const char *secret_access_key;
    const char *session_token;
    const char *profile;       /* NULL: AWS_PROFILE, else "default" */
    const char *imds_endpoint; /* NULL: see above */
    const char *ca_bundle;     /* for a container endpoint over https */
};

struct dray_aws_cred_provider;

/* Returns 0, -1 with a reason in err (an explicit key without its secret,
   a named profile that does not exist), -2 when out of memory. Finding
   nothing is not an error here: dray_aws_creds_get says so. */
int dray_aws_creds_open(struct dray_aws_cred_provider **out,
                        const struct dray_aws_cred_opts *opts, char *err,
                        size_t errlen);
void dray_aws_creds_close(struct dray_aws_cred_provider *p);

/*
 * Copies the current credentials into *out (clear it with
 * dray_aws_creds_clear), resolving the chain on first use and refreshing
 * expiring ones. Thread-safe. Returns 0; -1 when no source has credentials
 * (err lists where it looked and how to fix it); 1 for a transient failure
 * to fetch (the metadata service did not answer): try again later; -2 out
 * of memory.
 */
int dray_aws_creds_get(struct dray_aws_cred_provider *p,
                       struct dray_aws_creds *out, char *err, size_t errlen);

/* Where the credentials came from, for logs and `dray check`
   ("options", "environment", "profile NAME in FILE", "container",
   "instance metadata"); "none" before the first successful get. */
const char *dray_aws_creds_source(struct dray_aws_cred_provider *p);

/* The region AWS tools would use: AWS_REGION, AWS_DEFAULT_REGION, then
   region in the profile's section of the config file. Copies it into buf;
   returns 1, or 0 when none is set. */
int dray_aws_default_region(const char *profile, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_AWS_H */

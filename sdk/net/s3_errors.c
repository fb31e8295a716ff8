/*
 * s3_errors.c - what S3's answers mean: which failures a later try may
 * cure, which ones only a change of configuration can, and a one-line
 * message naming the operation, the object and the fix. Messages are made
 * from S3's error code and message, the bucket and key, and the region:
 * never from a header we sent, so no secret can reach them.
 */
#include "net_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Codes a later try may cure (S3's documented retryable errors). */
static const char *const transient_codes[] = {
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "ConditionalRequestConflict", /* 409: a concurrent conditional write */
    "OperationAborted",           /* 409: a conflicting operation ran */
};

static int is_transient(const char *code)
{
    for (size_t i = 0; i < sizeof(transient_codes) / sizeof(*transient_codes);
         i++)
        if (strcmp(code, transient_codes[i]) == 0)
            return 1;
    return 0;
}

void dray__s3_error_code(const struct dray_http_response *resp, char code[64])
{
    struct dray__xml x = dray__s3_body_xml(resp);

    code[0] = '\0';
    if (dray__xml_root_is(x, "Error"))
        dray__xml_copy(x, "Code", code, 64);
    if (code[0] != '\0')
        return;
    /* No body (a HEAD) or no code in it: name the status. */
    switch (resp->status) {
    case 301:
        snprintf(code, 64, "PermanentRedirect");
        break;
    case 307:
        snprintf(code, 64, "TemporaryRedirect");
        break;
    case 400:
        snprintf(code, 64, "BadRequest");
        break;
    case 403:
        snprintf(code, 64, "Forbidden");
        break;
    case 404:
        snprintf(code, 64, "NotFound");
        break;
    case 412:
        snprintf(code, 64, "PreconditionFailed");
        break;
    case 500:
        snprintf(code, 64, "InternalError");
        break;
    case 503:
        snprintf(code, 64, "ServiceUnavailable");
        break;
    default:
        if (resp->status >= 200 && resp->status <= 299)
            snprintf(code, 64, "IncompleteResponse"); /* Complete's */
        else
            snprintf(code, 64, "HTTP%ld", resp->status);
    }
}

int dray__s3_classify(const struct dray_http_response *resp, int complete)
{
    struct dray__xml x = dray__s3_body_xml(resp);
    char code[64];

    if (resp->transport != DRAY_HTTP_T_OK)
        return dray_http_classify_default(resp); /* by transport alone */
    if (resp->status >= 200 && resp->status <= 299) {
        if (!complete)
            return DRAY_HTTP_DONE;
        /* S3 answers 200 before it has finished and reports a failure in
           the body: judge the body's code. Any other document is the
           result (its root is CompleteMultipartUploadResult, moto's
           ...Response). A document cut short (or none)
           means: the upload may
           or may not be done, and completing again says which. */
        if (dray__xml_root_is(x, "Error")) {
            dray__s3_error_code(resp, code);
            return is_transient(code) ? DRAY_HTTP_RETRY : DRAY_HTTP_FAIL;
        }
        return dray__xml_root_closed(x) ? DRAY_HTTP_DONE : DRAY_HTTP_RETRY;
    }
    dray__s3_error_code(resp, code);
    if (is_transient(code))
        return DRAY_HTTP_RETRY;
    /* The status alone then, as for any API (408 is RequestTimeout). */
    return dray_http_classify_default(resp);
}

/* ---- messages ----------------------------------------------------------- */

/* Copies s, at most max bytes of it, with control bytes as '?' (a key or a
   server's message must not break the line). */
static void put_clean(char *out, size_t size, const char *s, size_t max)
{
    size_t n = 0;

    for (; *s && n + 1 < size && n < max; s++)
        out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    out[n] = '\0';
    if (*s && n + 4 < size) /* cut: say so */
        strcpy(out + n, "...");
}

void dray__s3_object_name(char *buf, size_t size, const char *bucket,
                          const char *key)
{
    char b[80], k[210];

    put_clean(b, sizeof(b), bucket ? bucket : "", 63);
    if (key == NULL) {
        snprintf(buf, size, "s3://%s", b);
        return;
    }
    put_clean(k, sizeof(k), key, 200);
    snprintf(buf, size, "s3://%s/%s", b, k);
}

void dray__s3_error_set(struct dray_s3_error *e, const struct dray__s3_req *rq,
                        int status, const char *code, int retryable, int config,
                        const char *fmt, ...)
{
    char obj[300], what[512];
    va_list ap;

    e->status = status;
    snprintf(e->code, sizeof(e->code), "%s", code);
    e->retryable = retryable;
    e->config = config;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    dray__s3_object_name(obj, sizeof(obj), rq->bucket, rq->key);
    if (snprintf(e->message, sizeof(e->message), "%s %s: %s", rq->op, obj,
                 what) >= (int)sizeof(e->message))
        strcpy(e->message + sizeof(e->message) - 4, "...");
    for (char *p = e->message; *p; p++) /* one line, whatever came in */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

static void transport_error(struct dray_s3_error *e,
                            const struct dray__s3_req *rq,
                            const struct dray_http_response *resp)
{
    const char *why = resp->error[0] ? resp->error : "no details";

    switch (resp->transport) {
    case DRAY_HTTP_T_CONNECT:
        dray__s3_error_set(e, rq, 0, "ConnectFailed", 1, 0,
                           "cannot connect (%s): check the endpoint, the "
                           "network and any proxy settings",
                           why);
        break;
    case DRAY_HTTP_T_TIMEOUT:
        dray__s3_error_set(e, rq, 0, "Timeout", 1, 0,
                           "timed out (%s): S3 or the network is slow or "
                           "unreachable",
                           why);
        break;
    case DRAY_HTTP_T_RESET:
        dray__s3_error_set(e, rq, 0, "ConnectionReset", 1, 0,
                           "the connection broke (%s)", why);
        break;
    case DRAY_HTTP_T_TLS:
        dray__s3_error_set(e, rq, 0, "TLSError", 0, 1,
                           "TLS failed (%s): check the endpoint and "
                           "ca_bundle",
                           why);
        break;
    case DRAY_HTTP_T_TOO_LARGE:
        dray__s3_error_set(e, rq, 0, "ResponseTooLarge", 0, 0,
                           "the response is too large (%s)", why);
        break;
    case DRAY_HTTP_T_CANCELLED:
        dray__s3_error_set(e, rq, 0, "Cancelled", 0, 0, "cancelled");
        break;
    case DRAY_HTTP_T_BODY:
        if (resp->sink_error != 0)
            dray__s3_error_set(e, rq, 0, "SinkError", 0, 0,
                               "writing the object's bytes failed (error "
                               "%d)",
                               resp->sink_error);
        else
            dray__s3_error_set(e, rq, 0, "BodyError", 0, 0,
                               "reading the request body failed (%s)", why);
        break;
    default:
        dray__s3_error_set(e, rq, 0, "TransportError", 0, 0, "%s", why);
    }
}

/* The bucket's region from a redirect or a malformed-authorization
   answer: the x-amz-bucket-region header, else the body's <Region>. */
static void bucket_region(const struct dray_http_response *resp, char *buf,
                          size_t size)
{
    char tmp[64];

    buf[0] = '\0';
    if (dray_http_response_header(resp, "x-amz-bucket-region", tmp,
                                  sizeof(tmp)) == NULL ||
        tmp[0] == '\0')
        dray__xml_copy(dray__s3_body_xml(resp), "Region", tmp, sizeof(tmp));
    for (size_t i = 0, n = 0; tmp[i] && n + 1 < size; i++)
        if ((tmp[i] >= 'a' && tmp[i] <= 'z') ||
            (tmp[i] >= '0' && tmp[i] <= '9') || tmp[i] == '-') {
            buf[n++] = tmp[i];
            buf[n] = '\0';
        }
}

void dray__s3_error_fill(struct dray_s3_error *e, const struct dray__s3_req *rq,
                         const char *region, int rc,
                         const struct dray_http_response *resp)
{
    struct dray__xml x = dray__s3_body_xml(resp);
    char code[64], said[220] = "", where[64], arn[300];
    int status = (int)resp->status;
    int retry;

    if (rc != 0 || resp->transport != DRAY_HTTP_T_OK) {
        transport_error(e, rq, resp);
        return;
    }
    dray__s3_error_code(resp, code);
    retry = dray__s3_classify(resp, rq->complete) == DRAY_HTTP_RETRY;
    if (dray__xml_root_is(x, "Error"))
        dray__xml_copy(x, "Message", said, sizeof(said));
    if (said[0] == '\0')
        snprintf(said, sizeof(said), "no message");
    snprintf(arn, sizeof(arn), "arn:aws:s3:::%.63s%s%.200s", rq->bucket,
             rq->key ? "/" : "", rq->key ? rq->key : "");

    if (strcmp(code, "SignatureDoesNotMatch") == 0) {
        dray__s3_error_set(e, rq, status, code, 0, 1,
                           "S3 rejected the request signature "
                           "(SignatureDoesNotMatch): check "
                           "secret_access_key for this access key, and "
                           "that no proxy rewrites requests");
    } else if (strcmp(code, "InvalidAccessKeyId") == 0) {
        dray__s3_error_set(e, rq, status, code, 0, 1,
                           "S3 does not know the access key id "
                           "(InvalidAccessKeyId): check access_key_id, "
                           "and that the key is active and of this "
                           "partition");
    } else if (strcmp(code, "AccessDenied") == 0 ||
               (status == 403 && strcmp(code, "Forbidden") == 0)) {
        dray__s3_error_set(e, rq, status, code, 0, 1,
                           "access denied (%s): the credentials need %s on "
                           "%s (check the IAM and bucket policies)",
                           code, rq->perm, arn);
    } else if (strcmp(code, "NoSuchBucket") == 0) {
        dray__s3_error_set(e, rq, status, code, 0, 1,
                           "bucket \"%.63s\" does not exist (NoSuchBucket): "
                           "check the bucket name and the endpoint",
                           rq->bucket);
    } else if (strcmp(code, "RequestTimeTooSkewed") == 0) {
        dray__s3_error_set(e, rq, status, code, 0, 1,
                           "this machine's clock is too far from S3's "
                           "(RequestTimeTooSkewed): fix the system clock "
                           "(enable NTP)");
    } else if (status == 301 || strcmp(code, "PermanentRedirect") == 0 ||
               strcmp(code, "AuthorizationHeaderMalformed") == 0 ||
               strcmp(code, "IllegalLocationConstraintException") == 0) {
        bucket_region(resp, where, sizeof(where));
        if (where[0] != '\0' && strcmp(where, region) != 0)
            dray__s3_error_set(e, rq, status, code, 0, 1,
                               "bucket \"%.63s\" is in region %s, not %s "
                               "(%s): set region to %s",
                               rq->bucket, where, region, code, where);
        else if (strcmp(code, "AuthorizationHeaderMalformed") == 0)
            dray__s3_error_set(e, rq, status, code, 0, 1,
                               "S3 rejected the authorization (%s: %s): "
                               "check the region and the credentials",
                               code, said);
        else
            dray__s3_error_set(e, rq, status, code, 0, 1,
                               "bucket \"%.63s\" is not in region %s or not "
                               "at this endpoint (%s): set the bucket's "
                               "region",
                               rq->bucket, region, code);
    } else if (strcmp(code, "ExpiredToken") == 0 ||
               strcmp(code, "TokenRefreshRequired") == 0) {
        dray__s3_error_set(e, rq, status, code, 0, 1,
                           "the session credentials have expired (%s): "
                           "refresh them",
                           code);
    } else if (strcmp(code, "InvalidToken") == 0) {
        dray__s3_error_set(e, rq, status, code, 0, 1,
                           "S3 rejected the session token (InvalidToken): "
                           "check session_token");
    } else if (strcmp(code, "InvalidBucketName") == 0) {
        dray__s3_error_set(e, rq, status, code, 0, 1,
                           "\"%.63s\" is not a valid bucket name "
                           "(InvalidBucketName)",
                           rq->bucket);
    } else if (strcmp(code, "NoSuchKey") == 0 ||
               (status == 404 && strcmp(code, "NotFound") == 0)) {
        dray__s3_error_set(e, rq, status, code, 0, 0, "no such object (%s)",
                           code);
    } else if (strcmp(code, "NoSuchUpload") == 0) {
        dray__s3_error_set(e, rq, status, code, 0, 0,
                           "the multipart upload no longer exists "
                           "(NoSuchUpload): it was completed or aborted");
    } else if (strcmp(code, "SlowDown") == 0) {
        dray__s3_error_set(e, rq, status, code, 1, 0,
                           "S3 asked to slow down (SlowDown) and the retries "
                           "ran out: lower the request rate or spread keys "
                           "over more prefixes");
    } else if (retry) {
        dray__s3_error_set(e, rq, status, code, 1, 0,
                           "S3 answered %d %s (%s) and the retries ran out: "
                           "try again later",
                           status, code, said);
    } else {
        dray__s3_error_set(e, rq, status, code, 0, 0, "S3 answered %d %s (%s)",
                           status, code, said);
    }
}

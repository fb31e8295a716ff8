/*
 * s3_send.c - one S3 request: the addressing style, a URL built from the
 * same encoded bytes as the canonical request, the payload hash once per
 * request, and a signature made afresh for every try (a retry after a
 * back-off needs a new date, and the credentials may have been refreshed
 * meanwhile).
 */
#include "net_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_ATTEMPTS 5
#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DIGEST_CHUNK (256 * 1024)

/* Zeroes a secret before freeing it, so it does not linger in the heap. */
static void free_secret(char *s)
{
    if (s != NULL) {
        volatile char *p = s;
        while (*p)
            *p++ = '\0';
        free(s);
    }
}

/* ---- addressing --------------------------------------------------------- */

/* A bucket name that can be a host name label (or labels). */
static int dns_bucket(const char *b)
{
    size_t n = strlen(b);

    if (n < 3 || n > 63 || b[0] == '-' || b[0] == '.' || b[n - 1] == '-' ||
        b[n - 1] == '.' || strstr(b, "..") != NULL)
        return 0;
    for (; *b; b++)
        if (!((*b >= 'a' && *b <= 'z') || (*b >= '0' && *b <= '9') ||
              *b == '-' || *b == '.'))
            return 0;
    return 1;
}

/* Virtual-hosted addressing where it can work; otherwise path style, as
   the AWS SDKs fall back: an IP address has no sub-domains, a name that
   is no host label cannot be one, and a dotted name under https would not
   match the certificate's one-label wildcard. */
static int use_vhost(const struct dray_s3 *s3, const char *bucket)
{
    if (s3->path_style || s3->host_is_ip || !dns_bucket(bucket))
        return 0;
    return strchr(bucket, '.') == NULL || strcmp(s3->scheme, "https") != 0;
}

struct target {
    struct dray_buf host, uri, query, url;
};

static void target_release(struct target *t)
{
    dray_buf_release(&t->host);
    dray_buf_release(&t->uri);
    dray_buf_release(&t->query);
    dray_buf_release(&t->url);
}

/* The Host header, the canonical URI and query and the URL, which is
   scheme://host + uri + ?query: the very bytes that are signed. */
static int build_target(const struct dray_s3 *s3, const struct dray__s3_req *rq,
                        struct target *t)
{
    int vh = use_vhost(s3, rq->bucket);

    if (vh && (dray_buf_add(&t->host, rq->bucket, strlen(rq->bucket)) != 0 ||
               dray_buf_addc(&t->host, '.') != 0))
        return -2;
    if (dray_buf_add(&t->host, s3->host, strlen(s3->host)) != 0 ||
        dray_buf_addc(&t->uri, '/') != 0)
        return -2;
    if (!vh) {
        if (dray_aws_uri_encode(&t->uri, rq->bucket, strlen(rq->bucket), 0))
            return -2;
        if (rq->key != NULL && dray_buf_addc(&t->uri, '/') != 0)
            return -2;
    }
    if (rq->key != NULL &&
        dray_aws_uri_encode(&t->uri, rq->key, strlen(rq->key), 1) != 0)
        return -2;
    if (dray_buf_add(&t->query, "", 0) != 0 ||
        dray_aws_canonical_query(&t->query, rq->params, rq->n_params) != 0)
        return -2;
    if (dray_buf_add(&t->url, s3->scheme, strlen(s3->scheme)) != 0 ||
        dray_buf_add(&t->url, "://", 3) != 0 ||
        dray_buf_add(&t->url, t->host.data, t->host.len) != 0 ||
        dray_buf_add(&t->url, t->uri.data, t->uri.len) != 0)
        return -2;
    if (t->query.len > 0 &&
        (dray_buf_addc(&t->url, '?') != 0 ||
         dray_buf_add(&t->url, t->query.data, t->query.len) != 0))
        return -2;
    return 0;
}

/* ---- digests ------------------------------------------------------------ */

int dray__s3_body_digest(const struct dray_http_body *b, char sha256_hex[65],
                         char md5_b64[25])
{
    struct dray_digest *d;
    char *buf = NULL;
    int64_t off, left;

    if (b->read != NULL)
        return 1;
    d = md5_b64 != NULL ? dray_digest_new() : dray__digest_new_sha256();
    if (d == NULL)
        return -2;
    if (b->fd < 0) {
        if (b->len > 0)
            dray_digest_update(d, b->data, (size_t)b->len);
    } else {
        if ((buf = malloc(DIGEST_CHUNK)) == NULL) {
            dray_digest_free(d);
            return -2;
        }
        for (off = b->offset, left = b->len; left > 0;) {
            size_t want = left < DIGEST_CHUNK ? (size_t)left : DIGEST_CHUNK;
            ssize_t got = pread(b->fd, buf, want, (off_t)off);

            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                if (got == 0)
                    errno = EIO; /* the file is shorter than the range */
                free(buf);
                dray_digest_free(d);
                return -1;
            }
            dray_digest_update(d, buf, (size_t)got);
            off += got;
            left -= got;
        }
        free(buf);
    }
    dray_digest_final(d, sha256_hex, md5_b64);
    dray_digest_free(d);
    return 0;
}

void dray__s3_crc32_b64(uint32_t crc, char out[9])
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char b[4];

    b[0] = (unsigned char)(crc >> 24);
    b[1] = (unsigned char)(crc >> 16);
    b[2] = (unsigned char)(crc >> 8);
    b[3] = (unsigned char)crc;
    out[0] = b64[b[0] >> 2];
    out[1] = b64[(b[0] & 3) << 4 | b[1] >> 4];
    out[2] = b64[(b[1] & 15) << 2 | b[2] >> 6];
    out[3] = b64[b[2] & 63];
    out[4] = b64[b[3] >> 2];
    out[5] = b64[(b[3] & 3) << 4];
    out[6] = '=';
    out[7] = '=';
    out[8] = '\0';
}

/* ---- one request, signed per try ---------------------------------------- */

struct send_ctx {
    struct dray_s3 *s3;
    const struct dray__s3_req *rq;
    struct target t;
    const char *payload_hash;
    struct dray_http_header *hdrs;
    struct dray_sigv4_output sig;
    char amz_date[17];
    char *token;
    int creds_rc; /* what the credential chain said when prepare failed */
};

static int prepare(void *ctx, struct dray_http_request *req, int attempt,
                   char *err, size_t errlen)
{
    static const struct dray_sigv4_output empty = DRAY_SIGV4_OUTPUT_INIT;
    struct send_ctx *sc = ctx;
    const struct dray__s3_req *rq = sc->rq;
    struct dray_aws_creds c;
    struct dray_sigv4_input in;
    size_t n = 0;
    int rc;

    (void)attempt;
    memset(&c, 0, sizeof(c));
    rc = dray_aws_creds_get(sc->s3->creds, &c, err, errlen);
    if (rc != 0) {
        sc->creds_rc = rc;
        dray_aws_creds_clear(&c);
        return -1;
    }
    dray_sigv4_output_release(&sc->sig);
    sc->sig = empty;
    memset(&in, 0, sizeof(in));
    in.method = rq->method;
    in.host = sc->t.host.data;
    in.canonical_uri = sc->t.uri.data;
    in.canonical_query = sc->t.query.data;
    in.headers = rq->headers;
    in.n_headers = rq->n_headers;
    in.payload_hash = sc->payload_hash;
    in.region = sc->s3->region;
    in.service = "s3";
    in.now = time(NULL);
    in.creds = &c;
    rc = dray_sigv4_sign(&in, &sc->sig);
    free_secret(sc->token);
    sc->token = NULL;
    if (rc == 0 && c.session_token != NULL &&
        (sc->token = strdup(c.session_token)) == NULL)
        rc = -2;
    dray_aws_creds_clear(&c);
    if (rc != 0) {
        sc->creds_rc = rc == -2 ? -2 : -1;
        snprintf(err, errlen, "%s",
                 rc == -2 ? "out of memory while signing"
                          : "the request could not be signed: the "
                            "credentials lack a key id or secret");
        return -1;
    }
    memcpy(sc->amz_date, sc->sig.amz_date, sizeof(sc->amz_date));
    sc->hdrs[n].name = "Host";
    sc->hdrs[n++].value = sc->t.host.data;
    for (size_t i = 0; i < rq->n_headers; i++)
        sc->hdrs[n++] = rq->headers[i];
    sc->hdrs[n].name = "x-amz-date";
    sc->hdrs[n++].value = sc->amz_date;
    sc->hdrs[n].name = "x-amz-content-sha256";
    sc->hdrs[n++].value = sc->payload_hash;
    if (sc->token != NULL) {
        sc->hdrs[n].name = "x-amz-security-token";
        sc->hdrs[n++].value = sc->token;
    }
    sc->hdrs[n].name = "Authorization";
    sc->hdrs[n++].value = sc->sig.authorization.data;
    req->headers = sc->hdrs;
    req->n_headers = n;
    return 0;
}

static int classify(void *ctx, const struct dray_http_response *resp)
{
    const struct send_ctx *sc = ctx;

    return dray__s3_classify(resp, sc->rq->complete);
}

/* Waits before another round after the credential chain failed for the
   moment; non-zero when cancelled. */
static int creds_backoff(struct dray_s3 *s3, int round)
{
    const struct dray_retry *r = s3->has_retry ? &s3->retry : NULL;
    uint32_t ms = dray_retry_delay_ms(r, round, 0);

    if (r != NULL && r->sleep_ms != NULL)
        return r->sleep_ms(r->hook_ctx, ms);
    while (ms > 0) {
        uint32_t slice = ms < 100 ? ms : 100;
        struct timespec ts = {0, (long)slice * 1000000L};

        if (s3->cancel != NULL && s3->cancel(s3->cancel_ctx))
            return 1;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        ms -= slice;
    }
    return s3->cancel != NULL && s3->cancel(s3->cancel_ctx);
}

void dray__s3_req_init(struct dray__s3_req *rq, const char *op,
                       const char *perm, const char *method, const char *bucket,
                       const char *key, int object)
{
    static const struct dray_http_body none = DRAY_HTTP_BODY_NONE;

    memset(rq, 0, sizeof(*rq));
    rq->op = op;
    rq->perm = perm;
    rq->method = method;
    rq->bucket = bucket;
    rq->key = key;
    rq->object = object;
    rq->body = none;
}

struct dray__xml dray__s3_body_xml(const struct dray_http_response *resp)
{
    struct dray__xml x = {resp->body.data, resp->body.len};
    return x;
}

int dray__s3_send(struct dray_s3 *s3, const struct dray__s3_req *rq,
                  struct dray_http_response *resp, struct dray_s3_error *e)
{
    static const struct dray_sigv4_output empty = DRAY_SIGV4_OUTPUT_INIT;
    static const struct target no_target = {DRAY_BUF_INIT, DRAY_BUF_INIT,
                                            DRAY_BUF_INIT, DRAY_BUF_INIT};
    int max = s3->has_retry && s3->retry.max_attempts > 0
                  ? s3->retry.max_attempts
                  : DEFAULT_ATTEMPTS;
    struct send_ctx sc;
    struct dray_http_call call;
    char sha[65];
    int rc, round;

    memset(e, 0, sizeof(*e));
    memset(&sc, 0, sizeof(sc));
    sc.s3 = s3;
    sc.rq = rq;
    sc.t = no_target;
    sc.sig = empty;
    /* A missing key would make PutObject a CreateBucket. */
    if (rq->bucket == NULL || rq->bucket[0] == '\0' ||
        (rq->object && (rq->key == NULL || rq->key[0] == '\0'))) {
        dray__s3_error_set(e, rq, 0, "InvalidArgument", 0, 0, "no %s given",
                           rq->bucket == NULL || rq->bucket[0] == '\0'
                               ? "bucket"
                               : "object key");
        rc = -1;
        goto done;
    }
    if (build_target(s3, rq, &sc.t) != 0)
        goto oom;
    /* The payload hash once per request: every try sends the same body. */
    if (rq->sha256_hex != NULL) {
        sc.payload_hash = rq->sha256_hex;
    } else if (rq->body.read != NULL) {
        sc.payload_hash = "UNSIGNED-PAYLOAD";
    } else if (rq->body.fd < 0 && rq->body.len == 0) {
        sc.payload_hash = EMPTY_SHA256;
    } else {
        rc = dray__s3_body_digest(&rq->body, sha, NULL);
        if (rc == -2)
            goto oom;
        if (rc != 0) {
            dray__s3_error_set(e, rq, 0, "BodyUnreadable", 0, 0,
                               "cannot read the body from its file: %s",
                               strerror(errno));
            rc = -1;
            goto done;
        }
        sc.payload_hash = sha;
    }
    if ((sc.hdrs = calloc(rq->n_headers + 6, sizeof(*sc.hdrs))) == NULL)
        goto oom;
    memset(&call, 0, sizeof(call));
    call.req.method = rq->method;
    call.req.url = sc.t.url.data;
    call.req.body = rq->body;
    call.req.sink = rq->sink;
    call.retry = s3->has_retry ? &s3->retry : NULL;
    call.prepare = prepare;
    call.classify = classify;
    call.ctx = &sc;
    for (round = 1;; round++) {
        sc.creds_rc = 0;
        rc = dray_http_call(s3->http, &call, resp, NULL);
        /* The chain could not fetch credentials for now (the metadata
           service did not answer): the whole request again, later. */
        if (rc == -3 && sc.creds_rc == 1 && round < max &&
            creds_backoff(s3, round) == 0)
            continue;
        break;
    }
    if (rc == -2 || (rc == -3 && sc.creds_rc == -2))
        goto oom;
    if (rc == -3) {
        dray__s3_error_set(
            e, rq, 0,
            sc.creds_rc == 1 ? "CredentialsUnavailable" : "NoCredentials",
            sc.creds_rc == 1, sc.creds_rc != 1, "%s", resp->error);
        rc = -1;
    } else if (rc == 0 &&
               dray__s3_classify(resp, rq->complete) == DRAY_HTTP_DONE) {
        rc = 0;
    } else {
        dray__s3_error_fill(e, rq, s3->region, rc, resp);
        rc = -1;
    }
    goto done;
oom:
    dray__s3_error_set(e, rq, 0, "OutOfMemory", 0, 0, "out of memory");
    rc = -2;
done:
    target_release(&sc.t);
    dray_sigv4_output_release(&sc.sig);
    free_secret(sc.token);
    free(sc.hdrs);
    return rc;
}

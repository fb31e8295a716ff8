/*
 * http.c - struct dray_http (one curl easy handle, reused) and
 * dray_http_perform(): one request, one response, no retries.
 *
 * Choices worth knowing:
 *  - Options that never change are set once in dray_http_new(); the ones
 *    a request decides (url, method, headers, body) are set again before
 *    every perform. curl_easy_reset() is never called: it would drop the
 *    fixed options, while connections and TLS sessions stay cached either
 *    way.
 *  - Every body goes through CURLOPT_UPLOAD and a read callback, the
 *    method through CURLOPT_CUSTOMREQUEST. Unlike CURLOPT_POST that adds
 *    no "Content-Type: application/x-www-form-urlencoded" (moto stores
 *    an empty object then), and one path serves memory, file and callback
 *    bodies alike.
 *  - "Expect: 100-continue" is removed unless the caller sends an Expect
 *    header: S3 answers it, but it costs a round trip per upload (and a
 *    1 s wait behind servers that ignore it), to save only the upload of a
 *    body that is then refused, which for signed requests is a bug, not a
 *    case to optimise.
 *  - Proxies: curl's default, which honours http_proxy, https_proxy and
 *    no_proxy from the environment; nothing else is read from it.
 *  - No Accept-Encoding: bodies arrive as the server stores them (an S3
 *    object with Content-Encoding: gzip is downloaded as its bytes).
 *  - Redirects are not followed: a 3xx is returned as a status.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "dray/dray_http.h"
#include "dray/dray_version.h"
#include "net_internal.h"

#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_STALL_MS 60000
#define DEFAULT_MAX_RESPONSE ((size_t)16 << 20)
/* Fewer, larger reads and writes for multi-megabyte transfers. */
#define RECV_BUFFER_BYTES (256L << 10)
#define SEND_BUFFER_BYTES (256L << 10)

struct dray_http {
    CURL *curl;
    size_t max_response;
    int (*cancel)(void *ctx);
    void *cancel_ctx;
    int64_t sink_bytes; /* of the last perform */
    char errbuf[CURL_ERROR_SIZE];
};

int dray_http_new(struct dray_http **out, const struct dray_http_opts *opts,
                  char *err, size_t errlen)
{
    static const struct dray_http_opts none;
    struct dray_http *h;
    CURL *c;
    int64_t connect_ms, stall_ms;
    long stall_s;
    CURLcode rc = CURLE_OK;
    const char *what = NULL;
    char ua[64];

    *out = NULL;
    if (opts == NULL)
        opts = &none;
    if (dray_http_global_init(err, errlen) != 0)
        return -1;
    if (opts->ca_bundle != NULL && access(opts->ca_bundle, R_OK) != 0) {
        dray__set_err(err, errlen,
                      "cannot read the CA bundle %s: %s; check ca_bundle",
                      opts->ca_bundle, strerror(errno));
        return -1;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return -2;
    h->curl = c = curl_easy_init();
    if (c == NULL) {
        free(h);
        return -2;
    }
    h->max_response = opts->max_response_bytes ? opts->max_response_bytes
                                               : DEFAULT_MAX_RESPONSE;
    h->cancel = opts->cancel;
    h->cancel_ctx = opts->cancel_ctx;
    connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                              : DEFAULT_CONNECT_MS;
    stall_ms =
        opts->stall_timeout_ms > 0 ? opts->stall_timeout_ms : DEFAULT_STALL_MS;
    /* curl counts the stall in whole seconds: round up, so a stall is
       never declared earlier than asked. */
    stall_s = (long)((stall_ms + 999) / 1000);
    snprintf(ua, sizeof(ua), "dray/%s", DRAY_SDK_VERSION_STRING);

#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK) {                                                  \
            rc = curl_easy_setopt(c, opt, val);                                \
            what = #opt;                                                       \
        }                                                                      \
    } while (0)
    /* Threads: no SIGALRM around name lookups (curl's resolver here is
       asynchronous, so lookups still time out). */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, h->errbuf);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (opts->ca_bundle != NULL)
        SET(CURLOPT_CAINFO, opts->ca_bundle);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    SET(CURLOPT_TIMEOUT_MS,
        (long)(opts->timeout_ms > 0 ? opts->timeout_ms : 0));
    SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SET(CURLOPT_LOW_SPEED_TIME, stall_s);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    /* Send paths as given: curl would otherwise fold "./" and "../" in
       them, and an S3 key "a/../b" would be stored as "b". */
    SET(CURLOPT_PATH_AS_IS, 1L);
    SET(CURLOPT_USERAGENT, opts->user_agent ? opts->user_agent : ua);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_BUFFERSIZE, RECV_BUFFER_BYTES);
    SET(CURLOPT_UPLOAD_BUFFERSIZE, SEND_BUFFER_BYTES);
#undef SET
    if (rc != CURLE_OK) {
        dray__set_err(err, errlen, "libcurl refused %s: %s", what,
                      curl_easy_strerror(rc));
        dray_http_free(h);
        return rc == CURLE_OUT_OF_MEMORY ? -2 : -1;
    }
    *out = h;
    return 0;
}

void dray_http_free(struct dray_http *h)
{
    if (h == NULL)
        return;
    curl_easy_cleanup(h->curl);
    free(h);
}

int64_t dray__http_sink_bytes(const struct dray_http *h)
{
    return h->sink_bytes;
}

int dray__http_cancelled(const struct dray_http *h)
{
    return h->cancel != NULL && h->cancel(h->cancel_ctx) != 0;
}

/* ---- one request -------------------------------------------------------- */

static int is_token(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++)
        if (!(*s >= 'A' && *s <= 'Z') && *s != '-' && *s != '_')
            return 0;
    return 1;
}

static int has_line_break(const char *s)
{
    return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* Checks what curl would take badly; a message in resp->error. */
static int check_request(const struct dray_http_request *req,
                         struct dray_http_response *resp)
{
    const struct dray_http_body *b = &req->body;
    const char *msg = NULL;
    size_t i;

    if (!is_token(req->method))
        msg = "the request method must be an upper-case token like GET";
    else if (req->url == NULL || has_line_break(req->url))
        msg = "the request url is missing or holds a line break";
    else if (b->read != NULL && b->fd >= 0)
        msg = "a request body is a callback or a file, not both; set fd to -1";
    else if (b->len < 0 && b->read == NULL)
        msg = "a request body of unknown length (-1) needs a read callback";
    else if (b->read == NULL && b->fd < 0 && b->data == NULL && b->len > 0)
        msg = "a memory request body has a length but no data";
    else if (b->fd >= 0 && b->offset < 0)
        msg = "a file request body has a negative offset";
    else if (strcmp(req->method, "HEAD") == 0 &&
             (b->read != NULL || b->fd >= 0 || b->len != 0))
        msg = "a HEAD request cannot have a body";
    for (i = 0; msg == NULL && i < req->n_headers; i++) {
        const struct dray_http_header *hd = &req->headers[i];
        if (hd->name == NULL || *hd->name == '\0' ||
            strpbrk(hd->name, ": \t\r\n") != NULL || has_line_break(hd->value))
            msg = "a request header has an empty or malformed name, or a "
                  "line break in its value";
    }
    if (msg == NULL)
        return 0;
    resp->transport = DRAY_HTTP_T_OTHER;
    snprintf(resp->error, sizeof(resp->error), "%s", msg);
    return -1;
}

/* The request's headers as curl takes them; "Name:" removes one of
   curl's, "Name;" sends an empty value. */
static int build_headers(const struct dray_http_request *req,
                         struct curl_slist **out)
{
    struct curl_slist *list = NULL, *next;
    struct dray_buf line = DRAY_BUF_INIT;
    int expect = 0, rc = -2;
    size_t i;

    for (i = 0; i < req->n_headers; i++) {
        const struct dray_http_header *hd = &req->headers[i];
        const char *v = hd->value;
        dray_buf_reset(&line);
        if (strcasecmp(hd->name, "Expect") == 0)
            expect = 1;
        if (dray_buf_add(&line, hd->name, strlen(hd->name)) != 0 ||
            dray_buf_addc(&line, v == NULL ? ':'
                                 : *v      ? ':'
                                           : ';') != 0 ||
            (v != NULL && *v &&
             (dray_buf_addc(&line, ' ') != 0 ||
              dray_buf_add(&line, v, strlen(v)) != 0)))
            goto done;
        if ((next = curl_slist_append(list, line.data)) == NULL)
            goto done;
        list = next;
    }
    if (!expect) {
        if ((next = curl_slist_append(list, "Expect:")) == NULL)
            goto done;
        list = next;
    }
    rc = 0;
done:
    dray_buf_release(&line);
    if (rc != 0)
        curl_slist_free_all(list);
    *out = rc == 0 ? list : NULL;
    return rc;
}

static CURLcode set_request(CURL *c, const struct dray_http_request *req,
                            struct curl_slist *headers,
                            struct dray__http_xfer *x)
{
    const struct dray_http_body *b = &req->body;
    const char *m = req->method;
    int head = strcmp(m, "HEAD") == 0, get = strcmp(m, "GET") == 0;
    int upload = b->read != NULL || b->fd >= 0 || b->len > 0 ||
                 strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0;
    CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = curl_easy_setopt(c, opt, val);                                \
    } while (0)
    SET(CURLOPT_URL, req->url);
    /* Back to a plain GET first: the handle keeps the last request's. */
    SET(CURLOPT_UPLOAD, 0L);
    SET(CURLOPT_NOBODY, 0L);
    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_CUSTOMREQUEST, (char *)NULL);
    SET(CURLOPT_HTTPHEADER, headers);
    if (rc == CURLE_OK)
        rc = (CURLcode)dray__http_xfer_bind(c, x);
    if (head) {
        SET(CURLOPT_NOBODY, 1L);
    } else if (upload) {
        /* -1: unknown, sent chunked */
        SET(CURLOPT_UPLOAD, 1L);
        SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->len);
        if (strcmp(m, "PUT") != 0)
            SET(CURLOPT_CUSTOMREQUEST, m);
    } else if (!get) {
        SET(CURLOPT_CUSTOMREQUEST, m);
    }
#undef SET
    return rc;
}

static void reset_response(struct dray_http_response *resp)
{
    resp->status = 0;
    resp->transport = DRAY_HTTP_T_OK;
    resp->error[0] = '\0';
    dray_buf_reset(&resp->body);
    dray_buf_reset(&resp->headers);
    resp->sink_error = 0;
}

int dray_http_perform(struct dray_http *h, const struct dray_http_request *req,
                      struct dray_http_response *resp)
{
    struct curl_slist *headers = NULL;
    struct dray__http_xfer x;
    CURLcode rc;

    reset_response(resp);
    h->sink_bytes = 0;
    if (check_request(req, resp) != 0)
        return -1;
    if (build_headers(req, &headers) != 0)
        goto oom;
    memset(&x, 0, sizeof(x));
    x.max_response = h->max_response;
    x.cancel = h->cancel;
    x.cancel_ctx = h->cancel_ctx;
    x.req = req;
    x.resp = resp;
    x.to_sink = -1;
    h->errbuf[0] = '\0';
    rc = set_request(h->curl, req, headers, &x);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(h->curl);
    /* The list dies here: the handle must not point at it afterwards. */
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_slist_free_all(headers);
    h->sink_bytes = x.sink_bytes;
    if (x.failed == DRAY__XF_OOM || rc == CURLE_OUT_OF_MEMORY)
        goto oom;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        return 0;
    }
    resp->transport = dray__http_transport((int)rc, x.failed);
    resp->sink_error = x.failed == DRAY__XF_SINK ? x.sink_error : 0;
    switch (x.failed) {
    case DRAY__XF_TOO_LARGE:
        snprintf(resp->error, sizeof(resp->error),
                 "the response body is over max_response_bytes (%zu); raise "
                 "it or stream the body to a sink",
                 h->max_response);
        break;
    case DRAY__XF_SINK:
        snprintf(resp->error, sizeof(resp->error),
                 "the response sink failed with code %d", x.sink_error);
        break;
    case DRAY__XF_BODY:
        snprintf(resp->error, sizeof(resp->error), "%s", x.why);
        break;
    case DRAY__XF_CANCEL:
        snprintf(resp->error, sizeof(resp->error), "the request was cancelled");
        break;
    default:
        snprintf(resp->error, sizeof(resp->error), "%s",
                 h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
    }
    return -1;
oom:
    resp->transport = DRAY_HTTP_T_OTHER;
    snprintf(resp->error, sizeof(resp->error), "out of memory");
    return -2;
}

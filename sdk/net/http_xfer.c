/*
 * http_xfer.c - the curl callbacks of one request: response headers and
 * body (collected under a cap, or streamed to a sink), the request body
 * (memory, file range, callback), cancellation; and what a failed
 * transfer means as a DRAY_HTTP_T_* outcome.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "dray/dray_http.h"
#include "net_internal.h"

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct dray__http_xfer *x = ctx;
    size_t len = size * n, l = len;
    struct dray_buf *hb = &x->resp->headers;

    while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == '\n'))
        l--;
    if (l >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A status line starts a response: the headers of a 100 Continue
           (or a proxy's CONNECT answer) before it are forgotten. */
        const char *s = memchr(p, ' ', l);
        x->status = s != NULL ? strtol(s + 1, NULL, 10) : 0;
        x->to_sink = -1;
        dray_buf_reset(hb);
        return len;
    }
    /* The blank line after the headers; folded continuation lines (obsolete,
       and not sent by the APIs this serves) are dropped. */
    if (l == 0 || p[0] == ' ' || p[0] == '\t' || memchr(p, ':', l) == NULL)
        return len;
    if (dray_buf_add(hb, p, l) != 0 || dray_buf_addc(hb, '\n') != 0) {
        x->failed = DRAY__XF_OOM;
        return 0;
    }
    return len;
}

/* A 2xx body goes to req->sink when there is one: written, never closed
   (its owner closes it); any other status is collected under the cap. */
static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct dray__http_xfer *x = ctx;
    size_t len = size * n;
    struct dray_buf *b = &x->resp->body;
    struct dray_sink *sink = x->req->sink;

    if (x->to_sink < 0)
        x->to_sink = sink != NULL && x->status >= 200 && x->status <= 299;
    if (x->to_sink) {
        int rc = sink->write(sink->ctx, p, len);
        if (rc != 0) {
            x->failed = DRAY__XF_SINK;
            x->sink_error = rc;
            return 0;
        }
        x->sink_bytes += (int64_t)len;
        return len;
    }
    if (len > x->max_response - b->len) {
        x->failed = DRAY__XF_TOO_LARGE;
        return 0;
    }
    if (dray_buf_add(b, p, len) != 0) {
        x->failed = DRAY__XF_OOM;
        return 0;
    }
    return len;
}

__attribute__((format(printf, 2, 3))) static size_t
body_fail(struct dray__http_xfer *x, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(x->why, sizeof(x->why), fmt, ap);
    va_end(ap);
    x->failed = DRAY__XF_BODY;
    return CURL_READFUNC_ABORT;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ctx)
{
    struct dray__http_xfer *x = ctx;
    const struct dray_http_body *b = &x->req->body;
    size_t room = size * n;

    if (b->len >= 0) {
        int64_t left = b->len - x->body_pos;
        if (left <= 0)
            return 0;
        if ((uint64_t)left < room)
            room = (size_t)left;
    }
    if (b->read != NULL) {
        int64_t got = b->read(b->read_ctx, buf, room);
        if (got < 0 || (uint64_t)got > room)
            return body_fail(x, "the request body callback failed at byte %lld",
                             (long long)x->body_pos);
        if (got == 0 && b->len >= 0)
            return body_fail(x,
                             "the request body callback ended at byte %lld of "
                             "%lld",
                             (long long)x->body_pos, (long long)b->len);
        x->body_pos += got;
        return (size_t)got;
    }
    if (b->fd >= 0) {
        ssize_t got;
        do
            got = pread(b->fd, buf, room, (off_t)(b->offset + x->body_pos));
        while (got < 0 && errno == EINTR);
        if (got < 0)
            return body_fail(x, "reading the request body file failed: %s",
                             strerror(errno));
        if (got == 0)
            return body_fail(x,
                             "the request body file ended at byte %lld of the "
                             "range's %lld",
                             (long long)x->body_pos, (long long)b->len);
        x->body_pos += got;
        return (size_t)got;
    }
    memcpy(buf, (const char *)b->data + x->body_pos, room);
    x->body_pos += (int64_t)room;
    return room;
}

/* curl rewinds the body when it sends a request again on a fresh
   connection (a kept-alive one turned out dead). */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
    struct dray__http_xfer *x = ctx;
    const struct dray_http_body *b = &x->req->body;

    if (origin != SEEK_SET || offset < 0)
        return CURL_SEEKFUNC_CANTSEEK;
    if (b->read != NULL)
        return offset == x->body_pos ? CURL_SEEKFUNC_OK
                                     : CURL_SEEKFUNC_CANTSEEK;
    if (b->len >= 0 && offset > b->len)
        return CURL_SEEKFUNC_FAIL;
    x->body_pos = offset;
    return CURL_SEEKFUNC_OK;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct dray__http_xfer *x = ctx;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    if (x->cancel != NULL && x->cancel(x->cancel_ctx) != 0) {
        x->failed = DRAY__XF_CANCEL;
        return 1;
    }
    return 0;
}

int dray__http_transport(int curl_code, int failed)
{
    switch (failed) {
    case DRAY__XF_TOO_LARGE:
        return DRAY_HTTP_T_TOO_LARGE;
    case DRAY__XF_SINK:
    case DRAY__XF_BODY:
        return DRAY_HTTP_T_BODY;
    case DRAY__XF_CANCEL:
        return DRAY_HTTP_T_CANCELLED;
    }
    switch ((CURLcode)curl_code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return DRAY_HTTP_T_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return DRAY_HTTP_T_TIMEOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SEND_FAIL_REWIND: /* a dead kept-alive connection */
        return DRAY_HTTP_T_RESET;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
        return DRAY_HTTP_T_TLS;
    case CURLE_ABORTED_BY_CALLBACK:
        return DRAY_HTTP_T_CANCELLED;
    case CURLE_READ_ERROR:
        return DRAY_HTTP_T_BODY;
    default:
        return DRAY_HTTP_T_OTHER;
    }
}

int dray__http_xfer_bind(void *curl, struct dray__http_xfer *x)
{
    CURL *c = curl;
    CURLcode rc = CURLE_OK;

#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = curl_easy_setopt(c, opt, val);                                \
    } while (0)
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_READFUNCTION, on_read);
    SET(CURLOPT_READDATA, x);
    SET(CURLOPT_SEEKFUNCTION, on_seek);
    SET(CURLOPT_SEEKDATA, x);
    /* The progress callback only when there is something to poll. */
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, x);
    SET(CURLOPT_NOPROGRESS, x->cancel != NULL ? 0L : 1L);
#undef SET
    return (int)rc;
}

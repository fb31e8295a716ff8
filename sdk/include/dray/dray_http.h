/*
 * dray_http.h - the SDK's HTTP client over libcurl, for plugins that talk
 * to a web API (S3, BigQuery, Snowflake's stages).
 *
 * One struct dray_http wraps one curl easy handle, so connections (and TLS
 * sessions) are reused from request to request; it is not thread-safe: a
 * thread that uploads in the background makes its own. TLS peers are always
 * verified, against the system store or a CA bundle file; there is no
 * "insecure" switch. Request bodies come from memory, from a range of a
 * file (read as it is sent, so a 5 GiB part costs no memory) or from a
 * callback; response bodies are collected up to a cap, or streamed to a
 * sink. dray_http_call() adds retries with capped exponential back-off and
 * jitter. Part of libdray_sdk_net.a (DraySDK::net), which links libcurl and
 * OpenSSL; plugins that need neither link DraySDK::sdk alone.
 */
#ifndef DRAY_HTTP_H
#define DRAY_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "dray_encode.h"

#ifdef __cplusplus
extern "C" {
#endif

/* curl_global_init, once per process: call from the plugin's on_load.
   Returns 0, or -1 with a reason in err. */
int dray_http_global_init(char *err, size_t errlen);

struct dray_http_opts {
    const char *ca_bundle;      /* PEM file of trusted CAs; NULL: the system
                                   store */
    int64_t connect_timeout_ms; /* 0: 10 s */
    int64_t timeout_ms;         /* a whole request; 0: none (stalls are
                                   caught by stall_timeout_ms) */
    int64_t stall_timeout_ms;   /* fail when no byte moves for this long;
                                   0: 60 s */
    size_t max_response_bytes;  /* collected body cap; 0: 16 MiB */
    const char *user_agent;     /* NULL: "dray/<version>" */
    /* Polled while a request runs and between retries; non-zero aborts
       it (transport DRAY_HTTP_T_CANCELLED). Optional. */
    int (*cancel)(void *ctx);
    void *cancel_ctx;
};

struct dray_http;

/* Returns 0, -1 with a reason in err, -2 when out of memory. */
int dray_http_new(struct dray_http **out, const struct dray_http_opts *opts,
                  char *err, size_t errlen);
void dray_http_free(struct dray_http *h);

struct dray_http_header {
    const char *name;
    const char *value;
};

/*
 * A request body: exactly one of
 *  - memory: data/len (data may be NULL when len is 0: no body);
 *  - a file range: fd >= 0, offset, len (read with pread as it is sent;
 *    the fd is borrowed);
 *  - a callback: read != NULL; len bytes, or -1 for chunked transfer
 *    encoding. A callback body cannot be sent twice: dray_http_call()
 *    does not retry it.
 * Set fd to -1 for the first and third kinds (DRAY_HTTP_BODY_NONE does).
 */
struct dray_http_body {
    const void *data;
    int64_t len;
    int fd;
    int64_t offset;
    /* Fills up to n bytes of buf; returns the count, 0 at the end, or -1
       to abort the request (transport DRAY_HTTP_T_BODY). */
    int64_t (*read)(void *ctx, char *buf, size_t n);
    void *read_ctx;
};
#define DRAY_HTTP_BODY_NONE                                                    \
    {                                                                          \
        NULL, 0, -1, 0, NULL, NULL                                             \
    }

struct dray_http_request {
    const char *method; /* "GET", "PUT", "POST", "DELETE", "HEAD" */
    const char *url;
    const struct dray_http_header *headers; /* sent as given; a NULL value
                                               removes a header curl would
                                               add */
    size_t n_headers;
    struct dray_http_body body;
    /* A 2xx response body goes here instead of into the response (a
       download of any size); NULL: collected. Other statuses are always
       collected, so their error bodies can be read. */
    struct dray_sink *sink;
};

/* Transport outcome: what went wrong before a status line arrived. */
enum {
    DRAY_HTTP_T_OK = 0,        /* a response was read; see status */
    DRAY_HTTP_T_CONNECT = 1,   /* refused, unreachable, name not found */
    DRAY_HTTP_T_TIMEOUT = 2,   /* connect timeout, stall, whole timeout */
    DRAY_HTTP_T_RESET = 3,     /* reset, closed early, empty reply */
    DRAY_HTTP_T_TLS = 4,       /* certificate or handshake failure */
    DRAY_HTTP_T_TOO_LARGE = 5, /* response over max_response_bytes */
    DRAY_HTTP_T_CANCELLED = 6, /* opts.cancel asked to stop */
    DRAY_HTTP_T_BODY = 7,      /* reading the body source failed, or the
                                  response sink returned an error */
    DRAY_HTTP_T_OTHER = 8
};

struct dray_http_response {
    long status;          /* HTTP status; 0 when transport != T_OK */
    int transport;        /* DRAY_HTTP_T_* */
    char error[256];      /* transport failure in words (curl's), or "" */
    struct dray_buf body; /* collected body (NUL-terminated when any) */
    /* Response headers of the final response as "name: value\n" lines;
       read them with dray_http_response_header(). */
    struct dray_buf headers;
    int sink_error; /* with T_BODY: the sink's error code, else 0 */
};
#define DRAY_HTTP_RESPONSE_INIT                                                \
    {                                                                          \
        0, 0, "", DRAY_BUF_INIT, DRAY_BUF_INIT, 0                              \
    }

/*
 * Sends one request and reads its response; no retries. Returns 0 when a
 * status was received (any status, see resp->status), -1 for a transport
 * failure (resp->transport and resp->error say which), -2 when out of
 * memory. resp is reset first; release it with dray_http_response_release.
 */
int dray_http_perform(struct dray_http *h, const struct dray_http_request *req,
                      struct dray_http_response *resp);
void dray_http_response_release(struct dray_http_response *resp);

/* The value of a response header (name without case), trimmed, copied
   into buf (truncated to size); NULL when absent. */
const char *dray_http_response_header(const struct dray_http_response *resp,
                                      const char *name, char *buf, size_t size);

/* ---- retries ------------------------------------------------------------ */

/*
 * Back-off: attempt n (1-based) waits a random time in
 * [d/2, d] where d = min(cap_ms, base_ms * 2^(n-1)) ("equal jitter": never
 * zero, never in lock-step), or retry_after_ms when the server named a
 * longer wait (capped at cap_ms * 4). The clock, sleep and random source
 * can be replaced for tests.
 */
struct dray_retry {
    int max_attempts; /* tries in all, including the first; 0: 5 */
    uint32_t base_ms; /* 0: 200 */
    uint32_t cap_ms;  /* 0: 20000 */
    /* Optional hooks (NULL: the real ones). sleep_ms returns non-zero
       when interrupted by cancel. */
    int (*sleep_ms)(void *ctx, uint32_t ms);
    uint32_t (*rand32)(void *ctx);
    void *hook_ctx;
};

/* The wait before retry number attempt (1 = the first retry). */
uint32_t dray_retry_delay_ms(const struct dray_retry *r, int attempt,
                             uint32_t retry_after_ms);

/* What a classifier says of one try. */
enum {
    DRAY_HTTP_DONE = 0,  /* success: stop */
    DRAY_HTTP_RETRY = 1, /* transient: try again after a back-off */
    DRAY_HTTP_FAIL = 2   /* permanent: stop with this response */
};

/* The default classifier: 2xx done; transport CONNECT, TIMEOUT, RESET and
   statuses 408, 429, 500, 502, 503, 504 retry; the rest fail. */
int dray_http_classify_default(const struct dray_http_response *resp);

/* Seconds of a Retry-After header (delta-seconds form) in ms, or 0. */
uint32_t dray_http_retry_after_ms(const struct dray_http_response *resp);

/*
 * A request with retries. Before each try prepare() (optional) may rebuild
 * the request (a fresh signature and date; it may change headers and url,
 * not the body); classify() (optional, default dray_http_classify_default)
 * judges each response. A callback body is never retried. Returns what
 * dray_http_perform returned for the last try (0 or -1; -2 out of memory;
 * -3 when prepare failed, with its message in resp->error), with that
 * try's response in resp and the number of tries in *tries (optional).
 * The caller then looks at resp (status, body) for the outcome.
 */
struct dray_http_call {
    struct dray_http_request req;
    const struct dray_retry *retry; /* NULL: the defaults */
    int (*prepare)(void *ctx, struct dray_http_request *req, int attempt,
                   char *err, size_t errlen);
    int (*classify)(void *ctx, const struct dray_http_response *resp);
    void *ctx;
};
int dray_http_call(struct dray_http *h, struct dray_http_call *call,
                   struct dray_http_response *resp, int *tries);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_HTTP_H */

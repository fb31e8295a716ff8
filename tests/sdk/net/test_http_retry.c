/*
 * test_http_retry.c - the retry arithmetic of dray_http.h without a
 * network: back-off bounds with an injected random source, Retry-After,
 * the default classifier, and response header lookup.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dray/dray_http.h"
#include "unit.h"

/* Hands out the value in ctx as the "random" number. */
static uint32_t fixed_rand(void *ctx)
{
    return *(const uint32_t *)ctx;
}

/* base 100, cap 5000: the expected d for attempts 1..10, written out. */
static const uint32_t expected_d[10] = {100,  200,  400,  800,  1600,
                                        3200, 5000, 5000, 5000, 5000};

static void test_delay_bounds(void)
{
    uint32_t value = 0;
    struct dray_retry r = {0, 100, 5000, NULL, fixed_rand, &value};

    for (int n = 1; n <= 10; n++) {
        uint32_t d = expected_d[n - 1];
        value = 0;
        CHECK_INT(dray_retry_delay_ms(&r, n, 0), d / 2);
        value = UINT32_MAX;
        CHECK_INT(dray_retry_delay_ms(&r, n, 0), d);
        value = UINT32_MAX / 2;
        uint32_t mid = dray_retry_delay_ms(&r, n, 0);
        CHECK(mid >= d / 2 && mid <= d);
        CHECK(mid > d / 2 && mid < d); /* strictly inside at the midpoint */
    }
}

static void test_delay_real_rand(void)
{
    struct dray_retry r = {0, 100, 5000, NULL, NULL, NULL};
    int differ = 0;
    uint32_t first = dray_retry_delay_ms(&r, 10, 0);

    for (int i = 0; i < 200; i++) {
        uint32_t v = dray_retry_delay_ms(&r, 10, 0);
        CHECK(v >= 2500 && v <= 5000);
        differ += v != first;
    }
    CHECK(differ > 0); /* it is jitter, not a constant */
}

static void test_delay_defaults(void)
{
    uint32_t value = UINT32_MAX;
    struct dray_retry r = {0, 0, 0, NULL, fixed_rand, &value};

    /* base 200, cap 20000 */
    CHECK_INT(dray_retry_delay_ms(&r, 1, 0), 200);
    CHECK_INT(dray_retry_delay_ms(&r, 3, 0), 800);
    CHECK_INT(dray_retry_delay_ms(&r, 8, 0), 20000);
    value = 0;
    CHECK_INT(dray_retry_delay_ms(&r, 1, 0), 100);
    for (int i = 0; i < 50; i++) {
        uint32_t v = dray_retry_delay_ms(NULL, 2, 0);
        CHECK(v >= 200 && v <= 400);
    }
}

static void test_delay_cap(void)
{
    uint32_t value = UINT32_MAX;
    struct dray_retry r = {0, 1000, 3000, NULL, fixed_rand, &value};

    CHECK_INT(dray_retry_delay_ms(&r, 2, 0), 2000);
    CHECK_INT(dray_retry_delay_ms(&r, 3, 0), 3000);
    CHECK_INT(dray_retry_delay_ms(&r, 40, 0), 3000);
    CHECK_INT(dray_retry_delay_ms(&r, 1000000, 0), 3000);
    CHECK_INT(dray_retry_delay_ms(&r, INT32_MAX, 0), 3000);
    /* a large base is capped at once */
    struct dray_retry big = {0,    UINT32_MAX, UINT32_MAX,
                             NULL, fixed_rand, &value};
    CHECK_INT(dray_retry_delay_ms(&big, 5, 0), UINT32_MAX);
    /* never zero, even where d/2 would be */
    struct dray_retry tiny = {0, 1, 1, NULL, fixed_rand, &value};
    value = 0;
    CHECK_INT(dray_retry_delay_ms(&tiny, 1, 0), 1);
}

static void test_retry_after(void)
{
    uint32_t value = 0;
    struct dray_retry r = {0, 100, 5000, NULL, fixed_rand, &value};

    /* longer than the back-off: taken as it is */
    CHECK_INT(dray_retry_delay_ms(&r, 1, 3000), 3000);
    CHECK_INT(dray_retry_delay_ms(&r, 1, 19000), 19000);
    /* capped at cap * 4 */
    CHECK_INT(dray_retry_delay_ms(&r, 1, 21000), 20000);
    CHECK_INT(dray_retry_delay_ms(&r, 1, UINT32_MAX), 20000);
    /* shorter than the back-off: the back-off wins */
    CHECK_INT(dray_retry_delay_ms(&r, 6, 1000), 1600);
}

static void test_classify(void)
{
    static const struct {
        int transport;
        long status;
        int want;
    } cases[] = {
        {DRAY_HTTP_T_OK, 200, DRAY_HTTP_DONE},
        {DRAY_HTTP_T_OK, 204, DRAY_HTTP_DONE},
        {DRAY_HTTP_T_OK, 206, DRAY_HTTP_DONE},
        {DRAY_HTTP_T_OK, 299, DRAY_HTTP_DONE},
        {DRAY_HTTP_T_OK, 100, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_OK, 301, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_OK, 304, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_OK, 400, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_OK, 403, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_OK, 404, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_OK, 408, DRAY_HTTP_RETRY},
        {DRAY_HTTP_T_OK, 409, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_OK, 429, DRAY_HTTP_RETRY},
        {DRAY_HTTP_T_OK, 500, DRAY_HTTP_RETRY},
        {DRAY_HTTP_T_OK, 501, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_OK, 502, DRAY_HTTP_RETRY},
        {DRAY_HTTP_T_OK, 503, DRAY_HTTP_RETRY},
        {DRAY_HTTP_T_OK, 504, DRAY_HTTP_RETRY},
        {DRAY_HTTP_T_OK, 505, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_CONNECT, 0, DRAY_HTTP_RETRY},
        {DRAY_HTTP_T_TIMEOUT, 0, DRAY_HTTP_RETRY},
        {DRAY_HTTP_T_RESET, 0, DRAY_HTTP_RETRY},
        {DRAY_HTTP_T_TLS, 0, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_TOO_LARGE, 0, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_CANCELLED, 0, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_BODY, 0, DRAY_HTTP_FAIL},
        {DRAY_HTTP_T_OTHER, 0, DRAY_HTTP_FAIL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
        resp.transport = cases[i].transport;
        resp.status = cases[i].status;
        int got = dray_http_classify_default(&resp);
        if (got != cases[i].want)
            UNIT_FAIL_AT("transport %d status %ld: %d, expected %d",
                         cases[i].transport, cases[i].status, got,
                         cases[i].want);
    }
}

/* A response whose headers are the given "name: value\n" lines. */
static void with_headers(struct dray_http_response *resp, const char *lines)
{
    dray_buf_reset(&resp->headers);
    dray_buf_add(&resp->headers, lines, strlen(lines));
}

static void test_retry_after_parse(void)
{
    static const struct {
        const char *headers;
        uint32_t want;
    } cases[] = {
        {"", 0},
        {"Content-Length: 0\n", 0},
        {"Retry-After: 5\n", 5000},
        {"retry-after:7\n", 7000},
        {"Content-Type: text/xml\nRETRY-AFTER:   12  \nX: y\n", 12000},
        {"Retry-After: 0\n", 0},
        {"Retry-After: soon\n", 0},
        {"Retry-After: 5x\n", 0},
        {"Retry-After: -1\n", 0},
        {"Retry-After: 1.5\n", 0},
        {"Retry-After: \n", 0},
        {"Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\n", 0},
        {"Retry-After-Not: 5\n", 0},
        {"Retry-After: 4294967\n", 4294967000u},
        {"Retry-After: 4294968\n", UINT32_MAX},
        {"Retry-After: 99999999999999999999999999\n", UINT32_MAX},
    };
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;

    CHECK_INT(dray_http_retry_after_ms(&resp), 0); /* no headers at all */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        with_headers(&resp, cases[i].headers);
        uint32_t got = dray_http_retry_after_ms(&resp);
        if (got != cases[i].want)
            UNIT_FAIL_AT("%s: %u, expected %u", cases[i].headers, got,
                         cases[i].want);
    }
    dray_http_response_release(&resp);
}

static void test_header_lookup(void)
{
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    char buf[16], small[4];

    CHECK(dray_http_response_header(&resp, "ETag", buf, sizeof(buf)) == NULL);
    with_headers(&resp, "ETag: \"abc\"\nx-amz-request-id:\t R1 \t\n"
                        "Empty:\nEtag: second\n");
    CHECK_STR(dray_http_response_header(&resp, "etag", buf, sizeof(buf)),
              "\"abc\"");
    CHECK_STR(
        dray_http_response_header(&resp, "X-Amz-Request-Id", buf, sizeof(buf)),
        "R1");
    CHECK_STR(dray_http_response_header(&resp, "empty", buf, sizeof(buf)), "");
    CHECK(dray_http_response_header(&resp, "x-amz", buf, sizeof(buf)) == NULL);
    CHECK(dray_http_response_header(&resp, "Missing", buf, sizeof(buf)) ==
          NULL);
    CHECK_STR(dray_http_response_header(&resp, "ETag", small, sizeof(small)),
              "\"ab");
    dray_http_response_release(&resp);
}

static int fail_prepare(void *ctx, struct dray_http_request *req, int attempt,
                        char *err, size_t errlen)
{
    (void)ctx, (void)req, (void)attempt;
    snprintf(err, errlen, "no credentials: set AWS_PROFILE");
    return -1;
}

/* prepare's failure ends the call before any network traffic. */
static void test_call_prepare_fails(void)
{
    struct dray_http *h = NULL;
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_http_call call;
    char err[128];
    int tries = 0;

    CHECK_INT(dray_http_new(&h, NULL, err, sizeof(err)), 0);
    memset(&call, 0, sizeof(call));
    call.req.method = "GET";
    call.req.url = "http://127.0.0.1:9/";
    call.req.body.fd = -1;
    call.prepare = fail_prepare;
    CHECK_INT(dray_http_call(h, &call, &resp, &tries), -3);
    CHECK_INT(tries, 1);
    CHECK_STR(resp.error, "no credentials: set AWS_PROFILE");
    CHECK_INT(resp.status, 0);
    dray_http_response_release(&resp);
    dray_http_free(h);
}

/* Malformed requests are refused before curl sees them. */
static void test_perform_refuses(void)
{
    struct dray_http *h = NULL;
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_http_header bad = {"X-Bad", "a\r\nInjected: 1"};
    struct dray_http_request req = {"GET", "http://127.0.0.1:9/", NULL,
                                    0,     DRAY_HTTP_BODY_NONE,   NULL};
    char err[128];

    CHECK_INT(dray_http_new(&h, NULL, err, sizeof(err)), 0);
    req.headers = &bad;
    req.n_headers = 1;
    CHECK_INT(dray_http_perform(h, &req, &resp), -1);
    CHECK_INT(resp.transport, DRAY_HTTP_T_OTHER);
    CHECK_CONTAINS(resp.error, "line break");
    req.n_headers = 0;
    req.method = "get";
    CHECK_INT(dray_http_perform(h, &req, &resp), -1);
    CHECK_CONTAINS(resp.error, "method");
    req.method = "PUT";
    req.body.len = -1; /* chunked needs a callback */
    CHECK_INT(dray_http_perform(h, &req, &resp), -1);
    CHECK_CONTAINS(resp.error, "callback");
    dray_http_response_release(&resp);
    dray_http_free(h);
}

static void test_new_checks_ca_bundle(void)
{
    struct dray_http *h = NULL;
    struct dray_http_opts opts = {0};
    char err[256];

    opts.ca_bundle = "/nonexistent/dray-ca.pem";
    CHECK_INT(dray_http_new(&h, &opts, err, sizeof(err)), -1);
    CHECK(h == NULL);
    CHECK_CONTAINS(err, "/nonexistent/dray-ca.pem");
}

UNIT_MAIN(UNIT_CASE(test_delay_bounds), UNIT_CASE(test_delay_real_rand),
          UNIT_CASE(test_delay_defaults), UNIT_CASE(test_delay_cap),
          UNIT_CASE(test_retry_after), UNIT_CASE(test_classify),
          UNIT_CASE(test_retry_after_parse), UNIT_CASE(test_header_lookup),
          UNIT_CASE(test_call_prepare_fails), UNIT_CASE(test_perform_refuses),
          UNIT_CASE(test_new_checks_ca_bundle))

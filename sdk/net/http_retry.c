/*
 * http_retry.c - dray_http_call(): a request tried again after transient
 * failures, with capped exponential back-off and equal jitter.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dray/dray_http.h"
#include "net_internal.h"

#define DEFAULT_ATTEMPTS 5
#define DEFAULT_BASE_MS 200u
#define DEFAULT_CAP_MS 20000u
/* The real sleep wakes this often to poll opts.cancel. */
#define SLEEP_SLICE_MS 100u

/* ---- the default random source ------------------------------------------ */

/* A process-wide splitmix64 sequence over an atomic counter: seeded once
   from the kernel, so processes started together do not back off in step;
   lock-free, so any thread may draw from it. */
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;
static _Atomic uint64_t rand_state;

static void seed_rand(void)
{
    uint64_t seed = 0;
    ssize_t got = getrandom(&seed, sizeof(seed), GRND_NONBLOCK);

    if (got != (ssize_t)sizeof(seed)) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            got = read(fd, &seed, sizeof(seed));
            close(fd);
        }
        if (got != (ssize_t)sizeof(seed)) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
                   ((uint64_t)getpid() << 40);
        }
    }
    atomic_store(&rand_state, seed);
}

static uint32_t default_rand32(void)
{
    uint64_t z;

    pthread_once(&seed_once, seed_rand);
    z = atomic_fetch_add(&rand_state, UINT64_C(0x9e3779b97f4a7c15)) +
        UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    return (uint32_t)(z >> 32);
}

/* ---- back-off ----------------------------------------------------------- */

uint32_t dray_retry_delay_ms(const struct dray_retry *r, int attempt,
                             uint32_t retry_after_ms)
{
    uint32_t base = r != NULL && r->base_ms ? r->base_ms : DEFAULT_BASE_MS;
    uint32_t cap = r != NULL && r->cap_ms ? r->cap_ms : DEFAULT_CAP_MS;
    uint64_t d = base, half, wait, ra_cap;
    uint32_t rnd;
    int i;

    for (i = 1; i < attempt && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    rnd = r != NULL && r->rand32 != NULL ? r->rand32(r->hook_ctx)
                                         : default_rand32();
    /* [d/2, d], both ends reachable: 0 gives d/2, UINT32_MAX gives d. */
    half = d / 2;
    wait = half + (d - half) * rnd / UINT32_MAX;
    if (wait == 0)
        wait = 1;
    ra_cap = (uint64_t)cap * 4;
    if (retry_after_ms > wait)
        wait = retry_after_ms < ra_cap ? retry_after_ms : ra_cap;
    return wait > UINT32_MAX ? UINT32_MAX : (uint32_t)wait;
}

/* ---- classification ----------------------------------------------------- */

int dray_http_classify_default(const struct dray_http_response *resp)
{
    switch (resp->transport) {
    case DRAY_HTTP_T_OK:
        break;
    case DRAY_HTTP_T_CONNECT:
    case DRAY_HTTP_T_TIMEOUT:
    case DRAY_HTTP_T_RESET:
        return DRAY_HTTP_RETRY;
    default:
        return DRAY_HTTP_FAIL;
    }
    if (resp->status >= 200 && resp->status <= 299)
        return DRAY_HTTP_DONE;
    switch (resp->status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
        return DRAY_HTTP_RETRY;
    }
    return DRAY_HTTP_FAIL;
}

uint32_t dray_http_retry_after_ms(const struct dray_http_response *resp)
{
    char v[32];
    const char *p;
    uint64_t secs = 0;

    if (dray_http_response_header(resp, "Retry-After", v, sizeof(v)) == NULL ||
        v[0] == '\0')
        return 0;
    /* Only the delta-seconds form: an HTTP date needs a trustworthy clock,
       and S3 does not send one. */
    for (p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        if (secs < UINT32_MAX)
            secs = secs * 10 + (uint64_t)(*p - '0');
    }
    secs *= 1000;
    return secs > UINT32_MAX ? UINT32_MAX : (uint32_t)secs;
}

/* ---- the loop ----------------------------------------------------------- */

/* Sleeps ms, in slices, and returns non-zero as soon as cancel asks. */
static int real_sleep(struct dray_http *h, uint32_t ms)
{
    while (ms > 0) {
        uint32_t slice = ms < SLEEP_SLICE_MS ? ms : SLEEP_SLICE_MS;
        struct timespec ts = {0, (long)slice * 1000000L};

        if (dray__http_cancelled(h))
            return 1;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        ms -= slice;
    }
    return dray__http_cancelled(h);
}

/*
 * Besides the classifier, three things end the loop: a callback body
 * (it cannot be read twice), a try that already passed bytes to the
 * response sink (they cannot be taken back), and a cancel.
 */
int dray_http_call(struct dray_http *h, struct dray_http_call *call,
                   struct dray_http_response *resp, int *tries)
{
    static const struct dray_retry defaults;
    const struct dray_retry *r = call->retry ? call->retry : &defaults;
    int max = r->max_attempts > 0 ? r->max_attempts : DEFAULT_ATTEMPTS;
    int attempt, rc, verdict;
    char err[sizeof(resp->error)];

    for (attempt = 1;; attempt++) {
        if (tries != NULL)
            *tries = attempt;
        if (call->prepare != NULL) {
            err[0] = '\0';
            if (call->prepare(call->ctx, &call->req, attempt, err,
                              sizeof(err)) != 0) {
                resp->status = 0;
                resp->transport = DRAY_HTTP_T_OTHER;
                resp->sink_error = 0;
                dray_buf_reset(&resp->body);
                dray_buf_reset(&resp->headers);
                snprintf(resp->error, sizeof(resp->error), "%s",
                         err[0] ? err : "preparing the request failed");
                return -3;
            }
        }
        rc = dray_http_perform(h, &call->req, resp);
        if (rc == -2)
            return rc;
        verdict = call->classify != NULL ? call->classify(call->ctx, resp)
                                         : dray_http_classify_default(resp);
        if (verdict != DRAY_HTTP_RETRY || attempt >= max ||
            call->req.body.read != NULL || dray__http_sink_bytes(h) > 0 ||
            resp->transport == DRAY_HTTP_T_CANCELLED)
            return rc;
        uint32_t ms =
            dray_retry_delay_ms(r, attempt, dray_http_retry_after_ms(resp));
        if (r->sleep_ms != NULL ? r->sleep_ms(r->hook_ctx, ms) != 0
                                : real_sleep(h, ms) != 0)
            return rc; /* cancelled while waiting: the last try stands */
    }
}

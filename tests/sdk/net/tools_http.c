/*
 * tools_http.c - a command-line driver of dray_http.h, run by
 * http_client.py against http_peer.py.
 *
 * usage: tools_http [options] URL
 *   -X METHOD            method (GET)
 *   -H 'Name: value'     a request header; -R Name removes one of curl's
 *   --data TEXT          memory body
 *   --data-file PATH     the whole file as a memory body
 *   --file PATH OFF LEN  a file range body (pread)
 *   --cb PATH            callback body of the file's length
 *   --cb-chunked PATH    callback body of unknown length (chunked)
 *   --cb-fail-at N       the callback fails once N bytes were given
 *   --max N              max_response_bytes
 *   --sink               2xx bodies to a sink that counts and hashes
 *   --sink-fail-at N     the sink fails (-7) once N bytes arrived
 *   --connect-ms N, --timeout-ms N, --stall-ms N, --ca PATH
 *   --repeat N           N requests on one handle; the last is reported
 *   --call               through dray_http_call (prepare adds X-Attempt)
 *   --attempts N, --base-ms N, --cap-ms N
 *   --fake-sleep         back-off sleeps are recorded, not slept
 *   --cancel-after-ms N  opts.cancel turns true N ms after the start
 *   --show-header NAME   report a response header
 *
 * Prints "key value" lines (rc, status, transport, tries, error, sink_*,
 * body_len, body_sha256, sleeps, header), then "body" and the raw body.
 * Exits 0 when it ran, whatever the outcome; 2 on bad usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dray/dray_http.h"

#define MAX_HEADERS 32
#define MAX_SLEEPS 32

struct hasher {
    EVP_MD_CTX *md;
    int64_t bytes;
    int64_t fail_at; /* -1: never */
};

static void hasher_init(struct hasher *hs, int64_t fail_at)
{
    hs->md = EVP_MD_CTX_new();
    if (hs->md == NULL || EVP_DigestInit_ex(hs->md, EVP_sha256(), NULL) != 1) {
        fprintf(stderr, "tools_http: sha256 set-up failed\n");
        exit(2);
    }
    hs->bytes = 0;
    hs->fail_at = fail_at;
}

static void hasher_hex(struct hasher *hs, char out[65])
{
    unsigned char d[32];
    unsigned int n = 0;

    EVP_DigestFinal_ex(hs->md, d, &n);
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
    EVP_MD_CTX_free(hs->md);
    hs->md = NULL;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    struct hasher hs;

    hasher_init(&hs, -1);
    EVP_DigestUpdate(hs.md, p, n);
    hasher_hex(&hs, out);
}

static int sink_write(void *ctx, const void *data, size_t len)
{
    struct hasher *hs = ctx;

    if (hs->fail_at >= 0 && hs->bytes + (int64_t)len >= hs->fail_at)
        return -7;
    EVP_DigestUpdate(hs->md, data, len);
    hs->bytes += (int64_t)len;
    return 0;
}

struct cb_src {
    int fd;
    int64_t given;
    int64_t fail_at;
};

static int64_t cb_read(void *ctx, char *buf, size_t n)
{
    struct cb_src *s = ctx;
    ssize_t got;

    if (s->fail_at >= 0 && s->given >= s->fail_at)
        return -1;
    got = read(s->fd, buf, n);
    if (got > 0)
        s->given += got;
    return got < 0 ? -1 : got;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct canceller {
    int64_t at; /* monotonic ms */
};

static int cancel_cb(void *ctx)
{
    return now_ms() >= ((struct canceller *)ctx)->at;
}

struct sleeps {
    uint32_t ms[MAX_SLEEPS];
    int n;
};

static int fake_sleep(void *ctx, uint32_t ms)
{
    struct sleeps *s = ctx;

    if (s->n < MAX_SLEEPS)
        s->ms[s->n++] = ms;
    return 0;
}

struct prep {
    struct dray_http_header headers[MAX_HEADERS + 1];
    size_t n; /* the caller's */
    char attempt[16];
};

/* Adds "X-Attempt: n", as a signer would add a fresh date. */
static int prepare(void *ctx, struct dray_http_request *req, int attempt,
                   char *err, size_t errlen)
{
    struct prep *p = ctx;

    (void)err, (void)errlen;
    snprintf(p->attempt, sizeof(p->attempt), "%d", attempt);
    p->headers[p->n].name = "X-Attempt";
    p->headers[p->n].value = p->attempt;
    req->headers = p->headers;
    req->n_headers = p->n + 1;
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;
    long n;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)n + 1)) == NULL ||
        fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "tools_http: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static int open_file(const char *path)
{
    int fd = open(path, O_RDONLY);

    if (fd < 0) {
        fprintf(stderr, "tools_http: cannot open %s\n", path);
        exit(2);
    }
    return fd;
}

static void usage(void)
{
    fprintf(stderr, "usage: tools_http [options] URL (see the source)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct dray_http_opts opts = {0};
    struct dray_http_request req = {"GET", NULL, NULL, 0, DRAY_HTTP_BODY_NONE,
                                    NULL};
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_retry retry = {0};
    struct dray_http_call call;
    struct prep prep;
    struct sleeps sleeps = {{0}, 0};
    struct canceller canceller;
    struct hasher sink_hash;
    struct dray_sink sink = {sink_write, NULL, &sink_hash};
    struct cb_src cb = {-1, 0, -1};
    struct dray_http *h = NULL;
    char *header_text[MAX_HEADERS] = {0};
    char *mem = NULL, sha[65], hval[1024], err[256];
    const char *show = NULL;
    int use_sink = 0, use_call = 0, repeat = 1, tries = 1, rc = 0, file_fd = -1;
    int64_t sink_fail_at = -1;
    size_t mem_len = 0;

    memset(&prep, 0, sizeof(prep));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEXT() (v != NULL ? (i++, v) : (usage(), ""))
        if (strcmp(a, "-X") == 0) {
            req.method = NEXT();
        } else if (strcmp(a, "-H") == 0 || strcmp(a, "-R") == 0) {
            const char *hv = NEXT();
            char *copy, *colon;
            if (prep.n >= MAX_HEADERS)
                usage();
            copy = header_text[prep.n] = strdup(hv);
            if (copy == NULL)
                usage();
            colon = strchr(copy, ':');
            prep.headers[prep.n].name = copy;
            prep.headers[prep.n].value = NULL;
            if (a[1] == 'H') {
                if (colon == NULL)
                    usage();
                *colon = '\0';
                for (colon++; *colon == ' '; colon++)
                    ;
                prep.headers[prep.n].value = colon;
            }
            prep.n++;
        } else if (strcmp(a, "--data") == 0) {
            req.body.data = NEXT();
            req.body.len = (int64_t)strlen(req.body.data);
        } else if (strcmp(a, "--data-file") == 0) {
            mem = read_file(NEXT(), &mem_len);
            req.body.data = mem;
            req.body.len = (int64_t)mem_len;
        } else if (strcmp(a, "--file") == 0) {
            if (i + 3 >= argc)
                usage();
            file_fd = req.body.fd = open_file(argv[++i]);
            req.body.offset = strtoll(argv[++i], NULL, 10);
            req.body.len = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(a, "--cb") == 0 || strcmp(a, "--cb-chunked") == 0) {
            struct stat st;
            cb.fd = open_file(NEXT());
            if (fstat(cb.fd, &st) != 0)
                usage();
            req.body.read = cb_read;
            req.body.read_ctx = &cb;
            req.body.len = strcmp(a, "--cb") == 0 ? (int64_t)st.st_size : -1;
        } else if (strcmp(a, "--cb-fail-at") == 0) {
            cb.fail_at = strtoll(NEXT(), NULL, 10);
        } else if (strcmp(a, "--max") == 0) {
            opts.max_response_bytes = strtoull(NEXT(), NULL, 10);
        } else if (strcmp(a, "--sink") == 0) {
            use_sink = 1;
        } else if (strcmp(a, "--sink-fail-at") == 0) {
            sink_fail_at = strtoll(NEXT(), NULL, 10);
        } else if (strcmp(a, "--connect-ms") == 0) {
            opts.connect_timeout_ms = strtoll(NEXT(), NULL, 10);
        } else if (strcmp(a, "--timeout-ms") == 0) {
            opts.timeout_ms = strtoll(NEXT(), NULL, 10);
        } else if (strcmp(a, "--stall-ms") == 0) {
            opts.stall_timeout_ms = strtoll(NEXT(), NULL, 10);
        } else if (strcmp(a, "--ca") == 0) {
            opts.ca_bundle = NEXT();
        } else if (strcmp(a, "--repeat") == 0) {
            repeat = atoi(NEXT());
        } else if (strcmp(a, "--call") == 0) {
            use_call = 1;
        } else if (strcmp(a, "--attempts") == 0) {
            retry.max_attempts = atoi(NEXT());
        } else if (strcmp(a, "--base-ms") == 0) {
            retry.base_ms = (uint32_t)strtoul(NEXT(), NULL, 10);
        } else if (strcmp(a, "--cap-ms") == 0) {
            retry.cap_ms = (uint32_t)strtoul(NEXT(), NULL, 10);
        } else if (strcmp(a, "--fake-sleep") == 0) {
            retry.sleep_ms = fake_sleep;
            retry.hook_ctx = &sleeps;
        } else if (strcmp(a, "--cancel-after-ms") == 0) {
            canceller.at = now_ms() + strtoll(NEXT(), NULL, 10);
            opts.cancel = cancel_cb;
            opts.cancel_ctx = &canceller;
        } else if (strcmp(a, "--show-header") == 0) {
            show = NEXT();
        } else if (a[0] == '-' || req.url != NULL) {
            usage();
        } else {
            req.url = a;
        }
#undef NEXT
    }
    if (req.url == NULL)
        usage();
    req.headers = prep.headers;
    req.n_headers = prep.n;
    hasher_init(&sink_hash, sink_fail_at);
    if (use_sink)
        req.sink = &sink;

    rc = dray_http_new(&h, &opts, err, sizeof(err));
    if (rc != 0) {
        printf("new %d\nerror %s\n", rc, err);
        goto done;
    }
    for (int n = 1; n <= repeat; n++) {
        if (use_call) {
            memset(&call, 0, sizeof(call));
            call.req = req;
            call.retry = &retry;
            call.prepare = prepare;
            call.ctx = &prep;
            rc = dray_http_call(h, &call, &resp, &tries);
        } else {
            rc = dray_http_perform(h, &req, &resp);
        }
        if (n < repeat && (rc != 0 || resp.status != 200)) {
            printf("repeat_failed_at %d\n", n);
            break;
        }
    }
    printf("rc %d\nstatus %ld\ntransport %d\ntries %d\nerror %s\n", rc,
           resp.status, resp.transport, tries, resp.error);
    hasher_hex(&sink_hash, sha);
    printf("sink_bytes %lld\nsink_sha256 %s\nsink_error %d\n",
           (long long)sink_hash.bytes, sha, resp.sink_error);
    sha256_hex(resp.body.data ? resp.body.data : "", resp.body.len, sha);
    printf("body_len %zu\nbody_sha256 %s\n", resp.body.len, sha);
    printf("sleeps");
    for (int i = 0; i < sleeps.n; i++)
        printf("%c%u", i ? ',' : ' ', sleeps.ms[i]);
    printf("\n");
    if (show != NULL)
        printf("header %s\n",
               dray_http_response_header(&resp, show, hval, sizeof(hval))
                   ? hval
                   : "(absent)");
    printf("body\n");
    fflush(stdout);
    if (resp.body.len > 0)
        fwrite(resp.body.data, 1, resp.body.len, stdout);
    rc = 0;
done:
    if (sink_hash.md != NULL)
        EVP_MD_CTX_free(sink_hash.md);
    dray_http_response_release(&resp);
    dray_http_free(h);
    for (size_t i = 0; i < MAX_HEADERS; i++)
        free(header_text[i]);
    free(mem);
    if (file_fd >= 0)
        close(file_fd);
    if (cb.fd >= 0)
        close(cb.fd);
    return rc == 0 ? 0 : 1;
}

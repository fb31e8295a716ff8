/*
 * tools_s3.c - a command-line driver of the SDK's S3 client, for
 * tests/s3/s3_client.py against moto and the fault proxy.
 *
 *   net_tools_s3 [options] COMMAND ARGS...
 *     put BUCKET KEY [FILE]      the body from FILE (sent from the file) or
 *                                stdin (from memory)
 *     get BUCKET KEY             the object's bytes to stdout
 *     delete BUCKET KEY
 *     list BUCKET [PREFIX]       "HEXKEY SIZE ETAG" lines
 *     mpu-create BUCKET KEY      the upload id
 *     mpu-part BUCKET KEY ID N FILE   the part's ETag
 *     mpu-complete BUCKET KEY ID ETAG...
 *     mpu-abort BUCKET KEY ID
 *     mpu-list BUCKET [PREFIX]   "HEXKEY UPLOADID" lines
 *     write BUCKET KEY N [SEED]  N bytes of the test pattern (or stdin when
 *                                N is "-") through the streaming writer,
 *                                in writes of assorted sizes
 *     write-abort BUCKET KEY N   the same, then abort instead of commit
 *     write-many BUCKET PREFIX K N   K objects PREFIX0.. of N pattern bytes
 *                                (seeds 1..K), one writer after another
 *   options: --endpoint URL --region R --virtual --page-size N
 *            --attempts N --retry-base MS --part-size BYTES --tmp-dir DIR
 *            --content-type T --checksum crc32|none (the writer's)
 *            --lend (writers borrow the driver's client)
 *
 * Credentials come from the default chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY in the tests). The outcome goes to stderr as
 *   RESULT rc=0
 *   RESULT rc=-1 status=403 code=X retryable=0 config=1
 *   MESSAGE ...
 * and the exit status is 0, 3 (the operation failed) or 2 (bad usage or
 * set-up); not 1, which is a sanitizer's.
 *
 * The pattern: a block of PATTERN_PERIOD bytes, byte i the high bits of an
 * LCG step from SEED, repeated; the period is no divisor of any part size,
 * so parts out of order would change the bytes (s3_client.py makes the
 * same).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dray/dray_s3.h"
#include "net_internal.h"

#define PATTERN_PERIOD 1048573

static struct dray_s3_opts opts;
static struct dray_retry retry;
static struct dray_s3_writer_opts wopts;
static int page_size;
static const char *content_type;
static int lend;

static int report(int rc, const struct dray_s3_error *e)
{
    if (rc == 0) {
        fprintf(stderr, "RESULT rc=0\n");
        return 0;
    }
    fprintf(stderr, "RESULT rc=%d status=%d code=%s retryable=%d config=%d\n",
            rc, e->status, e->code, e->retryable, e->config);
    fprintf(stderr, "MESSAGE %s\n", e->message);
    return 3;
}

static int usage(void)
{
    fprintf(stderr, "usage: net_tools_s3 [options] COMMAND ARGS... (see the "
                    "source)\n");
    return 2;
}

static int stdout_write(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static void put_hex(const char *s)
{
    for (; *s; s++)
        printf("%02x", (unsigned char)*s);
}

static int print_object(void *ctx, const struct dray_s3_object *o)
{
    (void)ctx;
    put_hex(o->key);
    printf(" %lld %s\n", (long long)o->size, o->etag);
    return 0;
}

static int print_upload(void *ctx, const struct dray_s3_upload *u)
{
    (void)ctx;
    put_hex(u->key);
    printf(" %s\n", u->upload_id);
    return 0;
}

/* All of stdin in memory. */
static int read_stdin(struct dray_buf *b)
{
    char chunk[65536];
    size_t n;

    dray_buf_add(b, "", 0);
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if (dray_buf_add(b, chunk, n) != 0)
            return -1;
    return ferror(stdin) ? -1 : 0;
}

static int cmd_put(struct dray_s3 *s3, char **a, int n)
{
    struct dray_http_body body = DRAY_HTTP_BODY_NONE;
    struct dray_buf data = DRAY_BUF_INIT;
    struct dray_s3_error e;
    struct stat st;
    int rc, fd = -1;

    if (n == 3) {
        if ((fd = open(a[2], O_RDONLY)) < 0 || fstat(fd, &st) != 0) {
            perror(a[2]);
            return 2;
        }
        body.fd = fd;
        body.len = st.st_size;
    } else {
        if (read_stdin(&data) != 0)
            return 2;
        body.data = data.data;
        body.len = (int64_t)data.len;
    }
    rc = dray_s3_put_object(s3, a[0], a[1], &body, content_type, &e);
    if (fd >= 0)
        close(fd);
    dray_buf_release(&data);
    return report(rc, &e);
}

/* ---- the writer --------------------------------------------------------- */

static unsigned char *pattern(unsigned seed)
{
    unsigned char *p = malloc(PATTERN_PERIOD);
    uint32_t x = seed;

    if (p == NULL)
        return NULL;
    for (size_t i = 0; i < PATTERN_PERIOD; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (unsigned char)(x >> 16);
    }
    return p;
}

/* Writes n bytes of the pattern (stdin when n < 0) in writes of assorted
   sizes, so that writes straddle the part boundaries. */
static int feed(struct dray_sink *sink, long long n, unsigned seed)
{
    static const size_t sizes[] = {1, 7, 4096, 65539, 1000003, 13, 300000};
    unsigned char *p;
    long long off = 0;
    size_t k = 0;

    if (n < 0) {
        char chunk[65536];
        size_t got;

        while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            if (sink->write(sink->ctx, chunk, got) != 0)
                return -1;
        return 0;
    }
    if ((p = pattern(seed)) == NULL)
        return -1;
    while (off < n) {
        size_t at = (size_t)(off % PATTERN_PERIOD);
        size_t len = sizes[k++ % (sizeof(sizes) / sizeof(sizes[0]))];

        if (len > PATTERN_PERIOD - at)
            len = PATTERN_PERIOD - at;
        if ((long long)len > n - off)
            len = (size_t)(n - off);
        if (sink->write(sink->ctx, p + at, len) != 0) {
            free(p);
            return -1;
        }
        off += (long long)len;
    }
    free(p);
    return 0;
}

static int count_upload(void *ctx, const struct dray_s3_upload *u)
{
    (void)u;
    (*(int *)ctx)++;
    return 0;
}

static int cmd_write(struct dray_s3 *s3, char **a, int n, int commit)
{
    struct dray_s3_writer *w;
    struct dray_s3_error e;
    struct dray_sink sink;
    long long bytes = strcmp(a[2], "-") == 0 ? -1 : atoll(a[2]);
    unsigned seed = n > 3 ? (unsigned)strtoul(a[3], NULL, 10) : 1;
    int rc;

    wopts.content_type = content_type;
    if (dray_s3_writer_open(&w, &opts, a[0], a[1], &wopts, &sink, &e) != 0)
        return report(-1, &e);
    if (feed(&sink, bytes, seed) != 0)
        fprintf(stderr, "WRITE failed at %lld bytes\n",
                (long long)dray_s3_writer_bytes(w));
    if (sink.close != NULL && sink.close(sink.ctx) != 0)
        fprintf(stderr, "CLOSE failed\n");
    if (commit) {
        rc = dray_s3_writer_commit(w, &e);
        if (rc == 0) {
            printf("%lld\n", (long long)dray_s3_writer_bytes(w));
        } else {
            /* A failed commit aborts the upload itself: look before the
               abort and free below, which would hide it. */
            struct dray_s3_error le;
            int left = 0;

            if (dray_s3_list_uploads(s3, a[0], a[1], count_upload, &left,
                                     &le) == 0)
                fprintf(stderr, "UPLOADS_AFTER_COMMIT %d\n", left);
        }
        /* Abort after a failed commit must be harmless. */
        dray_s3_writer_abort(w);
    } else {
        dray_s3_writer_abort(w);
        memset(&e, 0, sizeof(e));
        rc = 0;
    }
    dray_s3_writer_free(w);
    return report(rc, &e);
}

static int cmd_write_many(struct dray_s3 *s3, char **a)
{
    int k = atoi(a[2]);
    long long bytes = atoll(a[3]), total = 0;
    char key[1024];
    int rc = 0;

    (void)s3;
    wopts.content_type = content_type;
    for (int i = 0; i < k && rc == 0; i++) {
        struct dray_s3_writer *w;
        struct dray_s3_error e;
        struct dray_sink sink;

        snprintf(key, sizeof(key), "%s%d", a[1], i);
        if (dray_s3_writer_open(&w, &opts, a[0], key, &wopts, &sink, &e) != 0)
            return report(-1, &e);
        if (feed(&sink, bytes, (unsigned)i + 1) != 0 ||
            (sink.close != NULL && sink.close(sink.ctx) != 0))
            fprintf(stderr, "WRITE failed for %s\n", key);
        rc = dray_s3_writer_commit(w, &e);
        total += dray_s3_writer_bytes(w);
        dray_s3_writer_free(w);
        if (rc != 0)
            return report(rc, &e);
    }
    printf("%lld\n", total);
    return report(0, NULL);
}

/* ---- main --------------------------------------------------------------- */

static int run(struct dray_s3 *s3, const char *cmd, char **a, int n)
{
    struct dray_s3_error e;
    struct dray_sink sink = {stdout_write, NULL, NULL};
    char *s = NULL;
    int rc;

    if (strcmp(cmd, "put") == 0 && (n == 2 || n == 3))
        return cmd_put(s3, a, n);
    if (strcmp(cmd, "get") == 0 && n == 2) {
        rc = dray_s3_get_object(s3, a[0], a[1], &sink, &e);
        fflush(stdout);
        return report(rc, &e);
    }
    if (strcmp(cmd, "delete") == 0 && n == 2)
        return report(dray_s3_delete_object(s3, a[0], a[1], &e), &e);
    if (strcmp(cmd, "list") == 0 && (n == 1 || n == 2))
        return report(dray_s3_list_objects(s3, a[0], n == 2 ? a[1] : NULL,
                                           print_object, NULL, &e),
                      &e);
    if (strcmp(cmd, "mpu-list") == 0 && (n == 1 || n == 2))
        return report(dray_s3_list_uploads(s3, a[0], n == 2 ? a[1] : NULL,
                                           print_upload, NULL, &e),
                      &e);
    if (strcmp(cmd, "mpu-create") == 0 && n == 2) {
        rc = dray_s3_mpu_create(s3, a[0], a[1], content_type, &s, &e);
        if (rc == 0)
            printf("%s\n", s);
        free(s);
        return report(rc, &e);
    }
    if (strcmp(cmd, "mpu-part") == 0 && n == 5) {
        struct dray_http_body body = DRAY_HTTP_BODY_NONE;
        struct stat st;
        int fd = open(a[4], O_RDONLY);

        if (fd < 0 || fstat(fd, &st) != 0) {
            perror(a[4]);
            return 2;
        }
        body.fd = fd;
        body.len = st.st_size;
        rc = dray_s3_mpu_upload_part(s3, a[0], a[1], a[2], atoi(a[3]), &body,
                                     NULL, NULL, &s, &e);
        close(fd);
        if (rc == 0)
            printf("%s\n", s);
        free(s);
        return report(rc, &e);
    }
    if (strcmp(cmd, "mpu-complete") == 0 && n >= 4)
        return report(
            dray_s3_mpu_complete(s3, a[0], a[1], a[2], a + 3, n - 3, &e), &e);
    if (strcmp(cmd, "mpu-abort") == 0 && n == 3)
        return report(dray_s3_mpu_abort(s3, a[0], a[1], a[2], &e), &e);
    if (strcmp(cmd, "write") == 0 && (n == 3 || n == 4))
        return cmd_write(s3, a, n, 1);
    if (strcmp(cmd, "write-abort") == 0 && n == 3)
        return cmd_write(s3, a, n, 0);
    if (strcmp(cmd, "write-many") == 0 && n == 4)
        return cmd_write_many(s3, a);
    return usage();
}

int main(int argc, char **argv)
{
    struct dray_aws_cred_provider *creds = NULL;
    struct dray_s3 *s3 = NULL;
    char err[512];
    int i, rc;

    opts.region = "us-east-1";
    opts.path_style = 1;
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(o, "--virtual") == 0) {
            opts.path_style = 0;
            continue;
        }
        if (strcmp(o, "--lend") == 0) {
            lend = 1;
            continue;
        }
        if (v == NULL)
            return usage();
        i++;
        if (strcmp(o, "--endpoint") == 0)
            opts.endpoint = v;
        else if (strcmp(o, "--region") == 0)
            opts.region = v;
        else if (strcmp(o, "--page-size") == 0)
            page_size = atoi(v);
        else if (strcmp(o, "--attempts") == 0)
            retry.max_attempts = atoi(v);
        else if (strcmp(o, "--retry-base") == 0)
            retry.base_ms = (uint32_t)atoi(v);
        else if (strcmp(o, "--part-size") == 0)
            wopts.part_size = (size_t)atoll(v);
        else if (strcmp(o, "--tmp-dir") == 0)
            wopts.tmp_dir = v;
        else if (strcmp(o, "--content-type") == 0)
            content_type = v;
        else if (strcmp(o, "--checksum") == 0 && strcmp(v, "none") == 0)
            wopts.checksum = DRAY_S3_CHECKSUM_NONE;
        else if (strcmp(o, "--checksum") == 0 && strcmp(v, "crc32") == 0)
            wopts.checksum = DRAY_S3_CHECKSUM_CRC32;
        else
            return usage();
    }
    if (i >= argc)
        return usage();
    opts.retry = &retry;
    if (dray_aws_creds_open(&creds, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "credentials: %s\n", err);
        return 2;
    }
    opts.creds = creds;
    if ((rc = dray_s3_new(&s3, &opts, err, sizeof(err))) != 0) {
        fprintf(stderr, "RESULT rc=%d new\nMESSAGE %s\n", rc, err);
        dray_aws_creds_close(creds);
        return 2;
    }
    if (page_size > 0)
        dray__s3_set_page_size(s3, page_size);
    if (lend)
        wopts.client = s3;
    rc = run(s3, argv[i], argv + i + 1, argc - i - 1);
    dray_s3_free(s3);
    dray_aws_creds_close(creds);
    return rc;
}

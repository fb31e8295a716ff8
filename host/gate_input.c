/*
 * gate_input.c - input in big chunks, split into lines in place: no copy
 * and no allocation per line. The buffer grows only for a line longer than
 * a chunk, and never past the line limit, so memory stays flat whatever
 * the size of the input.
 *
 * Reading waits with poll() until the oldest open batch is due, so
 * batch.max_age cuts batches while a tap is quiet on stdin.
 */
#include "gate.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK ((size_t)1024 * 1024)

struct input {
    int fd;
    char *buf;
    size_t cap;
    size_t start; /* first byte of the current line */
    size_t end;   /* bytes read */
};

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int stopped(const struct gate *g)
{
    return g->stop != NULL && *g->stop;
}

/* Waits until fd is readable, cutting batches that come due meanwhile. */
static int wait_readable(struct gate *g, int fd)
{
    for (;;) {
        int64_t due = gate_deadline_ms(g), wait_ms;
        struct pollfd p = {fd, POLLIN, 0};
        int n;

        if (stopped(g))
            return GATE_OK;
        if (due < 0)
            return GATE_OK; /* nothing open: a blocking read is fine */
        wait_ms = due - gate_now_ms();
        if (wait_ms <= 0) {
            if (gate_tick(g) != GATE_OK)
                return GATE_FAILED;
            continue;
        }
        n = poll(&p, 1, wait_ms > 60000 ? 60000 : (int)wait_ms);
        if (n > 0 || (n < 0 && errno != EINTR))
            return GATE_OK; /* the read says what happened */
    }
}

/* Refill: reads more after the current line. 0 at the end of input. */
static ssize_t refill(struct gate *g, struct input *in)
{
    ssize_t n;

    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    if (in->end == in->cap) {
        /* A line longer than the buffer: grow, up to the limit. */
        in->cap = in->cap * 2 > GATE_MAX_LINE + CHUNK ? GATE_MAX_LINE + CHUNK
                                                      : in->cap * 2;
        in->buf = xrealloc(in->buf, in->cap);
    }
    for (;;) {
        if (wait_readable(g, in->fd) != GATE_OK)
            return -2;
        if (stopped(g))
            return 0;
        n = read(in->fd, in->buf + in->end, in->cap - in->end);
        if (n >= 0 || errno != EINTR)
            break;
    }
    if (n > 0) {
        in->end += (size_t)n;
        g->stats.bytes += (uint64_t)n;
        g->now_us = now_us();
    }
    return n;
}

static int over_limit(struct gate *g, uint64_t n)
{
    strbuf_addf(&g->err,
                "record of %" PRIu64 " bytes is over the %zu MiB limit; "
                "split it at the source",
                n, GATE_MAX_LINE / (1024 * 1024));
    return GATE_BAD_INPUT;
}

/* The bytes of an over-long line not yet read (for the message). */
static uint64_t rest_of_line(struct gate *g, struct input *in)
{
    uint64_t n = 0;

    for (;;) {
        ssize_t got = read(in->fd, in->buf, in->cap);
        char *nl;

        if (got < 0 && errno == EINTR && !stopped(g))
            continue;
        if (got <= 0)
            return n;
        nl = memchr(in->buf, '\n', (size_t)got);
        if (nl != NULL)
            return n + (uint64_t)(nl - in->buf);
        n += (uint64_t)got;
    }
}

/* One line, without its newline. A byte order mark heads a stream, not a
   message: the first line drops it. */
static int one_line(struct gate *g, const char *line, size_t len)
{
    g->line++;
    if (len > GATE_MAX_LINE)
        return over_limit(g, len);
    if (g->line == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
        line += 3;
        len -= 3;
    }
    return gate_message(g, line, len);
}

static int run_lines(struct gate *g, struct input *in)
{
    size_t scan = 0;

    for (;;) {
        char *nl = memchr(in->buf + scan, '\n', in->end - scan);
        ssize_t n;
        int rc;

        if (nl != NULL) {
            rc = one_line(g, in->buf + in->start,
                          (size_t)(nl - in->buf) - in->start);
            if (rc != GATE_OK)
                return rc;
            in->start = scan = (size_t)(nl - in->buf) + 1;
            continue;
        }
        if (in->end - in->start > GATE_MAX_LINE) {
            g->line++;
            return over_limit(g, in->end - in->start + rest_of_line(g, in));
        }
        if (g->progress != NULL)
            g->progress(g->progress_ctx, g);
        if (stopped(g))
            return GATE_OK;
        /* Before a read that may block: cut what is due and save a STATE
           that became durable, so neither waits for the tap's next line. */
        if (gate_tick(g) != GATE_OK)
            return GATE_FAILED;
        scan = in->end - in->start; /* where the search goes on */
        n = refill(g, in);
        if (n == -2)
            return GATE_FAILED;
        if (n < 0) {
            strbuf_addf(&g->err, "cannot read '%s': %s", g->file,
                        strerror(errno));
            return GATE_FAILED;
        }
        if (n == 0)
            break;
    }
    if (in->end > in->start && !stopped(g)) /* no newline at the end */
        return one_line(g, in->buf + in->start, in->end - in->start);
    return GATE_OK;
}

int gate_read(struct gate *g, int fd, const char *name)
{
    struct input in;
    int rc;

    memset(&in, 0, sizeof(in));
    in.fd = fd;
    in.cap = CHUNK;
    in.buf = xmalloc(in.cap);
    g->file = name;
    g->line = 0;
    g->now_us = now_us();
    rc = run_lines(g, &in);
    free(in.buf);
    return rc;
}

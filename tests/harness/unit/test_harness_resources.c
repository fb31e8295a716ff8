/* The worker's resources as dray-plugin-test judges them (docs/HARNESS.md,
   "Resources"): the DRAY_STATS_FILE lines, the peak memory bound and the
   open files across batches. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "unit.h"

struct stats {
    struct load_stat *s;
    size_t n;
};

static struct stats stats_of(const char *text)
{
    struct stats x = {NULL, 0};
    char err[200] = "";

    CHECK_INT(
        dray__parse_stats(text, strlen(text), &x.s, &x.n, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    return x;
}

/* Parses text that must not parse: -1 with why in err, nothing kept. */
static int bad_stats(const char *text, char *err)
{
    struct load_stat *s = (struct load_stat *)1;
    size_t n = 99;
    int rc = dray__parse_stats(text, strlen(text), &s, &n, err, 200);

    CHECK(s == NULL);
    CHECK_INT(n, 0);
    return rc;
}

static void test_parse(void)
{
    struct stats x = stats_of("pid 10 load 1 fds 7 rss_kb 2048 hwm_kb 4096 "
                              "asan 0\n"
                              "\n"
                              "pid 10 load 2 fds 8 rss_kb 3000 hwm_kb 5000 "
                              "asan 1 later 5\n");
    char err[200];

    CHECK_INT(x.n, 2);
    CHECK_INT(x.s[0].pid, 10);
    CHECK_INT(x.s[0].load, 1);
    CHECK_INT(x.s[0].fds, 7);
    CHECK_INT(x.s[0].rss_kb, 2048);
    CHECK_INT(x.s[0].hwm_kb, 4096);
    CHECK_INT(x.s[0].asan, 0);
    /* Names a later dray adds are skipped. */
    CHECK_INT(x.s[1].fds, 8);
    CHECK_INT(x.s[1].asan, 1);
    free(x.s);

    CHECK_INT(bad_stats("pid 1 load 1 fds 3 hwm_kb 9\npid 1 load\n", err), -1);
    CHECK_STR(err, "line 2: not 'pid P load N fds K ... hwm_kb H'");
    CHECK_INT(bad_stats("pid 1 load 1 fds x hwm_kb 9\n", err), -1);
    CHECK_STR(err, "line 1: not 'pid P load N fds K ... hwm_kb H'");
    /* Every line needs pid, load, fds and hwm_kb. */
    CHECK_INT(bad_stats("pid 1 load 1 fds 3\n", err), -1);
}

static void test_max_rss(void)
{
    struct stats x = stats_of("pid 5 load 1 fds 7 rss_kb 10240 hwm_kb 11000\n"
                              "pid 6 load 1 fds 7 rss_kb 60000 hwm_kb 97000\n"
                              "pid 6 load 2 fds 7 rss_kb 50000 hwm_kb 97000\n");
    struct dray_buf diff = DRAY_BUF_INIT;
    char msg[400] = "";

    dray__xadds(&diff, "");
    /* 97000 kB is 94.7 MiB: within 95, over 94. */
    CHECK_INT(dray__check_max_rss(x.s, x.n, 95, &diff, msg, sizeof(msg)), 0);
    CHECK_STR(msg, "");
    CHECK_INT(dray__check_max_rss(x.s, x.n, 94, &diff, msg, sizeof(msg)), 1);
    CHECK_STR(msg, "the worker's peak memory was 95 MiB, over the bound of 94 "
                   "MiB: stream the batch instead of holding it, or raise the "
                   "bound with --max-rss");
    /* The diff shows the worker that peaked, not the other one. */
    CHECK_STR(diff.data, "  worker 6, after load 1: 7 open files, 59 MiB "
                         "resident, peak 95 MiB\n"
                         "  worker 6, after load 2: 7 open files, 49 MiB "
                         "resident, peak 95 MiB\n");
    /* The bound is inclusive: exactly 64 MiB passes. */
    free(x.s);
    x = stats_of("pid 1 load 1 fds 3 hwm_kb 65536\n");
    CHECK_INT(dray__check_max_rss(x.s, x.n, 64, &diff, msg, sizeof(msg)), 0);
    free(x.s);
    x = stats_of("pid 1 load 1 fds 3 hwm_kb 65537\n");
    CHECK_INT(dray__check_max_rss(x.s, x.n, 64, &diff, msg, sizeof(msg)), 1);
    free(x.s);
    dray_buf_release(&diff);
}

/* n loads of worker pid with fds from..from+step*(n-1). */
static void add_loads(struct dray_buf *b, long pid, int n, long from, int step)
{
    for (int i = 0; i < n; i++)
        dray__xaddf(b, "pid %ld load %d fds %ld rss_kb 9000 hwm_kb 9000\n", pid,
                    i + 1, from + (long)step * i);
}

static int leak(const char *text, char *msg, struct dray_buf *diff)
{
    struct stats x = stats_of(text);
    int rc;

    msg[0] = '\0';
    dray_buf_reset(diff);
    dray__xadds(diff, "");
    rc = dray__check_fd_leak(x.s, x.n, diff, msg, 400);
    free(x.s);
    return rc;
}

static void test_fd_leak(void)
{
    struct dray_buf in = DRAY_BUF_INIT, diff = DRAY_BUF_INIT;
    char msg[400];

    /* Steady over 100 loads. */
    add_loads(&in, 42, 100, 8, 0);
    CHECK_INT(leak(in.data, msg, &diff), 0);
    CHECK_STR(msg, "");

    /* One more per batch. */
    dray_buf_reset(&in);
    add_loads(&in, 42, 100, 8, 1);
    CHECK_INT(leak(in.data, msg, &diff), 1);
    CHECK_STR(msg, "the worker held 8 open files after its first batch and "
                   "107 after its last (load 100): a file or connection "
                   "leaks");
    /* The first loads and the last one. */
    CHECK_CONTAINS(diff.data, "  worker 42, after load 1: 8 open files, 9 "
                              "MiB resident, peak 9 MiB\n");
    CHECK_CONTAINS(diff.data, "  worker 42, after load 5: 12 open files");
    CHECK_CONTAINS(diff.data, "  ... 94 loads\n");
    CHECK_CONTAINS(diff.data, "  worker 42, after load 100: 107 open files");
    CHECK(strstr(diff.data, "load 6:") == NULL);

    /* Even one fd more after the last batch is a leak... */
    CHECK_INT(leak("pid 1 load 1 fds 8 hwm_kb 1\npid 1 load 2 fds 8 hwm_kb 1\n"
                   "pid 1 load 3 fds 9 hwm_kb 1\n",
                   msg, &diff),
              1);
    /* ... but fewer is none: a connection the server closed. */
    CHECK_INT(leak("pid 1 load 1 fds 9 hwm_kb 1\npid 1 load 2 fds 8 hwm_kb 1\n",
                   msg, &diff),
              0);

    /* Each worker on its own: a restarted worker starts lower, which is
       neither a leak nor hides one. */
    dray_buf_reset(&in);
    add_loads(&in, 7, 10, 20, 0);
    add_loads(&in, 8, 10, 9, 0);
    CHECK_INT(leak(in.data, msg, &diff), 0);
    add_loads(&in, 9, 3, 9, 2);
    CHECK_INT(leak(in.data, msg, &diff), 1);
    CHECK_CONTAINS(msg, "held 9 open files after its first batch and 13 after "
                        "its last (load 3)");

    /* Nothing to compare: no worker loaded two batches. */
    CHECK_INT(leak("pid 1 load 1 fds 8 hwm_kb 1\npid 2 load 1 fds 8 hwm_kb 1\n",
                   msg, &diff),
              1);
    CHECK_CONTAINS(msg, "no worker loaded more than one batch");
    dray_buf_release(&in);
    dray_buf_release(&diff);
}

UNIT_MAIN(UNIT_CASE(test_parse), UNIT_CASE(test_max_rss),
          UNIT_CASE(test_fd_leak))

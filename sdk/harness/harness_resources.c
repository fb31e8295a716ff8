/*
 * harness_resources.c - the worker's resources (docs/HARNESS.md,
 * "Resources"): with DRAY_STATS_FILE set on `dray run`, each worker appends
 * a line after each load (host/host_faults.c),
 *     pid P load N fds K rss_kb R hwm_kb H asan A
 * and the scenario's [expect-max-rss] and [expect-no-fd-leak] are judged
 * on those lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Lines of one worker shown in a diff. */
#define MAX_SHOWN 6

static long to_mib(long kb)
{
    return (kb + 1023) / 1024;
}

static int parse_line(const char *p, size_t len, struct load_stat *st)
{
    char line[512], *save = NULL;
    int have = 0;

    if (len >= sizeof(line))
        return -1;
    memcpy(line, p, len);
    line[len] = '\0';
    memset(st, 0, sizeof(*st));
    for (char *k = strtok_r(line, " ", &save); k != NULL;
         k = strtok_r(NULL, " ", &save)) {
        char *v = strtok_r(NULL, " ", &save);
        long n;
        if (v == NULL || dray__parse_long(v, strlen(v), &n) != 0)
            return -1;
        /* Names this harness does not know are for later harnesses. */
        if (strcmp(k, "pid") == 0)
            st->pid = n, have |= 1;
        else if (strcmp(k, "load") == 0)
            st->load = n, have |= 2;
        else if (strcmp(k, "fds") == 0)
            st->fds = n, have |= 4;
        else if (strcmp(k, "hwm_kb") == 0)
            st->hwm_kb = n, have |= 8;
        else if (strcmp(k, "rss_kb") == 0)
            st->rss_kb = n;
        else if (strcmp(k, "asan") == 0)
            st->asan = n != 0;
    }
    return have == 15 ? 0 : -1;
}

int dray__parse_stats(const char *text, size_t len, struct load_stat **out,
                      size_t *n, char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    int line = 0;

    *out = NULL;
    *n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        if (l > 0) {
            struct load_stat st;
            if (parse_line(p, l, &st) != 0) {
                snprintf(err, errlen,
                         "line %d: not 'pid P load N fds K ... hwm_kb H'",
                         line);
                free(*out);
                *out = NULL;
                *n = 0;
                return -1;
            }
            *out = dray__xrealloc(*out, (*n + 1) * sizeof(**out));
            (*out)[(*n)++] = st;
        }
        p += l + 1;
    }
    return 0;
}

/* The first and last line of worker pid, and how many it wrote. */
static size_t worker_span(const struct load_stat *s, size_t n, long pid,
                          size_t *first, size_t *last)
{
    size_t count = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i].pid != pid)
            continue;
        if (count == 0 || s[i].load < s[*first].load)
            *first = i;
        if (count == 0 || s[i].load >= s[*last].load)
            *last = i;
        count++;
    }
    return count;
}

/* A few lines of worker pid: the first ones and the last. */
static void show_worker(struct dray_buf *diff, const struct load_stat *s,
                        size_t n, long pid)
{
    size_t shown = 0, total = 0, i;

    for (i = 0; i < n; i++)
        total += s[i].pid == pid;
    for (i = 0; i < n; i++) {
        if (s[i].pid != pid)
            continue;
        shown++;
        if (shown == MAX_SHOWN && total > MAX_SHOWN)
            dray__xaddf(diff, "  ... %zu load%s\n", total - MAX_SHOWN,
                        total - MAX_SHOWN == 1 ? "" : "s");
        if (shown < MAX_SHOWN || shown == total)
            dray__xaddf(diff,
                        "  worker %ld, after load %ld: %ld open files, "
                        "%ld MiB resident, peak %ld MiB\n",
                        pid, s[i].load, s[i].fds, to_mib(s[i].rss_kb),
                        to_mib(s[i].hwm_kb));
    }
}

int dray__check_max_rss(const struct load_stat *s, size_t n, long bound_mib,
                        struct dray_buf *diff, char *msg, size_t msglen)
{
    size_t worst = 0;

    for (size_t i = 1; i < n; i++)
        if (s[i].hwm_kb > s[worst].hwm_kb)
            worst = i;
    if (n == 0 || s[worst].hwm_kb <= bound_mib * 1024)
        return 0;
    snprintf(msg, msglen,
             "the worker's peak memory was %ld MiB, over the bound of %ld "
             "MiB: stream the batch instead of holding it, or raise the "
             "bound with --max-rss",
             to_mib(s[worst].hwm_kb), bound_mib);
    show_worker(diff, s, n, s[worst].pid);
    return 1;
}

int dray__check_fd_leak(const struct load_stat *s, size_t n,
                        struct dray_buf *diff, char *msg, size_t msglen)
{
    int compared = 0;

    for (size_t i = 0; i < n; i++) {
        size_t first = 0, last = 0, count;
        int seen = 0;
        /* Each worker once, at its first line. */
        for (size_t j = 0; j < i && !seen; j++)
            seen = s[j].pid == s[i].pid;
        if (seen)
            continue;
        count = worker_span(s, n, s[i].pid, &first, &last);
        if (count < 2)
            continue;
        compared = 1;
        /* Fewer is no leak: a connection the server closed. */
        if (s[last].fds <= s[first].fds)
            continue;
        snprintf(msg, msglen,
                 "the worker held %ld open files after its first batch and "
                 "%ld after its last (load %ld): a file or connection leaks",
                 s[first].fds, s[last].fds, s[last].load);
        show_worker(diff, s, n, s[i].pid);
        return 1;
    }
    if (compared)
        return 0;
    snprintf(msg, msglen,
             "no worker loaded more than one batch, so open files cannot be "
             "compared: the scenario must load its batches in one run");
    return 1;
}

void dray__run_resource_checks(struct run_ctx *c)
{
    const struct scenario *s = c->s;
    struct dray_buf text = DRAY_BUF_INIT;
    struct load_stat *st = NULL;
    size_t n = 0;
    char err[300], msg[400];
    int asan = 0;

    if (dray__read_file(c->stats, &text) != 0 || text.len == 0) {
        dray__fail(c,
                   "dray's worker reported no load to DRAY_STATS_FILE (%s); "
                   "use the dray this harness was built with",
                   text.data == NULL ? strerror(errno) : "empty");
        dray_buf_release(&text);
        return;
    }
    if (dray__parse_stats(text.data, text.len, &st, &n, err, sizeof(err))) {
        dray__fail(c, "%s: %s", c->stats, err);
        dray_buf_release(&text);
        return;
    }
    for (size_t i = 0; i < n; i++)
        asan |= st[i].asan;
    if (c->h->verbose) {
        struct dray_buf shown = DRAY_BUF_INIT;
        for (size_t i = 0; i < n; i++) {
            size_t first = 0, last = 0, k;
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++)
                seen = st[j].pid == st[i].pid;
            if (seen)
                continue;
            k = worker_span(st, n, st[i].pid, &first, &last);
            dray__xaddf(&shown,
                        "  worker %ld: %zu load%s, open files %ld -> %ld, "
                        "peak %ld MiB\n",
                        st[i].pid, k, k == 1 ? "" : "s", st[first].fds,
                        st[last].fds, to_mib(st[last].hwm_kb));
        }
        if (shown.data)
            fputs(shown.data, stdout);
        dray_buf_release(&shown);
    }
    if (s->no_fd_leak &&
        dray__check_fd_leak(st, n, &c->r->diff, msg, sizeof(msg)) != 0)
        dray__fail(c, "%s", msg);
    if (s->max_rss_mib >= 0 && asan) {
        /* Shadow memory and the quarantine of freed blocks are not the
           plugin's: under AddressSanitizer a peak says nothing. */
        if (!c->h->warned_sanitized)
            fprintf(stderr, "dray-plugin-test: dray's worker runs under "
                            "AddressSanitizer: its peak memory is not "
                            "judged ([expect-max-rss])\n");
        c->h->warned_sanitized = 1;
    } else if (s->max_rss_mib >= 0) {
        long bound = c->h->max_rss_mib > 0 ? c->h->max_rss_mib
                     : s->max_rss_mib > 0  ? s->max_rss_mib
                                           : DEFAULT_MAX_RSS_MIB;
        if (dray__check_max_rss(st, n, bound, &c->r->diff, msg, sizeof(msg)))
            dray__fail(c, "%s", msg);
    }
    free(st);
    dray_buf_release(&text);
}

/*
 * harness_run.c - one scenario, as docs/HARNESS.md "How a scenario runs"
 * says: a temp folder with a generated dray.yml, a fresh namespace, each
 * step through `dray` child processes, then the tables read back and
 * compared, and everything removed again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dray/dray_abi.h"
#include "dray/dray_ident.h"
#include "harness.h"

/* Longest any one dray command may take. */
#define COMMAND_TIMEOUT_S 900

static void random_chars(char *out, size_t n)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char raw[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, raw, n < 16 ? n : 16) : -1;

    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < n; i++) {
        unsigned v = got == (ssize_t)n ? raw[i] : (unsigned)rand();
        out[i] = alnum[v % 36];
    }
    out[n] = '\0';
}

void dray__missing_needs(const struct plugin_info *pi, const struct scenario *s,
                         char *out, size_t outlen)
{
    unsigned needs = s->needs, missing;
    size_t len = 0;

    if (s->n_expects > 0 || s->has_expect_tables)
        needs |= NEED_READBACK;
    if (s->mode == DRAY_MODE_UPSERT)
        needs |= NEED_UPSERT;
    if (s->mode == DRAY_MODE_APPEND)
        needs |= NEED_APPEND;
    missing = needs & ~pi->caps;
    out[0] = '\0';
    for (unsigned bit = 1; bit <= NEED_LAST && len < outlen; bit <<= 1)
        if (missing & bit) {
            int w =
                snprintf(out + len, outlen - len, " %s", dray__need_name(bit));
            if (w > 0)
                len += (size_t)w;
        }
}

/* The first failure of a scenario is the one reported. */
void dray__fail(struct run_ctx *c, const char *fmt, ...)
{
    va_list ap;

    if (c->r->status == RES_FAIL)
        return;
    c->r->status = RES_FAIL;
    va_start(ap, fmt);
    vsnprintf(c->r->msg, sizeof(c->r->msg), fmt, ap);
    va_end(ap);
}

/* The last non-empty line of a command's stderr, for one-line messages. */
static const char *last_line(const struct dray_buf *b, char *out, size_t n)
{
    const char *end = b->data + b->len, *p;

    while (end > b->data && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    for (p = end; p > b->data && p[-1] != '\n'; p--)
        ;
    snprintf(out, n, "%.*s", (int)(end - p), p);
    return out[0] ? out : "no message";
}

/* A command's stdout and stderr, indented, at most max lines of each (the
   last ones when tail is set: where the error is). */
static void show_output(struct dray_buf *to, const struct proc_result *pr,
                        size_t max, int tail)
{
    const struct dray_buf *bufs[2] = {&pr->out, &pr->err};

    for (int i = 0; i < 2; i++) {
        const char *p = bufs[i]->data, *end = p + bufs[i]->len;
        size_t lines = 0, skip = 0, k = 0;
        for (const char *q = p; q < end; q++)
            lines += *q == '\n' || q + 1 == end;
        if (lines > max)
            skip = tail ? lines - max : 0;
        if (tail && skip)
            dray__xaddf(to, "  | ... %zu lines before\n", skip);
        for (; p < end; k++) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (k >= skip && k < skip + max)
                dray__xaddf(to, "  | %.*s\n", (int)n, p);
            p += n + 1;
        }
        if (!tail && lines > max)
            dray__xaddf(to, "  | ... %zu more lines\n", lines - max);
    }
}

/* Runs dray with args; 0 when it ran (pr filled), -1 after a failure was
   recorded. */
int dray__run_dray(struct run_ctx *c, const char *const *args, const char *in,
                   const char *const *env, struct proc_result *pr)
{
    const char *argv[16] = {c->h->dray};
    size_t n = 1;

    for (; args[n - 1] != NULL && n < 15; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    if (c->h->verbose) {
        printf("  $");
        for (size_t i = 0; env != NULL && env[i] != NULL; i++)
            printf(" %s", env[i]);
        printf(" dray");
        for (size_t i = 1; i < n; i++)
            printf(" %s", argv[i]);
        printf("%s%s\n", in ? " < " : "", in ? in : "");
    }
    if (dray__proc_run(argv, env, in, c->dir, COMMAND_TIMEOUT_S, pr) != 0) {
        dray__fail(c, "cannot run %s: %s", c->h->dray, strerror(errno));
        return -1;
    }
    if (c->h->verbose) {
        struct dray_buf o = DRAY_BUF_INIT;
        show_output(&o, pr, 20, 0);
        if (o.data)
            fputs(o.data, stdout);
        printf("  (exit %d)\n", pr->status);
        dray_buf_release(&o);
    }
    return 0;
}

/* A command whose exit status is not the expected one fails the
   scenario, with its output in the diff. */
int dray__expect_exit(struct run_ctx *c, const char *what,
                      struct proc_result *pr, int want)
{
    char why[300], line[400];

    if (pr->status == want && !pr->timed_out && !pr->stopped)
        return 0;
    if (pr->stopped)
        snprintf(why, sizeof(why), "was stopped: the harness was interrupted");
    else if (pr->timed_out)
        snprintf(why, sizeof(why), "timed out after %d s", COMMAND_TIMEOUT_S);
    else if (pr->signal)
        snprintf(why, sizeof(why), "was killed by signal %d", pr->signal);
    else
        snprintf(why, sizeof(why), "exited %d, expected %d: %s", pr->status,
                 want, last_line(&pr->err, line, sizeof(line)));
    if (c->fault_note[0])
        snprintf(why + strlen(why), sizeof(why) - strlen(why), " (%s)",
                 c->fault_note);
    dray__fail(c, "%s %s", what, why);
    show_output(&c->r->diff, pr, 30, 1);
    return -1;
}

int dray__plugin_op(struct run_ctx *c, const char *op, const char *table,
                    struct proc_result *pr)
{
    const char *args[] = {"__plugin-op",   "-c",  c->cfg,
                          "--destination", "dut", op,
                          c->ns,           table, NULL};

    return dray__run_dray(c, args, NULL, NULL, pr);
}

static int dray_run(struct run_ctx *c, int want)
{
    const char *args[] = {"run", "-c", c->cfg, "--once", NULL};
    const char *env[3] = {NULL};
    char stats[PATH_MAX + 32];
    struct proc_result pr;
    size_t n = 0;
    int rc;

    if (c->fault_env[0])
        env[n++] = c->fault_env;
    /* The worker appends its fds and memory after each load (host
       test hook, docs/HARNESS.md). */
    if (c->stats[0]) {
        snprintf(stats, sizeof(stats), "DRAY_STATS_FILE=%s", c->stats);
        env[n++] = stats;
    }
    if (dray__run_dray(c, args, NULL, env, &pr))
        return -1;
    rc = dray__expect_exit(c, "dray run", &pr, want);
    dray__proc_release(&pr);
    c->fault_env[0] = c->fault_note[0] = '\0';
    return rc;
}

static int step_input(struct run_ctx *c, const struct scn_step *st)
{
    char in[PATH_MAX + 32];
    const char *args[] = {"put", "-c", c->cfg, "--integration", "shop", NULL};
    struct proc_result pr;
    FILE *f;
    int rc;

    snprintf(in, sizeof(in), "%s/input-%d.jsonl", c->dir, ++c->n_inputs);
    f = fopen(in, "w");
    if (f == NULL || fwrite(st->text, 1, st->len, f) != st->len ||
        fputc('\n', f) == EOF || fclose(f) != 0) {
        dray__fail(c, "cannot write %s: %s", in, strerror(errno));
        return -1;
    }
    if (dray__run_dray(c, args, in, NULL, &pr) != 0)
        return -1;
    rc = dray__expect_exit(c, "dray put", &pr, st->put_exit);
    dray__proc_release(&pr);
    if (rc == 0 && st->run)
        rc = dray_run(c, st->run_exit);
    return rc;
}

/* As if the acks were lost: the spool kept the batches (keep_loaded). */
static int step_replay(struct run_ctx *c, const struct scn_step *st)
{
    char acked[PATH_MAX + 64];
    DIR *d;
    struct dirent *e;

    snprintf(acked, sizeof(acked), "%s/spool/dest/dut/acked", c->dir);
    d = opendir(acked);
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX + 400];
        snprintf(path, sizeof(path), "%s/%s", acked, e->d_name);
        if (c->h->verbose)
            printf("  replay: forget the ack of %s\n", e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    return st->run ? dray_run(c, st->run_exit) : 0;
}

/* The spool's counters (docs/SPOOL.md, streams/<hash>.seq) get another
   last _sdc_sequence, so the next batch's sequences continue from there
   (or from the clock when it is ahead): a batch put on a host whose clock
   lags, or one that is far ahead. */
static int step_sequence(struct run_ctx *c, const struct scn_step *st)
{
    char streams[PATH_MAX + 64];
    DIR *d;
    struct dirent *e;
    int rc = 0;

    snprintf(streams, sizeof(streams), "%s/spool/streams", c->dir);
    d = opendir(streams);
    while (rc == 0 && d != NULL && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        unsigned long long batch;
        long long seq, created;
        char path[PATH_MAX + 400];
        FILE *f;
        if (n < 5 || strcmp(e->d_name + n - 4, ".seq") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", streams, e->d_name);
        f = fopen(path, "r");
        if (f == NULL || fscanf(f, "batch %llu\nsequence %lld\ncreated %lld",
                                &batch, &seq, &created) != 3) {
            dray__fail(c, "cannot read the spool counters %s%s", path,
                       " (has the spool's format changed?)");
            rc = -1;
        }
        if (f != NULL)
            fclose(f);
        if (rc == 0 && (f = fopen(path, "w")) != NULL) {
            fprintf(f, "batch %llu\nsequence %lld\ncreated %lld\n", batch,
                    st->sequence, created);
            rc = fclose(f) == 0 ? 0 : -1;
        }
        if (rc != 0)
            dray__fail(c, "cannot write %s: %s", path, strerror(errno));
        else if (c->h->verbose)
            printf("  spool-sequence: %s: %lld -> %lld\n", e->d_name, seq,
                   st->sequence);
    }
    if (d != NULL)
        closedir(d);
    return rc;
}

static void set_fault(struct run_ctx *c, const struct scn_step *st)
{
    long n = st->fault_n;

    if (st->fault == FAULT_KILL_RANDOM) {
        char r[4];
        random_chars(r, 3);
        n = 1 + (long)((unsigned char)r[0] * 31u + (unsigned char)r[1]) % 60;
    }
    snprintf(c->fault_env, sizeof(c->fault_env), "DRAY_FAULT_%s_AT=%ld",
             st->fault == FAULT_FAIL_AT ? "FAIL" : "KILL", n);
    snprintf(c->fault_note, sizeof(c->fault_note), "%s-at=%ld",
             st->fault == FAULT_FAIL_AT ? "fail" : "kill", n);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(struct run_ctx *c)
{
    const char *tmp = getenv("TMPDIR");
    char digits[4] = "", suffix[8];
    struct gen_config g = {c->h->pi, c->h->base, c->h->n_base,
                           c->s,     c->mode,    c->ns};
    size_t i;

    for (i = 0; i < 3 && c->s->name[i] >= '0' && c->s->name[i] <= '9'; i++)
        digits[i] = c->s->name[i];
    digits[i] = '\0';
    random_chars(suffix, 6);
    snprintf(c->ns, sizeof(c->ns), "dpt_%s_%s", digits[0] ? digits : "x",
             suffix);
    if (!c->h->pi->has_namespaces) {
        g.ns = NULL;
        strcpy(c->ns, "-"); /* __plugin-op: the configured namespace */
    }
    snprintf(c->dir, sizeof(c->dir), "%s/dpt-%s-XXXXXX",
             tmp && *tmp ? tmp : "/tmp", c->ns);
    if (mkdtemp(c->dir) == NULL) {
        dray__fail(c, "cannot make a folder %s: %s", c->dir, strerror(errno));
        c->dir[0] = '\0';
        return -1;
    }
    snprintf(c->cfg, sizeof(c->cfg), "%s/dray.yml", c->dir);
    if (c->s->max_rss_mib >= 0 || c->s->no_fd_leak)
        snprintf(c->stats, sizeof(c->stats), "%s/worker-stats", c->dir);
    if (dray__write_config(c->cfg, &g) != 0) {
        dray__fail(c, "cannot write %s: %s", c->cfg, strerror(errno));
        return -1;
    }
    if (c->h->verbose)
        printf("  folder %s, namespace %s, mode %s\n", c->dir, c->ns,
               c->mode == DRAY_MODE_UPSERT ? "upsert" : "append");
    return 0;
}

/* 0 when the namespace is there; *ran is set when namespace-create ran,
   so that one stopped half-way is dropped all the same. */
static int make_namespace(struct run_ctx *c, int *ran)
{
    struct proc_result pr;
    int rc;

    /* A plugin without namespaces loads into its configured one (dray
       refuses a namespace key for it): the scenarios share that one, and
       the harness says so once. */
    if (!c->h->pi->has_namespaces) {
        if (!c->h->warned_namespaces)
            fprintf(stderr,
                    "dray-plugin-test: plugin '%s' has no namespaces: "
                    "scenarios share its configured one\n",
                    c->h->pi->name);
        c->h->warned_namespaces = 1;
        return 0;
    }
    if (dray__plugin_op(c, "namespace-create", NULL, &pr) != 0)
        return -1;
    *ran = 1;
    rc = dray__expect_exit(c, "namespace-create", &pr, 0);
    dray__proc_release(&pr);
    return rc;
}

static void teardown(struct run_ctx *c, int have_ns)
{
    struct proc_result pr;
    int interrupted = dray__interrupted();

    if (c->h->keep) {
        printf("  kept %s (namespace %s)\n", c->dir, c->ns);
        return;
    }
    /* After a Ctrl-C the cleanup still runs; a second one stops it. */
    if (interrupted)
        dray__interrupt_tolerate();
    if (have_ns && c->h->pi->has_namespaces &&
        dray__run_dray(c,
                       (const char *const[]){"__plugin-op", "-c", c->cfg,
                                             "--destination", "dut",
                                             "namespace-drop", c->ns, NULL},
                       NULL, NULL, &pr) == 0) {
        if (pr.status != 0 && pr.status != 5 &&
            (c->r->status != RES_FAIL || interrupted)) {
            char line[300];
            fprintf(stderr, "dray-plugin-test: %s: namespace-drop %s: %s\n",
                    c->s->name, c->ns, last_line(&pr.err, line, sizeof(line)));
        }
        dray__proc_release(&pr);
    }
    dray__remove_tree(c->dir);
}

void dray__run_scenario(struct harness *h, const struct scenario *s,
                        struct result *r)
{
    struct run_ctx c;
    char missing[200];
    double t0 = now_s();
    int have_ns = 0, ran = 0;

    memset(&c, 0, sizeof(c));
    c.h = h;
    c.s = s;
    c.r = r;
    r->status = RES_OK;
    dray__missing_needs(h->pi, s, missing, sizeof(missing));
    if (missing[0]) {
        r->status = RES_SKIP;
        snprintf(r->msg, sizeof(r->msg), "needs%s", missing);
        return;
    }
    c.mode = s->mode >= 0        ? s->mode
             : h->pi->has_upsert ? DRAY_MODE_UPSERT
                                 : DRAY_MODE_APPEND;
    if (setup(&c) == 0 && make_namespace(&c, &ran) == 0) {
        have_ns = 1;
        for (size_t i = 0;
             i < s->n_steps && r->status == RES_OK && !dray__interrupted();
             i++) {
            const struct scn_step *st = &s->steps[i];
            if (st->kind == STEP_INPUT)
                step_input(&c, st);
            else if (st->kind == STEP_RUN)
                dray_run(&c, st->run_exit);
            else if (st->kind == STEP_REPLAY)
                step_replay(&c, st);
            else if (st->kind == STEP_SEQUENCE)
                step_sequence(&c, st);
            else
                set_fault(&c, st);
        }
        if (r->status == RES_OK && !dray__interrupted())
            dray__run_checks(&c);
    } else if (ran && dray__interrupted()) {
        have_ns = 1; /* a namespace-create that was stopped may have made it */
    }
    if (c.dir[0])
        teardown(&c, have_ns);
    r->seconds = now_s() - t0;
}

/*
 * dray put: Singer messages from files or stdin into the spool, through
 * the gate (gate.h). Never loads a plugin: the gate keeps taking data
 * while a destination's plugin is missing or broken.
 *
 * Exit 0 means everything read is durable. Bad input commits what came
 * before the bad line (so it and the STATE before it stay loadable), then
 * names the file and line and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "gate.h"
#include "log.h"

#define PROGRESS_EVERY_S 0.5

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

struct progress {
    int tty;     /* show a progress line */
    int shown;   /* one is on the screen */
    double t0;   /* when put started */
    double last; /* when the line was last drawn */
};

static double monotonic_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mb_per_s(uint64_t bytes, double seconds)
{
    return seconds > 0 ? (double)bytes / 1e6 / seconds : 0;
}

static void show_progress(void *ctx, const struct gate *g)
{
    struct progress *p = ctx;
    double now = monotonic_s();

    if (!p->tty || now - p->last < PROGRESS_EVERY_S)
        return;
    p->last = now;
    p->shown = 1;
    fprintf(stderr,
            "\rdray put: %" PRIu64 " records, %.1f MB/s, %" PRIu64
            " batches\033[K",
            g->stats.records, mb_per_s(g->stats.bytes, now - p->t0),
            g->stats.batches);
    fflush(stderr);
}

static void clear_progress(struct progress *p)
{
    if (p->shown)
        fputs("\r\033[K", stderr);
    p->shown = 0;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void summary(const struct gate *g, const struct progress *p)
{
    const struct gate_stats *st = &g->stats;
    double s = monotonic_s() - p->t0;
    struct strbuf extra = STRBUF_INIT;

    if (st->rejected)
        strbuf_addf(&extra, ", %" PRIu64 " rejected", st->rejected);
    if (st->mismatches)
        strbuf_addf(&extra, ", %" PRIu64 " %s of another type than declared",
                    st->mismatches, plural(st->mismatches, "value", "values"));
    if (st->states)
        strbuf_addf(&extra, ", %" PRIu64 " STATE %s", st->states,
                    plural(st->states, "message", "messages"));
    log_report(DRAY_LOG_INFO,
               "dray put: %" PRIu64 " %s in %" PRIu64 " %s%s; %.1f MB in "
               "%.2f s (%.1f MB/s)",
               st->records, plural(st->records, "record", "records"),
               st->batches, plural(st->batches, "batch", "batches"),
               strbuf_str(&extra), (double)st->bytes / 1e6, s,
               mb_per_s(st->bytes, s));
    strbuf_release(&extra);
}

/* Reads one FILE argument ("-": stdin) through the gate. */
static int put_file(struct gate *g, const char *file)
{
    int stdin_ = strcmp(file, "-") == 0;
    int fd = stdin_ ? STDIN_FILENO : open(file, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        strbuf_addf(&g->err, "cannot open '%s': %s", file, strerror(errno));
        g->file = NULL; /* no line to name */
        return GATE_BAD_INPUT;
    }
    rc = gate_read(g, fd, stdin_ ? "<stdin>" : file);
    if (!stdin_)
        close(fd);
    return rc;
}

/* "FILE:LINE[:COLUMN]: message" for bad input; "dray put: ..." else. */
static void report_bad_input(const struct gate *g, const char *msg)
{
    if (g->file == NULL)
        log_report(DRAY_LOG_ERROR, "dray put: %s", msg);
    else if (g->column > 0)
        log_report(DRAY_LOG_ERROR, "%s:%" PRIu64 ":%zu: %s", g->file, g->line,
                   g->column, msg);
    else
        log_report(DRAY_LOG_ERROR, "%s:%" PRIu64 ": %s", g->file, g->line, msg);
}

static int run(struct gate *g, const struct integration_opts *o,
               struct progress *p)
{
    char *bad = NULL;
    int rc = GATE_OK, fin;

    if (o->n_files == 0)
        rc = put_file(g, "-");
    for (size_t i = 0; i < o->n_files && rc == GATE_OK && !stop_requested; i++)
        rc = put_file(g, o->files[i]);
    clear_progress(p);
    if (rc == GATE_FAILED) {
        log_report(DRAY_LOG_ERROR, "dray put: %s", strbuf_str(&g->err));
        return EXITCODE_RUNTIME;
    }
    if (rc == GATE_BAD_INPUT)
        bad = strbuf_detach(&g->err);
    /* What came before bad input or a signal is kept and loadable. */
    fin = gate_finish(g);
    if (bad != NULL) {
        report_bad_input(g, bad);
        free(bad);
    }
    if (fin != GATE_OK) {
        log_report(DRAY_LOG_ERROR, "dray put: %s", strbuf_str(&g->err));
        return EXITCODE_RUNTIME;
    }
    if (rc != GATE_OK)
        return EXITCODE_RUNTIME;
    if (stop_requested) {
        log_report(DRAY_LOG_ERROR,
                   "dray put: stopped by a signal at line %" PRIu64
                   " of %s; everything read up to it is durable",
                   g->line, g->file ? g->file : "the input");
        return EXITCODE_RUNTIME;
    }
    if (!o->quiet)
        summary(g, p);
    return EXITCODE_OK;
}

int cmd_put(int argc, char **argv)
{
    const struct command *self = cli_find_command("put");
    struct integration_opts o;
    struct config cfg = {0};
    struct spool sp;
    struct gate g;
    struct gate_settings set;
    struct progress prog;
    struct sigaction sa, old_int, old_term;
    struct strbuf err = STRBUF_INIT;
    const char **routes = NULL;
    int rc = cli_parse_integration(self, argc, argv, 1, &o);

    if (rc != 0) {
        free(o.files);
        return rc == -2 ? EXITCODE_OK : EXITCODE_USAGE;
    }
    log_set_format(o.log_format);
    if (cli_load_config(o.config, 1, &cfg) < 0) {
        free(o.files);
        return EXITCODE_CONFIG;
    }
    if (spool_open(&sp, cfg.spool_path, 1, &err) != 0) {
        log_report(DRAY_LOG_ERROR, "dray put: %s", strbuf_str(&err));
        rc = EXITCODE_RUNTIME;
        goto out;
    }
    sp.max_bytes = cfg.spool_max_bytes;
    sp.wait_when_full = cfg.spool_on_full == CONFIG_ON_FULL_WAIT;

    routes = gate_settings_from_config(&set, &cfg, o.integration);

    memset(&prog, 0, sizeof(prog));
    prog.tty = !o.quiet && o.log_format == LOG_FORMAT_TEXT && isatty(2);
    prog.t0 = prog.last = monotonic_s();
    gate_init(&g, &sp, &set);
    g.stop = &stop_requested;
    g.progress = show_progress;
    g.progress_ctx = &prog;

    /* No SA_RESTART: a signal ends a blocking read, and put commits what
       it has before it exits. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    stop_requested = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = run(&g, &o, &prog);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    gate_release(&g);
    spool_close(&sp);
out:
    free(routes);
    free(o.files);
    strbuf_release(&err);
    config_release(&cfg);
    return rc;
}

/*
 * dray target: a Singer target. stdin goes through the gate into the spool
 * (as 'dray put'); a child process loads the integration's batches (as
 * 'dray run'); STATE values go to stdout once every record before them is
 * committed in every routed destination.
 *
 * Which STATE is safe: the gate reports each batch as it commits and each
 * STATE once every batch open at its arrival is committed. A STATE is
 * bound to every batch committed by then (a superset of what it needs:
 * late at worst, never early), and printed once all of those are acked at
 * every route. A quarantined batch ends printing for good: no STATE after
 * it is ever safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "gate.h"
#include "log.h"
#include "run.h"

static volatile sig_atomic_t stop_level;

static void on_signal(int sig)
{
    (void)sig;
    if (stop_level < 2)
        stop_level++;
}

struct safe_state {
    char *json;
    size_t n_batches; /* committed before it became durable */
};

struct target {
    struct spool *sp;
    const char **routes;
    size_t n_routes;
    char **batches; /* committed, in order */
    size_t n_batches, cap_batches;
    size_t n_done; /* the leading batches loaded everywhere */
    int blocked;   /* a batch was quarantined: nothing more prints */
    struct safe_state *states; /* durable, not printed yet */
    size_t n_states, cap_states;
    int out_failed; /* stdout is gone */
};

static void on_commit(void *ctx, const char *id)
{
    struct target *t = ctx;

    if (t->n_batches == t->cap_batches) {
        t->cap_batches = t->cap_batches ? t->cap_batches * 2 : 64;
        t->batches = xrealloc(t->batches, t->cap_batches * sizeof(char *));
    }
    t->batches[t->n_batches++] = xstrdup(id);
}

static void on_durable_state(void *ctx, const char *json, size_t len)
{
    struct target *t = ctx;
    struct safe_state *s;

    /* Bound to the same batches as the last one: it supersedes it. */
    if (t->n_states > 0 &&
        t->states[t->n_states - 1].n_batches == t->n_batches) {
        s = &t->states[t->n_states - 1];
        free(s->json);
    } else {
        if (t->n_states == t->cap_states) {
            t->cap_states = t->cap_states ? t->cap_states * 2 : 16;
            t->states = xrealloc(t->states, t->cap_states * sizeof(*t->states));
        }
        s = &t->states[t->n_states++];
        s->n_batches = t->n_batches;
    }
    s->json = xmalloc(len + 1);
    memcpy(s->json, json, len);
    s->json[len] = '\0';
}

/* 1 when the batch is loaded at every route, 0 not yet, -1 quarantined. */
static int batch_done(const struct target *t, const char *id)
{
    char *file = spool_batch_file(t->sp, id);
    int gone = access(file, F_OK) != 0 && errno == ENOENT;
    int rc = 1;

    free(file);
    if (gone)
        return 1; /* every route acked it and the spool let it go */
    for (size_t r = 0; r < t->n_routes && rc == 1; r++) {
        int st = spool_dest_state(t->sp, t->routes[r], id);
        rc = st == SPOOL_ACKED ? 1 : st == SPOOL_QUARANTINED ? -1 : 0;
    }
    return rc;
}

/* Drops the leading batches loaded everywhere, so a long run's memory
   stays flat: the STATEs not yet printed (those from skip on) count their
   batches from the first one kept. */
static void forget_done(struct target *t, size_t skip)
{
    size_t n = t->n_done;

    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        free(t->batches[i]);
    memmove(t->batches, t->batches + n,
            (t->n_batches - n) * sizeof(*t->batches));
    t->n_batches -= n;
    t->n_done = 0;
    for (size_t i = skip; i < t->n_states; i++)
        t->states[i].n_batches -= n;
}

/* Prints the latest STATE whose batches are all loaded. */
static void flush_states(struct target *t)
{
    size_t safe = 0;
    int any = 0;

    while (!t->blocked && t->n_done < t->n_batches) {
        int d = batch_done(t, t->batches[t->n_done]);
        if (d < 0)
            t->blocked = 1;
        if (d != 1)
            break;
        t->n_done++;
    }
    while (safe < t->n_states && t->states[safe].n_batches <= t->n_done) {
        safe++;
        any = 1;
    }
    forget_done(t, safe);
    if (!any)
        return;
    if (!t->out_failed) {
        const char *j = t->states[safe - 1].json;
        if (fputs(j, stdout) == EOF || fputc('\n', stdout) == EOF ||
            fflush(stdout) != 0) {
            log_error("dray target: cannot write STATE to stdout: %s",
                      strerror(errno));
            t->out_failed = 1;
        }
    }
    for (size_t i = 0; i < safe; i++)
        free(t->states[i].json);
    memmove(t->states, t->states + safe,
            (t->n_states - safe) * sizeof(*t->states));
    t->n_states -= safe;
}

static void on_wake(void *ctx, struct gate *g)
{
    (void)g;
    flush_states(ctx);
}

/* The loader child: 'dray run' for this integration, until the drain
   pipe closes, then until nothing is left. Never returns. */
static void loader_child(struct config *cfg, struct spool *sp,
                         const char *integration, int drain_fd)
{
    struct run_opts o;
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

    /* A group of its own: a Ctrl-C reaches the target, which passes it
       on once. stdin is the tap's and stdout carries STATE: neither is
       ours. */
    setpgid(0, 0);
    if (null >= 0)
        dup2(null, 0);
    dup2(2, 1);
    memset(&o, 0, sizeof(o));
    o.name = "dray target";
    o.integration = integration;
    o.stop = &stop_level;
    o.drain_fd = drain_fd;
    fflush(stderr);
    _exit(run_loop(cfg, sp, &o));
}

/* Waits for the loader, printing STATEs as they become safe. */
static int wait_loader(struct target *t, pid_t pid, int64_t every_ms)
{
    int64_t next = run_now_ms() + every_ms;
    int status = 0, forwarded = 0;

    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        struct timespec ts = {0, 20 * 1000000};

        if (got == pid)
            break;
        if (got < 0 && errno != EINTR)
            return EXITCODE_RUNTIME;
        while (forwarded < stop_level) {
            /* Once per signal: the first lets loads finish (run.grace),
               the second stops them. The second goes as SIGINT: two
               SIGTERMs pending at once in the loader would count as one. */
            kill(pid, forwarded == 0 ? SIGTERM : SIGINT);
            forwarded++;
        }
        if (run_now_ms() >= next) {
            flush_states(t);
            next = run_now_ms() + every_ms;
        }
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return EXITCODE_RUNTIME;
}

static void target_release(struct target *t)
{
    for (size_t i = 0; i < t->n_batches; i++)
        free(t->batches[i]);
    free(t->batches);
    for (size_t i = 0; i < t->n_states; i++)
        free(t->states[i].json);
    free(t->states);
}

/* Reads stdin through the gate. Returns GATE_* after finishing. */
static int take_input(struct gate *g)
{
    char *bad = NULL;
    int rc = gate_read(g, STDIN_FILENO, "<stdin>"), fin;

    if (rc == GATE_BAD_INPUT)
        bad = strbuf_detach(&g->err);
    else if (rc == GATE_FAILED)
        log_report(DRAY_LOG_ERROR, "dray target: %s", strbuf_str(&g->err));
    fin = gate_finish(g); /* what came before bad input is kept */
    if (bad != NULL) {
        /* As 'dray put' says it: FILE:LINE[:COLUMN]: (docs/GATE.md). */
        if (g->column > 0)
            log_report(DRAY_LOG_ERROR, "%s:%llu:%zu: %s",
                       g->file ? g->file : "<stdin>",
                       (unsigned long long)g->line, g->column, bad);
        else
            log_report(DRAY_LOG_ERROR, "%s:%llu: %s",
                       g->file ? g->file : "<stdin>",
                       (unsigned long long)g->line, bad);
        free(bad);
    }
    if (fin != GATE_OK && rc == GATE_OK) {
        log_report(DRAY_LOG_ERROR, "dray target: %s", strbuf_str(&g->err));
        rc = GATE_FAILED;
    }
    return rc;
}

int cmd_target(int argc, char **argv)
{
    const struct command *self = cli_find_command("target");
    struct integration_opts o;
    struct config cfg = {0};
    struct spool sp;
    struct gate g;
    struct gate_settings set;
    struct target t;
    struct strbuf err = STRBUF_INIT;
    struct sigaction sa, old_int, old_term, old_pipe;
    const char **routes = NULL;
    int pipefd[2] = {-1, -1}, in_rc, load_rc;
    pid_t pid;
    int rc = cli_parse_integration(self, argc, argv, 1, &o);

    if (rc != 0) {
        free(o.files);
        return rc == -2 ? EXITCODE_OK : EXITCODE_USAGE;
    }
    if (o.n_files > 0) {
        free(o.files);
        return cli_usage_error(self, "a target reads its input on stdin, not "
                                     "from files; pipe the tap into it");
    }
    log_set_format(o.log_format);
    if (cli_load_config(o.config, 1, &cfg) < 0) {
        free(o.files);
        return EXITCODE_CONFIG;
    }
    if (spool_open(&sp, cfg.spool_path, 1, &err) != 0) {
        log_report(DRAY_LOG_ERROR, "dray target: %s", strbuf_str(&err));
        rc = EXITCODE_RUNTIME;
        goto out;
    }
    sp.max_bytes = cfg.spool_max_bytes;
    sp.wait_when_full = cfg.spool_on_full == CONFIG_ON_FULL_WAIT;
    routes = gate_settings_from_config(&set, &cfg, o.integration);
    if (run_self_exe() == NULL || pipe(pipefd) != 0 ||
        fcntl(pipefd[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(pipefd[1], F_SETFD, FD_CLOEXEC) != 0) {
        log_report(DRAY_LOG_ERROR, "dray target: cannot start its loader: %s",
                   strerror(errno));
        rc = EXITCODE_RUNTIME;
        goto out_spool;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    stop_level = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        log_report(DRAY_LOG_ERROR, "dray target: cannot start its loader: %s",
                   strerror(errno));
        rc = EXITCODE_RUNTIME;
        goto out_signals;
    }
    if (pid == 0) {
        close(pipefd[1]);
        loader_child(&cfg, &sp, o.integration, pipefd[0]);
    }
    close(pipefd[0]);
    pipefd[0] = -1;

    memset(&t, 0, sizeof(t));
    t.sp = &sp;
    t.routes = routes;
    t.n_routes = set.n_routes;
    gate_init(&g, &sp, &set);
    g.stop = &stop_level;
    g.on_commit = on_commit;
    g.on_durable_state = on_durable_state;
    g.wake = on_wake;
    g.hook_ctx = &t;
    g.wake_every_ms = cfg.target_state_interval_ms;
    g.wake_at_ms = gate_now_ms() + g.wake_every_ms;

    in_rc = take_input(&g);
    /* End of input (or a stop): the loader finishes what is pending. */
    close(pipefd[1]);
    pipefd[1] = -1;
    load_rc = wait_loader(&t, pid, cfg.target_state_interval_ms);
    flush_states(&t);
    if (in_rc != GATE_OK)
        rc = EXITCODE_RUNTIME;
    else if (stop_level > 0) {
        log_report(DRAY_LOG_ERROR,
                   "dray target: stopped by a signal; the STATE printed last "
                   "is safe to resume from");
        rc = EXITCODE_RUNTIME;
    } else if (load_rc != EXITCODE_OK) {
        rc = load_rc;
    } else if (t.blocked || t.n_done < t.n_batches) {
        rc = t.blocked ? EXITCODE_QUARANTINED : EXITCODE_RUNTIME;
    } else {
        rc = t.out_failed ? EXITCODE_RUNTIME : EXITCODE_OK;
    }
    gate_release(&g);
    target_release(&t);
out_signals:
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
out_spool:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    spool_close(&sp);
out:
    free(routes);
    free(o.files);
    strbuf_release(&err);
    config_release(&cfg);
    return rc;
}

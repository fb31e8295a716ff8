/*
 * The loader's event loop: scan and claim (run_sched.c), wait on the
 * workers' sockets, hand their answers to run_outcome.c, kill what passed
 * run.batch_timeout, and stop gracefully on a signal.
 *
 * Signals are blocked except inside ppoll(), so a SIGTERM can never slip
 * in between looking at the stop flag and going to sleep.
 */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "log.h"
#include "run_internal.h"

#define REAP_WAIT_MS 2000     /* a worker that closed its socket exits soon */
#define SWEEP_EVERY_MS 60000  /* spool.keep_loaded */
#define PROGRESS_EVERY_MS 500 /* on a terminal */

/* Waits for a worker that is ending; kills it if it takes too long. */
static void reap(struct run_worker *w)
{
    int64_t until = run_now_ms() + REAP_WAIT_MS;

    while (!run_worker_stop(w, 0, 0)) {
        struct timespec ts = {0, 5 * 1000000};
        if (run_now_ms() >= until) {
            run_worker_stop(w, SIGKILL, 1);
            return;
        }
        nanosleep(&ts, NULL);
    }
}

static void finish_job(struct run_dest *d, struct run_worker *w)
{
    run_job_free(w->job);
    w->job = NULL;
    d->busy--;
}

/* A worker that failed before READY: the destination, not a batch. */
static void start_failed(struct run_state *S, struct run_dest *d,
                         struct run_worker *w, const char *msg, int config)
{
    int64_t delay;
    char dbuf[32];

    if (d->tot.gave_up || w->epoch != d->start_epoch) {
        /* Started together with one whose failure was counted and logged:
           one destination down is one failure, said once. */
        if (w->job != NULL)
            finish_job(d, w);
        return;
    }
    d->start_epoch++;
    d->start_failures++;
    delay = run_backoff_ms(S, d->start_failures, 0);
    d->down_until_ms = run_now_ms() + delay;
    spool_last_error_set(S->sp, d->name, msg);
    if (S->finishing &&
        (config || d->start_failures >= S->cfg->run.retry_attempts))
        d->tot.gave_up = 1;
    if (d->tot.gave_up)
        log_error("destination '%s': %s; its batches stay in the spool",
                  d->name, msg);
    else
        log_error("destination '%s': %s; trying again in %s", d->name, msg,
                  run_delay_str(delay, dbuf));
    if (w->job != NULL)
        finish_job(d, w); /* no attempt was counted: it never started */
}

void run_send_job(struct run_state *S, struct run_worker *w)
{
    struct run_job *j = w->job;
    struct strbuf err = STRBUF_INIT;
    int a = spool_attempt(S->sp, j->d->name, j->id, &err);

    if (a < 0)
        log_warn("destination '%s': %s", j->d->name, strbuf_str(&err));
    strbuf_release(&err);
    j->attempt = a > 0 ? (uint32_t)a : 1;
    w->state = WORKER_BUSY;
    w->timed_out = 0;
    w->deadline_ms = run_now_ms() + S->cfg->run.batch_timeout_ms;
    if (run_worker_send(w, j->attempt, S->cfg->run.batch_timeout_ms, j->file,
                        j->lease_fd) != 0)
        kill(w->pid, SIGKILL); /* seen as a death at the next poll */
}

/* One line from a worker. Returns 1 when a job ended. */
static int on_line(struct run_state *S, struct run_dest *d,
                   struct run_worker *w, const char *line)
{
    int garbled;

    if (w->state == WORKER_STARTING) {
        if (w->timed_out)
            return 0; /* killed for being late: its death is seen next */
        if (strcmp(line, "READY") == 0) {
            d->start_failures = 0;
            w->state = WORKER_IDLE;
            w->deadline_ms = 0;
            if (w->job != NULL)
                run_send_job(S, w);
            return 0;
        }
        /* {"status":"E_CONFIG","message":...}: it exits by itself. */
        struct strbuf msg = STRBUF_INIT;
        json_t *j = json_loads(line, 0, NULL);
        const char *m = json_string_value(json_object_get(j, "message"));
        const char *status = json_string_value(json_object_get(j, "status"));
        strbuf_adds(&msg, "cannot start: ");
        strbuf_adds(&msg, m ? m : line);
        start_failed(S, d, w, msg.buf,
                     status != NULL && strcmp(status, "E_CONFIG") == 0);
        strbuf_release(&msg);
        json_decref(j);
        reap(w);
        return 1;
    }
    if (w->state != WORKER_BUSY || w->job == NULL) {
        log_warn("destination '%s': the worker said something unasked: "
                 "%.200s",
                 d->name, line);
        return 0;
    }
    garbled = run_outcome_reply(S, w->job, line) < 0;
    finish_job(d, w);
    w->state = WORKER_IDLE;
    w->deadline_ms = 0;
    if (w->timed_out || garbled) {
        /* It answered just as it was killed, or out of step: not to be
           given more work. */
        run_worker_stop(w, SIGKILL, 1);
        memset(w, 0, sizeof(*w));
        w->fd = -1;
    }
    return 1;
}

/* The worker's socket closed: it died or ended. */
static void on_gone(struct run_state *S, struct run_dest *d,
                    struct run_worker *w)
{
    struct strbuf how = STRBUF_INIT;
    int state = w->state, timed_out = w->timed_out;
    char dbuf[32];

    reap(w);
    if (timed_out && state == WORKER_STARTING)
        strbuf_addf(&how,
                    "was not ready within run.batch_timeout (%s) and "
                    "was killed",
                    config_duration_str(S->cfg->run.batch_timeout_ms, dbuf));
    else if (timed_out)
        strbuf_addf(&how,
                    "did not finish within run.batch_timeout (%s) and "
                    "was killed",
                    config_duration_str(S->cfg->run.batch_timeout_ms, dbuf));
    else
        run_describe_exit(w->wstatus, &how);
    if (state == WORKER_STARTING) {
        struct strbuf msg = STRBUF_INIT;
        if (timed_out)
            strbuf_addf(&msg, "cannot start: the worker %s", how.buf);
        else
            strbuf_addf(&msg, "cannot start: the worker %s before it was ready",
                        how.buf);
        start_failed(S, d, w, msg.buf, 0);
        strbuf_release(&msg);
    } else if (state == WORKER_BUSY && w->job != NULL) {
        run_outcome_crash(S, w->job, how.buf);
        finish_job(d, w);
    }
    strbuf_release(&how);
    memset(w, 0, sizeof(*w));
    w->fd = -1;
}

static size_t busy_total(const struct run_state *S)
{
    size_t n = 0;

    for (size_t i = 0; i < S->n_dests; i++)
        n += (size_t)S->dests[i].busy;
    return n;
}

/* Stopping: a job whose worker is not ready yet has not begun; it is
   given back rather than started, and its worker ended. */
static void drop_unstarted(struct run_state *S)
{
    for (size_t i = 0; i < S->n_dests; i++) {
        struct run_dest *d = &S->dests[i];
        for (size_t k = 0; k < d->n_workers; k++) {
            struct run_worker *w = &d->workers[k];
            if (w->pid == 0 || w->state != WORKER_STARTING || w->job == NULL)
                continue;
            run_worker_stop(w, SIGKILL, 1);
            finish_job(d, w);
            memset(w, 0, sizeof(*w));
            w->fd = -1;
        }
    }
}

/* Ends every worker: idle ones by EOF; busy ones are killed (a shutdown,
   not the batch's fault: no crash is counted). */
static void stop_all(struct run_state *S)
{
    for (size_t i = 0; i < S->n_dests; i++) {
        struct run_dest *d = &S->dests[i];
        for (size_t k = 0; k < d->n_workers; k++) {
            struct run_worker *w = &d->workers[k];
            if (w->pid == 0)
                continue;
            if (w->state == WORKER_BUSY || w->state == WORKER_STARTING)
                run_worker_stop(w, SIGKILL, 1);
            else
                reap(w);
            if (w->job != NULL)
                finish_job(d, w);
        }
    }
}

static void progress(const struct run_state *S, int shown)
{
    uint64_t loaded = 0, pending = 0;

    for (size_t i = 0; i < S->n_dests; i++) {
        loaded += S->dests[i].tot.loaded;
        pending += S->dests[i].pending;
    }
    if (!shown && loaded == 0 && pending == 0)
        return;
    fprintf(stderr,
            "\r%s: %" PRIu64 " loaded, %" PRIu64 " pending, %zu "
            "loading\033[K",
            S->o->name, loaded, pending, busy_total(S));
    fflush(stderr);
}

static void summary(const struct run_state *S)
{
    for (size_t i = 0; i < S->n_dests; i++) {
        const struct run_dest *d = &S->dests[i];
        struct strbuf extra = STRBUF_INIT;

        if (d->tot.quarantined)
            strbuf_addf(&extra, ", %" PRIu64 " quarantined",
                        d->tot.quarantined);
        if (d->tot.retries)
            strbuf_addf(&extra, ", %" PRIu64 " retried", d->tot.retries);
        if (d->tot.crashes)
            strbuf_addf(&extra, ", %" PRIu64 " worker %s", d->tot.crashes,
                        d->tot.crashes == 1 ? "death" : "deaths");
        if (d->pending)
            strbuf_addf(&extra, ", %" PRIu64 " still pending", d->pending);
        if (d->tot.gave_up)
            strbuf_adds(&extra, " (could not start its plugin)");
        log_report(DRAY_LOG_INFO,
                   "%s: %s: %" PRIu64 " %s loaded (%" PRIu64 " rows, %" PRIu64
                   " rejected)%s",
                   S->o->name, d->name, d->tot.loaded,
                   d->tot.loaded == 1 ? "batch" : "batches", d->tot.rows,
                   d->tot.rejected, strbuf_str(&extra));
        strbuf_release(&extra);
    }
}

static int selected(const struct run_opts *o, const char *name)
{
    if (o->n_destinations == 0)
        return 1;
    for (size_t i = 0; i < o->n_destinations; i++)
        if (strcmp(o->destinations[i], name) == 0)
            return 1;
    return 0;
}

static void setup(struct run_state *S, struct config *cfg, struct spool *sp,
                  const struct run_opts *o)
{
    memset(S, 0, sizeof(*S));
    S->cfg = cfg;
    S->sp = sp;
    S->o = o;
    S->rng = (uint64_t)run_wall_ms() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b9;
    S->dests = xcalloc(cfg->n_destinations + 1, sizeof(*S->dests));
    for (size_t i = 0; i < cfg->n_destinations; i++) {
        struct run_dest *d;
        if (!selected(o, cfg->destinations[i].name))
            continue;
        d = &S->dests[S->n_dests++];
        d->name = cfg->destinations[i].name;
        d->n_workers = (size_t)cfg->run.concurrency;
        d->workers = xcalloc(d->n_workers, sizeof(*d->workers));
        for (size_t k = 0; k < d->n_workers; k++)
            d->workers[k].fd = -1;
    }
}

/* The poll set: every live worker, and the drain fd. */
struct pollset {
    struct pollfd *fds;
    struct run_worker **w;
    struct run_dest **d;
    size_t n;
};

static void build_pollset(struct run_state *S, struct pollset *ps, int drain)
{
    size_t cap = 1;

    for (size_t i = 0; i < S->n_dests; i++)
        cap += S->dests[i].n_workers;
    ps->fds = xrealloc(ps->fds, cap * sizeof(*ps->fds));
    ps->w = xrealloc(ps->w, cap * sizeof(*ps->w));
    ps->d = xrealloc(ps->d, cap * sizeof(*ps->d));
    ps->n = 0;
    for (size_t i = 0; i < S->n_dests; i++)
        for (size_t k = 0; k < S->dests[i].n_workers; k++) {
            struct run_worker *w = &S->dests[i].workers[k];
            if (w->pid == 0 || w->fd < 0)
                continue;
            ps->fds[ps->n] = (struct pollfd){w->fd, POLLIN, 0};
            ps->w[ps->n] = w;
            ps->d[ps->n++] = &S->dests[i];
        }
    if (drain >= 0) {
        ps->fds[ps->n] = (struct pollfd){drain, POLLIN, 0};
        ps->w[ps->n] = NULL;
        ps->d[ps->n++] = NULL;
    }
}

/* Kills workers past their deadline; their death is seen by the poll. */
static int64_t check_deadlines(struct run_state *S, int64_t now)
{
    int64_t next = 0;

    for (size_t i = 0; i < S->n_dests; i++)
        for (size_t k = 0; k < S->dests[i].n_workers; k++) {
            struct run_worker *w = &S->dests[i].workers[k];
            if (w->pid == 0 || w->deadline_ms == 0 ||
                (w->state != WORKER_BUSY && w->state != WORKER_STARTING))
                continue;
            if (w->deadline_ms <= now && !w->timed_out) {
                w->timed_out = 1;
                kill(w->pid, SIGKILL);
            } else if (!w->timed_out && (next == 0 || w->deadline_ms < next)) {
                next = w->deadline_ms;
            }
        }
    return next;
}

static int64_t earliest(int64_t a, int64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    return a < b ? a : b;
}

int run_loop(struct config *cfg, struct spool *sp, const struct run_opts *o)
{
    struct run_state S;
    struct heads old = {0}, now = {0};
    struct pollset ps = {0};
    sigset_t block, orig;
    /* The first sweep at once: 'dray run --once' from cron deletes what
       spool.keep_loaded kept long enough, too. */
    int64_t next_scan = 0, stop_at = 0,
            last_sweep = run_now_ms() - SWEEP_EVERY_MS;
    int64_t last_progress = 0;
    int draining = 0, shown = 0, rc = EXITCODE_OK, done = 0;
    char dbuf[32];

    setup(&S, cfg, sp, o);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &orig);
    while (!done) {
        int64_t t = run_now_ms(), wake = 0, deadline;
        int once = o->once || draining;
        struct timespec ts;
        int n;

        S.finishing = once;
        if (o->stop != NULL && *o->stop >= 2)
            break;
        if (o->stop != NULL && *o->stop == 1 && stop_at == 0) {
            stop_at = t + cfg->run.grace_ms;
            drop_unstarted(&S);
            if (busy_total(&S) > 0)
                log_report(DRAY_LOG_INFO,
                           "%s: stopping; waiting up to %s for %zu "
                           "loads to finish",
                           o->name,
                           config_duration_str(cfg->run.grace_ms, dbuf),
                           busy_total(&S));
        }
        if (stop_at != 0 && (busy_total(&S) == 0 || t >= stop_at))
            break;
        if (cfg->keep_loaded_ms > 0 && t - last_sweep >= SWEEP_EVERY_MS) {
            spool_sweep_loaded(sp, cfg->keep_loaded_ms);
            last_sweep = t;
        }
        if (stop_at == 0 && t >= next_scan) {
            uint64_t todo;
            run_scan(&old, &now, sp);
            old = now;
            memset(&now, 0, sizeof(now));
            todo = run_plan(&S, &old, 1, &wake);
            next_scan = earliest(t + cfg->run.poll_ms, wake);
            if (once && todo == 0 && busy_total(&S) == 0)
                break;
        }
        if (o->progress && t - last_progress >= PROGRESS_EVERY_MS) {
            progress(&S, shown);
            shown = 1;
            last_progress = t;
        }
        deadline = check_deadlines(&S, t);
        deadline = earliest(deadline, stop_at ? stop_at : next_scan);
        if (o->progress)
            deadline = earliest(deadline, t + PROGRESS_EVERY_MS);
        build_pollset(&S, &ps,
                      o->drain_fd >= 0 && !draining ? o->drain_fd : -1);
        t = run_now_ms();
        deadline = deadline > t ? deadline - t : 0;
        ts.tv_sec = (time_t)(deadline / 1000);
        ts.tv_nsec = (long)(deadline % 1000) * 1000000;
        n = ppoll(ps.fds, ps.n, &ts, &orig);
        if (n < 0 && errno != EINTR) {
            log_report(DRAY_LOG_ERROR, "%s: cannot wait: %s", o->name,
                       strerror(errno));
            rc = EXITCODE_RUNTIME;
            break;
        }
        for (size_t i = 0; n > 0 && i < ps.n; i++) {
            struct run_worker *w = ps.w[i];
            char *line;
            int r;

            if (ps.fds[i].revents == 0)
                continue;
            if (w == NULL) {
                char buf[256];
                ssize_t k = read(o->drain_fd, buf, sizeof(buf));
                if (k == 0 || (k < 0 && errno != EINTR && errno != EAGAIN)) {
                    draining = 1;
                    next_scan = 0;
                }
                continue;
            }
            while ((r = run_worker_read(w, &line)) == 1) {
                if (on_line(&S, ps.d[i], w, line))
                    next_scan = 0; /* a stream may go on */
                free(line);
                if (w->pid == 0)
                    break;
            }
            if (r < 0 && w->pid != 0) {
                on_gone(&S, ps.d[i], w);
                next_scan = 0;
            }
        }
    }
    stop_all(&S);
    if (shown)
        fputs("\r\033[K", stderr);
    if (!o->quiet)
        summary(&S);
    if (rc == EXITCODE_OK && (o->stop == NULL || *o->stop == 0)) {
        for (size_t i = 0; i < S.n_dests; i++)
            if (S.dests[i].tot.gave_up)
                rc = EXITCODE_RUNTIME;
        if (rc == EXITCODE_OK && S.quarantined_seen)
            rc = EXITCODE_QUARANTINED;
    }
    sigprocmask(SIG_SETMASK, &orig, NULL);
    for (size_t i = 0; i < S.n_dests; i++)
        free(S.dests[i].workers);
    free(S.dests);
    free(ps.fds);
    free(ps.w);
    free(ps.d);
    run_heads_free(&old);
    return rc;
}

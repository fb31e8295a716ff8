/*
 * run.h - the loader runtime behind 'dray run' and 'dray target': a
 * scheduler that hands the spool's batches to per-destination worker
 * processes and records what became of them. docs/RUNTIME.md has the
 * rules.
 *
 * run_worker.c  starts a worker (fork + exec of 'dray __worker'), talks to
 *               it over a socket, passes it the stream's lease
 * run_sched.c   finds the next batch of each (destination, stream), takes
 *               leases, polls workers, enforces timeouts and shutdown
 * run_outcome.c acks, backs off, quarantines; keeps the counts
 */
#ifndef DRAY_HOST_RUN_H
#define DRAY_HOST_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "spool.h"
#include "strbuf.h"

/* ---- run_worker.c ---- */

enum {
    WORKER_STARTING = 0, /* waiting for READY */
    WORKER_IDLE = 1,
    WORKER_BUSY = 2,
    WORKER_DEAD = 3
};

struct run_job; /* run_sched.c */

struct run_worker {
    pid_t pid;
    int fd;           /* our end of the socket: the worker's stdin and stdout */
    int state;        /* WORKER_* */
    struct strbuf in; /* what it wrote, up to a newline */
    struct run_job *job; /* the load it is doing (or will, once READY) */
    int64_t deadline_ms; /* monotonic: kill when passed; 0 none */
    int timed_out;       /* killed for passing its deadline */
    int wstatus;         /* from waitpid once dead */
    unsigned epoch;      /* its destination's start_epoch when started */
};

/* Starts a worker for destination. Returns 0, or -1 with err. */
int run_worker_start(struct run_worker *w, const char *exe, const char *config,
                     const char *destination, struct strbuf *err);
/*
 * Sends "LOAD <attempt> <timeout_s> <file>" with the lease fd attached, so
 * the worker holds the lease too: should this process die, the lease
 * stays taken until the worker finished. 0, or -1 (the worker is gone).
 */
int run_worker_send(struct run_worker *w, uint32_t attempt, int64_t timeout_ms,
                    const char *file, int lease_fd);
/*
 * Reads what is available. Returns 1 with a complete line in *line
 * (malloc'd), 0 when there is none yet, -1 at EOF or error (the worker
 * died or closed).
 */
int run_worker_read(struct run_worker *w, char **line);
/* Closes its input (it exits once idle), or kills it with sig; then
   reaps it when block is set or it has exited. Returns 1 once reaped. */
int run_worker_stop(struct run_worker *w, int sig, int block);
/* "was killed by signal 11 (Segmentation fault)", "exited with status
   3": what a worker did, to follow "the worker ". */
void run_describe_exit(int wstatus, struct strbuf *out);

int64_t run_now_ms(void);       /* CLOCK_MONOTONIC */
int64_t run_wall_ms(void);      /* CLOCK_REALTIME */
const char *run_self_exe(void); /* this program, for exec */

/* ---- run_sched.c ---- */

struct run_opts {
    const char *name;                /* "dray run": prefixes the summary */
    const char *const *destinations; /* only these (NULL: all) */
    size_t n_destinations;
    const char *integration; /* only its batches (dray target); or NULL */
    int once;                /* exit when nothing is left to do */
    int progress;            /* draw a progress line on stderr */
    int quiet;               /* no summary */
    /* Set by a signal handler: 1 stop claiming work, 2 stop now. */
    volatile sig_atomic_t *stop;
    /* dray target: EOF on this fd means "finish what is pending, then
       exit" (-1: none). */
    int drain_fd;
};

/* Per destination, for the summary. */
struct run_totals {
    uint64_t loaded, rows, rejected, quarantined, retries, crashes;
    int gave_up; /* could not start a worker; its batches stay pending */
};

struct run_sched;

/* Runs until done (--once or drained) or stopped. Returns an EXITCODE_*. */
int run_loop(struct config *cfg, struct spool *sp, const struct run_opts *o);

#endif

/* run_internal.h - shared by run_sched.c and run_outcome.c only. */
#ifndef DRAY_HOST_RUN_INTERNAL_H
#define DRAY_HOST_RUN_INTERNAL_H

#include "run.h"

/* One batch being loaded at one destination. */
struct run_job {
    struct run_dest *d;
    char *file, *id, *stream;
    char hash[17]; /* the stream's */
    uint64_t n_records;
    int lease_fd;
    uint32_t attempt;
};

struct run_dest {
    const char *name;
    struct run_worker *workers; /* run.concurrency of them, some unused */
    size_t n_workers;
    int busy;              /* jobs in flight */
    int start_failures;    /* in a row */
    unsigned start_epoch;  /* counted start failures, ever: workers started
                              before the last one failed the same way */
    int64_t down_until_ms; /* monotonic: no new worker before */
    struct run_totals tot;
    uint64_t pending; /* batches to load, at the last scan */
    char decided[17]; /* scanning: the stream whose next batch is known */
};

struct run_state {
    struct config *cfg;
    struct spool *sp;
    const struct run_opts *o;
    struct run_dest *dests;
    size_t n_dests;
    uint64_t rng;
    int quarantined_seen; /* a quarantined batch holds back work */
    int finishing;        /* --once, or dray target's input ended: a destination
                             that cannot start is given up on */
};

/* A batch's header as far as scheduling needs it, kept between scans
   (batch files never change). */
struct head {
    char *file, *id, *stream, *integration;
    char **routes;
    size_t n_routes;
    uint64_t n_records;
    int damaged;
    uint64_t acked;  /* bit r: acked at routes[r] (known; r < 64) */
    int looked_done; /* checked once for acks at every route */
};

struct heads {
    struct head *v;
    size_t n;
};

/* run_sched.c */

/* The spool's batches in spool order into *now, reusing (and emptying)
   what *old read. */
void run_scan(struct heads *old, struct heads *now, const struct spool *sp);
void run_heads_free(struct heads *hs);
/*
 * One pass over the batches: claims what can start now (when claim_work
 * is set). Returns how many streams still have a batch to do (not held
 * back by a quarantine, at destinations that did not give up), and when
 * the next back-off ends in *wake_ms (monotonic; left alone when none).
 */
uint64_t run_plan(struct run_state *S, struct heads *hs, int claim_work,
                  int64_t *wake_ms);
/* run_loop.c: sends the worker its job (w->job). */
void run_send_job(struct run_state *S, struct run_worker *w);
/* Releases the job's lease and frees it. */
void run_job_free(struct run_job *j);

/* run_outcome.c */

/* A delay for the n-th failure (1-based): exponential from run.retry's
   initial to its max, with jitter; at least floor_ms. */
int64_t run_backoff_ms(struct run_state *S, int n, int64_t floor_ms);
/* A delay for a log line: "2.5 s", or "300 ms" under a second. */
const char *run_delay_str(int64_t ms, char buf[32]);
/* The worker answered the job with line (its JSON reply). Returns -1
   when the line is no reply at all (counted as a crash: the worker is
   out of step and must go), else 0. */
int run_outcome_reply(struct run_state *S, struct run_job *j, const char *line);
/* The worker died while loading the job (or was killed for its time). */
void run_outcome_crash(struct run_state *S, struct run_job *j, const char *how);
/* Quarantines (destination, batch) with reason, logging it. */
void run_quarantine(struct run_state *S, const char *destination,
                    const char *batch_id, const char *stream,
                    const char *reason);

#endif

/*
 * The scheduler: one loop that looks at the spool, hands each (destination,
 * stream)'s next batch to a worker of that destination, and waits on the
 * workers. Nothing here loads a plugin; workers do (run_worker.c).
 *
 * Order: per (destination, stream) the first batch not yet acked is the
 * only one that may load, so batches load in spool order and a quarantined
 * batch holds back its stream. Leases (flocks) keep other loader processes
 * off a stream while one loads it; the worker holds the lease too, so it
 * outlives this process if it must.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "run_internal.h"

static void head_free(struct head *h)
{
    for (size_t i = 0; i < h->n_routes; i++)
        free(h->routes[i]);
    free(h->routes);
    free(h->file);
    free(h->id);
    free(h->stream);
    free(h->integration);
}

void run_heads_free(struct heads *hs)
{
    for (size_t i = 0; i < hs->n; i++)
        head_free(&hs->v[i]);
    free(hs->v);
    hs->v = NULL;
    hs->n = 0;
}

static void head_peek(struct head *h, const char *file)
{
    struct spool_batch b;
    struct strbuf err = STRBUF_INIT;
    const char *base = strrchr(file, '/');

    memset(h, 0, sizeof(*h));
    h->file = xstrdup(file);
    if (spool_batch_peek(file, &b, &err) != 0) {
        h->damaged = 1;
        h->id = xstrdup(base ? base + 1 : file);
        h->id[strcspn(h->id, ".")] = '\0';
        h->stream = xstrdup("?");
        strbuf_release(&err);
        return;
    }
    h->id = b.id;
    h->stream = b.stream;
    h->integration = b.integration;
    h->routes = b.routes;
    h->n_routes = b.n_routes;
    h->n_records = b.n_records;
    b.id = b.stream = b.integration = NULL;
    b.routes = NULL;
    b.n_routes = 0;
    spool_batch_release(&b);
    strbuf_release(&err);
}

/* The spool's batches in spool order, reusing what the last scan read. */
void run_scan(struct heads *old, struct heads *now, const struct spool *sp)
{
    char **files = NULL;
    size_t n = spool_list(sp, &files), k = 0;

    now->v = xcalloc(n ? n : 1, sizeof(*now->v));
    now->n = n;
    for (size_t i = 0; i < n; i++) {
        int c = 1;
        /* Both lists are sorted: a merge. */
        while (k < old->n && (c = strcmp(old->v[k].file, files[i])) < 0)
            k++;
        if (k < old->n && c == 0) {
            now->v[i] = old->v[k];
            memset(&old->v[k], 0, sizeof(old->v[k]));
            k++;
        } else {
            head_peek(&now->v[i], files[i]);
        }
        free(files[i]);
    }
    free(files);
    run_heads_free(old);
}

static struct run_dest *find_dest(struct run_state *S, const char *name)
{
    for (size_t i = 0; i < S->n_dests; i++)
        if (strcmp(S->dests[i].name, name) == 0)
            return &S->dests[i];
    return NULL;
}

static int stream_busy(const struct run_dest *d, const char *hash)
{
    for (size_t i = 0; i < d->n_workers; i++) {
        const struct run_job *j = d->workers[i].job;
        if (j != NULL && strcmp(j->hash, hash) == 0)
            return 1;
    }
    return 0;
}

void run_job_free(struct run_job *j)
{
    if (j == NULL)
        return;
    if (j->lease_fd >= 0)
        close(j->lease_fd); /* after the ack: the next batch may go */
    free(j->file);
    free(j->id);
    free(j->stream);
    free(j);
}

/* Starts the load of j on a worker of its destination. */
static void dispatch(struct run_state *S, struct run_job *j)
{
    struct run_dest *d = j->d;
    struct run_worker *w = NULL;
    struct strbuf err = STRBUF_INIT;

    for (size_t i = 0; i < d->n_workers && w == NULL; i++)
        if (d->workers[i].state == WORKER_IDLE && d->workers[i].job == NULL)
            w = &d->workers[i];
    if (w == NULL)
        for (size_t i = 0; i < d->n_workers && w == NULL; i++)
            if (d->workers[i].pid == 0) {
                w = &d->workers[i];
                if (run_worker_start(w, run_self_exe(), S->cfg->path, d->name,
                                     &err) != 0) {
                    log_error("destination '%s': %s", d->name, err.buf);
                    strbuf_release(&err);
                    d->down_until_ms = run_now_ms() + S->cfg->run.poll_ms;
                    run_job_free(j);
                    return;
                }
                w->epoch = d->start_epoch;
                /* A plugin that never gets ready (a connect without a
                   timeout) must not hold the lease for ever either. */
                w->deadline_ms = run_now_ms() + S->cfg->run.batch_timeout_ms;
            }
    if (w == NULL) { /* cannot happen: busy < concurrency */
        run_job_free(j);
        return;
    }
    w->job = j;
    d->busy++;
    if (w->state == WORKER_IDLE)
        run_send_job(S, w); /* else once it is READY */
    strbuf_release(&err);
}

/* Takes the lease of (d, stream of h) and starts the load. 1 when taken. */
static int claim(struct run_state *S, struct run_dest *d, const struct head *h)
{
    struct strbuf err = STRBUF_INIT;
    struct run_job *j;
    char hash[17];
    int fd = -1, rc;

    if (spool_id_stream_hash(h->id, hash) != 0)
        return 0;
    rc = spool_lease(S->sp, d->name, hash, &fd, &err);
    if (rc < 0)
        log_warn("destination '%s': %s", d->name, strbuf_str(&err));
    strbuf_release(&err);
    if (rc != 0)
        return 0; /* held by another loader: waited for */
    /* What the scan saw may be stale: another loader may have finished
       the batch between the scan and the lease. The marker first: a batch
       done everywhere loses its file before its markers (spool_dest.c),
       so a marker gone with the file still there cannot be missed. */
    if (spool_dest_state(S->sp, d->name, h->id) != SPOOL_PENDING ||
        access(h->file, F_OK) != 0) {
        close(fd);
        return 0;
    }
    j = xcalloc(1, sizeof(*j));
    j->d = d;
    j->file = xstrdup(h->file);
    j->id = xstrdup(h->id);
    j->stream = xstrdup(h->stream);
    memcpy(j->hash, hash, sizeof(hash));
    j->n_records = h->n_records;
    j->lease_fd = fd;
    dispatch(S, j);
    return 1;
}

/* The quarantine reason for a route to a destination the config lost. */
static void quarantine_removed(struct run_state *S, const struct head *h,
                               const char *dest)
{
    struct strbuf why = STRBUF_INIT;

    strbuf_addf(&why,
                "destination '%s' is not in the config; put it back and run "
                "'dray requeue', or give the batch up there with 'dray "
                "quarantine drop'",
                dest);
    run_quarantine(S, dest, h->id, h->stream, why.buf);
    strbuf_release(&why);
}

/* Acked at every route (what the scan did not know is looked up). */
static int acked_everywhere(struct run_state *S, struct head *h)
{
    if (h->n_routes == 0 || h->n_routes > 64)
        return 0;
    for (size_t r = 0; r < h->n_routes; r++) {
        uint64_t bit = (uint64_t)1 << r;
        if (h->acked & bit)
            continue;
        if (spool_dest_state(S->sp, h->routes[r], h->id) != SPOOL_ACKED)
            return 0;
        h->acked |= bit;
    }
    return 1;
}

/* A batch acked at every route is deleted by its last ack; a loader
   killed between the two left it behind. Looked at once per batch. */
static void retire_done(struct run_state *S, const struct head *h)
{
    struct strbuf err = STRBUF_INIT;

    if (access(h->file, F_OK) == 0 &&
        spool_ack(S->sp, h->routes[0], h->file, 0, &err) != 0 &&
        access(h->file, F_OK) == 0)
        log_warn("batch %s: loaded everywhere but not deleted: %s", h->id,
                 strbuf_str(&err));
    strbuf_release(&err);
}

uint64_t run_plan(struct run_state *S, struct heads *hs, int claim_work,
                  int64_t *wake_ms)
{
    uint64_t todo = 0;
    int64_t wall = run_wall_ms(), mono = run_now_ms();

    /* Spool order keeps a stream's batches together, oldest first: the
       first one not acked decides for the stream (d->decided). */
    S->quarantined_seen = 0;
    for (size_t i = 0; i < S->n_dests; i++) {
        S->dests[i].pending = 0;
        S->dests[i].decided[0] = '\0';
    }
    for (size_t i = 0; i < hs->n; i++) {
        struct head *h = &hs->v[i];
        char hash[17];

        if (spool_id_stream_hash(h->id, hash) != 0)
            continue;
        if (h->damaged) {
            /* Its routes cannot be read: every destination run here holds
               it, and the rest of its stream, back until an operator
               looks. */
            for (size_t k = 0; k < S->n_dests; k++) {
                struct run_dest *d = &S->dests[k];
                int state = spool_dest_state(S->sp, d->name, h->id);
                if (state == SPOOL_ACKED)
                    continue;
                if (state == SPOOL_PENDING) {
                    run_quarantine(S, d->name, h->id, "?",
                                   "the batch file is damaged (its header "
                                   "or footer cannot be read)");
                    d->tot.quarantined++;
                }
                memcpy(d->decided, hash, sizeof(hash));
            }
            S->quarantined_seen = 1;
            continue;
        }
        if (S->o->integration != NULL &&
            strcmp(h->integration, S->o->integration) != 0)
            continue;
        for (size_t r = 0; r < h->n_routes; r++) {
            struct run_dest *d = find_dest(S, h->routes[r]);
            uint64_t bit = r < 64 ? (uint64_t)1 << r : 0;
            struct spool_failures f;
            int state;

            if (h->acked & bit)
                continue;
            if (d == NULL) {
                /* Routed to a destination the config lost: held back
                   there, which --once reports like any quarantine. */
                if (config_destination(S->cfg, h->routes[r]) == NULL) {
                    state = spool_dest_state(S->sp, h->routes[r], h->id);
                    if (state == SPOOL_PENDING)
                        quarantine_removed(S, h, h->routes[r]);
                    if (state != SPOOL_ACKED)
                        S->quarantined_seen = 1;
                    else
                        h->acked |= bit;
                }
                continue;
            }
            if (strcmp(d->decided, hash) == 0) {
                /* Behind an earlier batch of its stream: waits, whatever
                   its own state; no need to look. */
                d->pending++;
                continue;
            }
            state = spool_dest_state(S->sp, d->name, h->id);
            if (state == SPOOL_ACKED) {
                h->acked |= bit; /* an ack is never undone */
                continue;
            }
            memcpy(d->decided, hash, sizeof(hash));
            if (state == SPOOL_QUARANTINED) {
                S->quarantined_seen = 1;
                continue; /* holds back the rest of the stream */
            }
            d->pending++;
            if (d->tot.gave_up)
                continue;
            todo++;
            if (!claim_work || stream_busy(d, hash) ||
                d->busy >= (int)S->cfg->run.concurrency ||
                d->down_until_ms > mono)
                continue;
            spool_failures_read(S->sp, d->name, h->id, &f);
            if (f.not_before_ms > wall) {
                int64_t at = mono + (f.not_before_ms - wall);
                if (*wake_ms == 0 || at < *wake_ms)
                    *wake_ms = at;
                continue;
            }
            claim(S, d, h);
        }
        if (!h->looked_done) {
            h->looked_done = 1;
            if (S->cfg->keep_loaded_ms == 0 && acked_everywhere(S, h))
                retire_done(S, h);
        }
    }
    return todo;
}

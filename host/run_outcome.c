/*
 * What becomes of a batch after a load: acked on success; on a retryable
 * error tried again after a back-off, then quarantined; quarantined at once
 * on a permanent error or a damaged batch; after a worker death tried
 * again until run.crash_limit deaths make it poison. Failures are kept in
 * the spool, so a restarted loader neither forgets them nor hammers a
 * destination that is down.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "run_internal.h"

static uint64_t next_random(struct run_state *S)
{
    /* xorshift64: jitter needs spread, not secrecy. */
    S->rng ^= S->rng << 13;
    S->rng ^= S->rng >> 7;
    S->rng ^= S->rng << 17;
    return S->rng;
}

const char *run_delay_str(int64_t ms, char buf[32])
{
    if (ms < 1000)
        snprintf(buf, 32, "%lld ms", (long long)ms);
    else
        snprintf(buf, 32, "%.1f s", (double)ms / 1000);
    return buf;
}

int64_t run_backoff_ms(struct run_state *S, int n, int64_t floor_ms)
{
    const struct config_run *r = &S->cfg->run;
    int64_t d = r->retry_initial_ms;

    for (int i = 1; i < n && d < r->retry_max_ms; i++)
        d *= 2;
    if (d > r->retry_max_ms)
        d = r->retry_max_ms;
    /* "Equal jitter": half fixed, half random, so loaders that failed
       together do not come back together. */
    d = d / 2 + (int64_t)(next_random(S) % (uint64_t)(d / 2 + 1));
    return d < floor_ms ? floor_ms : d;
}

void run_quarantine(struct run_state *S, const char *destination,
                    const char *batch_id, const char *stream,
                    const char *reason)
{
    struct strbuf err = STRBUF_INIT;

    if (spool_quarantine(S->sp, destination, batch_id, stream, reason, &err) !=
        0)
        log_error("destination '%s': cannot quarantine batch %s: %s; it "
                  "will be offered again",
                  destination, batch_id, strbuf_str(&err));
    else
        log_error("destination '%s': batch %s (stream '%s') quarantined: %s",
                  destination, batch_id, stream, reason);
    strbuf_release(&err);
}

static void set_error(struct run_state *S, struct run_job *j, const char *msg)
{
    struct strbuf line = STRBUF_INIT;

    strbuf_addf(&line, "batch %s (stream '%s'): %s", j->id, j->stream, msg);
    spool_last_error_set(S->sp, j->d->name, line.buf);
    strbuf_release(&line);
}

static void quarantine_job(struct run_state *S, struct run_job *j,
                           const char *reason)
{
    run_quarantine(S, j->d->name, j->id, j->stream, reason);
    set_error(S, j, reason);
    j->d->tot.quarantined++;
}

static void loaded(struct run_state *S, struct run_job *j, json_t *reply)
{
    struct spool_dest_stats add = {1, 0, 0};
    struct strbuf err = STRBUF_INIT;
    const char *table;
    json_t *n;

    json_object_foreach (json_object_get(reply, "rows"), table, n)
        add.rows_loaded += (uint64_t)json_integer_value(n);
    add.rows_rejected =
        (uint64_t)json_integer_value(json_object_get(reply, "rejected"));
    /* The ack follows the plugin's commit. Should it fail, the batch is
       offered again and the plugin's idempotence absorbs it. */
    if (spool_ack(S->sp, j->d->name, j->file, S->cfg->keep_loaded_ms > 0,
                  &err) != 0) {
        log_error("destination '%s': batch %s loaded but not marked so: %s; "
                  "it will be offered again",
                  j->d->name, j->id, strbuf_str(&err));
        strbuf_release(&err);
        return;
    }
    strbuf_reset(&err);
    if (spool_stats_add(S->sp, j->d->name, &add, &err) != 0)
        log_warn("destination '%s': %s", j->d->name, strbuf_str(&err));
    spool_last_error_set(S->sp, j->d->name, NULL);
    j->d->tot.loaded++;
    j->d->tot.rows += add.rows_loaded;
    j->d->tot.rejected += add.rows_rejected;
    log_info("destination '%s': batch %s loaded: %" PRIu64 " rows, %" PRIu64
             " rejected (attempt %u)",
             j->d->name, j->id, add.rows_loaded, add.rows_rejected, j->attempt);
    strbuf_release(&err);
}

/* A retryable failure: back off, or give up at run.retry.attempts. */
static void retry_later(struct run_state *S, struct run_job *j, const char *msg,
                        int64_t floor_ms)
{
    struct spool_failures f;
    struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
    int64_t delay;
    char dbuf[32];

    spool_failures_read(S->sp, j->d->name, j->id, &f);
    f.retryable++;
    if (f.retryable >= S->cfg->run.retry_attempts) {
        strbuf_addf(&why, "gave up after %d retryable failures: %s",
                    f.retryable, msg);
        quarantine_job(S, j, why.buf);
        goto out;
    }
    delay = run_backoff_ms(S, f.retryable, floor_ms);
    f.not_before_ms = run_wall_ms() + delay;
    if (spool_failures_write(S->sp, j->d->name, j->id, &f, &err) != 0)
        log_warn("destination '%s': %s", j->d->name, strbuf_str(&err));
    set_error(S, j, msg);
    j->d->tot.retries++;
    log_warn("destination '%s': batch %s failed (%d of %lld): %s; retrying "
             "in %s",
             j->d->name, j->id, f.retryable,
             (long long)S->cfg->run.retry_attempts, msg,
             run_delay_str(delay, dbuf));
out:
    strbuf_release(&why);
    strbuf_release(&err);
}

int run_outcome_reply(struct run_state *S, struct run_job *j, const char *line)
{
    json_error_t jerr;
    json_t *reply = json_loads(line, 0, &jerr);
    const char *status = json_string_value(json_object_get(reply, "status"));
    const char *msg = json_string_value(json_object_get(reply, "message"));
    struct strbuf why = STRBUF_INIT;
    int rc = 0;

    if (status == NULL) {
        strbuf_addf(&why, "answered something unreadable: %.200s", line);
        run_outcome_crash(S, j, why.buf);
        rc = -1;
    } else if (strcmp(status, "OK") == 0) {
        loaded(S, j, reply);
    } else if (strcmp(status, "E_RETRYABLE") == 0 ||
               strcmp(status, "E_NOMEM") == 0 ||
               strcmp(status, "E_CANCELLED") == 0) {
        strbuf_addf(&why, "%s: %s", status, msg ? msg : "(no message)");
        retry_later(
            S, j, why.buf,
            json_integer_value(json_object_get(reply, "retry_after_ms")));
    } else if (strcmp(status, "DAMAGED") == 0) {
        quarantine_job(S, j, msg ? msg : "damaged batch");
    } else {
        /* Permanent, config, unsupported, ABI: trying again cannot help. */
        strbuf_addf(&why, "%s: %s", status, msg ? msg : "(no message)");
        quarantine_job(S, j, why.buf);
    }
    strbuf_release(&why);
    json_decref(reply);
    return rc;
}

void run_outcome_crash(struct run_state *S, struct run_job *j, const char *how)
{
    struct spool_failures f;
    struct strbuf err = STRBUF_INIT, why = STRBUF_INIT;
    int64_t delay;
    char dbuf[32];

    spool_failures_read(S->sp, j->d->name, j->id, &f);
    f.crashes++;
    j->d->tot.crashes++;
    if (f.crashes >= S->cfg->run.crash_limit) {
        strbuf_addf(&why,
                    "poison batch: %d workers died loading it "
                    "(run.crash_limit); the last one %s",
                    f.crashes, how);
        quarantine_job(S, j, why.buf);
        goto out;
    }
    delay = run_backoff_ms(S, f.crashes, 0);
    f.not_before_ms = run_wall_ms() + delay;
    if (spool_failures_write(S->sp, j->d->name, j->id, &f, &err) != 0)
        log_warn("destination '%s': %s", j->d->name, strbuf_str(&err));
    strbuf_addf(&why, "the worker %s", how);
    set_error(S, j, why.buf);
    log_warn("destination '%s': the worker loading batch %s %s (%d of "
             "%lld); retrying in %s",
             j->d->name, j->id, how, f.crashes,
             (long long)S->cfg->run.crash_limit, run_delay_str(delay, dbuf));
out:
    strbuf_release(&why);
    strbuf_release(&err);
}

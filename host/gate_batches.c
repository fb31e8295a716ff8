/*
 * gate_batches.c - the gate's streams and their open batches: when a batch
 * is cut, committing it (waiting for room when the spool is full), and
 * which STATE is durable.
 *
 * A STATE is durable once every batch that was open when it arrived is
 * committed. Batches get a serial number when they open, so a STATE only
 * needs the last serial opened before it (its watermark): it is durable
 * when no open batch has a serial at or below that.
 */
#include "gate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define WAIT_FIRST_MS 50
#define WAIT_MAX_MS 5000
/* What commit adds to spool_writer_bytes(): the footer (about 200 bytes of
   JSON) and the 16-byte trailer (docs/SPOOL.md). A bound, so that
   spool.max_bytes holds to the byte; the spool API has no exact figure. */
#define COMMIT_BYTES_BOUND 256

int64_t gate_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gate_init(struct gate *g, struct spool *sp,
               const struct gate_settings *set)
{
    memset(g, 0, sizeof(*g));
    g->sp = sp;
    g->set = *set;
    g->next_serial = 1;
    g->random_pos = sizeof(g->random); /* empty: filled on first use */
    dray_json_doc_init(&g->doc);
}

/* Frees the stream's SCHEMA: the model, the keys, the text. */
static void drop_schema(struct gate_stream *st)
{
    if (st->has_schema)
        dray_schema_release(&st->schema);
    st->has_schema = 0;
    for (size_t i = 0; i < st->n_keys; i++)
        free(st->keys[i]);
    free(st->keys);
    free(st->schema_json);
    st->keys = NULL;
    st->n_keys = 0;
    st->schema_json = NULL;
}

static void stream_free(struct gate_stream *st)
{
    spool_writer_abort(st->w);
    drop_schema(st);
    free(st->key_nodes);
    free(st->warned);
    free(st->node_name_len);
    free(st->guess);
    free(st->name);
    free(st);
}

void gate_release(struct gate *g)
{
    for (size_t i = 0; i < g->n_streams; i++)
        stream_free(g->streams[i]);
    free(g->streams);
    free(g->index);
    for (size_t i = 0; i < g->n_pending; i++)
        free(g->pending[i].json);
    free(g->pending);
    free(g->durable);
    free(g->subst);
    free(g->key_tok);
    dray_json_doc_release(&g->doc);
    dray_buf_release(&g->out);
    dray_buf_release(&g->text);
    dray_buf_release(&g->subst_text);
    strbuf_release(&g->reason);
    strbuf_release(&g->err);
    memset(g, 0, sizeof(*g));
}

/* ---- streams ---- */

static uint64_t hash_name(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */

    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void index_put(uint32_t *index, size_t mask,
                      const struct gate_stream *st, uint32_t number)
{
    size_t i = hash_name(st->name, st->name_len) & mask;

    while (index[i] != 0)
        i = (i + 1) & mask;
    index[i] = number;
}

/* Keeps the index at most half full, so probes stay short. */
static void index_grow(struct gate *g)
{
    size_t n = g->index ? (g->index_mask + 1) * 2 : 64;

    free(g->index);
    g->index = xcalloc(n, sizeof(*g->index));
    g->index_mask = n - 1;
    for (size_t i = 0; i < g->n_streams; i++)
        index_put(g->index, g->index_mask, g->streams[i], (uint32_t)i + 1);
}

struct gate_stream *gate_stream(struct gate *g, const char *name, size_t n,
                                int create)
{
    struct gate_stream *st = g->last;
    size_t i;

    /* Taps mostly send runs of one stream: skip the hashing. */
    if (st != NULL && st->name_len == n && memcmp(st->name, name, n) == 0)
        return st;
    if (g->index != NULL) {
        for (i = hash_name(name, n) & g->index_mask; g->index[i] != 0;
             i = (i + 1) & g->index_mask) {
            st = g->streams[g->index[i] - 1];
            if (st->name_len == n && memcmp(st->name, name, n) == 0)
                return g->last = st;
        }
    }
    if (!create)
        return NULL;
    st = xcalloc(1, sizeof(*st));
    st->name = xmalloc(n + 1);
    memcpy(st->name, name, n);
    st->name[n] = '\0';
    st->name_len = n;
    g->streams = xrealloc(g->streams, (g->n_streams + 1) * sizeof(*g->streams));
    g->streams[g->n_streams++] = st;
    if (g->index == NULL || g->n_streams * 2 > g->index_mask + 1)
        index_grow(g);
    else
        index_put(g->index, g->index_mask, st, (uint32_t)g->n_streams);
    return g->last = st;
}

/* ---- STATE ---- */

/* Moves the STATEs whose batches are all committed to g->durable. */
static void settle_states(struct gate *g)
{
    uint64_t oldest = UINT64_MAX;
    size_t done = 0;

    for (size_t i = 0; i < g->n_streams; i++)
        if (g->streams[i]->w != NULL && g->streams[i]->serial < oldest)
            oldest = g->streams[i]->serial;
    while (done < g->n_pending && g->pending[done].watermark < oldest)
        done++;
    if (done == 0)
        return;
    /* Only the latest durable STATE matters. */
    if (g->on_durable_state != NULL)
        g->on_durable_state(g->hook_ctx, g->pending[done - 1].json,
                            g->pending[done - 1].len);
    free(g->durable);
    g->durable = g->pending[done - 1].json;
    g->durable_len = g->pending[done - 1].len;
    g->durable_unsaved = 1;
    for (size_t i = 0; i + 1 < done; i++)
        free(g->pending[i].json);
    memmove(g->pending, g->pending + done,
            (g->n_pending - done) * sizeof(*g->pending));
    g->n_pending -= done;
}

/* A full disk, told by errno or, as errno may not survive the clean-up
   after the failure, by the reason's words. */
static int disk_full(struct gate *g, unsigned *delay_ms);

static int save_state(struct gate *g)
{
    unsigned delay = WAIT_FIRST_MS;

    if (!g->durable_unsaved)
        return GATE_OK;
    for (;;) {
        int rc = spool_state_save(g->sp, g->set.integration, g->durable,
                                  g->durable_len, &g->err);
        if (rc == 0)
            break;
        if (rc < 0)
            return GATE_FAILED;
        /* A full disk: the batches are durable; the STATE waits for space
           as they do (or fails with the usual message). */
        if (disk_full(g, &delay) != GATE_OK)
            return GATE_FAILED;
    }
    g->durable_unsaved = 0;
    return GATE_OK;
}

static int any_open(const struct gate *g)
{
    for (size_t i = 0; i < g->n_streams; i++)
        if (g->streams[i]->w != NULL)
            return 1;
    return 0;
}

int gate_add_state(struct gate *g, const char *json, size_t len)
{
    uint64_t mark = g->next_serial - 1;
    struct gate_pending *p;

    g->stats.states++;
    if (!any_open(g)) {
        /* Everything before it is durable already; saved at the next
           commit, tick or the end, so a STATE-heavy tap costs no fsync
           per message. */
        if (g->on_durable_state != NULL)
            g->on_durable_state(g->hook_ctx, json, len);
        free(g->durable);
        g->durable = xmalloc(len + 1);
        memcpy(g->durable, json, len);
        g->durable[len] = '\0';
        g->durable_len = len;
        g->durable_unsaved = 1;
        return GATE_OK;
    }
    if (g->n_pending > 0 && g->pending[g->n_pending - 1].watermark == mark) {
        /* Waits for the same batches: the newer one supersedes it. */
        p = &g->pending[g->n_pending - 1];
        free(p->json);
    } else {
        if (g->n_pending == g->cap_pending) {
            g->cap_pending = g->cap_pending ? g->cap_pending * 2 : 16;
            g->pending =
                xrealloc(g->pending, g->cap_pending * sizeof(*g->pending));
        }
        p = &g->pending[g->n_pending++];
        p->watermark = mark;
    }
    p->json = xmalloc(len + 1);
    memcpy(p->json, json, len);
    p->json[len] = '\0';
    p->len = len;
    return GATE_OK;
}

/* ---- room in the spool ---- */

/* Sleeps *delay_ms (doubling it up to WAIT_MAX_MS), unless stopped. */
static int pause_a_while(struct gate *g, unsigned *delay_ms)
{
    struct timespec ts;

    g->stats.full_waits++;
    ts.tv_sec = *delay_ms / 1000;
    ts.tv_nsec = (long)(*delay_ms % 1000) * 1000000L;
    if (!(g->stop && *g->stop))
        nanosleep(&ts, NULL);
    if (g->stop && *g->stop) {
        strbuf_addf(&g->err,
                    "interrupted while waiting for room in spool "
                    "'%s'",
                    g->sp->path);
        return GATE_FAILED;
    }
    *delay_ms = *delay_ms * 2 > WAIT_MAX_MS ? WAIT_MAX_MS : *delay_ms * 2;
    return GATE_OK;
}

/* spool.max_bytes: waits (on_full: wait) or fails until bytes more fit. */
static int make_room(struct gate *g, uint64_t bytes)
{
    const uint64_t max = g->set.spool_max_bytes;
    unsigned delay = WAIT_FIRST_MS;
    int waited = 0;

    if (max == 0)
        return GATE_OK;
    for (;;) {
        uint64_t used = spool_bytes(g->sp);

        /* An empty spool takes any batch: nothing could drain to make
           room for one larger than the limit. */
        if (used == 0 || used + bytes <= max) {
            if (waited)
                log_info("spool '%s' has room again; going on", g->sp->path);
            return GATE_OK;
        }
        if (!g->set.wait_when_full) {
            strbuf_addf(&g->err,
                        "spool '%s' is full: %llu of %llu bytes "
                        "(spool.max_bytes) in use; run the loaders to drain "
                        "it, or raise spool.max_bytes",
                        g->sp->path, (unsigned long long)used,
                        (unsigned long long)max);
            return GATE_FAILED;
        }
        /* Warned once a run; later waits are routine, logged as info. */
        if (!waited)
            log_msg(g->warned_full++ ? DRAY_LOG_INFO : DRAY_LOG_WARN,
                    "spool '%s' is full: %llu of %llu bytes (spool.max_bytes) "
                    "in use; waiting for the loaders to make room",
                    g->sp->path, (unsigned long long)used,
                    (unsigned long long)max);
        waited = 1;
        if (pause_a_while(g, &delay) != GATE_OK)
            return GATE_FAILED;
    }
}

/* The spool writer met a full disk and kept everything: wait or fail. */
static int disk_full(struct gate *g, unsigned *delay_ms)
{
    if (!g->set.wait_when_full) {
        strbuf_addf(&g->err,
                    "the disk holding spool '%s' is full; free space, or set "
                    "spool.max_bytes below what the disk holds",
                    g->sp->path);
        return GATE_FAILED;
    }
    if (*delay_ms == WAIT_FIRST_MS)
        log_msg(g->warned_full++ ? DRAY_LOG_INFO : DRAY_LOG_WARN,
                "the disk holding spool '%s' is full; waiting for space",
                g->sp->path);
    return pause_a_while(g, delay_ms);
}

/* ---- batches ---- */

static int open_batch(struct gate *g, struct gate_stream *st, int has_version,
                      int64_t version, int activate)
{
    struct spool_batch_head h;

    memset(&h, 0, sizeof(h));
    h.integration = g->set.integration;
    h.stream = st->name;
    h.keys = (const char *const *)st->keys;
    h.n_keys = st->n_keys;
    h.schema_json = st->schema_json;
    h.has_table_version = has_version;
    h.table_version = version;
    h.activate_version = activate;
    h.routes = g->set.routes;
    h.n_routes = g->set.n_routes;
    st->w = spool_writer_open(g->sp, &h, &g->err);
    if (st->w == NULL)
        return GATE_FAILED;
    st->serial = g->next_serial++;
    st->has_version = has_version;
    st->version = version;
    return GATE_OK;
}

static int commit(struct gate *g, struct gate_stream *st)
{
    unsigned delay = WAIT_FIRST_MS;
    char id[160];
    int rc;

    if (st->w == NULL)
        return GATE_OK;
    if (make_room(g, spool_writer_bytes(st->w) + COMMIT_BYTES_BOUND) != GATE_OK)
        return GATE_FAILED;
    while ((rc = spool_writer_commit(st->w, id, &g->err)) == 1)
        if (disk_full(g, &delay) != GATE_OK)
            return GATE_FAILED; /* the writer is kept; release aborts it */
    st->w = NULL;               /* freed by the commit, whatever it returned */
    if (rc != 0)
        return GATE_FAILED;
    g->stats.batches++;
    if (g->on_commit != NULL)
        g->on_commit(g->hook_ctx, id);
    settle_states(g);
    return GATE_OK;
}

/* Commits st's open batch and saves a STATE that became durable. */
static int cut(struct gate *g, struct gate_stream *st)
{
    if (commit(g, st) != GATE_OK)
        return GATE_FAILED;
    return save_state(g);
}

int gate_set_schema(struct gate *g, struct gate_stream *st,
                    struct dray_schema *schema, const char *json, size_t len,
                    char **keys, size_t n_keys)
{
    int rc = cut(g, st);

    /* The stream takes the schema and keys even on failure: one owner. */
    drop_schema(st);
    st->schema = *schema;
    st->has_schema = 1;
    st->keys = keys;
    st->n_keys = n_keys;
    st->schema_json = xmalloc(len + 1);
    memcpy(st->schema_json, json, len);
    st->schema_json[len] = '\0';
    st->schema_len = len;
    gate_prepare_schema(st);
    return rc;
}

int gate_activate_version(struct gate *g, struct gate_stream *st,
                          int64_t version)
{
    /* The batch after the cut starts with the activation; committed empty
       when no record of that version follows. */
    if (cut(g, st) != GATE_OK)
        return GATE_FAILED;
    return open_batch(g, st, 1, version, 1);
}

int gate_add_record(struct gate *g, struct gate_stream *st, int has_version,
                    int64_t version, const struct spool_record_meta *meta)
{
    unsigned delay = WAIT_FIRST_MS;
    int rc;

    /* A batch holds one table version. */
    if (st->w != NULL &&
        (st->has_version != has_version ||
         (has_version && st->version != version)) &&
        cut(g, st) != GATE_OK)
        return GATE_FAILED;
    if (st->w == NULL && open_batch(g, st, has_version, version, 0) != GATE_OK)
        return GATE_FAILED;
    rc = spool_writer_add(st->w, g->out.data, g->out.len, meta, &g->err);
    while (rc == 1) {
        if (disk_full(g, &delay) != GATE_OK)
            return GATE_FAILED;
        rc = spool_writer_retry(st->w, &g->err);
    }
    if (rc != 0)
        return GATE_FAILED;
    g->stats.records++;
    if (spool_writer_records(st->w) >= g->set.batch_max_records ||
        spool_writer_bytes(st->w) >= g->set.batch_max_bytes)
        return cut(g, st);
    return GATE_OK;
}

int gate_tick(struct gate *g)
{
    int64_t now = gate_now_ms();

    if (g->wake != NULL && now >= g->wake_at_ms) {
        g->wake_at_ms = now + g->wake_every_ms;
        g->wake(g->hook_ctx, g);
    }
    for (size_t i = 0; i < g->n_streams; i++) {
        struct gate_stream *st = g->streams[i];

        if (st->w != NULL &&
            now - spool_writer_started_ms(st->w) >= g->set.batch_max_age_ms &&
            commit(g, st) != GATE_OK)
            return GATE_FAILED;
    }
    return save_state(g);
}

int64_t gate_deadline_ms(const struct gate *g)
{
    int64_t first = -1;

    for (size_t i = 0; i < g->n_streams; i++) {
        const struct gate_stream *st = g->streams[i];
        int64_t due;

        if (st->w == NULL)
            continue;
        due = spool_writer_started_ms(st->w) + g->set.batch_max_age_ms;
        if (first < 0 || due < first)
            first = due;
    }
    if (g->wake != NULL && (first < 0 || g->wake_at_ms < first))
        first = g->wake_at_ms;
    return first;
}

int gate_finish(struct gate *g)
{
    for (size_t i = 0; i < g->n_streams; i++)
        if (commit(g, g->streams[i]) != GATE_OK)
            return GATE_FAILED;
    return save_state(g);
}

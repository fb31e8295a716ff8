/*
 * gate.h - the gate behind 'dray put': Singer messages in, spool batches
 * out. Shared by gate_*.c and cmd_put.c only; docs/GATE.md has the rules.
 *
 * gate_input.c    reads files and stdin in big chunks and splits lines
 * gate_messages.c parses a line and dispatches the Singer message
 * gate_validate.c checks a record against its schema
 * gate_write.c    writes the text the spool stores
 * gate_batches.c  keeps one open batch per stream, cuts and commits them,
 *                 and saves the latest durable STATE
 *
 * Functions return GATE_OK, GATE_BAD_INPUT (the input is wrong: the message
 * is in g->err, the caller prefixes the file and line) or GATE_FAILED (the
 * gate cannot go on: disk, spool, memory; the message is in g->err).
 */
#ifndef DRAY_HOST_GATE_H
#define DRAY_HOST_GATE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "dray/dray_datetime.h"
#include "dray/dray_json.h"
#include "dray/dray_schema.h"
#include "spool.h"
#include "strbuf.h"

enum { GATE_OK = 0, GATE_BAD_INPUT = -1, GATE_FAILED = -2 };

/* A line (one message) longer than this is refused. */
#define GATE_MAX_LINE ((size_t)20 * 1024 * 1024)

struct gate_settings {
    const char *integration;
    int on_invalid; /* CONFIG_INVALID_* */
    uint64_t batch_max_bytes;
    uint64_t batch_max_records;
    int64_t batch_max_age_ms;
    uint64_t spool_max_bytes; /* 0: no limit */
    int wait_when_full;       /* spool.on_full: wait */
    const char *const *routes;
    size_t n_routes;
};

struct gate_stream {
    char *name;
    size_t name_len;

    /* The stream's current SCHEMA. */
    int has_schema;
    struct dray_schema schema;
    char *schema_json; /* compact */
    size_t schema_len;
    char **keys;
    size_t n_keys;
    int32_t *key_nodes;      /* per key: its node */
    uint8_t *warned;         /* per node: a mismatch was logged */
    uint32_t *node_name_len; /* per node: strlen of its name */
    int32_t *guess;          /* per position of a record's member: the node the
                                previous record had there (-1: undeclared) */
    size_t n_guess;
    int warned_extracted;

    /* The open batch, if any. */
    struct spool_writer *w;
    uint64_t serial; /* the gate's count of batches opened, at open */
    int has_version;
    int64_t version;
};

/* A STATE not yet durable: it waits for every batch open when it came. */
struct gate_pending {
    char *json;
    size_t len;
    uint64_t watermark; /* the last serial opened before it */
};

/* A date-time string the stored record gets in its normalised form. */
struct gate_subst {
    uint32_t token;
    size_t at; /* offset in gate.subst_text */
    size_t len;
};

struct gate_stats {
    uint64_t lines;
    uint64_t bytes;
    uint64_t records;
    uint64_t rejected;
    uint64_t mismatches; /* values of another type than declared */
    uint64_t batches;
    uint64_t states;
    uint64_t full_waits; /* pauses for room in the spool or on the disk */
};

struct gate {
    struct spool *sp;
    struct gate_settings set;

    struct gate_stream **streams; /* in order of arrival */
    size_t n_streams;
    uint32_t *index; /* open addressing: stream number + 1, 0 empty */
    size_t index_mask;
    struct gate_stream *last; /* the stream of the previous message */
    uint64_t next_serial;

    struct gate_pending *pending;
    size_t n_pending, cap_pending;
    char *durable; /* the latest durable STATE */
    size_t durable_len;
    int durable_unsaved;

    /* Where the current message is, for messages. */
    const char *file;
    uint64_t line;
    size_t column; /* 1-based byte column of a JSON error; 0: none */
    int64_t now_us;

    /* Reused message by message. */
    struct dray_json_doc doc;
    struct dray_buf out;  /* the record as stored */
    struct dray_buf text; /* decoded names, compact schemas */
    struct gate_subst *subst;
    size_t n_subst, cap_subst;
    struct dray_buf subst_text;
    int32_t *key_tok; /* per key property: its value in the record, or -1 */
    size_t cap_key_tok;
    struct strbuf reason;
    struct strbuf err;

    unsigned char random[4096];
    size_t random_pos;

    struct gate_stats stats;
    int warned_full;             /* a wait for room was logged as a warning */
    volatile sig_atomic_t *stop; /* set by a signal: finish early */
    /* dray target's hooks (all optional): a batch became visible in the
       spool; a STATE became durable (every batch before it committed);
       and a call every wake_every_ms, also while stdin is quiet. */
    void (*on_commit)(void *ctx, const char *batch_id);
    void (*on_durable_state)(void *ctx, const char *json, size_t len);
    void (*wake)(void *ctx, struct gate *g);
    void *hook_ctx;
    int64_t wake_every_ms;
    int64_t wake_at_ms;
    void (*progress)(void *ctx, const struct gate *g);
    void *progress_ctx;
};

/* ---- gate_batches.c ---- */

void gate_init(struct gate *g, struct spool *sp,
               const struct gate_settings *set);
/* Aborts every open batch (nothing of them becomes visible) and frees. */
void gate_release(struct gate *g);

/* The stream named name (n decoded bytes), made when create is set. */
struct gate_stream *gate_stream(struct gate *g, const char *name, size_t n,
                                int create);
/* Installs a new SCHEMA (already parsed into *schema, which the stream
   takes over), cutting the stream's open batch. */
int gate_set_schema(struct gate *g, struct gate_stream *st,
                    struct dray_schema *schema, const char *json, size_t len,
                    char **keys, size_t n_keys);
int gate_add_record(struct gate *g, struct gate_stream *st, int has_version,
                    int64_t version, const struct spool_record_meta *meta);
int gate_activate_version(struct gate *g, struct gate_stream *st,
                          int64_t version);
int gate_add_state(struct gate *g, const char *json, size_t len);
/* Commits the batches older than batch.max_age; saves a durable STATE. */
int gate_tick(struct gate *g);
/* When the oldest open batch is due or the wake hook wants to run (ms
   since the epoch), or -1. */
int64_t gate_deadline_ms(const struct gate *g);
/* Commits every open batch and saves the last STATE. */
int gate_finish(struct gate *g);
int64_t gate_now_ms(void);

/* ---- gate_validate.c ---- */

/* Per-schema lookups after gate_set_schema. */
int gate_prepare_schema(struct gate_stream *st);
/*
 * Checks record token rec of g->doc against st's schema and writes the
 * text to store into g->out. Sets *rejected (the reason in g->reason) for
 * a record the destinations must reject; returns GATE_BAD_INPUT when
 * on_invalid is fail.
 */
int gate_check_record(struct gate *g, struct gate_stream *st, uint32_t rec,
                      int *rejected);

/* ---- gate_write.c ---- */

/* Writes record token rec of g->doc into g->out as the spool stores it,
   with the date-times gate_check_record noted in g->subst. */
int gate_write_record(struct gate *g, uint32_t rec);
/*
 * A date-time in UTC, as dray_datetime_format writes it: returns its
 * length in out, 0 when s (n bytes) is in that form already (out is not
 * written), -1 when s is not a date-time.
 */
int gate_datetime(const char *s, size_t n, char out[DRAY_DATETIME_MAX]);
/* A new random (v4) UUID, 36 characters and a NUL. */
int gate_uuid(struct gate *g, char out[37]);

/* ---- gate_messages.c ---- */

/* Handles one line (without its newline). */
int gate_message(struct gate *g, const char *line, size_t len);

/* ---- gate_setup.c ---- */

struct config;
/* Fills set from the config for integration; returns the route list
   (set->routes), malloc'd: free it after the gate. Warns when no route
   names the integration. */
const char **gate_settings_from_config(struct gate_settings *set,
                                       const struct config *cfg,
                                       const char *integration);

/* ---- gate_input.c ---- */

/* Reads every line of fd (named name in messages) through the gate. */
int gate_read(struct gate *g, int fd, const char *name);

#endif

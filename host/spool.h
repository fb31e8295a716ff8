/*
 * spool.h - the durable store between the gate (dray put) and the loaders.
 *
 * The interface is what a backend must offer (docs/ARCHITECTURE.md, "The
 * spool seam"): append a batch, list, read, and (for the loader runtime)
 * claim, ack and quarantine. This file holds the local-directory backend's
 * writer and reader; the format is docs/SPOOL.md.
 *
 * A batch becomes visible only complete: written under tmp/, fsynced,
 * renamed into batches/, the folder fsynced. Its id and sequence range are
 * assigned at that moment under the stream's lock, so batches of a stream
 * appear in the order of their sequences, whichever process wrote them.
 */
#ifndef DRAY_HOST_SPOOL_H
#define DRAY_HOST_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define SPOOL_FORMAT 1

struct spool {
    char *path;         /* absolute */
    char uuid[37];      /* 8-4-4-4-12 hex */
    int dir_fd;         /* the spool folder */
    uint64_t max_bytes; /* 0: no limit */
    int wait_when_full; /* spool.on_full: wait (1) or fail (0) */
    /* spool_bytes' estimate: a scan's total plus what this process
       committed since; rescanned at most once a second. */
    uint64_t scanned_bytes, committed_bytes;
    int64_t scanned_at_us;
};

/*
 * Opens the spool at path, creating it (mode 0700) when it does not exist
 * and create is set. Refuses a spool of another format with a message that
 * names both formats. Sweeps temporary files left by dead processes.
 * Returns 0, or -1 with a one-line reason in err.
 */
int spool_open(struct spool *sp, const char *path, int create,
               struct strbuf *err);
void spool_close(struct spool *sp);

/* Bytes the spool's batches take on disk. */
uint64_t spool_bytes(const struct spool *sp);

/* ---- writing a batch ---- */

/* What a batch is, known when it is started. */
struct spool_batch_head {
    const char *integration;
    const char *stream;
    const char *const *keys;
    size_t n_keys;
    const char *schema_json; /* the SCHEMA message's "schema", compact */
    int has_table_version;
    int64_t table_version;
    int activate_version;      /* starts with ACTIVATE_VERSION */
    const char *const *routes; /* destination names */
    size_t n_routes;
};

/* Flags of one record in a batch. */
#define SPOOL_REC_REJECTED 0x01 /* rejected at the gate; reason kept */

struct spool_record_meta {
    uint32_t flags;
    int64_t received_at_us;   /* µs since the epoch */
    const char *extracted_at; /* RFC 3339 UTC, or NULL */
    const char *primary_key;  /* __sdc_primary_key, or NULL */
    const char *reason;       /* with SPOOL_REC_REJECTED */
};

struct spool_writer;

/* Starts a batch in tmp/. Returns NULL with a reason in err. */
struct spool_writer *spool_writer_open(struct spool *sp,
                                       const struct spool_batch_head *head,
                                       struct strbuf *err);

/*
 * Appends one record: json (len bytes of compact JSON) and its meta.
 * Returns 0; -1 with err on failure (the batch is broken: abort it); 1 when
 * the disk is full (ENOSPC, EDQUOT): the record is kept, nothing is lost,
 * and spool_writer_retry() writes it out once there is room.
 */
int spool_writer_add(struct spool_writer *w, const char *json, size_t len,
                     const struct spool_record_meta *meta, struct strbuf *err);
/* Writes out what a full disk held back: 0, 1 (still full) or -1. */
int spool_writer_retry(struct spool_writer *w, struct strbuf *err);

size_t spool_writer_records(const struct spool_writer *w);
uint64_t spool_writer_bytes(const struct spool_writer *w);
/* When the batch was started (ms since the epoch, CLOCK_REALTIME). */
int64_t spool_writer_started_ms(const struct spool_writer *w);

/*
 * Makes the batch durable and visible: assigns its id and _sdc_sequence
 * range under the stream's lock, writes the footer, fsyncs, renames into
 * batches/. On success the batch id is copied to id (>= 129 bytes) when id
 * is not NULL. Returns 0 (w freed); -1 with err (w freed, nothing
 * visible); 1 when the disk is full (w kept: call commit again later).
 */
int spool_writer_commit(struct spool_writer *w, char *id, struct strbuf *err);

/* Throws the batch away (its records were never visible). Frees w. */
void spool_writer_abort(struct spool_writer *w);

/* ---- reading a batch ---- */

struct spool_batch {
    char *id;
    char *file;
    char *integration, *stream;
    char **keys;
    size_t n_keys;
    char *schema_json;
    int has_table_version;
    int64_t table_version;
    int activate_version;
    char **routes;
    size_t n_routes;
    int64_t first_sequence;
    int64_t created_at_ms; /* strictly increasing per stream */
    int64_t batched_at_us;
    uint64_t n_records;
    uint64_t size; /* bytes of the file */

    /* Reading: records stream through a buffer, bounded by the largest
       record, so a batch never has to fit in memory. */
    int fd;
    uint64_t records_at; /* offset of the first record */
    uint64_t records_end;
    uint64_t pos; /* file offset of buf[0] */
    unsigned char *buf;
    size_t buf_len, buf_cap, buf_off;
    uint64_t next_index;
};

struct spool_record {
    uint64_t index;
    int64_t sequence;
    struct spool_record_meta meta;
    const char *json;
    size_t len;
};

/*
 * Reads and verifies a batch file (magic, checksum, footer, header).
 * Returns 0; -1 with a reason in err for a corrupt or unreadable file
 * (the caller quarantines it, never drops it).
 */
int spool_batch_read(const char *file, struct spool_batch *b,
                     struct strbuf *err);
/* The same without the checksum over the whole file: the header and
   footer only, for listing. Never load records read this way. */
int spool_batch_peek(const char *file, struct spool_batch *b,
                     struct strbuf *err);
void spool_batch_release(struct spool_batch *b);
/* Next record, 1; 0 at the end; -1 with err on a read error. Texts point
   into the batch's buffer until the next call. */
int spool_batch_next(struct spool_batch *b, struct spool_record *r,
                     struct strbuf *err);
void spool_batch_rewind(struct spool_batch *b);

/* Batch files of the spool (absolute paths), in spool order: by stream,
   then by sequence. Returns the count; *files is malloc'd. */
size_t spool_list(const struct spool *sp, char ***files);

/* ---- per destination: claim, ack, quarantine ---- */

/*
 * Each destination keeps its own view of the batches routed to it, under
 * dest/<destination>/: acked/<id> (committed there), quarantined/<id>
 * (held back, with the reason), attempts/<id> (offers so far), and
 * leases/<stream hash>.lock. A batch is deleted once every destination it
 * was routed to has acked it (unless spool.keep_loaded).
 */

enum { SPOOL_PENDING = 0, SPOOL_ACKED = 1, SPOOL_QUARANTINED = 2 };

/* The batch's state for destination. */
int spool_dest_state(const struct spool *sp, const char *destination,
                     const char *batch_id);

/*
 * A lease on (destination, stream): an flock on a file, so a holder that
 * dies (killed, crashed) loses it at once and never needs reclaiming.
 * Returns 0 with *fd set, 1 when another process holds it, -1 with err.
 * Release by closing the fd.
 */
int spool_lease(struct spool *sp, const char *destination,
                const char *stream_hash, int *fd, struct strbuf *err);

/* Marks the batch committed at destination (durably), then deletes it when
   every routed destination has acked it and keep_loaded is 0. */
int spool_ack(struct spool *sp, const char *destination, const char *file,
              int keep_loaded, struct strbuf *err);

/* Gives a quarantined batch up for destination: it counts as done there
   (never loaded) and is deleted once every other route acked it. Returns
   0, 1 when it was not quarantined there, -1 with err. */
int spool_drop(struct spool *sp, const char *destination, const char *file,
               int keep_loaded, struct strbuf *err);

/* Deletes batches every route acked more than keep_ms ago
   (spool.keep_loaded). Returns how many. */
size_t spool_sweep_loaded(struct spool *sp, int64_t keep_ms);

/* batches/<id>.batch, malloc'd. */
char *spool_batch_file(const struct spool *sp, const char *batch_id);

/* Holds the batch back for destination with a one-line reason. */
int spool_quarantine(struct spool *sp, const char *destination,
                     const char *batch_id, const char *stream,
                     const char *reason, struct strbuf *err);
/* Makes a quarantined batch pending again (attempts reset). Returns 0, 1
   when it was not quarantined, -1 with err. */
int spool_requeue(struct spool *sp, const char *destination,
                  const char *batch_id, struct strbuf *err);
/* The reason it was quarantined, malloc'd; NULL when it is not. */
char *spool_quarantine_reason(const struct spool *sp, const char *destination,
                              const char *batch_id);

/* Counts an offer of the batch to destination; returns the attempt number
   (1 for the first). */
int spool_attempt(struct spool *sp, const char *destination,
                  const char *batch_id, struct strbuf *err);

/*
 * What went wrong with a batch at a destination so far, kept across
 * restarts (dest/<destination>/failures/<id>): retryable failures and
 * worker deaths the loader saw, and when the batch may be tried again.
 */
struct spool_failures {
    int retryable;
    int crashes;
    int64_t not_before_ms; /* CLOCK_REALTIME ms; 0: now */
};
void spool_failures_read(const struct spool *sp, const char *destination,
                         const char *batch_id, struct spool_failures *f);
int spool_failures_write(struct spool *sp, const char *destination,
                         const char *batch_id, const struct spool_failures *f,
                         struct strbuf *err);

/* Cumulative counts per destination (dest/<destination>/stats). */
struct spool_dest_stats {
    uint64_t loaded; /* batches */
    uint64_t rows_loaded;
    uint64_t rows_rejected;
};
void spool_stats_read(const struct spool *sp, const char *destination,
                      struct spool_dest_stats *st);
/* Adds to the counts (under a lock: several loaders share them). */
int spool_stats_add(struct spool *sp, const char *destination,
                    const struct spool_dest_stats *add, struct strbuf *err);

/* The destination's last error, one line (NULL clears it); and reading it
   back, malloc'd or NULL. */
void spool_last_error_set(struct spool *sp, const char *destination,
                          const char *message);
char *spool_last_error(const struct spool *sp, const char *destination);

/* A quarantined batch, as listed. */
struct spool_quarantined {
    char *destination, *batch, *stream, *reason;
};
/* Every quarantined batch of every destination the spool knows; *out is
   malloc'd. */
size_t spool_quarantined_list(const struct spool *sp,
                              struct spool_quarantined **out);
void spool_quarantined_free(struct spool_quarantined *q, size_t n);
/* The destinations the spool has a folder for (folders under dest/), malloc'd.
 */
size_t spool_dest_names(const struct spool *sp, char ***out);

/* The stream hash of a batch id (its middle part), copied to out[17]. */
int spool_id_stream_hash(const char *batch_id, char out[17]);

/* ---- state ---- */

/* Saves the latest durable STATE value (JSON text) of an integration.
   Returns 0; 1 when the disk is full (nothing changed: retry); -1 with
   err. */
int spool_state_save(struct spool *sp, const char *integration,
                     const char *json, size_t len, struct strbuf *err);
/* The saved STATE: 1 with *out malloc'd, 0 when none was saved, -1 with
   err when it cannot be read (never to be taken as "none"). */
int spool_state_read(const struct spool *sp, const char *integration,
                     char **out, struct strbuf *err);
/* The same for tests and callers that treat errors as none. */
char *spool_state_load(const struct spool *sp, const char *integration);

#endif

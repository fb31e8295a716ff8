/*
 * s3_load.h - one batch being loaded: its objects (one per table, plus
 * the rejects), shared by s3_load.c (objects, rejects, commit) and
 * s3_rows.c (the passes that encode rows).
 */
#ifndef DRAY_S3_LOAD_H
#define DRAY_S3_LOAD_H

#include <dray/dray_json.h>
#include <dray/dray_schema.h>

#include "s3_internal.h"

/* One object being written: encoder -> buffer -> [gzip] -> store. */
struct s3_obj {
    struct s3_object *obj;
    struct dray_gzip *gz;
    struct dray_bufsink bs;
    struct dray_sink sink;  /* what encoders write to */
    struct dray_sink store; /* the store's own sink, behind store_failed */
    int store_failed;       /* the store refused bytes: its commit says why */
    char *key;
    char *table;
    size_t ncols;  /* columns in the CSV header */
    int64_t rows;  /* rows written */
    int stale;     /* columns grew after the header: written again */
    int committed; /* visible under its key */
};

struct s3_load {
    struct s3_plugin *p;
    dray_batch *b;
    struct dray_batch_info info;
    struct dray_schema sch;
    struct dray_tableset *ts;
    struct dray_json_doc doc;
    struct dray_buf reason;
    struct dray_buf scratch;
    struct dray_csv_opts csv;
    char *root;        /* the stream's table name */
    struct s3_obj **t; /* per table of ts, by index; each allocated once,
                          since its sinks point into it */
    size_t nt;
    struct s3_obj rej; /* the rejects object, opened on the first */
    uint8_t *skip;     /* records rejected, by row */
    int64_t n_rejected;
    int redo; /* second pass: stale tables only */
    dray_error *err;
    dray_status failed; /* first failure inside a row callback */
};

/* Opens o for table (its key from the template). header: CSV column
   names (n), or NULL for JSON lines. */
dray_status s3_obj_open(struct s3_load *L, struct s3_obj *o, const char *table,
                        const char *const *header, size_t n);
/* Drops an object not yet committed. */
void s3_obj_discard(struct s3_load *L, struct s3_obj *o);
/* Sets L->err for a failed write to o: the store's reason when the store
   refused the bytes (S3's AccessDenied stays a configuration error), else
   a retryable "writing failed". */
dray_status s3_obj_error(struct s3_load *L, struct s3_obj *o);

/* Sends a record to the rejects object and tells the host. */
dray_status s3_reject(struct s3_load *L, const dray_record *rec,
                      const char *table, const char *reason);

/* The passes (s3_rows.c). */
dray_status s3_rows_csv(struct s3_load *L);
dray_status s3_rows_jsonl(struct s3_load *L);

#endif /* DRAY_S3_LOAD_H */

/*
 * pg_load.h - one batch being loaded, shared by the load (pg_load.c), the
 * second pass that encodes rows (pg_rows.c) and the merge (pg_merge.c).
 */
#ifndef DRAY_PG_LOAD_H
#define DRAY_PG_LOAD_H

#include "dray/dray_json.h"
#include "dray/dray_schema.h"
#include "pg_internal.h"

/* A table of the table set during the load. */
struct pg_tbl {
    struct pg_spill out;
    int staged;       /* rows go to a temporary stage, then merge */
    int streamed;     /* its COPY runs during the pass (the root) */
    char stage[48];   /* the stage's name in pg_temp */
    int32_t *pgtypes; /* per column */
    size_t ncols;     /* columns in the segment's layout */
    int has_stage;    /* its stage exists (emptied after each merge) */
    int64_t rows;     /* committed to the table */
};

/* A reject found while a COPY runs, written to _sdc_rejected after it. */
struct pg_late_reject {
    char *table, *reason, *record;
};

struct pg_load {
    struct pg *pg;
    dray_batch *b;
    struct dray_batch_info info;
    char *schema;
    char *root; /* the stream's table name */
    struct dray_schema sch;
    struct dray_tableset *ts;
    struct pg_catalog cat;
    struct dray_json_doc doc;
    struct dray_buf reason, scratch, sql;
    int upsert;      /* merge by key; else append */
    int mode_chosen; /* upsert decided (when the root table appeared) */
    size_t shape;    /* tables + columns of the table set, laid out */
    int rejects_ready;
    int64_t n_rejected;
    struct pg_tbl *t;
    size_t n_t;
    int row_failed;
    struct pg_late_reject *late;
    size_t n_late;
    int copying;        /* a COPY is in progress */
    int winners_made;   /* the upsert's winners table exists */
    int winners_before; /* ... before the piece (pg_careful.c) */
    int careful;        /* loading record by record (pg_careful.c) */
    uint8_t *reported;  /* bit per record: rejected, told to the host */
    uint8_t *skip;      /* bit per record: not to load (careful mode) */
};

/* Rejects a record: counted by the host, a row in _sdc_rejected (now, or
   after the COPY in progress). table: the table it was meant for. */
dray_status pg_reject(struct pg_load *L, const dray_record *rec,
                      const char *table, const char *reason, dray_error *err);
dray_status pg_flush_late_rejects(struct pg_load *L, dray_error *err);
/* A record's position in the batch (-1 when out of range), and bit sets
   over positions. */
int64_t pg_row_of(const struct pg_load *L, const dray_record *rec);
int pg_bit_test(const uint8_t *bits, int64_t i);
void pg_bit_set(uint8_t *bits, int64_t i);

/* Upsert or append (pg_load.c); drops primary keys an append would
   trip over. Called once the root table is known. */
dray_status pg_choose_mode(struct pg_load *L, dray_error *err);

/* pg_rows.c: the pass over the batch, rows into COPY streams. */
dray_status pg_rows_load(struct pg_load *L, dray_error *err);
void pg_rows_release(struct pg_load *L);
/* Its pieces, for pg_careful.c: parse and observe a record (1: reject
   it, reason in L->reason; -2: out of memory); encode its rows; start a
   segment (stages, the root's COPY); finish its COPYs; merge it. */
int pg_take(struct pg_load *L, const char *json, size_t len,
            const struct dray_record_meta *meta);
dray_status pg_emit(struct pg_load *L, const dray_record *rec,
                    const struct dray_record_meta *meta, dray_error *err);
dray_status pg_layout(struct pg_load *L, dray_error *err);
dray_status pg_segment_begin(struct pg_load *L, dray_error *err);
dray_status pg_segment_flush(struct pg_load *L, dray_error *err);
dray_status pg_segment_merge(struct pg_load *L, dray_error *err);

/* pg_careful.c: the batch again, after PostgreSQL refused a row that
   dray's checks let through (a constraint someone added, say): in chunks
   under savepoints, a failed chunk record by record, the refused records
   rejected with the server's words. */
dray_status pg_rows_careful(struct pg_load *L, dray_error *err);
/* The last error was about the data, not the connection or the SQL. */
int pg_data_error(const struct pg *pg);

/* pg_merge.c: the segment's stages into the tables (then dropped),
   activation, the ledger. */
dray_status pg_merge(struct pg_load *L, dray_error *err);
dray_status pg_activate(struct pg_load *L, dray_error *err);
dray_status pg_ledger_write(struct pg_load *L, dray_error *err);

#endif /* DRAY_PG_LOAD_H */

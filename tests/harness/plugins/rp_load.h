/*
 * rp_load.h - one batch being loaded, shared by rp_load.c (tables, rows,
 * the upsert merge, ACTIVATE_VERSION) and rp_batch.c (the pass over the
 * batch, the ledger, the commit).
 */
#ifndef RP_LOAD_H
#define RP_LOAD_H

#include <dray/dray_json.h>
#include <dray/dray_schema.h>

#include "refplug.h"

/* A record's rows, kept until the batch's end (upsert). */
struct pend {
    int64_t seq;
    char *key; /* the root row's key; NULL: no root row */
    size_t first, n;
    int won;
};

struct pend_row {
    struct rp_table *t;
    struct rp_row row;
};

struct load {
    struct rp_plugin *p;
    dray_batch *b;
    dray_error *err;
    struct dray_batch_info info;
    struct rp_ns *ns;
    struct dray_schema sch;
    struct dray_tableset *ts;
    struct dray_json_doc doc;
    struct dray_buf reason, val;
    int upsert;
    char **keys; /* the stream's key columns, canonical */
    struct rp_table *root;
    /* per table of ts: its stored table and column map */
    struct rp_table **tt;
    int **cmap;
    size_t n_tt;
    /* one row's values, sized for the widest table */
    char **texts;
    size_t *lens, *offs, cap_vals;
    struct pend *pend;
    size_t n_pend, cap_pend;
    struct pend_row *prows;
    size_t n_prows, cap_prows;
    int dropped; /* BROKEN_DROP_ROW */
};

/* Creates the tables, renames and columns the table set asks for and
   maps its columns onto the stored ones; 0 or -2. */
int rp_apply_ddl(struct load *L);
/* Whether the table set grew since the last rp_apply_ddl. */
int rp_changed(const struct load *L);
/* dray_flatten_rows' callback: a row to its table (append) or to the
   record's pending rows (upsert). */
int rp_on_row(void *ctx, int32_t table, const struct dray_field *f, size_t n);
/* A record's pending rows begin and end (upsert); 0, -1, -2. */
int rp_begin_pend(struct load *L, int64_t seq);
int rp_end_pend(struct load *L);
/* The batch's pending records into the stored tables; 0, -1, -2. */
int rp_merge(struct load *L);
/* ACTIVATE_VERSION: rows of other versions go. */
void rp_activate(struct load *L);

#endif /* RP_LOAD_H */

/*
 * pg_careful.c - the last resort when PostgreSQL refuses a row that
 * dray's checks let through (a NOT NULL or CHECK constraint someone added
 * to a table, a column whose type someone narrowed): the batch loads again
 * in chunks, each under a savepoint; a chunk that fails loads record by
 * record, and each record the server refuses is rejected with its words.
 * The rest of the batch commits as usual.
 *
 * A first pass observes every record and makes the DDL, so that nothing
 * rolled back to a savepoint changes the tables the table set knows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_load.h"

#define CHUNK 1000

int pg_data_error(const struct pg *pg)
{
    /* 22: data exception; 23: integrity constraint violation. */
    return strncmp(pg->last_state, "22", 2) == 0 ||
           strncmp(pg->last_state, "23", 2) == 0;
}

/* Pass 1: rejects what the checks reject, and makes the tables. */
static dray_status observe_all(struct pg_load *L, dray_error *err)
{
    const struct dray_host_api *h = dray_host();
    const dray_record *rec;
    dray_status st = DRAY_OK;

    while (st == DRAY_OK) {
        struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
        const char *json;
        uint64_t len;
        int rc;

        st = h->batch_next(L->b, &rec, err);
        if (st != DRAY_OK || rec == NULL)
            break;
        h->record_meta(rec, &meta);
        if (meta.flags & DRAY_REC_REJECTED) {
            st = pg_reject(L, rec, NULL,
                           meta.reject_reason ? meta.reject_reason
                                              : "rejected at the gate",
                           err);
            continue;
        }
        h->record_json(rec, &json, &len);
        rc = pg_take(L, json, (size_t)len, &meta);
        if (rc == -2)
            return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        if (rc != 0)
            st = pg_reject(L, rec, NULL, L->reason.data ? L->reason.data : "?",
                           err);
    }
    if (st == DRAY_OK)
        st = pg_choose_mode(L, err);
    if (st == DRAY_OK)
        st = pg_ddl_apply(L->pg, L->schema, L->ts, L->upsert, err);
    if (st == DRAY_OK)
        dray_tableset_commit(L->ts);
    return st;
}

static dray_status savepoint(struct pg_load *L, const char *verb,
                             dray_error *err)
{
    char sql[64];

    snprintf(sql, sizeof(sql), "%s dray_piece", verb);
    return pg_exec(L->pg, sql, "loading in pieces", err);
}

/* A piece under a savepoint: begun, then ended by end_piece. */
static dray_status begin_piece(struct pg_load *L, int64_t *rows,
                               dray_error *err)
{
    dray_status st = savepoint(L, "SAVEPOINT", err);

    for (size_t i = 0; i < L->n_t; i++)
        rows[i] = L->t[i].rows;
    L->winners_before = L->winners_made;
    if (st == DRAY_OK)
        st = pg_segment_begin(L, err);
    return st;
}

/* Ends a piece: its rows in (st is DRAY_OK), or rolled back when the
   server refused them (*refused). Rejects of values that did not encode
   stay rejected either way. */
static dray_status end_piece(struct pg_load *L, dray_status st,
                             const int64_t *rows, int *refused, dray_error *err)
{
    *refused = 0;
    if (st == DRAY_OK)
        st = pg_segment_flush(L, err);
    if (st == DRAY_OK)
        st = pg_segment_merge(L, err);
    if (st == DRAY_OK) {
        st = savepoint(L, "RELEASE SAVEPOINT", err);
    } else if (st == DRAY_E_PERMANENT && pg_data_error(L->pg)) {
        if (L->copying)
            pg_copy_abort(L->pg);
        L->copying = 0;
        for (size_t i = 0; i < L->n_t; i++) {
            L->t[i].rows = rows[i];
            pg_spill_reset(&L->t[i].out); /* a spill file too */
        }
        *refused = 1;
        L->winners_made = L->winners_before; /* made in the piece: gone */
        st = savepoint(L, "ROLLBACK TO SAVEPOINT", err);
    }
    if (st == DRAY_OK)
        st = pg_flush_late_rejects(L, err);
    return st;
}

/* The next record to load, or NULL at the end. */
static dray_status next(struct pg_load *L, const dray_record **rec,
                        struct dray_record_meta *meta, dray_error *err)
{
    const struct dray_host_api *h = dray_host();

    for (;;) {
        const char *json;
        uint64_t len;
        dray_status st = h->batch_next(L->b, rec, err);
        if (st != DRAY_OK || *rec == NULL)
            return st;
        *meta =
            (struct dray_record_meta)DRAY_VIEW_INIT(struct dray_record_meta);
        h->record_meta(*rec, meta);
        if (pg_bit_test(L->skip, meta->row))
            continue;
        h->record_json(*rec, &json, &len);
        if (pg_take(L, json, (size_t)len, meta) == 0)
            return DRAY_OK;
    }
}

/* Records first..last again, each in a piece of its own; the refused
   ones are rejected with the server's words. */
static dray_status one_by_one(struct pg_load *L, int64_t first, int64_t last,
                              int64_t *rows, dray_error *err)
{
    const dray_record *rec;
    struct dray_record_meta meta;
    char why[600];
    int refused;
    dray_status st = dray_host()->batch_rewind(L->b, err);

    while (st == DRAY_OK) {
        st = next(L, &rec, &meta, err);
        if (st != DRAY_OK || rec == NULL || meta.row > last)
            break;
        if (meta.row < first)
            continue;
        st = begin_piece(L, rows, err);
        if (st == DRAY_OK)
            st = pg_emit(L, rec, &meta, err);
        st = end_piece(L, st, rows, &refused, err);
        if (st == DRAY_OK && refused) {
            snprintf(why, sizeof(why), "PostgreSQL refused the row: %s",
                     L->pg->last_msg);
            st = pg_reject(L, rec, NULL, why, err);
        }
        if (meta.row == last)
            break;
    }
    return st;
}

dray_status pg_rows_careful(struct pg_load *L, dray_error *err)
{
    const dray_record *rec = NULL;
    struct dray_record_meta meta;
    int64_t *rows;
    int refused;
    dray_status st = observe_all(L, err);

    if (st == DRAY_OK)
        st = dray_host()->batch_rewind(L->b, err);
    if (st != DRAY_OK || dray_tableset_count(L->ts) == 0)
        return st;
    /* The stages, outside every savepoint: a piece rolled back keeps
       them. */
    st = pg_layout(L, err);
    if (st != DRAY_OK)
        return st;
    rows = calloc(dray_tableset_count(L->ts) + 1, sizeof(*rows));
    if (rows == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    do {
        int64_t first = -1, last = -1, n = 0;
        st = begin_piece(L, rows, err);
        while (st == DRAY_OK && n < CHUNK) {
            st = next(L, &rec, &meta, err);
            if (st != DRAY_OK || rec == NULL)
                break;
            if (first < 0)
                first = meta.row;
            last = meta.row;
            n++;
            st = pg_emit(L, rec, &meta, err);
        }
        st = end_piece(L, st, rows, &refused, err);
        /* A refused chunk, record by record; reading goes on after it. */
        if (st == DRAY_OK && refused && first >= 0)
            st = one_by_one(L, first, last, rows, err);
    } while (st == DRAY_OK && rec != NULL);
    free(rows);
    return st;
}

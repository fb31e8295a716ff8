/*
 * pg_copy.c - binary COPY: a table's encoded rows kept per record (so a
 * record that fails half way leaves nothing), streamed to the server as
 * they come (the table being copied) or kept in memory up to a limit and
 * then in a temporary file (the others: one COPY runs at a time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_internal.h"

#define PUT_CHUNK (256 * 1024)

void pg_spill_mark(struct pg_spill *s)
{
    s->mem.len = s->committed;
    s->rows_pending = 0;
}

void pg_spill_rollback(struct pg_spill *s)
{
    pg_spill_mark(s);
}

int pg_spill_commit(struct pg_spill *s, size_t limit)
{
    s->committed = s->mem.len;
    s->rows += s->rows_pending;
    s->rows_pending = 0;
    if (s->mem.len <= limit)
        return 0;
    if (s->file == NULL && (s->file = tmpfile()) == NULL)
        return -1;
    if (fwrite(s->mem.data, 1, s->mem.len, s->file) != s->mem.len)
        return -1;
    s->mem.len = s->committed = 0;
    return 0;
}

void pg_spill_reset(struct pg_spill *s)
{
    if (s->file)
        fclose(s->file);
    s->file = NULL;
    s->mem.len = s->committed = 0;
    s->rows = s->rows_pending = 0;
}

void pg_spill_release(struct pg_spill *s)
{
    if (s->file)
        fclose(s->file);
    dray_buf_release(&s->mem);
    memset(s, 0, sizeof(*s));
}

dray_status pg_copy_begin(struct pg *pg, const char *sql, dray_error *err)
{
    struct dray_buf head = DRAY_BUF_INIT;
    struct dray_sink sink;
    PGresult *res = PQexec(pg->conn, sql);
    dray_status st = DRAY_OK;

    if (res == NULL || PQresultStatus(res) != PGRES_COPY_IN) {
        st = pg_fail(pg, res, "starting COPY", err);
        PQclear(res);
        return st;
    }
    PQclear(res);
    dray_sink_to_buf(&sink, &head);
    if (dray_copy_binary_write_header(&sink) != 0)
        st = dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    else
        st = pg_copy_put(pg, head.data, head.len, err);
    dray_buf_release(&head);
    return st;
}

dray_status pg_copy_put(struct pg *pg, const char *data, size_t len,
                        dray_error *err)
{
    while (len > 0) {
        int n = len > PUT_CHUNK ? PUT_CHUNK : (int)len;
        if (PQputCopyData(pg->conn, data, n) != 1)
            return pg_fail(pg, NULL, "sending COPY data", err);
        data += n;
        len -= (size_t)n;
    }
    return DRAY_OK;
}

dray_status pg_copy_end(struct pg *pg, int64_t *rows, dray_error *err)
{
    static const char trailer[2] = {'\xff', '\xff'};
    dray_status st = DRAY_OK;
    PGresult *res;

    if (PQputCopyData(pg->conn, trailer, 2) != 1 ||
        PQputCopyEnd(pg->conn, NULL) != 1)
        return pg_fail(pg, NULL, "ending COPY", err);
    while ((res = PQgetResult(pg->conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && st == DRAY_OK)
            st = pg_fail(pg, res, "loading rows with COPY", err);
        else if (rows)
            *rows = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
        if (pg->conn == NULL)
            break;
    }
    return st;
}

/* Abandons a COPY in progress (the transaction is rolled back next). */
void pg_copy_abort(struct pg *pg)
{
    PGresult *res;

    if (pg->conn == NULL)
        return;
    PQputCopyEnd(pg->conn, "abandoned");
    while ((res = PQgetResult(pg->conn)) != NULL)
        PQclear(res);
}

dray_status pg_copy_spill(struct pg *pg, const char *sql, struct pg_spill *s,
                          dray_error *err)
{
    char *chunk = NULL;
    dray_status st = pg_copy_begin(pg, sql, err);

    if (st != DRAY_OK)
        return st;
    if (s->file != NULL) {
        size_t n;
        chunk = malloc(PUT_CHUNK);
        if (chunk == NULL) {
            pg_copy_abort(pg);
            return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        }
        rewind(s->file);
        while (st == DRAY_OK && (n = fread(chunk, 1, PUT_CHUNK, s->file)) > 0)
            st = pg_copy_put(pg, chunk, n, err);
        if (st == DRAY_OK && ferror(s->file))
            st = dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                                "cannot read back a temporary file");
        free(chunk);
    }
    if (st == DRAY_OK)
        st = pg_copy_put(pg, s->mem.data, s->committed, err);
    if (st != DRAY_OK) {
        pg_copy_abort(pg);
        return st;
    }
    return pg_copy_end(pg, NULL, err);
}

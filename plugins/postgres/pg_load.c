/*
 * pg_load.c - one batch, one transaction: the ledger check, the stream's
 * lock and catalog, pass 1 (parse, observe, reject), the DDL, then the
 * rows (pg_rows.c), the merge and the ledger row (pg_merge.c).
 * docs/POSTGRES.md has the steps and the reasons.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_load.h"

/* The record text kept in _sdc_rejected: enough to find and fix it. */
#define REJECT_RECORD_MAX (1024 * 1024)

/* An integration's name as a schema name, as Stitch makes them:
   "Recurly Stitch" becomes recurly_stitch (lower case, [a-z0-9_], not
   starting with a digit). */
static void schema_name(const char *integration, struct dray_buf *out)
{
    if (*integration >= '0' && *integration <= '9')
        dray_buf_addc(out, '_');
    for (const char *p = integration; *p; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '_';
        dray_buf_addc(out, c);
    }
}

char *pg_schema_for(const struct pg *pg, const char *ns,
                    const char *integration)
{
    struct dray_buf out = DRAY_BUF_INIT, canon = DRAY_BUF_INIT;
    const char *t = pg->schema_tmpl, *at;

    if (ns != NULL)
        return strdup(ns);
    schema_name(integration ? integration : "", &canon);
    while ((at = strstr(t, "{integration}")) != NULL) {
        dray_buf_add(&out, t, (size_t)(at - t));
        dray_buf_add(&out, canon.data ? canon.data : "", canon.len);
        t = at + strlen("{integration}");
    }
    dray_buf_add(&out, t, strlen(t));
    dray_buf_release(&canon);
    if (out.data == NULL)
        return strdup("");
    /* PostgreSQL cuts longer names; cut here so the name is the same. */
    if (out.len > 63) {
        size_t n = 63;
        while (n > 0 && ((unsigned char)out.data[n] & 0xC0) == 0x80)
            n--;
        out.data[n] = '\0';
    }
    return out.data;
}

/* ---- rejects ---- */

static char *record_text(const dray_record *rec)
{
    const char *json;
    uint64_t len;
    size_t n;
    char *s;

    dray_host()->record_json(rec, &json, &len);
    n = len > REJECT_RECORD_MAX ? REJECT_RECORD_MAX : (size_t)len;
    /* Cut on a character boundary. */
    while (n > 0 && n < len && ((unsigned char)json[n] & 0xC0) == 0x80)
        n--;
    s = malloc(n + 1);
    if (s != NULL) {
        memcpy(s, json, n);
        s[n] = '\0';
    }
    return s;
}

static dray_status insert_reject(struct pg_load *L, const char *table,
                                 const char *reason, const char *record,
                                 dray_error *err)
{
    const char *params[3] = {table, reason, record};
    dray_status st;

    if (!L->rejects_ready) {
        st = pg_ddl_rejects(L->pg, L->schema, err);
        if (st != DRAY_OK)
            return st;
        L->rejects_ready = 1;
    }
    dray_buf_reset(&L->sql);
    pg_add(&L->sql, "INSERT INTO ");
    pg_ident(&L->sql, L->schema, "_sdc_rejected");
    pg_add(&L->sql, " VALUES (now(), $1, $2, $3)");
    return pg_query(L->pg, L->sql.data, 3, params, NULL,
                    "writing to _sdc_rejected", err);
}

int64_t pg_row_of(const struct pg_load *L, const dray_record *rec)
{
    struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);

    dray_host()->record_meta(rec, &meta);
    return meta.row >= 0 && meta.row <= L->info.row_count ? meta.row : -1;
}

int pg_bit_test(const uint8_t *bits, int64_t i)
{
    return bits != NULL && i >= 0 && (bits[i / 8] & (1u << (i % 8)));
}

void pg_bit_set(uint8_t *bits, int64_t i)
{
    if (bits != NULL && i >= 0)
        bits[i / 8] |= (uint8_t)(1u << (i % 8));
}

dray_status pg_reject(struct pg_load *L, const dray_record *rec,
                      const char *table, const char *reason, dray_error *err)
{
    dray_status st;
    char *record;

    if (table == NULL)
        table = L->root;
    /* Told to the host once, even when a careful second try finds the
       record again (the first try's _sdc_rejected row was rolled back). */
    if (!pg_bit_test(L->reported, pg_row_of(L, rec))) {
        st = dray_host()->reject_record(L->b, rec, table, reason);
        if (st != DRAY_OK)
            return dray_error_set(err, st, NULL, "too many rejected records");
        pg_bit_set(L->reported, pg_row_of(L, rec));
    }
    pg_bit_set(L->skip, pg_row_of(L, rec));
    L->n_rejected++;
    if (L->pg->max_rejects > 0 && L->n_rejected > L->pg->max_rejects)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "more than max_rejects (%lld) records of the "
                              "batch were rejected; the last: %s",
                              (long long)L->pg->max_rejects, reason);
    record = record_text(rec);
    if (record == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    if (L->copying) {
        struct pg_late_reject *p =
            realloc(L->late, (L->n_late + 1) * sizeof(*p));
        if (p == NULL) {
            free(record);
            return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        }
        L->late = p;
        p[L->n_late].table = strdup(table);
        p[L->n_late].reason = strdup(reason);
        p[L->n_late].record = record;
        L->n_late++;
        return DRAY_OK;
    }
    st = insert_reject(L, table, reason, record, err);
    free(record);
    return st;
}

dray_status pg_flush_late_rejects(struct pg_load *L, dray_error *err)
{
    dray_status st = DRAY_OK;

    for (size_t i = 0; i < L->n_late; i++) {
        struct pg_late_reject *r = &L->late[i];
        if (st == DRAY_OK && err != NULL) /* NULL: only freeing */
            st = insert_reject(L, r->table ? r->table : L->root,
                               r->reason ? r->reason : "rejected", r->record,
                               err);
        free(r->table);
        free(r->reason);
        free(r->record);
    }
    free(L->late);
    L->late = NULL;
    L->n_late = 0;
    return st;
}

/* ---- the load mode of the stream's tables ---- */

/* The root's key columns (the stream's keys, canonical), in key order. */
static size_t root_keys(const struct dray_table *root, const char **out,
                        size_t max)
{
    size_t n = 0;

    for (size_t c = 0; root && c < root->n_cols && n < max; c++)
        if ((root->cols[c].flags & DRAY_COL_KEY) &&
            root->cols[c].system == DRAY_SYS_NONE)
            out[n++] = root->cols[c].name;
    return n;
}

static dray_status drop_pkey(struct pg_load *L, const struct pg_table *t,
                             dray_error *err)
{
    dray_buf_reset(&L->sql);
    pg_add(&L->sql, "ALTER TABLE ");
    pg_ident(&L->sql, L->schema, t->name);
    pg_add(&L->sql, " DROP CONSTRAINT ");
    pg_ident(&L->sql, NULL, t->pkey_name);
    return pg_exec(L->pg, L->sql.data, "dropping a primary key", err);
}

/* Upsert when the mode says so, the stream has keys and the table's
   primary key is the stream's; else append, without primary keys that
   would refuse a second version of a row (reference §4.1, §4.4). */
dray_status pg_choose_mode(struct pg_load *L, dray_error *err)
{
    const struct dray_table *root = NULL;
    const struct pg_table *have;
    const char *keys[64];
    size_t n_keys;
    int same;
    dray_status st = DRAY_OK;

    for (size_t i = 0; i < dray_tableset_count(L->ts); i++)
        if (dray_tableset_table(L->ts, i)->parent < 0)
            root = dray_tableset_table(L->ts, i);
    if (root == NULL)
        return DRAY_OK; /* no rows yet (or an activation alone) */
    L->mode_chosen = 1;
    n_keys = root_keys(root, keys, 64);
    L->upsert = L->pg->mode == DRAY_MODE_UPSERT &&
                L->info.n_key_properties > 0 && n_keys > 0;
    have = pg_catalog_find(&L->cat, L->root);
    if (have != NULL && L->upsert) {
        same = have->n_pkey == n_keys;
        for (size_t k = 0; same && k < n_keys; k++)
            same = strcmp(have->pkey[k], keys[k]) == 0;
        if (!same) {
            if (have->n_pkey == 0)
                dray_log(L->pg->inst, DRAY_LOG_WARN,
                         "table %s.%s has no primary key: loading it "
                         "append-only",
                         L->schema, L->root);
            else
                dray_log(L->pg->inst, DRAY_LOG_WARN,
                         "the key properties of stream '%s' no longer match "
                         "the primary key of %s.%s: dropping it and loading "
                         "the table append-only from now on",
                         L->info.stream, L->schema, L->root);
            L->upsert = 0;
        }
    }
    /* Appending: a primary key would refuse the second version of a row. */
    for (size_t i = 0; !L->upsert && st == DRAY_OK && i < L->cat.n_tables; i++)
        if (L->cat.tables[i].pkey_name != NULL)
            st = drop_pkey(L, &L->cat.tables[i], err);
    return st;
}

/* ---- the batch ---- */

static dray_status ledger_seen(struct pg_load *L, int *seen, dray_error *err)
{
    const char *params[2] = {L->schema, L->info.batch_id};
    PGresult *res = NULL;
    dray_status st =
        pg_query(L->pg,
                 "SELECT table_name, rows FROM _dray.loads"
                 " WHERE schema_name = $1 AND batch_id = $2",
                 2, params, &res, "reading the ledger _dray.loads", err);

    *seen = 0;
    if (st != DRAY_OK)
        return st;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *table = PQgetvalue(res, i, 0);
        *seen = 1;
        if (*table)
            dray_host()->report_rows(L->b, table,
                                     strtoll(PQgetvalue(res, i, 1), NULL, 10));
    }
    PQclear(res);
    return DRAY_OK;
}

static dray_status setup(struct pg_load *L, dray_error *err)
{
    const struct dray_host_api *h = dray_host();
    struct dray_flat_opts o = {0};
    struct dray_buf lock = DRAY_BUF_INIT;
    const char *json;
    uint64_t len;
    char why[300];
    int rc;

    h->batch_schema_json(L->b, &json, &len);
    rc = dray_schema_parse(&L->sch, json, (size_t)len, L->info.key_properties,
                           L->info.n_key_properties, why, sizeof(why));
    if (rc != 0)
        return dray_error_set(err, rc == -2 ? DRAY_E_NOMEM : DRAY_E_PERMANENT,
                              NULL, "the stream's schema: %s", why);
    o.types = &L->pg->types;
    o.ident_dialect = DRAY_IDENT_POSTGRES;
    o.nesting = DRAY_NEST_FLATTEN;
    o.double_for_number = 1;
    o.max_columns = 1600; /* PostgreSQL's limit per table */
    rc = dray_tableset_new(&L->ts, &o, &L->sch, L->info.stream, why,
                           sizeof(why));
    if (rc != 0)
        return dray_error_set(err, rc == -2 ? DRAY_E_NOMEM : DRAY_E_PERMANENT,
                              NULL, "stream '%s': %s", L->info.stream, why);
    dray_buf_reset(&L->reason);
    dray_ident_canon(DRAY_IDENT_POSTGRES, L->info.stream,
                     strlen(L->info.stream), &L->reason);
    L->root = strdup(L->reason.data ? L->reason.data : "");
    if (L->root == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    /* Serialise DDL on this stream's tables across workers and hosts. */
    pg_add(&lock, L->schema);
    dray_buf_addc(&lock, '.');
    pg_add(&lock, L->root);
    {
        dray_status st = pg_lock(L->pg, lock.data, err);
        dray_buf_release(&lock);
        if (st != DRAY_OK)
            return st;
    }
    return pg_catalog_read(L->pg, L->schema, L->root, &L->cat, err);
}

static dray_status seed(struct pg_load *L, dray_error *err)
{
    for (size_t i = 0; i < L->cat.n_tables; i++) {
        const struct pg_table *t = &L->cat.tables[i];
        for (size_t c = 0; c < t->n_cols; c++)
            if (dray_tableset_seed(L->ts, t->name, t->cols[c].name,
                                   t->cols[c].stype) != 0)
                return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    return DRAY_OK;
}

static dray_status load(struct pg_load *L, dray_error *err)
{
    int seen;
    dray_status st;

    st = pg_exec(L->pg, "BEGIN", "starting a transaction", err);
    if (st == DRAY_OK)
        st = ledger_seen(L, &seen, err);
    if (st == DRAY_OK && seen) {
        dray_log(L->pg->inst, DRAY_LOG_INFO,
                 "batch %s was loaded by an earlier attempt (the ledger "
                 "_dray.loads has it): not loading it again",
                 L->info.batch_id);
        return pg_exec(L->pg, "ROLLBACK", "ending a transaction", err);
    }
    if (st == DRAY_OK)
        st = pg_ddl_schema(L->pg, L->schema, err);
    if (st == DRAY_OK)
        st = setup(L, err);
    if (st == DRAY_OK)
        st = seed(L, err);
    if (st == DRAY_OK)
        st = L->careful ? pg_rows_careful(L, err) : pg_rows_load(L, err);
    if (st == DRAY_OK && (L->info.flags & DRAY_BATCH_ACTIVATE_VERSION))
        st = pg_activate(L, err);
    if (st == DRAY_OK)
        st = pg_ledger_write(L, err);
    if (st == DRAY_OK)
        st = pg_exec(L->pg, "COMMIT", "committing", err);
    if (st == DRAY_OK)
        for (size_t i = 0; i < L->n_t; i++)
            if (L->t[i].rows > 0)
                dray_host()->report_rows(
                    L->b, dray_tableset_table(L->ts, i)->name, L->t[i].rows);
    return st;
}

/* One try at the batch, in a transaction of its own. */
static dray_status attempt(struct pg *pg, dray_batch *b, uint8_t *reported,
                           int careful, dray_error *err)
{
    struct pg_load L = {
        .pg = pg, .b = b, .reported = reported, .careful = careful};
    dray_status st;

    L.info = (struct dray_batch_info)DRAY_VIEW_INIT(struct dray_batch_info);
    dray_host()->batch_info(b, &L.info);
    dray_json_doc_init(&L.doc);
    L.schema = pg_schema_for(pg, L.info.ns, L.info.integration);
    if (careful)
        L.skip = calloc((size_t)(L.info.row_count / 8 + 1), 1);
    if (L.schema == NULL || (careful && L.skip == NULL)) {
        free(L.schema);
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    st = load(&L, err);
    if (st != DRAY_OK && pg->conn != NULL) {
        if (L.copying)
            pg_copy_abort(pg);
        PQclear(PQexec(pg->conn, "ROLLBACK"));
    }
    pg_rows_release(&L);
    pg_flush_late_rejects(&L, NULL);
    if (L.ts)
        dray_tableset_free(L.ts);
    dray_schema_release(&L.sch);
    pg_catalog_release(&L.cat);
    dray_json_doc_release(&L.doc);
    dray_buf_release(&L.reason);
    dray_buf_release(&L.scratch);
    dray_buf_release(&L.sql);
    free(L.skip);
    free(L.root);
    free(L.schema);
    return st;
}

dray_status pg_load_batch(void *state, dray_batch *b, dray_error *err)
{
    struct pg *pg = state;
    struct dray_batch_info info = DRAY_VIEW_INIT(struct dray_batch_info);
    uint8_t *reported;
    dray_status st;

    dray_host()->batch_info(b, &info);
    reported = calloc((size_t)(info.row_count / 8 + 1), 1);
    if (reported == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    st = pg_connect(pg, err);
    if (st == DRAY_OK)
        st = pg_ddl_ledger(pg, err);
    if (st == DRAY_OK)
        st = attempt(pg, b, reported, 0, err);
    if (st == DRAY_E_PERMANENT && pg->conn != NULL && pg_data_error(pg)) {
        /* dray's checks let a row through that the table refuses: find it
           rather than fail the batch (docs/POSTGRES.md). */
        dray_log(pg->inst, DRAY_LOG_WARN,
                 "batch %s: PostgreSQL refused a row (%s); loading the "
                 "batch again in small pieces to reject only that row",
                 info.batch_id, pg->last_msg);
        st = dray_host()->batch_rewind(b, err);
        if (st == DRAY_OK)
            st = attempt(pg, b, reported, 1, err);
    }
    free(reported);
    return st;
}

/*
 * pg_conn.c - the connection: the DSN with dray's TLS default, session
 * settings, statements, and SQLSTATEs turned into dray statuses
 * (docs/POSTGRES.md, "Errors").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pg_internal.h"

/* ---- SQL text ---- */

void pg_add(struct dray_buf *b, const char *text)
{
    dray_buf_add(b, text, strlen(text));
}

void pg_addf(struct dray_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        dray_buf_add(b, small, (size_t)n);
        return;
    }
    if (dray_buf_reserve(b, (size_t)n + 1) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void pg_ident(struct dray_buf *b, const char *schema, const char *name)
{
    if (schema != NULL) {
        dray_ident_quote(DRAY_IDENT_POSTGRES, schema, b);
        dray_buf_addc(b, '.');
    }
    dray_ident_quote(DRAY_IDENT_POSTGRES, name, b);
}

void pg_literal(struct dray_buf *b, const char *text)
{
    dray_buf_addc(b, '\'');
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            dray_buf_addc(b, '\'');
        dray_buf_addc(b, *p);
    }
    dray_buf_addc(b, '\'');
}

/* ---- the DSN ---- */

static const char *conninfo_get(PQconninfoOption *opts, const char *key)
{
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0)
            return o->val && *o->val ? o->val : NULL;
    return NULL;
}

/* A host that never leaves the machine: a socket folder or loopback. */
static int host_is_local(const char *hosts)
{
    char *copy, *save = NULL;
    int local = 1;

    if (hosts == NULL)
        return 1; /* the default socket */
    copy = strdup(hosts);
    if (copy == NULL)
        return 0;
    for (char *h = strtok_r(copy, ",", &save); h;
         h = strtok_r(NULL, ",", &save))
        if (!(h[0] == '/' || h[0] == '@' || strcmp(h, "localhost") == 0 ||
              strcmp(h, "127.0.0.1") == 0 || strcmp(h, "::1") == 0))
            local = 0;
    free(copy);
    return local;
}

/* The sslmode the DSN (or PGSSLMODE) sets, NULL when none, and whether
   it talks to another machine. Returns a copy of the mode ("" for none)
   or NULL when the DSN does not parse (why says why). */
char *pg_effective_sslmode(const char *dsn, int *remote, char *why,
                           size_t why_len)
{
    char *errmsg = NULL, *mode;
    PQconninfoOption *opts = PQconninfoParse(dsn, &errmsg);
    const char *host, *m;

    if (opts == NULL) {
        size_t n;
        snprintf(why, why_len, "%s", errmsg ? errmsg : "out of memory");
        n = strlen(why);
        while (n > 0 && (why[n - 1] == '\n' || why[n - 1] == '.'))
            why[--n] = '\0';
        PQfreemem(errmsg);
        return NULL;
    }
    host = conninfo_get(opts, "host");
    if (host == NULL)
        host = conninfo_get(opts, "hostaddr");
    if (host == NULL)
        host = getenv("PGHOST") && *getenv("PGHOST") ? getenv("PGHOST") : NULL;
    *remote = !host_is_local(host);
    m = conninfo_get(opts, "sslmode");
    if (m == NULL && getenv("PGSSLMODE") && *getenv("PGSSLMODE"))
        m = getenv("PGSSLMODE");
    mode = strdup(m ? m : "");
    PQconninfoFree(opts);
    return mode;
}

/* ---- connecting ---- */

static dray_status session_setup(struct pg *pg, dray_error *err)
{
    struct dray_buf sql = DRAY_BUF_INIT;
    dray_status st;

    pg_add(&sql, "SET client_min_messages = warning; SET TIME ZONE 'UTC'; "
                 "SET extra_float_digits = 1; ");
    pg_addf(&sql, "SET statement_timeout = %lld; ",
            (long long)pg->statement_timeout_ms);
    /* A 100k-row stage outgrows the 8MB and 4MB defaults: the dedupe sort
       and the stage itself then go through temp files. temp_buffers only
       takes before the session's first temporary table, that is here. */
    pg_addf(&sql, "SET work_mem = '%lldkB'; SET temp_buffers = '%lldkB'",
            (long long)(pg->work_mem / 1024),
            (long long)(pg->temp_buffers / 1024));
    st = pg_exec(pg, sql.data, "setting up the session", err);
    dray_buf_release(&sql);
    return st;
}

/* Server notices and warnings go to dray's log, on one line, instead of
   libpq's raw stderr. */
static void notice(void *arg, const char *message)
{
    struct pg *pg = arg;
    size_t n = strlen(message);

    while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == ' '))
        n--;
    dray_log(pg->inst, DRAY_LOG_WARN, "PostgreSQL says: %.*s", (int)n, message);
}

/* The classification of a failed connection: only what waiting cannot
   fix is a config error. */
static dray_status connect_failed(struct pg *pg, dray_error *err)
{
    char msg[1024];
    size_t n;
    dray_status cls = DRAY_E_RETRYABLE;
    const char *hint = NULL;

    snprintf(msg, sizeof(msg), "%s", PQerrorMessage(pg->conn));
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (strstr(msg, "password authentication failed") ||
        strstr(msg, "no password supplied") ||
        strstr(msg, "authentication failed")) {
        cls = DRAY_E_CONFIG;
        hint = "check the user and password in the 'dsn' option";
    } else if (strstr(msg, "database \"") && strstr(msg, "does not exist")) {
        cls = DRAY_E_CONFIG;
        hint = "create the database, or fix dbname in the 'dsn' option";
    } else if (strstr(msg, "role \"") && strstr(msg, "does not exist")) {
        cls = DRAY_E_CONFIG;
        hint = "create the role, or fix user in the 'dsn' option";
    } else if (strstr(msg, "certificate") || strstr(msg, "SSL")) {
        cls = DRAY_E_CONFIG;
        hint = "give the server's CA in the 'sslrootcert' option, or fix "
               "sslmode in the 'dsn' option";
    } else if (strstr(msg, "invalid connection option") ||
               strstr(msg, "invalid sslmode") || strstr(msg, "missing \"=\"")) {
        cls = DRAY_E_CONFIG;
        hint = "fix the 'dsn' option (a libpq connection string or URI)";
    }
    pg_disconnect(pg);
    dray_error_set(err, cls, NULL, "cannot connect to PostgreSQL: %s", msg);
    if (hint)
        dray_error_hint(err, "%s", hint);
    return cls;
}

dray_status pg_connect(struct pg *pg, dray_error *err)
{
    const char *keys[8], *vals[8];
    char timeout[32], why[256];
    char *mode;
    int n = 0, remote = 0;
    dray_status st;

    if (pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_OK &&
        PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
        return DRAY_OK;
    pg_disconnect(pg);
    mode = pg_effective_sslmode(pg->dsn, &remote, why, sizeof(why));
    if (mode == NULL)
        return dray_error_set(err, DRAY_E_CONFIG, NULL,
                              "the 'dsn' option cannot be read: %s", why);
    keys[n] = "dbname", vals[n++] = pg->dsn;
    keys[n] = "fallback_application_name", vals[n++] = "dray";
    if (remote && *mode == '\0') {
        /* Stitch's loaders talk to warehouses over the internet: an
           unverified TLS session is no protection, so verify by default. */
        keys[n] = "sslmode", vals[n++] = "verify-full";
        keys[n] = "sslrootcert",
        vals[n++] = pg->sslrootcert ? pg->sslrootcert : "system";
    } else if (pg->sslrootcert) {
        keys[n] = "sslrootcert", vals[n++] = pg->sslrootcert;
    }
    snprintf(timeout, sizeof(timeout), "%lld",
             (long long)((pg->connect_timeout_ms + 999) / 1000));
    if (pg->connect_timeout_ms > 0)
        keys[n] = "connect_timeout", vals[n++] = timeout;
    keys[n] = NULL, vals[n] = NULL;
    pg->conn = PQconnectdbParams(keys, vals, 1);
    free(mode);
    if (pg->conn == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL,
                              "out of memory connecting to PostgreSQL");
    if (PQstatus(pg->conn) != CONNECTION_OK)
        return connect_failed(pg, err);
    PQsetNoticeProcessor(pg->conn, notice, pg);
    pg->ledger_ready = 0;
    st = session_setup(pg, err);
    if (st != DRAY_OK)
        pg_disconnect(pg);
    return st;
}

void pg_disconnect(struct pg *pg)
{
    if (pg->conn != NULL)
        PQfinish(pg->conn);
    pg->conn = NULL;
}

/* ---- statements and errors ---- */

struct sqlstate_class {
    const char *prefix; /* a SQLSTATE or its two-character class */
    dray_status cls;
    const char *hint;
};

static const struct sqlstate_class sqlstates[] = {
    {"08", DRAY_E_RETRYABLE, NULL},    /* connection exception */
    {"40001", DRAY_E_RETRYABLE, NULL}, /* serialization failure */
    {"40P01", DRAY_E_RETRYABLE, NULL}, /* deadlock */
    {"57P01", DRAY_E_RETRYABLE, NULL}, /* admin shutdown */
    {"57P02", DRAY_E_RETRYABLE, NULL}, /* crash shutdown */
    {"57P03", DRAY_E_RETRYABLE, NULL}, /* cannot connect now */
    {"57014", DRAY_E_RETRYABLE, NULL}, /* statement timeout */
    {"53", DRAY_E_RETRYABLE, NULL},    /* disk, memory, connections */
    {"55P03", DRAY_E_RETRYABLE, NULL}, /* lock not available */
    {"28", DRAY_E_CONFIG, "check the user and password in the 'dsn' option"},
    {"42501", DRAY_E_CONFIG,
     "grant the user CREATE on the database and on the schema, or use a "
     "user that owns them"},
    {"3D000", DRAY_E_CONFIG,
     "create the database, or fix dbname in the 'dsn' option"},
    {"25006", DRAY_E_CONFIG,
     "point the 'dsn' option at the primary server, not a read-only one"},
};

dray_status pg_fail(struct pg *pg, PGresult *res, const char *what,
                    dray_error *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *text = res ? PQresultErrorMessage(res) : "";
    char msg[1024];
    size_t n;
    dray_status cls = DRAY_E_PERMANENT;
    const char *hint = NULL;

    if (text == NULL || *text == '\0')
        text = PQerrorMessage(pg->conn);
    snprintf(msg, sizeof(msg), "%s", text ? text : "unknown error");
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (strncmp(msg, "ERROR:  ", 8) == 0)
        memmove(msg, msg + 8, strlen(msg + 8) + 1);
    for (size_t i = 0; state && i < sizeof(sqlstates) / sizeof(sqlstates[0]);
         i++)
        if (strncmp(state, sqlstates[i].prefix, strlen(sqlstates[i].prefix)) ==
            0) {
            cls = sqlstates[i].cls;
            hint = sqlstates[i].hint;
            break;
        }
    snprintf(pg->last_state, sizeof(pg->last_state), "%s", state ? state : "");
    snprintf(pg->last_msg, sizeof(pg->last_msg), "%.511s", msg);
    /* No SQLSTATE and no connection: the server went away. */
    if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK)
        cls = DRAY_E_RETRYABLE, hint = NULL;
    dray_error_set(err, cls, state, "%s: %s", what, msg);
    if (hint)
        dray_error_hint(err, "%s", hint);
    if (cls == DRAY_E_RETRYABLE)
        pg_disconnect(pg); /* a fresh connection for the retry */
    return cls;
}

dray_status pg_query(struct pg *pg, const char *sql, int n,
                     const char *const *params, PGresult **out,
                     const char *what, dray_error *err)
{
    PGresult *res = PQexecParams(pg->conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    dray_status st;

    if (out)
        *out = NULL;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        if (out)
            *out = res;
        else
            PQclear(res);
        return DRAY_OK;
    }
    st = pg_fail(pg, res, what, err);
    PQclear(res);
    return st;
}

dray_status pg_exec(struct pg *pg, const char *sql, const char *what,
                    dray_error *err)
{
    PGresult *res = PQexec(pg->conn, sql);
    ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    dray_status st = DRAY_OK;

    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        st = pg_fail(pg, res, what, err);
    PQclear(res);
    return st;
}

dray_status pg_lock(struct pg *pg, const char *name, dray_error *err)
{
    /* Two keys: a constant for dray, then the name's hash, so dray's locks
       never meet an application's one-key locks. */
    const char *params[1] = {name};

    return pg_query(pg,
                    "SELECT pg_advisory_xact_lock(1685217657, hashtext($1))", 1,
                    params, NULL, "taking the DDL lock", err);
}

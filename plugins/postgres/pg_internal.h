/*
 * pg_internal.h - what the files of the PostgreSQL plugin share.
 * docs/POSTGRES.md describes what the plugin does and why.
 */
#ifndef DRAY_PG_INTERNAL_H
#define DRAY_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "dray/dray_encode.h"
#include "dray/dray_flatten.h"
#include "dray/dray_ident.h"
#include "dray/dray_plugin.h"

/* One configured destination: its options and its connection. */
struct pg {
    dray_instance *inst;
    char *dsn;
    char *schema_tmpl; /* the schema option; may hold {integration} */
    char *sslrootcert; /* NULL: the system store */
    int64_t connect_timeout_ms;
    int64_t statement_timeout_ms;
    int64_t spill_memory;
    int64_t work_mem;     /* bytes */
    int64_t temp_buffers; /* bytes */
    int64_t max_rejects;
    int mode; /* DRAY_MODE_* */
    PGconn *conn;
    int ledger_ready; /* _dray.loads exists (checked on this connection) */
    struct dray_type_dialect types; /* postgres, years 1 to 9999 */
    char last_state[8];             /* SQLSTATE of the last failure */
    char last_msg[512];             /* and its message */
};

/* ---- pg_conn.c: connections, statements, errors ---- */

/* Connects (again) when there is no good connection. */
dray_status pg_connect(struct pg *pg, dray_error *err);
void pg_disconnect(struct pg *pg);
/* The sslmode the DSN (or PGSSLMODE) sets, "" when none, and in *remote
   whether it names another machine; NULL when the DSN cannot be parsed
   (why says why). Caller frees. */
char *pg_effective_sslmode(const char *dsn, int *remote, char *why,
                           size_t why_len);

/* Runs sql (no parameters, any number of statements). Returns DRAY_OK or
   the classified error, set in err with what names what was being done. */
dray_status pg_exec(struct pg *pg, const char *sql, const char *what,
                    dray_error *err);
/* The same with text parameters; a tuples result is returned in *out
   (NULL to discard) for the caller to PQclear. */
dray_status pg_query(struct pg *pg, const char *sql, int n,
                     const char *const *params, PGresult **out,
                     const char *what, dray_error *err);
/* Classifies a failed result (or a connection with no result). */
dray_status pg_fail(struct pg *pg, PGresult *res, const char *what,
                    dray_error *err);
/* An advisory transaction lock on name (a schema or a table). */
dray_status pg_lock(struct pg *pg, const char *name, dray_error *err);

/* Appends the identifier quoted; schema.name when schema is not NULL. */
void pg_ident(struct dray_buf *b, const char *schema, const char *name);
/* Appends text (NUL-terminated). */
void pg_add(struct dray_buf *b, const char *text);
void pg_addf(struct dray_buf *b, const char *fmt, ...) DRAY_PRINTF(2, 3);
/* Appends a string literal ('...' with quotes doubled, E'' never used). */
void pg_literal(struct dray_buf *b, const char *text);

/* ---- pg_catalog.c: what the schema already holds ---- */

struct pg_column {
    char *name;
    char *type; /* as format_type() writes it */
    int stype;  /* DRAY_ST_*; DRAY_ST_STRING for types dray does not make */
};

struct pg_table {
    char *name;
    struct pg_column *cols;
    size_t n_cols;
    char **pkey; /* primary key columns, in key order */
    size_t n_pkey;
    char *pkey_name; /* its constraint's name, or NULL */
};

/* The tables of one stream: its root table and the root__* subtables. */
struct pg_catalog {
    struct pg_table *tables;
    size_t n_tables;
};

dray_status pg_catalog_read(struct pg *pg, const char *schema, const char *root,
                            struct pg_catalog *cat, dray_error *err);
void pg_catalog_release(struct pg_catalog *cat);
const struct pg_table *pg_catalog_find(const struct pg_catalog *cat,
                                       const char *name);
int pg_column_index(const struct pg_table *t, const char *name);
/* The schema's base tables, one a line, into out (readback). */
dray_status pg_catalog_list(struct pg *pg, const char *schema,
                            struct dray_buf *out, dray_error *err);

/* ---- pg_ddl.c: schema changes the batch needs ---- */

/* Makes the schema and the tables and columns the table set marks new or
   renamed. keyed: give new tables a primary key (upsert). */
dray_status pg_ddl_apply(struct pg *pg, const char *schema,
                         const struct dray_tableset *ts, int keyed,
                         dray_error *err);
dray_status pg_ddl_schema(struct pg *pg, const char *schema, dray_error *err);
dray_status pg_ddl_ledger(struct pg *pg, dray_error *err);
dray_status pg_ddl_rejects(struct pg *pg, const char *schema, dray_error *err);
/* The SQL type of a column. */
const char *pg_column_type(const struct pg *pg, const struct dray_column *c,
                           char *buf, size_t n);
/* Appends "name" type, for one column or every column of a table. */
void pg_column_def(const struct pg *pg, struct dray_buf *sql,
                   const struct dray_column *c);
void pg_column_defs(const struct pg *pg, struct dray_buf *sql,
                    const struct dray_table *tb);
int32_t pg_column_pgtype(int stype);

/* ---- pg_copy.c: binary COPY streams and spill files ---- */

/* One table's encoded rows: in memory up to a limit, then in a temporary
   file. A record's rows are committed to it only when all of them
   encoded, so a record that fails half way leaves nothing. */
struct pg_spill {
    struct dray_buf mem;
    size_t committed; /* bytes of mem that belong to finished records */
    FILE *file;
    int64_t rows, rows_pending;
};

void pg_spill_mark(struct pg_spill *s);     /* a record starts */
void pg_spill_rollback(struct pg_spill *s); /* it failed */
/* It succeeded; spills to the file past limit. -1 on a write error. */
int pg_spill_commit(struct pg_spill *s, size_t limit);
/* Empties it for the next segment (its file closed); keeps the memory. */
void pg_spill_reset(struct pg_spill *s);
void pg_spill_release(struct pg_spill *s);
/* A binary COPY in steps: begin sends the header, end the trailer (rows
   gets the count the server reports); abort gives up. */
dray_status pg_copy_begin(struct pg *pg, const char *sql, dray_error *err);
dray_status pg_copy_put(struct pg *pg, const char *data, size_t len,
                        dray_error *err);
dray_status pg_copy_end(struct pg *pg, int64_t *rows, dray_error *err);
void pg_copy_abort(struct pg *pg);
/* COPY table (cols) FROM STDIN binary, fed from s. */
dray_status pg_copy_spill(struct pg *pg, const char *sql, struct pg_spill *s,
                          dray_error *err);

/* ---- pg_readback.c ---- */
dray_status pg_readback(void *state, const char *ns, const char *table,
                        dray_output *out, dray_error *err);
dray_status pg_list_tables(void *state, const char *ns, dray_output *out,
                           dray_error *err);
dray_status pg_namespace_create(void *state, const char *ns, dray_error *err);
dray_status pg_namespace_drop(void *state, const char *ns, dray_error *err);

/* ---- pg_load.c ---- */
dray_status pg_load_batch(void *state, dray_batch *b, dray_error *err);
/* The schema a batch loads into (ns, or the option with {integration}). */
char *pg_schema_for(const struct pg *pg, const char *ns,
                    const char *integration);

#endif /* DRAY_PG_INTERNAL_H */

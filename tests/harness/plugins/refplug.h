/*
 * refplug.h - the harness's reference plugin: a small, correct destination
 * that keeps each namespace's tables in one file, so that the conformance
 * harness has something to pass, and its broken variants (built from the
 * same sources with -DBROKEN_*) something to catch.
 *
 * A namespace is the folder <path>/<ns>; state.ndjson in it holds every
 * table (columns, then rows of canonical JSON values) and the ledger of
 * loaded batch ids. A batch reads the file, changes it in memory and
 * writes it whole under a temporary name that is renamed into place: a
 * batch is all there or not at all, and loading it again finds its id in
 * the ledger.
 */
#ifndef REFPLUG_H
#define REFPLUG_H

#include <stddef.h>
#include <stdint.h>

#include <dray/dray_flatten.h>
#include <dray/dray_plugin.h>
#include <dray/dray_types.h>

struct rp_col {
    char *name;
    int stype; /* enum dray_stype */
};

/* v[i] is the canonical JSON of the value (docs/ABI.md, readback), NULL
   for NULL; columns past n are NULL (added after the row). */
struct rp_row {
    char **v;
    size_t n;
};

struct rp_table {
    char *name;
    char *stream;
    int upsert;  /* root of a keyed upsert stream */
    char **keys; /* its key columns, in key order */
    size_t n_keys;
    struct rp_col *cols;
    size_t n_cols, cap_cols;
    struct rp_row *rows;
    size_t n_rows, cap_rows;
    int64_t batch_rows; /* rows the batch being loaded wrote; not kept */
};

struct rp_ledger {
    char *batch_id;
    char *line; /* the whole ledger line, written back as it is */
};

/* One namespace's state, as read from its file. */
struct rp_ns {
    char *dir;
    int lock_fd;
    struct rp_table **t;
    size_t n_t, cap_t;
    struct rp_ledger *l;
    size_t n_l, cap_l;
};

struct rp_plugin {
    dray_instance *inst;
    char *path;
    int mode;                       /* DRAY_MODE_* */
    struct dray_type_dialect types; /* PostgreSQL's, years 1 to 9999 */
    struct rp_ns *pending; /* broken_early_ok: acknowledged, not written */
};

/* ---- rp_store.c ---- */

/* 1 when ns is a usable namespace name ([a-z0-9_], 1 to 63 bytes). */
int rp_ns_name_ok(const char *ns);
/* Opens <path>/<ns> (ns NULL: "main"), making it when create, and reads
   its state under a lock (exclusive for a load, shared for a read). */
dray_status rp_ns_open(struct rp_ns *ns, const char *path, const char *name,
                       int create, int exclusive, dray_error *err);
/* Writes the state whole (temporary file, fsync, rename, folder fsync). */
dray_status rp_ns_write(struct rp_ns *ns, dray_error *err);
/* Frees the state and drops the lock. */
void rp_ns_close(struct rp_ns *ns);

struct rp_table *rp_table_find(const struct rp_ns *ns, const char *name);
struct rp_table *rp_table_add(struct rp_ns *ns, const char *name,
                              const char *stream);
int rp_col_find(const struct rp_table *t, const char *name);
int rp_col_add(struct rp_table *t, const char *name, int stype);
/* A row of n values (texts[i] NULL for NULL); 0 or -2. */
int rp_row_make(struct rp_row *row, char *const *texts, const size_t *lens,
                size_t n);
void rp_row_free(struct rp_row *row);
int rp_row_push(struct rp_table *t, struct rp_row *row);
/* The value of column c of row r, or NULL. */
const char *rp_val(const struct rp_row *r, int c);
/* Keeps the rows keep() says yes to, in order; frees the others. */
void rp_rows_filter(struct rp_table *t,
                    int (*keep)(void *ctx, const struct rp_row *r), void *ctx);
int rp_ledger_find(const struct rp_ns *ns, const char *batch_id);
int rp_ledger_add(struct rp_ns *ns, const char *batch_id, const char *line);

/* Writes the table's rows as canonical NDJSON in the ABI's order. */
dray_status rp_readback(const struct rp_table *t, dray_output *out,
                        dray_error *err);
/* Removes the namespace's folder. */
dray_status rp_ns_drop(const char *path, const char *name, dray_error *err);

/* ---- rp_load.c ---- */

dray_status rp_load_batch(void *state, dray_batch *batch, dray_error *err);

#endif /* REFPLUG_H */

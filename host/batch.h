/*
 * batch.h - the batch and record objects behind dray_batch / dray_record.
 *
 * Two sources behind the same functions: JSON lines held in memory (tests
 * and the conformance harness) and a spool batch file, whose records
 * stream through a buffer and are parsed one at a time.
 */
#ifndef DRAY_HOST_BATCH_H
#define DRAY_HOST_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "dray/dray_abi.h"
#include "strbuf.h"

struct batch_desc {
    const char *batch_id;
    const char *integration;
    const char *stream;
    const char *const *keys;
    size_t n_keys;
    uint32_t attempt;
    uint32_t flags; /* DRAY_BATCH_* */
    int64_t table_version;
    int64_t created_at_ms;
    int64_t first_sequence;  /* _sdc_sequence of the first record */
    const char *received_at; /* for every record */
    const char *ns;          /* namespace override, or NULL */
    const char *schema_json; /* the SCHEMA message's "schema" value */
};

struct batch_reject {
    int64_t row;
    char *table;
    char *reason;
};

struct batch_count {
    char *table;
    int64_t rows;
};

/* Builds a batch from JSON lines (one record object a line; blank lines
   skipped). Returns NULL with a one-line reason in err. */
struct dray_batch *batch_open_memory(const struct batch_desc *desc,
                                     const char *lines, size_t len,
                                     struct strbuf *err);
/* A batch read from a spool file (verified first; records stream). */
struct dray_batch *batch_open_spool(const char *file, uint32_t attempt,
                                    const char *ns, struct strbuf *err);
void batch_free(struct dray_batch *b);

/* What the plugin reported while loading. */
const struct batch_reject *batch_rejects(const struct dray_batch *b, size_t *n);
const struct batch_count *batch_counts(const struct dray_batch *b, size_t *n);

/* The host-table entries (host_api.c fills the plugin's views). */
void batch_get_info(const dray_batch *b, struct dray_batch_info *out);
void batch_schema_json(const dray_batch *b, const char **json, uint64_t *len);
int32_t batch_schema_nodes(const dray_batch *b);
int batch_get_node(const dray_batch *b, int32_t index,
                   struct dray_schema_node *out);
dray_status batch_next(dray_batch *b, const dray_record **rec, dray_error *err);
dray_status batch_rewind(dray_batch *b, dray_error *err);
void record_json(const dray_record *r, const char **json, uint64_t *len);
void record_get_meta(const dray_record *r, struct dray_record_meta *out);
int record_get_value(const dray_record *r, int32_t node,
                     struct dray_value *out);
void batch_reject(dray_batch *b, const dray_record *r, const char *table,
                  const char *reason);
void batch_report_rows(dray_batch *b, const char *table, int64_t rows);

#endif

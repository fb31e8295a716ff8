/*
 * Batches as plugins see them. The column model comes from the SDK's schema
 * parser and records from its tape parser, so numbers keep their source digits
 * and date-times are normalised the way plugins see them everywhere. Records
 * are kept as compact JSON text in one buffer; the current record is parsed
 * into a reused tape when the plugin moves to it.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "dray/dray_datetime.h"
#include "spool.h"
#include "dray/dray_json.h"
#include "dray/dray_schema.h"
#include "host_api.h"

struct dray_record {
    struct dray_batch *batch;
    int64_t row;
};

struct dray_batch {
    struct batch_desc desc; /* strings below are owned copies */
    /* Records come from the in-memory text below, or stream from a spool
       batch file. */
    struct spool_batch *spool;
    struct spool_record rec; /* the current spool record */
    char received[DRAY_DATETIME_MAX];
    char batched[DRAY_DATETIME_MAX];
    char **keys;
    char *schema_text;
    struct dray_schema schema;
    struct strbuf text; /* every record's compact JSON, back to back */
    size_t *offsets;    /* n_records + 1 offsets into text */
    int64_t n_records;
    int64_t cursor;
    struct dray_record current;
    struct dray_json_doc doc; /* the current record's tape */
    int parsed;               /* doc holds the current record */
    char **scratch;           /* value texts of the current record */
    size_t n_scratch, cap_scratch;
    struct batch_reject *rejects;
    size_t n_rejects;
    struct batch_count *counts;
    size_t n_counts;
};

/* ---- construction ---- */

static int sink_strbuf(void *ctx, const void *data, size_t len)
{
    strbuf_add(ctx, data, len);
    return 0;
}

static int add_records(struct dray_batch *b, const char *lines, size_t len,
                       struct strbuf *err)
{
    struct dray_json_doc doc;
    struct dray_sink sink = {sink_strbuf, NULL, &b->text};
    size_t pos = 0, cap = 16;
    int64_t lineno = 0;
    int rc = 0;

    dray_json_doc_init(&doc);
    b->offsets = xcalloc(cap, sizeof(*b->offsets));
    while (pos < len) {
        const char *start = lines + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        struct dray_json_error jerr;

        pos += n + (nl ? 1 : 0);
        lineno++;
        while (n > 0 && (start[n - 1] == '\r' || start[n - 1] == ' '))
            n--;
        if (n == 0)
            continue;
        if (dray_json_parse(&doc, start, n, &jerr) != 0) {
            strbuf_addf(err, "record line %lld is not valid JSON: %s",
                        (long long)lineno, jerr.message);
            rc = -1;
            break;
        }
        if (doc.tok[0].type != DRAY_JSON_OBJECT) {
            strbuf_addf(err, "record line %lld is not a JSON object",
                        (long long)lineno);
            rc = -1;
            break;
        }
        if ((size_t)b->n_records + 2 > cap) {
            cap *= 2;
            b->offsets = xrealloc(b->offsets, cap * sizeof(*b->offsets));
        }
        b->offsets[b->n_records] = b->text.len;
        dray_json_write(&doc, 0, &sink);
        b->n_records++;
    }
    b->offsets[b->n_records] = b->text.len;
    dray_json_doc_release(&doc);
    return rc;
}

struct dray_batch *batch_open_memory(const struct batch_desc *desc,
                                     const char *lines, size_t len,
                                     struct strbuf *err)
{
    struct dray_batch *b = xcalloc(1, sizeof(*b));
    char why[256] = "";
    const char *schema;

    b->desc = *desc;
    b->desc.batch_id = xstrdup(desc->batch_id ? desc->batch_id : "");
    b->desc.integration = xstrdup(desc->integration ? desc->integration : "");
    b->desc.stream = xstrdup(desc->stream ? desc->stream : "");
    b->desc.received_at = xstrdup(desc->received_at ? desc->received_at : "");
    b->desc.ns = xstrdup_or_null(desc->ns);
    b->keys = xcalloc(desc->n_keys + 1, sizeof(char *));
    for (size_t i = 0; i < desc->n_keys; i++)
        b->keys[i] = xstrdup(desc->keys[i]);
    b->desc.keys = (const char *const *)b->keys;
    schema = desc->schema_json ? desc->schema_json : "{\"type\":\"object\"}";
    b->schema_text = xstrdup(schema);
    b->desc.schema_json = b->schema_text;
    if (desc->attempt == 0)
        b->desc.attempt = 1;
    dray_json_doc_init(&b->doc);
    if (dray_schema_parse(&b->schema, b->schema_text, strlen(b->schema_text),
                          (const char *const *)b->keys, desc->n_keys, why,
                          sizeof(why)) != 0) {
        strbuf_addf(err, "the schema is invalid: %s", why);
        batch_free(b);
        return NULL;
    }
    if (add_records(b, lines, len, err) != 0) {
        batch_free(b);
        return NULL;
    }
    return b;
}

/* µs since the epoch as RFC 3339 UTC. */
static void format_us(int64_t us, char out[DRAY_DATETIME_MAX])
{
    struct dray_timestamp ts;

    ts.seconds = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    ts.nanos = (int32_t)((us - ts.seconds * 1000000) * 1000);
    dray_datetime_format(&ts, out);
}

struct dray_batch *batch_open_spool(const char *file, uint32_t attempt,
                                    const char *ns, struct strbuf *err)
{
    struct dray_batch *b;
    struct spool_batch *sb = xcalloc(1, sizeof(*sb));
    struct batch_desc d = {0};

    if (spool_batch_read(file, sb, err) != 0) {
        free(sb);
        return NULL;
    }
    d.batch_id = sb->id;
    d.integration = sb->integration;
    d.stream = sb->stream;
    d.keys = (const char *const *)sb->keys;
    d.n_keys = sb->n_keys;
    d.attempt = attempt;
    d.flags = (sb->activate_version ? DRAY_BATCH_ACTIVATE_VERSION : 0u) |
              (sb->has_table_version ? DRAY_BATCH_HAS_TABLE_VERSION : 0u);
    d.table_version = sb->table_version;
    d.created_at_ms = sb->created_at_ms;
    d.first_sequence = sb->first_sequence;
    d.ns = ns;
    d.schema_json = sb->schema_json;
    b = batch_open_memory(&d, "", 0, err);
    if (b == NULL) {
        spool_batch_release(sb);
        free(sb);
        return NULL;
    }
    b->spool = sb;
    b->n_records = (int64_t)sb->n_records;
    format_us(sb->batched_at_us, b->batched);
    return b;
}

static void clear_scratch(struct dray_batch *b)
{
    for (size_t i = 0; i < b->n_scratch; i++)
        free(b->scratch[i]);
    b->n_scratch = 0;
}

void batch_free(struct dray_batch *b)
{
    if (b == NULL)
        return;
    clear_scratch(b);
    free(b->scratch);
    if (b->spool) {
        spool_batch_release(b->spool);
        free(b->spool);
    }
    dray_json_doc_release(&b->doc);
    dray_schema_release(&b->schema);
    strbuf_release(&b->text);
    free(b->offsets);
    for (size_t i = 0; i < b->desc.n_keys; i++)
        free(b->keys[i]);
    free(b->keys);
    for (size_t i = 0; i < b->n_rejects; i++) {
        free(b->rejects[i].table);
        free(b->rejects[i].reason);
    }
    free(b->rejects);
    for (size_t i = 0; i < b->n_counts; i++)
        free(b->counts[i].table);
    free(b->counts);
    free(b->schema_text);
    free((char *)b->desc.batch_id);
    free((char *)b->desc.integration);
    free((char *)b->desc.stream);
    free((char *)b->desc.received_at);
    free((char *)b->desc.ns);
    free(b);
}

const struct batch_reject *batch_rejects(const struct dray_batch *b, size_t *n)
{
    *n = b->n_rejects;
    return b->rejects;
}

const struct batch_count *batch_counts(const struct dray_batch *b, size_t *n)
{
    *n = b->n_counts;
    return b->counts;
}

/* ---- host-table entries ---- */

void batch_get_info(const dray_batch *b, struct dray_batch_info *out)
{
    memset(out, 0, sizeof(*out));
    out->hdr = (struct dray_hdr)DRAY_HDR_INIT(struct dray_batch_info);
    out->batch_id = b->desc.batch_id;
    out->integration = b->desc.integration;
    out->stream = b->desc.stream;
    out->key_properties = b->desc.keys;
    out->n_key_properties = (uint32_t)b->desc.n_keys;
    out->attempt = b->desc.attempt;
    out->flags = b->desc.flags;
    out->table_version = b->desc.table_version;
    out->row_count = b->n_records;
    out->created_at_ms = b->desc.created_at_ms;
    out->ns = b->desc.ns;
}

void batch_schema_json(const dray_batch *b, const char **json, uint64_t *len)
{
    if (b == NULL)
        return;
    if (json)
        *json = b->schema_text;
    if (len)
        *len = strlen(b->schema_text);
}

int32_t batch_schema_nodes(const dray_batch *b)
{
    return b ? b->schema.n_nodes : 0;
}

int batch_get_node(const dray_batch *b, int32_t index,
                   struct dray_schema_node *out)
{
    if (index < 0 || index >= b->schema.n_nodes)
        return -1;
    memset(out, 0, sizeof(*out));
    out->hdr = (struct dray_hdr)DRAY_HDR_INIT(struct dray_schema_node);
    dray_schema_view(&b->schema, index, out);
    return 0;
}

static dray_status next_from_spool(struct dray_batch *b,
                                   const dray_record **rec, dray_error *err)
{
    struct strbuf why = STRBUF_INIT;
    int rc = spool_batch_next(b->spool, &b->rec, &why);

    if (rc < 0) {
        /* A batch that passed its checksum and then reads badly is a
           disk problem: retry rather than quarantine at once. */
        error_setf(err, DRAY_E_RETRYABLE, "%s", strbuf_str(&why));
        strbuf_release(&why);
        return DRAY_E_RETRYABLE;
    }
    strbuf_release(&why);
    if (rc == 0) {
        *rec = NULL;
        return DRAY_OK;
    }
    /* Parsed only when the plugin asks for a value: most plugins parse
       record_json with their own tape and never ask (the batch passed its
       checksum, and the gate checked every record). */
    b->parsed = 0;
    format_us(b->rec.meta.received_at_us, b->received);
    b->current.batch = b;
    b->current.row = (int64_t)b->rec.index;
    *rec = &b->current;
    return DRAY_OK;
}

dray_status batch_next(dray_batch *b, const dray_record **rec, dray_error *err)
{
    if (b == NULL || rec == NULL)
        return DRAY_E_ABI;
    clear_scratch(b);
    if (b->spool)
        return next_from_spool(b, rec, err);
    if (b->cursor >= b->n_records) {
        *rec = NULL;
        return DRAY_OK;
    }
    b->parsed = 0;
    b->current.batch = b;
    b->current.row = b->cursor++;
    *rec = &b->current;
    return DRAY_OK;
}

dray_status batch_rewind(dray_batch *b, dray_error *err)
{
    (void)err;
    if (b == NULL)
        return DRAY_E_ABI;
    clear_scratch(b);
    b->cursor = 0;
    if (b->spool)
        spool_batch_rewind(b->spool);
    return DRAY_OK;
}

void record_json(const dray_record *r, const char **json, uint64_t *len)
{
    const struct dray_batch *b;

    if (r == NULL)
        return;
    b = r->batch;
    if (b->spool) {
        if (json)
            *json = b->rec.json;
        if (len)
            *len = b->rec.len;
        return;
    }
    if (json)
        *json = b->text.buf + b->offsets[r->row];
    if (len)
        *len = b->offsets[r->row + 1] - b->offsets[r->row];
}

void record_get_meta(const dray_record *r, struct dray_record_meta *out)
{
    const struct dray_batch *b = r->batch;

    memset(out, 0, sizeof(*out));
    out->hdr = (struct dray_hdr)DRAY_HDR_INIT(struct dray_record_meta);
    out->row = r->row;
    out->sequence = b->desc.first_sequence + r->row;
    out->received_at = b->desc.received_at;
    out->batched_at = b->desc.received_at;
    out->table_version = (b->desc.flags & DRAY_BATCH_HAS_TABLE_VERSION)
                             ? b->desc.table_version
                             : 0;
    if (b->spool) {
        out->sequence = b->rec.sequence;
        out->received_at = b->received;
        out->batched_at = b->batched;
        out->extracted_at = b->rec.meta.extracted_at;
        out->primary_key = b->rec.meta.primary_key;
        if (b->rec.meta.flags & SPOOL_REC_REJECTED) {
            out->flags |= DRAY_REC_REJECTED;
            out->reject_reason = b->rec.meta.reason;
        }
    }
}

static const char *keep(struct dray_batch *b, char *text)
{
    if (b->n_scratch == b->cap_scratch) {
        b->cap_scratch = b->cap_scratch ? b->cap_scratch * 2 : 16;
        b->scratch = xrealloc(b->scratch, b->cap_scratch * sizeof(char *));
    }
    b->scratch[b->n_scratch++] = text;
    return text;
}

/* Fills out for a string token: a date-time node's value normalised to
   UTC when it parses, else the decoded text. */
static void string_value(struct dray_batch *b, int32_t node, uint32_t tok,
                         struct dray_value *out)
{
    struct dray_buf buf = DRAY_BUF_INIT;
    struct dray_timestamp ts;

    if (dray_json_string(&b->doc, tok, &buf) != 0) {
        dray_buf_release(&buf);
        out->kind = DRAY_V_NULL;
        return;
    }
    if (b->schema.nodes[node].format == DRAY_FMT_DATE_TIME &&
        dray_datetime_parse(buf.data ? buf.data : "", buf.len, &ts) == 0) {
        char norm[DRAY_DATETIME_MAX];
        size_t n = dray_datetime_format(&ts, norm);
        out->kind = DRAY_V_DATE_TIME;
        out->text = keep(b, xstrdup(norm));
        out->len = n;
        dray_buf_release(&buf);
        return;
    }
    out->kind = DRAY_V_STRING;
    out->len = buf.len;
    out->text = keep(b, buf.data ? buf.data : xstrdup(""));
}

static int fits_i64(const char *s, size_t n, int64_t *out)
{
    uint64_t v = 0, limit = (uint64_t)INT64_MAX;
    size_t i = 0;
    int neg = 0;

    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
        limit += 1;
    }
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || v > (limit - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

int record_get_value(const dray_record *r, int32_t node, struct dray_value *out)
{
    struct dray_batch *b = r->batch;
    const struct dray_schema *s = &b->schema;
    int32_t path[DRAY_SCHEMA_MAX_DEPTH + 2];
    int32_t depth = 0;
    int32_t tok = 0;
    const struct dray_json_token *t;

    if (node < 0 || node >= s->n_nodes)
        return -1;
    if (!b->parsed) {
        const char *json;
        uint64_t len;
        record_json(r, &json, &len);
        if (dray_json_parse(&b->doc, json, (size_t)len, NULL) != 0)
            return -1;
        b->parsed = 1;
    }
    for (int32_t i = node; i > 0; i = s->nodes[i].parent) {
        if (s->nodes[i].flags & DRAY_NODE_ITEMS)
            return -1; /* values below an array have no single place */
        if (depth == DRAY_SCHEMA_MAX_DEPTH + 1)
            return -1;
        path[depth++] = i;
    }
    memset(out, 0, sizeof(*out));
    out->hdr = (struct dray_hdr)DRAY_HDR_INIT(struct dray_value);
    while (depth > 0 && tok >= 0) {
        const char *name = s->nodes[path[--depth]].name;
        tok = b->doc.tok[tok].type == DRAY_JSON_OBJECT
                  ? dray_json_get(&b->doc, (uint32_t)tok, name, strlen(name))
                  : -1;
    }
    if (tok < 0) {
        out->kind = DRAY_V_ABSENT;
        return 0;
    }
    t = &b->doc.tok[tok];
    switch (t->type) {
    case DRAY_JSON_NULL:
        out->kind = DRAY_V_NULL;
        return 0;
    case DRAY_JSON_TRUE:
    case DRAY_JSON_FALSE:
        out->kind = DRAY_V_BOOLEAN;
        out->i64 = t->type == DRAY_JSON_TRUE;
        out->flags = DRAY_VF_I64;
        out->text = out->i64 ? "true" : "false";
        out->len = out->i64 ? 4 : 5;
        return 0;
    case DRAY_JSON_STRING:
        string_value(b, node, (uint32_t)tok, out);
        return 0;
    case DRAY_JSON_NUMBER:
        /* The source digits, never through a double. */
        out->text = b->doc.text + t->offset;
        out->len = t->len;
        if (t->flags & DRAY_JSON_F_INTEGER) {
            out->kind = DRAY_V_INTEGER;
            if (fits_i64(out->text, t->len, &out->i64))
                out->flags = DRAY_VF_I64;
        } else {
            out->kind = DRAY_V_NUMBER;
        }
        return 0;
    default:
        /* The record text is compact already: the slice is the value. */
        out->kind = t->type == DRAY_JSON_OBJECT ? DRAY_V_OBJECT : DRAY_V_ARRAY;
        out->text = b->doc.text + t->offset;
        out->len = t->len;
        return 0;
    }
}

void batch_reject(dray_batch *b, const dray_record *r, const char *table,
                  const char *reason)
{
    struct batch_reject *rj;

    if (b == NULL || r == NULL)
        return;
    b->rejects = xrealloc(b->rejects, (b->n_rejects + 1) * sizeof(*b->rejects));
    rj = &b->rejects[b->n_rejects++];
    rj->row = r->row;
    rj->table = xstrdup(table ? table : b->desc.stream);
    rj->reason = xstrdup(reason ? reason : "rejected without a reason");
}

void batch_report_rows(dray_batch *b, const char *table, int64_t rows)
{
    if (b == NULL || table == NULL)
        return;
    for (size_t i = 0; i < b->n_counts; i++)
        if (strcmp(b->counts[i].table, table) == 0) {
            b->counts[i].rows += rows;
            return;
        }
    b->counts = xrealloc(b->counts, (b->n_counts + 1) * sizeof(*b->counts));
    b->counts[b->n_counts].table = xstrdup(table);
    b->counts[b->n_counts].rows = rows;
    b->n_counts++;
}

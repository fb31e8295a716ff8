/*
 * Emitting rows for dray_flatten.h: the values of an observed record, root
 * row first, then each array's rows (subtables), with the system columns.
 */
#include "flatten_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dray/dray_datetime.h"

/* ---- rows ---- */

struct emit {
    struct dray_tableset *ts;
    const struct dray_json_doc *doc;
    const struct dray_record_meta *meta;
    int32_t only;
    dray_row_fn fn;
    void *ctx;
    struct dray_buf *reason;
    int32_t key_tok[MAX_KEYS];
    int64_t levels[MAX_LEVELS];
    /* Pending arrays, a stack: each row's after those of the rows above. */
    struct pending *pend;
    size_t n_pend, cap_pend;
};

/* An array of a row, emitted after it. */
struct pending {
    int32_t field;
    uint32_t tok;
};

static int set_timestamp_text(struct emit *e, struct dray_field *out,
                              const char *s, size_t n)
{
    struct dray_timestamp ts;
    char buf[DRAY_DATETIME_MAX];
    size_t len;

    if (s == NULL || dray_datetime_parse(s, n, &ts) != 0)
        return 0; /* stays NULL */
    len = dray_datetime_format(&ts, buf);
    out->text = dray__fw_arena_copy(&e->ts->arena, buf, len);
    if (out->text == NULL)
        return -2;
    out->len = len;
    out->kind = DRAY_F_TIMESTAMP;
    if (dray_datetime_micros(&ts, &out->i64) != 0)
        out->i64 = 0;
    return 0;
}

/* A system timestamp: converted once while it stays the same. */
static int set_sys_time(struct emit *e, struct dray_field *out, int which,
                        const char *s)
{
    struct dray_timestamp ts;
    size_t n = strlen(s);
    struct sys_time *c = &e->ts->sys_time[which];

    if (n == 0 || n >= sizeof(c->in))
        return set_timestamp_text(e, out, s, n);
    if (c->in_len != n || memcmp(c->in, s, n) != 0) {
        memcpy(c->in, s, n);
        c->in_len = n;
        c->out_len = 0;
        if (dray_datetime_parse(s, n, &ts) == 0) {
            c->out_len = dray_datetime_format(&ts, c->out);
            if (dray_datetime_micros(&ts, &c->us) != 0)
                c->us = 0;
        }
    }
    if (c->out_len == 0)
        return 0; /* stays NULL */
    out->text = dray__fw_arena_copy(&e->ts->arena, c->out, c->out_len);
    if (out->text == NULL)
        return -2;
    out->len = c->out_len;
    out->kind = DRAY_F_TIMESTAMP;
    out->i64 = c->us;
    return 0;
}

/* Decimal digits of v into buf (at least 21 bytes); returns the length. */
static size_t i64_digits(int64_t v, char *buf)
{
    char tmp[24];
    size_t n = 0, len = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        buf[len++] = '-';
    while (n > 0)
        buf[len++] = tmp[--n];
    return len;
}

static int set_i64(struct emit *e, struct dray_field *out, int64_t v)
{
    char buf[24];
    size_t n = i64_digits(v, buf);

    out->text = dray__fw_arena_copy(&e->ts->arena, buf, n);
    if (out->text == NULL)
        return -2;
    out->len = n;
    out->kind = DRAY_F_INT;
    out->i64 = v;
    return 0;
}

/* The value of token v, of Stitch type st, as a field. */
static int set_value(struct emit *e, struct dray_field *out, uint32_t v, int st)
{
    const struct dray_json_doc *doc = e->doc;
    const struct dray_json_token *t = &doc->tok[v];
    const char *s;
    size_t n;

    switch (st) {
    case DRAY_ST_BOOLEAN:
        out->kind = DRAY_F_BOOL;
        out->i64 = t->type == DRAY_JSON_TRUE;
        out->text = out->i64 ? "true" : "false";
        out->len = out->i64 ? 4 : 5;
        return 0;
    case DRAY_ST_BIGINT:
        /* The range is the dialect's (checked before); one beyond int64
           goes as its digits. */
        out->text = doc->text + t->offset;
        out->len = t->len;
        out->kind = dray__fw_parse_i64(out->text, out->len, &out->i64) == 0
                        ? DRAY_F_INT
                        : DRAY_F_DECIMAL;
        if (out->kind == DRAY_F_DECIMAL)
            out->i64 = 0;
        return 0;
    case DRAY_ST_DOUBLE:
    case DRAY_ST_DECIMAL:
        out->kind = st == DRAY_ST_DOUBLE ? DRAY_F_DOUBLE : DRAY_F_DECIMAL;
        out->text = doc->text + t->offset;
        out->len = t->len;
        return 0;
    case DRAY_ST_STRING:
    case DRAY_ST_TIMESTAMP:
        if (dray__fw_string_text(doc, v, &e->ts->value, &s, &n) != 0)
            return -2;
        if (st == DRAY_ST_TIMESTAMP)
            return set_timestamp_text(e, out, s, n);
        out->kind = DRAY_F_STRING;
        out->text = s == e->ts->value.data
                        ? dray__fw_arena_copy(&e->ts->arena, s, n)
                        : s;
        if (out->text == NULL)
            return -2;
        out->len = n;
        return 0;
    case DRAY_ST_OBJECT:
    case DRAY_ST_ARRAY: {
        struct dray_sink sink;
        dray_buf_reset(&e->ts->value);
        dray_sink_to_buf(&sink, &e->ts->value);
        if (dray_json_write(doc, v, &sink) != 0)
            return -2;
        out->kind = DRAY_F_JSON;
        out->text = dray__fw_arena_copy(
            &e->ts->arena, e->ts->value.data ? e->ts->value.data : "",
            e->ts->value.len);
        if (out->text == NULL)
            return -2;
        out->len = e->ts->value.len;
        return 0;
    }
    }
    return 0;
}

static int not_observed(struct emit *e, const struct field *f)
{
    return dray__fw_reject(e->reason,
                           "the record was not observed before its rows (",
                           f->source, ")");
}

static int add_pending(struct emit *e, int32_t field, uint32_t tok)
{
    if (e->n_pend == e->cap_pend) {
        size_t cap = e->cap_pend ? e->cap_pend * 2 : 16;
        struct pending *p = realloc(e->pend, cap * sizeof(*p));
        if (p == NULL)
            return -2;
        e->pend = p;
        e->cap_pend = cap;
    }
    e->pend[e->n_pend].field = field;
    e->pend[e->n_pend].tok = tok;
    e->n_pend++;
    return 0;
}

/* Puts the value of token v of field fi into row, or defers an array. */
static int fill_value(struct emit *e, struct dray_field *row, int32_t fi,
                      uint32_t v);

static int fill_object(struct emit *e, struct dray_field *row, int32_t fi,
                       uint32_t obj)
{
    const struct dray_json_doc *doc = e->doc;
    uint32_t end = doc->tok[obj].end;

    for (uint32_t i = obj + 1; i < end; i = doc->tok[i + 1].end) {
        int32_t child;
        int rc = dray__fw_member(e->ts, doc, fi, i, &child);
        if (rc == 0)
            rc = fill_value(e, row, child, i + 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int fill_value(struct emit *e, struct dray_field *row, int32_t fi,
                      uint32_t v)
{
    struct dray_tableset *ts = e->ts;
    const struct dray_json_token *t = &e->doc->tok[v];
    const struct field *f = &ts->fields[fi];
    int st, rc;
    int32_t c;

    if (t->type == DRAY_JSON_NULL)
        return 0;
    if (f->status != FIELD_OK)
        return dray__fw_field_reject(f, e->reason);
    rc = dray__fw_classify(ts, e->doc, fi, v, &st, e->reason);
    if (rc != 0)
        return rc;
    f = &ts->fields[fi];
    if (st == DRAY_ST_NONE)
        return 0;
    if (ts->opts.nesting == DRAY_NEST_FLATTEN) {
        if (st == DRAY_ST_OBJECT)
            return fill_object(e, row, fi, v);
        if (st == DRAY_ST_ARRAY)
            return t->count ? add_pending(e, fi, v) : 0;
    } else if ((st == DRAY_ST_OBJECT || st == DRAY_ST_ARRAY) && t->count == 0) {
        return 0;
    }
    c = f->col[st];
    if (c < 0)
        return not_observed(e, f);
    return set_value(e, &row[c], v, st);
}

static int fill_system(struct emit *e, int32_t t, struct dray_field *row,
                       int depth)
{
    const struct dray_table *tb = &e->ts->tables[t];
    const struct dray_record_meta *m = e->meta;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < tb->n_cols; i++) {
        const struct dray_column *c = &tb->cols[i];
        struct dray_field *out = &row[i];
        switch (c->system) {
        case DRAY_SYS_EXTRACTED_AT:
            if (m && m->extracted_at)
                rc = set_sys_time(e, out, 0, m->extracted_at);
            break;
        case DRAY_SYS_RECEIVED_AT:
            if (m && m->received_at)
                rc = set_sys_time(e, out, 1, m->received_at);
            break;
        case DRAY_SYS_BATCHED_AT:
            if (m && m->batched_at)
                rc = set_sys_time(e, out, 2, m->batched_at);
            break;
        case DRAY_SYS_SEQUENCE:
            if (m)
                rc = set_i64(e, out, m->sequence);
            break;
        case DRAY_SYS_TABLE_VERSION:
            if (m)
                rc = set_i64(e, out, m->table_version);
            break;
        case DRAY_SYS_PRIMARY_KEY:
        case DRAY_SYS_SOURCE_KEY:
            if (e->ts->n_keys == 0) {
                if (m && m->primary_key) {
                    out->kind = DRAY_F_STRING;
                    out->text = m->primary_key;
                    out->len = strlen(m->primary_key);
                }
            } else if (c->system == DRAY_SYS_SOURCE_KEY &&
                       (size_t)c->level < e->ts->n_keys) {
                const struct field *kf =
                    &e->ts->fields[e->ts->key_fields[c->level]];
                uint32_t v = (uint32_t)e->key_tok[c->level];
                int st = dray_types_classify(e->ts->schema, kf->node, e->doc, v,
                                             e->ts->opts.double_for_number);
                rc = set_value(e, out, v, st);
            }
            break;
        case DRAY_SYS_LEVEL_ID:
            if (c->level < depth)
                rc = set_i64(e, out, e->levels[c->level]);
            break;
        }
    }
    return rc;
}

/* Emits the row of owner field ro for token v (an object, a scalar item or
   an array item), then the rows of its arrays. The arena goes back to where
   it was once the row is out, and after each of its arrays' rows, so that
   an array of any length needs the memory of one row per level. */
static int emit_row(struct emit *e, int32_t ro, uint32_t v, int depth)
{
    struct dray_tableset *ts = e->ts;
    const struct dray_json_token *t = &e->doc->tok[v];
    struct arena_mark mark = dray__fw_arena_mark(&ts->arena);
    size_t first = e->n_pend, last, n_cols;
    struct dray_field *row;
    int32_t table = ts->fields[ro].table;
    int rc;

    if (table < 0)
        return 0; /* no value of this row's table ever needed a column */
    n_cols = ts->tables[table].n_cols;
    row =
        dray__fw_arena_alloc(&ts->arena, (n_cols ? n_cols : 1) * sizeof(*row));
    if (row == NULL)
        return -2;
    memset(row, 0, n_cols * sizeof(*row));
    rc = fill_system(e, table, row, depth);
    if (rc != 0)
        return rc;
    if (ro == 0 || t->type == DRAY_JSON_OBJECT) {
        rc = t->type == DRAY_JSON_OBJECT ? fill_object(e, row, ro, v) : 0;
    } else if (t->type == DRAY_JSON_ARRAY) {
        rc = t->count ? add_pending(e, ro, v) : 0;
    } else {
        rc = fill_value(e, row, ro, v);
    }
    if (rc != 0)
        return rc;
    if (e->only < 0 || e->only == table) {
        rc = e->fn(e->ctx, table, row, n_cols);
        if (rc != 0)
            return rc;
    }
    dray__fw_arena_release(&ts->arena, mark);
    last = e->n_pend;
    for (size_t p = first; p < last; p++) {
        int32_t pf = e->pend[p].field;
        uint32_t tok = e->pend[p].tok;
        int32_t items = ts->fields[pf].items;
        uint32_t el = tok + 1, end = e->doc->tok[tok].end;
        int64_t idx = 0;

        if (items < 0 || depth >= MAX_LEVELS)
            return not_observed(e, &ts->fields[pf]);
        for (; el < end; el = e->doc->tok[el].end, idx++) {
            if (e->doc->tok[el].type == DRAY_JSON_NULL)
                continue;
            e->levels[depth] = idx;
            rc = emit_row(e, items, el, depth + 1);
            e->n_pend = last;
            dray__fw_arena_release(&ts->arena, mark);
            if (rc != 0)
                return rc;
        }
    }
    e->n_pend = first;
    return 0;
}

int dray_flatten_rows(struct dray_tableset *ts, const struct dray_json_doc *doc,
                      const struct dray_record_meta *meta, int32_t only_table,
                      dray_row_fn fn, void *ctx, struct dray_buf *reason)
{
    struct emit e;
    int rc;

    memset(&e, 0, sizeof(e));
    e.ts = ts;
    e.doc = doc;
    e.meta = meta;
    e.only = only_table;
    e.fn = fn;
    e.ctx = ctx;
    e.reason = reason;
    rc = dray__fw_check_keys(ts, doc, e.key_tok, reason);
    if (rc == 0)
        rc = emit_row(&e, 0, 0, 0);
    free(e.pend);
    dray__fw_arena_reset(&ts->arena);
    return rc;
}

/*
 * Observing records for dray_flatten.h: which tables and columns a record
 * needs, and whether it is a reject; plus the helpers the row walk shares
 * (flatten_rows.c). Both walk the parsed tape; nothing builds a tree.
 */
#include "flatten_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dray/dray_datetime.h"

#define ARENA_BLOCK (64 * 1024)

/* ---- arena ---- */

void *dray__fw_arena_alloc(struct arena *a, size_t n)
{
    struct arena_block *b = a->head;

    n = (n + 15) & ~(size_t)15;
    if (b == NULL || b->size - b->used < n) {
        if (a->spare && a->spare->size >= n) {
            b = a->spare;
            a->spare = NULL;
        } else {
            size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
            b = malloc(sizeof(*b) + size);
            if (b == NULL)
                return NULL;
            b->size = size;
        }
        b->next = a->head;
        b->used = 0;
        a->head = b;
    }
    b->used += n;
    return b->data + b->used - n;
}

/* Keeps the newest block for the next row, frees the rest. */
void dray__fw_arena_reset(struct arena *a)
{
    struct arena_block *b = a->head;

    if (b == NULL)
        return;
    while (b->next) {
        struct arena_block *old = b->next;
        b->next = old->next;
        free(old);
    }
    b->used = 0;
}

struct arena_mark dray__fw_arena_mark(const struct arena *a)
{
    struct arena_mark m = {a->head, a->head ? a->head->used : 0};

    return m;
}

/* One block of the usual size is kept as a spare, so that a row that
   crosses a block's end does not cost a malloc and a free each time. */
void dray__fw_arena_release(struct arena *a, struct arena_mark m)
{
    while (a->head && a->head != m.head) {
        struct arena_block *old = a->head;
        a->head = old->next;
        if (a->spare == NULL && old->size == ARENA_BLOCK) {
            old->next = NULL;
            a->spare = old;
        } else {
            free(old);
        }
    }
    if (a->head)
        a->head->used = m.used;
}

char *dray__fw_arena_copy(struct arena *a, const char *s, size_t n)
{
    char *p = dray__fw_arena_alloc(a, n + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- small helpers ---- */

int dray__fw_reject(struct dray_buf *reason, const char *a, const char *b,
                    const char *c)
{
    dray_buf_reset(reason);
    if (dray_buf_add(reason, a, strlen(a)) != 0 ||
        (b && dray_buf_add(reason, b, strlen(b)) != 0) ||
        (c && dray_buf_add(reason, c, strlen(c)) != 0))
        return -2;
    return 1;
}

/* The decoded text of string token i: in the document when it has no
   escapes, else in buf. */
int dray__fw_string_text(const struct dray_json_doc *doc, uint32_t i,
                         struct dray_buf *buf, const char **s, size_t *n)
{
    const struct dray_json_token *t = &doc->tok[i];

    if (!(t->flags & DRAY_JSON_F_ESCAPED)) {
        *s = doc->text + t->offset;
        *n = t->len;
        return 0;
    }
    dray_buf_reset(buf);
    if (dray_json_string(doc, i, buf) != 0)
        return -2;
    *s = buf->data ? buf->data : "";
    *n = buf->len;
    return 0;
}

int dray__fw_member(struct dray_tableset *ts, const struct dray_json_doc *doc,
                    int32_t parent, uint32_t key, int32_t *child)
{
    const char *name;
    size_t n;

    if (dray__fw_string_text(doc, key, &ts->value, &name, &n) != 0 ||
        dray__ts_member(ts, parent, name, n, child) != 0)
        return -2;
    return 0;
}

int dray__fw_parse_i64(const char *s, size_t n, int64_t *out)
{
    uint64_t v = 0, limit;
    size_t i = 0;
    int neg = 0;

    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == n)
        return -1;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* What a field's status means for a record with a value for it. */
int dray__fw_field_reject(const struct field *f, struct dray_buf *reason)
{
    switch (f->status) {
    case FIELD_RESERVED_SUFFIX:
        return dray__fw_reject(
            reason,
            "column names from client should not include reserved "
            "datatype suffix on [",
            f->status_name ? f->status_name : f->name, "]");
    case FIELD_RESERVED_PREFIX:
        return dray__fw_reject(
            reason,
            "column names from client should not use the reserved "
            "prefixes _sdc or _rjm on [",
            f->name, "]");
    case FIELD_EMPTY_NAME:
        return dray__fw_reject(reason, "column name [", f->name,
                               "] has no characters this destination accepts");
    }
    return 0;
}

int dray__fw_check_keys(struct dray_tableset *ts,
                        const struct dray_json_doc *doc, int32_t *key_tok,
                        struct dray_buf *reason)
{
    const struct dray_schema *s = ts->schema;

    if (doc->n_tok == 0 || doc->tok[0].type != DRAY_JSON_OBJECT)
        return dray__fw_reject(reason, "the record is not a JSON object", NULL,
                               NULL);
    for (size_t k = 0; k < ts->n_keys; k++) {
        int32_t v = dray_json_get(doc, 0, s->keys[k], strlen(s->keys[k]));
        if (v < 0 || doc->tok[v].type == DRAY_JSON_NULL)
            return dray__fw_reject(reason, "Record is missing key property ",
                                   s->keys[k], NULL);
        key_tok[k] = v;
    }
    return 0;
}

/* ---- observe ---- */

static int observe_value(struct dray_tableset *ts,
                         const struct dray_json_doc *doc, int32_t fi,
                         uint32_t v, struct dray_buf *reason);

static int observe_object(struct dray_tableset *ts,
                          const struct dray_json_doc *doc, int32_t fi,
                          uint32_t obj, struct dray_buf *reason)
{
    uint32_t end = doc->tok[obj].end;

    for (uint32_t i = obj + 1; i < end; i = doc->tok[i + 1].end) {
        int32_t child;
        int rc = dray__fw_member(ts, doc, fi, i, &child);
        if (rc == 0)
            rc = observe_value(ts, doc, child, i + 1, reason);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int dray__fw_classify(struct dray_tableset *ts, const struct dray_json_doc *doc,
                      int32_t fi, uint32_t v, int *st, struct dray_buf *reason)
{
    const struct dray_json_token *t = &doc->tok[v];
    char why[256];
    const char *text;
    size_t n;

    *st = dray_types_classify(ts->schema, ts->fields[fi].node, doc, v,
                              ts->opts.double_for_number);
    if (ts->opts.types && (*st == DRAY_ST_BIGINT || *st == DRAY_ST_DECIMAL ||
                           *st == DRAY_ST_TIMESTAMP || *st == DRAY_ST_DOUBLE)) {
        if (t->type == DRAY_JSON_STRING) {
            if (dray__fw_string_text(doc, v, &ts->value, &text, &n) != 0)
                return -2;
        } else {
            text = doc->text + t->offset;
            n = t->len;
        }
        if (dray_types_check_range(ts->opts.types, *st, text, n, why,
                                   sizeof(why)) != 0)
            return dray__fw_reject(reason, why, NULL, NULL);
    }
    return 0;
}

static int observe_value(struct dray_tableset *ts,
                         const struct dray_json_doc *doc, int32_t fi,
                         uint32_t v, struct dray_buf *reason)
{
    const struct dray_json_token *t = &doc->tok[v];
    int st, rc;

    if (t->type == DRAY_JSON_NULL)
        return 0;
    rc = dray__fw_field_reject(&ts->fields[fi], reason);
    if (rc != 0)
        return rc;
    if (ts->fields[fi].depth > ts->opts.max_depth) {
        char msg[96];
        snprintf(msg, sizeof(msg), "the record nests deeper than %d levels",
                 ts->opts.max_depth);
        return dray__fw_reject(reason, msg, NULL, NULL);
    }
    rc = dray__fw_classify(ts, doc, fi, v, &st, reason);
    if (rc != 0)
        return rc;
    switch (st) {
    case DRAY_ST_NONE:
        return 0;
    case DRAY_ST_OBJECT:
        if (ts->opts.nesting == DRAY_NEST_FLATTEN)
            return observe_object(ts, doc, fi, v, reason);
        return t->count ? dray__ts_need(ts, fi, st, reason) : 0;
    case DRAY_ST_ARRAY:
        if (ts->opts.nesting == DRAY_NEST_FLATTEN) {
            int32_t items;
            uint32_t e = v + 1;
            if (dray__ts_items(ts, fi, &items) != 0)
                return -2;
            while (e < t->end) {
                rc = observe_value(ts, doc, items, e, reason);
                if (rc != 0)
                    return rc;
                e = doc->tok[e].end;
            }
            return 0;
        }
        return t->count ? dray__ts_need(ts, fi, st, reason) : 0;
    }
    return dray__ts_need(ts, fi, st, reason);
}

/* Subtables key their rows by the parent's key, typed as the key was
   when the subtable was made. A record whose key has another type now
   (the key split) could not load there: it is a reject, not a failed
   batch. */
static int check_source_keys(struct dray_tableset *ts,
                             const struct dray_json_doc *doc,
                             const int32_t *key_tok, struct dray_buf *reason)
{
    for (size_t t = 1; t < ts->n_tables; t++) {
        const struct dray_table *tb = &ts->tables[t];
        for (size_t c = 0; c < tb->n_cols; c++) {
            const struct dray_column *col = &tb->cols[c];
            if (col->system != DRAY_SYS_SOURCE_KEY ||
                (size_t)col->level >= ts->n_keys)
                continue;
            int st = dray_types_classify(
                ts->schema, ts->fields[ts->key_fields[col->level]].node, doc,
                (uint32_t)key_tok[col->level], ts->opts.double_for_number);
            if (st != col->stype)
                return dray__fw_reject(reason, "Field collision on ", col->name,
                                       NULL);
        }
    }
    return 0;
}

int dray_flatten_observe(struct dray_tableset *ts,
                         const struct dray_json_doc *doc,
                         const struct dray_record_meta *meta,
                         struct dray_buf *reason)
{
    int32_t key_tok[MAX_KEYS];
    int rc = dray__fw_check_keys(ts, doc, key_tok, reason);

    if (rc != 0)
        return rc;
    /* Keys first: subtables take their source key types from them. */
    for (size_t k = 0; rc == 0 && k < ts->n_keys; k++)
        rc = observe_value(ts, doc, ts->key_fields[k], (uint32_t)key_tok[k],
                           reason);
    if (rc == 0)
        rc = observe_object(ts, doc, 0, 0, reason);
    if (rc == 0)
        rc = dray__ts_finish_tables(ts, reason);
    if (rc == 0)
        rc = check_source_keys(ts, doc, key_tok, reason);
    if (rc == 0 && meta && meta->extracted_at && ts->fields[0].table >= 0)
        rc = dray__ts_need_extracted_at(ts, reason);
    dray__fw_arena_reset(&ts->arena);
    if (rc != 0) {
        dray__ts_undo(ts);
        return rc;
    }
    dray__ts_undo_forget(ts);
    return 0;
}

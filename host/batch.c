/*
 * The in-memory batch. Records are kept as parsed trees; values handed to
 * the plugin live in a per-record scratch list that is freed when the
 * plugin moves to the next record.
 */
#include "batch.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "host_api.h"

#define SCHEMA_MAX_DEPTH 32 /* recursive $ref is cut here */

struct node {
    char *name;
    int32_t parent;
    int32_t depth;
    uint32_t json_types;
    int32_t format;
    uint32_t flags;
    int32_t scale;
    char *multiple_of;
};

struct dray_record {
    struct dray_batch *batch;
    int64_t row;
    json_t *data;
    char *json; /* compact text of data */
};

struct dray_batch {
    struct batch_desc desc; /* strings below are owned copies */
    char **keys;
    char *schema_text;
    struct node *nodes;
    int32_t n_nodes;
    struct dray_record *records;
    int64_t n_records;
    int64_t cursor;
    char **scratch; /* value texts of the current record */
    size_t n_scratch;
    struct batch_reject *rejects;
    size_t n_rejects;
    struct batch_count *counts;
    size_t n_counts;
};

/* ---- schema to nodes ---- */

static uint32_t type_bit(const char *t)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } map[] = {{"null", DRAY_JT_NULL},       {"boolean", DRAY_JT_BOOLEAN},
               {"integer", DRAY_JT_INTEGER}, {"number", DRAY_JT_NUMBER},
               {"string", DRAY_JT_STRING},   {"object", DRAY_JT_OBJECT},
               {"array", DRAY_JT_ARRAY}};

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(t, map[i].name) == 0)
            return map[i].bit;
    return 0;
}

static const json_t *resolve_ref(const json_t *root, const json_t *s)
{
    const json_t *ref = json_object_get(s, "$ref");
    const char *prefix = "#/definitions/";

    if (!json_is_string(ref))
        return s;
    const char *r = json_string_value(ref);
    if (strncmp(r, prefix, strlen(prefix)) != 0)
        return s;
    const json_t *target = json_object_get(json_object_get(root, "definitions"),
                                           r + strlen(prefix));
    return target ? target : s;
}

static int32_t add_node(struct dray_batch *b, const char *name, int32_t parent,
                        int32_t depth)
{
    struct node *n;

    b->nodes = xrealloc(b->nodes, (size_t)(b->n_nodes + 1) * sizeof(*b->nodes));
    n = &b->nodes[b->n_nodes];
    memset(n, 0, sizeof(*n));
    n->name = xstrdup(name);
    n->parent = parent;
    n->depth = depth;
    n->scale = -1;
    return b->n_nodes++;
}

static int32_t scale_of(const char *multiple_of)
{
    const char *dot = strchr(multiple_of, '.');
    const char *e = strpbrk(multiple_of, "eE");

    if (e) /* 1e-2 */
        return e[1] == '-' ? atoi(e + 2) : 0;
    return dot ? (int32_t)strlen(dot + 1) : 0;
}

static void walk_schema(struct dray_batch *b, const json_t *root,
                        const json_t *s, int32_t self);

/* Folds one (sub)schema's type facts into node self. */
static void absorb(struct dray_batch *b, const json_t *root, const json_t *s,
                   int32_t self, int *has_props, int *has_items)
{
    const json_t *t, *any, *fmt, *mult, *addl;
    size_t i;
    json_t *v;

    s = resolve_ref(root, s);
    if (!json_is_object(s))
        return;
    t = json_object_get(s, "type");
    if (json_is_string(t))
        b->nodes[self].json_types |= type_bit(json_string_value(t));
    json_array_foreach (t, i, v)
        if (json_is_string(v))
            b->nodes[self].json_types |= type_bit(json_string_value(v));
    any = json_object_get(s, "anyOf");
    json_array_foreach (any, i, v)
        absorb(b, root, v, self, has_props, has_items);
    fmt = json_object_get(s, "format");
    if (json_is_string(fmt)) {
        const char *f = json_string_value(fmt);
        if (strcmp(f, "date-time") == 0)
            b->nodes[self].format = DRAY_FMT_DATE_TIME;
        else if (strcmp(f, "date") == 0)
            b->nodes[self].format = DRAY_FMT_DATE;
        else if (strcmp(f, "time") == 0)
            b->nodes[self].format = DRAY_FMT_TIME;
    }
    mult = json_object_get(s, "multipleOf");
    if (json_is_number(mult) && b->nodes[self].multiple_of == NULL) {
        char *text = json_dumps(mult, JSON_ENCODE_ANY | JSON_COMPACT);
        b->nodes[self].multiple_of = xstrdup(text ? text : "");
        b->nodes[self].scale = scale_of(b->nodes[self].multiple_of);
        free(text);
    }
    addl = json_object_get(s, "additionalProperties");
    if (addl && !json_is_false(addl))
        b->nodes[self].flags |= DRAY_NODE_OPEN;
    if (json_object_get(s, "properties"))
        *has_props = 1;
    if (json_object_get(s, "items"))
        *has_items = 1;
}

static void add_children(struct dray_batch *b, const json_t *root,
                         const json_t *s, int32_t self)
{
    const json_t *props, *items, *any;
    const char *key;
    json_t *v;
    size_t i;

    s = resolve_ref(root, s);
    props = json_object_get(s, "properties");
    json_object_foreach ((json_t *)props, key, v) {
        int32_t child = add_node(b, key, self, b->nodes[self].depth + 1);
        walk_schema(b, root, v, child);
    }
    items = json_object_get(s, "items");
    if (json_is_object(items)) {
        int32_t child = add_node(b, "", self, b->nodes[self].depth + 1);
        b->nodes[child].flags |= DRAY_NODE_ITEMS;
        walk_schema(b, root, items, child);
    }
    any = json_object_get(s, "anyOf");
    json_array_foreach (any, i, v)
        add_children(b, root, v, self);
}

static void walk_schema(struct dray_batch *b, const json_t *root,
                        const json_t *s, int32_t self)
{
    int has_props = 0, has_items = 0;

    absorb(b, root, s, self, &has_props, &has_items);
    if (b->nodes[self].depth >= SCHEMA_MAX_DEPTH) {
        /* Recursive schemas end here; the value is kept as JSON. */
        b->nodes[self].flags |= DRAY_NODE_DEPTH_CUT;
        return;
    }
    if (has_props || has_items)
        add_children(b, root, s, self);
}

static int build_nodes(struct dray_batch *b, struct strbuf *err)
{
    json_error_t jerr;
    json_t *root = json_loads(b->schema_text, JSON_DECODE_ANY, &jerr);

    if (!json_is_object(root)) {
        strbuf_addf(err, "the schema is not a JSON object: %s", jerr.text);
        json_decref(root);
        return -1;
    }
    int32_t top = add_node(b, "", -1, 0);
    walk_schema(b, root, root, top);
    json_decref(root);
    for (size_t k = 0; k < b->desc.n_keys; k++)
        for (int32_t i = 1; i < b->n_nodes; i++)
            if (b->nodes[i].parent == 0 &&
                strcmp(b->nodes[i].name, b->keys[k]) == 0)
                b->nodes[i].flags |= DRAY_NODE_KEY;
    return 0;
}

/* ---- construction ---- */

static int add_records(struct dray_batch *b, const char *lines, size_t len,
                       struct strbuf *err)
{
    size_t pos = 0;
    int64_t lineno = 0;

    while (pos < len) {
        const char *start = lines + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        json_error_t jerr;
        json_t *v;

        pos += n + (nl ? 1 : 0);
        lineno++;
        while (n > 0 && (start[n - 1] == '\r' || start[n - 1] == ' '))
            n--;
        if (n == 0)
            continue;
        v = json_loadb(start, n, JSON_ALLOW_NUL, &jerr);
        if (!json_is_object(v)) {
            strbuf_addf(err, "record line %lld is not a JSON object%s%s",
                        (long long)lineno, v ? "" : ": ", v ? "" : jerr.text);
            json_decref(v);
            return -1;
        }
        b->records = xrealloc(b->records,
                              (size_t)(b->n_records + 1) * sizeof(*b->records));
        struct dray_record *r = &b->records[b->n_records];
        r->batch = b;
        r->row = b->n_records++;
        r->data = v;
        r->json =
            json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    }
    return 0;
}

struct dray_batch *batch_open_memory(const struct batch_desc *desc,
                                     const char *lines, size_t len,
                                     struct strbuf *err)
{
    struct dray_batch *b = xcalloc(1, sizeof(*b));

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
    b->schema_text = xstrdup(desc->schema_json ? desc->schema_json : "{}");
    b->desc.schema_json = b->schema_text;
    if (desc->attempt == 0)
        b->desc.attempt = 1;
    if (build_nodes(b, err) != 0 || add_records(b, lines, len, err) != 0) {
        batch_free(b);
        return NULL;
    }
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
    for (int64_t i = 0; i < b->n_records; i++) {
        json_decref(b->records[i].data);
        free(b->records[i].json);
    }
    free(b->records);
    for (int32_t i = 0; i < b->n_nodes; i++) {
        free(b->nodes[i].name);
        free(b->nodes[i].multiple_of);
    }
    free(b->nodes);
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
    return b ? b->n_nodes : 0;
}

int batch_get_node(const dray_batch *b, int32_t index,
                   struct dray_schema_node *out)
{
    const struct node *n;

    if (index < 0 || index >= b->n_nodes)
        return -1;
    n = &b->nodes[index];
    memset(out, 0, sizeof(*out));
    out->hdr = (struct dray_hdr)DRAY_HDR_INIT(struct dray_schema_node);
    out->name = n->name;
    out->parent = n->parent;
    out->depth = n->depth;
    out->json_types = n->json_types;
    out->format = n->format;
    out->flags = n->flags;
    out->scale = n->scale;
    out->multiple_of = n->multiple_of;
    return 0;
}

dray_status batch_next(dray_batch *b, const dray_record **rec, dray_error *err)
{
    (void)err;
    if (b == NULL || rec == NULL)
        return DRAY_E_ABI;
    clear_scratch(b);
    if (b->cursor >= b->n_records) {
        *rec = NULL;
        return DRAY_OK;
    }
    *rec = &b->records[b->cursor++];
    return DRAY_OK;
}

dray_status batch_rewind(dray_batch *b, dray_error *err)
{
    (void)err;
    if (b == NULL)
        return DRAY_E_ABI;
    clear_scratch(b);
    b->cursor = 0;
    return DRAY_OK;
}

void record_json(const dray_record *r, const char **json, uint64_t *len)
{
    if (r == NULL)
        return;
    if (json)
        *json = r->json;
    if (len)
        *len = strlen(r->json);
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
}

static const char *keep(struct dray_batch *b, char *text)
{
    b->scratch = xrealloc(b->scratch, (b->n_scratch + 1) * sizeof(char *));
    b->scratch[b->n_scratch++] = text;
    return text;
}

int record_get_value(const dray_record *r, int32_t node, struct dray_value *out)
{
    struct dray_batch *b = r->batch;
    int32_t path[SCHEMA_MAX_DEPTH + 2];
    int32_t depth = 0;
    const json_t *v = r->data;

    if (node < 0 || node >= b->n_nodes)
        return -1;
    for (int32_t i = node; i > 0; i = b->nodes[i].parent) {
        if (b->nodes[i].flags & DRAY_NODE_ITEMS)
            return -1; /* values below an array have no single place */
        path[depth++] = i;
    }
    memset(out, 0, sizeof(*out));
    out->hdr = (struct dray_hdr)DRAY_HDR_INIT(struct dray_value);
    while (depth > 0 && v != NULL)
        v = json_is_object(v) ? json_object_get(v, b->nodes[path[--depth]].name)
                              : NULL;
    if (v == NULL) {
        out->kind = DRAY_V_ABSENT;
        return 0;
    }
    switch (json_typeof(v)) {
    case JSON_NULL:
        out->kind = DRAY_V_NULL;
        return 0;
    case JSON_TRUE:
    case JSON_FALSE:
        out->kind = DRAY_V_BOOLEAN;
        out->i64 = json_is_true(v);
        out->flags = DRAY_VF_I64;
        out->text = out->i64 ? "true" : "false";
        out->len = strlen(out->text);
        return 0;
    case JSON_STRING:
        out->kind = DRAY_V_STRING;
        out->text = json_string_value(v);
        out->len = json_string_length(v);
        return 0;
    case JSON_INTEGER:
        out->kind = DRAY_V_INTEGER;
        out->i64 = json_integer_value(v);
        out->flags = DRAY_VF_I64;
        break;
    case JSON_REAL:
        out->kind = DRAY_V_NUMBER;
        break;
    case JSON_OBJECT:
        out->kind = DRAY_V_OBJECT;
        break;
    case JSON_ARRAY:
        out->kind = DRAY_V_ARRAY;
        break;
    }
    char *text =
        json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    out->text = keep(b, text ? text : xstrdup(""));
    out->len = strlen(out->text);
    return 0;
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

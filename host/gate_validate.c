/*
 * gate_validate.c - a record against its stream's schema: key properties,
 * JSON types, date-times (the ones to rewrite in UTC are noted for
 * gate_write.c).
 *
 * Only what a warehouse cannot hold is enforced. A value of another type
 * than declared loads into a split column (the SDK's rule), so by default
 * it is only counted and logged once per column; maxLength, minimum,
 * maximum, pattern and enum describe the source column and are not read.
 */
#include "gate.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dray/dray_datetime.h"
#include "log.h"

/* Longest escaped string decoded to look for a date-time in it. */
#define DATETIME_ESCAPED_MAX 256

struct walk {
    struct gate *g;
    struct gate_stream *st;
    int reason_set; /* g->reason holds the record's first problem */
    size_t mismatches;
};

/* The DRAY_JT_* bits a value satisfies: an integer is a number too. */
static uint32_t json_type_bits(const struct dray_json_token *t)
{
    switch (t->type) {
    case DRAY_JSON_NULL:
        return DRAY_JT_NULL;
    case DRAY_JSON_TRUE:
    case DRAY_JSON_FALSE:
        return DRAY_JT_BOOLEAN;
    case DRAY_JSON_NUMBER:
        return t->flags & DRAY_JSON_F_INTEGER ? DRAY_JT_INTEGER | DRAY_JT_NUMBER
                                              : DRAY_JT_NUMBER;
    case DRAY_JSON_STRING:
        return DRAY_JT_STRING;
    case DRAY_JSON_OBJECT:
        return DRAY_JT_OBJECT;
    default:
        return DRAY_JT_ARRAY;
    }
}

static const char *value_kind(const struct dray_json_token *t)
{
    switch (t->type) {
    case DRAY_JSON_NULL:
        return "null";
    case DRAY_JSON_TRUE:
    case DRAY_JSON_FALSE:
        return "a boolean";
    case DRAY_JSON_NUMBER:
        return t->flags & DRAY_JSON_F_INTEGER ? "an integer" : "a number";
    case DRAY_JSON_STRING:
        return "a string";
    case DRAY_JSON_OBJECT:
        return "an object";
    default:
        return "an array";
    }
}

/* "integer", "string or null": the types a node allows. */
static void add_declared(struct strbuf *sb, uint32_t types)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{DRAY_JT_BOOLEAN, "boolean"}, {DRAY_JT_INTEGER, "integer"},
                 {DRAY_JT_NUMBER, "number"},   {DRAY_JT_STRING, "string"},
                 {DRAY_JT_OBJECT, "object"},   {DRAY_JT_ARRAY, "array"},
                 {DRAY_JT_NULL, "null"}};
    int first = 1;

    /* JSON Schema's numbers include the integers. */
    if (types & DRAY_JT_NUMBER)
        types &= ~DRAY_JT_INTEGER;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(types & names[i].bit))
            continue;
        strbuf_addf(sb, "%s%s", first ? "" : " or ", names[i].name);
        first = 0;
    }
}

/* "address.city", "tags[]": where node sits in the record. */
static void add_path(struct strbuf *sb, const struct dray_schema *s,
                     int32_t node)
{
    const struct dray_schema_field *f = &s->nodes[node];

    if (f->parent < 0)
        return;
    add_path(sb, s, f->parent);
    if (f->flags & DRAY_NODE_ITEMS) {
        strbuf_adds(sb, "[]");
        return;
    }
    if (s->nodes[f->parent].parent >= 0)
        strbuf_addch(sb, '.');
    strbuf_adds(sb, f->name);
}

static void describe_mismatch(struct strbuf *sb, const struct walk *wk,
                              int32_t node, const struct dray_json_token *t,
                              int not_datetime)
{
    const struct dray_schema_field *f = &wk->st->schema.nodes[node];

    strbuf_adds(sb, "field '");
    add_path(sb, &wk->st->schema, node);
    if (not_datetime) {
        strbuf_adds(sb, "' is a string that is not a date-time, the schema "
                        "says date-time");
        return;
    }
    strbuf_addf(sb, "' is %s, the schema says ", value_kind(t));
    add_declared(sb, f->json_types);
}

static void mismatch(struct walk *wk, int32_t node, uint32_t i,
                     int not_datetime)
{
    struct gate *g = wk->g;
    const struct dray_json_token *t = &g->doc.tok[i];
    struct strbuf msg = STRBUF_INIT;

    /* A key's problem was reported by the key checks already. */
    if (wk->st->schema.nodes[node].flags & DRAY_NODE_KEY)
        return;
    wk->mismatches++;
    g->stats.mismatches++;
    if (!wk->reason_set) {
        describe_mismatch(&g->reason, wk, node, t, not_datetime);
        wk->reason_set = 1;
    }
    if (wk->st->warned[node] || g->set.on_invalid == CONFIG_INVALID_FAIL)
        return;
    wk->st->warned[node] = 1;
    describe_mismatch(&msg, wk, node, t, not_datetime);
    log_warn("%s:%" PRIu64 ": stream '%s': %s; %s (logged once per column)",
             g->file, g->line, wk->st->name, msg.buf,
             g->set.on_invalid == CONFIG_INVALID_REJECT
                 ? "records holding such values are rejected"
                 : "such values load into a split column");
    strbuf_release(&msg);
}

static void add_subst(struct gate *g, uint32_t token, const char *text,
                      size_t len)
{
    struct gate_subst *s;

    if (g->n_subst == g->cap_subst) {
        g->cap_subst = g->cap_subst ? g->cap_subst * 2 : 16;
        g->subst = xrealloc(g->subst, g->cap_subst * sizeof(*g->subst));
    }
    s = &g->subst[g->n_subst++];
    s->token = token;
    s->at = g->subst_text.len;
    s->len = len;
    if (dray_buf_add(&g->subst_text, text, len) != 0)
        g->n_subst--; /* out of memory: the value is stored as sent */
}

/* A string at a date-time node: normalised to UTC when it parses. */
static void check_datetime(struct walk *wk, int32_t node, uint32_t i)
{
    struct gate *g = wk->g;
    const struct dray_json_token *t = &g->doc.tok[i];
    const char *s = g->doc.text + t->offset;
    size_t n = t->len;
    char out[DRAY_DATETIME_MAX];
    int m;

    if (t->flags & DRAY_JSON_F_ESCAPED) {
        if (n > DATETIME_ESCAPED_MAX) {
            mismatch(wk, node, i, 1);
            return;
        }
        dray_buf_reset(&g->text);
        if (dray_json_string(&g->doc, i, &g->text) != 0)
            return;
        s = g->text.data;
        n = g->text.len;
    }
    m = gate_datetime(s, n, out);
    if (m < 0) {
        mismatch(wk, node, i, 1);
        return;
    }
    if (m == 0 && (t->flags & DRAY_JSON_F_ESCAPED)) {
        memcpy(out, s, n); /* normal once decoded */
        m = (int)n;
    }
    if (m > 0)
        add_subst(g, i, out, (size_t)m);
}

/* The child of node named by member m (key token k) of a record object. */
static int32_t child_of(struct walk *wk, int32_t node, uint32_t m, uint32_t k)
{
    struct gate_stream *st = wk->st;
    const struct dray_json_doc *doc = &wk->g->doc;
    const struct dray_json_token *key = &doc->tok[k];
    const char *name = doc->text + key->offset;
    size_t n = key->len;
    int32_t child;

    if (key->flags & DRAY_JSON_F_ESCAPED) {
        dray_buf_reset(&wk->g->text);
        if (dray_json_string(doc, k, &wk->g->text) != 0)
            return -1;
        name = wk->g->text.data;
        n = wk->g->text.len;
    }
    /* Records of a stream list their fields in the same order: try the
       node the last record had at this position before hashing. */
    if (node == 0 && m < st->n_guess) {
        child = st->guess[m];
        if (child >= 0 && st->node_name_len[child] == n &&
            memcmp(st->schema.nodes[child].name, name, n) == 0)
            return child;
    }
    child = dray_schema_child(&st->schema, node, name, n);
    if (node == 0) {
        if (m >= st->n_guess) {
            size_t grown = m + 1 > st->n_guess * 2 ? m + 1 : st->n_guess * 2;

            st->guess = xrealloc(st->guess, grown * sizeof(*st->guess));
            for (size_t j = st->n_guess; j < grown; j++)
                st->guess[j] = -1;
            st->n_guess = grown;
        }
        st->guess[m] = child;
    }
    return child;
}

/* Where the record holds key node (the last of duplicates, as
   dray_json_get finds it). */
static void note_key(struct walk *wk, int32_t node, uint32_t value)
{
    for (size_t k = 0; k < wk->st->n_keys; k++)
        if (wk->st->key_nodes[k] == node)
            wk->g->key_tok[k] = (int32_t)value;
}

static void walk_value(struct walk *wk, int32_t node, uint32_t i)
{
    const struct dray_schema *s = &wk->st->schema;
    const struct dray_schema_field *f = &s->nodes[node];
    const struct dray_json_doc *doc = &wk->g->doc;
    const struct dray_json_token *t = &doc->tok[i];
    uint32_t k;

    /* A null never splits a column: it is a NULL in the declared one. */
    if (t->type == DRAY_JSON_NULL)
        return;
    if (!(f->json_types & json_type_bits(t))) {
        mismatch(wk, node, i, 0);
        return;
    }
    if (f->flags & DRAY_NODE_DEPTH_CUT)
        return; /* kept as JSON, whatever it holds */
    switch (t->type) {
    case DRAY_JSON_STRING:
        if (f->format == DRAY_FMT_DATE_TIME)
            check_datetime(wk, node, i);
        return;
    case DRAY_JSON_OBJECT:
        k = i + 1;
        for (uint32_t m = 0; m < t->count; m++) {
            int32_t child = child_of(wk, node, m, k);

            /* Undeclared fields load by their own type: nothing to check. */
            if (child < 0) {
                k = doc->tok[k + 1].end;
                continue;
            }
            if (s->nodes[child].flags & DRAY_NODE_KEY)
                note_key(wk, child, k + 1);
            walk_value(wk, child, k + 1);
            k = doc->tok[k + 1].end;
        }
        return;
    case DRAY_JSON_ARRAY:
        if (f->items < 0)
            return;
        for (k = i + 1; k < t->end; k = doc->tok[k].end)
            walk_value(wk, f->items, k);
        return;
    default:
        return;
    }
}

/* Stitch's rule: key properties are present, non-null, of their type. The
   walk noted where each is. */
static int check_keys(struct walk *wk)
{
    struct gate *g = wk->g;
    const struct gate_stream *st = wk->st;

    for (size_t k = 0; k < st->n_keys; k++) {
        int32_t v = g->key_tok[k], node = st->key_nodes[k];
        const struct dray_json_token *t;

        if (v < 0 || g->doc.tok[v].type == DRAY_JSON_NULL) {
            strbuf_reset(&g->reason);
            strbuf_addf(&g->reason, "Record is missing key property %s",
                        st->keys[k]);
            return -1;
        }
        t = &g->doc.tok[v];
        if (!(st->schema.nodes[node].json_types & json_type_bits(t))) {
            strbuf_reset(&g->reason);
            strbuf_addf(&g->reason,
                        "Record key property %s is %s, the schema "
                        "says ",
                        st->keys[k], value_kind(t));
            add_declared(&g->reason, st->schema.nodes[node].json_types);
            return -1;
        }
    }
    return 0;
}

int gate_check_record(struct gate *g, struct gate_stream *st, uint32_t rec,
                      int *rejected)
{
    struct walk wk;
    int bad_key;

    memset(&wk, 0, sizeof(wk));
    wk.g = g;
    wk.st = st;
    *rejected = 0;
    strbuf_reset(&g->reason);
    g->n_subst = 0;
    dray_buf_reset(&g->subst_text);
    if (st->n_keys > g->cap_key_tok) {
        g->cap_key_tok = st->n_keys;
        g->key_tok = xrealloc(g->key_tok, st->n_keys * sizeof(*g->key_tok));
    }
    for (size_t k = 0; k < st->n_keys; k++)
        g->key_tok[k] = -1;
    walk_value(&wk, 0, rec);
    bad_key = check_keys(&wk) != 0; /* a key's reason comes first */
    if ((bad_key || wk.mismatches > 0) &&
        g->set.on_invalid == CONFIG_INVALID_FAIL) {
        strbuf_addf(&g->err,
                    "stream '%s': %s; integration '%s' has on_invalid: fail",
                    st->name, g->reason.buf, g->set.integration);
        return GATE_BAD_INPUT;
    }
    *rejected = bad_key || (wk.mismatches > 0 &&
                            g->set.on_invalid == CONFIG_INVALID_REJECT);
    return gate_write_record(g, rec);
}

int gate_prepare_schema(struct gate_stream *st)
{
    free(st->key_nodes);
    free(st->warned);
    st->key_nodes = xcalloc(st->n_keys ? st->n_keys : 1, sizeof(int32_t));
    for (size_t k = 0; k < st->n_keys; k++)
        st->key_nodes[k] =
            dray_schema_child(&st->schema, 0, st->keys[k], strlen(st->keys[k]));
    st->warned = xcalloc((size_t)st->schema.n_nodes, 1);
    free(st->node_name_len);
    st->node_name_len = xcalloc((size_t)st->schema.n_nodes, sizeof(uint32_t));
    for (int32_t i = 0; i < st->schema.n_nodes; i++)
        st->node_name_len[i] = (uint32_t)strlen(st->schema.nodes[i].name);
    /* Guesses name nodes of the old schema. */
    free(st->guess);
    st->guess = NULL;
    st->n_guess = 0;
    return 0;
}

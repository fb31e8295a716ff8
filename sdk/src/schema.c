/*
 * schema.c - a stream's JSON Schema as a tree of column nodes.
 *
 * Each node is built from the subschemas that describe it: the property's
 * own schema, plus every branch reached from it through anyOf, oneOf,
 * allOf and local $ref ("facets"). Types fold over them (a union for
 * anyOf/oneOf, an intersection for allOf, type and $ref); properties and
 * items are taken from every facet that allows an object or an array, and
 * same-named properties merge into one child. Nodes are written depth
 * first, so each subtree is contiguous and a parent precedes its children.
 * Rules and reasons: docs/DATA_CORE.md, "Schema model".
 */
#include "schema_fold.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct build {
    struct dray_schema *s;
    struct dray__fold fold;
    size_t cap_nodes;
    char *err;
    size_t errlen;
};

static void set_err(struct build *b, const char *fmt, ...)
{
    va_list ap;

    if (b->err == NULL || b->errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->err, b->errlen, fmt, ap);
    va_end(ap);
    /* One line, whatever bytes a parser's message quotes from the input. */
    for (char *p = b->err; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* A name fit for a one-line message: control bytes shown as '?', long
   names cut (cap >= 4). */
static void printable(char *dst, size_t cap, const char *name)
{
    size_t i = 0;

    for (; name[i] && i + 4 < cap; i++)
        dst[i] =
            (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
    if (name[i]) {
        memcpy(dst + i, "...", 3);
        i += 3;
    }
    dst[i] = '\0';
}

/* ---- nodes ---- */

static int32_t add_node(struct build *b, const char *name, size_t n,
                        int32_t parent)
{
    struct dray_schema *s = b->s;
    struct dray_schema_field *f;
    char *copy;

    if (s->n_nodes >= DRAY_SCHEMA_MAX_NODES) {
        set_err(b, "the schema is too large (more than %d nodes)",
                DRAY_SCHEMA_MAX_NODES);
        return -1;
    }
    if (dray__grow(&s->nodes, &b->cap_nodes, (size_t)s->n_nodes + 1,
                   sizeof(*s->nodes)) != 0 ||
        (copy = malloc(n + 1)) == NULL)
        return -2;
    memcpy(copy, name, n);
    copy[n] = '\0';
    f = &s->nodes[s->n_nodes];
    memset(f, 0, sizeof(*f));
    f->name = copy;
    f->parent = parent;
    f->depth = parent < 0 ? 0 : s->nodes[parent].depth + 1;
    f->scale = -1;
    f->first_child = -1;
    f->next_sibling = -1;
    f->items = -1;
    return s->n_nodes++;
}

/* multipleOf: a positive decimal (numbers reach here as their source
   text; see schema_text.c). Returns 0, or -2. */
static int take_multiple_of(struct dray_schema_field *f, const json_t *v)
{
    struct dray__decimal d;
    size_t n = json_string_length(v);
    int64_t scale;

    if (f->multiple_of != NULL || !json_is_string(v) ||
        dray__decimal_scan(json_string_value(v), n, &d) != 0 || d.negative ||
        d.first < 0)
        return 0;
    f->multiple_of = malloc(n + 1);
    if (f->multiple_of == NULL)
        return -2;
    memcpy(f->multiple_of, json_string_value(v), n + 1);
    scale = dray__decimal_frac_digits(&d);
    f->scale = scale > INT32_MAX ? INT32_MAX : (int32_t)scale;
    return 0;
}

static void take_format(struct dray_schema_field *f, const json_t *v)
{
    static const struct {
        const char *name;
        int32_t format;
        uint32_t flag;
    } formats[] = {
        {"date-time", DRAY_FMT_DATE_TIME, 0},
        {"date", DRAY_FMT_DATE, 0},
        {"time", DRAY_FMT_TIME, 0},
        {"singer.decimal", DRAY_FMT_NONE, DRAY_SCHEMA_DECIMAL_STRING}};

    /* The first facet that names a known format decides. */
    if (f->format != DRAY_FMT_NONE || (f->flags & DRAY_SCHEMA_DECIMAL_STRING) ||
        !json_is_string(v))
        return;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (strcmp(json_string_value(v), formats[i].name) == 0) {
            f->format = formats[i].format;
            f->flags |= formats[i].flag;
        }
}

/* Format, multipleOf and openness from the facets. Returns 0 or -2. */
static int take_facts(struct build *b, int32_t self,
                      const struct dray__facets *fc)
{
    struct dray_schema_field *f = &b->s->nodes[self];

    for (size_t i = 0; i < fc->n; i++) {
        const json_t *sch = fc->v[i], *v;
        if (f->json_types & DRAY_JT_STRING)
            take_format(f, json_object_get(sch, "format"));
        if (take_multiple_of(f, json_object_get(sch, "multipleOf")) != 0)
            return -2;
        v = json_object_get(sch, "additionalProperties");
        if ((f->json_types & DRAY_JT_OBJECT) &&
            (json_is_true(v) || json_is_object(v) ||
             json_object_size(json_object_get(sch, "patternProperties")) > 0))
            f->flags |= DRAY_NODE_OPEN;
    }
    return 0;
}

static int build_node(struct build *b, int32_t self, const json_t *const *sch,
                      size_t n);

/* ---- properties ---- */

struct prop_name {
    const char *s;
    size_t n;
    size_t count; /* subschemas naming it; then where they start */
};

struct props {
    struct prop_name *names;
    size_t n_names, cap_names;
    struct dray__idtab tab;
    int32_t *pair_name; /* per (facet, property) pair */
    const json_t **pair_sch;
    size_t n_pairs, cap_pair_name, cap_pair_sch;
    const json_t **sorted; /* subschemas grouped by name */
    const char *probe;
    size_t probe_n;
};

static int prop_eq(const void *ctx, int32_t id)
{
    const struct props *p = ctx;

    return p->names[id].n == p->probe_n &&
           memcmp(p->names[id].s, p->probe, p->probe_n) == 0;
}

/* Records property key (schema v) of one facet. Returns 0 or -2. */
static int props_add(struct props *p, const char *key, const json_t *v)
{
    size_t n = strlen(key);
    uint32_t h = dray__hash_bytes(key, n, 0);
    int32_t id;

    p->probe = key;
    p->probe_n = n;
    id = dray__idtab_find(&p->tab, h, prop_eq, p);
    if (id < 0) {
        if (dray__grow(&p->names, &p->cap_names, p->n_names + 1,
                       sizeof(*p->names)) != 0 ||
            dray__idtab_add(&p->tab, h, (int32_t)p->n_names) != 0)
            return -2;
        p->names[p->n_names] = (struct prop_name){key, n, 0};
        id = (int32_t)p->n_names++;
    }
    if (dray__grow(&p->pair_name, &p->cap_pair_name, p->n_pairs + 1,
                   sizeof(*p->pair_name)) != 0 ||
        dray__grow(&p->pair_sch, &p->cap_pair_sch, p->n_pairs + 1,
                   sizeof(*p->pair_sch)) != 0)
        return -2;
    p->pair_name[p->n_pairs] = id;
    p->pair_sch[p->n_pairs++] = v;
    p->names[id].count++;
    return 0;
}

/* Groups the pairs by name, keeping facet order within a name. */
static int props_sort(struct props *p)
{
    size_t at = 0;

    p->sorted = malloc((p->n_pairs ? p->n_pairs : 1) * sizeof(*p->sorted));
    if (p->sorted == NULL)
        return -2;
    for (size_t i = 0; i < p->n_names; i++) {
        size_t c = p->names[i].count;
        p->names[i].count = at;
        at += c;
    }
    for (size_t i = 0; i < p->n_pairs; i++)
        p->sorted[p->names[p->pair_name[i]].count++] = p->pair_sch[i];
    return 0;
}

static void props_release(struct props *p)
{
    free(p->names);
    dray__idtab_release(&p->tab);
    free(p->pair_name);
    free(p->pair_sch);
    free(p->sorted);
}

/* Links child after *last under parent. */
static void link_child(struct dray_schema *s, int32_t parent, int32_t *last,
                       int32_t child)
{
    if (*last < 0)
        s->nodes[parent].first_child = child;
    else
        s->nodes[*last].next_sibling = child;
    *last = child;
}

static int add_properties(struct build *b, int32_t self,
                          const struct dray__facets *fc)
{
    struct props p;
    int32_t last = -1, child;
    size_t start = 0;
    int rc = 0;

    memset(&p, 0, sizeof(p));
    for (size_t i = 0; i < fc->n && rc == 0; i++) {
        const json_t *v, *props = json_object_get(fc->v[i], "properties");
        const char *key;
        if (!(dray__own_types(fc->v[i]) & DRAY_JT_OBJECT))
            continue;
        json_object_foreach ((json_t *)props, key, v) {
            if ((rc = props_add(&p, key, v)) != 0)
                break;
        }
    }
    if (rc == 0 && p.n_names > 0)
        rc = props_sort(&p);
    for (size_t i = 0; i < p.n_names && rc == 0; i++) {
        size_t end = p.names[i].count; /* one past this name's run */
        child = add_node(b, p.names[i].s, p.names[i].n, self);
        if (child < 0) {
            rc = child;
            break;
        }
        link_child(b->s, self, &last, child);
        rc = build_node(b, child, p.sorted + start, end - start);
        start = end;
    }
    props_release(&p);
    return rc;
}

/* ---- items ---- */

static int push_schema(const json_t ***list, size_t *n, size_t *cap,
                       const json_t *v)
{
    if (dray__grow(list, cap, *n + 1, sizeof(**list)) != 0)
        return -2;
    (*list)[(*n)++] = v;
    return 0;
}

/* items (a schema, or a tuple list taken as the union of its entries),
   prefixItems and additionalItems of every facet that allows an array. */
static int add_items(struct build *b, int32_t self,
                     const struct dray__facets *fc)
{
    static const char *const keys[] = {"items", "prefixItems",
                                       "additionalItems"};
    const json_t **list = NULL, *v, *e;
    size_t n = 0, cap = 0, j;
    int32_t child;
    int rc = 0;

    for (size_t i = 0; i < fc->n && rc == 0; i++) {
        if (!(dray__own_types(fc->v[i]) & DRAY_JT_ARRAY))
            continue;
        for (size_t k = 0; k < 3 && rc == 0; k++) {
            v = json_object_get(fc->v[i], keys[k]);
            if (json_is_object(v) || json_is_boolean(v))
                rc = push_schema(&list, &n, &cap, v);
            json_array_foreach (v, j, e) {
                if (rc == 0)
                    rc = push_schema(&list, &n, &cap, e);
            }
        }
    }
    if (rc == 0 && n > 0) {
        child = add_node(b, "", 0, self);
        if (child < 0) {
            rc = child;
        } else {
            b->s->nodes[child].flags |= DRAY_NODE_ITEMS;
            b->s->nodes[self].items = child;
            rc = build_node(b, child, list, n);
        }
    }
    free(list);
    return rc;
}

/* Fills node self from its subschemas sch[0..n), then its subtree. */
static int build_node(struct build *b, int32_t self, const json_t *const *sch,
                      size_t n)
{
    struct dray__facets fc;
    uint32_t types = DRAY__JT_NEUTRAL, bits;
    struct dray_schema_field *f;
    int rc = 0;

    memset(&fc, 0, sizeof(fc));
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = dray__fold(&b->fold, sch[i], &fc, &bits);
        if (rc == 0 && bits != DRAY__JT_NEUTRAL)
            types = types == DRAY__JT_NEUTRAL ? bits : types | bits;
    }
    if (rc == -1)
        set_err(b,
                "the schema is too complex (more than %d subschemas to "
                "fold)",
                DRAY__FOLD_BUDGET);
    if (rc != 0)
        goto cleanup;
    f = &b->s->nodes[self];
    /* Nothing declared, or nothing valid (false, contradictions): the
       loader takes any value rather than none. */
    f->json_types =
        types == DRAY__JT_NEUTRAL || types == 0 ? DRAY__JT_ALL : types;
    if ((rc = take_facts(b, self, &fc)) != 0)
        goto cleanup;
    if ((f->json_types & (DRAY_JT_OBJECT | DRAY_JT_ARRAY)) &&
        f->depth >= DRAY_SCHEMA_MAX_DEPTH) {
        f->flags |= DRAY_NODE_DEPTH_CUT; /* kept as JSON from here */
        goto cleanup;
    }
    if (f->json_types & DRAY_JT_OBJECT)
        rc = add_properties(b, self, &fc);
    if (rc == 0 && (b->s->nodes[self].json_types & DRAY_JT_ARRAY))
        rc = add_items(b, self, &fc);
cleanup:
    dray__facets_release(&fc);
    return rc;
}

/* ---- the whole schema ---- */

static const char *kind_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    default:
        return "an object";
    }
}

/* Parses text with jansson, numbers kept as their source text. */
static json_t *load(struct build *b, const char *json, size_t len, int *oom)
{
    struct dray_buf quoted = DRAY_BUF_INIT;
    json_error_t jerr;
    json_t *root = NULL;
    int rc = dray__schema_quote_numbers(json, len, &quoted);

    *oom = rc == -2;
    if (rc == 0)
        root = json_loadb(quoted.data, quoted.len,
                          JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    /* The original text gives the error its true line and column. */
    if (rc == 1 || (rc == 0 && root == NULL))
        root = json_loadb(json ? json : "", len,
                          JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    dray_buf_release(&quoted);
    if (root == NULL && !*oom)
        set_err(b, "the schema is not valid JSON: %s (line %d, column %d)",
                jerr.text, jerr.line, jerr.column);
    return root;
}

static int mark_keys(struct build *b, const char *const *keys, size_t n_keys)
{
    struct dray_schema *s = b->s;
    char shown[80];

    if (n_keys == 0)
        return 0;
    s->keys = calloc(n_keys, sizeof(*s->keys));
    if (s->keys == NULL)
        return -2;
    for (size_t k = 0; k < n_keys; k++) {
        int32_t c =
            keys[k] ? dray_schema_child(s, 0, keys[k], strlen(keys[k])) : -1;
        if (c < 0) {
            printable(shown, sizeof(shown), keys[k] ? keys[k] : "(null)");
            set_err(b, "key property '%s' is not a property of the schema",
                    shown);
            return -1;
        }
        s->nodes[c].flags |= DRAY_NODE_KEY;
        s->keys[k] = strdup(keys[k]);
        if (s->keys[k] == NULL)
            return -2;
        s->n_keys = k + 1;
    }
    return 0;
}

int dray_schema_parse(struct dray_schema *s, const char *json, size_t len,
                      const char *const *keys, size_t n_keys, char *err,
                      size_t errlen)
{
    struct build b = {s, {NULL, DRAY__FOLD_BUDGET}, 0, err, errlen};
    int oom = 0, rc;
    json_t *root;

    if (err && errlen)
        err[0] = '\0';
    if (s == NULL)
        return -1;
    memset(s, 0, sizeof(*s));
    if (json == NULL)
        len = 0;
    if (n_keys > 0 && keys == NULL) {
        set_err(&b, "key properties are missing");
        return -1;
    }
    root = load(&b, json, len, &oom);
    if (root == NULL)
        return oom ? -2 : -1;
    b.fold.root = root;
    if (!json_is_object(root)) {
        set_err(&b, "the schema must be a JSON object, not %s",
                kind_name(root));
        rc = -1;
        goto cleanup;
    }
    rc = add_node(&b, "", 0, -1);
    if (rc >= 0)
        rc = build_node(&b, 0, &b.fold.root, 1);
    if (rc == 0 && !(s->nodes[0].json_types & DRAY_JT_OBJECT)) {
        set_err(&b, "the schema's top level must be of type object");
        rc = -1;
    }
    if (rc == 0)
        rc = dray__schema_index_build(s);
    if (rc == 0)
        rc = mark_keys(&b, keys, n_keys);
cleanup:
    json_decref(root);
    if (rc != 0)
        dray_schema_release(s);
    return rc;
}

void dray_schema_release(struct dray_schema *s)
{
    if (s == NULL)
        return;
    for (int32_t i = 0; i < s->n_nodes; i++) {
        free(s->nodes[i].name);
        free(s->nodes[i].multiple_of);
    }
    free(s->nodes);
    for (size_t k = 0; k < s->n_keys; k++)
        free(s->keys[k]);
    free(s->keys);
    dray__schema_index_free(s);
    memset(s, 0, sizeof(*s));
}

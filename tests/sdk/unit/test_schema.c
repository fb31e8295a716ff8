/* Unit tests of the schema model (sdk/src/schema*.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_rows.h"
#include "dray/dray_schema.h"
#include "unit.h"

/* Parses json without keys; a failed check with the reason if refused. */
static int parse_ok(struct dray_schema *s, const char *json)
{
    char err[200];
    int rc =
        dray_schema_parse(s, json, strlen(json), NULL, 0, err, sizeof(err));

    if (rc != 0)
        UNIT_FAIL_AT("refused (%d): %s", rc, err);
    return rc == 0;
}

/* One node as a row of schema_trees.tsv (see the file's header). */
static void node_text(const struct dray_schema_field *f, char *out, size_t n)
{
    static const char letters[] = "nbiNsoa";
    static const char *const formats[] = {"-", "date-time", "date", "time"};
    static const struct {
        uint32_t bit;
        char letter;
    } flag_letters[] = {{DRAY_NODE_KEY, 'K'},
                        {DRAY_NODE_ITEMS, 'I'},
                        {DRAY_NODE_OPEN, 'O'},
                        {DRAY_NODE_DEPTH_CUT, 'C'},
                        {DRAY_SCHEMA_DECIMAL_STRING, 'D'}};
    char types[8] = "", flags[8] = "-";
    int o = 0;

    for (int b = 0; b < 7; b++)
        if (f->json_types & (1u << b))
            types[o++] = letters[b];
    o = 0;
    for (size_t i = 0; i < sizeof(flag_letters) / sizeof(flag_letters[0]); i++)
        if (f->flags & flag_letters[i].bit)
            flags[o++] = flag_letters[i].letter;
    snprintf(out, n, "\"%s\" %d %d %s %s %s %d %s %d %d %d", f->name,
             (int)f->parent, (int)f->depth, types,
             f->format >= 0 && f->format <= 3 ? formats[f->format] : "?", flags,
             (int)f->scale, f->multiple_of ? f->multiple_of : "-",
             (int)f->first_child, (int)f->next_sibling, (int)f->items);
}

/* The case being checked: its schema and the next node row to match. */
struct tree_run {
    char what[200];
    struct dray_schema s;
    int parsed, next_node, line;
};

static void finish_case(struct tree_run *r)
{
    if (r->parsed && r->next_node != r->s.n_nodes)
        UNIT_FAIL_AT("%s (line %d): %d nodes, the table lists %d", r->what,
                     r->line, (int)r->s.n_nodes, r->next_node);
    if (r->parsed) {
        dray_schema_release(&r->s);
        CHECK(r->s.nodes == NULL && r->s.n_nodes == 0 && r->s.index == NULL);
    }
    r->parsed = 0;
}

/* "a b" -> {"a", "b"}, in place; "-" is none. */
static size_t split_keys(char *text, const char *keys[8])
{
    size_t n = 0;

    for (char *k = strtok(text, " "); k && n < 8; k = strtok(NULL, " "))
        if (strcmp(k, "-") != 0)
            keys[n++] = k;
    return n;
}

static void start_case(struct tree_run *r, char **field, int line)
{
    const char *keys[8];
    size_t n_keys = split_keys(field[2], keys);
    char err[200];

    snprintf(r->what, sizeof(r->what), "%s", field[1]);
    r->line = line;
    r->next_node = 0;
    if (dray_schema_parse(&r->s, field[3], strlen(field[3]), keys, n_keys, err,
                          sizeof(err)) != 0) {
        UNIT_FAIL_AT("%s (line %d): refused: %s", r->what, line, err);
        return;
    }
    r->parsed = 1;
    CHECK_INT(r->s.n_keys, n_keys);
    for (size_t i = 0; i < r->s.n_keys && i < n_keys; i++)
        CHECK_STR(r->s.keys[i], keys[i]);
}

static void check_refusal(char **field, int line)
{
    const char *keys[1] = {field[2]};
    struct dray_schema s;
    char err[200];
    int rc = dray_schema_parse(&s, field[1], strlen(field[1]), keys,
                               strcmp(field[2], "-") != 0, err, sizeof(err));

    if (rc != -1 || strstr(err, field[3]) == NULL || strchr(err, '\n'))
        UNIT_FAIL_AT("line %d: %d, \"%s\"; expected -1, \"%s\"", line, rc, err,
                     field[3]);
    if (rc == 0)
        dray_schema_release(&s);
    CHECK(s.nodes == NULL && s.keys == NULL && s.index == NULL);
}

static void tree_row(void *ctx, char **field, int n, int line)
{
    struct tree_run *r = ctx;
    char got[300];

    if (strcmp(field[0], "case") == 0 && n == 4) {
        finish_case(r);
        start_case(r, field, line);
    } else if (strcmp(field[0], "node") == 0 && n == 2) {
        if (!r->parsed)
            return;
        if (r->next_node >= r->s.n_nodes) {
            r->next_node++;
            return;
        }
        node_text(&r->s.nodes[r->next_node++], got, sizeof(got));
        if (strcmp(got, field[1]) != 0)
            UNIT_FAIL_AT("%s (line %d):\n  got:      %s\n  expected: %s",
                         r->what, line, got, field[1]);
    } else if (strcmp(field[0], "error") == 0 && n == 4) {
        check_refusal(field, line);
    } else {
        UNIT_FAIL_AT("schema_trees.tsv line %d: not a row", line);
    }
}

static void test_schema_trees(void)
{
    struct tree_run r;

    memset(&r, 0, sizeof(r));
    CHECK(data_rows("schema_trees.tsv", tree_row, &r) > 0);
    finish_case(&r);
}

/* A reason stays one line whatever the key holds. */
static void test_schema_key_reason(void)
{
    const char *keys[] = {"line\nbreak"};
    struct dray_schema s;
    char err[200];

    CHECK_INT(dray_schema_parse(&s, "{}", 2, keys, 1, err, sizeof(err)), -1);
    CHECK_STR(err, "key property 'line?break' is not a property of the schema");
}

/* A linked list through $ref: cut at the depth limit, kept as JSON. */
static void test_schema_recursive_ref_cut(void)
{
    const char *json =
        "{\"type\":\"object\",\"definitions\":{\"node\":{\"type\":[\"null\","
        "\"object\"],\"properties\":{\"v\":{\"type\":\"integer\"},"
        "\"next\":{\"$ref\":\"#/definitions/node\"}}}},"
        "\"properties\":{\"head\":{\"$ref\":\"#/definitions/node\"},"
        "\"self\":{\"anyOf\":[{\"$ref\":\"#\"},{\"type\":\"null\"}]}}}";
    struct dray_schema s;
    int32_t n, cut = -1, deepest = 0;

    CHECK(parse_ok(&s, json));
    /* head and 31 more "next" levels, each an object with v and next. */
    n = dray_schema_child(&s, 0, "head", 4);
    CHECK(n == 1);
    while (n >= 0 && cut < 0) {
        CHECK_INT(s.nodes[n].json_types, DRAY_JT_NULL | DRAY_JT_OBJECT);
        if (s.nodes[n].flags & DRAY_NODE_DEPTH_CUT)
            cut = n;
        else
            n = dray_schema_child(&s, n, "next", 4);
    }
    CHECK(cut > 0);
    CHECK_INT(s.nodes[cut].depth, DRAY_SCHEMA_MAX_DEPTH);
    CHECK_INT(s.nodes[cut].first_child, -1);
    for (int32_t i = 0; i < s.n_nodes; i++) {
        if (s.nodes[i].depth > deepest)
            deepest = s.nodes[i].depth;
        CHECK(s.nodes[i].parent < i); /* pre-order */
    }
    CHECK_INT(deepest, DRAY_SCHEMA_MAX_DEPTH);
    /* "self" refers to the whole record again, and is cut the same way. */
    n = dray_schema_child(&s, 0, "self", 4);
    CHECK(n > 0 && (s.nodes[n].json_types & DRAY_JT_OBJECT) &&
          (s.nodes[n].json_types & DRAY_JT_NULL));
    CHECK(dray_schema_child(&s, n, "head", 4) > n);
    dray_schema_release(&s);
}

/* Diamonds of anyOf through $ref fold in linear time, not 2^40. */
static void test_schema_ref_diamonds(void)
{
    char json[8192];
    size_t o = 0;
    struct dray_schema s;

    o += (size_t)snprintf(json + o, sizeof(json) - o,
                          "{\"type\":\"object\",\"properties\":{\"x\":{"
                          "\"$ref\":\"#/definitions/d0\"}},\"definitions\":{");
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(json + o, sizeof(json) - o,
                              "\"d%d\":{\"anyOf\":[{\"$ref\":\"#/definitions/"
                              "d%d\"},{\"$ref\":\"#/definitions/d%d\"}]},",
                              i, i + 1, i + 1);
    snprintf(json + o, sizeof(json) - o,
             "\"d40\":{\"type\":\"string\",\"format\":\"date-time\"}}}");
    CHECK(parse_ok(&s, json));
    CHECK_INT(s.n_nodes, 2);
    if (s.n_nodes == 2) {
        CHECK_INT(s.nodes[1].json_types, DRAY_JT_STRING);
        CHECK_INT(s.nodes[1].format, DRAY_FMT_DATE_TIME);
    }
    dray_schema_release(&s);
}

/* A schema of more than DRAY_SCHEMA_MAX_NODES nodes is refused. */
static void test_schema_too_large(void)
{
    size_t cap = (size_t)DRAY_SCHEMA_MAX_NODES * 16 + 64, o = 0;
    char *json = malloc(cap), err[200];
    struct dray_schema s;

    if (json == NULL) {
        UNIT_FAIL_AT("out of memory");
        return;
    }
    o += (size_t)snprintf(json, cap, "{\"properties\":{");
    for (int i = 0; i < DRAY_SCHEMA_MAX_NODES; i++)
        o += (size_t)snprintf(json + o, cap - o, "%s\"c%d\":{}", i ? "," : "",
                              i);
    snprintf(json + o, cap - o, "}}");
    CHECK_INT(
        dray_schema_parse(&s, json, strlen(json), NULL, 0, err, sizeof(err)),
        -1);
    CHECK_CONTAINS(err, "the schema is too large (more than 100000 nodes)");
    /* One fewer fits, and every name is found through the index. */
    o = (size_t)(strrchr(json, ',') - json);
    snprintf(json + o, cap - o, "}}");
    CHECK(parse_ok(&s, json));
    CHECK_INT(s.n_nodes, DRAY_SCHEMA_MAX_NODES);
    CHECK_INT(dray_schema_child(&s, 0, "c0", 2), 1);
    CHECK_INT(dray_schema_child(&s, 0, "c99998", 6), 99999);
    CHECK_INT(dray_schema_child(&s, 0, "c99999", 6), -1);
    dray_schema_release(&s);
    free(json);
}

static void test_schema_child_lookup(void)
{
    const char *json =
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\","
        "\"properties\":{\"x\":{},\"\":{},\"q\\\"uote\":{}}},"
        "\"x\":{\"type\":\"array\",\"items\":{}},\"ab\":{}}}";
    struct dray_schema s;
    struct dray__schema_index *ix;

    CHECK(parse_ok(&s, json));
    /* Indexed, then the same answers by walking siblings. */
    ix = s.index;
    CHECK(ix != NULL);
    for (int pass = 0; pass < 2; pass++) {
        s.index = pass == 0 ? ix : NULL;
        CHECK_INT(dray_schema_child(&s, 0, "a", 1), 1);
        CHECK_INT(dray_schema_child(&s, 1, "x", 1), 2);
        CHECK_INT(dray_schema_child(&s, 1, "", 0), 3);
        CHECK_INT(dray_schema_child(&s, 1, "q\"uote", 6), 4);
        CHECK_INT(dray_schema_child(&s, 0, "x", 1), 5);
        CHECK_INT(dray_schema_child(&s, 0, "ab", 2), 7);
        CHECK_INT(dray_schema_child(&s, 0, "abc", 2), 7); /* n bytes */
        CHECK_INT(dray_schema_child(&s, 0, "a", 0), -1);
        CHECK_INT(dray_schema_child(&s, 5, "", 0), -1); /* items: no name */
        CHECK_INT(dray_schema_child(&s, 0, "b", 1), -1);
        CHECK_INT(dray_schema_child(&s, 0, "a\0b", 3), -1);
        CHECK_INT(dray_schema_child(&s, -1, "a", 1), -1);
        CHECK_INT(dray_schema_child(&s, 99, "a", 1), -1);
        CHECK_INT(dray_schema_child(NULL, 0, "a", 1), -1);
        CHECK_INT(s.nodes[5].items, 6);
    }
    s.index = ix;
    dray_schema_release(&s);
}

/* The ABI view: fields only up to the caller's struct_size. */
static void test_schema_view(void)
{
    const char *json = "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":"
                       "[\"null\",\"string\"],\"format\":\"singer.decimal\","
                       "\"multipleOf\":0.25}}}";
    const char *keys[] = {"p"};
    struct dray_schema s;
    struct dray_schema_node v;
    char err[200];

    CHECK_INT(
        dray_schema_parse(&s, json, strlen(json), keys, 1, err, sizeof(err)),
        0);
    memset(&v, 0x5a, sizeof(v));
    v.hdr = (struct dray_hdr)DRAY_HDR_INIT(struct dray_schema_node);
    dray_schema_view(&s, 1, &v);
    CHECK_INT(v.hdr.struct_size, sizeof(v));
    CHECK_STR(v.name, "p");
    CHECK_INT(v.parent, 0);
    CHECK_INT(v.depth, 1);
    CHECK_INT(v.json_types, DRAY_JT_NULL | DRAY_JT_STRING);
    CHECK_INT(v.format, DRAY_FMT_NONE);
    CHECK_INT(v.flags, DRAY_NODE_KEY); /* no SDK-only bits */
    CHECK_INT(v.scale, 2);
    CHECK_STR(v.multiple_of, "0.25");

    /* A reader that knows the struct only up to depth. */
    memset(&v, 0x5a, sizeof(v));
    v.hdr.struct_size =
        (uint32_t)(offsetof(struct dray_schema_node, depth) + sizeof(v.depth));
    dray_schema_view(&s, 1, &v);
    CHECK_STR(v.name, "p");
    CHECK_INT(v.depth, 1);
    CHECK_INT(v.json_types, 0x5a5a5a5a);
    CHECK_INT(v.hdr.struct_size,
              offsetof(struct dray_schema_node, depth) + sizeof(v.depth));

    /* Out of range, or a header too small for anything: nothing. */
    memset(&v, 0x5a, sizeof(v));
    v.hdr.struct_size = sizeof(v);
    dray_schema_view(&s, 2, &v);
    dray_schema_view(&s, -1, &v);
    CHECK_INT(v.parent, 0x5a5a5a5a);
    v.hdr.struct_size = sizeof(v.hdr);
    dray_schema_view(&s, 0, &v);
    CHECK_INT(v.parent, 0x5a5a5a5a);
    dray_schema_release(&s);
}

/* Numbers jansson cannot hold, NUL in strings, odd text around them. */
static void test_schema_text_forms(void)
{
    const char *json =
        " {\"type\" : \"object\", \"description\": \"a\\u0000b \\\" 1\","
        "\"properties\": {\"n\": {\"type\": \"integer\", \"minimum\": "
        "-99999999999999999999999999, \"maximum\": 1e999, \"enum\": [1, "
        "-2.5e+3, 0]}, \"w\": {\"type\": \"number\", \"multipleOf\"\n:\t"
        "0.1}}}\r\n";
    struct dray_schema s;
    char err[200];

    CHECK(parse_ok(&s, json));
    CHECK_INT(s.n_nodes, 3);
    if (s.n_nodes == 3) {
        CHECK_INT(s.nodes[1].json_types, DRAY_JT_INTEGER);
        CHECK_STR(s.nodes[2].multiple_of, "0.1");
        CHECK_INT(s.nodes[2].scale, 1);
    }
    dray_schema_release(&s);
    /* Release twice, and of a schema never parsed, is harmless. */
    dray_schema_release(&s);
    memset(&s, 0, sizeof(s));
    dray_schema_release(&s);
    dray_schema_release(NULL);
    CHECK_INT(dray_schema_parse(NULL, "{}", 2, NULL, 0, err, sizeof(err)), -1);
    CHECK_INT(dray_schema_parse(&s, NULL, 5, NULL, 0, err, sizeof(err)), -1);
    CHECK_INT(dray_schema_parse(&s, "{}", 2, NULL, 1, err, sizeof(err)), -1);
    CHECK_INT(dray_schema_parse(&s, "{}", 2, NULL, 0, NULL, 0), 0);
    CHECK_INT(s.n_nodes, 1);
    dray_schema_release(&s);
}

UNIT_MAIN(UNIT_CASE(test_schema_trees), UNIT_CASE(test_schema_key_reason),
          UNIT_CASE(test_schema_recursive_ref_cut),
          UNIT_CASE(test_schema_ref_diamonds), UNIT_CASE(test_schema_too_large),
          UNIT_CASE(test_schema_child_lookup), UNIT_CASE(test_schema_view),
          UNIT_CASE(test_schema_text_forms))

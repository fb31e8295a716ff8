/*
 * The data path of the ABI, end to end through a real plugin: the echo test
 * plugin loads an in-memory batch through the host table and writes what it
 * saw; the test reads that file back.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "dray/dray_schema.h"
#include "destination.h"
#include "unit.h"

static char out_dir[] = "/tmp/dray-dataplane-XXXXXX";
static struct plugin_set set;
static const struct plugin *echo;

static const char schema[] =
    "{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"type\":\"integer\"},"
    "\"name\":{\"type\":[\"null\",\"string\"]},"
    "\"price\":{\"type\":\"number\",\"multipleOf\":0.01},"
    "\"at\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"addr\":{\"type\":\"object\",\"properties\":{"
    "\"city\":{\"type\":\"string\"}}},"
    "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"tree\":{\"$ref\":\"#/definitions/node\"}},"
    "\"definitions\":{\"node\":{\"type\":\"object\",\"properties\":{"
    "\"kid\":{\"$ref\":\"#/definitions/node\"}}}}}";

static const char records[] =
    "{\"id\":1,\"name\":\"Zoë \\\"quoted\\\"\",\"price\":12.50,"
    "\"addr\":{\"city\":\"Oslo\"},\"tags\":[\"a\",\"b\"]}\n"
    "\n"
    "{\"id\":2,\"name\":null,\"reject\":true}\n"
    "{\"id\":3,\"at\":\"2024-01-02T03:04:05Z\"}\n";

static struct dray_batch *make_batch(const char *id)
{
    static const char *const keys[] = {"id"};
    struct batch_desc d = {.batch_id = id,
                           .integration = "shop",
                           .stream = "orders",
                           .keys = keys,
                           .n_keys = 1,
                           .attempt = 2,
                           .flags = DRAY_BATCH_HAS_TABLE_VERSION,
                           .table_version = 7,
                           .created_at_ms = 1700000000123,
                           .first_sequence = 100,
                           .received_at = "2024-05-01T00:00:00.000000Z",
                           .schema_json = schema};
    struct strbuf err = STRBUF_INIT;
    struct dray_batch *b =
        batch_open_memory(&d, records, strlen(records), &err);

    CHECK_STR(strbuf_str(&err), "");
    strbuf_release(&err);
    return b;
}

static struct dray_config *bind_echo(const char *fail_mode, const char *ratio)
{
    struct config_option opts[3] = {{"out_dir", out_dir, {0, 0}}};
    size_t n = 1;
    struct config_destination d = {
        .name = "test", .plugin = "echo", .mode = -1, .options = opts};
    struct dray_config *cfg = NULL;
    struct strbuf errors = STRBUF_INIT;

    if (fail_mode)
        opts[n++] =
            (struct config_option){"fail_mode", (char *)fail_mode, {0, 0}};
    if (ratio)
        opts[n++] = (struct config_option){"ratio", (char *)ratio, {0, 0}};
    d.n_options = n;
    if (dest_config_bind(echo, &d, "t.yml", "/base", &cfg, &errors) != 0)
        UNIT_FAIL_AT("bind failed: %s", strbuf_str(&errors));
    strbuf_release(&errors);
    return cfg;
}

static json_t *read_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    json_t *arr = json_array();
    char line[65536];

    if (f == NULL) {
        UNIT_FAIL_AT("cannot open %s", path);
        return arr;
    }
    while (fgets(line, sizeof(line), f)) {
        json_error_t e;
        json_t *v = json_loads(line, 0, &e);
        if (v == NULL)
            UNIT_FAIL_AT("bad line in %s: %s", path, e.text);
        else
            json_array_append_new(arr, v);
    }
    fclose(f);
    return arr;
}

static void setup(void)
{
    if (echo)
        return;
    CHECK(mkdtemp(out_dir) != NULL);
    set.dirs = xcalloc(1, sizeof(char *));
    set.dirs[0] = xstrdup(DRAY_TEST_PLUGIN_DIR "/good");
    set.n_dirs = 1;
    plugins_discover(&set);
    echo = plugins_find(&set, "echo");
    CHECK(echo != NULL && echo->status == PLUGIN_OK);
}

static void test_load_through_the_abi(void)
{
    struct instance inst;
    struct dray_error err;
    struct dray_config *cfg;
    struct dray_batch *b;
    size_t n;

    setup();
    if (echo == NULL)
        return;
    cfg = bind_echo(NULL, NULL);
    error_init(&err);
    CHECK_INT(instance_create(&inst, echo, cfg, &err), 0);
    b = make_batch("spool1-orders-000001");
    CHECK_INT(echo->vt.load_batch(inst.state, b, &err), DRAY_OK);

    char *path = xasprintf("%s/spool1-orders-000001.jsonl", out_dir);
    json_t *lines = read_lines(path);
    CHECK_INT(json_array_size(lines), 3); /* header + 2 loaded rows */
    json_t *h = json_array_get(lines, 0);
    CHECK_STR(json_string_value(json_object_get(h, "batch")),
              "spool1-orders-000001");
    CHECK_STR(json_string_value(json_object_get(h, "integration")), "shop");
    CHECK_STR(json_string_value(json_object_get(h, "stream")), "orders");
    CHECK_INT(json_integer_value(json_object_get(h, "attempt")), 2);
    CHECK_INT(json_integer_value(json_object_get(h, "rows")), 3);
    CHECK_STR(json_string_value(json_array_get(json_object_get(h, "keys"), 0)),
              "id");

    /* The column model: root, 7 properties, city under addr, the items of
       tags, and the recursive tree cut at the depth limit. */
    json_t *nodes = json_object_get(h, "nodes");
    json_t *id = json_array_get(nodes, 1);
    CHECK_STR(json_string_value(json_object_get(id, "name")), "id");
    CHECK_INT(json_integer_value(json_object_get(id, "types")),
              DRAY_JT_INTEGER);
    CHECK_INT(json_integer_value(json_object_get(id, "flags")), DRAY_NODE_KEY);
    json_t *name = json_array_get(nodes, 2);
    CHECK_INT(json_integer_value(json_object_get(name, "types")),
              DRAY_JT_NULL | DRAY_JT_STRING);
    json_t *price = json_array_get(nodes, 3);
    CHECK_INT(json_integer_value(json_object_get(price, "scale")), 2);
    json_t *at = json_array_get(nodes, 4);
    CHECK_INT(json_integer_value(json_object_get(at, "format")),
              DRAY_FMT_DATE_TIME);
    json_t *city = json_array_get(nodes, 6);
    CHECK_STR(json_string_value(json_object_get(city, "name")), "city");
    CHECK_INT(json_integer_value(json_object_get(city, "parent")), 5);
    json_t *items = json_array_get(nodes, 8);
    CHECK_INT(json_integer_value(json_object_get(items, "flags")),
              DRAY_NODE_ITEMS);
    size_t cut = 0;
    for (size_t i = 0; i < json_array_size(nodes); i++)
        if (json_integer_value(
                json_object_get(json_array_get(nodes, i), "flags")) &
            DRAY_NODE_DEPTH_CUT)
            cut++;
    CHECK_INT(cut, 1);

    /* Row 0: values by node. */
    json_t *r0 = json_array_get(lines, 1);
    CHECK_INT(json_integer_value(json_object_get(r0, "seq")), 100);
    json_t *vals = json_object_get(r0, "values");
    json_t *v_id = json_array_get(vals, 0), *v_name = json_array_get(vals, 1);
    CHECK_INT(json_integer_value(json_array_get(v_id, 1)), DRAY_V_INTEGER);
    CHECK_STR(json_string_value(json_array_get(v_id, 2)), "1");
    CHECK_INT(json_integer_value(json_array_get(v_name, 1)), DRAY_V_STRING);
    CHECK_STR(json_string_value(json_array_get(v_name, 2)), "Zoë \"quoted\"");
    json_t *v_city = json_array_get(vals, 5);
    CHECK_STR(json_string_value(json_array_get(v_city, 2)), "Oslo");
    json_t *v_items = json_array_get(vals, 7); /* below an array: no value */
    CHECK_STR(json_string_value(json_array_get(v_items, 1)), "-");
    json_t *v_tags = json_array_get(vals, 6);
    CHECK_INT(json_integer_value(json_array_get(v_tags, 1)), DRAY_V_ARRAY);
    CHECK_STR(json_string_value(json_array_get(v_tags, 2)), "[\"a\",\"b\"]");

    /* Row 2 (the third record): absent name, the rejected row skipped. */
    json_t *r1 = json_array_get(lines, 2);
    CHECK_INT(json_integer_value(json_object_get(r1, "row")), 2);
    CHECK_INT(json_integer_value(json_object_get(r1, "seq")), 102);
    json_t *v_name2 = json_array_get(json_object_get(r1, "values"), 1);
    CHECK_INT(json_integer_value(json_array_get(v_name2, 1)), DRAY_V_ABSENT);

    /* What the plugin reported. */
    const struct batch_reject *rj = batch_rejects(b, &n);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_INT(rj[0].row, 1);
        CHECK_STR(rj[0].table, "orders");
        CHECK_STR(rj[0].reason, "the record asked to be rejected");
    }
    const struct batch_count *counts = batch_counts(b, &n);
    CHECK_INT(n, 1);
    if (n == 1) {
        CHECK_STR(counts[0].table, "orders");
        CHECK_INT(counts[0].rows, 2);
    }

    /* The same batch again replaces its file: no duplicate rows. */
    batch_rewind(b, &err);
    CHECK_INT(echo->vt.load_batch(inst.state, b, &err), DRAY_OK);
    json_t *again = read_lines(path);
    CHECK_INT(json_array_size(again), 3);
    json_decref(again);

    json_decref(lines);
    free(path);
    batch_free(b);
    instance_destroy(&inst);
    dest_config_free(cfg);
    error_release(&err);
}

static void test_errors_are_data(void)
{
    struct instance inst;
    struct dray_error err;
    struct dray_config *cfg;
    struct dray_batch *b;
    char *line;

    setup();
    if (echo == NULL)
        return;
    cfg = bind_echo("retryable", NULL);
    error_init(&err);
    CHECK_INT(instance_create(&inst, echo, cfg, &err), 0);
    b = make_batch("spool1-orders-000002");
    CHECK_INT(echo->vt.load_batch(inst.state, b, &err), DRAY_E_RETRYABLE);
    CHECK_INT(err.cls, DRAY_E_RETRYABLE);
    CHECK_STR(err.code, "503");
    line = error_oneline(&err);
    CHECK_STR(line, "destination is busy");
    free(line);
    batch_free(b);
    instance_destroy(&inst);
    dest_config_free(cfg);
    error_release(&err);
}

static void test_validate_and_options(void)
{
    struct config_option opts[] = {{"out_dir", "/x", {2, 3}},
                                   {"ratio", "1.5", {4, 5}}};
    struct config_destination d = {.name = "t",
                                   .plugin = "echo",
                                   .mode = -1,
                                   .options = opts,
                                   .n_options = 2,
                                   .mark = {1, 3}};
    struct dray_config *cfg = NULL;
    struct strbuf errors = STRBUF_INIT;
    const struct dray_host_api *h = host_api();

    setup();
    if (echo == NULL)
        return;
    CHECK_INT(dest_config_bind(echo, &d, "t.yml", "/base", &cfg, &errors), 1);
    CHECK_STR(strbuf_str(&errors),
              "t.yml:1:3: destination 't': option 'ratio' must be between 0 "
              "and 1; use a fraction such as 0.25\n");
    strbuf_release(&errors);

    /* Mode: echo only appends. */
    d.mode = DRAY_MODE_UPSERT;
    opts[1].value = "0.5";
    CHECK_INT(dest_config_bind(echo, &d, "t.yml", "/base", &cfg, &errors), 1);
    CHECK_STR(strbuf_str(&errors),
              "t.yml:1:3: destination 't': plugin 'echo' does not support "
              "mode 'upsert'; use mode: append\n");
    strbuf_release(&errors);

    /* Typed accessors, defaults applied. */
    d.mode = -1;
    CHECK_INT(dest_config_bind(echo, &d, "t.yml", "/base", &cfg, &errors), 0);
    if (cfg == NULL)
        return;
    const char *s = NULL;
    int64_t i = 0;
    int32_t bo = 7;
    double f = 0;
    CHECK_INT(h->cfg_str(cfg, "out_dir", &s), 1);
    CHECK_STR(s, "/x");
    CHECK_INT(h->cfg_i64(cfg, "buffer", &i), 1);
    CHECK_INT(i, 1024 * 1024);
    CHECK_INT(h->cfg_i64(cfg, "timeout", &i), 1);
    CHECK_INT(i, 30000);
    CHECK_INT(h->cfg_bool(cfg, "verbose", &bo), 1);
    CHECK_INT(bo, 0);
    CHECK_INT(h->cfg_f64(cfg, "ratio", &f), 1);
    CHECK(f == 0.5);
    CHECK_INT(h->cfg_str(cfg, "password", &s), 0);
    CHECK_INT(h->cfg_str(cfg, "no_such_option", &s), -2);
    CHECK_INT(h->cfg_str(cfg, "buffer", &s), 1); /* any type as text */
    CHECK_STR(s, "1MiB");
    CHECK_INT(h->cfg_f64(cfg, "max_rows", &f), 1);
    CHECK_INT(h->cfg_i64(cfg, "ratio", &i), -1);
    CHECK_INT(h->cfg_bool(cfg, "out_dir", &bo), -1);
    struct dray_config_info info = DRAY_VIEW_INIT(struct dray_config_info);
    h->cfg_info(cfg, &info);
    CHECK_STR(info.destination, "t");
    CHECK_STR(info.plugin, "echo");
    CHECK_INT(info.mode, DRAY_MODE_APPEND);
    dest_config_free(cfg);
}

static void test_views_respect_caller_size(void)
{
    struct dray_batch *b;
    struct {
        struct dray_batch_info info;
        uint64_t canary;
    } small;
    const struct dray_host_api *h = host_api();

    setup();
    b = make_batch("spool1-orders-000003");
    if (b == NULL)
        return;
    memset(&small, 0xAB, sizeof(small));
    /* A plugin built when dray_batch_info ended after "stream". */
    small.info.hdr.struct_size =
        (uint32_t)offsetof(struct dray_batch_info, key_properties);
    h->batch_info(b, &small.info);
    CHECK_STR(small.info.stream, "orders");
    unsigned char *tail = (unsigned char *)&small.info.key_properties;
    CHECK_INT(tail[0], 0xAB);
    CHECK(small.canary == 0xABABABABABABABABull);

    struct dray_batch_info full = DRAY_VIEW_INIT(struct dray_batch_info);
    h->batch_info(b, &full);
    CHECK_INT(full.table_version, 7);
    CHECK_INT(full.created_at_ms, 1700000000123LL);
    CHECK(full.ns == NULL);
    CHECK(h->batch_schema_node(b, 999,
                               &(struct dray_schema_node)DRAY_VIEW_INIT(
                                   struct dray_schema_node)) == -1);
    batch_free(b);
}

static void test_error_text_is_one_line(void)
{
    struct dray_error err;
    char *line;

    error_init(&err);
    error_setf(&err, DRAY_E_CONFIG,
               "password authentication failed\nfor "
               "user \"x\".");
    err.detail = xstrdup("server said no");
    err.hint = xstrdup("check option 'dsn'");
    line = error_oneline(&err);
    CHECK_STR(line, "password authentication failed for user \"x\" (server "
                    "said no); check option 'dsn'");
    free(line);
    error_release(&err);
    err.cls = DRAY_E_RETRYABLE;
    line = error_oneline(&err);
    CHECK_STR(line, "failed with E_RETRYABLE and no message");
    free(line);
}

/* Record access keeps source digits, normalises date-times and folds anyOf
   branches into one node, with no plugin in between. */
static void test_values_keep_source_text(void)
{
    static const char sch[] =
        "{\"type\":\"object\",\"properties\":{"
        "\"p\":{\"type\":\"number\",\"multipleOf\":0.01},"
        "\"big\":{\"type\":\"integer\"},"
        "\"at\":{\"type\":\"string\",\"format\":\"date-time\"}},"
        "\"anyOf\":[{\"properties\":{\"a\":{\"type\":\"string\"}}},"
        "{\"properties\":{\"a\":{\"type\":\"integer\"}}}]}";
    static const char rec[] =
        "{\"p\": 12.50, \"q\": 0.1, \"big\": 123456789012345678901,"
        " \"at\": \"2024-01-02T03:04:05+02:00\", \"a\": 1}\n";
    struct batch_desc d = {
        .batch_id = "b", .integration = "i", .stream = "s", .schema_json = sch};
    struct strbuf err = STRBUF_INIT;
    struct dray_batch *b = batch_open_memory(&d, rec, strlen(rec), &err);
    const struct dray_host_api *h = host_api();
    const dray_record *r = NULL;
    int32_t p = -1, big = -1, at = -1, a_nodes = 0;

    CHECK_STR(strbuf_str(&err), "");
    strbuf_release(&err);
    if (b == NULL)
        return;
    for (int32_t i = 0; i < h->batch_schema_nodes(b); i++) {
        struct dray_schema_node n = DRAY_VIEW_INIT(struct dray_schema_node);
        h->batch_schema_node(b, i, &n);
        if (strcmp(n.name, "p") == 0) {
            p = i;
            CHECK_INT(n.scale, 2);
            CHECK_STR(n.multiple_of, "0.01");
        }
        if (strcmp(n.name, "big") == 0)
            big = i;
        if (strcmp(n.name, "at") == 0)
            at = i;
        if (strcmp(n.name, "a") == 0) {
            a_nodes++;
            CHECK_INT(n.json_types, DRAY_JT_STRING | DRAY_JT_INTEGER);
        }
    }
    CHECK_INT(a_nodes, 1);
    CHECK_INT(h->batch_next(b, &r, NULL), DRAY_OK);
    if (r == NULL || p < 0 || big < 0 || at < 0) {
        UNIT_FAIL_AT("no record or nodes");
        batch_free(b);
        return;
    }
    const char *json;
    uint64_t len;
    h->record_json(r, &json, &len);
    CHECK_INT(len, strlen("{\"p\":12.50,\"q\":0.1,\"big\":"
                          "123456789012345678901,\"at\":"
                          "\"2024-01-02T03:04:05+02:00\",\"a\":1}"));
    CHECK(memcmp(json, "{\"p\":12.50,\"q\":0.1,", 19) == 0);

    struct dray_value v = DRAY_VIEW_INIT(struct dray_value);
    CHECK_INT(h->record_value(r, p, &v), 0);
    CHECK_INT(v.kind, DRAY_V_NUMBER);
    CHECK(v.len == 5 && memcmp(v.text, "12.50", 5) == 0);
    CHECK_INT(h->record_value(r, big, &v), 0);
    CHECK_INT(v.kind, DRAY_V_INTEGER);
    CHECK(!(v.flags & DRAY_VF_I64));
    CHECK(v.len == 21 && memcmp(v.text, "123456789012345678901", 21) == 0);
    CHECK_INT(h->record_value(r, at, &v), 0);
    CHECK_INT(v.kind, DRAY_V_DATE_TIME);
    CHECK_STR(v.text, "2024-01-02T01:04:05.000000Z");
    batch_free(b);
}

/* Schemas that recurse through anyOf or fan out through $ref are cut, not
   followed until the stack or memory runs out. */
static void test_hostile_schemas(void)
{
    static const char *const schemas[] = {
        "{\"definitions\":{\"x\":{\"anyOf\":[{\"$ref\":"
        "\"#/definitions/x\"}]}},\"$ref\":\"#/definitions/x\","
        "\"type\":\"object\"}",
        "{\"type\":\"object\",\"definitions\":{\"n\":{\"type\":"
        "\"object\",\"properties\":{\"l\":{\"$ref\":\"#/definitions/n\"},"
        "\"r\":{\"$ref\":\"#/definitions/n\"}}}},\"properties\":{"
        "\"t\":{\"$ref\":\"#/definitions/n\"}}}",
    };

    for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
        struct batch_desc d = {
            .batch_id = "b", .stream = "s", .schema_json = schemas[i]};
        struct strbuf err = STRBUF_INIT;
        struct dray_batch *b = batch_open_memory(&d, "", 0, &err);
        /* Either a clear refusal or a bounded model. */
        CHECK(b != NULL || strbuf_str(&err)[0] != '\0');
        if (b)
            CHECK(host_api()->batch_schema_nodes(b) <= DRAY_SCHEMA_MAX_NODES);
        batch_free(b);
        strbuf_release(&err);
    }
}

static void teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", out_dir);

    if (system(cmd) != 0)
        UNIT_FAIL_AT("cannot remove %s", out_dir);
    free(cmd);
    plugins_release(&set);
    echo = NULL;
}

UNIT_MAIN(UNIT_CASE(test_load_through_the_abi), UNIT_CASE(test_errors_are_data),
          UNIT_CASE(test_validate_and_options),
          UNIT_CASE(test_views_respect_caller_size),
          UNIT_CASE(test_error_text_is_one_line),
          UNIT_CASE(test_values_keep_source_text),
          UNIT_CASE(test_hostile_schemas), UNIT_CASE(teardown))

/* Option values: parsing by type, binding to a table, masking secrets. */
#include <stdlib.h>

#include "options.h"
#include "suggest.h"
#include "unit.h"

struct parse_case {
    int32_t type;
    const char *text;
    int ok;
    int64_t i64; /* expected when ok */
};

static const struct parse_case parse_cases[] = {
    {DRAY_OPT_SIZE, "512", 1, 512},
    {DRAY_OPT_SIZE, "64KiB", 1, 65536},
    {DRAY_OPT_SIZE, "16MiB", 1, 16 * 1024 * 1024},
    {DRAY_OPT_SIZE, "2GiB", 1, 2147483648LL},
    {DRAY_OPT_SIZE, "1MB", 1, 1000000},
    {DRAY_OPT_SIZE, " 5 mib ", 1, 5 * 1024 * 1024},
    {DRAY_OPT_SIZE, "0", 1, 0},
    {DRAY_OPT_SIZE, "1.5GiB", 0, 0},
    {DRAY_OPT_SIZE, "-1", 0, 0},
    {DRAY_OPT_SIZE, "12XB", 0, 0},
    {DRAY_OPT_SIZE, "9999999999TiB", 0, 0},
    {DRAY_OPT_SIZE, "99999999999999999999", 0, 0},
    {DRAY_OPT_SIZE, "", 0, 0},
    {DRAY_OPT_DURATION, "250ms", 1, 250},
    {DRAY_OPT_DURATION, "30s", 1, 30000},
    {DRAY_OPT_DURATION, "5m", 1, 300000},
    {DRAY_OPT_DURATION, "2h", 1, 7200000},
    {DRAY_OPT_DURATION, "1d", 1, 86400000},
    {DRAY_OPT_DURATION, "0", 1, 0},
    {DRAY_OPT_DURATION, "10", 0, 0},
    {DRAY_OPT_DURATION, "5 min", 0, 0},
    {DRAY_OPT_DURATION, "s", 0, 0},
    {DRAY_OPT_BOOL, "true", 1, 1},
    {DRAY_OPT_BOOL, "TRUE", 1, 1},
    {DRAY_OPT_BOOL, "yes", 1, 1},
    {DRAY_OPT_BOOL, "on", 1, 1},
    {DRAY_OPT_BOOL, "1", 1, 1},
    {DRAY_OPT_BOOL, "false", 1, 0},
    {DRAY_OPT_BOOL, "no", 1, 0},
    {DRAY_OPT_BOOL, "off", 1, 0},
    {DRAY_OPT_BOOL, "0", 1, 0},
    {DRAY_OPT_BOOL, "maybe", 0, 0},
    {DRAY_OPT_INT, "42", 1, 42},
    {DRAY_OPT_INT, "-3", 1, -3},
    {DRAY_OPT_INT, "4x", 0, 0},
    {DRAY_OPT_INT, " 4", 0, 0},
    {DRAY_OPT_INT, "", 0, 0},
    {DRAY_OPT_INT, "99999999999999999999", 0, 0},
};

static void test_parse_table(void)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const struct parse_case *c = &parse_cases[i];
        struct opt_spec spec = {.name = "x", .type = c->type};
        struct opt_value v = {0};
        struct strbuf err = STRBUF_INIT;
        int rc = opt_parse(&spec, c->text, &v, &err);

        if ((rc == 0) != c->ok)
            UNIT_FAIL_AT("%s '%s': expected %s, got %s (%s)",
                         opt_type_name(c->type), c->text,
                         c->ok ? "success" : "an error",
                         rc == 0 ? "success" : "an error", strbuf_str(&err));
        else if (c->ok && v.i64 != c->i64)
            UNIT_FAIL_AT("%s '%s': %lld, expected %lld", opt_type_name(c->type),
                         c->text, (long long)v.i64, (long long)c->i64);
        strbuf_release(&err);
    }
}

static void test_ranges_and_reasons(void)
{
    struct opt_spec spec = {
        .name = "n", .type = DRAY_OPT_INT, .min = 1, .max = 10};
    struct opt_value v = {0};
    struct strbuf err = STRBUF_INIT;

    CHECK_INT(opt_parse(&spec, "10", &v, &err), 0);
    CHECK_INT(opt_parse(&spec, "11", &v, &err), -1);
    CHECK_STR(strbuf_str(&err), "must be between 1 and 10");
    strbuf_reset(&err);
    spec.type = DRAY_OPT_SIZE;
    spec.max = 1024;
    CHECK_INT(opt_parse(&spec, "2KiB", &v, &err), -1);
    CHECK_STR(strbuf_str(&err), "must be between 1 and 1024 bytes");
    strbuf_reset(&err);
    spec.type = DRAY_OPT_FLOAT;
    CHECK_INT(opt_parse(&spec, "0.25", &v, &err), 0);
    CHECK(v.f64 == 0.25);
    CHECK_INT(opt_parse(&spec, "nan", &v, &err), -1);
    CHECK_INT(opt_parse(&spec, "inf", &v, &err), -1);
    CHECK_INT(opt_parse(&spec, "1e3", &v, &err), 0);
    strbuf_reset(&err);
    char *vals[] = {"csv", "jsonl"};
    struct opt_spec e = {.name = "format",
                         .type = DRAY_OPT_ENUM,
                         .enum_values = vals,
                         .n_enum_values = 2};
    CHECK_INT(opt_parse(&e, "jsonl", &v, &err), 0);
    CHECK_INT(opt_parse(&e, "JSONL", &v, &err), -1);
    CHECK_STR(strbuf_str(&err), "expected one of 'csv', 'jsonl'");
    strbuf_release(&err);
}

struct mask_case {
    const char *in, *out;
};

static const struct mask_case mask_cases[] = {
    {"host=db user=u password=s3cret dbname=x",
     "host=db user=u password=******** dbname=x"},
    {"password='a b\\' c' host=x", "password=******** host=x"},
    {"host=db password = spaced user=u", "host=db password = ******** user=u"},
    {"sslpassword=k host=h", "sslpassword=******** host=h"},
    {"host=db user=u", "host=db user=u"},
    {"postgresql://u:p%40ss@h:5432/db?sslmode=require&password=x",
     "postgresql://u:********@h:5432/db?sslmode=require&password=********"},
    {"postgres://u:p@ss@h/db", "postgres://u:********@h/db"},
    {"postgres://u@h/db", "postgres://u@h/db"},
    {"postgres://h/db", "postgres://h/db"},
    {"postgres://u:pw@h", "postgres://u:********@h"},
    {"postgresql://user:pa?ss@db/app", "postgresql://user:********@db/app"},
    {"postgresql://user:pa#ss@db/app", "postgresql://user:********@db/app"},
    {"postgresql://user:pa/ss@db/app", "postgresql://user:********@db/app"},
    {"postgresql://user:p@ss:w/rd@db:5432/app?sslmode=require",
     "postgresql://user:********@db:5432/app?sslmode=require"},
    {"", ""},
};

static void test_mask_conninfo(void)
{
    for (size_t i = 0; i < sizeof(mask_cases) / sizeof(mask_cases[0]); i++) {
        char *got = opt_mask_conninfo(mask_cases[i].in);
        CHECK_STR(got, mask_cases[i].out);
        free(got);
    }
}

static void test_display(void)
{
    struct opt_spec secret = {.name = "token", .flags = DRAY_OPTF_SECRET};
    struct opt_spec plain = {.name = "schema"};
    char *a = opt_display(&secret, "abc");
    char *b = opt_display(&plain, "analytics");

    CHECK_STR(a, "********");
    CHECK_STR(b, "analytics");
    free(a);
    free(b);
}

static struct opt_spec table[] = {
    {.name = "dsn",
     .type = DRAY_OPT_STRING,
     .flags = DRAY_OPTF_REQUIRED | DRAY_OPTF_CONNINFO,
     .description = "where to connect"},
    {.name = "schema", .type = DRAY_OPT_STRING, .default_value = "public"},
    {.name = "batch_rows",
     .type = DRAY_OPT_INT,
     .default_value = "1000",
     .min = 1,
     .max = 100000},
    {.name = "token", .type = DRAY_OPT_STRING, .flags = DRAY_OPTF_SECRET},
    {.name = "timeout", .type = DRAY_OPT_DURATION},
};

static void test_bind_ok_and_defaults(void)
{
    struct config_option opts[] = {
        {"dsn", "host=x", {4, 12}},
        {"batch_rows", "50", {5, 19}},
    };
    struct config_destination d = {
        .name = "wh", .plugin = "pg", .options = opts, .n_options = 2};
    struct opt_value *vals = NULL;
    struct strbuf errors = STRBUF_INIT;

    CHECK_INT(opt_bind(table, 5, &d, "dray.yml", NULL, &vals, &errors), 0);
    CHECK_STR(strbuf_str(&errors), "");
    CHECK(vals != NULL);
    if (vals) {
        CHECK_STR(vals[0].text, "host=x");
        CHECK_STR(vals[1].text, "public");
        CHECK_INT(vals[1].from_default, 1);
        CHECK_INT(vals[2].i64, 50);
        CHECK_INT(vals[3].set, 0);
        CHECK_INT(vals[4].set, 0);
    }
    opt_values_free(vals, 5);
    strbuf_release(&errors);
}

static void test_bind_problems(void)
{
    struct config_option opts[] = {
        {"shcema", "x", {6, 5}},
        {"batch_rows", "0", {7, 17}},
        {"token", "hunter2-not-a-number", {8, 12}},
        {"timeout", "hunter3", {9, 14}},
    };
    struct config_destination d = {.name = "wh",
                                   .plugin = "pg",
                                   .options = opts,
                                   .n_options = 4,
                                   .mark = {3, 5}};
    struct opt_value *vals = NULL;
    struct strbuf errors = STRBUF_INIT;
    const char *want =
        "dray.yml:6:5: destination 'wh': plugin 'pg' has no option 'shcema'; "
        "did you mean 'schema'?\n"
        "dray.yml:7:17: destination 'wh': option 'batch_rows' must be between "
        "1 and 100000\n"
        "dray.yml:9:14: destination 'wh': option 'timeout' is wrong: expected "
        "a duration such as 250ms, 30s, 5m or 2h\n"
        "dray.yml:3:5: destination 'wh': plugin 'pg' requires option 'dsn' "
        "(where to connect)\n";

    CHECK_INT(opt_bind(table, 5, &d, "dray.yml", NULL, &vals, &errors), 4);
    CHECK(vals == NULL);
    CHECK_STR(strbuf_str(&errors), want);
    /* A configured value never shows up in a message. */
    CHECK(strstr(strbuf_str(&errors), "hunter") == NULL);
    strbuf_release(&errors);
}

static void test_path_options_resolve_against_config(void)
{
    static struct opt_spec specs[] = {
        {.name = "dir", .type = DRAY_OPT_STRING, .flags = DRAY_OPTF_PATH},
        {.name = "here", .type = DRAY_OPT_STRING, .flags = DRAY_OPTF_PATH},
        {.name = "abs", .type = DRAY_OPT_STRING, .flags = DRAY_OPTF_PATH},
        {.name = "plain", .type = DRAY_OPT_STRING},
    };
    struct config_option opts[] = {
        {"dir", "data/out", {1, 1}},
        {"here", "./x", {2, 1}},
        {"abs", "/var/lib/x", {3, 1}},
        {"plain", "data/out", {4, 1}},
    };
    struct config_destination d = {
        .name = "d", .plugin = "p", .options = opts, .n_options = 4};
    struct opt_value *vals = NULL;
    struct strbuf errors = STRBUF_INIT;

    CHECK_INT(opt_bind(specs, 4, &d, "f.yml", "/etc/dray", &vals, &errors), 0);
    if (vals) {
        CHECK_STR(vals[0].text, "/etc/dray/data/out");
        CHECK_STR(vals[1].text, "/etc/dray/x");
        CHECK_STR(vals[2].text, "/var/lib/x");
        CHECK_STR(vals[3].text, "data/out");
    }
    opt_values_free(vals, 4);
    strbuf_release(&errors);
}

static void test_edit_distance(void)
{
    CHECK_INT(edit_distance("destinatons", "destinations"), 1);
    CHECK_INT(edit_distance("", "abc"), 3);
    CHECK_INT(edit_distance("kitten", "sitting"), 3);
    CHECK_INT(edit_distance("same", "same"), 0);
    static const char *const keys[] = {"spool", "plugin_path", "destinations",
                                       "routes"};
    CHECK_STR(suggest_closest("destinatons", keys, 4), "destinations");
    CHECK_STR(suggest_closest("rutes", keys, 4), "routes");
    CHECK(suggest_closest("frobnicate", keys, 4) == NULL);
}

UNIT_MAIN(UNIT_CASE(test_parse_table), UNIT_CASE(test_ranges_and_reasons),
          UNIT_CASE(test_mask_conninfo), UNIT_CASE(test_display),
          UNIT_CASE(test_bind_ok_and_defaults), UNIT_CASE(test_bind_problems),
          UNIT_CASE(test_path_options_resolve_against_config),
          UNIT_CASE(test_edit_distance))

/* The .scn parser of dray-plugin-test: sections, arguments, rows, macros
   and errors (docs/HARNESS.md, "Scenario files"). */
#include <stdlib.h>
#include <string.h>

#include "dray/dray_abi.h"
#include "harness.h"
#include "unit.h"

static int parse(const char *text, struct scenario *s, char *err, size_t n)
{
    err[0] = '\0';
    return dray__scn_parse("007-x", text, strlen(text), s, err, n);
}

static void test_full_scenario(void)
{
    const char *text =
        "# Upserts keep one row. Second sentence.\n"
        "# (reference §4.2)\n"
        "[needs upsert nested]\n"
        "[mode upsert]\n"
        "[options]\n"
        "format: csv\n"
        "quote_all: \"true\"\n"
        "[config]\n"
        "batch: {max_records: 2}\n"
        "# a YAML comment stays\n"
        "[input]\n"
        "{\"type\":\"SCHEMA\",\"stream\":\"people\",\"key_properties\":[\"id\","
        "\"k2\"],\"schema\":{}}\n"
        "# a comment inside input is skipped\n"
        "\n"
        "{\"type\":\"RECORD\",\"stream\":\"people\",\"record\":{\"id\":1}}\n"
        "[fault kill-at=3]\n"
        "[run exit=4]\n"
        "[input run=no put-exit=1]\n"
        "{\"type\":\"RECORD\"}\n"
        "[replay exit=0]\n"
        "[fault fail-at=2]\n"
        "[fault kill-random]\n"
        "[spool-sequence 9000000000000000000]\n"
        "[input run-exit=4]\n"
        "{}\n"
        "[expect people]\n"
        "{\"id\":1,\"name\":\"a\"}\n"
        "{\"id\":2,\"price\":19.90}\n"
        "[expect other empty]\n"
        "[expect-rejects 3]\n"
        "[expect-tables]\n"
        "people\n"
        "people__tags\n";
    struct scenario s;
    char err[300];

    CHECK_INT(parse(text, &s, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_STR(s.name, "007-x");
    CHECK_STR(s.desc,
              "Upserts keep one row. Second sentence. (reference §4.2)");
    CHECK_INT(s.needs, NEED_UPSERT | NEED_NESTED);
    CHECK_INT(s.mode, DRAY_MODE_UPSERT);
    CHECK_INT(s.n_options, 2);
    CHECK_STR(s.options[0].key, "format");
    CHECK_STR(s.options[0].value, "csv");
    CHECK_STR(s.options[1].value, "true");
    CHECK_STR(s.config, "batch: {max_records: 2}\n# a YAML comment stays\n");
    CHECK_INT(s.n_steps, 9);
    CHECK_INT(s.steps[0].kind, STEP_INPUT);
    CHECK_INT(s.steps[0].run, 1);
    CHECK_INT(s.steps[0].run_exit, 0);
    CHECK_STR(
        s.steps[0].text,
        "{\"type\":\"SCHEMA\",\"stream\":\"people\",\"key_properties\":"
        "[\"id\",\"k2\"],\"schema\":{}}\n"
        "{\"type\":\"RECORD\",\"stream\":\"people\",\"record\":{\"id\":1}}"
        "\n");
    CHECK_INT(s.steps[1].kind, STEP_FAULT);
    CHECK_INT(s.steps[1].fault, FAULT_KILL_AT);
    CHECK_INT(s.steps[1].fault_n, 3);
    CHECK_INT(s.steps[2].kind, STEP_RUN);
    CHECK_INT(s.steps[2].run_exit, 4);
    CHECK_INT(s.steps[3].kind, STEP_INPUT);
    CHECK_INT(s.steps[3].run, 0);
    CHECK_INT(s.steps[3].put_exit, 1);
    CHECK_INT(s.steps[4].kind, STEP_REPLAY);
    CHECK_INT(s.steps[4].run, 1);
    CHECK_INT(s.steps[5].fault, FAULT_FAIL_AT);
    CHECK_INT(s.steps[5].fault_n, 2);
    CHECK_INT(s.steps[6].fault, FAULT_KILL_RANDOM);
    CHECK_INT(s.steps[7].kind, STEP_SEQUENCE);
    CHECK(s.steps[7].sequence == 9000000000000000000LL);
    CHECK_INT(s.steps[8].run_exit, 4);
    CHECK_INT(s.n_expects, 2);
    CHECK_STR(s.expects[0].table, "people");
    CHECK_INT(s.expects[0].n_rows, 2);
    CHECK_INT(s.expects[0].empty, 0);
    /* Numbers keep their digits. */
    CHECK_STR(dray__hv_get(s.expects[0].rows[1], "price")->s, "19.90");
    CHECK_STR(s.expects[1].table, "other");
    CHECK_INT(s.expects[1].empty, 1);
    CHECK_INT(s.expect_rejects, 3);
    CHECK_INT(s.has_expect_tables, 1);
    CHECK_INT(s.n_expect_tables, 2);
    CHECK_STR(s.expect_tables[1], "people__tags");

    char **keys;
    size_t nk;
    CHECK_INT(dray__scn_keys(&s, "people", &keys, &nk), 1);
    CHECK_INT(nk, 2);
    if (nk == 2) {
        CHECK_STR(keys[0], "id");
        CHECK_STR(keys[1], "k2");
    }
    dray__strv_free(keys, nk);
    CHECK_INT(dray__scn_keys(&s, "nobody", &keys, &nk), 0);
    CHECK_INT(nk, 0);
    dray__scn_release(&s);
}

static void test_defaults(void)
{
    struct scenario s;
    char err[300];

    CHECK_INT(parse("[needs split_rename split_keep types]\n[input]\n{}\n", &s,
                    err, sizeof(err)),
              0);
    CHECK_INT(s.needs, NEED_SPLIT_RENAME | NEED_SPLIT_KEEP | NEED_TYPES);
    CHECK_STR(dray__need_name(NEED_SPLIT_KEEP), "split_keep");
    dray__scn_release(&s);

    CHECK_INT(parse("[input]\n{}\n", &s, err, sizeof(err)), 0);
    CHECK_INT(s.mode, -1);
    CHECK_INT(s.needs, 0);
    CHECK_INT(s.expect_rejects, -1);
    CHECK_INT(s.has_expect_tables, 0);
    CHECK_INT(s.max_rss_mib, -1);
    CHECK_INT(s.no_fd_leak, 0);
    CHECK_STR(s.desc, "");
    CHECK_STR(s.config, "");
    dray__scn_release(&s);
}

static void check_error(const char *text, const char *want)
{
    struct scenario s;
    char err[300];

    CHECK_INT(parse(text, &s, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, want);
    dray__scn_release(&s);
}

static void test_errors(void)
{
    check_error("[input]\n{}\n[frobnicate]\n",
                "3: unknown section [frobnicate]");
    check_error("[needs upsert warp]\n[input]\n{}\n", "1: unknown need 'warp'");
    check_error("[mode sideways]\n[input]\n{}\n",
                "[mode upsert] or [mode append]");
    check_error("[input]\n{}\n[expect t]\n\"row\"\n",
                "4: an expected row must be a JSON object: not an object");
    check_error("[input]\n{}\n[expect t]\n{\"a\":\n", "not JSON");
    check_error("[input]\n{}\n[expect t empty]\n{\"a\":1}\n", "takes no rows");
    check_error("stray\n[input]\n{}\n", "1: 'stray' before the first");
    check_error("[input]\n{}\n[fault kill-at=0]\n", "[fault kill-at=N]");
    check_error("[input]\n{}\n[fault explode]\n", "[fault kill-at=N]");
    check_error("[input frob=1]\n{}\n", "unknown argument 'frob=1'");
    check_error("[input run-exit=x]\n{}\n", "'run-exit=x' needs a number");
    check_error("[input]\n{}\n[run]\nline\n", "[run] takes no lines");
    check_error("[input]\n{}\n[options]\nnocolon\n", "is not 'key: value'");
    check_error("[input]\n{}\n[expect-rejects many]\n", "needs a count");
    check_error("[needs upsert]\n", "no [input]");
    check_error("[input]\n{}\n[expect-max-rss 0]\n",
                "3: expect-max-rss: [expect-max-rss] or [expect-max-rss MIB]");
    check_error("[input]\n{}\n[expect-max-rss lots]\n", "a bound from 1");
    check_error("[input]\n{}\n[expect-max-rss 1 2]\n", "a bound from 1");
    check_error("[input]\n{}\n[expect-no-fd-leak 3]\n",
                "[expect-no-fd-leak] takes no arguments");
    check_error("[input]\n{}\n[expect-no-fd-leak]\nfds: 3\n",
                "4: [expect-no-fd-leak] takes no lines");
    /* Macros are expanded when the section ends: the error names its
       header's line. */
    check_error("[input]\n@REPEAT(x)@\n", "1: @REPEAT(text,count)@ needs");
}

static void test_resource_sections(void)
{
    struct scenario s;
    char err[300];

    CHECK_INT(parse("[input]\n{}\n[expect-max-rss]\n[expect-no-fd-leak]\n", &s,
                    err, sizeof(err)),
              0);
    CHECK_INT(s.max_rss_mib, 0); /* the harness's bound */
    CHECK_INT(s.no_fd_leak, 1);
    dray__scn_release(&s);
    CHECK_INT(
        parse("[input]\n{}\n[expect-max-rss 200]\n", &s, err, sizeof(err)), 0);
    CHECK_INT(s.max_rss_mib, 200);
    CHECK_INT(s.no_fd_leak, 0);
    dray__scn_release(&s);
}

#define SCHEMA(keys)                                                           \
    "{\"type\":\"SCHEMA\",\"stream\":\"people\",\"key_properties\":" keys      \
    ",\"schema\":{}}\n"

static void test_key_change_order(void)
{
    struct scenario s;
    char err[300];
    int by_seq = -1;

    /* One key throughout: upserted tables by the key, their subtables by
       source keys and levels; appended root tables by _sdc_sequence. */
    CHECK_INT(
        parse("[input]\n" SCHEMA("[\"id\"]") "[input]\n" SCHEMA("[\"id\"]"), &s,
              err, sizeof(err)),
        0);
    CHECK_INT(dray__scn_key_changed(&s, "people"), 0);
    CHECK_INT(dray__order_rule(&s, "people", DRAY_MODE_UPSERT, 0, &by_seq),
              ORDER_COLUMNS);
    CHECK_INT(by_seq, 0);
    CHECK_INT(dray__order_rule(&s, "people", DRAY_MODE_UPSERT, 1, &by_seq),
              ORDER_SUBTABLE);
    CHECK_INT(dray__order_rule(&s, "people", DRAY_MODE_APPEND, 0, &by_seq),
              ORDER_COLUMNS);
    CHECK_INT(by_seq, 1);
    CHECK_INT(dray__order_rule(&s, "people", DRAY_MODE_APPEND, 1, &by_seq),
              ORDER_NONE);
    /* No SCHEMA of the stream: nothing to order by. */
    CHECK_INT(dray__order_rule(&s, "others", DRAY_MODE_APPEND, 0, &by_seq),
              ORDER_NONE);
    dray__scn_release(&s);

    /* The key changes (id -> id, k): the table is appended to from then
       on, so neither key orders its rows; its subtables neither. */
    CHECK_INT(parse("[input]\n" SCHEMA("[\"id\"]") "[input]\n" SCHEMA(
                        "[\"id\",\"k\"]") "[input]\n" SCHEMA("[\"id\",\"k\"]"),
                    &s, err, sizeof(err)),
              0);
    CHECK_INT(dray__scn_key_changed(&s, "people"), 1);
    CHECK_INT(dray__scn_key_changed(&s, "others"), 0);
    CHECK_INT(dray__order_rule(&s, "people", DRAY_MODE_UPSERT, 0, &by_seq),
              ORDER_NONE);
    CHECK_INT(dray__order_rule(&s, "people", DRAY_MODE_UPSERT, 1, &by_seq),
              ORDER_NONE);
    /* Appending never followed the key: _sdc_sequence still orders. */
    CHECK_INT(dray__order_rule(&s, "people", DRAY_MODE_APPEND, 0, &by_seq),
              ORDER_COLUMNS);
    CHECK_INT(by_seq, 1);
    dray__scn_release(&s);

    /* A key that appears (none -> id) or goes away is a change too; the
       same keys in another order are a different key. */
    CHECK_INT(parse("[input]\n" SCHEMA("[]") "[input]\n" SCHEMA("[\"id\"]"), &s,
                    err, sizeof(err)),
              0);
    CHECK_INT(dray__scn_key_changed(&s, "people"), 1);
    dray__scn_release(&s);
    CHECK_INT(parse("[input]\n" SCHEMA("[\"a\",\"b\"]") "[input]\n" SCHEMA(
                        "[\"b\",\"a\"]"),
                    &s, err, sizeof(err)),
              0);
    CHECK_INT(dray__scn_key_changed(&s, "people"), 1);
    dray__scn_release(&s);
}

static void expand_ok(const char *in, const char *want)
{
    struct dray_buf out = DRAY_BUF_INIT;
    char err[200] = "";

    CHECK_INT(dray__scn_expand(in, strlen(in), &out, err, sizeof(err)), 0);
    CHECK_STR(out.data, want);
    CHECK_STR(err, "");
    dray_buf_release(&out);
}

static void expand_fails(const char *in, const char *want)
{
    struct dray_buf out = DRAY_BUF_INIT;
    char err[200] = "";

    CHECK_INT(dray__scn_expand(in, strlen(in), &out, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, want);
    dray_buf_release(&out);
}

static void test_macros(void)
{
    expand_ok("no macros", "no macros");
    expand_ok("a@REPEAT(xy,3)@b", "axyxyxyb");
    expand_ok("@REPEAT(a,b,2)@", "a,ba,b"); /* the count is after the last , */
    expand_ok("[@REPEAT(x,0)@]", "[]");
    expand_ok("@SEQ(1,3,{\"id\":{n},\"n\":\"{n}\"})@",
              "{\"id\":1,\"n\":\"1\"}\n{\"id\":2,\"n\":\"2\"}\n"
              "{\"id\":3,\"n\":\"3\"}");
    expand_ok("@SEQ(-1,0,v{n})@", "v-1\nv0");
    expand_ok("@SEQ(5,4,v)@", ""); /* an empty range writes nothing */
    /* Nested: the inner macro first, then the numbers. */
    expand_ok("@SEQ(1,2,{\"id\":{n},\"pad\":\"@REPEAT(ab,2)@\"})@",
              "{\"id\":1,\"pad\":\"abab\"}\n{\"id\":2,\"pad\":\"abab\"}");
    expand_ok("x @ y )@ z", "x @ y )@ z");
    expand_fails("@REPEAT(x,2", "without its closing ')@'");
    expand_fails("@SEQ(1,x,t)@", "@SEQ(from,to,template)@ needs");
    expand_fails("@REPEAT(x,-1)@", "count");
}

static void test_seq_in_input(void)
{
    struct scenario s;
    char err[300];

    CHECK_INT(parse("[input]\n@SEQ(1,3,{\"id\":{n}})@\n{\"last\":1}\n", &s, err,
                    sizeof(err)),
              0);
    CHECK_STR(s.steps[0].text,
              "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n{\"last\":1}\n");
    dray__scn_release(&s);
}

UNIT_MAIN(UNIT_CASE(test_full_scenario), UNIT_CASE(test_defaults),
          UNIT_CASE(test_errors), UNIT_CASE(test_macros),
          UNIT_CASE(test_seq_in_input), UNIT_CASE(test_resource_sections),
          UNIT_CASE(test_key_change_order))

/* Comparing expected rows with rows read back: canonical values, the
   multiset, "$absent", the order check and the diff text. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "unit.h"

struct rows {
    struct hv **r;
    size_t n;
};

static struct rows rows_of(const char *ndjson)
{
    struct rows x;
    char err[200];

    CHECK_INT(
        dray__parse_rows(ndjson, strlen(ndjson), &x.r, &x.n, err, sizeof(err)),
        0);
    return x;
}

/* Compares; returns the result and fills msg and diff. */
static int cmp(const char *exp, const char *act, const struct order_spec *ord,
               int files, char *msg, struct dray_buf *diff)
{
    struct rows e = rows_of(exp), a = rows_of(act);
    int rc;

    msg[0] = '\0';
    dray_buf_reset(diff);
    dray__xadds(diff, "");
    rc = dray__cmp_table("t", e.r, e.n, a.r, a.n, ord, files, diff, msg, 300);
    dray__rows_free(e.r, e.n);
    dray__rows_free(a.r, a.n);
    return rc;
}

static int equal(const char *exp, const char *act, int files)
{
    char msg[300];
    struct dray_buf diff = DRAY_BUF_INIT;
    int rc = cmp(exp, act, NULL, files, msg, &diff);

    dray_buf_release(&diff);
    return rc == 0;
}

static void test_numbers(void)
{
    /* Decimals come back as strings of digits; compared as numbers. */
    CHECK(equal("{\"p\":19.90}", "{\"p\":\"19.9\"}", 0));
    CHECK(equal("{\"p\":19.9}", "{\"p\":\"19.900\"}", 0));
    CHECK(equal("{\"p\":19.90}", "{\"p\":19.9}", 0));
    CHECK(!equal("{\"p\":19.90}", "{\"p\":\"19.91\"}", 0));
    CHECK(equal("{\"p\":1e3}", "{\"p\":\"1000\"}", 0));
    CHECK(equal("{\"p\":-0.0}", "{\"p\":0}", 0));
    CHECK(equal("{\"p\":0.00120}", "{\"p\":\"1.2e-3\"}", 0));
    CHECK(!equal("{\"p\":-5}", "{\"p\":5}", 0));
    /* Beyond a double's 17 digits, the digits still count. */
    CHECK(equal("{\"p\":12345678901234567890.123456789}",
                "{\"p\":\"12345678901234567890.1234567890\"}", 0));
    CHECK(!equal("{\"p\":12345678901234567890.123456789}",
                 "{\"p\":\"12345678901234567890.123456780\"}", 0));
    CHECK(equal("{\"id\":9223372036854775807}", "{\"id\":9223372036854775807}",
                0));
    CHECK(!equal("{\"id\":9223372036854775807}", "{\"id\":9223372036854775806}",
                 0));
}

static void test_timestamps_as_instants(void)
{
    CHECK(equal("{\"at\":\"2024-01-02T03:04:05Z\"}",
                "{\"at\":\"2024-01-02T03:04:05.000000Z\"}", 0));
    CHECK(equal("{\"at\":\"2024-01-02 05:04:05+02:00\"}",
                "{\"at\":\"2024-01-02T03:04:05.000000Z\"}", 0));
    CHECK(!equal("{\"at\":\"2024-01-02T03:04:05Z\"}",
                 "{\"at\":\"2024-01-02T03:04:05.000001Z\"}", 0));
    CHECK(!equal("{\"s\":\"abc\"}", "{\"s\":\"abd\"}", 0));
}

static void test_null_absent_and_types(void)
{
    /* null: NULL or a column the table lacks. */
    CHECK(equal("{\"id\":1,\"x\":null}", "{\"id\":1,\"x\":null}", 0));
    CHECK(equal("{\"id\":1,\"x\":null}", "{\"id\":1}", 0));
    CHECK(!equal("{\"id\":1,\"x\":null}", "{\"id\":1,\"x\":\"\"}", 0));
    /* Columns the expectation does not name are not compared. */
    CHECK(equal("{\"id\":1}", "{\"id\":1,\"_sdc_sequence\":5,\"y\":2}", 0));
    /* Booleans are JSON booleans, but strings in files. */
    CHECK(!equal("{\"b\":true}", "{\"b\":\"true\"}", 0));
    CHECK(equal("{\"b\":true}", "{\"b\":\"true\"}", 1));
    CHECK(equal("{\"b\":false}", "{\"b\":false}", 1));
    CHECK(equal("{\"n\":2}", "{\"n\":\"2\"}", 1));
    /* Native nesting: objects by members (null = missing), arrays in
       order. */
    CHECK(equal("{\"o\":{\"a\":1,\"b\":null}}", "{\"o\":{\"a\":\"1.0\"}}", 0));
    CHECK(!equal("{\"o\":{\"a\":1}}", "{\"o\":{\"a\":1,\"c\":2}}", 0));
    CHECK(!equal("{\"l\":[1,2]}", "{\"l\":[2,1]}", 0));
}

/* harness_value.c: an object of nothing but nulls is null, as a
   flattening destination stores it (NULL columns); so a native row may
   keep the object or leave it out. */
static void test_all_null_object_is_null(void)
{
    struct hv *v;
    struct dray_buf a = DRAY_BUF_INIT, b = DRAY_BUF_INIT;
    char err[200];

    /* Expected null: the actual object of nulls, nested alike, matches. */
    CHECK(equal("{\"id\":1,\"o\":null}",
                "{\"id\":1,\"o\":{\"a\":null,\"b\":{\"c\":null}}}", 0));
    CHECK(equal("{\"id\":1,\"o\":{\"a\":null}}", "{\"id\":1,\"o\":null}", 0));
    /* ... and so does a column the table lacks, and the empty object. */
    CHECK(equal("{\"id\":1,\"o\":{\"a\":null}}", "{\"id\":1}", 0));
    CHECK(equal("{\"id\":1,\"o\":null}", "{\"id\":1,\"o\":{}}", 0));
    /* One member with a value makes it an object. */
    CHECK(!equal("{\"id\":1,\"o\":null}",
                 "{\"id\":1,\"o\":{\"a\":null,\"b\":{\"c\":0}}}", 0));
    CHECK(!equal("{\"id\":1,\"o\":null}", "{\"id\":1,\"o\":{\"a\":\"\"}}", 0));
    /* Arrays are not objects: an array of nulls is not null. */
    CHECK(!equal("{\"id\":1,\"o\":null}", "{\"id\":1,\"o\":[null]}", 0));
    /* Inside an object the rule makes the member go away. */
    CHECK(
        equal("{\"o\":{\"a\":1}}", "{\"o\":{\"a\":1,\"b\":{\"c\":null}}}", 0));
    /* The canonical texts themselves, also in files. */
    const char *obj = "{\"a\":null,\"b\":{\"c\":null}}";
    v = dray__hv_parse(obj, strlen(obj), err, sizeof(err));
    CHECK(v != NULL);
    if (v != NULL) {
        struct hv *null = dray__hv_new(HV_NULL);
        dray__hv_canon(&a, v, 1);
        dray__hv_canon(&b, null, 1);
        dray__xadd(&a, "", 0);
        dray__xadd(&b, "", 0);
        CHECK_STR(a.data, b.data);
        dray__hv_free(null);
    }
    dray__hv_free(v);
    dray_buf_release(&a);
    dray_buf_release(&b);
}

static void test_absent_marker(void)
{
    char msg[300];
    struct dray_buf diff = DRAY_BUF_INIT;

    CHECK(equal("{\"id\":1,\"x\":\"$absent\"}", "{\"id\":1}", 0));
    CHECK_INT(cmp("{\"id\":1,\"x\":\"$absent\"}", "{\"id\":1,\"x\":null}", NULL,
                  0, msg, &diff),
              1);
    CHECK_STR(msg, "table 't': column 'x' exists but must not");
    CHECK_STR(diff.data,
              "  table t has column x:\n  + {\"id\":1,\"x\":null}\n");
    dray_buf_release(&diff);
}

static void test_multiset_and_diff(void)
{
    char msg[300];
    struct dray_buf diff = DRAY_BUF_INIT;

    /* Order does not matter for the multiset; counts do. */
    CHECK(equal("{\"id\":1}\n{\"id\":2}\n", "{\"id\":2}\n{\"id\":1}\n", 0));
    CHECK(!equal("{\"id\":1}\n{\"id\":1}\n", "{\"id\":1}\n", 0));
    CHECK(!equal("{\"id\":1}\n", "{\"id\":1}\n{\"id\":1}\n", 0));
    CHECK(equal("", "", 0));

    CHECK_INT(cmp("{\"id\":1,\"n\":\"a\"}\n{\"id\":2,\"n\":\"b\"}\n"
                  "{\"id\":3,\"n\":\"c\"}\n",
                  "{\"id\":3,\"n\":\"c\",\"_sdc_sequence\":9}\n"
                  "{\"id\":2,\"n\":\"B\",\"_sdc_sequence\":8}\n"
                  "{\"id\":4,\"n\":\"d\",\"_sdc_sequence\":7}\n",
                  NULL, 0, msg, &diff),
              1);
    CHECK_STR(msg, "table 't': 2 expected rows missing, 2 rows not expected "
                   "(3 read back)");
    /* Sorted by the canonical row, "-" before "+"; actual rows shown with
       the expectation's columns. */
    CHECK_STR(diff.data, "  table t:\n"
                         "  - {\"id\":1,\"n\":\"a\"}\n"
                         "  + {\"id\":2,\"n\":\"B\"}\n"
                         "  - {\"id\":2,\"n\":\"b\"}\n"
                         "  + {\"id\":4,\"n\":\"d\"}\n");
    dray_buf_release(&diff);
}

static void test_partial_rows(void)
{
    /* Rows that leave out a column the others name match one by one. */
    CHECK(equal("{\"id\":1,\"a\":\"x\"}\n{\"id\":2}\n",
                "{\"id\":2,\"a\":\"zzz\"}\n{\"id\":1,\"a\":\"x\"}\n", 0));
    CHECK(!equal("{\"id\":1,\"a\":\"x\"}\n{\"id\":2}\n",
                 "{\"id\":3,\"a\":\"zzz\"}\n{\"id\":1,\"a\":\"x\"}\n", 0));
}

static void test_order(void)
{
    char msg[300];
    struct dray_buf diff = DRAY_BUF_INIT;
    char *id = "id";
    struct order_spec by_id = {ORDER_COLUMNS, &id, 1};
    struct order_spec sub = {ORDER_SUBTABLE, NULL, 0};

    CHECK(cmp("{\"id\":1}\n{\"id\":2}\n{\"id\":10}\n",
              "{\"id\":1}\n{\"id\":2}\n{\"id\":\"10\"}\n", &by_id, 0, msg,
              &diff) == 0);
    CHECK_INT(cmp("{\"id\":1}\n{\"id\":2}\n{\"id\":10}\n",
                  "{\"id\":1}\n{\"id\":10}\n{\"id\":2}\n", &by_id, 0, msg,
                  &diff),
              1);
    CHECK_STR(msg, "table 't': rows out of order: row 3 comes after row 2 but "
                   "sorts before it by (id)");
    CHECK_STR(diff.data,
              "  table t, rows 2 and 3:\n    {\"id\":10}\n    {\"id\":2}\n");
    /* Strings whose order depends on a collation are not judged. */
    CHECK(cmp("{\"id\":\"B\"}\n{\"id\":\"a\"}\n",
              "{\"id\":\"a\"}\n{\"id\":\"B\"}\n", &by_id, 0, msg, &diff) == 0);
    CHECK_INT(cmp("{\"id\":\"a\"}\n{\"id\":\"b\"}\n",
                  "{\"id\":\"b\"}\n{\"id\":\"a\"}\n", &by_id, 0, msg, &diff),
              1);
    /* Subtables: source keys, then levels outermost first. */
    CHECK(cmp("{\"v\":1}\n{\"v\":2}\n{\"v\":3}\n",
              "{\"_sdc_source_key_id\":1,\"_sdc_level_0_id\":0,"
              "\"_sdc_level_1_id\":1,\"v\":1}\n"
              "{\"_sdc_source_key_id\":1,\"_sdc_level_0_id\":1,"
              "\"_sdc_level_1_id\":0,\"v\":2}\n"
              "{\"_sdc_source_key_id\":2,\"_sdc_level_0_id\":0,"
              "\"_sdc_level_1_id\":0,\"v\":3}\n",
              &sub, 0, msg, &diff) == 0);
    CHECK_INT(cmp("{\"v\":1}\n{\"v\":2}\n",
                  "{\"_SDC_SOURCE_KEY_ID\":1,\"_SDC_LEVEL_0_ID\":1,\"v\":1}\n"
                  "{\"_SDC_SOURCE_KEY_ID\":1,\"_SDC_LEVEL_0_ID\":0,\"v\":2}\n",
                  &sub, 0, msg, &diff),
              1);
    CHECK_CONTAINS(msg, "by (_SDC_SOURCE_KEY_ID, _SDC_LEVEL_0_ID)");
    /* A multiset failure is reported first; the order is checked only when
       the rows are right. */
    CHECK_INT(cmp("{\"id\":1}\n{\"id\":2}\n", "{\"id\":2}\n{\"id\":3}\n",
                  &by_id, 0, msg, &diff),
              1);
    CHECK_CONTAINS(msg, "1 expected row missing, 1 row not expected");
    dray_buf_release(&diff);
}

static void test_parse_rows_errors(void)
{
    struct hv **r;
    size_t n;
    char err[200];

    CHECK_INT(
        dray__parse_rows("{\"a\":1}\n\n[1]\n", 12, &r, &n, err, sizeof(err)),
        -1);
    CHECK_STR(err, "line 3: a row must be a JSON object");
    CHECK_INT(dray__parse_rows("{\"a\":}\n", 7, &r, &n, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, "line 1: not JSON");
}

UNIT_MAIN(UNIT_CASE(test_numbers), UNIT_CASE(test_timestamps_as_instants),
          UNIT_CASE(test_null_absent_and_types), UNIT_CASE(test_absent_marker),
          UNIT_CASE(test_multiset_and_diff), UNIT_CASE(test_partial_rows),
          UNIT_CASE(test_order), UNIT_CASE(test_parse_rows_errors),
          UNIT_CASE(test_all_null_object_is_null))

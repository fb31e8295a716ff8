/* Mapping a logical expected row to the tables and columns of a dialect
   (docs/HARNESS.md, "Expectations through the dialect"). The expected
   texts are written out by hand from the rules in dray_flatten.h and
   docs/IDENTIFIERS.md. */
#include <stdlib.h>
#include <string.h>

#include "dray/dray_abi.h"
#include "dray/dray_ident.h"
#include "harness.h"
#include "unit.h"

static const char record[] =
    "{\"Id\":1,\"Customer\":{\"Name\":\"Ada\",\"Home Town\":\"Oslo\"},"
    "\"Items\":[{\"SKU\":\"tea\",\"Taxes\":[{\"Rate\":0.2},{\"Rate\":0.10}]},"
    "{\"SKU\":\"cake\"}],\"Tags\":[\"a\",null],\"Empty\":[],\"Note\":null}";

/* Every table and its rows as text: "name/depth: row row ...\n". */
static char *map_dump(int ident, int nesting, const char *stream,
                      const char *row_text, const char *key)
{
    char err[200];
    struct hv *row = dray__hv_parse(row_text, strlen(row_text), err, 200);
    char *keys[1] = {(char *)key};
    struct map_opts o = {ident, nesting, 0, key ? keys : NULL, key ? 1 : 0};
    struct xtables x;
    struct dray_buf out = DRAY_BUF_INIT;

    CHECK(row != NULL);
    if (dray__map_rows(&o, stream, &row, 1, &x, err, sizeof(err)) != 0) {
        dray__hv_free(row);
        return strdup(err);
    }
    for (size_t t = 0; t < x.n; t++) {
        dray__xaddf(&out, "%s/%d:", x.t[t].name, x.t[t].depth);
        for (size_t i = 0; i < x.t[t].n; i++) {
            dray__xadds(&out, " ");
            dray__hv_write(&out, x.t[t].rows[i]);
        }
        dray__xadds(&out, "\n");
    }
    dray__xtables_release(&x);
    dray__hv_free(row);
    return out.data;
}

static void test_postgres_flatten(void)
{
    char *got = map_dump(DRAY_IDENT_POSTGRES, DRAY_NEST_FLATTEN, "Orders",
                         record, "Id");
    CHECK_STR(
        got, "Orders/0: {\"Id\":1,\"Customer__Name\":\"Ada\","
             "\"Customer__Home Town\":\"Oslo\",\"Note\":null}\n"
             "Orders__Items/1: "
             "{\"_sdc_source_key_Id\":1,\"_sdc_level_0_id\":0,\"SKU\":\"tea\"} "
             "{\"_sdc_source_key_Id\":1,\"_sdc_level_0_id\":1,\"SKU\":\"cake\"}"
             "\n"
             "Orders__Items__Taxes/2: "
             "{\"_sdc_source_key_Id\":1,\"_sdc_level_0_id\":0,"
             "\"_sdc_level_1_id\":0,\"Rate\":0.2} "
             "{\"_sdc_source_key_Id\":1,\"_sdc_level_0_id\":0,"
             "\"_sdc_level_1_id\":1,\"Rate\":0.10}\n"
             "Orders__Tags/1: "
             "{\"_sdc_source_key_Id\":1,\"_sdc_level_0_id\":0,\"value\":\"a\"} "
             "{\"_sdc_source_key_Id\":1,\"_sdc_level_0_id\":1,\"value\":null}\n"
             "Orders__Empty/1:\n");
    free(got);
}

static void test_redshift_flatten(void)
{
    char *got = map_dump(DRAY_IDENT_REDSHIFT, DRAY_NEST_FLATTEN, "Orders",
                         record, "Id");
    CHECK_STR(
        got, "orders/0: {\"id\":1,\"customer__name\":\"Ada\","
             "\"customer__home_town\":\"Oslo\",\"note\":null}\n"
             "orders__items/1: "
             "{\"_sdc_source_key_id\":1,\"_sdc_level_0_id\":0,\"sku\":\"tea\"} "
             "{\"_sdc_source_key_id\":1,\"_sdc_level_0_id\":1,\"sku\":\"cake\"}"
             "\n"
             "orders__items__taxes/2: "
             "{\"_sdc_source_key_id\":1,\"_sdc_level_0_id\":0,"
             "\"_sdc_level_1_id\":0,\"rate\":0.2} "
             "{\"_sdc_source_key_id\":1,\"_sdc_level_0_id\":0,"
             "\"_sdc_level_1_id\":1,\"rate\":0.10}\n"
             "orders__tags/1: "
             "{\"_sdc_source_key_id\":1,\"_sdc_level_0_id\":0,\"value\":\"a\"} "
             "{\"_sdc_source_key_id\":1,\"_sdc_level_0_id\":1,\"value\":null}\n"
             "orders__empty/1:\n");
    free(got);
}

static void test_snowflake_flatten_and_native(void)
{
    char *got = map_dump(DRAY_IDENT_SNOWFLAKE, DRAY_NEST_FLATTEN, "Orders",
                         "{\"Id\":7,\"Customer\":{\"Home Town\":\"Oslo\"},"
                         "\"Tags\":[\"x\"]}",
                         "Id");
    CHECK_STR(got, "ORDERS/0: {\"ID\":7,\"CUSTOMER__HOME_TOWN\":\"Oslo\"}\n"
                   "ORDERS__TAGS/1: {\"_SDC_SOURCE_KEY_ID\":7,"
                   "\"_SDC_LEVEL_0_ID\":0,\"VALUE\":\"x\"}\n");
    free(got);
    /* VARIANT: nested values stay as they are, names inside them too. */
    got = map_dump(DRAY_IDENT_SNOWFLAKE, DRAY_NEST_NATIVE, "Orders", record,
                   "Id");
    CHECK_STR(got, "ORDERS/0: {\"ID\":1,\"CUSTOMER\":{\"Name\":\"Ada\","
                   "\"Home Town\":\"Oslo\"},\"ITEMS\":[{\"SKU\":\"tea\","
                   "\"Taxes\":[{\"Rate\":0.2},{\"Rate\":0.10}]},"
                   "{\"SKU\":\"cake\"}],\"TAGS\":[\"a\",null],\"EMPTY\":[],"
                   "\"NOTE\":null}\n");
    free(got);
}

static void test_files_names_kept(void)
{
    char *got =
        map_dump(DRAY_IDENT_FILES, DRAY_NEST_FLATTEN, "Orders/2024",
                 "{\"Größe über!\":{\"a/b\":1},\"L\":[[1,2],[3]]}", NULL);
    /* No keys: a keyless parent's source key is generated, so only the
       levels are expected; an array of arrays nests through "value". */
    CHECK_STR(got,
              "Orders_2024/0: {\"Größe über!__a_b\":1}\n"
              "Orders_2024__L/1: {\"_sdc_level_0_id\":0} "
              "{\"_sdc_level_0_id\":1}\n"
              "Orders_2024__L__value/2: "
              "{\"_sdc_level_0_id\":0,\"_sdc_level_1_id\":0,\"value\":1} "
              "{\"_sdc_level_0_id\":0,\"_sdc_level_1_id\":1,\"value\":2} "
              "{\"_sdc_level_0_id\":1,\"_sdc_level_1_id\":0,\"value\":3}\n");
    free(got);
}

static void test_absent_and_long_names(void)
{
    /* "$absent" is a value like any other to the mapping. */
    char *got = map_dump(DRAY_IDENT_POSTGRES, DRAY_NEST_FLATTEN, "t",
                         "{\"a\":{\"b\":\"$absent\"}}", NULL);
    CHECK_STR(got, "t/0: {\"a__b\":\"$absent\"}\n");
    free(got);
    /* The 64-byte example of docs/IDENTIFIERS.md, cut with its hash. */
    got = map_dump(DRAY_IDENT_POSTGRES, DRAY_NEST_FLATTEN, "t",
                   "{\"Customer_Lifetime_Value_Adjusted_For_Seasonal_"
                   "Returns_In_USD_v22\":1}",
                   NULL);
    CHECK_STR(got, "t/0: {\"Customer_Lifetime_Value_Adjusted_For_Seasonal_"
                   "Returns__0fcf6e19\":1}\n");
    free(got);
    got = map_dump(DRAY_IDENT_REDSHIFT, DRAY_NEST_FLATTEN, "t", "{\"###\":1}",
                   NULL);
    CHECK_CONTAINS(got, "'###' gives no usable name");
    free(got);
}

UNIT_MAIN(UNIT_CASE(test_postgres_flatten), UNIT_CASE(test_redshift_flatten),
          UNIT_CASE(test_snowflake_flatten_and_native),
          UNIT_CASE(test_files_names_kept),
          UNIT_CASE(test_absent_and_long_names))

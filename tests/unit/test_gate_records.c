/*
 * test_gate_records.c - the gate behind 'dray put': what it makes of each
 * record. Schema checks under every on_invalid, key properties, the
 * primary key of keyless streams, the stored text, and recursive and open
 * schemas; what it stored is read back with the spool's reader.
 *
 * Every case gets a fresh spool in a folder under /tmp.
 */
#include "gate_test_util.h"

#include <stdlib.h>

#include "config.h"
#include "gate.h"
#include "spool.h"

#define AGES_SCHEMA                                                            \
    "{\"type\":\"SCHEMA\",\"stream\":\"p\",\"schema\":{\"properties\":{"       \
    "\"id\":{\"type\":\"integer\"},\"age\":{\"type\":[\"integer\","            \
    "\"null\"]},\"tags\":{\"type\":\"array\",\"items\":{\"type\":"             \
    "\"string\"}},\"home\":{\"type\":\"object\",\"properties\":{\"zip\":{"     \
    "\"type\":\"string\",\"maxLength\":2,\"pattern\":\"^[0-9]+$\"}}}}},"       \
    "\"key_properties\":[\"id\"]}\n"
#define AGES_RECORDS                                                           \
    "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":1,\"age\":"      \
    "null,\"tags\":[\"a\"],\"home\":{\"zip\":\"12345\"}}}\n"                   \
    "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":2,\"age\":"      \
    "\"ten\"}}\n"                                                              \
    "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":3,\"age\":"      \
    "16.0,\"tags\":[\"b\",7],\"home\":{\"zip\":1}}}\n"                         \
    "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":4,\"age\":"      \
    "\"x\",\"extra\":{\"any\":[true]}}}\n"

static void test_on_invalid(void)
{
    struct gate_settings set = defaults();

    /* split: kept as sent, counted; maxLength and pattern are not read. */
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA AGES_RECORDS), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(g.stats.mismatches, 5);
    CHECK_INT(g.stats.rejected, 0);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 4);
    for (int i = 0; i < 4; i++)
        CHECK_INT(views[0].rec[i].flags, 0);
    CHECK_STR(views[0].rec[2].json, "{\"id\":3,\"age\":16.0,\"tags\":[\"b\",7],"
                                    "\"home\":{\"zip\":1}}");
    stop();

    /* reject: stored, flagged, with the first problem as the reason. */
    set.on_invalid = CONFIG_INVALID_REJECT;
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA AGES_RECORDS), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(g.stats.rejected, 3);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].rec[0].flags, 0);
    CHECK_INT(views[0].rec[1].flags, SPOOL_REC_REJECTED);
    CHECK_STR(views[0].rec[1].reason,
              "field 'age' is a string, the schema says integer or null");
    CHECK_STR(views[0].rec[2].reason,
              "field 'age' is a number, the schema says integer or null");
    CHECK_STR(views[0].rec[3].reason,
              "field 'age' is a string, the schema says integer or null");
    stop();

    /* fail: bad input at the record, with what was wrong. */
    set.on_invalid = CONFIG_INVALID_FAIL;
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA AGES_RECORDS), GATE_BAD_INPUT);
    CHECK_INT(g.line, 3);
    CHECK_STR(strbuf_str(&g.err),
              "stream 'p': field 'age' is a string, the schema says integer or "
              "null; integration 'shop' has on_invalid: fail");
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 1);
    stop();

    /* Paths name nested fields and array items. */
    set.on_invalid = CONFIG_INVALID_REJECT;
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "1,\"tags\":[\"a\",{}]}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "2,\"home\":{\"zip\":false}}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "3,\"home\":[]}}\n"),
              GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_STR(views[0].rec[0].reason,
              "field 'tags[]' is an object, the schema says string");
    CHECK_STR(views[0].rec[1].reason,
              "field 'home.zip' is a boolean, the schema says string");
    CHECK_STR(views[0].rec[2].reason,
              "field 'home' is an array, the schema says object");
    stop();
}

static void test_keys(void)
{
    struct gate_settings set = defaults();

    start(&set);
    CHECK_INT(feed(AGES_SCHEMA
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"age\":"
                   "1}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "null}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "\"7\",\"age\":\"x\"}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "7.5}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "1,\"id\":2}}\n"),
              GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(g.stats.rejected, 4);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 5);
    CHECK_INT(views[0].rec[0].flags, SPOOL_REC_REJECTED);
    CHECK_STR(views[0].rec[0].reason, "Record is missing key property id");
    CHECK_STR(views[0].rec[1].reason, "Record is missing key property id");
    /* The key's problem wins over the other field's. */
    CHECK_STR(views[0].rec[2].reason,
              "Record key property id is a string, the schema says integer");
    CHECK_STR(views[0].rec[3].reason,
              "Record key property id is a number, the schema says integer");
    CHECK_INT(views[0].rec[4].flags, 0);
    stop();

    /* on_invalid: fail stops at a key problem too. */
    set.on_invalid = CONFIG_INVALID_FAIL;
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA "{\"type\":\"RECORD\",\"stream\":\"p\","
                               "\"record\":{}}\n"),
              GATE_BAD_INPUT);
    CHECK_STR(strbuf_str(&g.err),
              "stream 'p': Record is missing key property id; integration "
              "'shop' has on_invalid: fail");
    stop();
}

static int is_uuid4(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx";

    if (strlen(s) != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        int hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
        if (shape[i] == 'x' && !hex)
            return 0;
        if (shape[i] == 'V' && strchr("89ab", s[i]) == NULL)
            return 0;
        if (shape[i] != 'x' && shape[i] != 'V' && s[i] != shape[i])
            return 0;
    }
    return 1;
}

static void test_keyless_primary_key(void)
{
    struct gate_settings set = defaults();
    struct strbuf in = STRBUF_INIT;

    strbuf_adds(&in, "{\"type\":\"SCHEMA\",\"stream\":\"log\",\"schema\":{"
                     "\"properties\":{\"m\":{\"type\":\"string\"}}}}\n");
    for (int i = 0; i < 300; i++) /* past one getrandom() refill */
        strbuf_adds(&in, "{\"type\":\"RECORD\",\"stream\":\"log\",\"record\":{"
                         "\"m\":\"x\"}}\n");
    start(&set);
    CHECK_INT(feed(in.buf), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 300);
    CHECK_STR(views[0].keys, "");
    for (int i = 0; i < MAX_RECS; i++) {
        if (!is_uuid4(views[0].rec[i].pk))
            UNIT_FAIL_AT("not a v4 UUID: [%s]", views[0].rec[i].pk);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(views[0].rec[i].pk, views[0].rec[j].pk) != 0);
    }
    stop();
    strbuf_release(&in);
}

static void test_stored_text(void)
{
    struct gate_settings set = defaults();

    start(&set);
    CHECK_INT(
        feed(
            "{\"type\":\"SCHEMA\",\"stream\":\"e\",\"schema\":{\"properties\":"
            "{\"id\":{\"type\":\"integer\"},\"ts\":{\"type\":[\"null\","
            "\"string\"],\"format\":\"date-time\"},\"o\":{\"type\":\"object\","
            "\"properties\":{\"t\":{\"type\":\"string\",\"format\":"
            "\"date-time\"}}},\"a\":{\"type\":\"array\",\"items\":{\"type\":"
            "\"string\",\"format\":\"date-time\"}},\"d\":{\"type\":\"string\","
            "\"format\":\"date\"},\"n\":{\"type\":\"number\"}}}}\n"
            "{ \"type\" : \"RECORD\", \"stream\" : \"e\", \"record\" : { "
            "\"id\" "
            ": 1, \"ts\" : \"2024-01-02 03:04:05\", \"o\" : {\"t\": "
            "\"2024-01-02T03:04:05+02:00\", \"u\": \"2024-01-02 "
            "03:04:05\"}, \"a\": [\"2024-01-02T03:04:05.123456789Z\", "
            "\"2024-01-02T03:04:05.000000Z\", \"\\u0032024-01-02t03:04:05z\"]"
            ", \"d\": \"2024-01-02\", \"n\": 1.50, \"big\": "
            "123456789012345678901234567890, \"e\": 1E+2, \"s\": "
            "\"\\/\\u00e9\\n\"}, \"time_extracted\": "
            "\"2024-06-01T12:00:00.5-01:00\"}\n"
            "{\"type\":\"RECORD\",\"stream\":\"e\",\"record\":{\"id\":2,\"ts\":"
            "\"yesterday\",\"n\":-0.0},\"time_extracted\":\"soon\"}\n"
            "{\"type\":\"RECORD\",\"stream\":\"e\",\"record\":{\"id\":3,\"ts\":"
            "\"2024-02-30T00:00:00Z\"},\"time_extracted\":"
            "\"2024-06-01T12:00:00.000000Z\"}\n"),
        GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    /* Date-times at date-time nodes in UTC; the rest byte for byte, only
       white space and "\/" gone. */
    CHECK_STR(views[0].rec[0].json,
              "{\"id\":1,\"ts\":\"2024-01-02T03:04:05.000000Z\",\"o\":{\"t\":"
              "\"2024-01-02T01:04:05.000000Z\",\"u\":\"2024-01-02 "
              "03:04:05\"},\"a\":[\"2024-01-02T03:04:05.123456Z\","
              "\"2024-01-02T03:04:05.000000Z\",\"2024-01-02T03:04:05.000000Z\"]"
              ",\"d\":\"2024-01-02\",\"n\":1.50,\"big\":"
              "123456789012345678901234567890,\"e\":1E+2,\"s\":"
              "\"/\\u00e9\\n\"}");
    CHECK_STR(views[0].rec[0].extracted, "2024-06-01T13:00:00.500000Z");
    /* A date-time that does not parse is kept, and counted. */
    CHECK_STR(views[0].rec[1].json,
              "{\"id\":2,\"ts\":\"yesterday\",\"n\":-0.0}");
    CHECK_STR(views[0].rec[1].extracted, "");
    CHECK_STR(views[0].rec[2].json,
              "{\"id\":3,\"ts\":\"2024-02-30T00:00:00Z\"}");
    CHECK_STR(views[0].rec[2].extracted, "2024-06-01T12:00:00.000000Z");
    CHECK_INT(g.stats.mismatches, 2);
    stop();
}

static void test_recursive_and_open_schemas(void)
{
    struct gate_settings set = defaults();
    struct strbuf deep = STRBUF_INIT;

    set.on_invalid = CONFIG_INVALID_REJECT;
    start(&set);
    /* A property without "type" takes anything; a recursive $ref checks
       as deep as the schema model goes. */
    CHECK_INT(
        feed(
            "{\"type\":\"SCHEMA\",\"stream\":\"t\",\"schema\":{\"definitions\""
            ":{\"n\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":"
            "\"integer\"},\"next\":{\"$ref\":\"#/definitions/n\"}}}},"
            "\"properties\":{\"root\":{\"$ref\":\"#/definitions/n\"},"
            "\"any\":{}}}}\n"
            "{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":{\"root\":{\"v\":"
            "1,\"next\":{\"v\":2}},\"any\":[1,\"x\",{}]}}\n"
            "{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":{\"root\":{\"v\":"
            "1,\"next\":{\"v\":\"two\"}}}}\n"),
        GATE_OK);
    /* Below the cut (DRAY_SCHEMA_MAX_DEPTH) the value is kept as JSON,
       unchecked. */
    strbuf_adds(&deep,
                "{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":{\"root\":");
    for (int i = 0; i < 40; i++)
        strbuf_adds(&deep, "{\"next\":");
    strbuf_adds(&deep, "{\"v\":\"deep\"}");
    for (int i = 0; i < 40; i++)
        strbuf_addch(&deep, '}');
    strbuf_adds(&deep, "}}\n");
    CHECK_INT(feed(deep.buf), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].rec[0].flags, 0);
    CHECK_STR(views[0].rec[1].reason,
              "field 'root.next.v' is a string, the schema says integer");
    CHECK_INT(views[0].n, 3);
    CHECK_INT(views[0].rec[2].flags, 0);
    stop();
    strbuf_release(&deep);
}

UNIT_MAIN(UNIT_CASE(test_on_invalid), UNIT_CASE(test_keys),
          UNIT_CASE(test_keyless_primary_key), UNIT_CASE(test_stored_text),
          UNIT_CASE(test_recursive_and_open_schemas))

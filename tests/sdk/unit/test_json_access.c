/*
 * test_json_access.c - reading a parsed tape: dray_json_get with duplicate
 * and escaped names, dray_json_string and _string_eq on every escape and
 * surrogate pairs, and the compact output of dray_json_write and
 * dray_json_write_string.
 */
#include "dray/dray_json.h"
#include "unit.h"

#include "../../fuzz/json_oracle.h"

#include <stdlib.h>

/* A string literal and its length, NUL bytes included. */
#define BYTES(s) s, sizeof(s) - 1

/* ---- access ------------------------------------------------------------- */

static void test_get(void)
{
    static const char text[] =
        "{\"a\":1,\"b\":{\"c\":2},\"a\":3,\"\\u0064\":4,\"\":5,\"e\\u0000\":6}";
    static const struct {
        uint32_t obj;
        const char *key;
        size_t keylen;
        int32_t want;
    } cases[] = {
        /* clang-format off */
        {0, BYTES("a"), 8},    /* duplicates: the last wins */
        {0, BYTES("b"), 4},
        {0, BYTES("c"), -1},   /* a member of a member */
        {4, BYTES("c"), 6},
        {0, BYTES("d"), 10},   /* written escaped */
        {0, BYTES(""), 12},
        {0, BYTES("e\0"), 14},
        {0, BYTES("e"), -1},
        {0, BYTES("aa"), -1},
        {1, BYTES("a"), -1},   /* not an object */
        {2, BYTES("a"), -1},
        {99, BYTES("a"), -1},  /* not a token */
        /* clang-format on */
    };
    struct dray_json_doc doc;
    struct dray_json_error err;

    dray_json_doc_init(&doc);
    CHECK_INT(dray_json_parse(&doc, text, sizeof text - 1, &err), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (dray_json_get(&doc, cases[i].obj, cases[i].key, cases[i].keylen) !=
            cases[i].want)
            UNIT_FAIL_AT("get %u '%s': %d, expected %d", (unsigned)cases[i].obj,
                         cases[i].key,
                         (int)dray_json_get(&doc, cases[i].obj, cases[i].key,
                                            cases[i].keylen),
                         (int)cases[i].want);
    CHECK_INT(doc.tok[8].type, DRAY_JSON_NUMBER);
    CHECK(doc.text[doc.tok[8].offset] == '3');
    CHECK_INT(dray_json_next(&doc, 4), 7);
    dray_json_doc_release(&doc);
}

static void test_string_decode(void)
{
    static const struct {
        const char *json;
        size_t len; /* of want */
        const char *want;
    } cases[] = {
        {"\"plain\"", 5, "plain"},
        {"\"\"", 0, ""},
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 8, "\"\\/\b\f\n\r\t"},
        {"\"\\u0041\\u00e9\\u20ac\"", 6, "A\xc3\xa9\xe2\x82\xac"},
        {"\"\\u0000x\\u0000\"", 3, "\0x\0"},
        {"\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"", 11,
         "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"},
        {"\"\\ud800\\udc00\"", 4, "\xf0\x90\x80\x80"},
        {"\"\\uD83D\\uDE00!\"", 5, "\xf0\x9f\x98\x80!"},
        {"\"\\udbff\\udfff\"", 4, "\xf4\x8f\xbf\xbf"},
        {"\"a\\nb\xc3\xa9\\u00e9c\"", 8,
         "a\nb\xc3\xa9\xc3\xa9"
         "c"},
        {"\"\xf0\x9f\x98\x80\"", 4, "\xf0\x9f\x98\x80"},
    };
    struct dray_json_doc doc;
    struct dray_json_error err;
    struct dray_buf out = DRAY_BUF_INIT;

    dray_json_doc_init(&doc);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *j = cases[i].json;

        CHECK_INT(dray_json_parse(&doc, j, strlen(j), &err), 0);
        dray_buf_reset(&out);
        CHECK_INT(dray_buf_add(&out, "<", 1), 0); /* appends, not replaces */
        CHECK_INT(dray_json_string(&doc, 0, &out), 0);
        if (out.len != cases[i].len + 1 ||
            memcmp(out.data + 1, cases[i].want, cases[i].len) != 0)
            UNIT_FAIL_AT("case %zu (%s): decoded %zu bytes", i, j, out.len - 1);
        CHECK(out.data[out.len] == '\0');
        CHECK_INT(!!(doc.tok[0].flags & DRAY_JSON_F_NUL),
                  memchr(cases[i].want, 0, cases[i].len) != NULL);
        CHECK(dray_json_string_eq(&doc, 0, cases[i].want, cases[i].len));
        CHECK(!dray_json_string_eq(&doc, 0, cases[i].want, cases[i].len + 1));
        if (cases[i].len > 0) {
            CHECK(
                !dray_json_string_eq(&doc, 0, cases[i].want, cases[i].len - 1));
            CHECK(!dray_json_string_eq(&doc, 0, "\x01", 1) ||
                  cases[i].len != 1);
        }
    }
    CHECK_INT(dray_json_parse(&doc, "[1]", 3, &err), 0);
    CHECK_INT(dray_json_string(&doc, 0, &out), -1);
    CHECK_INT(dray_json_string(&doc, 1, &out), -1);
    CHECK_INT(dray_json_string(&doc, 5, &out), -1);
    CHECK(!dray_json_string_eq(&doc, 1, "1", 1));
    dray_buf_release(&out);
    dray_json_doc_release(&doc);
}

/* ---- output ------------------------------------------------------------- */

static void test_write(void)
{
    static const struct {
        uint32_t tok; /* the token to write */
        const char *in;
        const char *out;
    } cases[] = {
        {0, " { \"a\" : [ 1 , 2.50 , -0 ] ,\n\t\"b\" : { } } ",
         "{\"a\":[1,2.50,-0],\"b\":{}}"},
        {0, "[ \"x\\/y\\\\/z\\u002f\" ]", "[\"x/y\\\\/z\\u002f\"]"},
        {0, "[ \"a b\" , \"\\n\\ud83d\\ude00\" ]",
         "[\"a b\",\"\\n\\ud83d\\ude00\"]"},
        {2, "{ \"a\" : { \"b\" : [ 1 , [ ] ] } , \"c\" : 2 }",
         "{\"b\":[1,[]]}"},
        {4, "{ \"a\" : { \"b\" : [ 1 , [ ] ] } , \"c\" : 2 }", "[1,[]]"},
        {8, "{ \"a\" : { \"b\" : [ 1 , [ ] ] } , \"c\" : 2 }", "2"},
        {1, "{ \"a\" : 1 }", "\"a\""},
        {0, " true ", "true"},
        {0, "1e-7", "1e-7"},
        {0, "[[[[ ]]]]", "[[[[]]]]"},
    };
    struct dray_json_doc doc, again;
    struct dray_json_error err;
    struct dray_buf out = DRAY_BUF_INIT, scratch = DRAY_BUF_INIT;
    struct dray_sink sink;
    const char *why;

    dray_sink_to_buf(&sink, &out);
    dray_json_doc_init(&doc);
    dray_json_doc_init(&again);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *in = cases[i].in;

        CHECK_INT(dray_json_parse(&doc, in, strlen(in), &err), 0);
        dray_buf_reset(&out);
        CHECK_INT(dray_json_write(&doc, cases[i].tok, &sink), 0);
        CHECK_STR(out.data, cases[i].out);
        if (cases[i].tok == 0 &&
            (why = oracle_check_rewrite(&doc, &again, &scratch)) != NULL)
            UNIT_FAIL_AT("%s: %s", in, why);
    }
    CHECK_INT(dray_json_write(&doc, 99, &sink), -1);
    dray_buf_release(&out);
    dray_buf_release(&scratch);
    dray_json_doc_release(&doc);
    dray_json_doc_release(&again);
}

static int failing_write(void *ctx, const void *data, size_t len)
{
    (void)data;
    (void)len;
    return *(int *)ctx;
}

static void test_write_string(void)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {BYTES(""), "\"\""},
        {BYTES("plain"), "\"plain\""},
        {BYTES("q\"b\\s/"), "\"q\\\"b\\\\s/\""},
        {BYTES("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\""},
        {BYTES("\x01\x1f\x7f"), "\"\\u0001\\u001f\x7f\""},
        {BYTES("a\0b"), "\"a\\u0000b\""},
        {BYTES("\xc3\xa9\xf0\x9f\x98\x80"), "\"\xc3\xa9\xf0\x9f\x98\x80\""},
    };
    struct dray_buf out = DRAY_BUF_INIT;
    struct dray_sink sink, bad;
    struct dray_json_doc doc;
    struct dray_json_error err;
    int code = -7;
    char *long_in = malloc(5000);

    dray_sink_to_buf(&sink, &out);
    dray_json_doc_init(&doc);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dray_buf_reset(&out);
        CHECK_INT(dray_json_write_string(&sink, cases[i].in, cases[i].len), 0);
        CHECK_STR(out.data, cases[i].out);
        /* It parses back to the input. */
        CHECK_INT(dray_json_parse(&doc, out.data, out.len, &err), 0);
        CHECK(dray_json_string_eq(&doc, 0, cases[i].in, cases[i].len));
    }
    /* Longer than the write batch, every byte value below 0x80. */
    CHECK(long_in != NULL);
    for (size_t i = 0; long_in && i < 5000; i++)
        long_in[i] = (char)(i % 128);
    dray_buf_reset(&out);
    CHECK_INT(dray_json_write_string(&sink, long_in, 5000), 0);
    CHECK_INT(dray_json_parse(&doc, out.data, out.len, &err), 0);
    CHECK(dray_json_string_eq(&doc, 0, long_in, 5000));
    /* The sink's status comes back. */
    bad.write = failing_write;
    bad.close = NULL;
    bad.ctx = &code;
    CHECK_INT(dray_json_write_string(&bad, "x", 1), -7);
    CHECK_INT(dray_json_write(&doc, 0, &bad), -7);
    free(long_in);
    dray_buf_release(&out);
    dray_json_doc_release(&doc);
}

UNIT_MAIN(UNIT_CASE(test_get), UNIT_CASE(test_string_decode),
          UNIT_CASE(test_write), UNIT_CASE(test_write_string))

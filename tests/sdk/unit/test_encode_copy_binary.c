/*
 * dray_copy_binary_*: each pgtype's binary form byte for byte (as
 * PostgreSQL's receive functions take it), the values each type refuses,
 * and the stream around the rows. tests/sdk/encode/test_copy_pg.c loads
 * the same forms into a real server.
 */
#include "dray/dray_encode.h"
#include "encode_fields.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* want: the row after the field count, as hex pairs with optional blanks. */
static void check_field_hex(struct dray_field f, int32_t pgtype,
                            const char *want)
{
    struct dray_buf out = DRAY_BUF_INIT, scratch = DRAY_BUF_INIT;
    struct dray_sink s;
    char got[600], clean[600];
    size_t g = 0, c = 0;
    int rc;

    dray_sink_to_buf(&s, &out);
    rc = dray_copy_binary_write_row(&s, &f, &pgtype, 1, &scratch);
    /* hex of the row past its field count */
    for (size_t i = 2; rc == 0 && i < out.len && g + 3 < sizeof(got); i++)
        g += (size_t)snprintf(got + g, sizeof(got) - g, "%02x",
                              (unsigned char)out.data[i]);
    got[g] = '\0';
    for (const char *p = want; *p && c + 1 < sizeof(clean); p++)
        if (*p != ' ')
            clean[c++] = *p;
    clean[c] = '\0';
    if (rc != 0 || strcmp(got, clean) != 0)
        UNIT_FAIL_AT("%.*s as type %d: rc %d, got %s, expected %s", (int)f.len,
                     f.text ? f.text : "", (int)pgtype, rc, got, clean);
    dray_buf_release(&out);
    dray_buf_release(&scratch);
}

static void test_copy_binary_values(void)
{
    /* want: the field's length word, then its value */
    static const struct {
        struct dray_field f;
        int32_t pgtype;
        const char *want;
    } cases[] = {
        {INT_F("-1", -1), DRAY_PGTYPE_INT8, "00000008 ffffffffffffffff"},
        {S("-9223372036854775808"), DRAY_PGTYPE_INT8,
         "00000008 8000000000000000"},
        {INT_F("2147483647", INT32_MAX), DRAY_PGTYPE_INT4, "00000004 7fffffff"},
        {INT_F("-2147483648", INT32_MIN), DRAY_PGTYPE_INT4,
         "00000004 80000000"},
        {BOOL_F(1), DRAY_PGTYPE_BOOL, "00000001 01"},
        {S("false"), DRAY_PGTYPE_BOOL, "00000001 00"},
        {F(DRAY_F_DOUBLE, "1.5"), DRAY_PGTYPE_FLOAT8,
         "00000008 3ff8000000000000"},
        {F(DRAY_F_DOUBLE, "-0.0"), DRAY_PGTYPE_FLOAT8,
         "00000008 8000000000000000"},
        {F(DRAY_F_DOUBLE, "4.9e-324"), DRAY_PGTYPE_FLOAT8,
         "00000008 0000000000000001"},
        /* numeric: ndigits, weight, sign, dscale, base-10000 digits */
        {DEC("0"), DRAY_PGTYPE_NUMERIC, "00000008 0000 0000 0000 0000"},
        {DEC("-0.0"), DRAY_PGTYPE_NUMERIC, "00000008 0000 0000 0000 0001"},
        {DEC("1e-5"), DRAY_PGTYPE_NUMERIC, "0000000a 0001 fffe 0000 0005 03e8"},
        {DEC("1.5e3"), DRAY_PGTYPE_NUMERIC,
         "0000000a 0001 0000 0000 0000 05dc"},
        {DEC("-12345.678"), DRAY_PGTYPE_NUMERIC,
         "0000000e 0003 0001 4000 0003 0001 0929 1a7c"},
        {DEC("10000"), DRAY_PGTYPE_NUMERIC,
         "0000000a 0001 0001 0000 0000 0001"},
        {DEC("0.0001"), DRAY_PGTYPE_NUMERIC,
         "0000000a 0001 ffff 0000 0004 0001"},
        {DEC("00120.50"), DRAY_PGTYPE_NUMERIC,
         "0000000c 0002 0000 0000 0002 0078 1388"},
        {DEC("1e131071"), DRAY_PGTYPE_NUMERIC,
         "0000000a 0001 7fff 0000 0000 03e8"},
        {DEC("1e-16383"), DRAY_PGTYPE_NUMERIC,
         "0000000a 0001 f000 0000 3fff 000a"},
        {DEC("0e999999999999"), DRAY_PGTYPE_NUMERIC,
         "00000008 0000 0000 0000 0000"},
        /* timestamptz: microseconds since 2000-01-01 */
        {TS_F("1970-01-01T00:00:00Z", 0), DRAY_PGTYPE_TIMESTAMPTZ,
         "00000008 fffca2fec4c82000"},
        {TS_F("2000-01-01T00:00:00Z", INT64_C(946684800000000)),
         DRAY_PGTYPE_TIMESTAMPTZ, "00000008 0000000000000000"},
        {TS_F("4714-11-24T00:00:00Z BC", INT64_C(-210866803200000000)),
         DRAY_PGTYPE_TIMESTAMPTZ, "00000008 fd0f7cc1411fa000"},
        {S("t\xc3\xa9"), DRAY_PGTYPE_TEXT, "00000003 74c3a9"},
        {S(""), DRAY_PGTYPE_TEXT, "00000000"},
        {F(DRAY_F_JSON, "[1]"), DRAY_PGTYPE_JSONB, "00000004 01 5b315d"},
        /* an escaped backslash before "u0000" is no NUL */
        {F(DRAY_F_JSON, "\"\\\\u0000\""), DRAY_PGTYPE_JSONB,
         "0000000a 01 225c5c7530303030 22"},
        {NUL_F, DRAY_PGTYPE_INT4, "ffffffff"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_field_hex(cases[i].f, cases[i].pgtype, cases[i].want);
}

static void test_copy_binary_rejects(void)
{
    static const struct {
        struct dray_field f;
        int32_t pgtype;
    } bad[] = {
        {INT_F("2147483648", INT64_C(2147483648)), DRAY_PGTYPE_INT4},
        {INT_F("-2147483649", INT64_C(-2147483649)), DRAY_PGTYPE_INT4},
        {S("9223372036854775808"), DRAY_PGTYPE_INT8},
        {S("-9223372036854775809"), DRAY_PGTYPE_INT8},
        {S("12a"), DRAY_PGTYPE_INT8},
        {S("-"), DRAY_PGTYPE_INT8},
        {S("yes"), DRAY_PGTYPE_BOOL},
        {F(DRAY_F_DOUBLE, "1e400"), DRAY_PGTYPE_FLOAT8},
        {F(DRAY_F_DOUBLE, "-1e400"), DRAY_PGTYPE_FLOAT8},
        {F(DRAY_F_DOUBLE, "1e-400"), DRAY_PGTYPE_FLOAT8},
        {F(DRAY_F_DOUBLE, "inf"), DRAY_PGTYPE_FLOAT8},
        {F(DRAY_F_DOUBLE, "0x10"), DRAY_PGTYPE_FLOAT8},
        {DEC("1e131072"), DRAY_PGTYPE_NUMERIC},
        {DEC("-99999e131068"), DRAY_PGTYPE_NUMERIC},
        {DEC("1e-16384"), DRAY_PGTYPE_NUMERIC},
        {DEC("1.0e-16383"), DRAY_PGTYPE_NUMERIC},
        {DEC("NaN"), DRAY_PGTYPE_NUMERIC},
        {DEC(""), DRAY_PGTYPE_NUMERIC},
        {DEC("."), DRAY_PGTYPE_NUMERIC},
        {DEC("1e"), DRAY_PGTYPE_NUMERIC},
        {DEC("1.2.3"), DRAY_PGTYPE_NUMERIC},
        {DEC(" 1"), DRAY_PGTYPE_NUMERIC},
        {TS_F("too early", INT64_C(-210866803200000001)),
         DRAY_PGTYPE_TIMESTAMPTZ},
        {TS_F("far too early", INT64_MIN), DRAY_PGTYPE_TIMESTAMPTZ},
        {S("2024-01-01T00:00:00Z"), DRAY_PGTYPE_TIMESTAMPTZ},
        {S("a\0b"), DRAY_PGTYPE_TEXT},
        {F(DRAY_F_JSON, "\"a\\u0000\""), DRAY_PGTYPE_JSONB},
        {S("x"), 99},
    };
    /* A good field before a bad one: the row goes out whole or not at all. */
    struct dray_field row[2] = {S("fine"), NUL_F};
    int32_t types[2] = {DRAY_PGTYPE_TEXT, 0};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dray_buf out = DRAY_BUF_INIT;
        struct dray_sink s;

        dray_sink_to_buf(&s, &out);
        row[1] = bad[i].f;
        types[1] = bad[i].pgtype;
        if (dray_copy_binary_write_row(&s, row, types, 2, NULL) != -1 ||
            out.len != 0)
            UNIT_FAIL_AT("case %zu (%.*s) was not refused", i,
                         (int)bad[i].f.len, bad[i].f.text);
        dray_buf_release(&out);
    }
}

static void test_copy_binary_stream(void)
{
    static const unsigned char header[19] = {'P',  'G',  'C',  'O',  'P', 'Y',
                                             '\n', 0xff, '\r', '\n', 0};
    static const unsigned char row_bytes[] = {0, 2, 0, 0,    0,    4,    0,
                                              0, 0, 7, 0xff, 0xff, 0xff, 0xff};
    struct dray_field f[2] = {INT_F("7", 7), NUL_F};
    int32_t types[2] = {DRAY_PGTYPE_INT4, DRAY_PGTYPE_TEXT};
    struct dray_field *many;
    int32_t *many_types;
    struct dray_buf scratch = DRAY_BUF_INIT;
    struct dray_buf out = DRAY_BUF_INIT;
    struct dray_sink s;

    dray_sink_to_buf(&s, &out);
    CHECK_INT(dray_copy_binary_write_header(&s), 0);
    CHECK_INT(dray_copy_binary_write_row(&s, f, types, 2, &scratch), 0);
    CHECK_INT(dray_copy_binary_write_trailer(&s), 0);
    CHECK_INT(out.len, 19 + sizeof(row_bytes) + 2);
    CHECK(memcmp(out.data, header, 19) == 0);
    CHECK(memcmp(out.data + 19, row_bytes, sizeof(row_bytes)) == 0);
    CHECK(memcmp(out.data + 19 + sizeof(row_bytes), "\xff\xff", 2) == 0);
    /* A row's field count is an int16. */
    many = calloc(32768, sizeof(*many));
    many_types = calloc(32768, sizeof(*many_types));
    CHECK(many != NULL && many_types != NULL);
    if (many && many_types) {
        CHECK_INT(
            dray_copy_binary_write_row(&s, many, many_types, 32767, &scratch),
            0);
        CHECK_INT(
            dray_copy_binary_write_row(&s, many, many_types, 32768, &scratch),
            -1);
    }
    free(many);
    free(many_types);
    dray_buf_release(&scratch);
    dray_buf_release(&out);
}

UNIT_MAIN(UNIT_CASE(test_copy_binary_values),
          UNIT_CASE(test_copy_binary_rejects),
          UNIT_CASE(test_copy_binary_stream))

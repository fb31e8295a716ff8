/*
 * Destination identifiers (dray_ident.h): canonical names per dialect from
 * reference §6.3 and §11 cases 18-20, truncation with the FNV-1a hash and
 * the limits, argument checks and dialect names. Join, quoting and the
 * collision set: test_ident_set.c. Rules: docs/IDENTIFIERS.md.
 */
#include "dray/dray_ident.h"

#include <stdio.h>
#include <string.h>

#include "ident_rows.h"
#include "unit.h"

/* dialect | source name | canonical name | flags */
static const char *const canon_rows[] = {
    /* PostgreSQL: case kept, [A-Za-z0-9_$ ], starts with a letter or _. */
    "pg|123customerid|customerid|C",
    "pg|_987CUSTOMERID|_987CUSTOMERID|-",
    "pg|CustomerId|CustomerId|-",
    "pg|customer id|customer id|-",
    "pg|customer#id|customerid|C",
    "pg|price$|price$|-",
    "pg|$price|price|C",
    "pg| 1_a|_a|C",
    "pg|caf\xc3\xa9|caf|C",
    "pg|caf\xe9|caf_|C",
    "pg|__sdc_primary_key|__sdc_primary_key|-",
    "pg|123||CE",
    "pg|!!!||CE",
    "pg|||E",
    "pg|" PG60 "|" PG60 "|-",
    "pg|" PG60 "_v2|" PG60 "_v2|-",
    "pg|" PG60 "_v22|"
    "Customer_Lifetime_Value_Adjusted_For_Seasonal_Returns__0fcf6e19|CT",

    /* Redshift: lower case, [a-z0-9_$], spaces to _, starts with a letter
       unless a system name. */
    "rs|CuStOmErId|customerid|C",
    "rs|customer#id|customerid|C",
    "rs|4customerid|customerid|C",
    "rs|_customerid|customerid|C",
    "rs|customerid|customerid|-",
    "rs|customer id|customer_id|C",
    "rs|price$usd|price$usd|-",
    "rs|$4_x|x|C",
    "rs|_sdc_batched_at|_sdc_batched_at|-",
    "rs|__sdc_primary_key|__sdc_primary_key|-",
    "rs|_SDC_Sequence|_sdc_sequence|C",
    "rs|___sdc_x|sdc_x|C",
    "rs|\xce\xb1\xce\xb2||CE",
    "rs|123||CE",

    /* Snowflake: upper case, spaces to _, other non-word characters
       removed, starts with a letter (a leading _ too) unless system. */
    "sf|_customer!id|CUSTOMERID|C",
    "sf|customer id|CUSTOMER_ID|C",
    "sf|_customerid|CUSTOMERID|C",
    "sf|CUSTOMERID|CUSTOMERID|-",
    "sf|price$|PRICE|C",
    "sf|4x|X|C",
    "sf| id|ID|C",
    "sf|\xc3\xa9mile|MILE|C",
    "sf|_sdc_batched_at|_SDC_BATCHED_AT|C",
    "sf|__sdc_primary_key|__SDC_PRIMARY_KEY|C",
    "sf|___||CE",

    /* BigQuery: lower case, every other character to _, leading digits to
       _, reserved prefixes get one more _. */
    "bq|customer!id|customer_id|C",
    "bq|!CUSTOMERID|_customerid|C",
    "bq|4customerid|_customerid|C",
    "bq|123abc|___abc|C",
    "bq|_customerid|_customerid|-",
    "bq|customer id|customer_id|C",
    "bq|\xc3\xa9mile|_mile|C",
    "bq|a\xe9z|a_z|C",
    "bq|_table_x|__table_x|C",
    "bq|_TABLE_suffix|__table_suffix|C",
    "bq|_file_name|__file_name|C",
    "bq|_partitiontime|__partitiontime|C",
    "bq|_partition_id|__partition_id|C",
    "bq|_row_timestamp|__row_timestamp|C",
    "bq|!table_x|__table_x|C",
    "bq|table_x|table_x|-",
    "bq|__table_x|__table_x|-",
    "bq|_sdc_batched_at|_sdc_batched_at|-",

    /* Files: kept, but for / and NUL (test_nul) and the names . and .. */
    "fl|Orders/2024|Orders_2024|C",
    "fl|Gr\xc3\xb6\xc3\x9f"
    "e \xc3\xbc"
    "ber!|Gr\xc3\xb6\xc3\x9f"
    "e \xc3\xbc"
    "ber!|-",
    "fl|.|_|C",
    "fl|..|__|C",
    "fl|...|...|-",
    "fl|caf\xe9|caf_|C",
    "fl|\xed\xa0\x80|___|C", /* a surrogate is invalid */
    "fl|\xc0\xaf|__|C",      /* so is an overlong '/' */
    "fl|||E",
};

/* Also: a canonical name is its own canonical form. */
static void canon_row(const struct row *r, struct dray_buf *out)
{
    struct dray_buf again = DRAY_BUF_INIT;
    int rc = dray_ident_canon(row_dialect(r), r->f[1], r->len[1], out);

    check_row(r, 2, rc, out->data);
    rc = dray_ident_canon(row_dialect(r), out->data, out->len, &again);
    if (rc < 0 || (rc & (C | T)) != 0 || strcmp(again.data, out->data) != 0)
        UNIT_FAIL_AT("row \"%s\": again \"%s\" flags %d", r->text, again.data,
                     rc);
    dray_buf_release(&again);
}

static void test_canon_table(void)
{
    EACH_ROW(canon_rows, 4, canon_row);
}

/* A NUL inside a source name (rows cannot hold one). */
static void test_nul(void)
{
    struct dray_buf out = DRAY_BUF_INIT;

    CHECK_INT(dray_ident_canon(PG, "a\0b", 3, &out), C);
    CHECK_STR(out.data, "ab");
    CHECK_INT(dray_ident_canon(BQ, "a\0b", 3, &out), C);
    CHECK_STR(out.data, "a_b");
    CHECK_INT(dray_ident_canon(FL, "a\0b", 3, &out), C);
    CHECK_INT(out.len, 3);
    CHECK_STR(out.data, "a_b");
    dray_buf_release(&out);
}

/* The hash, written out plainly and apart from the library: FNV-1a over
   32 bits, offset basis 2166136261, prime 16777619. */
static void fnv_hex(const char *s, size_t n, int upper, char hex[9])
{
    unsigned long long h = 2166136261ull;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h = (h * 16777619ull) % 4294967296ull;
    }
    snprintf(hex, 9, upper ? "%08llX" : "%08llx", h);
}

static void test_hash_check_values(void)
{
    char hex[9];

    /* The published FNV-1a 32 test vectors. */
    fnv_hex("", 0, 0, hex);
    CHECK_STR(hex, "811c9dc5");
    fnv_hex("a", 1, 0, hex);
    CHECK_STR(hex, "e40c292c");
    fnv_hex("foobar", 6, 0, hex);
    CHECK_STR(hex, "bf9cf968");
    /* The truncated PostgreSQL name of the table above. */
    fnv_hex(PG60 "_v22", 64, 0, hex);
    CHECK_STR(hex, "0fcf6e19");
}

/* Checks that s is well-formed UTF-8 (RFC 3629), written apart from the
   library's decoder. */
static int utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, k, len;
    unsigned long cp;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((s[i] & 0xE0) == 0xC0)
            len = 2, cp = s[i] & 0x1F;
        else if ((s[i] & 0xF0) == 0xE0)
            len = 3, cp = s[i] & 0x0F;
        else if ((s[i] & 0xF8) == 0xF0)
            len = 4, cp = s[i] & 0x07;
        else
            return 0;
        if (i + len > n)
            return 0;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* Over-long names: input head + unit x repeat; the canonical full name is
   canon_head + canon_unit x repeat, cut to keep bytes + "_" + hex. */
struct long_case {
    int dialect;
    const char *head, *unit;
    size_t repeat;
    const char *canon_head, *canon_unit;
    size_t keep;
    const char *hex; /* worked out by hand from docs/IDENTIFIERS.md */
};

// clang-format off
static const struct long_case long_cases[] = {
    /* 130 bytes, limit 127: 118 kept. */
    {RS, "", "AbCdEfGhIj", 13, "", "abcdefghij", 118, "476cca0a"},
    /* 264 characters, limit 255: 246 kept, upper-case hex. */
    {SF, "", "column_name_", 22, "", "COLUMN_NAME_", 246, "980A0CD5"},
    /* 301 characters, limit 300: 291 kept. */
    {BQ, "", "x", 301, "", "x", 291, "43ec05f7"},
    /* 400 two-byte characters become 400 '_': characters count. */
    {BQ, "", "\xc3\xa9", 400, "", "_", 291, "320250f5"},
    /* Files, 1024 bytes: multibyte characters are never split. */
    {FL, "", "\xc3\xa9", 600, "", "\xc3\xa9", 1014, "0e680b65"},
    {FL, "", "\xe2\x82\xac", 400, "", "\xe2\x82\xac", 1014, "cb1040c5"},
    {FL, "", "\xf0\x9f\x98\x80", 300, "", "\xf0\x9f\x98\x80", 1012, "5eae22a5"},
    {FL, "ab", "\xc3\xa9", 600, "ab", "\xc3\xa9", 1014, "ee3509ea"},
};
// clang-format on

static int repeat_into(struct dray_buf *b, const char *head, const char *unit,
                       size_t repeat)
{
    size_t i;

    dray_buf_reset(b);
    if (dray_buf_add(b, head, strlen(head)) != 0)
        return -2;
    for (i = 0; i < repeat; i++)
        if (dray_buf_add(b, unit, strlen(unit)) != 0)
            return -2;
    return 0;
}

static void test_truncation_hash(void)
{
    struct dray_buf in = DRAY_BUF_INIT, full = DRAY_BUF_INIT;
    struct dray_buf out = DRAY_BUF_INIT, want = DRAY_BUF_INIT;
    char hex[9];
    size_t i;
    int rc, in_bytes;

    for (i = 0; i < sizeof long_cases / sizeof *long_cases; i++) {
        const struct long_case *tc = &long_cases[i];
        size_t limit = dray_ident_limit(tc->dialect, &in_bytes);

        CHECK_INT(repeat_into(&in, tc->head, tc->unit, tc->repeat), 0);
        CHECK_INT(
            repeat_into(&full, tc->canon_head, tc->canon_unit, tc->repeat), 0);
        /* The hard-coded hash agrees with the plain implementation. */
        fnv_hex(full.data, full.len, tc->dialect == SF, hex);
        CHECK_STR(hex, tc->hex);

        dray_buf_reset(&want);
        CHECK_INT(dray_buf_add(&want, full.data, tc->keep), 0);
        CHECK_INT(dray_buf_addc(&want, '_'), 0);
        CHECK_INT(dray_buf_add(&want, tc->hex, 8), 0);

        rc = dray_ident_canon(tc->dialect, in.data, in.len, &out);
        CHECK_INT(rc, C | T);
        CHECK_STR(out.data, want.data);
        CHECK(utf8_valid(out.data, out.len));
        CHECK(in_bytes ? out.len <= limit : out.len <= limit * 4);
    }
    dray_buf_release(&in);
    dray_buf_release(&full);
    dray_buf_release(&out);
    dray_buf_release(&want);
}

/* Every dialect: a name at the limit stays, one more truncates to exactly
   the limit; multibyte names at the byte limit stay whole. */
static void test_limits(void)
{
    static const int all[] = {PG, RS, SF, BQ, FL};
    struct dray_buf in = DRAY_BUF_INIT, out = DRAY_BUF_INIT;
    char hex[9], unit[2] = "x";
    size_t i, limit;
    int in_bytes;

    for (i = 0; i < sizeof all / sizeof *all; i++) {
        limit = dray_ident_limit(all[i], &in_bytes);
        unit[0] = all[i] == SF ? 'X' : 'x';
        CHECK_INT(repeat_into(&in, "", unit, limit), 0);
        CHECK_INT(dray_ident_canon(all[i], in.data, in.len, &out), 0);
        CHECK_INT(out.len, limit);
        CHECK_INT(repeat_into(&in, "", unit, limit + 1), 0);
        CHECK_INT(dray_ident_canon(all[i], in.data, in.len, &out), C | T);
        CHECK_INT(out.len, limit);
        fnv_hex(in.data, in.len, all[i] == SF, hex);
        CHECK_CONTAINS(out.data + limit - 9, hex);
        CHECK(out.data[limit - 9] == '_');
    }
    CHECK_INT(dray_ident_limit(PG, &in_bytes), 63);
    CHECK_INT(in_bytes, 1);
    CHECK_INT(dray_ident_limit(RS, &in_bytes), 127);
    CHECK_INT(in_bytes, 1);
    CHECK_INT(dray_ident_limit(SF, &in_bytes), 255);
    CHECK_INT(in_bytes, 0);
    CHECK_INT(dray_ident_limit(BQ, &in_bytes), 300);
    CHECK_INT(in_bytes, 0);
    CHECK_INT(dray_ident_limit(FL, &in_bytes), 1024);
    CHECK_INT(in_bytes, 1);
    CHECK_INT(dray_ident_limit(99, NULL), 0);

    /* 512 two-byte characters are exactly 1024 bytes. */
    CHECK_INT(repeat_into(&in, "", "\xc3\xa9", 512), 0);
    CHECK_INT(dray_ident_canon(FL, in.data, in.len, &out), 0);
    CHECK_INT(out.len, 1024);
    dray_buf_release(&in);
    dray_buf_release(&out);
}

static void test_canon_in_place(void)
{
    struct dray_buf out = DRAY_BUF_INIT;

    CHECK_INT(dray_buf_add(&out, "_customer!id", 12), 0);
    CHECK_INT(dray_ident_canon(SF, out.data, out.len, &out), C);
    CHECK_STR(out.data, "CUSTOMERID");
    CHECK_INT(dray_ident_canon(BQ, out.data + 3, 4, &out), C);
    CHECK_STR(out.data, "tome");
    dray_buf_release(&out);
}

static void test_bad_arguments(void)
{
    struct dray_buf out = DRAY_BUF_INIT;

    CHECK_INT(dray_ident_canon(-1, "x", 1, &out), -1);
    CHECK_INT(dray_ident_canon(5, "x", 1, &out), -1);
    CHECK_INT(dray_ident_canon(PG, NULL, 1, &out), -1);
    CHECK_INT(dray_ident_canon(PG, NULL, 0, &out), E);
    CHECK_STR(out.data, "");
    CHECK_INT(dray_ident_join(7, "a", "b", 1, &out), -1);
    CHECK_INT(dray_ident_join(PG, "a", NULL, 1, &out), -1);
    CHECK_INT(dray_ident_quote(7, "a", &out), -1);
    CHECK_INT(dray_ident_quote(PG, NULL, &out), -1);
    CHECK_STR(out.data, "");
    dray_buf_release(&out);
}

static void test_dialect_from_name(void)
{
    CHECK_INT(dray_ident_dialect_from_name("postgres"), PG);
    CHECK_INT(dray_ident_dialect_from_name("redshift"), RS);
    CHECK_INT(dray_ident_dialect_from_name("snowflake"), SF);
    CHECK_INT(dray_ident_dialect_from_name("bigquery"), BQ);
    CHECK_INT(dray_ident_dialect_from_name("files"), FL);
    CHECK_INT(dray_ident_dialect_from_name("s3"), FL);
    CHECK_INT(dray_ident_dialect_from_name("mysql"), -1);
    CHECK_INT(dray_ident_dialect_from_name(""), -1);
    CHECK_INT(dray_ident_dialect_from_name(NULL), -1);
}

UNIT_MAIN(UNIT_CASE(test_canon_table), UNIT_CASE(test_nul),
          UNIT_CASE(test_hash_check_values), UNIT_CASE(test_truncation_hash),
          UNIT_CASE(test_limits), UNIT_CASE(test_canon_in_place),
          UNIT_CASE(test_bad_arguments), UNIT_CASE(test_dialect_from_name))

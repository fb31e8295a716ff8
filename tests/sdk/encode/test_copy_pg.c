/*
 * COPY into a real PostgreSQL: rows go through dray_copy_binary_* and,
 * separately, dray_copy_text_write_row (and CSV through COPY ... csv), and
 * come back through SELECT ... ::text compared with values written by
 * hand. Argument: the env file of tests/fixtures/postgres.sh; exits 77
 * (skipped) when that server is not there.
 */
#include "dray/dray_encode.h"
#include "encode_fields.h"
#include "unit.h"

#include <libpq-fe.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static PGconn *conn;

/* ---- connection and sinks ----------------------------------------------- */

/* Loads the fixture's KEY=VALUE lines into the environment for libpq. */
static int load_env(const char *path)
{
    char line[512];
    FILE *f = fopen(path, "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *eq = strchr(line, '=');

        line[strcspn(line, "\r\n")] = '\0';
        if (eq != NULL) {
            *eq = '\0';
            setenv(line, eq + 1, 1);
        }
    }
    fclose(f);
    return 0;
}

static void exec_ok(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        UNIT_FAIL_AT("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
}

static int pq_write(void *ctx, const void *data, size_t len)
{
    const char *p = data;

    (void)ctx;
    while (len > 0) {
        int part = len > INT_MAX ? INT_MAX : (int)len;

        if (PQputCopyData(conn, p, part) != 1)
            return -5;
        p += part;
        len -= (size_t)part;
    }
    return 0;
}

/* Ends the COPY; returns the rows it loaded, or -1 (reported) on error. */
static long copy_end(const char *what)
{
    PGresult *res;
    long rows = -1;

    if (PQputCopyEnd(conn, NULL) != 1) {
        UNIT_FAIL_AT("%s: end: %s", what, PQerrorMessage(conn));
        return -1;
    }
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) == PGRES_COMMAND_OK)
            rows = atol(PQcmdTuples(res));
        else
            UNIT_FAIL_AT("%s: %s", what, PQresultErrorMessage(res));
        PQclear(res);
    }
    return rows;
}

static int copy_begin(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COPY_IN;

    if (!ok)
        UNIT_FAIL_AT("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    return ok;
}

/* ---- the rows ----------------------------------------------------------- */

#define NCOL 9 /* id and one column of each pgtype */

static const int32_t pgtypes[NCOL] = {
    DRAY_PGTYPE_INT4,        DRAY_PGTYPE_INT8,   DRAY_PGTYPE_INT4,
    DRAY_PGTYPE_BOOL,        DRAY_PGTYPE_FLOAT8, DRAY_PGTYPE_NUMERIC,
    DRAY_PGTYPE_TIMESTAMPTZ, DRAY_PGTYPE_TEXT,   DRAY_PGTYPE_JSONB};

#define TABLE_COLUMNS                                                          \
    "(id int4 primary key, i8 int8, i4 int4, b bool, f8 float8, n numeric, "   \
    "ts timestamptz, tx text, j jsonb)"

static const char select_text[] =
    "SELECT id::text, i8::text, i4::text, b::text, f8::text, n::text, "
    "ts::text, tx, j::text FROM %s t ORDER BY t.id";

/* Which stream refuses the row (-1 from the encoder). */
enum { BOTH_LOAD = 0, BINARY_REFUSES = 1, TEXT_REFUSES = 2 };

struct pg_row {
    struct dray_field f[NCOL];
    const char *want[NCOL]; /* NULL: SQL NULL */
    int refused;
};

static struct pg_row rows[] = {
    {{INT_F("1", 1), INT_F("9223372036854775807", INT64_MAX),
      INT_F("2147483647", INT32_MAX), BOOL_F(1), F(DRAY_F_DOUBLE, "1.5"),
      F(DRAY_F_DECIMAL, "0"), TS_F("1970-01-01T00:00:00Z", 0),
      F(DRAY_F_STRING, "tab\there"), F(DRAY_F_JSON, "{\"a\":1}")},
     {"1", "9223372036854775807", "2147483647", "true", "1.5", "0",
      "1970-01-01 00:00:00+00", "tab\there", "{\"a\": 1}"},
     BOTH_LOAD},
    {{INT_F("2", 2), INT_F("-9223372036854775808", INT64_MIN),
      INT_F("-2147483648", INT32_MIN), BOOL_F(0), F(DRAY_F_DOUBLE, "-0.0"),
      F(DRAY_F_DECIMAL, "-0.0"),
      TS_F("2000-01-01T00:00:00Z", INT64_C(946684800000000)),
      F(DRAY_F_STRING, "line\nbreak\r\nend"), F(DRAY_F_JSON, "[1,\"x\",null]")},
     {"2", "-9223372036854775808", "-2147483648", "false", "-0", "0.0",
      "2000-01-01 00:00:00+00", "line\nbreak\r\nend", "[1, \"x\", null]"},
     BOTH_LOAD},
    {{INT_F("3", 3), INT_F("0", 0), INT_F("0", 0), NUL_F,
      F(DRAY_F_DOUBLE, "1e-5"), F(DRAY_F_DECIMAL, "1e-5"),
      TS_F("0001-01-01T00:00:00Z", INT64_C(-62135596800000000)),
      F(DRAY_F_STRING, "back\\slash \\N \\. \\t"),
      F(DRAY_F_JSON, "\"\\u00e9\\n\"")},
     {"3", "0", "0", NULL, "1e-05", "0.00001", "0001-01-01 00:00:00+00",
      "back\\slash \\N \\. \\t", "\"\xc3\xa9\\n\""},
     BOTH_LOAD},
    {{INT_F("4", 4), NUL_F, NUL_F, NUL_F,
      F(DRAY_F_DOUBLE, "1.7976931348623157e308"),
      F(DRAY_F_DECIMAL, "123456789012345678901234567890.123456789"),
      TS_F("9999-12-31T23:59:59.999999Z", INT64_C(253402300799999999)),
      F(DRAY_F_STRING, " h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 "),
      F(DRAY_F_JSON, "{}")},
     {"4", NULL, NULL, NULL, "1.7976931348623157e+308",
      "123456789012345678901234567890.123456789",
      "9999-12-31 23:59:59.999999+00",
      " h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 ", "{}"},
     BOTH_LOAD},
    {{INT_F("5", 5), NUL_F, NUL_F, NUL_F, NUL_F, F(DRAY_F_DECIMAL, "1.5e3"),
      NUL_F, F(DRAY_F_STRING, ""), NUL_F},
     {"5", NULL, NULL, NULL, NULL, "1500", NULL, "", NULL},
     BOTH_LOAD},
    {{INT_F("6", 6), NUL_F, NUL_F, NUL_F, NUL_F, NUL_F, NUL_F, NUL_F, NUL_F},
     {"6", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
     BOTH_LOAD},
    /* numeric at its limits; the digits are filled in by main() */
    {{INT_F("7", 7), NUL_F, NUL_F, NUL_F, NUL_F, F(DRAY_F_DECIMAL, "1e131071"),
      NUL_F, NUL_F, NUL_F},
     {"7", NULL, NULL, NULL, NULL, "(131072 digits)", NULL, NULL, NULL},
     BOTH_LOAD},
    {{INT_F("8", 8), NUL_F, NUL_F, NUL_F, NUL_F, F(DRAY_F_DECIMAL, "-1e-16383"),
      NUL_F, NUL_F, NUL_F},
     {"8", NULL, NULL, NULL, NULL, "(16383 decimals)", NULL, NULL, NULL},
     BOTH_LOAD},
    {{INT_F("9", 9), NUL_F, NUL_F, NUL_F, NUL_F, F(DRAY_F_DECIMAL, "(long)"),
      NUL_F, NUL_F, NUL_F},
     {"9", NULL, NULL, NULL, NULL, "(long)", NULL, NULL, NULL},
     BOTH_LOAD},
    /* one bad value each: the encoder refuses the row, the rest loads */
    {{INT_F("10", 10), NUL_F, INT_F("2147483648", INT64_C(2147483648))},
     {NULL},
     BINARY_REFUSES},
    {{INT_F("11", 11), NUL_F, NUL_F, NUL_F, NUL_F, NUL_F, NUL_F,
      F(DRAY_F_STRING, "nul\0byte")},
     {NULL},
     BINARY_REFUSES | TEXT_REFUSES},
    /* before 4714-11-24 BC (text COPY would fail the whole stream) */
    {{INT_F("12", 12), NUL_F, NUL_F, NUL_F, NUL_F, NUL_F,
      TS_F("-4714-11-23T00:00:00Z", INT64_C(-210866803200000001))},
     {NULL},
     BINARY_REFUSES},
    /* the first instant PostgreSQL takes, in its own spelling as text */
    {{INT_F("13", 13), INT_F("13", 13), NUL_F, NUL_F, NUL_F, NUL_F,
      TS_F("4714-11-24T00:00:00Z BC", INT64_C(-210866803200000000))},
     {"13", "13", NULL, NULL, NULL, NULL, "4714-11-24 00:00:00+00 BC", NULL,
      NULL},
     BOTH_LOAD},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static char *repeat_digits(const char *head, const char *unit, size_t times,
                           const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * times + tl + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, head, hl);
    for (size_t i = 0; i < times; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * times, tail, tl + 1);
    return s;
}

/* ---- the checks --------------------------------------------------------- */

static void check_table(const char *table, int refused_by)
{
    char sql[256];
    PGresult *res;
    int r = 0;

    snprintf(sql, sizeof(sql), select_text, table);
    res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        UNIT_FAIL_AT("%s: %s", sql, PQerrorMessage(conn));
        PQclear(res);
        return;
    }
    for (size_t i = 0; i < NROWS; i++) {
        if (rows[i].refused & refused_by)
            continue;
        if (r >= PQntuples(res)) {
            UNIT_FAIL_AT("%s: row %zu missing", table, i + 1);
            break;
        }
        for (int c = 0; c < NCOL; c++) {
            const char *want = rows[i].want[c];
            const char *got =
                PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);

            if ((want == NULL) != (got == NULL) ||
                (want && strcmp(want, got) != 0))
                UNIT_FAIL_AT("%s row %zu column %s:\n  got:      %.200s\n"
                             "  expected: %.200s",
                             table, i + 1, PQfname(res, c), got ? got : "NULL",
                             want ? want : "NULL");
        }
        r++;
    }
    CHECK_INT(PQntuples(res), r);
    PQclear(res);
}

static void test_copy_binary(void)
{
    struct dray_sink pq = {pq_write, NULL, NULL}, out;
    struct dray_bufsink bs;
    struct dray_buf scratch = DRAY_BUF_INIT;
    long loaded = 0;

    exec_ok("DROP TABLE IF EXISTS t_bin");
    exec_ok("CREATE TABLE t_bin " TABLE_COLUMNS);
    if (!copy_begin("COPY t_bin FROM STDIN WITH (FORMAT binary)"))
        return;
    /* Through a bufsink, as a plugin would write it. */
    dray_bufsink_init(&bs, pq, 65536, &out);
    CHECK_INT(dray_copy_binary_write_header(&out), 0);
    for (size_t i = 0; i < NROWS; i++) {
        int want = rows[i].refused & BINARY_REFUSES ? -1 : 0;

        CHECK_INT(dray_copy_binary_write_row(&out, rows[i].f, pgtypes, NCOL,
                                             &scratch),
                  want);
        loaded += want == 0;
    }
    CHECK_INT(dray_copy_binary_write_trailer(&out), 0);
    CHECK_INT(out.close(out.ctx), 0);
    CHECK_INT(copy_end("binary COPY"), loaded);
    check_table("t_bin", BINARY_REFUSES);
    dray_bufsink_release(&bs);
    dray_buf_release(&scratch);
}

static void test_copy_text(void)
{
    struct dray_sink pq = {pq_write, NULL, NULL};
    long loaded = 0;

    exec_ok("DROP TABLE IF EXISTS t_txt");
    exec_ok("CREATE TABLE t_txt " TABLE_COLUMNS);
    if (!copy_begin("COPY t_txt FROM STDIN"))
        return;
    for (size_t i = 0; i < NROWS; i++) {
        /* Text COPY has no types: only NUL makes the encoder refuse. Rows
           only the binary encoder refuses are left out here. */
        int want = rows[i].refused & TEXT_REFUSES ? -1 : 0;

        if ((rows[i].refused & BINARY_REFUSES) && want == 0)
            continue;
        CHECK_INT(dray_copy_text_write_row(&pq, rows[i].f, NCOL), want);
        loaded += want == 0;
    }
    CHECK_INT(copy_end("text COPY"), loaded);
    check_table("t_txt", BINARY_REFUSES | TEXT_REFUSES);
}

/* CSV read by PostgreSQL's own CSV parser: unquoted empty is NULL there,
   "" an empty string, so NULL and empty must come back apart. */
static void test_csv_into_postgres(void)
{
    static const struct {
        struct dray_csv_opts opts;
        const char *options;
    } variants[] = {
        {{',', 0, 0}, "FORMAT csv"},
        {{',', 1, 1}, "FORMAT csv"},
        {{'|', 0, 0}, "FORMAT csv, DELIMITER '|'"},
        {{'\t', 1, 0}, "FORMAT csv, DELIMITER E'\\t'"},
    };
    static const struct dray_field values[][3] = {
        {INT_F("0", 0), F(DRAY_F_STRING, ""), NUL_F},
        {INT_F("1", 1), F(DRAY_F_STRING, "a,b|c\td"),
         F(DRAY_F_STRING, "say \"hi\"")},
        {INT_F("2", 2), F(DRAY_F_STRING, "\r\n x \n"), F(DRAY_F_STRING, "\\.")},
        {INT_F("3", 3), F(DRAY_F_STRING, "\xc3\xa9\xe2\x9c\x93"),
         F(DRAY_F_STRING, " ")},
    };
    static const char *const want[][2] = {
        {"", NULL},
        {"a,b|c\td", "say \"hi\""},
        {"\r\n x \n", "\\."},
        {"\xc3\xa9\xe2\x9c\x93", " "},
    };
    struct dray_sink pq = {pq_write, NULL, NULL};
    char sql[128];

    exec_ok("DROP TABLE IF EXISTS t_csv");
    exec_ok("CREATE TABLE t_csv (v int, i int, a text, b text)");
    for (int v = 0; v < 4; v++) {
        snprintf(sql, sizeof(sql), "COPY t_csv (i, a, b) FROM STDIN WITH (%s)",
                 variants[v].options);
        if (!copy_begin(sql))
            return;
        for (int i = 0; i < 4; i++)
            CHECK_INT(dray_csv_write_row(&pq, &variants[v].opts, values[i], 3),
                      0);
        CHECK_INT(copy_end(sql), 4);
        snprintf(sql, sizeof(sql), "UPDATE t_csv SET v = %d WHERE v IS NULL",
                 v);
        exec_ok(sql);
    }
    PGresult *res = PQexec(conn, "SELECT v, i, a, b FROM t_csv ORDER BY v, i");
    CHECK_INT(PQntuples(res), 16);
    for (int r = 0; r < PQntuples(res); r++) {
        int i = atoi(PQgetvalue(res, r, 1));

        for (int c = 0; c < 2 && i >= 0 && i < 4; c++) {
            const char *w = want[i][c];
            const char *got =
                PQgetisnull(res, r, 2 + c) ? NULL : PQgetvalue(res, r, 2 + c);

            if ((w == NULL) != (got == NULL) || (w && strcmp(w, got) != 0))
                UNIT_FAIL_AT("csv variant %s row %d column %d: got [%s]",
                             PQgetvalue(res, r, 0), i, c, got ? got : "NULL");
        }
    }
    PQclear(res);
}

static void test_numeric_limits_rejected(void)
{
    /* Just past the limits: refused before PostgreSQL would fail the
       whole COPY with "value overflows numeric format". */
    static const char *const too_big[] = {"1e131072", "1e-16384", "1.0e-16383"};
    int32_t t = DRAY_PGTYPE_NUMERIC;
    struct dray_sink pq = {pq_write, NULL, NULL};

    for (size_t i = 0; i < 3; i++) {
        struct dray_field f = {DRAY_F_DECIMAL, too_big[i], strlen(too_big[i]),
                               0};
        CHECK_INT(dray_copy_binary_write_row(&pq, &f, &t, 1, NULL), -1);
        PGresult *res;
        char sql[64];

        snprintf(sql, sizeof(sql), "SELECT '%s'::numeric", too_big[i]);
        res = PQexec(conn, sql);
        CHECK_INT(PQresultStatus(res), PGRES_FATAL_ERROR);
        CHECK_CONTAINS(PQresultErrorMessage(res), "overflows numeric");
        PQclear(res);
    }
}

int main(int argc, char **argv)
{
    static const struct unit_case cases[] = {
        UNIT_CASE(test_copy_binary), UNIT_CASE(test_copy_text),
        UNIT_CASE(test_csv_into_postgres),
        UNIT_CASE(test_numeric_limits_rejected)};
    char *big, *tiny, *longdec;
    int failed = 0;

    if (argc < 2 || load_env(argv[1]) != 0) {
        printf("skipped: no PostgreSQL fixture (%s)\n",
               argc < 2 ? "no env file given" : argv[1]);
        return 77;
    }
    conn = PQconnectdb("");
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    exec_ok("SET TimeZone = 'UTC'");
    exec_ok("SET client_encoding = 'UTF8'");
    exec_ok("SET client_min_messages = warning");

    /* The numerics too long to write out by hand. */
    big = repeat_digits("1", "0", 131071, "");
    tiny = repeat_digits("-0.", "0", 16382, "1");
    longdec = repeat_digits("-", "9876543210", 1000, ".0123456789");
    if (!big || !tiny || !longdec) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    rows[6].want[5] = big;
    rows[7].want[5] = tiny;
    rows[8].f[5].text = longdec;
    rows[8].f[5].len = strlen(longdec);
    rows[8].want[5] = longdec;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = unit__failed_checks;

        if (argc > 2 && strstr(cases[i].name, argv[2]) == NULL)
            continue;
        cases[i].fn();
        printf("%s %s\n", unit__failed_checks == before ? "ok" : "FAIL",
               cases[i].name);
        failed += unit__failed_checks != before;
    }
    printf("%d failed\n", failed);
    free(big);
    free(tiny);
    free(longdec);
    PQfinish(conn);
    return failed != 0;
}

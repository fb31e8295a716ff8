/* Unit tests of the type mapping (sdk/src/types*.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_rows.h"
#include "dray/dray_json.h"
#include "dray/dray_types.h"
#include "unit.h"

static const struct dray_type_dialect *dialect(const char *name)
{
    const struct dray_type_dialect *d = dray_types_dialect(name);

    if (d == NULL)
        UNIT_FAIL_AT("no type table \"%s\"", name);
    return d;
}

/* ---- the tables ---- */

struct dialect_case {
    const char *name, *display, *decimal_word;
    int rename_on_split, native_nesting;
    int64_t min_year, max_year;
    int precision, scale;
};

static const struct dialect_case dialect_cases[] = {
    {"postgres", "PostgreSQL", "decimal", 1, 0, -4712, 294276, 147455, 16383},
    {"redshift", "Redshift", "decimal", 1, 0, -4712, 294276, 38, 37},
    {"snowflake", "Snowflake", "decimal", 0, 1, 1, 9999, 38, 37},
    {"bigquery", "BigQuery", "Numeric", 0, 1, 1, 9999, 38, 9},
    {"files", "files", "decimal", 0, 0, INT64_MIN, INT64_MAX, 0, 0},
};

static void test_types_dialects(void)
{
    for (size_t i = 0; i < sizeof(dialect_cases) / sizeof(dialect_cases[0]);
         i++) {
        const struct dialect_case *c = &dialect_cases[i];
        const struct dray_type_dialect *d = dialect(c->name);
        if (d == NULL)
            continue;
        CHECK_STR(d->display, c->display);
        CHECK_STR(d->decimal_word, c->decimal_word);
        CHECK_INT(d->rename_on_split, c->rename_on_split);
        CHECK_INT(d->native_nesting, c->native_nesting);
        CHECK_INT(d->min_year, c->min_year);
        CHECK_INT(d->max_year, c->max_year);
        CHECK_INT(d->decimal_max_precision, c->precision);
        CHECK_INT(d->decimal_max_scale, c->scale);
    }
}

/* ---- the cases in types_cases.tsv ---- */

#define MAX_VALUES 32

struct types_run {
    struct dray_schema s; /* the classification schema */
    int parsed;
    char *values[MAX_VALUES];
    size_t n_values;
    struct dray_json_doc doc;
};

static int stype_named(const char *name)
{
    for (int st = 0; st < DRAY_ST_COUNT; st++)
        if (strcmp(dray_stype_name(st), name) == 0)
            return st;
    UNIT_FAIL_AT("no stype \"%s\"", name);
    return DRAY_ST_NONE;
}

static char stype_letter(int st)
{
    static const char letters[] = "NIBTDCSOA";

    return st >= 0 && st < DRAY_ST_COUNT ? letters[st] : '?';
}

static int32_t node_named(const struct dray_schema *s, const char *name)
{
    return strcmp(name, "-") == 0 ? -1
                                  : dray_schema_child(s, 0, name, strlen(name));
}

static void check_opt_str(int line, const char *got, const char *want)
{
    if ((got == NULL) != (want == NULL) ||
        (got != NULL && strcmp(got, want) != 0))
        UNIT_FAIL_AT("line %d: got %s, expected %s", line, got ? got : "NULL",
                     want ? want : "NULL");
}

/* map <dialect> <stype> <sql> <suffix> */
static void check_map(char **f, int line)
{
    const struct dray_type_dialect *d = dialect(f[1]);
    int st = stype_named(f[2]);

    if (d == NULL)
        return;
    check_opt_str(line, d->map[st].sql, data_opt(f[3]));
    check_opt_str(line, d->map[st].suffix, data_opt(f[4]));
}

/* Classifies every value under node (one letter each). */
static void check_classify(struct types_run *r, char **f, int line)
{
    int32_t node = node_named(&r->s, f[1]);
    char got[MAX_VALUES + 1];

    if (!r->parsed || (node < 0 && strcmp(f[1], "-") != 0)) {
        UNIT_FAIL_AT("line %d: no node %s", line, f[1]);
        return;
    }
    for (size_t v = 0; v < r->n_values; v++) {
        got[v] = '!';
        if (dray_json_parse(&r->doc, r->values[v], strlen(r->values[v]),
                            NULL) == 0)
            got[v] = stype_letter(
                dray_types_classify(&r->s, node, &r->doc, 0, atoi(f[2])));
    }
    got[r->n_values] = '\0';
    if (strcmp(got, f[3]) != 0)
        UNIT_FAIL_AT("line %d: node %s: got %s, expected %s", line, f[1], got,
                     f[3]);
}

static void check_declared(struct types_run *r, char **f, int line)
{
    int got = dray_types_declared(&r->s, node_named(&r->s, f[1]), atoi(f[2]));

    if (got != stype_named(f[3]))
        UNIT_FAIL_AT("line %d: declared %s is %s, expected %s", line, f[1],
                     dray_stype_name(got), f[3]);
}

/* range <dialect> <stype> <text> <reason; - fits> */
static void check_range(char **f, int line)
{
    const struct dray_type_dialect *d = dialect(f[1]);
    const char *want = data_opt(f[4]);
    char reason[200];
    int rc;

    if (d == NULL)
        return;
    memset(reason, 'x', sizeof(reason));
    rc = dray_types_check_range(d, stype_named(f[2]), f[3], strlen(f[3]),
                                reason, sizeof(reason));
    if (want == NULL && (rc != 0 || reason[0] != '\0'))
        UNIT_FAIL_AT("line %d: [%s] rejected: %s", line, f[3], reason);
    else if (want != NULL && (rc != -1 || strcmp(reason, want) != 0))
        UNIT_FAIL_AT("line %d: [%s]: %d \"%s\", expected \"%s\"", line, f[3],
                     rc, rc ? reason : "", want);
}

/* decimal <dialect> <scale> <text> <fits> <column type> */
static void check_decimal(char **f, int line)
{
    const struct dray_type_dialect *d = dialect(f[1]);
    int32_t scale = atoi(f[2]);
    char reason[200], sql[40];
    int rc;

    if (d == NULL)
        return;
    rc = dray_types_check_decimal(d, scale, f[3], strlen(f[3]), reason,
                                  sizeof(reason));
    if (rc != (atoi(f[4]) ? 0 : -1) || (rc != 0 && !strstr(reason, f[3])))
        UNIT_FAIL_AT("line %d: [%s] at scale %d: %d", line, f[3], (int)scale,
                     rc);
    if (dray_types_sql(d, DRAY_ST_DECIMAL, scale, sql, sizeof(sql)) !=
            (int)strlen(f[5]) ||
        strcmp(sql, f[5]) != 0)
        UNIT_FAIL_AT("line %d: column type %s, expected %s", line, sql, f[5]);
}

/* A column declared f[2] gets f[3], then f[4]: the two split suffixes and
   the rename rule (reference §11 cases 13-15). */
static void check_split(struct types_run *r, char **f, int line)
{
    const struct dray_type_dialect *d = dialect(f[1]);
    int dfn = atoi(f[5]), st[2];
    struct dray_schema s;
    char json[128], err[200];

    if (d == NULL)
        return;
    snprintf(json, sizeof(json),
             "{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"%s\"}}}",
             f[2]);
    if (dray_schema_parse(&s, json, strlen(json), NULL, 0, err, sizeof(err))) {
        UNIT_FAIL_AT("line %d: %s", line, err);
        return;
    }
    for (int k = 0; k < 2; k++) {
        st[k] = -1;
        if (dray_json_parse(&r->doc, f[3 + k], strlen(f[3 + k]), NULL) == 0)
            st[k] = dray_types_classify(&s, 1, &r->doc, 0, dfn);
    }
    if (st[0] != dray_types_declared(&s, 1, dfn) || st[0] == st[1] ||
        st[0] <= 0 || st[1] <= 0)
        UNIT_FAIL_AT("line %d: %s then %s", line, dray_stype_name(st[0]),
                     dray_stype_name(st[1]));
    else if (strcmp(d->map[st[0]].suffix, f[6]) != 0 ||
             strcmp(d->map[st[1]].suffix, f[7]) != 0 ||
             d->rename_on_split != atoi(f[8]))
        UNIT_FAIL_AT("line %d: %s, %s, rename %d", line, d->map[st[0]].suffix,
                     d->map[st[1]].suffix, d->rename_on_split);
    dray_schema_release(&s);
}

static void start_schema(struct types_run *r, const char *json, int line)
{
    char err[200];

    if (r->parsed)
        dray_schema_release(&r->s);
    r->parsed = dray_schema_parse(&r->s, json, strlen(json), NULL, 0, err,
                                  sizeof(err)) == 0;
    if (!r->parsed)
        UNIT_FAIL_AT("line %d: %s", line, err);
}

static void types_row(void *ctx, char **f, int n, int line)
{
    static const struct {
        const char *kind;
        int fields;
    } kinds[] = {{"map", 5},      {"schema", 2},   {"value", 2},
                 {"classify", 4}, {"declared", 4}, {"range", 5},
                 {"decimal", 6},  {"split", 9}};
    struct types_run *r = ctx;
    size_t k = 0;

    while (k < sizeof(kinds) / sizeof(kinds[0]) &&
           strcmp(kinds[k].kind, f[0]) != 0)
        k++;
    if (k == sizeof(kinds) / sizeof(kinds[0]) || kinds[k].fields != n) {
        UNIT_FAIL_AT("types_cases.tsv line %d: not a row", line);
        return;
    }
    if (k == 0)
        check_map(f, line);
    else if (k == 1)
        start_schema(r, f[1], line);
    else if (k == 2 && r->n_values < MAX_VALUES)
        r->values[r->n_values++] = strdup(f[1]);
    else if (k == 3)
        check_classify(r, f, line);
    else if (k == 4)
        check_declared(r, f, line);
    else if (k == 5)
        check_range(f, line);
    else if (k == 6)
        check_decimal(f, line);
    else if (k == 7)
        check_split(r, f, line);
}

static void test_types_cases(void)
{
    struct types_run r;

    memset(&r, 0, sizeof(r));
    dray_json_doc_init(&r.doc);
    CHECK(data_rows("types_cases.tsv", types_row, &r) > 0);
    if (r.parsed)
        dray_schema_release(&r.s);
    for (size_t v = 0; v < r.n_values; v++)
        free(r.values[v]);
    dray_json_doc_release(&r.doc);
}

/* Classification outside the table: token positions, odd arguments. */
static void test_types_classify_edges(void)
{
    const char *nested = "{\"a\":[true,1.5]}";
    struct dray_json_doc doc;

    dray_json_doc_init(&doc);
    CHECK_INT(dray_json_parse(&doc, nested, strlen(nested), NULL), 0);
    CHECK_INT(dray_types_classify(NULL, -1, &doc, 0, 1), DRAY_ST_OBJECT);
    CHECK_INT(dray_types_classify(NULL, -1, &doc, 3, 1), DRAY_ST_BOOLEAN);
    CHECK_INT(dray_types_classify(NULL, -1, &doc, 4, 1), DRAY_ST_DOUBLE);
    CHECK_INT(dray_types_classify(NULL, 3, &doc, 4, 0), DRAY_ST_DECIMAL);
    CHECK_INT(dray_types_classify(NULL, -1, &doc, 5, 1), -1);
    CHECK_INT(dray_types_classify(NULL, -1, NULL, 0, 1), -1);
    CHECK_INT(dray_types_declared(NULL, 0, 1), DRAY_ST_NONE);
    dray_json_doc_release(&doc);
}

static void test_types_sql_and_reasons(void)
{
    const struct dray_type_dialect *pg = dialect("postgres");
    const struct dray_type_dialect *sf = dialect("snowflake");
    const struct dray_type_dialect *files = dialect("files");
    char buf[64];

    if (pg == NULL || sf == NULL || files == NULL)
        return;
    CHECK_INT(dray_types_sql(sf, DRAY_ST_ARRAY, -1, buf, sizeof(buf)), 7);
    CHECK_STR(buf, "VARIANT");
    CHECK_INT(dray_types_sql(pg, DRAY_ST_TIMESTAMP, -1, buf, sizeof(buf)), 24);
    CHECK_INT(dray_types_sql(pg, DRAY_ST_OBJECT, -1, buf, sizeof(buf)), -1);
    CHECK_INT(dray_types_sql(pg, DRAY_ST_NONE, -1, buf, sizeof(buf)), -1);
    CHECK_INT(dray_types_sql(pg, 42, -1, buf, sizeof(buf)), -1);
    CHECK_INT(dray_types_sql(files, DRAY_ST_STRING, -1, buf, sizeof(buf)), -1);
    CHECK_INT(dray_types_sql(pg, DRAY_ST_STRING, -1, buf, 4), -1);
    CHECK_INT(dray_types_sql(NULL, DRAY_ST_STRING, -1, buf, 4), -1);
    CHECK_INT(dray_types_decimal_scale(sf, 4), 4);
    CHECK_INT(dray_types_decimal_scale(sf, 40), 18);
    CHECK_INT(dray_types_decimal_scale(sf, -1), 6);
    CHECK_INT(dray_types_decimal_scale(pg, 4), 16383);
    /* A reason is one line and fits its buffer. */
    CHECK_INT(dray_types_check_range(pg, DRAY_ST_TIMESTAMP, "a\nb", 3, buf,
                                     sizeof(buf)),
              -1);
    CHECK_STR(buf, "timestamp out of range for PostgreSQL on [a?b]");
    CHECK_INT(dray_types_check_range(pg, DRAY_ST_BIGINT, "99999999999999999999",
                                     20, buf, 12),
              -1);
    CHECK_STR(buf, "integer out");
    CHECK_INT(dray_types_check_range(pg, DRAY_ST_BIGINT, "99999999999999999999",
                                     20, NULL, 0),
              -1);
    CHECK_INT(dray_types_check_range(pg, DRAY_ST_BIGINT, NULL, 0, buf, 64), -1);
    CHECK_INT(dray_types_check_range(NULL, DRAY_ST_BIGINT, "1", 1, buf, 64), 0);
    /* Only len bytes count. */
    CHECK_INT(dray_types_check_range(pg, DRAY_ST_BIGINT, "12345x", 5, buf, 64),
              0);
}

/* ---- suffixes (§6.2; §11 cases 13-16) ---- */

struct suffix_case {
    const char *dialect;
    const char *reserved; /* the two-letter codes, space-separated */
};

static const struct suffix_case suffix_cases[] = {
    {"postgres", "bi bo de do it st ti"},
    {"redshift", "bi bo de do it st ti"},
    {"snowflake", "bo de fl it st ti va"},
    {"bigquery", "bo fl it nu st ti"},
    {"files", ""},
};

static void test_types_reserved_suffixes(void)
{
    static const char *const codes[] = {"bi", "bo", "de", "do", "it",
                                        "st", "ti", "fl", "va", "nu",
                                        "re", "ar", "js", "dt", "int"};

    for (size_t i = 0; i < sizeof(suffix_cases) / sizeof(suffix_cases[0]);
         i++) {
        const struct dray_type_dialect *d = dialect(suffix_cases[i].dialect);
        size_t listed = 0;
        if (d == NULL)
            continue;
        for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
            char name[32], code[4];
            int want;
            snprintf(code, sizeof(code), "%s", codes[c]);
            want = strlen(code) == 2 && strstr(suffix_cases[i].reserved, code);
            snprintf(name, sizeof(name), "price__%s", code);
            if (dray_types_has_reserved_suffix(d, name, strlen(name)) != want)
                UNIT_FAIL_AT("%s: %s reserved is not %d", d->name, name, want);
            snprintf(name, sizeof(name), "__%s", code);
            CHECK_INT(dray_types_has_reserved_suffix(d, name, strlen(name)),
                      want);
            snprintf(name, sizeof(name), "price_%s", code);
            CHECK_INT(dray_types_has_reserved_suffix(d, name, strlen(name)), 0);
        }
        for (const char *const *r = d->reserved_suffixes; *r; r++)
            listed++;
        CHECK_INT(listed, (strlen(suffix_cases[i].reserved) + 1) / 3);
    }
}

static void test_types_suffix_case(void)
{
    const struct dray_type_dialect *pg = dialect("postgres");
    const struct dray_type_dialect *rs = dialect("redshift");
    const struct dray_type_dialect *sf = dialect("snowflake");
    const struct dray_type_dialect *bq = dialect("bigquery");

    if (pg == NULL || rs == NULL || sf == NULL || bq == NULL)
        return;
    /* §11 case 16: price__st is rejected; case folds where names do. */
    CHECK_INT(dray_types_has_reserved_suffix(pg, "price__st", 9), 1);
    CHECK_INT(dray_types_has_reserved_suffix(pg, "PRICE__ST", 9), 0);
    CHECK_INT(dray_types_has_reserved_suffix(sf, "PRICE__ST", 9), 1);
    CHECK_INT(dray_types_has_reserved_suffix(rs, "Price__St", 9), 1);
    CHECK_INT(dray_types_has_reserved_suffix(bq, "price__st", 9), 1);
    CHECK_INT(dray_types_has_reserved_suffix(pg, "price__st", 8), 0);
    CHECK_INT(dray_types_has_reserved_suffix(pg, "st", 2), 0);
    CHECK_INT(dray_types_has_reserved_suffix(NULL, "price__st", 9), 0);
    CHECK_INT(dray_types_has_reserved_suffix(pg, NULL, 0), 0);
    /* The stype behind a split column's suffix. */
    CHECK_INT(dray_types_suffix_stype(pg, "age__bi", 7), DRAY_ST_BIGINT);
    CHECK_INT(dray_types_suffix_stype(pg, "AGE__BI", 7), DRAY_ST_NONE);
    CHECK_INT(dray_types_suffix_stype(rs, "AGE__BI", 7), DRAY_ST_BIGINT);
    CHECK_INT(dray_types_suffix_stype(sf, "tags__va", 8), DRAY_ST_OBJECT);
    CHECK_INT(dray_types_suffix_stype(bq, "age__nu", 7), DRAY_ST_DECIMAL);
    CHECK_INT(dray_types_suffix_stype(bq, "x__re", 5), DRAY_ST_OBJECT);
    CHECK_INT(dray_types_suffix_stype(bq, "x__ar", 5), DRAY_ST_ARRAY);
    CHECK_INT(dray_types_suffix_stype(bq, "age", 3), DRAY_ST_NONE);
    CHECK_INT(dray_types_suffix_stype(dialect("files"), "age__bi", 7),
              DRAY_ST_NONE);
}

static void test_types_stype_names(void)
{
    static const char *const names[] = {"none",      "bigint", "boolean",
                                        "timestamp", "double", "decimal",
                                        "string",    "object", "array"};

    for (int st = 0; st < DRAY_ST_COUNT; st++)
        CHECK_STR(dray_stype_name(st), names[st]);
    CHECK_STR(dray_stype_name(-1), "unknown");
    CHECK_STR(dray_stype_name(DRAY_ST_COUNT), "unknown");
}

UNIT_MAIN(UNIT_CASE(test_types_dialects), UNIT_CASE(test_types_cases),
          UNIT_CASE(test_types_classify_edges),
          UNIT_CASE(test_types_sql_and_reasons),
          UNIT_CASE(test_types_reserved_suffixes),
          UNIT_CASE(test_types_suffix_case), UNIT_CASE(test_types_stype_names))

/*
 * The flattener beyond the table of cases in test_flatten.c: huge values
 * and arrays (memory stays per row), rows applying observe's checks, and
 * the column limit with _sdc_extracted_at.
 */
#include <dray/dray_flatten.h>
#include <dray/dray_ident.h>
#include <dray/dray_json.h>
#include <dray/dray_schema.h>
#include <dray/dray_types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "unit.h"

static int big_row(void *ctx, int32_t table, const struct dray_field *f,
                   size_t n)
{
    size_t *seen = ctx;

    (void)table;
    for (size_t i = 0; i < n; i++)
        if (f[i].kind == DRAY_F_STRING && f[i].len > *seen)
            *seen = f[i].len;
    return 0;
}

/* A 20 MB value with escapes goes through whole. */
static void test_twenty_megabyte_value(void)
{
    static const char sch[] = "{\"type\":\"object\",\"properties\":{"
                              "\"id\":{\"type\":\"integer\"},"
                              "\"s\":{\"type\":\"string\"}}}";
    const size_t n = 20u << 20;
    char *rec = malloc(n + 64);
    struct dray_schema s = {0};
    struct dray_tableset *ts = NULL;
    struct dray_flat_opts o = {0};
    struct dray_json_doc doc;
    struct dray_buf reason = DRAY_BUF_INIT;
    struct dray_record_meta m = {.sequence = 1};
    const char *keys[] = {"id"};
    char err[128];
    size_t len, seen = 0;

    if (rec == NULL)
        return;
    len = (size_t)sprintf(rec, "{\"id\":1,\"s\":\"");
    for (size_t i = 0; i < n; i++)
        rec[len++] = (i % 1000 == 999) ? 'n' : 'x';
    /* Every 1000th character is an escaped newline: "\n". */
    for (size_t i = 999; i < n; i += 1000)
        rec[len - n + i - 1] = '\\';
    len += (size_t)sprintf(rec + len, "\"}");
    dray_json_doc_init(&doc);
    CHECK_INT(dray_json_parse(&doc, rec, len, NULL), 0);
    CHECK_INT(
        dray_schema_parse(&s, sch, strlen(sch), keys, 1, err, sizeof(err)), 0);
    o.types = dray_types_dialect("postgres");
    o.ident_dialect = DRAY_IDENT_POSTGRES;
    CHECK_INT(dray_tableset_new(&ts, &o, &s, "big", err, sizeof(err)), 0);
    if (ts) {
        CHECK_INT(dray_flatten_observe(ts, &doc, &m, &reason), 0);
        CHECK_INT(dray_flatten_rows(ts, &doc, &m, -1, big_row, &seen, &reason),
                  0);
        /* Each "\n" pair decodes to one byte. */
        CHECK_INT(seen, n - n / 1000);
    }
    dray_tableset_free(ts);
    dray_schema_release(&s);
    dray_json_doc_release(&doc);
    dray_buf_release(&reason);
    free(rec);
}

/* A table set for the direct tests below. */
static struct dray_tableset *direct_set(struct dray_schema *s,
                                        const char *dialect, const char *sch,
                                        const char *key, size_t max_columns)
{
    struct dray_tableset *ts = NULL;
    struct dray_flat_opts o = {0};
    const char *keys[1] = {key};
    char err[256];

    CHECK_INT(dray_schema_parse(s, sch, strlen(sch), keys, key ? 1 : 0, err,
                                sizeof(err)),
              0);
    o.types = dray_types_dialect(dialect);
    o.ident_dialect = dray_ident_dialect_from_name(dialect);
    o.nesting = DRAY_NEST_FLATTEN;
    o.double_for_number = 1;
    o.max_columns = max_columns;
    CHECK_INT(dray_tableset_new(&ts, &o, s, "orders", err, sizeof(err)), 0);
    return ts;
}

static int count_row(void *ctx, int32_t table, const struct dray_field *f,
                     size_t n)
{
    size_t *count = ctx;

    (void)table;
    (void)f;
    (void)n;
    (*count)++;
    return 0;
}

/* rows rejects what observe rejects, with the same reason, even for a
   record whose columns another record made. */
static void test_rows_range_checks(void)
{
    static const char sch[] =
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},"
        "\"n\":{\"type\":\"number\",\"multipleOf\":0.01},"
        "\"t\":{\"type\":\"string\","
        "\"format\":\"date-time\"}}}";
    static const char *const bad[] = {
        "{\"id\":2,\"n\":1e40}",
        "{\"id\":3,\"t\":\"0000-01-01T00:00:00Z\"}",
    };
    struct dray_schema s = {0};
    struct dray_tableset *ts = direct_set(&s, "bigquery", sch, "id", 0);
    struct dray_json_doc doc;
    struct dray_buf reason = DRAY_BUF_INIT, seen = DRAY_BUF_INIT;
    struct dray_record_meta m = {.sequence = 1};
    const char *first = "{\"id\":1,\"n\":1.5,\"t\":\"2024-01-01T00:00:00Z\"}";
    size_t count = 0;

    if (ts == NULL)
        return;
    dray_json_doc_init(&doc);
    CHECK_INT(dray_json_parse(&doc, first, strlen(first), NULL), 0);
    CHECK_INT(dray_flatten_observe(ts, &doc, &m, &reason), 0);
    dray_json_doc_release(&doc);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        dray_json_doc_init(&doc);
        CHECK_INT(dray_json_parse(&doc, bad[i], strlen(bad[i]), NULL), 0);
        CHECK_INT(dray_flatten_observe(ts, &doc, &m, &seen), 1);
        CHECK_INT(
            dray_flatten_rows(ts, &doc, &m, -1, count_row, &count, &reason), 1);
        CHECK_STR(reason.data ? reason.data : "", seen.data ? seen.data : "?");
        CHECK_CONTAINS(reason.data ? reason.data : "", "out of range");
        dray_json_doc_release(&doc);
    }
    dray_tableset_free(ts);
    dray_schema_release(&s);
    dray_buf_release(&reason);
    dray_buf_release(&seen);
}

/* _sdc_extracted_at counts against max_columns like any column. */
static void test_extracted_at_room(void)
{
    static const char sch[] =
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}";
    /* id, a, b + 4 system columns = 7: full at max_columns 7. */
    const char *rec = "{\"id\":1,\"a\":1,\"b\":1}";
    struct dray_schema s = {0};
    struct dray_tableset *ts = direct_set(&s, "postgres", sch, "id", 7);
    struct dray_json_doc doc;
    struct dray_buf reason = DRAY_BUF_INIT;
    struct dray_record_meta plain = {.sequence = 1};
    struct dray_record_meta ext = {.sequence = 2,
                                   .extracted_at = "2024-01-01T00:00:00Z"};

    if (ts == NULL)
        return;
    dray_json_doc_init(&doc);
    CHECK_INT(dray_json_parse(&doc, rec, strlen(rec), NULL), 0);
    /* On the record that makes the table, and on a later one. */
    CHECK_INT(dray_flatten_observe(ts, &doc, &ext, &reason), 1);
    CHECK_STR(reason.data ? reason.data : "", "ERROR: too many columns");
    CHECK_INT(dray_tableset_count(ts), 0);
    CHECK_INT(dray_flatten_observe(ts, &doc, &plain, &reason), 0);
    CHECK_INT(dray_flatten_observe(ts, &doc, &ext, &reason), 1);
    CHECK_STR(reason.data ? reason.data : "", "ERROR: too many columns");
    CHECK_INT(dray_tableset_table(ts, 0)->n_cols, 7);
    dray_json_doc_release(&doc);
    dray_tableset_free(ts);
    dray_schema_release(&s);
    dray_buf_release(&reason);
}

static long max_rss_kb(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

/* A long array's rows do not pile up until the record ends. */
static void test_long_array_rows(void)
{
    static const char sch[] =
        "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}}}";
    const size_t n = 200000;
    struct dray_buf rec = DRAY_BUF_INIT, reason = DRAY_BUF_INIT;
    struct dray_schema s = {0};
    struct dray_tableset *ts = direct_set(&s, "postgres", sch, "id", 0);
    struct dray_json_doc doc;
    struct dray_record_meta m = {.sequence = 1,
                                 .received_at = "2024-05-01T00:00:00Z",
                                 .batched_at = "2024-05-01T00:00:01Z"};
    size_t count = 0;
    long before;

    if (ts == NULL)
        return;
    dray_buf_add(&rec, "{\"id\":1,\"items\":[", 17);
    for (size_t i = 0; i < n; i++) {
        static const char el[] = "{\"s\":\"a\\tb\",\"k\":7}";
        if (i)
            dray_buf_add(&rec, ",", 1);
        dray_buf_add(&rec, el, sizeof(el) - 1);
    }
    dray_buf_add(&rec, "]}", 2);
    dray_json_doc_init(&doc);
    CHECK_INT(dray_json_parse(&doc, rec.data, rec.len, NULL), 0);
    CHECK_INT(dray_flatten_observe(ts, &doc, &m, &reason), 0);
    /* Once: the first pass warms the allocator. */
    CHECK_INT(dray_flatten_rows(ts, &doc, &m, -1, count_row, &count, &reason),
              0);
    CHECK_INT(count, n + 1);
    before = max_rss_kb();
    count = 0;
    CHECK_INT(dray_flatten_rows(ts, &doc, &m, -1, count_row, &count, &reason),
              0);
    CHECK_INT(count, n + 1);
    /* Kept rows would take over 100 MB; one row per level a few kB. */
    if (max_rss_kb() - before > 32 * 1024)
        UNIT_FAIL_AT("rows grew the peak memory by %ld kB",
                     max_rss_kb() - before);
    dray_json_doc_release(&doc);
    dray_tableset_free(ts);
    dray_schema_release(&s);
    dray_buf_release(&rec);
    dray_buf_release(&reason);
}

UNIT_MAIN(UNIT_CASE(test_twenty_megabyte_value),
          UNIT_CASE(test_rows_range_checks), UNIT_CASE(test_extracted_at_room),
          UNIT_CASE(test_long_array_rows))

/*
 * ident_rows.h - what test_ident.c and test_ident_set.c share: dialect and
 * flag short names and the '|'-separated test rows.
 */
#ifndef DRAY_TESTS_IDENT_ROWS_H
#define DRAY_TESTS_IDENT_ROWS_H

#include "dray/dray_ident.h"

#include <string.h>

#include "unit.h"

#define PG DRAY_IDENT_POSTGRES
#define RS DRAY_IDENT_REDSHIFT
#define SF DRAY_IDENT_SNOWFLAKE
#define BQ DRAY_IDENT_BIGQUERY
#define FL DRAY_IDENT_FILES
#define C DRAY_IDENT_CHANGED
#define T DRAY_IDENT_TRUNCATED
#define E DRAY_IDENT_EMPTY

/*
 * Test rows are strings of fields split by '|': the dialect (pg, rs, sf,
 * bq, fl), then the case's inputs and expected output, then the expected
 * flags as letters (C changed, T truncated, E empty; "-" for none).
 */
#define ROW_FIELDS 5

struct row {
    const char *text; /* the whole row, for messages */
    const char *f[ROW_FIELDS];
    size_t len[ROW_FIELDS];
    int n;
};

static inline void split_row(const char *s, struct row *r)
{
    const char *bar;

    r->text = s;
    for (r->n = 0; r->n < ROW_FIELDS; r->n++) {
        bar = strchr(s, '|');
        r->f[r->n] = s;
        r->len[r->n] = bar ? (size_t)(bar - s) : strlen(s);
        if (bar == NULL) {
            r->n++;
            return;
        }
        s = bar + 1;
    }
}

static inline int row_dialect(const struct row *r)
{
    static const char *const codes[] = {"pg", "rs", "sf", "bq", "fl"};
    int i;

    for (i = 0; i < 5; i++)
        if (r->len[0] == 2 && memcmp(r->f[0], codes[i], 2) == 0)
            return i;
    return -1;
}

static inline int row_flags(const struct row *r, int i)
{
    int flags = 0;
    size_t k;

    for (k = 0; k < r->len[i]; k++)
        flags |= r->f[i][k] == 'C'   ? C
                 : r->f[i][k] == 'T' ? T
                 : r->f[i][k] == 'E' ? E
                                     : 0;
    return flags;
}

/* Field i as a C string in b. */
static inline const char *row_str(const struct row *r, int i,
                                  struct dray_buf *b)
{
    dray_buf_reset(b);
    if (dray_buf_add(b, r->f[i], r->len[i]) != 0)
        return "";
    return b->data;
}

static inline int row_is(const struct row *r, int i, const char *s)
{
    return r->len[i] == strlen(s) && memcmp(r->f[i], s, r->len[i]) == 0;
}

/* Checks a result against field i (the name) and field i + 1 (flags). */
static inline void check_row(const struct row *r, int i, int rc,
                             const char *got)
{
    if (rc != row_flags(r, i + 1) || !row_is(r, i, got))
        UNIT_FAIL_AT("row \"%s\": got \"%s\" flags %d", r->text, got, rc);
}

/* Splits every row into fields (checking their count) and runs check on
   it with a buffer for the result. */
static inline void each_row(const char *const *rows, size_t count, int fields,
                            void (*check)(const struct row *r,
                                          struct dray_buf *out))
{
    struct dray_buf out = DRAY_BUF_INIT;
    struct row r;
    size_t i;

    for (i = 0; i < count; i++) {
        split_row(rows[i], &r);
        if (r.n != fields) {
            UNIT_FAIL_AT("row \"%s\": %d fields", rows[i], r.n);
            continue;
        }
        check(&r, &out);
    }
    dray_buf_release(&out);
}

#define EACH_ROW(rows, fields, check)                                          \
    each_row(rows, sizeof rows / sizeof *rows, fields, check)

/* 60, 63 and 64 bytes: §11 case 20 with dray's truncation instead of
   dropping the column. */
#define PG60 "Customer_Lifetime_Value_Adjusted_For_Seasonal_Returns_In_USD"

#endif

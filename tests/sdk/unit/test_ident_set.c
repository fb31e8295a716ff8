/*
 * Destination identifiers (dray_ident.h): join, quoting and the collision
 * set. Canonical names and truncation: test_ident.c. Rules:
 * docs/IDENTIFIERS.md.
 */
#include "dray/dray_ident.h"

#include <stdio.h>
#include <string.h>

#include "ident_rows.h"
#include "unit.h"

/* dialect | parent | child | canonical joined name | flags */
static const char *const join_rows[] = {
    "pg|customer|Address|customer__Address|-",
    "rs|customer|Zip Code|customer__zip_code|C",
    "sf|CUSTOMER|zip!|CUSTOMER__ZIP|C",
    "bq|customer|4x|customer__4x|-", /* only the start is fixed */
    "rs||CuStOmErId|customerid|C",   /* no parent: the child alone */
    "fl|orders|a/b|orders__a_b|C",
    "sf|ORDERS||ORDERS__|-",
    /* The limit applies to the joined name: 65 bytes. */
    "pg|" PG60 "|Zip|"
    "Customer_Lifetime_Value_Adjusted_For_Seasonal_Returns__fd13f3dd|CT",
};

static void join_row(const struct row *r, struct dray_buf *out)
{
    struct dray_buf parent = DRAY_BUF_INIT;
    int rc = dray_ident_join(row_dialect(r), row_str(r, 1, &parent), r->f[2],
                             r->len[2], out);

    check_row(r, 3, rc, out->data);
    dray_buf_release(&parent);
}

static void test_join(void)
{
    struct dray_buf out = DRAY_BUF_INIT;

    EACH_ROW(join_rows, 5, join_row);
    CHECK_INT(dray_ident_join(BQ, NULL, "4customerid", 11, &out), C);
    CHECK_STR(out.data, "_customerid");
    /* The parent may be out's own text. */
    CHECK_INT(dray_ident_canon(RS, "Orders", 6, &out), C);
    CHECK_INT(dray_ident_join(RS, out.data, "Line Items", 10, &out), C);
    CHECK_STR(out.data, "orders__line_items");
    dray_buf_release(&out);
}

/* dialect | name | quoted | flags (none: 0 returned) */
static const char *const quote_rows[] = {
    "pg|a\"b|\"a\"\"b\"|-",
    "pg|Customer Id|\"Customer Id\"|-",
    "rs|x|\"x\"|-",
    "sf|A\"\"|\"A\"\"\"\"\"|-",
    "bq|a`b\\c|`a\\`b\\\\c`|-",
    "bq|plain|`plain`|-",
    "fl|a\"b`c|a\"b`c|-",
    "pg||\"\"|-",
};

static void quote_row(const struct row *r, struct dray_buf *out)
{
    struct dray_buf name = DRAY_BUF_INIT;
    int rc;

    dray_buf_reset(out);
    rc = dray_ident_quote(row_dialect(r), row_str(r, 1, &name), out);
    check_row(r, 2, rc, out->data ? out->data : "");
    dray_buf_release(&name);
}

static void test_quote(void)
{
    struct dray_buf out = DRAY_BUF_INIT;

    EACH_ROW(quote_rows, 4, quote_row);
    /* Appends, also from out's own text. */
    dray_buf_reset(&out);
    CHECK_INT(dray_buf_add(&out, "a\"b", 3), 0);
    CHECK_INT(dray_ident_quote(PG, out.data, &out), 0);
    CHECK_STR(out.data, "a\"b\"a\"\"b\"");
    dray_buf_release(&out);
}

/* §11 case 19: id and ID collide on Redshift once canonical, not on
   PostgreSQL (case kept). */
static void test_set_collision(void)
{
    static const char *const names[] = {"id", "ID"};
    struct dray_ident_set *rs = dray_ident_set_new();
    struct dray_ident_set *pg = dray_ident_set_new();
    struct dray_buf out = DRAY_BUF_INIT;
    char reason[64] = "";
    size_t i;
    int rc;

    CHECK(rs != NULL && pg != NULL);
    for (i = 0; rs && pg && i < 2; i++) {
        CHECK(dray_ident_canon(RS, names[i], 2, &out) >= 0);
        rc = dray_ident_set_add(rs, out.data);
        CHECK_INT(rc, i == 0 ? 1 : 0);
        if (rc == 0)
            snprintf(reason, sizeof reason, "Field collision on %s", out.data);
        CHECK(dray_ident_canon(PG, names[i], 2, &out) >= 0);
        CHECK_INT(dray_ident_set_add(pg, out.data), 1);
    }
    CHECK_STR(reason, "Field collision on id");
    CHECK_INT(dray_ident_set_has(rs, "id"), 1);
    CHECK_INT(dray_ident_set_has(rs, "ID"), 0);
    CHECK_INT(dray_ident_set_has(pg, "ID"), 1);
    CHECK_INT(dray_ident_set_add(rs, ""), 1);
    CHECK_INT(dray_ident_set_has(rs, ""), 1);
    CHECK_INT(dray_ident_set_add(NULL, "x"), -1);
    CHECK_INT(dray_ident_set_has(NULL, "x"), 0);
    dray_ident_set_free(rs);
    dray_ident_set_free(pg);
    dray_ident_set_free(NULL);
    dray_buf_release(&out);
}

/* 100,000 names (a schema's table limit): every add and lookup answers
   right. A quadratic set would make this test crawl; no timing is
   asserted. */
static void test_set_many(void)
{
    enum { N = 100000 };
    struct dray_ident_set *set = dray_ident_set_new();
    char name[32];
    int i, bad_add = 0, bad_has = 0, bad_dup = 0, bad_miss = 0;

    CHECK(set != NULL);
    if (set == NULL)
        return;
    for (i = 0; i < N; i++) {
        snprintf(name, sizeof name, "column_%d", i);
        bad_add += dray_ident_set_add(set, name) != 1;
    }
    for (i = 0; i < N; i++) {
        snprintf(name, sizeof name, "column_%d", i);
        bad_has += dray_ident_set_has(set, name) != 1;
        bad_dup += dray_ident_set_add(set, name) != 0;
        snprintf(name, sizeof name, "column_%d", N + i);
        bad_miss += dray_ident_set_has(set, name) != 0;
    }
    CHECK_INT(bad_add, 0);
    CHECK_INT(bad_has, 0);
    CHECK_INT(bad_dup, 0);
    CHECK_INT(bad_miss, 0);
    dray_ident_set_free(set);
}

UNIT_MAIN(UNIT_CASE(test_join), UNIT_CASE(test_quote),
          UNIT_CASE(test_set_collision), UNIT_CASE(test_set_many))

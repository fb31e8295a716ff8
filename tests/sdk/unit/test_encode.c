/*
 * The streaming encoders of dray_encode.h: byte-exact output for tricky
 * values, the bufsink and gzip stages, sink errors passed back unchanged,
 * 20 MB values through bounded memory, and out-of-memory paths.
 */
#include "dray/dray_encode.h"
#include "encode_fields.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A huge allocation must fail with NULL under ASan too, not abort; the
   runtime looks this up, so it must be exported. */
__attribute__((visibility("default"))) const char *__asan_default_options(void);
__attribute__((visibility("default"))) const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* ---- sinks for the tests ------------------------------------------------ */

/* Keeps every byte, counts writes and closes, fails on write fail_at. */
struct rec {
    struct dray_buf all;
    size_t writes, min_write, max_write, closes;
    size_t fail_at; /* 1-based write number that fails; 0: never */
    int fail_rc;
};

static int rec_write(void *ctx, const void *data, size_t len)
{
    struct rec *r = ctx;

    r->writes++;
    if (r->fail_at != 0 && r->writes >= r->fail_at)
        return r->fail_rc;
    if (r->writes == 1 || len < r->min_write)
        r->min_write = len;
    if (len > r->max_write)
        r->max_write = len;
    return dray_buf_add(&r->all, data, len);
}

static int rec_close(void *ctx)
{
    ((struct rec *)ctx)->closes++;
    return 0;
}

static struct dray_sink rec_sink(struct rec *r)
{
    struct dray_sink s = {rec_write, rec_close, r};
    struct rec zero = {DRAY_BUF_INIT, 0, 0, 0, 0, 0, 0};

    *r = zero;
    return s;
}

/* Counts bytes without keeping them (for 20 MB values); keeps the tail. */
struct counter {
    uint64_t bytes;
    size_t writes, max_write;
    char tail[8];
};

static int counter_write(void *ctx, const void *data, size_t len)
{
    struct counter *c = ctx;
    const char *p = data;

    c->bytes += len;
    c->writes++;
    if (len > c->max_write)
        c->max_write = len;
    for (size_t i = len > 8 ? len - 8 : 0; i < len; i++) {
        memmove(c->tail, c->tail + 1, 7);
        c->tail[7] = p[i];
    }
    return 0;
}

/* Compares what r holds with want (want_len bytes), showing both. */
#define CHECK_BYTES(r, want, want_len)                                         \
    do {                                                                       \
        if ((r)->all.len != (want_len) ||                                      \
            memcmp((r)->all.data, (want), (want_len)) != 0)                    \
            UNIT_FAIL_AT("bytes differ:\n  got:      [%.*s]\n  expected: "     \
                         "[%.*s]",                                             \
                         (int)(r)->all.len,                                    \
                         (r)->all.data ? (r)->all.data : "", (int)(want_len),  \
                         (want));                                              \
    } while (0)

/* ---- CSV ---------------------------------------------------------------- */

struct csv_case {
    struct dray_csv_opts opts;
    size_t n;
    struct dray_field f[4];
    const char *want;
};

static void test_csv_rows(void)
{
    static const struct csv_case cases[] = {
        {{0, 0, 0},
         3,
         {S("a"), INT_F("42", 42), F(DRAY_F_DECIMAL, "1.5e3")},
         "a,42,1.5e3\n"},
        /* NULL is nothing; an empty string is "" */
        {{0, 0, 0}, 3, {NUL_F, S(""), NUL_F}, ",\"\",\n"},
        {{0, 0, 0}, 1, {S("say \"hi\"")}, "\"say \"\"hi\"\"\"\n"},
        {{0, 0, 0}, 1, {S("\"")}, "\"\"\"\"\n"},
        {{0, 0, 0}, 2, {S("a,b"), S("a|b\tc")}, "\"a,b\",a|b\tc\n"},
        {{0, 0, 0},
         3,
         {S("line1\nline2"), S("x\ry"), S("\r\n")},
         "\"line1\nline2\",\"x\ry\",\"\r\n\"\n"},
        {{0, 0, 0},
         4,
         {S(" lead"), S("trail "), S("in side"), S("\tx")},
         "\" lead\",\"trail \",in side,\"\tx\"\n"},
        {{0, 0, 0},
         2,
         {S("h\xc3\xa9llo \xe2\x9c\x93"), S("\xf0\x9f\x98\x80")},
         "h\xc3\xa9llo \xe2\x9c\x93,\xf0\x9f\x98\x80\n"},
        {{0, 0, 0},
         2,
         {F(DRAY_F_JSON, "{\"a\":[1,2]}"), BOOL_F(1)},
         "\"{\"\"a\"\":[1,2]}\",true\n"},
        {{0, 0, 0}, 1, {NUL_F}, "\n"},
        /* \. alone would end a PostgreSQL COPY ... csv */
        {{0, 0, 0}, 2, {S("\\."), S("\\.x")}, "\"\\.\",\\.x\n"},
        {{'|', 0, 0}, 3, {S("a,b"), S("c|d"), NUL_F}, "a,b|\"c|d\"|\n"},
        {{'\t', 0, 0},
         3,
         {S("a b"), S("c\td"), S("")},
         "a b\t\"c\td\"\t\"\"\n"},
        {{0, 1, 0},
         4,
         {S("a"), NUL_F, INT_F("1", 1), S("")},
         "\"a\",,\"1\",\"\"\n"},
        {{0, 0, 1}, 2, {S("a"), S("b\r\nc")}, "a,\"b\r\nc\"\r\n"},
        {{'|', 1, 1}, 2, {S("x\"y"), NUL_F}, "\"x\"\"y\"|\r\n"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct csv_case *c = &cases[i];
        struct rec r;
        struct dray_sink s = rec_sink(&r);

        CHECK_INT(dray_csv_write_row(&s, &c->opts, c->f, c->n), 0);
        CHECK_BYTES(&r, c->want, strlen(c->want));
        CHECK_INT(r.writes, 1); /* a small row is one write */
        dray_buf_release(&r.all);
    }
}

static void test_csv_header_and_options(void)
{
    static const char *const names[] = {"id", "name, full", "say \"x\"",
                                        " pad"};
    struct dray_csv_opts tab_all = {'\t', 1, 1}, semi = {';', 0, 0};
    struct dray_field f = S("a");
    struct rec r;
    struct dray_sink s = rec_sink(&r);

    CHECK_INT(dray_csv_write_header(&s, NULL, names, 4), 0);
    CHECK_STR(r.all.data, "id,\"name, full\",\"say \"\"x\"\"\",\" pad\"\n");
    dray_buf_reset(&r.all);
    CHECK_INT(dray_csv_write_header(&s, &tab_all, names, 2), 0);
    CHECK_STR(r.all.data, "\"id\"\t\"name, full\"\r\n");
    dray_buf_reset(&r.all);
    /* Only , | and tab are delimiters: anything else writes nothing. */
    CHECK_INT(dray_csv_write_header(&s, &semi, names, 4), -1);
    CHECK_INT(dray_csv_write_row(&s, &semi, &f, 1), -1);
    CHECK_INT(r.all.len, 0);
    dray_buf_release(&r.all);
}

/* ---- NDJSON ------------------------------------------------------------- */

static void test_ndjson_rows(void)
{
    static const char *const names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    static const struct dray_field typed[] = {
        INT_F("1", 1),
        F(DRAY_F_DECIMAL, "-0.0"),
        F(DRAY_F_DOUBLE, "1.5e3"),
        BOOL_F(0),
        NUL_F,
        S("x"),
        F(DRAY_F_TIMESTAMP, "2024-01-02T03:04:05.000000Z"),
        F(DRAY_F_JSON, "{\"k\":[1,null]}")};
    static const struct dray_field two[] = {NUL_F, INT_F("2", 2)};
    static const struct dray_field tricky[] = {
        S("q\"b\\s/ n\nr\rt\tb\bf\f\x01\x1f\x7f"), S("a\0b"),
        S("\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80\xe2\x80\xa8"), S("")};
    static const char *const odd_names[] = {"we\"ird\n", "", "\xc3\xa9",
                                            "t\tab"};
    struct rec r;
    struct dray_sink s = rec_sink(&r);

    CHECK_INT(dray_ndjson_write_row(&s, names, typed, 8, 0), 0);
    CHECK_STR(r.all.data, "{\"a\":1,\"b\":-0.0,\"c\":1.5e3,\"d\":false,"
                          "\"e\":null,\"f\":\"x\","
                          "\"g\":\"2024-01-02T03:04:05.000000Z\","
                          "\"h\":{\"k\":[1,null]}}\n");
    dray_buf_reset(&r.all);
    CHECK_INT(dray_ndjson_write_row(&s, names, two, 2, 1), 0);
    CHECK_INT(dray_ndjson_write_row(&s, names, two, 1, 1), 0);
    CHECK_INT(dray_ndjson_write_row(&s, names, two, 1, 0), 0);
    CHECK_STR(r.all.data, "{\"b\":2}\n{}\n{\"a\":null}\n");
    dray_buf_reset(&r.all);
    CHECK_INT(dray_ndjson_write_row(&s, odd_names, tricky, 4, 0), 0);
    CHECK_STR(
        r.all.data,
        "{\"we\\\"ird\\n\":\"q\\\"b\\\\s/ n\\nr\\rt\\tb\\bf\\f"
        "\\u0001\\u001f\x7f\",\"\":\"a\\u0000b\","
        "\"\xc3\xa9\":\"\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80\xe2\x80\xa8\","
        "\"t\\tab\":\"\"}\n");
    dray_buf_release(&r.all);
}

/* ---- COPY text ---------------------------------------------------------- */

static void test_copy_text_rows(void)
{
    static const struct {
        size_t n;
        struct dray_field f[4];
        const char *want;
    } cases[] = {
        {4, {S("plain"), NUL_F, S(""), INT_F("-5", -5)}, "plain\t\\N\t\t-5\n"},
        {1, {S("a\tb\nc\rd\\e")}, "a\\tb\\nc\\rd\\\\e\n"},
        /* the text \N and a lone \. are data, not markers */
        {2, {S("\\N"), S("\\.")}, "\\\\N\t\\\\.\n"},
        {2,
         {S(" h\xc3\xa9 \xf0\x9f\x98\x80 "), F(DRAY_F_JSON, "{\"a\":\"\\n\"}")},
         " h\xc3\xa9 \xf0\x9f\x98\x80 \t{\"a\":\"\\\\n\"}\n"},
        {1, {NUL_F}, "\\N\n"},
    };
    static const struct dray_field with_nul[] = {S("ok"), S("a\0b")};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct rec r;
        struct dray_sink s = rec_sink(&r);

        CHECK_INT(dray_copy_text_write_row(&s, cases[i].f, cases[i].n), 0);
        CHECK_BYTES(&r, cases[i].want, strlen(cases[i].want));
        dray_buf_release(&r.all);
    }
    /* NUL cannot go into PostgreSQL text: the row is refused whole. */
    struct rec r;
    struct dray_sink s = rec_sink(&r);
    CHECK_INT(dray_copy_text_write_row(&s, with_nul, 2), -1);
    CHECK_INT(r.writes, 0);
}

/* ---- bufsink and gzip --------------------------------------------------- */

static void test_bufsink_chunks(void)
{
    static const size_t sizes[] = {3, 3, 3, 3, 25, 1, 0, 9, 40};
    char src[128];
    size_t off = 0;
    struct dray_bufsink bs;
    struct dray_sink out;
    struct rec r;
    struct dray_sink next = rec_sink(&r);

    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (char)('a' + i % 26);
    dray_bufsink_init(&bs, next, 10, &out);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        CHECK_INT(out.write(out.ctx, src + off, sizes[i]), 0);
        off += sizes[i];
        if (i == 2)
            CHECK_INT(r.writes, 0); /* 9 bytes: still below the chunk */
    }
    /* 3+3+3+1 topped up | 2+8, then 17 straight on | 1+9 | 40 straight on */
    CHECK_INT(r.writes, 5);
    CHECK(r.min_write >= 10);
    CHECK_INT(out.close(out.ctx), 0);
    CHECK_INT(r.writes, 5);
    CHECK_INT(r.closes, 1);
    CHECK_INT(r.all.len, off);
    CHECK(memcmp(r.all.data, src, off) == 0);
    /* A tail below the chunk goes on at close. */
    CHECK_INT(out.write(out.ctx, "xyz", 3), 0);
    CHECK_INT(r.writes, 5);
    CHECK_INT(out.close(out.ctx), 0);
    CHECK_INT(r.writes, 6);
    CHECK_INT(r.all.len, off + 3);
    dray_bufsink_release(&bs);
    dray_buf_release(&r.all);
}

static void test_gzip_round_trip(void)
{
    static const char *const names[] = {"id", "text"};
    struct dray_buf plain = DRAY_BUF_INIT, inflated = DRAY_BUF_INIT;
    struct dray_sink to_plain, gz_sink, buffered;
    struct dray_bufsink bs;
    struct dray_gzip *gz;
    struct rec r;
    struct dray_sink next = rec_sink(&r);
    char id[24], text[64];
    unsigned char chunk[4096];
    z_stream zs;
    int zrc;

    dray_sink_to_buf(&to_plain, &plain);
    CHECK_INT(dray_gzip_open(&gz, next, 6, &gz_sink), 0);
    dray_bufsink_init(&bs, gz_sink, 65536, &buffered);
    for (int i = 0; i < 60000; i++) {
        struct dray_field f[2] = {{DRAY_F_INT, id, 0, i},
                                  {DRAY_F_STRING, text, 0, 0}};

        f[0].len = (size_t)snprintf(id, sizeof(id), "%d", i);
        f[1].len = (size_t)snprintf(text, sizeof(text), "row %d, \"%x\"\n",
                                    i * 7919, (unsigned)(i * 2654435761u));
        CHECK_INT(dray_ndjson_write_row(&to_plain, names, f, 2, 0), 0);
        CHECK_INT(dray_ndjson_write_row(&buffered, names, f, 2, 0), 0);
    }
    CHECK_INT(buffered.close(buffered.ctx), 0);
    CHECK_INT(r.closes, 1); /* closing the chain closed its end */
    CHECK(r.max_write <= 16384);
    CHECK(r.all.len > 18 && r.all.len < plain.len / 2);
    CHECK((unsigned char)r.all.data[0] == 0x1f);
    CHECK((unsigned char)r.all.data[1] == 0x8b);
    CHECK_INT(gz_sink.write(gz_sink.ctx, "x", 1), -1); /* after close */

    memset(&zs, 0, sizeof(zs));
    CHECK_INT(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = (Bytef *)r.all.data;
    zs.avail_in = (uInt)r.all.len;
    do {
        zs.next_out = chunk;
        zs.avail_out = sizeof(chunk);
        zrc = inflate(&zs, Z_NO_FLUSH);
        dray_buf_add(&inflated, chunk, sizeof(chunk) - zs.avail_out);
    } while (zrc == Z_OK);
    CHECK_INT(zrc, Z_STREAM_END);
    CHECK_INT(zs.avail_in, 0);
    inflateEnd(&zs);
    CHECK_INT(inflated.len, plain.len);
    CHECK(inflated.len == plain.len &&
          memcmp(inflated.data, plain.data, plain.len) == 0);

    dray_bufsink_release(&bs);
    dray_gzip_free(gz);
    dray_buf_release(&plain);
    dray_buf_release(&inflated);
    dray_buf_release(&r.all);
}

static void test_gzip_levels(void)
{
    struct dray_gzip *gz = NULL;
    struct rec r;
    struct dray_sink next = rec_sink(&r), out;

    CHECK_INT(dray_gzip_open(&gz, next, 10, &out), -1);
    CHECK(gz == NULL);
    CHECK_INT(dray_gzip_open(&gz, next, -2, &out), -1);
    /* An empty stream is still a whole gzip member. */
    CHECK_INT(dray_gzip_open(&gz, next, -1, &out), 0);
    CHECK_INT(out.close(out.ctx), 0);
    CHECK_INT(r.all.len, 20);
    CHECK_INT(out.close(out.ctx), 0); /* twice is harmless */
    CHECK_INT(r.closes, 1);
    dray_gzip_free(gz);
    dray_gzip_free(NULL);
    dray_buf_release(&r.all);
}

/* ---- errors ------------------------------------------------------------- */

static void test_sink_errors_pass_through(void)
{
    static const char *const names[] = {"a"};
    struct dray_field f = S("v");
    int32_t t = DRAY_PGTYPE_TEXT;
    struct dray_bufsink bs;
    struct dray_gzip *gz;
    struct dray_sink s, stage;
    struct rec r;

    s = rec_sink(&r);
    r.fail_at = 1;
    r.fail_rc = -7;
    CHECK_INT(dray_csv_write_row(&s, NULL, &f, 1), -7);
    CHECK_INT(dray_csv_write_header(&s, NULL, names, 1), -7);
    CHECK_INT(dray_ndjson_write_row(&s, names, &f, 1, 0), -7);
    CHECK_INT(dray_copy_text_write_row(&s, &f, 1), -7);
    CHECK_INT(dray_copy_binary_write_header(&s), -7);
    CHECK_INT(dray_copy_binary_write_row(&s, &f, &t, 1, NULL), -7);
    CHECK_INT(dray_copy_binary_write_trailer(&s), -7);

    /* bufsink: at once when the write passes straight on, else at close,
       which closes next all the same. */
    dray_bufsink_init(&bs, s, 0, &stage);
    CHECK_INT(dray_csv_write_row(&stage, NULL, &f, 1), -7);
    dray_bufsink_init(&bs, s, 64, &stage);
    CHECK_INT(dray_csv_write_row(&stage, NULL, &f, 1), 0);
    CHECK_INT(stage.close(stage.ctx), -7);
    CHECK_INT(r.closes, 1);
    dray_bufsink_release(&bs);

    /* gzip: the trailer write fails; the error sticks. */
    r.closes = 0;
    CHECK_INT(dray_gzip_open(&gz, s, 1, &stage), 0);
    CHECK_INT(dray_csv_write_row(&stage, NULL, &f, 1), 0);
    CHECK_INT(stage.close(stage.ctx), -7);
    CHECK_INT(r.closes, 1);
    CHECK_INT(stage.write(stage.ctx, "x", 1), -7);
    dray_gzip_free(gz);
    dray_buf_release(&r.all);
}

/* ---- 20 MB values ------------------------------------------------------- */

#define BIG (20u * 1024 * 1024)

/* A 20 MiB value of 'a' with special at every 1000th byte. */
static char *big_value(char special)
{
    char *v = malloc(BIG);

    if (v == NULL)
        return NULL;
    memset(v, 'a', BIG);
    for (size_t i = 999; i < BIG; i += 1000)
        v[i] = special;
    return v;
}

static void test_huge_values_stream(void)
{
    static const char *const names[] = {"k"};
    const uint64_t specials = BIG / 1000; /* 20971 */
    char *q = big_value('"'), *tab = big_value('\t'), *ctl = big_value('\1');
    struct counter c;
    struct dray_sink s = {counter_write, NULL, &c};
    struct dray_field f = {DRAY_F_STRING, NULL, BIG, 0};

    CHECK(q && tab && ctl);
    if (!q || !tab || !ctl)
        goto cleanup;

    memset(&c, 0, sizeof(c));
    f.text = q; /* quoted, each quote doubled */
    CHECK_INT(dray_csv_write_row(&s, NULL, &f, 1), 0);
    CHECK_INT(c.bytes, BIG + specials + 2 + 1);
    CHECK(memcmp(c.tail, "aaaaaa\"\n", 8) == 0);
    CHECK(c.max_write <= 65536);

    memset(&c, 0, sizeof(c));
    f.text = tab; /* \t */
    CHECK_INT(dray_copy_text_write_row(&s, &f, 1), 0);
    CHECK_INT(c.bytes, BIG + specials + 1);
    CHECK(memcmp(c.tail, "aaaaaaa\n", 8) == 0);
    CHECK(c.max_write <= 65536);

    memset(&c, 0, sizeof(c));
    f.text = ctl; /* \u0001 */
    CHECK_INT(dray_ndjson_write_row(&s, names, &f, 1, 0), 0);
    CHECK_INT(c.bytes, strlen("{\"k\":\"\"}\n") + BIG + 5 * specials);
    CHECK(memcmp(c.tail, "aaaaa\"}\n", 8) == 0);
    CHECK(c.max_write <= 65536);
    CHECK(c.writes >= BIG / 65536);

cleanup:
    free(q);
    free(tab);
    free(ctl);
}

static void test_huge_value_sink_fails_midway(void)
{
    char *v = big_value('x');
    struct dray_field f = {DRAY_F_STRING, v, BIG, 0};
    struct rec r;
    struct dray_sink s = rec_sink(&r);

    r.fail_at = 3;
    r.fail_rc = -9;
    CHECK(v != NULL);
    if (v != NULL) {
        CHECK_INT(dray_csv_write_row(&s, NULL, &f, 1), -9);
        CHECK_INT(r.writes, 3); /* stopped at the failure */
    }
    free(v);
    dray_buf_release(&r.all);
}

/* ---- out of memory ------------------------------------------------------ */

static void test_out_of_memory(void)
{
    struct dray_field f = S("v");
    struct dray_bufsink bs;
    struct dray_sink stage;
    struct rec r;
    struct dray_sink next = rec_sink(&r);

    /* bufsink takes its chunk's room on the first write. */
    dray_bufsink_init(&bs, next, SIZE_MAX / 2, &stage);
    CHECK_INT(dray_csv_write_row(&stage, NULL, &f, 1), -2);
    CHECK_INT(dray_copy_text_write_row(&stage, &f, 1), -2);
    CHECK_INT(r.writes, 0);
    CHECK_INT(stage.close(stage.ctx), 0); /* nothing was buffered */
    dray_bufsink_release(&bs);
}

UNIT_MAIN(UNIT_CASE(test_csv_rows), UNIT_CASE(test_csv_header_and_options),
          UNIT_CASE(test_ndjson_rows), UNIT_CASE(test_copy_text_rows),
          UNIT_CASE(test_bufsink_chunks), UNIT_CASE(test_gzip_round_trip),
          UNIT_CASE(test_gzip_levels), UNIT_CASE(test_sink_errors_pass_through),
          UNIT_CASE(test_huge_values_stream),
          UNIT_CASE(test_huge_value_sink_fails_midway),
          UNIT_CASE(test_out_of_memory))

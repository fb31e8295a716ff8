/*
 * test_json.c - the record parser: the y_/n_ corpus in tests/sdk/data/json
 * against jansson as an oracle, generated extremes (20 MB strings, deep
 * nesting, long numbers), error messages, the tape itself and the string
 * scanner's two paths. Reading the tape: test_json_access.c.
 */
#include "dray/dray_json.h"
#include "unit.h"

#include "../../../sdk/src/json_internal.h"
#include "../../fuzz/json_oracle.h"

#include <dirent.h>
#include <stdlib.h>

#define BIG (20u * 1024 * 1024)

/*
 * Corpus files on which dray and jansson disagree on purpose, and why (the
 * kinds are explained in json_oracle.h). Every other file must get
 * jansson's verdict and values; each of these must differ just so.
 *
 * Not in the table because the oracle runs jansson with JSON_ALLOW_NUL:
 * "\u0000" in a string value (y_string_nul_escape.json), which jansson
 * refuses by default and dray accepts, flagging DRAY_JSON_F_NUL.
 */
static const struct {
    const char *file;
    enum oracle_diff diff;
} deliberate[] = {
    /* Numbers are kept as text for DECIMAL columns: any length is fine. */
    {"y_number_big_integer.json", ORACLE_DIFF_NUMBER_RANGE},
    {"y_number_huge_exponent.json", ORACLE_DIFF_NUMBER_RANGE},
    {"y_number_many_digits.json", ORACLE_DIFF_NUMBER_RANGE},
    /* "\u0000" in a member name is valid JSON; jansson never takes it. */
    {"y_object_nul_escape_in_key.json", ORACLE_DIFF_NUL_IN_KEY},
    /* The default depth limit is 512 levels; jansson's is 2048. */
    {"n_structure_deep_513.json", ORACLE_DIFF_DEPTH},
    {"n_structure_deep_objects_513.json", ORACLE_DIFF_DEPTH},
    /* A NUL byte is not white space; jansson skips one after a token. */
    {"n_nul_byte_after_number.json", ORACLE_DIFF_NUL_AFTER_TOKEN},
    {"n_nul_byte_after_literal.json", ORACLE_DIFF_NUL_AFTER_TOKEN},
};

static enum oracle_diff expected_diff(const char *file)
{
    for (size_t i = 0; i < sizeof deliberate / sizeof deliberate[0]; i++)
        if (strcmp(deliberate[i].file, file) == 0)
            return deliberate[i].diff;
    return ORACLE_SAME;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long size;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)size + 1))) {
        *len = fread(data, 1, (size_t)size, f);
        if (*len != (size_t)size) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

static void test_corpus(void)
{
    char path[4096];
    struct dirent *e;
    struct dray_json_doc doc, again;
    struct dray_buf out = DRAY_BUF_INIT;
    DIR *dir = opendir(DRAY_TEST_DATA_DIR "/json");
    int files = 0, accepted = 0;

    CHECK(dir != NULL);
    if (dir == NULL)
        return;
    dray_json_doc_init(&doc);
    dray_json_doc_init(&again);
    while ((e = readdir(dir)) != NULL) {
        const char *name = e->d_name;
        enum oracle_diff diff, want = expected_diff(name);
        size_t len = 0;
        char *text;
        const char *why;
        int ok;

        if ((name[0] != 'y' && name[0] != 'n') || name[1] != '_' ||
            strstr(name, ".json") == NULL)
            continue;
        snprintf(path, sizeof path, "%s/json/%s", DRAY_TEST_DATA_DIR, name);
        text = read_file(path, &len);
        CHECK(text != NULL);
        if (text == NULL)
            continue;
        files++;
        why = oracle_compare(&doc, text, len, &ok, &diff);
        if (why != NULL)
            UNIT_FAIL_AT("%s: %s", name, why);
        if (ok != (name[0] == 'y'))
            UNIT_FAIL_AT("%s: dray %s it", name, ok ? "accepts" : "refuses");
        if (diff != want)
            UNIT_FAIL_AT("%s: difference from jansson %d, table says %d", name,
                         (int)diff, (int)want);
        /* The compact output of what was accepted means the same. */
        if (ok && (why = oracle_check_rewrite(&doc, &again, &out)) != NULL)
            UNIT_FAIL_AT("%s: rewritten: %s", name, why);
        accepted += ok;
        free(text);
    }
    closedir(dir);
    dray_json_doc_release(&doc);
    dray_json_doc_release(&again);
    dray_buf_release(&out);
    CHECK(files >= 120);
    CHECK(accepted > 0 && accepted < files);
}

/* ---- generated extremes ------------------------------------------------- */

/* A string literal of BIG bytes: unit repeated, cut at a unit boundary. */
static char *big_string(const char *unit, size_t *len)
{
    size_t u = strlen(unit), n = 1;
    char *s = malloc(BIG + 64);

    if (s == NULL)
        return NULL;
    s[0] = '"';
    while (n + u < BIG) {
        memcpy(s + n, unit, u);
        n += u;
    }
    s[n++] = '"';
    *len = n;
    return s;
}

static void test_big_strings(void)
{
    static const struct {
        const char *unit;
        int tail; /* 0: as is; 1: drop the closing quote; 2: a bad byte */
        int ok;
        size_t err_back; /* the error's offset, counted back from the end */
    } cases[] = {
        {"abcdefghij", 0, 1, 0},
        {"a\\nb\\u00e9\\\"", 0, 1, 0},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 0, 1, 0},
        {"\\ud83d\\ude00", 0, 1, 0},
        {"abcdefghij", 1, 0, 0},
        {"abcdefghij", 2, 0, 2},
        {"\xc3\xa9", 2, 0, 2},
    };
    struct dray_json_doc doc;
    struct dray_json_error err;

    dray_json_doc_init(&doc);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        char *s = big_string(cases[i].unit, &len);
        enum oracle_diff diff;
        const char *why;
        int ok;

        CHECK(s != NULL);
        if (s == NULL)
            continue;
        if (cases[i].tail == 1)
            len--;
        if (cases[i].tail == 2)
            s[len - 2] = '\xff';
        why = oracle_compare(&doc, s, len, &ok, &diff);
        if (why != NULL)
            UNIT_FAIL_AT("big string %zu: %s", i, why);
        CHECK_INT(ok, cases[i].ok);
        if (ok) {
            CHECK_INT(doc.n_tok, 1);
            CHECK_INT(doc.tok[0].len, len - 2);
        }
        if (!cases[i].ok) {
            CHECK_INT(dray_json_parse(&doc, s, len, &err), -1);
            CHECK_INT(err.offset, len - cases[i].err_back);
        }
        free(s);
    }
    dray_json_doc_release(&doc);
}

/* n levels of open/close around a value. */
static char *nest(const char *open, const char *close, unsigned n, size_t *len)
{
    size_t o = strlen(open), c = strlen(close);
    char *s = malloc(n * (o + c) + 2), *p = s;

    if (s == NULL)
        return NULL;
    for (unsigned i = 0; i < n; i++, p += o)
        memcpy(p, open, o);
    *p++ = '1';
    for (unsigned i = 0; i < n; i++, p += c)
        memcpy(p, close, c);
    *len = (size_t)(p - s);
    return s;
}

static void test_depth_limits(void)
{
    static const struct {
        uint32_t max_depth;
        unsigned levels;
        int ok;
    } cases[] = {
        {DRAY_JSON_MAX_DEPTH, 512, 1},
        {DRAY_JSON_MAX_DEPTH, 513, 0},
        {0, 0, 1},
        {0, 1, 0},
        {3, 3, 1},
        {3, 4, 0},
        {2048, 2048, 1},
        {2048, 2049, 0},
        {70000, 65535, 1},
        {70000, 65536, 0},
    };
    struct dray_json_doc doc;
    struct dray_json_error err;

    dray_json_doc_init(&doc);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int obj = 0; obj < 2; obj++) {
            size_t len;
            char *s = obj ? nest("{\"k\":", "}", cases[i].levels, &len)
                          : nest("[", "]", cases[i].levels, &len);
            int rc;

            doc.max_depth = cases[i].max_depth;
            rc = dray_json_parse(&doc, s, len, &err);
            if ((rc == 0) != cases[i].ok)
                UNIT_FAIL_AT("limit %u, %u levels (%s): rc %d %s",
                             (unsigned)cases[i].max_depth, cases[i].levels,
                             obj ? "objects" : "arrays", rc,
                             rc ? err.message : "");
            if (rc == 0 && cases[i].levels > 0)
                CHECK_INT(doc.tok[doc.n_tok - 1].depth, cases[i].levels);
            if (rc != 0)
                CHECK_CONTAINS(err.message, "nesting deeper than");
            free(s);
        }
    }
    dray_json_doc_release(&doc);
}

static void test_long_numbers(void)
{
    static const char *const forms[] = {"%s", "-%s", "0.%s", "1e%s",
                                        "-%s.%se-%s"};
    size_t n = 100000;
    char *digits = malloc(n + 1), *text = malloc(3 * n + 16);
    struct dray_json_doc doc;
    struct dray_json_error err;

    CHECK(digits != NULL && text != NULL);
    if (digits == NULL || text == NULL)
        goto out;
    for (size_t i = 0; i < n; i++)
        digits[i] = (char)('1' + i % 9);
    digits[n] = '\0';
    dray_json_doc_init(&doc);
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        int len = snprintf(text, 3 * n + 16, forms[i], digits, digits, digits);

        CHECK_INT(dray_json_parse(&doc, text, (size_t)len, &err), 0);
        CHECK_INT(doc.tok[0].len, len);
        CHECK_INT(!!(doc.tok[0].flags & DRAY_JSON_F_INTEGER), i < 2);
    }
    dray_json_doc_release(&doc);
out:
    free(digits);
    free(text);
}

/* ---- error messages ----------------------------------------------------- */

static void test_errors(void)
{
    static const struct {
        const char *text;
        const char *message;
        size_t offset;
    } cases[] = {
        {"", "empty text", 0},
        {"   ", "unexpected end of text where a value was expected", 3},
        {"\xef\xbb\xbf{}", "byte order mark at the start of the text", 0},
        {"{\"a\"}", "unexpected character '}' after a member name", 4},
        {"{\"a\" 1}", "unexpected character '1' after a member name", 5},
        {"{\"a\":1,}",
         "unexpected character '}' where a member name was expected", 7},
        {"{a:1}", "unexpected character 'a' where a member name was", 1},
        {"{\"a\":1 \"b\":2}",
         "unexpected character '\"' after an object member", 7},
        {"[1 2]", "unexpected character '2' after an array element", 3},
        {"[1,]", "unexpected character ']' where a value was expected", 3},
        {"[1", "unexpected end of text after an array element", 2},
        {"{\"a\":1", "unexpected end of text after an object member", 6},
        {"{}x", "unexpected character 'x' after the top-level value", 2},
        {"1\x01", "unexpected byte 0x01 after the top-level value", 1},
        {"[\x0c]", "unexpected byte 0x0c where a value was expected", 1},
        {"\"abc", "unexpected end of text in a string", 4},
        {"\"a\\qb\"", "invalid escape '\\q' in a string", 2},
        {"\"\\\x01\"", "invalid escape (backslash, byte 0x01) in a string", 1},
        {"\"\\u12g4\"", "invalid \\u escape in a string", 1},
        {"\"\\u12\"", "invalid \\u escape in a string", 1},
        {"\"\\u12", "unexpected end of text in a string", 5},
        {"\"\\ud800\"", "high surrogate \\ud800 not followed by a low", 1},
        {"\"x\\ud800\\u0041\"", "high surrogate \\ud800 not followed", 2},
        {"\"\\ud800\\u00zz\"", "invalid \\u escape in a string", 7},
        {"\"\\udc00\"", "lone low surrogate \\udc00 in a string", 1},
        {"\"a\nb\"", "control character 0x0a in a string (must be escaped)", 2},
        {"\"\xc0\xaf\"", "invalid UTF-8 byte 0xc0 in a string", 1},
        {"\"\xe0\x80\xaf\"", "invalid UTF-8 byte 0x80 in a string", 2},
        {"\"\xed\xa0\x80\"", "invalid UTF-8 byte 0xa0 in a string", 2},
        {"\"\xf4\x90\x80\x80\"", "invalid UTF-8 byte 0x90 in a string", 2},
        {"\"\xe2\x82\x41\"", "invalid UTF-8 byte 0x41 in a string", 3},
        {"\"0123456789abcdef\xff\"", "invalid UTF-8 byte 0xff in a", 17},
        {"\"\xe2\x82", "unexpected end of text in a string", 3},
        {"[\xc3\xa9]", "unexpected byte 0xc3 where a value was expected", 1},
        {"01", "leading zero in a number", 0},
        {"-", "unexpected end of text after '-' (a digit is needed)", 1},
        {"-a", "unexpected character 'a' after '-'", 1},
        {"1.", "unexpected end of text after a decimal point", 2},
        {"1.e5", "unexpected character 'e' after a decimal point", 2},
        {"1e+", "unexpected end of text in an exponent", 3},
        {"[1ex]", "unexpected character 'x' in an exponent", 3},
        {"tru", "invalid literal (true, false or null expected)", 0},
        {"[nul]", "invalid literal", 1},
        {"[[[", "unexpected end of text where a value was expected", 3},
    };
    struct dray_json_doc doc;
    struct dray_json_error err;

    dray_json_doc_init(&doc);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;

        memset(&err, 0, sizeof err);
        if (dray_json_parse(&doc, t, strlen(t), &err) != -1) {
            UNIT_FAIL_AT("case %zu accepted: %s", i, t);
            continue;
        }
        CHECK_CONTAINS(err.message, cases[i].message);
        if (err.offset != cases[i].offset)
            UNIT_FAIL_AT("case %zu (%s): offset %zu, expected %zu", i,
                         err.message, err.offset, cases[i].offset);
        CHECK_INT(doc.n_tok, 0);
    }
    /* err may be NULL. */
    CHECK_INT(dray_json_parse(&doc, "[", 1, NULL), -1);
    dray_json_doc_release(&doc);
}

/* ---- the tape ----------------------------------------------------------- */

/* One token a word: type letter and depth; containers c<count>e<end>;
   @offset+len; flags K(ey) E(scaped) I(nteger) N(egative) 0 (NUL). */
static void render(const struct dray_json_doc *doc, char *out, size_t cap)
{
    static const char letters[] = "?nft#soa";
    size_t n = 0;

    out[0] = '\0';
    for (uint32_t i = 0; i < doc->n_tok && n < cap; i++) {
        const struct dray_json_token *t = &doc->tok[i];

        n += (size_t)snprintf(out + n, cap - n, "%s%c%u", i ? " " : "",
                              letters[t->type], (unsigned)t->depth);
        if (t->type >= DRAY_JSON_OBJECT && n < cap)
            n += (size_t)snprintf(out + n, cap - n, "c%ue%u",
                                  (unsigned)t->count, (unsigned)t->end);
        if (n < cap)
            n += (size_t)snprintf(out + n, cap - n, "@%u+%u%s%s%s%s%s",
                                  (unsigned)t->offset, (unsigned)t->len,
                                  t->flags & DRAY_JSON_F_KEY ? "K" : "",
                                  t->flags & DRAY_JSON_F_ESCAPED ? "E" : "",
                                  t->flags & DRAY_JSON_F_INTEGER ? "I" : "",
                                  t->flags & DRAY_JSON_F_NEGATIVE ? "N" : "",
                                  t->flags & DRAY_JSON_F_NUL ? "0" : "");
    }
}

static void test_tape(void)
{
    static const struct {
        const char *text;
        const char *tape;
    } cases[] = {
        {"null", "n0@0+4"},
        {" true ", "t0@1+4"},
        {"false", "f0@0+5"},
        {"-12", "#0@0+3IN"},
        {"1.5e3", "#0@0+5"},
        {"-0.0", "#0@0+4N"},
        {"\"ab\"", "s0@1+2"},
        {"\"a\\nb\"", "s0@1+4E"},
        {"\"\\u0000\"", "s0@1+6E0"},
        {"[]", "a0c0e1@0+2"},
        {"{ }", "o0c0e1@0+3"},
        {"{\"a\":[1,true]}", "o0c1e5@0+14 s1@2+1K a1c2e5@5+8 #2@6+1I t2@8+4"},
        {"[[],[[]],{}]", "a0c3e5@0+12 a1c0e2@1+2 a1c1e4@4+4 a2c0e4@5+2 "
                         "o1c0e5@9+2"},
        {" { \"k\\\"\" : { \"x\" : null } , \"n\" : -1 } ",
         "o0c2e7@1+37 s1@4+3KE o1c1e5@11+14 s2@14+1K n2@19+4 s1@29+1K "
         "#1@34+2IN"},
        {"{\"a\":1,\"a\":2}", "o0c2e5@0+13 s1@2+1K #1@5+1I s1@8+1K #1@11+1I"},
        {"[\"\xc3\xa9\",{\"\\u00e9\":\"x\"}]",
         "a0c2e5@0+21 s1@2+2 o1c1e5@6+14 s2@8+6KE s2@17+1"},
    };
    struct dray_json_doc doc;
    struct dray_json_error err;
    char got[512];

    dray_json_doc_init(&doc);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;

        if (dray_json_parse(&doc, t, strlen(t), &err) != 0) {
            UNIT_FAIL_AT("%s: %s", t, err.message);
            continue;
        }
        render(&doc, got, sizeof got);
        CHECK_STR(got, cases[i].tape);
        CHECK(doc.text == t && doc.text_len == strlen(t));
    }
    dray_json_doc_release(&doc);
}

/* The tape is reused: it grows to the largest text and stays. */
static void test_tape_reuse(void)
{
    struct dray_json_doc doc;
    struct dray_json_error err;
    size_t len;
    char *big = nest("[", "]", 300, &len);
    uint32_t cap;

    dray_json_doc_init(&doc);
    CHECK(big != NULL);
    CHECK_INT(dray_json_parse(&doc, big, len, &err), 0);
    CHECK_INT(doc.n_tok, 301);
    cap = doc.cap_tok;
    CHECK(cap >= 301);
    CHECK_INT(dray_json_parse(&doc, "[1]", 3, &err), 0);
    CHECK_INT(doc.n_tok, 2);
    CHECK_INT(doc.cap_tok, cap);
    CHECK_INT(dray_json_parse(&doc, "[1", 2, &err), -1);
    CHECK_INT(doc.n_tok, 0);
    CHECK_INT(doc.cap_tok, cap);
    dray_json_doc_release(&doc);
    CHECK(doc.tok == NULL && doc.cap_tok == 0);
    dray_json_doc_release(&doc); /* twice is harmless */
    free(big);
}

/* ---- the string scanner's two paths ------------------------------------- */

static void test_scanner_paths(void)
{
    static const unsigned char stoppers[] = {'"',  '\\', 0x00, 0x1f,
                                             0x80, 0xff, 0xc3};
    unsigned char buf[80];
    uint32_t seed = 12345;

    /* Every length, every stop position, every stopping byte; then noise. */
    for (size_t len = 0; len <= 48; len++)
        for (size_t at = 0; at <= len; at++)
            for (size_t k = 0; k < sizeof stoppers; k++) {
                const unsigned char *want = buf + at;

                memset(buf, 'a', sizeof buf);
                if (at < len)
                    buf[at] = stoppers[k];
                else
                    want = buf + len;
                buf[len] = '"'; /* past end: must not be seen */
                if (dray__json_find_special(buf, buf + len) != want ||
                    dray__json_find_special_portable(buf, buf + len) != want)
                    UNIT_FAIL_AT("len %zu, stop at %zu, byte 0x%02x", len, at,
                                 stoppers[k]);
            }
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(round % 80);

        for (size_t i = 0; i < sizeof buf; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (unsigned char)(0x20 + (seed >> 16) % 0x5f);
            if ((seed >> 8) % 23 == 0)
                buf[i] = (unsigned char)(seed >> 24);
        }
        if (dray__json_find_special(buf, buf + len) !=
            dray__json_find_special_portable(buf, buf + len))
            UNIT_FAIL_AT("scanners disagree on round %d", round);
    }
}

UNIT_MAIN(UNIT_CASE(test_corpus), UNIT_CASE(test_big_strings),
          UNIT_CASE(test_depth_limits), UNIT_CASE(test_long_numbers),
          UNIT_CASE(test_errors), UNIT_CASE(test_tape),
          UNIT_CASE(test_tape_reuse), UNIT_CASE(test_scanner_paths))

/*
 * fuzz_json.c - differential libFuzzer target for dray_json_parse.
 *
 * Every input is parsed by dray and by jansson; they must agree on accept
 * or reject (but for the deliberate differences in json_oracle.h) and on
 * the values. An accepted input must also survive dray_json_write: the
 * compact output parses again to the same tape shape. The string scanner's
 * SIMD and portable paths must find the same bytes.
 */
#include "dray/dray_json.h"
#include "json_internal.h"
#include "json_oracle.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const char *why)
{
    fprintf(stderr, "fuzz_json: %s: %s\n", what, why);
    abort();
}

static void check_scanner(const unsigned char *p, size_t size)
{
    for (size_t at = 0; at < size && at < 32; at++)
        if (dray__json_find_special(p + at, p + size) !=
            dray__json_find_special_portable(p + at, p + size))
            die("string scanner", "SIMD and portable paths disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Reused across inputs, as the loader reuses them across records. */
    static struct dray_json_doc doc, again;
    static struct dray_buf out;
    static int ready;
    enum oracle_diff diff;
    const char *why;
    int ok;

    if (!ready) {
        dray_json_doc_init(&doc);
        dray_json_doc_init(&again);
        ready = 1;
    }
    why = oracle_compare(&doc, (const char *)data, size, &ok, &diff);
    if (why != NULL)
        die("oracle", why);
    if (ok && (why = oracle_check_rewrite(&doc, &again, &out)) != NULL)
        die("dray_json_write", why);
    if (ok && out.len > doc.text_len)
        die("dray_json_write", "compact output longer than its source");
    check_scanner(data, size);
    return 0;
}

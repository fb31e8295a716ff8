/* harness_junit.c - the results as JUnit XML, for CI systems. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Text and attribute values: the five XML escapes; control characters
   other than tab and newline, which XML 1.0 cannot hold, become '?'. */
static void put_xml(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        default:
            fputc(ch < 0x20 && ch != '\t' && ch != '\n' ? '?' : ch, f);
        }
    }
}

int dray__junit_write(const char *path, const char *suite,
                      const struct result *r, size_t n)
{
    FILE *f = fopen(path, "w");
    size_t failed = 0, skipped = 0;
    double total = 0;

    if (f == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        failed += r[i].status == RES_FAIL;
        skipped += r[i].status == RES_SKIP;
        total += r[i].seconds;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", f);
    fputs("  <testsuite name=\"", f);
    put_xml(f, suite);
    fprintf(f,
            "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
            "skipped=\"%zu\" time=\"%.3f\">\n",
            n, failed, skipped, total);
    for (size_t i = 0; i < n; i++) {
        fputs("    <testcase classname=\"", f);
        put_xml(f, suite);
        fputs("\" name=\"", f);
        put_xml(f, r[i].name);
        fprintf(f, "\" time=\"%.3f\"", r[i].seconds);
        if (r[i].status == RES_OK) {
            fputs("/>\n", f);
            continue;
        }
        fputs(">\n", f);
        if (r[i].status == RES_SKIP) {
            fputs("      <skipped message=\"", f);
            put_xml(f, r[i].msg);
            fputs("\"/>\n", f);
        } else {
            fputs("      <failure message=\"", f);
            put_xml(f, r[i].msg);
            fputs("\">", f);
            put_xml(f, r[i].msg);
            fputs("\n", f);
            put_xml(f, r[i].diff.data);
            fputs("</failure>\n", f);
        }
        fputs("    </testcase>\n", f);
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

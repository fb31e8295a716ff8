/*
 * encode_files: writes rows given in a spec file as CSV or NDJSON through
 * the SDK's encoders, for readers.py to read back with Python's own csv
 * and json modules (and gzip -dc).
 *
 *   encode_files SPEC OUT csv DELIM QUOTE_ALL CRLF [gzip]
 *   encode_files SPEC OUT ndjson SKIP_NULLS [gzip]
 *
 * SPEC: the first line names the columns, each later line is a row; items
 * are separated by spaces. A name is hex; a field is KIND:HEX with KIND one
 * of N (null), S (string), I (int), D (decimal), F (double), B (bool),
 * T (timestamp), J (json), and HEX its text's bytes.
 */
#include "dray/dray_encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 16

static int file_write(void *ctx, const void *data, size_t len)
{
    return fwrite(data, 1, len, ctx) == len ? 0 : -3;
}

static int file_close(void *ctx)
{
    return fflush(ctx) == 0 ? 0 : -3;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes hex in place; returns the length, or -1. */
static long unhex(char *s)
{
    size_t n = strlen(s), i;

    if (n % 2)
        return -1;
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        s[i] = (char)(hi << 4 | lo);
    }
    s[i] = '\0';
    return (long)i;
}

static int parse_field(char *item, struct dray_field *f)
{
    static const char kinds[] = "NBIDFSTJ"; /* in dray_field_kind order */
    const char *k = item[0] ? strchr(kinds, item[0]) : NULL;
    long len;

    if (k == NULL || item[1] != ':' || (len = unhex(item + 2)) < 0)
        return -1;
    f->kind = (int32_t)(k - kinds);
    f->text = item + 2;
    f->len = (size_t)len;
    f->i64 = f->kind == DRAY_F_INT ? strtoll(f->text, NULL, 10) : 0;
    if (f->kind == DRAY_F_BOOL)
        f->i64 = len == 4;
    return 0;
}

/* Splits a line into at most MAX_COLS items; returns the count or -1. */
static int split(char *line, char **items)
{
    int n = 0;

    for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n")) {
        if (n == MAX_COLS)
            return -1;
        items[n++] = tok;
    }
    return n;
}

static int encode(FILE *spec, struct dray_sink *out, char **argv, int csv)
{
    struct dray_csv_opts opts = {0, 0, 0};
    const char *names[MAX_COLS];
    struct dray_field fields[MAX_COLS];
    char *items[MAX_COLS], *line = NULL, *header = NULL;
    size_t cap = 0;
    int ncols = -1, n, rc = 0;

    if (csv) {
        opts.delimiter = argv[4][0] == 't' ? '\t' : argv[4][0];
        opts.quote_all = atoi(argv[5]);
        opts.crlf = atoi(argv[6]);
    }
    while (rc == 0 && getline(&line, &cap, spec) > 0) {
        n = split(line, items);
        if (n < 0 || (ncols >= 0 && n != ncols)) {
            rc = -1;
            break;
        }
        for (int i = 0; i < n && rc == 0; i++)
            rc = ncols < 0 ? (unhex(items[i]) < 0 ? -1 : 0)
                           : parse_field(items[i], &fields[i]);
        if (rc != 0)
            break;
        if (ncols < 0) {
            /* The header line: keep it, names point into it. */
            header = line;
            line = NULL;
            cap = 0;
            ncols = n;
            for (int i = 0; i < n; i++)
                names[i] = items[i];
            if (csv)
                rc = dray_csv_write_header(out, &opts, names, (size_t)n);
        } else if (csv) {
            rc = dray_csv_write_row(out, &opts, fields, (size_t)n);
        } else {
            rc = dray_ndjson_write_row(out, names, fields, (size_t)n,
                                       atoi(argv[4]));
        }
    }
    free(line);
    free(header);
    return rc;
}

int main(int argc, char **argv)
{
    FILE *spec = NULL, *outf = NULL;
    struct dray_sink file = {file_write, file_close, NULL}, out, buffered;
    struct dray_bufsink bs;
    struct dray_gzip *gz = NULL;
    int csv, nargs, rc = 1;

    if (argc < 5)
        goto usage;
    csv = strcmp(argv[3], "csv") == 0;
    nargs = csv ? 7 : 5;
    if ((!csv && strcmp(argv[3], "ndjson") != 0) || argc < nargs ||
        argc > nargs + 1)
        goto usage;
    spec = fopen(argv[1], "r");
    outf = fopen(argv[2], "wb");
    if (spec == NULL || outf == NULL) {
        perror("open");
        goto cleanup;
    }
    file.ctx = outf;
    out = file;
    if (argc == nargs + 1 && dray_gzip_open(&gz, file, 9, &out) != 0)
        goto cleanup;
    /* Small writes gather before the gzip stage or the file. */
    dray_bufsink_init(&bs, out, 4096, &buffered);
    rc = encode(spec, &buffered, argv, csv);
    if (rc == 0)
        rc = buffered.close(buffered.ctx);
    if (rc != 0)
        fprintf(stderr, "encode_files: status %d\n", rc);
    dray_bufsink_release(&bs);
    rc = rc != 0;
    goto cleanup;
usage:
    fprintf(stderr, "usage: encode_files SPEC OUT csv DELIM QUOTE_ALL CRLF "
                    "[gzip] | SPEC OUT ndjson SKIP_NULLS [gzip]\n");
cleanup:
    dray_gzip_free(gz);
    if (spec)
        fclose(spec);
    if (outf && fclose(outf) != 0)
        rc = 1;
    return rc;
}

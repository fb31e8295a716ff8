/*
 * spool_dump - a test-only reader of a spool (docs/SPOOL.md).
 *
 *   spool_dump [--batches] SPOOL
 *
 * Opens SPOOL read-only (spool_open with create=0: nothing is created,
 * nothing swept), lists its batches in spool order, verifies each with
 * spool_batch_read and prints one JSON object a line on stdout:
 *
 *   records (default): {"batch":ID,"integration":I,"stream":S,"seq":N,
 *                       "index":K,"rejected":BOOL,"record":<as stored>}
 *                      plus "reason" for rejected records
 *   --batches:         {"batch":ID,"file":NAME,"integration":I,"stream":S,
 *                       "records":N,"first_sequence":N,"created_at_ms":N,
 *                       "table_version":N|null,"activate_version":BOOL,
 *                       "bytes":N}
 *
 * A damaged batch (checksum, end mark, header, footer, a record frame, an
 * id that does not match the file name, records that do not fill the
 * batch) prints one line "spool_dump: ..." on stderr and the dump goes on
 * with the next batch; the exit status is then 1. 0: every batch intact.
 * 2: usage, or the spool cannot be opened.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"
#include "strbuf.h"

/* Writes s as a JSON string. */
static void put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* The file must be named after the id in its footer. */
static int name_matches(const struct spool_batch *b)
{
    const char *name = base_name(b->file);
    size_t n = strlen(b->id);

    return strncmp(name, b->id, n) == 0 && strcmp(name + n, ".batch") == 0;
}

static void print_batch(FILE *out, const struct spool_batch *b)
{
    fputs("{\"batch\":", out);
    put_string(out, b->id);
    fputs(",\"file\":", out);
    put_string(out, base_name(b->file));
    fputs(",\"integration\":", out);
    put_string(out, b->integration);
    fputs(",\"stream\":", out);
    put_string(out, b->stream);
    fprintf(out,
            ",\"records\":%" PRIu64 ",\"first_sequence\":%" PRId64
            ",\"created_at_ms\":%" PRId64,
            b->n_records, b->first_sequence, b->created_at_ms);
    if (b->has_table_version)
        fprintf(out, ",\"table_version\":%" PRId64, b->table_version);
    else
        fputs(",\"table_version\":null", out);
    fprintf(out, ",\"activate_version\":%s,\"bytes\":%" PRIu64 "}\n",
            b->activate_version ? "true" : "false", b->size);
}

static void print_record(FILE *out, const struct spool_batch *b,
                         const struct spool_record *r)
{
    int rejected = (r->meta.flags & SPOOL_REC_REJECTED) != 0;

    fputs("{\"batch\":", out);
    put_string(out, b->id);
    fputs(",\"integration\":", out);
    put_string(out, b->integration);
    fputs(",\"stream\":", out);
    put_string(out, b->stream);
    fprintf(out, ",\"seq\":%" PRId64 ",\"index\":%" PRIu64 ",\"rejected\":%s",
            r->sequence, r->index, rejected ? "true" : "false");
    if (rejected && r->meta.reason) {
        fputs(",\"reason\":", out);
        put_string(out, r->meta.reason);
    }
    fputs(",\"record\":", out);
    fwrite(r->json, 1, r->len, out);
    fputs("}\n", out);
}

/* Dumps one batch; 0, or -1 with the reason in err. Records are printed
   only once the whole batch has been read: a damaged batch prints none. */
static int dump_batch(const char *file, int batches_only, struct strbuf *err)
{
    struct spool_batch b;
    struct spool_record r;
    char *text = NULL;
    size_t size = 0;
    FILE *mem;
    int rc = -1, got = 0;

    if (spool_batch_read(file, &b, err) != 0)
        return -1;
    if (!name_matches(&b)) {
        strbuf_addf(err, "batch '%s' is damaged (its footer names '%s')", file,
                    b.id);
        goto out;
    }
    mem = open_memstream(&text, &size);
    if (mem == NULL) {
        strbuf_addf(err, "out of memory");
        goto out;
    }
    if (batches_only)
        print_batch(mem, &b);
    while (!batches_only && (got = spool_batch_next(&b, &r, err)) == 1)
        print_record(mem, &b, &r);
    fclose(mem);
    if (!batches_only && got < 0)
        goto out;
    if (!batches_only && b.pos + b.buf_off != b.records_end) {
        strbuf_addf(err,
                    "batch '%s' is damaged (%" PRIu64
                    " records do not fill its record area)",
                    file, b.n_records);
        goto out;
    }
    fwrite(text, 1, size, stdout);
    rc = 0;
out:
    free(text);
    spool_batch_release(&b);
    return rc;
}

int main(int argc, char **argv)
{
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    char **files = NULL;
    const char *path = NULL;
    int batches_only = 0, status = 0, usage = 0;
    size_t n;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--batches") == 0)
            batches_only = 1;
        else if (path == NULL && argv[i][0] != '-')
            path = argv[i];
        else
            usage = 1;
    }
    if (path == NULL || usage) {
        fputs("usage: spool_dump [--batches] SPOOL\n", stderr);
        return 2;
    }
    if (spool_open(&sp, path, 0, &err) != 0) {
        fprintf(stderr, "spool_dump: %s\n", strbuf_str(&err));
        strbuf_release(&err);
        return 2;
    }
    n = spool_list(&sp, &files);
    for (size_t i = 0; i < n; i++) {
        strbuf_reset(&err);
        if (dump_batch(files[i], batches_only, &err) != 0) {
            fprintf(stderr, "spool_dump: %s\n", strbuf_str(&err));
            status = 1;
        }
        free(files[i]);
    }
    free(files);
    if (fflush(stdout) != 0) {
        perror("spool_dump: stdout");
        status = 1;
    }
    strbuf_release(&err);
    spool_close(&sp);
    return status;
}

/*
 * parse_bench.c - parse+validate throughput of dray_json_parse against
 * jansson's json_loadb on a file of one JSON text a line.
 *
 * The file is read into memory first; each run parses every line once on
 * one thread, and the best of three runs counts. Usage: parse_bench FILE
 */
#include "dray/dray_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 3

struct lines {
    char *data;
    size_t size;
    size_t *start, *len;
    size_t n;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int load(const char *path, struct lines *l)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 0, i, s;
    long size;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0)
        goto fail;
    l->size = (size_t)size;
    l->data = malloc(l->size + 1);
    if (l->data == NULL || fread(l->data, 1, l->size, f) != l->size)
        goto fail;
    fclose(f);
    l->n = 0;
    for (i = s = 0; i < l->size; i++) {
        if (l->data[i] != '\n')
            continue;
        if (l->n == cap) {
            cap = cap ? cap * 2 : 1024;
            l->start = realloc(l->start, cap * sizeof *l->start);
            l->len = realloc(l->len, cap * sizeof *l->len);
            if (l->start == NULL || l->len == NULL)
                return -1;
        }
        l->start[l->n] = s;
        l->len[l->n++] = i - s;
        s = i + 1;
    }
    return 0;
fail:
    if (f)
        fclose(f);
    return -1;
}

/* One run over every line; returns seconds, or -1 when a line fails. */
static double run_dray(const struct lines *l, struct dray_json_doc *doc,
                       size_t *tokens)
{
    struct dray_json_error err;
    double t0 = now();

    *tokens = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (dray_json_parse(doc, l->data + l->start[i], l->len[i], &err) != 0) {
            fprintf(stderr, "dray: line %zu: %s at %zu\n", i + 1, err.message,
                    err.offset);
            return -1;
        }
        *tokens += doc->n_tok;
    }
    return now() - t0;
}

static double run_jansson(const struct lines *l)
{
    json_error_t err;
    double t0 = now();

    for (size_t i = 0; i < l->n; i++) {
        json_t *v =
            json_loadb(l->data + l->start[i], l->len[i], JSON_DECODE_ANY, &err);
        if (v == NULL) {
            fprintf(stderr, "jansson: line %zu: %s\n", i + 1, err.text);
            return -1;
        }
        json_decref(v);
    }
    return now() - t0;
}

int main(int argc, char **argv)
{
    struct lines l = {0};
    struct dray_json_doc doc;
    double best_d = 1e30, best_j = 1e30, t, mb;
    size_t bytes = 0, tokens = 0;

    if (argc != 2 || load(argv[1], &l) != 0) {
        fprintf(stderr, "usage: parse_bench FILE (one JSON text a line)\n");
        return 2;
    }
    for (size_t i = 0; i < l.n; i++)
        bytes += l.len[i];
    dray_json_doc_init(&doc);
    for (int r = 0; r < RUNS; r++) {
        if ((t = run_dray(&l, &doc, &tokens)) < 0)
            return 1;
        best_d = t < best_d ? t : best_d;
    }
    for (int r = 0; r < RUNS; r++) {
        if ((t = run_jansson(&l)) < 0)
            return 1;
        best_j = t < best_j ? t : best_j;
    }
    mb = (double)bytes / 1e6;
    printf("records: %zu, %.1f MB, %.1f bytes/record, %.1f tokens/record\n",
           l.n, mb, (double)bytes / (double)l.n, (double)tokens / (double)l.n);
    printf("dray_json_parse: %8.1f MB/s  (%.3f s, %.0f ns/record)\n",
           mb / best_d, best_d, best_d * 1e9 / (double)l.n);
    printf("jansson json_loadb: %5.1f MB/s  (%.3f s, %.0f ns/record)\n",
           mb / best_j, best_j, best_j * 1e9 / (double)l.n);
    printf("ratio: %.1fx\n", best_j / best_d);
    dray_json_doc_release(&doc);
    free(l.data);
    free(l.start);
    free(l.len);
    return 0;
}

/*
 * gate_test_util.h - shared helpers of the gate unit tests: a fresh spool
 * for every case in a folder under /tmp, a gate on it, feeding it a file,
 * and reading what it stored back with the spool's reader.
 */
#ifndef DRAY_TESTS_GATE_TEST_UTIL_H
#define DRAY_TESTS_GATE_TEST_UTIL_H

#include "unit.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "gate.h"
#include "log.h"
#include "spool.h"

#define MAX_VIEWS 64
#define MAX_RECS 16

static char root[PATH_MAX];
static int case_no;
static struct spool sp;
static struct gate g;

/* ---- set-up ---- */

static inline void remove_root(void)
{
    unit_remove_tree(root);
}

static inline struct gate_settings defaults(void)
{
    struct gate_settings s;

    memset(&s, 0, sizeof(s));
    s.integration = "shop";
    s.on_invalid = CONFIG_INVALID_SPLIT;
    s.batch_max_bytes = CONFIG_BATCH_MAX_BYTES;
    s.batch_max_records = CONFIG_BATCH_MAX_RECORDS;
    s.batch_max_age_ms = CONFIG_BATCH_MAX_AGE_MS;
    s.wait_when_full = 1;
    return s;
}

static inline void start(const struct gate_settings *set)
{
    struct strbuf err = STRBUF_INIT;
    char dir[PATH_MAX + 32];

    if (root[0] == '\0') {
        strcpy(root, "/tmp/dray-test-gate-XXXXXX");
        if (mkdtemp(root) == NULL) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(remove_root);
    }
    log_set_level(DRAY_LOG_ERROR); /* warnings are expected here */
    snprintf(dir, sizeof(dir), "%s/spool%d", root, ++case_no);
    if (spool_open(&sp, dir, 1, &err) != 0) {
        fprintf(stderr, "spool_open: %s\n", strbuf_str(&err));
        exit(2);
    }
    strbuf_release(&err);
    gate_init(&g, &sp, set);
}

static inline void stop(void)
{
    gate_release(&g);
    spool_close(&sp);
}

/* Runs text through the gate as the file "in.jsonl". */
static inline int feed(const char *text)
{
    char path[PATH_MAX + 16];
    int fd, rc;
    FILE *f;

    snprintf(path, sizeof(path), "%s/in.jsonl", root);
    f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
    fd = open(path, O_RDONLY);
    rc = gate_read(&g, fd, "in.jsonl");
    close(fd);
    return rc;
}

/* ---- reading the spool back ---- */

struct rec {
    char json[512];
    uint32_t flags;
    char reason[256];
    char pk[40];
    char extracted[40];
    int64_t received_at_us;
    int64_t sequence;
};

struct view {
    char stream[64];
    char keys[128]; /* "a,b" */
    char routes[128];
    char schema[512];
    int activate;
    int has_tv;
    int64_t tv;
    uint64_t n; /* records; the first MAX_RECS are kept */
    struct rec rec[MAX_RECS];
};

static struct view views[MAX_VIEWS];
static size_t n_views;

static inline void join(char *dst, size_t len, char **items, size_t n)
{
    size_t used = 0;

    dst[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(dst + used, len - used, "%s%s", i ? "," : "",
                                 items[i]);
}

static inline void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* Reads every batch of the spool into views, in spool order. */
static inline size_t read_spool(void)
{
    char **files = NULL;
    size_t n = spool_list(&sp, &files);
    struct strbuf err = STRBUF_INIT;

    n_views = 0;
    memset(views, 0, sizeof(views));
    for (size_t i = 0; i < n && n_views < MAX_VIEWS; i++) {
        struct spool_batch b;
        struct spool_record r;
        struct view *v = &views[n_views++];

        if (spool_batch_read(files[i], &b, &err) != 0) {
            UNIT_FAIL_AT("cannot read batch: %s", strbuf_str(&err));
            continue;
        }
        copy(v->stream, sizeof(v->stream), b.stream);
        join(v->keys, sizeof(v->keys), b.keys, b.n_keys);
        join(v->routes, sizeof(v->routes), b.routes, b.n_routes);
        copy(v->schema, sizeof(v->schema), b.schema_json);
        v->activate = b.activate_version;
        v->has_tv = b.has_table_version;
        v->tv = b.table_version;
        while (spool_batch_next(&b, &r, &err) == 1) {
            if (v->n < MAX_RECS) {
                struct rec *x = &v->rec[v->n];

                snprintf(x->json, sizeof(x->json), "%.*s", (int)r.len, r.json);
                x->flags = r.meta.flags;
                copy(x->reason, sizeof(x->reason), r.meta.reason);
                copy(x->pk, sizeof(x->pk), r.meta.primary_key);
                copy(x->extracted, sizeof(x->extracted), r.meta.extracted_at);
                x->received_at_us = r.meta.received_at_us;
                x->sequence = r.sequence;
            }
            v->n++;
        }
        CHECK_INT(v->n, b.n_records);
        spool_batch_release(&b);
    }
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    strbuf_release(&err);
    return n_views;
}

#endif

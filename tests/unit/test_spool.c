/*
 * The spool's local backend: batches written, committed, listed and read
 * back; ids and sequences across writers; damage, formats, temp sweeping,
 * saved STATE.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch.h"
#include "host_api.h"
#include "spool.h"
#include "unit.h"

static char root[] = "/tmp/dray-spool-test-XXXXXX";

static char *path_in(const char *name)
{
    return xasprintf("%s/%s", root, name);
}

static struct spool_writer *start(struct spool *sp, const char *stream)
{
    static const char *const keys[] = {"id"};
    static const char *const routes[] = {"warehouse", "lake"};
    struct spool_batch_head h = {
        .integration = "shop",
        .stream = stream,
        .keys = keys,
        .n_keys = 1,
        .schema_json = "{\"type\":\"object\",\"properties\":{\"id\":"
                       "{\"type\":\"integer\"}}}",
        .has_table_version = 1,
        .table_version = 7,
        .routes = routes,
        .n_routes = 2};
    struct strbuf err = STRBUF_INIT;
    struct spool_writer *w = spool_writer_open(sp, &h, &err);

    CHECK_STR(strbuf_str(&err), "");
    strbuf_release(&err);
    return w;
}

static void add(struct spool_writer *w, const char *json,
                const struct spool_record_meta *m)
{
    struct strbuf err = STRBUF_INIT;

    CHECK_INT(spool_writer_add(w, json, strlen(json), m, &err), 0);
    CHECK_STR(strbuf_str(&err), "");
    strbuf_release(&err);
}

static void test_write_commit_read(void)
{
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    struct spool_writer *w;
    struct spool_batch b;
    struct spool_record r;
    char id[129], **files = NULL;
    size_t n;

    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    CHECK_STR(strbuf_str(&err), "");
    w = start(&sp, "orders");
    add(w, "{\"id\":1}",
        &(struct spool_record_meta){.received_at_us = 1000,
                                    .extracted_at = "2024-01-01T00:00:00Z"});
    add(w, "{\"id\":null}",
        &(struct spool_record_meta){.flags = SPOOL_REC_REJECTED,
                                    .received_at_us = 2000,
                                    .reason =
                                        "Record is missing key property id"});
    add(w, "{\"id\":3,\"x\":\"\\u00e9\"}",
        &(struct spool_record_meta){.received_at_us = 3000,
                                    .primary_key = "5b0c…uuid"});
    CHECK_INT(spool_writer_records(w), 3);
    CHECK_INT(spool_writer_commit(w, id, &err), 0);
    CHECK_STR(strbuf_str(&err), "");
    CHECK(strncmp(id, sp.uuid, 36) == 0);
    CHECK(strlen(id) <= 128);
    for (const char *p = id; *p; p++)
        CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-');

    n = spool_list(&sp, &files);
    CHECK_INT(n, 1);
    CHECK_INT(spool_batch_read(files[0], &b, &err), 0);
    CHECK_STR(strbuf_str(&err), "");
    CHECK_STR(b.id, id);
    CHECK_STR(b.integration, "shop");
    CHECK_STR(b.stream, "orders");
    CHECK_INT(b.n_keys, 1);
    CHECK_STR(b.keys[0], "id");
    CHECK_INT(b.n_routes, 2);
    CHECK_STR(b.routes[1], "lake");
    CHECK_INT(b.has_table_version, 1);
    CHECK_INT(b.table_version, 7);
    CHECK_INT(b.n_records, 3);
    CHECK_CONTAINS(b.schema_json, "\"id\":{\"type\":\"integer\"}");

    CHECK_INT(spool_batch_next(&b, &r, &err), 1);
    CHECK(r.len == 8 && memcmp(r.json, "{\"id\":1}", 8) == 0);
    CHECK_INT(r.meta.received_at_us, 1000);
    CHECK_STR(r.meta.extracted_at, "2024-01-01T00:00:00Z");
    CHECK(r.meta.primary_key == NULL);
    int64_t first = r.sequence;
    CHECK(first > 0);
    CHECK_INT(spool_batch_next(&b, &r, &err), 1);
    CHECK_INT(r.meta.flags & SPOOL_REC_REJECTED, SPOOL_REC_REJECTED);
    CHECK_STR(r.meta.reason, "Record is missing key property id");
    CHECK_INT(r.sequence, first + 1);
    CHECK_INT(spool_batch_next(&b, &r, &err), 1);
    CHECK_STR(r.meta.primary_key, "5b0c…uuid");
    CHECK_INT(spool_batch_next(&b, &r, &err), 0);
    spool_batch_rewind(&b);
    CHECK_INT(spool_batch_next(&b, &r, &err), 1);
    CHECK_INT(r.sequence, first);
    int64_t created = b.created_at_ms;
    spool_batch_release(&b);

    /* A second batch of the stream continues after the first. */
    w = start(&sp, "orders");
    add(w, "{\"id\":4}", &(struct spool_record_meta){0});
    CHECK_INT(spool_writer_commit(w, id, &err), 0);
    free(files[0]);
    free(files);
    n = spool_list(&sp, &files);
    CHECK_INT(n, 2);
    CHECK_INT(spool_batch_read(files[1], &b, &err), 0);
    CHECK(b.first_sequence > first + 2);
    CHECK(b.created_at_ms > created);
    CHECK(strcmp(files[0], files[1]) < 0);
    spool_batch_release(&b);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    CHECK(spool_bytes(&sp) > 0);
    strbuf_release(&err);
    spool_close(&sp);
}

static void test_damage_is_refused(void)
{
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    struct spool_batch b;
    char **files = NULL;
    size_t n;

    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    n = spool_list(&sp, &files);
    CHECK(n >= 1);
    if (n >= 1) {
        /* Flip one byte in the middle of the records. */
        FILE *f = fopen(files[0], "r+b");
        CHECK(f != NULL);
        if (f) {
            fseek(f, 40, SEEK_SET);
            int c = fgetc(f);
            fseek(f, 40, SEEK_SET);
            fputc(c ^ 0x20, f);
            fclose(f);
        }
        CHECK_INT(spool_batch_read(files[0], &b, &err), -1);
        CHECK_CONTAINS(strbuf_str(&err), "is damaged (checksum mismatch)");
        /* A batch cut short is refused too. */
        strbuf_reset(&err);
        CHECK_INT(truncate(files[0], 30), 0);
        CHECK_INT(spool_batch_read(files[0], &b, &err), -1);
        CHECK_CONTAINS(strbuf_str(&err), "is damaged");
        unlink(files[0]);
    }
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    strbuf_release(&err);
    spool_close(&sp);
}

static void test_format_and_sweep(void)
{
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    char *fmt = path_in("FORMAT"), *dead = path_in("tmp/999999999-1.tmp");
    char *live = xasprintf("%s/tmp/%ld-1.tmp", root, (long)getpid());
    FILE *f;
    char text[256];
    size_t n;

    /* Temp files of dead writers go, those of live ones stay. */
    fclose(fopen(dead, "w"));
    fclose(fopen(live, "w"));
    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    CHECK(access(dead, F_OK) != 0);
    CHECK(access(live, F_OK) == 0);
    spool_close(&sp);
    unlink(live);

    f = fopen(fmt, "r");
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    f = fopen(fmt, "w");
    fputs("dray-spool\nformat 2\nuuid 00000000-0000-4000-8000-000000000000\n",
          f);
    fclose(f);
    CHECK_INT(spool_open(&sp, root, 1, &err), -1);
    char *want = xasprintf("spool '%s' has format 2; this dray reads format "
                           "1; use the newer dray that wrote it",
                           root);
    CHECK_STR(strbuf_str(&err), want);
    free(want);
    f = fopen(fmt, "w");
    fputs(text, f);
    fclose(f);
    strbuf_reset(&err);
    CHECK_INT(spool_open(&sp, "/nonexistent/dray/spool", 1, &err), -1);
    CHECK_CONTAINS(strbuf_str(&err),
                   "cannot create spool folder '/nonexistent/dray/spool'");
    free(fmt);
    free(dead);
    free(live);
    strbuf_release(&err);
}

static void test_state(void)
{
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    char *s;

    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    CHECK(spool_state_load(&sp, "shop") == NULL);
    CHECK_INT(spool_state_save(&sp, "shop", "{\"b\":1}", 7, &err), 0);
    CHECK_INT(spool_state_save(&sp, "shop", "{\"b\":2}", 7, &err), 0);
    s = spool_state_load(&sp, "shop");
    CHECK_STR(s, "{\"b\":2}");
    free(s);
    CHECK(spool_state_load(&sp, "other") == NULL);
    strbuf_release(&err);
    spool_close(&sp);
}

/* Writers in several processes: ids unique, sequence ranges disjoint and
   in the order of the batch numbers. */
static void test_concurrent_writers(void)
{
    enum { PROCS = 4, BATCHES = 5, RECORDS = 50 };
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    char **files = NULL;
    size_t n;

    for (int p = 0; p < PROCS; p++) {
        pid_t pid = fork();
        if (pid == 0) {
            struct spool own;
            struct strbuf e = STRBUF_INIT;
            if (spool_open(&own, root, 1, &e) != 0)
                _exit(1);
            for (int b = 0; b < BATCHES; b++) {
                struct spool_writer *w = start(&own, "race");
                for (int r = 0; r < RECORDS; r++)
                    spool_writer_add(w, "{\"id\":1}", 8,
                                     &(struct spool_record_meta){0}, &e);
                if (spool_writer_commit(w, NULL, &e) != 0)
                    _exit(2);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        int st;
        wait(&st);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    n = spool_list(&sp, &files);
    int64_t last_end = -1;
    size_t race = 0;
    for (size_t i = 0; i < n; i++) {
        struct spool_batch b;
        if (spool_batch_read(files[i], &b, &err) != 0) {
            UNIT_FAIL_AT("%s", strbuf_str(&err));
            continue;
        }
        if (strcmp(b.stream, "race") == 0) {
            race++;
            CHECK_INT(b.n_records, RECORDS);
            /* spool order = batch number order: sequences keep rising */
            CHECK(b.first_sequence > last_end);
            last_end = b.first_sequence + RECORDS - 1;
        }
        spool_batch_release(&b);
    }
    CHECK_INT(race, PROCS * BATCHES);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    strbuf_release(&err);
    spool_close(&sp);
}

/* A spool batch handed to a plugin through the host table: records, their
   system fields and the gate's rejects. */
static void test_spool_batch_through_the_abi(void)
{
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    struct spool_writer *w;
    char id[129], *file;
    const struct dray_host_api *h = host_api();
    struct dray_batch *b;
    const dray_record *r = NULL;

    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    w = start(&sp, "abi");
    add(w, "{\"id\":1,\"p\":1.50}",
        &(struct spool_record_meta){.received_at_us = 1700000000123456});
    add(w, "{}",
        &(struct spool_record_meta){.flags = SPOOL_REC_REJECTED,
                                    .reason =
                                        "Record is missing key property id"});
    CHECK_INT(spool_writer_commit(w, id, &err), 0);
    file = xasprintf("%s/batches/%s.batch", root, id);
    b = batch_open_spool(file, 3, NULL, &err);
    CHECK_STR(strbuf_str(&err), "");
    if (b) {
        struct dray_batch_info info = DRAY_VIEW_INIT(struct dray_batch_info);
        struct dray_record_meta m = DRAY_VIEW_INIT(struct dray_record_meta);
        const char *json;
        uint64_t len;

        CHECK_INT(h->batch_info(b, &info), 0);
        CHECK_STR(info.batch_id, id);
        CHECK_INT(info.attempt, 3);
        CHECK_INT(info.row_count, 2);
        CHECK_INT(info.table_version, 7);
        CHECK(info.flags & DRAY_BATCH_HAS_TABLE_VERSION);
        CHECK_INT(h->batch_next(b, &r, NULL), DRAY_OK);
        h->record_json(r, &json, &len);
        CHECK(len == 17 && memcmp(json, "{\"id\":1,\"p\":1.50}", 17) == 0);
        CHECK_INT(h->record_meta(r, &m), 0);
        CHECK_STR(m.received_at, "2023-11-14T22:13:20.123456Z");
        CHECK_INT(m.flags & DRAY_REC_REJECTED, 0);
        int64_t s0 = m.sequence;
        CHECK_INT(h->batch_next(b, &r, NULL), DRAY_OK);
        CHECK_INT(h->record_meta(r, &m), 0);
        CHECK_INT(m.sequence, s0 + 1);
        CHECK_INT(m.flags & DRAY_REC_REJECTED, DRAY_REC_REJECTED);
        CHECK_STR(m.reject_reason, "Record is missing key property id");
        CHECK_INT(h->batch_next(b, &r, NULL), DRAY_OK);
        CHECK(r == NULL);
        CHECK_INT(h->batch_rewind(b, NULL), DRAY_OK);
        CHECK_INT(h->batch_next(b, &r, NULL), DRAY_OK);
        CHECK(r != NULL);
        batch_free(b);
    }
    free(file);
    strbuf_release(&err);
    spool_close(&sp);
}

/* Per destination: leases die with their holder, acks retire a batch once
   every route has one, quarantine and requeue, attempts count. */
static void test_destinations(void)
{
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    struct spool_writer *w;
    char id[129], hash[17], *file, *reason;
    int fd = -1, fd2 = -1;

    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    w = start(&sp, "dest"); /* routed to warehouse and lake */
    add(w, "{\"id\":1}", &(struct spool_record_meta){0});
    CHECK_INT(spool_writer_commit(w, id, &err), 0);
    file = xasprintf("%s/batches/%s.batch", root, id);
    CHECK_INT(spool_id_stream_hash(id, hash), 0);
    CHECK_INT(strlen(hash), 16);

    /* Leases: one holder at a time; a dead holder's lease is free. */
    CHECK_INT(spool_lease(&sp, "warehouse", hash, &fd, &err), 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct strbuf e = STRBUF_INIT;
        int f2;
        _exit(spool_lease(&sp, "warehouse", hash, &f2, &e) == 1 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_INT(spool_lease(&sp, "lake", hash, &fd2, &err), 0); /* others free */
    close(fd2);
    pid = fork();
    if (pid == 0) {
        struct strbuf e = STRBUF_INIT;
        int f3;
        if (spool_lease(&sp, "lake", hash, &f3, &e) != 0)
            _exit(1);
        raise(SIGKILL); /* dies holding it */
    }
    waitpid(pid, &st, 0);
    CHECK_INT(spool_lease(&sp, "lake", hash, &fd2, &err), 0);
    close(fd2);
    close(fd);

    /* Attempts, quarantine, requeue. */
    CHECK_INT(spool_attempt(&sp, "warehouse", id, &err), 1);
    CHECK_INT(spool_attempt(&sp, "warehouse", id, &err), 2);
    CHECK_INT(spool_dest_state(&sp, "warehouse", id), SPOOL_PENDING);
    CHECK_INT(spool_quarantine(&sp, "warehouse", id, "dest",
                               "plugin crashed\n(SIGSEGV) 3 times", &err),
              0);
    CHECK_INT(spool_dest_state(&sp, "warehouse", id), SPOOL_QUARANTINED);
    reason = spool_quarantine_reason(&sp, "warehouse", id);
    CHECK_STR(reason, "plugin crashed (SIGSEGV) 3 times");
    free(reason);
    CHECK_INT(spool_requeue(&sp, "warehouse", id, &err), 0);
    CHECK_INT(spool_requeue(&sp, "warehouse", id, &err), 1);
    CHECK_INT(spool_dest_state(&sp, "warehouse", id), SPOOL_PENDING);
    CHECK_INT(spool_attempt(&sp, "warehouse", id, &err), 1);

    /* Acks: the batch stays until both routes acked it. */
    CHECK_INT(spool_ack(&sp, "warehouse", file, 0, &err), 0);
    CHECK_INT(spool_dest_state(&sp, "warehouse", id), SPOOL_ACKED);
    CHECK(access(file, F_OK) == 0);
    CHECK_INT(spool_ack(&sp, "lake", file, 0, &err), 0);
    CHECK(access(file, F_OK) != 0);
    CHECK_STR(strbuf_str(&err), "");
    free(file);
    strbuf_release(&err);
    spool_close(&sp);
}

/* A lost counters file never makes an id repeat (which would replace a
   committed batch); a damaged one stops the commit. */
static void test_counters_lost_or_damaged(void)
{
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    struct spool_writer *w;
    char id1[129], id3[129], hash[17], *seq, *cmd;

    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    for (int i = 0; i < 2; i++) {
        w = start(&sp, "lost");
        add(w, "{\"id\":1}", &(struct spool_record_meta){0});
        CHECK_INT(spool_writer_commit(w, i == 0 ? id1 : id3, &err), 0);
    }
    CHECK_INT(spool_id_stream_hash(id1, hash), 0);
    seq = xasprintf("%s/streams/%s.seq", root, hash);
    CHECK_INT(unlink(seq), 0);
    w = start(&sp, "lost");
    add(w, "{\"id\":3}", &(struct spool_record_meta){0});
    CHECK_INT(spool_writer_commit(w, id3, &err), 0);
    CHECK(strcmp(id3 + strlen(id3) - 3, "003") == 0);
    char *f1 = xasprintf("%s/batches/%s.batch", root, id1);
    struct spool_batch b;
    CHECK_INT(spool_batch_read(f1, &b, &err), 0);
    CHECK_INT(b.n_records, 1);
    spool_batch_release(&b);
    free(f1);

    cmd = xasprintf("echo garbage > '%s'", seq);
    CHECK_INT(system(cmd), 0);
    w = start(&sp, "lost");
    add(w, "{\"id\":4}", &(struct spool_record_meta){0});
    CHECK_INT(spool_writer_commit(w, NULL, &err), -1);
    CHECK_CONTAINS(strbuf_str(&err), "is damaged");
    unlink(seq);
    free(cmd);
    free(seq);
    strbuf_release(&err);
    spool_close(&sp);
}

static void test_cleanup(void)
{
    char *cmd = xasprintf("rm -rf '%s'", root);

    CHECK_INT(system(cmd), 0);
    free(cmd);
}

static void setup(void)
{
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    /* The spool folder itself is created by spool_open. */
    rmdir(root);
}

static void test_create_mode(void)
{
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    struct stat st;

    setup();
    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    CHECK_INT(stat(root, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0700);
    CHECK_INT(strlen(sp.uuid), 36);
    spool_close(&sp);
    /* Reopening keeps the id. */
    char uuid[37];
    CHECK_INT(spool_open(&sp, root, 0, &err), 0);
    memcpy(uuid, sp.uuid, 37);
    spool_close(&sp);
    CHECK_INT(spool_open(&sp, root, 1, &err), 0);
    CHECK_STR(sp.uuid, uuid);
    spool_close(&sp);
    strbuf_release(&err);
}

UNIT_MAIN(UNIT_CASE(test_create_mode), UNIT_CASE(test_write_commit_read),
          UNIT_CASE(test_damage_is_refused), UNIT_CASE(test_format_and_sweep),
          UNIT_CASE(test_state), UNIT_CASE(test_concurrent_writers),
          UNIT_CASE(test_spool_batch_through_the_abi),
          UNIT_CASE(test_destinations),
          UNIT_CASE(test_counters_lost_or_damaged), UNIT_CASE(test_cleanup))

/*
 * test_gate.c - the gate behind 'dray put', run in-process on real files
 * and a real spool; what it stored is read back with the spool's reader.
 *
 * Every case gets a fresh spool in a folder under /tmp. The error messages
 * and exit codes of the command are in tests/cases/spool/.
 */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
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

static void remove_root(void)
{
    unit_remove_tree(root);
}

static struct gate_settings defaults(void)
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

static void start(const struct gate_settings *set)
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

static void stop(void)
{
    gate_release(&g);
    spool_close(&sp);
}

/* Runs text through the gate as the file "in.jsonl". */
static int feed(const char *text)
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

/* One line straight to gate_message, as gate_read would hand it. */
static int line(const char *text)
{
    g.line++;
    return gate_message(&g, text, strlen(text));
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

static void join(char *dst, size_t len, char **items, size_t n)
{
    size_t used = 0;

    dst[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(dst + used, len - used, "%s%s", i ? "," : "",
                                 items[i]);
}

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* Reads every batch of the spool into views, in spool order. */
static size_t read_spool(void)
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

static size_t count_batches(void)
{
    char **files = NULL;
    size_t n = spool_list(&sp, &files);

    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    return n;
}

static const struct view *stream_view(const char *stream, size_t nth)
{
    for (size_t i = 0; i < n_views; i++)
        if (strcmp(views[i].stream, stream) == 0 && nth-- == 0)
            return &views[i];
    UNIT_FAIL_AT("no batch %zu of stream '%s'", nth, stream);
    return &views[MAX_VIEWS - 1]; /* zeroed */
}

static char *saved_state(void)
{
    return spool_state_load(&sp, "shop");
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------- */

#define USERS_SCHEMA                                                           \
    "{\"type\":\"SCHEMA\",\"stream\":\"users\",\"schema\":{\"type\":"          \
    "\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"name\":{"      \
    "\"type\":[\"null\",\"string\"]}}},\"key_properties\":[\"id\"]}\n"

#define REC(stream, id)                                                        \
    "{\"type\":\"RECORD\",\"stream\":\"" stream "\",\"record\":{\"id\":" id "}}"

static void test_message_types(void)
{
    struct gate_settings set = defaults();

    start(&set);
    CHECK_INT(feed(USERS_SCHEMA
                   "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{"
                   "\"id\":1,\"name\":\"a\"}}\n"
                   "\n"
                   "{\"type\":\"record\",\"stream\":\"users\",\"record\":{"
                   "\"id\":2}}\n"
                   "{\"type\":\"Record\",\"stream\":\"users\",\"record\":{"
                   "\"id\":3}}\n"
                   "{\"type\":\"BATCH\",\"stream\":\"users\"}\n"
                   "{\"stream\":\"users\",\"type\":\"state\",\"value\":{"
                   "\"bookmarks\":{\"users\":3}}}\n"
                   "{\"type\":\"SCHEMA\",\"stream\":\"tags\",\"schema\":{"
                   "\"properties\":{\"tag\":{\"type\":\"string\"}}},"
                   "\"key_properties\":\"tag\"}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"tags\",\"record\":{"
                   "\"tag\":\"x\"}}"), /* no newline at the end */
              GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(g.stats.records, 4);
    CHECK_INT(g.stats.states, 1);
    CHECK_INT(g.stats.batches, 2);
    CHECK_INT(g.line, 9);
    CHECK_INT(read_spool(), 2);
    const struct view *u = stream_view("users", 0);
    CHECK_INT(u->n, 3);
    CHECK_STR(u->keys, "id");
    CHECK_STR(u->rec[0].json, "{\"id\":1,\"name\":\"a\"}");
    CHECK_STR(u->rec[2].json, "{\"id\":3}");
    CHECK_INT(u->rec[0].flags, 0);
    CHECK_STR(u->rec[0].pk, ""); /* keyed: no __sdc_primary_key */
    CHECK(u->rec[0].sequence < u->rec[1].sequence);
    CHECK(u->rec[0].received_at_us > 1600000000000000LL);
    CHECK_INT(u->has_tv, 0);
    CHECK_INT(u->activate, 0);
    CHECK_STR(u->schema, "{\"type\":\"object\",\"properties\":{\"id\":{"
                         "\"type\":\"integer\"},\"name\":{\"type\":[\"null\","
                         "\"string\"]}}}");
    /* key_properties given as a string is a list of one. */
    CHECK_STR(stream_view("tags", 0)->keys, "tag");
    char *state = saved_state();
    CHECK_STR(state, "{\"bookmarks\":{\"users\":3}}");
    free(state);
    stop();
}

/* A byte order mark at the head of a file, CRLF line ends, blank lines;
   streams go on from one file to the next, lines count per file. */
static void test_line_forms(void)
{
    struct gate_settings set = defaults();

    start(&set);
    CHECK_INT(feed("\xef\xbb\xbf" USERS_SCHEMA "\r\n"
                   "   \t\r\n" REC("users", "1") "\r\n"),
              GATE_OK);
    CHECK_INT(g.line, 4);
    CHECK_INT(feed(REC("users", "2") "\n"), GATE_OK);
    CHECK_INT(g.line, 1);
    /* Not at the head of a file, a byte order mark is bad input. */
    CHECK_INT(feed(REC("users", "3") "\n\xef\xbb\xbf" REC("users", "4")),
              GATE_BAD_INPUT);
    CHECK_INT(g.line, 2);
    CHECK_STR(strbuf_str(&g.err),
              "not valid JSON: byte order mark at the start of the text");
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 3);
    stop();
}

static void test_schema_cuts(void)
{
    struct gate_settings set = defaults();

    start(&set);
    CHECK_INT(feed(USERS_SCHEMA
                   "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{"
                   "\"id\":1}}\n"
                   /* the same schema again, spaced differently */
                   "{\"type\":\"SCHEMA\",\"stream\":\"users\",\"schema\": {"
                   "\"type\": \"object\", \"properties\": {\"id\": {\"type\":"
                   "\"integer\"}, \"name\": {\"type\": [\"null\", "
                   "\"string\"]}}}, \"key_properties\": [\"id\"]}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{"
                   "\"id\":2}}\n"
                   /* other keys: a change */
                   "{\"type\":\"SCHEMA\",\"stream\":\"users\",\"schema\":{"
                   "\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
                   "\"integer\"},\"name\":{\"type\":[\"null\",\"string\"]}}},"
                   "\"key_properties\":[\"id\",\"name\"]}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{"
                   "\"id\":3,\"name\":\"c\"}}\n"
                   /* another schema: a change */
                   "{\"type\":\"SCHEMA\",\"stream\":\"users\",\"schema\":{"
                   "\"properties\":{\"id\":{\"type\":\"integer\"}}},"
                   "\"key_properties\":[\"id\"]}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{"
                   "\"id\":4}}\n"),
              GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 3);
    CHECK_INT(views[0].n, 2);
    CHECK_INT(views[1].n, 1);
    CHECK_STR(views[1].keys, "id,name");
    CHECK_INT(views[2].n, 1);
    CHECK_STR(views[2].schema,
              "{\"properties\":{\"id\":{\"type\":\"integer\"}}}");
    stop();
}

static void test_table_versions(void)
{
    struct gate_settings set = defaults();

    start(&set);
    CHECK_INT(
        feed(USERS_SCHEMA
             "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"users\","
             "\"version\":10}\n"
             "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":1},"
             "\"version\":10}\n"
             "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":2},"
             "\"version\":10}\n"
             /* a new version cuts */
             "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":3},"
             "\"version\":11}\n"
             /* so does a record without one */
             "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":4}}"
             "\n"
             /* an activation with nothing after it: a batch of its own */
             "{\"type\":\"activate_version\",\"stream\":\"users\","
             "\"version\":11}\n"),
        GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 4);
    CHECK_INT(views[0].activate, 1);
    CHECK_INT(views[0].has_tv, 1);
    CHECK_INT(views[0].tv, 10);
    CHECK_INT(views[0].n, 2);
    CHECK_INT(views[1].activate, 0);
    CHECK_INT(views[1].tv, 11);
    CHECK_INT(views[1].n, 1);
    CHECK_INT(views[2].has_tv, 0);
    CHECK_INT(views[2].n, 1);
    CHECK_INT(views[3].activate, 1);
    CHECK_INT(views[3].tv, 11);
    CHECK_INT(views[3].n, 0);
    stop();

    /* An activation followed by records of another version commits the
       activation alone first. */
    start(&set);
    CHECK_INT(
        feed(USERS_SCHEMA
             "{\"type\":\"ACTIVATE_VERSION\",\"stream\":\"users\","
             "\"version\":5}\n"
             "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":1},"
             "\"version\":6}\n"),
        GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 2);
    CHECK_INT(views[0].activate, 1);
    CHECK_INT(views[0].tv, 5);
    CHECK_INT(views[0].n, 0);
    CHECK_INT(views[1].activate, 0);
    CHECK_INT(views[1].tv, 6);
    CHECK_INT(views[1].n, 1);
    stop();
}

static void test_size_cuts(void)
{
    struct gate_settings set = defaults();
    struct strbuf in = STRBUF_INIT;

    strbuf_adds(&in, USERS_SCHEMA);
    for (int i = 0; i < 10; i++)
        strbuf_addf(&in,
                    "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{"
                    "\"id\":%d,\"name\":\"%040d\"}}\n",
                    i, i);
    set.batch_max_records = 4;
    start(&set);
    CHECK_INT(feed(in.buf), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 3);
    CHECK_INT(views[0].n, 4);
    CHECK_INT(views[1].n, 4);
    CHECK_INT(views[2].n, 2);
    CHECK_STR(views[2].rec[1].json,
              "{\"id\":9,\"name\":\"0000000000000000000000000000000000000009"
              "\"}");
    stop();

    /* max_bytes counts the batch file: header and frames. */
    set = defaults();
    set.batch_max_bytes = 1;
    start(&set);
    CHECK_INT(feed(in.buf), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 10);
    CHECK_INT(views[9].n, 1);
    stop();
    strbuf_release(&in);
}

/* batch.max_age cuts a batch while stdin is quiet. */
struct slow_tap {
    int fd;
    int seen; /* the first batch appeared before the tap went on */
};

static void *slow_tap_run(void *arg)
{
    struct slow_tap *t = arg;
    static const char head[] =
        USERS_SCHEMA "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{"
                     "\"id\":1}}\n";
    static const char tail[] =
        "{\"type\":\"RECORD\",\"stream\":\"users\",\"record\":{\"id\":2}}\n";

    if (write(t->fd, head, sizeof(head) - 1) < 0)
        return NULL;
    /* Polls for the batch, bounded: 10 s at most. */
    for (int i = 0; i < 200 && !t->seen; i++) {
        t->seen = count_batches() >= 1;
        if (!t->seen)
            sleep_ms(50);
    }
    if (write(t->fd, tail, sizeof(tail) - 1) < 0)
        return NULL;
    close(t->fd);
    return NULL;
}

static void test_max_age_on_quiet_stdin(void)
{
    struct gate_settings set = defaults();
    struct slow_tap tap = {-1, 0};
    pthread_t th;
    int p[2];

    set.batch_max_age_ms = 200;
    start(&set);
    CHECK_INT(pipe(p), 0);
    tap.fd = p[1];
    CHECK_INT(pthread_create(&th, NULL, slow_tap_run, &tap), 0);
    CHECK_INT(gate_read(&g, p[0], "<stdin>"), GATE_OK);
    pthread_join(th, NULL);
    close(p[0]);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(tap.seen, 1);
    CHECK_INT(read_spool(), 2);
    CHECK_STR(views[0].rec[0].json, "{\"id\":1}");
    CHECK_STR(views[1].rec[0].json, "{\"id\":2}");
    stop();
}

static void test_state_durability(void)
{
    struct gate_settings set = defaults();
    char *state;

    set.batch_max_records = 2;
    start(&set);
    g.file = "in.jsonl";
    CHECK_INT(line(USERS_SCHEMA), GATE_OK);
    CHECK_INT(line("{\"type\":\"SCHEMA\",\"stream\":\"orders\",\"schema\":{"
                   "\"properties\":{\"id\":{\"type\":\"integer\"}}},"
                   "\"key_properties\":[\"id\"]}"),
              GATE_OK);
    /* Before any record: durable at once, saved at the next occasion. */
    CHECK_INT(line("{\"type\":\"STATE\",\"value\":0}"), GATE_OK);
    CHECK_INT(line(REC("users", "1")), GATE_OK);
    CHECK_INT(line(REC("orders", "1")), GATE_OK);
    CHECK_INT(line("{\"type\":\"STATE\",\"value\":1}"), GATE_OK);
    CHECK_INT(line("{\"type\":\"STATE\",\"value\":2}"), GATE_OK);
    state = saved_state();
    CHECK(state == NULL); /* durable, saved at the next commit */
    free(state);
    /* users' batch (open when 1 and 2 came) is committed; orders' is not. */
    CHECK_INT(line(REC("users", "2")), GATE_OK);
    state = saved_state();
    CHECK_STR(state, "0");
    free(state);
    CHECK_INT(line(REC("orders", "2")), GATE_OK);
    state = saved_state();
    CHECK_STR(state, "2");
    free(state);
    /* A STATE while a batch is open waits for it, even to the end. */
    CHECK_INT(line(REC("users", "3")), GATE_OK);
    CHECK_INT(line("{\"type\":\"STATE\",\"value\":3}"), GATE_OK);
    CHECK_INT(gate_tick(&g), GATE_OK);
    state = saved_state();
    CHECK_STR(state, "2");
    free(state);
    CHECK_INT(gate_finish(&g), GATE_OK);
    state = saved_state();
    CHECK_STR(state, "3");
    free(state);
    stop();
}

static void test_bad_input_keeps_what_came_before(void)
{
    static const char input[] = USERS_SCHEMA REC(
        "users", "1") "\n"
                      "{\"type\":\"STATE\",\"value\":\"before\"}\n" /* */
        REC("users", "2") "\n"
                          "{\"type\":\"RECORD\",\n"
                          "{\"type\":\"STATE\",\"value\":\"after\"}\n";
    struct gate_settings set = defaults();
    char *state;

    start(&set);
    CHECK_INT(feed(input), GATE_BAD_INPUT);
    CHECK_INT(g.line, 5);
    CHECK_STR(strbuf_str(&g.err),
              "not valid JSON: unexpected end of text where a member name "
              "was expected");
    CHECK_INT(g.column, 18);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 2);
    state = saved_state();
    CHECK_STR(state, "\"before\"");
    free(state);
    stop();
}

#define AGES_SCHEMA                                                            \
    "{\"type\":\"SCHEMA\",\"stream\":\"p\",\"schema\":{\"properties\":{"       \
    "\"id\":{\"type\":\"integer\"},\"age\":{\"type\":[\"integer\","            \
    "\"null\"]},\"tags\":{\"type\":\"array\",\"items\":{\"type\":"             \
    "\"string\"}},\"home\":{\"type\":\"object\",\"properties\":{\"zip\":{"     \
    "\"type\":\"string\",\"maxLength\":2,\"pattern\":\"^[0-9]+$\"}}}}},"       \
    "\"key_properties\":[\"id\"]}\n"
#define AGES_RECORDS                                                           \
    "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":1,\"age\":"      \
    "null,\"tags\":[\"a\"],\"home\":{\"zip\":\"12345\"}}}\n"                   \
    "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":2,\"age\":"      \
    "\"ten\"}}\n"                                                              \
    "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":3,\"age\":"      \
    "16.0,\"tags\":[\"b\",7],\"home\":{\"zip\":1}}}\n"                         \
    "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":4,\"age\":"      \
    "\"x\",\"extra\":{\"any\":[true]}}}\n"

static void test_on_invalid(void)
{
    struct gate_settings set = defaults();

    /* split: kept as sent, counted; maxLength and pattern are not read. */
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA AGES_RECORDS), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(g.stats.mismatches, 5);
    CHECK_INT(g.stats.rejected, 0);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 4);
    for (int i = 0; i < 4; i++)
        CHECK_INT(views[0].rec[i].flags, 0);
    CHECK_STR(views[0].rec[2].json, "{\"id\":3,\"age\":16.0,\"tags\":[\"b\",7],"
                                    "\"home\":{\"zip\":1}}");
    stop();

    /* reject: stored, flagged, with the first problem as the reason. */
    set.on_invalid = CONFIG_INVALID_REJECT;
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA AGES_RECORDS), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(g.stats.rejected, 3);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].rec[0].flags, 0);
    CHECK_INT(views[0].rec[1].flags, SPOOL_REC_REJECTED);
    CHECK_STR(views[0].rec[1].reason,
              "field 'age' is a string, the schema says integer or null");
    CHECK_STR(views[0].rec[2].reason,
              "field 'age' is a number, the schema says integer or null");
    CHECK_STR(views[0].rec[3].reason,
              "field 'age' is a string, the schema says integer or null");
    stop();

    /* fail: bad input at the record, with what was wrong. */
    set.on_invalid = CONFIG_INVALID_FAIL;
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA AGES_RECORDS), GATE_BAD_INPUT);
    CHECK_INT(g.line, 3);
    CHECK_STR(strbuf_str(&g.err),
              "stream 'p': field 'age' is a string, the schema says integer or "
              "null; integration 'shop' has on_invalid: fail");
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 1);
    stop();

    /* Paths name nested fields and array items. */
    set.on_invalid = CONFIG_INVALID_REJECT;
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "1,\"tags\":[\"a\",{}]}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "2,\"home\":{\"zip\":false}}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "3,\"home\":[]}}\n"),
              GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_STR(views[0].rec[0].reason,
              "field 'tags[]' is an object, the schema says string");
    CHECK_STR(views[0].rec[1].reason,
              "field 'home.zip' is a boolean, the schema says string");
    CHECK_STR(views[0].rec[2].reason,
              "field 'home' is an array, the schema says object");
    stop();
}

static void test_keys(void)
{
    struct gate_settings set = defaults();

    start(&set);
    CHECK_INT(feed(AGES_SCHEMA
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"age\":"
                   "1}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "null}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "\"7\",\"age\":\"x\"}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "7.5}}\n"
                   "{\"type\":\"RECORD\",\"stream\":\"p\",\"record\":{\"id\":"
                   "1,\"id\":2}}\n"),
              GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(g.stats.rejected, 4);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 5);
    CHECK_INT(views[0].rec[0].flags, SPOOL_REC_REJECTED);
    CHECK_STR(views[0].rec[0].reason, "Record is missing key property id");
    CHECK_STR(views[0].rec[1].reason, "Record is missing key property id");
    /* The key's problem wins over the other field's. */
    CHECK_STR(views[0].rec[2].reason,
              "Record key property id is a string, the schema says integer");
    CHECK_STR(views[0].rec[3].reason,
              "Record key property id is a number, the schema says integer");
    CHECK_INT(views[0].rec[4].flags, 0);
    stop();

    /* on_invalid: fail stops at a key problem too. */
    set.on_invalid = CONFIG_INVALID_FAIL;
    start(&set);
    CHECK_INT(feed(AGES_SCHEMA "{\"type\":\"RECORD\",\"stream\":\"p\","
                               "\"record\":{}}\n"),
              GATE_BAD_INPUT);
    CHECK_STR(strbuf_str(&g.err),
              "stream 'p': Record is missing key property id; integration "
              "'shop' has on_invalid: fail");
    stop();
}

static int is_uuid4(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx";

    if (strlen(s) != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        int hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
        if (shape[i] == 'x' && !hex)
            return 0;
        if (shape[i] == 'V' && strchr("89ab", s[i]) == NULL)
            return 0;
        if (shape[i] != 'x' && shape[i] != 'V' && s[i] != shape[i])
            return 0;
    }
    return 1;
}

static void test_keyless_primary_key(void)
{
    struct gate_settings set = defaults();
    struct strbuf in = STRBUF_INIT;

    strbuf_adds(&in, "{\"type\":\"SCHEMA\",\"stream\":\"log\",\"schema\":{"
                     "\"properties\":{\"m\":{\"type\":\"string\"}}}}\n");
    for (int i = 0; i < 300; i++) /* past one getrandom() refill */
        strbuf_adds(&in, "{\"type\":\"RECORD\",\"stream\":\"log\",\"record\":{"
                         "\"m\":\"x\"}}\n");
    start(&set);
    CHECK_INT(feed(in.buf), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].n, 300);
    CHECK_STR(views[0].keys, "");
    for (int i = 0; i < MAX_RECS; i++) {
        if (!is_uuid4(views[0].rec[i].pk))
            UNIT_FAIL_AT("not a v4 UUID: [%s]", views[0].rec[i].pk);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(views[0].rec[i].pk, views[0].rec[j].pk) != 0);
    }
    stop();
    strbuf_release(&in);
}

static void test_stored_text(void)
{
    struct gate_settings set = defaults();

    start(&set);
    CHECK_INT(
        feed(
            "{\"type\":\"SCHEMA\",\"stream\":\"e\",\"schema\":{\"properties\":"
            "{\"id\":{\"type\":\"integer\"},\"ts\":{\"type\":[\"null\","
            "\"string\"],\"format\":\"date-time\"},\"o\":{\"type\":\"object\","
            "\"properties\":{\"t\":{\"type\":\"string\",\"format\":"
            "\"date-time\"}}},\"a\":{\"type\":\"array\",\"items\":{\"type\":"
            "\"string\",\"format\":\"date-time\"}},\"d\":{\"type\":\"string\","
            "\"format\":\"date\"},\"n\":{\"type\":\"number\"}}}}\n"
            "{ \"type\" : \"RECORD\", \"stream\" : \"e\", \"record\" : { "
            "\"id\" "
            ": 1, \"ts\" : \"2024-01-02 03:04:05\", \"o\" : {\"t\": "
            "\"2024-01-02T03:04:05+02:00\", \"u\": \"2024-01-02 "
            "03:04:05\"}, \"a\": [\"2024-01-02T03:04:05.123456789Z\", "
            "\"2024-01-02T03:04:05.000000Z\", \"\\u0032024-01-02t03:04:05z\"]"
            ", \"d\": \"2024-01-02\", \"n\": 1.50, \"big\": "
            "123456789012345678901234567890, \"e\": 1E+2, \"s\": "
            "\"\\/\\u00e9\\n\"}, \"time_extracted\": "
            "\"2024-06-01T12:00:00.5-01:00\"}\n"
            "{\"type\":\"RECORD\",\"stream\":\"e\",\"record\":{\"id\":2,\"ts\":"
            "\"yesterday\",\"n\":-0.0},\"time_extracted\":\"soon\"}\n"
            "{\"type\":\"RECORD\",\"stream\":\"e\",\"record\":{\"id\":3,\"ts\":"
            "\"2024-02-30T00:00:00Z\"},\"time_extracted\":"
            "\"2024-06-01T12:00:00.000000Z\"}\n"),
        GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    /* Date-times at date-time nodes in UTC; the rest byte for byte, only
       white space and "\/" gone. */
    CHECK_STR(views[0].rec[0].json,
              "{\"id\":1,\"ts\":\"2024-01-02T03:04:05.000000Z\",\"o\":{\"t\":"
              "\"2024-01-02T01:04:05.000000Z\",\"u\":\"2024-01-02 "
              "03:04:05\"},\"a\":[\"2024-01-02T03:04:05.123456Z\","
              "\"2024-01-02T03:04:05.000000Z\",\"2024-01-02T03:04:05.000000Z\"]"
              ",\"d\":\"2024-01-02\",\"n\":1.50,\"big\":"
              "123456789012345678901234567890,\"e\":1E+2,\"s\":"
              "\"/\\u00e9\\n\"}");
    CHECK_STR(views[0].rec[0].extracted, "2024-06-01T13:00:00.500000Z");
    /* A date-time that does not parse is kept, and counted. */
    CHECK_STR(views[0].rec[1].json,
              "{\"id\":2,\"ts\":\"yesterday\",\"n\":-0.0}");
    CHECK_STR(views[0].rec[1].extracted, "");
    CHECK_STR(views[0].rec[2].json,
              "{\"id\":3,\"ts\":\"2024-02-30T00:00:00Z\"}");
    CHECK_STR(views[0].rec[2].extracted, "2024-06-01T12:00:00.000000Z");
    CHECK_INT(g.stats.mismatches, 2);
    stop();
}

static void test_routes(void)
{
    static const char *const routes[] = {"warehouse", "lake"};
    struct gate_settings set = defaults();

    set.routes = routes;
    set.n_routes = 2;
    start(&set);
    CHECK_INT(feed(USERS_SCHEMA REC("users", "1") "\n"), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_STR(views[0].routes, "warehouse,lake");
    stop();

    /* No destinations: the gate works the same. */
    set = defaults();
    start(&set);
    CHECK_INT(feed(USERS_SCHEMA REC("users", "1") "\n"), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_STR(views[0].routes, "");
    stop();
}

static void test_spool_full_fail(void)
{
    struct gate_settings set = defaults();

    set.batch_max_records = 1;
    set.spool_max_bytes = 1;
    set.wait_when_full = 0;
    start(&set);
    /* The first batch goes into the empty spool; the second does not fit. */
    CHECK_INT(feed(USERS_SCHEMA REC("users", "1") "\n" REC("users", "2") "\n"),
              GATE_FAILED);
    CHECK_CONTAINS(strbuf_str(&g.err), " is full: ");
    CHECK_CONTAINS(strbuf_str(&g.err),
                   " of 1 bytes (spool.max_bytes) in use; run the loaders to "
                   "drain it, or raise spool.max_bytes");
    CHECK_INT(read_spool(), 1);
    CHECK_STR(views[0].rec[0].json, "{\"id\":1}");
    stop();
}

/* A loader stand-in: reads and deletes every batch that appears. */
struct drain {
    volatile int done;
    int ids[8];
    size_t n_ids;
};

static void *drain_run(void *arg)
{
    struct drain *d = arg;

    /* Bounded: 20 s at most. */
    for (int i = 0; i < 400 && !d->done; i++) {
        char **files = NULL;
        size_t n = spool_list(&sp, &files);

        for (size_t k = 0; k < n; k++) {
            struct spool_batch b;
            struct spool_record r;
            struct strbuf err = STRBUF_INIT;

            if (spool_batch_read(files[k], &b, &err) == 0) {
                while (spool_batch_next(&b, &r, &err) == 1 && d->n_ids < 8)
                    d->ids[d->n_ids++] = atoi(r.json + 6); /* {"id":N} */
                spool_batch_release(&b);
                unlink(files[k]);
            }
            strbuf_release(&err);
            free(files[k]);
        }
        free(files);
        sleep_ms(50);
    }
    return NULL;
}

static void test_spool_full_wait(void)
{
    struct gate_settings set = defaults();
    struct drain d;
    pthread_t th;

    memset(&d, 0, sizeof(d));
    set.batch_max_records = 1;
    set.spool_max_bytes = 1; /* one batch at a time */
    start(&set);
    CHECK_INT(pthread_create(&th, NULL, drain_run, &d), 0);
    CHECK_INT(feed(USERS_SCHEMA REC("users", "1") "\n" REC(
                  "users", "2") "\n" REC("users", "3") "\n"),
              GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    /* Let the drain take the last batch, then stop it. */
    for (int i = 0; i < 200 && count_batches() > 0; i++)
        sleep_ms(50);
    d.done = 1;
    pthread_join(th, NULL);
    CHECK(g.stats.full_waits >= 2);
    CHECK_INT(d.n_ids, 3);
    CHECK_INT(d.ids[0], 1);
    CHECK_INT(d.ids[1], 2);
    CHECK_INT(d.ids[2], 3);
    stop();
}

static void test_recursive_and_open_schemas(void)
{
    struct gate_settings set = defaults();
    struct strbuf deep = STRBUF_INIT;

    set.on_invalid = CONFIG_INVALID_REJECT;
    start(&set);
    /* A property without "type" takes anything; a recursive $ref checks
       as deep as the schema model goes. */
    CHECK_INT(
        feed(
            "{\"type\":\"SCHEMA\",\"stream\":\"t\",\"schema\":{\"definitions\""
            ":{\"n\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":"
            "\"integer\"},\"next\":{\"$ref\":\"#/definitions/n\"}}}},"
            "\"properties\":{\"root\":{\"$ref\":\"#/definitions/n\"},"
            "\"any\":{}}}}\n"
            "{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":{\"root\":{\"v\":"
            "1,\"next\":{\"v\":2}},\"any\":[1,\"x\",{}]}}\n"
            "{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":{\"root\":{\"v\":"
            "1,\"next\":{\"v\":\"two\"}}}}\n"),
        GATE_OK);
    /* Below the cut (DRAY_SCHEMA_MAX_DEPTH) the value is kept as JSON,
       unchecked. */
    strbuf_adds(&deep,
                "{\"type\":\"RECORD\",\"stream\":\"t\",\"record\":{\"root\":");
    for (int i = 0; i < 40; i++)
        strbuf_adds(&deep, "{\"next\":");
    strbuf_adds(&deep, "{\"v\":\"deep\"}");
    for (int i = 0; i < 40; i++)
        strbuf_addch(&deep, '}');
    strbuf_adds(&deep, "}}\n");
    CHECK_INT(feed(deep.buf), GATE_OK);
    CHECK_INT(gate_finish(&g), GATE_OK);
    CHECK_INT(read_spool(), 1);
    CHECK_INT(views[0].rec[0].flags, 0);
    CHECK_STR(views[0].rec[1].reason,
              "field 'root.next.v' is a string, the schema says integer");
    CHECK_INT(views[0].n, 3);
    CHECK_INT(views[0].rec[2].flags, 0);
    stop();
    strbuf_release(&deep);
}

UNIT_MAIN(UNIT_CASE(test_message_types), UNIT_CASE(test_line_forms),
          UNIT_CASE(test_schema_cuts), UNIT_CASE(test_table_versions),
          UNIT_CASE(test_size_cuts), UNIT_CASE(test_max_age_on_quiet_stdin),
          UNIT_CASE(test_state_durability),
          UNIT_CASE(test_bad_input_keeps_what_came_before),
          UNIT_CASE(test_on_invalid), UNIT_CASE(test_keys),
          UNIT_CASE(test_keyless_primary_key), UNIT_CASE(test_stored_text),
          UNIT_CASE(test_routes), UNIT_CASE(test_spool_full_fail),
          UNIT_CASE(test_spool_full_wait),
          UNIT_CASE(test_recursive_and_open_schemas))

/*
 * test_gate.c - the gate behind 'dray put', run in-process on real files
 * and a real spool: message types, line forms, batch cuts, STATE
 * durability, bad input, routes and a full spool. What the gate checks and
 * stores of each record is in test_gate_records.c.
 *
 * Every case gets a fresh spool in a folder under /tmp. The error messages
 * and exit codes of the command are in tests/cases/spool/.
 */
#include "gate_test_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "gate.h"
#include "spool.h"

/* One line straight to gate_message, as gate_read would hand it. */
static int line(const char *text)
{
    g.line++;
    return gate_message(&g, text, strlen(text));
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

UNIT_MAIN(UNIT_CASE(test_message_types), UNIT_CASE(test_line_forms),
          UNIT_CASE(test_schema_cuts), UNIT_CASE(test_table_versions),
          UNIT_CASE(test_size_cuts), UNIT_CASE(test_max_age_on_quiet_stdin),
          UNIT_CASE(test_state_durability),
          UNIT_CASE(test_bad_input_keeps_what_came_before),
          UNIT_CASE(test_routes), UNIT_CASE(test_spool_full_fail),
          UNIT_CASE(test_spool_full_wait))

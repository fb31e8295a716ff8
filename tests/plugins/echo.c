/*
 * echo: a test destination that writes what it receives, so tests can read
 * back exactly what crossed the ABI. Each batch becomes <out_dir>/<batch
 * id>.jsonl, written to a temp name and renamed, so loading a batch twice
 * leaves one file (idempotent by batch id). A record whose data has
 * "reject": true is passed to reject_record() instead.
 *
 * Options of every type, so the host's option checks can be tested.
 *
 * For the runtime's tests: 'journal' appends "start <batch> <attempt>
 * <pid>" when a load begins, "commit <batch> <attempt> <pid>" once its
 * file is in place and "fail ..." when it returns an error, each line with one
 * write() to an O_APPEND file, so loads by concurrent workers can be laid out
 * in time; 'sleep_ms' makes every load take that long (after its start line).
 *
 * For the conformance harness's host pieces: a namespace is a subfolder of
 * out_dir (batch_info.ns loads there; it is made on first use); readback
 * gives the data of a stream's records in a namespace, ordered by
 * _sdc_sequence; list_tables the streams; check that out_dir is a
 * writable folder. Those are in echo_readback.c.
 *
 * For the harness's resource scenarios (the block "resource faults"
 * below): 'leak_fd_per_batch' leaves an fd open per load, 'hold_mib' keeps
 * that many MiB allocated and touched from the first load to destroy.
 */
#include <dray/dray_cfg.h>
#include <dray/dray_plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "echo_internal.h"

struct echo {
    dray_instance *inst;
    const char *out_dir;
    const char *fail_mode;
    int64_t max_rows;
    const char *crash_when; /* a record containing this text: SIGSEGV */
    const char *hang_when;  /* a record containing this text: hang */
    int64_t retry_first;    /* fail retryably while attempt <= this */
    const char *journal;    /* a file: one line per load start and end */
    int64_t sleep_ms;       /* each load takes at least this long */
    int32_t verbose;        /* every record on stdout, as careless plugins
                               print: the worker's protocol must not care */
    int leak_fd_per_batch;  /* resource faults, see below */
    int64_t hold_mib;
    char *held;
};

static const char *const fail_modes[] = {"none", "retryable", "permanent",
                                         NULL};

static const struct dray_option echo_options[] = {
    {"out_dir", DRAY_OPT_STRING, DRAY_OPTF_REQUIRED | DRAY_OPTF_PATH, NULL,
     NULL, 0, 0, "folder the batches are written to"},
    {"fail_mode", DRAY_OPT_ENUM, 0, "none", fail_modes, 0, 0,
     "make every load fail this way"},
    {"crash_when", DRAY_OPT_STRING, 0, NULL, NULL, 0, 0,
     "crash (SIGSEGV) on a record whose JSON contains this text"},
    {"hang_when", DRAY_OPT_STRING, 0, NULL, NULL, 0, 0,
     "hang forever on a record whose JSON contains this text ('@create': "
     "in create)"},
    {"retry_first", DRAY_OPT_INT, 0, "0", NULL, 0, 1000,
     "fail with a retryable error on the first N attempts of a batch"},
    {"journal", DRAY_OPT_STRING, DRAY_OPTF_PATH, NULL, NULL, 0, 0,
     "append 'start|commit|fail <batch> <attempt> <pid>' lines here"},
    {"sleep_ms", DRAY_OPT_INT, 0, NULL, NULL, 0, 3600000,
     "sleep this long in every load, after its journal start line"},
    {"max_rows", DRAY_OPT_INT, 0, "0", NULL, 0, 1000000,
     "reject batches with more rows (0: no limit)"},
    {"buffer", DRAY_OPT_SIZE, 0, "1MiB", NULL, 1024, 1073741824,
     "write buffer size"},
    {"timeout", DRAY_OPT_DURATION, 0, "30s", NULL, 0, 0,
     "how long a load may take"},
    {"ratio", DRAY_OPT_FLOAT, 0, "0.5", NULL, 0, 0,
     "a fraction between 0 and 1"},
    {"verbose", DRAY_OPT_BOOL, 0, "false", NULL, 0, 0,
     "print every record on stdout"},
    {"password", DRAY_OPT_STRING, DRAY_OPTF_SECRET, NULL, NULL, 0, 0,
     "a secret that is never shown"},
    {"dsn", DRAY_OPT_STRING, DRAY_OPTF_CONNINFO, NULL, NULL, 0, 0,
     "a connection string whose password is masked"},
    /* Resource faults (below). */
    {"leak_fd_per_batch", DRAY_OPT_BOOL, 0, "false", NULL, 0, 0,
     "leave one file descriptor open per load"},
    {"hold_mib", DRAY_OPT_INT, 0, "0", NULL, 0, 4096,
     "keep this many MiB allocated from the first load on"},
};

static dray_status echo_validate(const dray_config *cfg, dray_error *err)
{
    double ratio = dray_cfg_f64(cfg, "ratio", 0);

    if (ratio < 0 || ratio > 1) {
        dray_error_set(err, DRAY_E_CONFIG, NULL,
                       "option 'ratio' must be between 0 and 1");
        dray_error_hint(err, "use a fraction such as 0.25");
        return DRAY_E_CONFIG;
    }
    return DRAY_OK;
}

static dray_status echo_create(dray_instance *inst, const dray_config *cfg,
                               void **state, dray_error *err)
{
    struct echo *e = calloc(1, sizeof(*e));

    if (e == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    e->inst = inst;
    e->out_dir = dray_cfg_str(cfg, "out_dir");
    e->fail_mode = dray_cfg_str(cfg, "fail_mode");
    e->max_rows = dray_cfg_i64(cfg, "max_rows", 0);
    e->crash_when = dray_cfg_str(cfg, "crash_when");
    e->hang_when = dray_cfg_str(cfg, "hang_when");
    e->retry_first = dray_cfg_i64(cfg, "retry_first", 0);
    e->journal = dray_cfg_str(cfg, "journal");
    e->sleep_ms = dray_cfg_i64(cfg, "sleep_ms", 0);
    e->verbose = dray_cfg_bool(cfg, "verbose", 0);
    e->leak_fd_per_batch = dray_cfg_bool(cfg, "leak_fd_per_batch", 0);
    e->hold_mib = dray_cfg_i64(cfg, "hold_mib", 0);
    /* hang_when "@create": a destination that never gets ready. */
    if (e->hang_when && strcmp(e->hang_when, "@create") == 0)
        for (;;)
            pause();
    *state = e;
    return DRAY_OK;
}

static void echo_destroy(void *state)
{
    struct echo *e = state;

    free(e->held);
    free(e);
}

/* Writes s as a JSON string (the test strings need only these escapes). */
static void put_json_string(FILE *f, const char *s, uint64_t len)
{
    fputc('"', f);
    for (uint64_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void write_header(FILE *f, const dray_batch *b)
{
    const struct dray_host_api *h = dray_host();
    struct dray_batch_info info = DRAY_VIEW_INIT(struct dray_batch_info);
    int32_t n = h->batch_schema_nodes(b);

    h->batch_info(b, &info);
    fprintf(f,
            "{\"batch\":\"%s\",\"integration\":\"%s\",\"stream\":\"%s\","
            "\"attempt\":%u,\"rows\":%lld,\"keys\":[",
            info.batch_id, info.integration, info.stream, info.attempt,
            (long long)info.row_count);
    for (uint32_t i = 0; i < info.n_key_properties; i++)
        fprintf(f, "%s\"%s\"", i ? "," : "", info.key_properties[i]);
    fprintf(f, "],\"nodes\":[");
    for (int32_t i = 0; i < n; i++) {
        struct dray_schema_node node = DRAY_VIEW_INIT(struct dray_schema_node);
        h->batch_schema_node(b, i, &node);
        fprintf(f,
                "%s{\"name\":\"%s\",\"parent\":%d,\"types\":%u,"
                "\"format\":%d,\"flags\":%u,\"scale\":%d}",
                i ? "," : "", node.name, node.parent, node.json_types,
                node.format, node.flags, node.scale);
    }
    fprintf(f, "]}\n");
}

static int contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);

    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(s + i, needle, k) == 0)
            return 1;
    return 0;
}

/* One line, one write() to an O_APPEND file: lines of concurrent workers
   never interleave. */
static void journal(const struct echo *e, const char *what,
                    const struct dray_batch_info *info)
{
    char line[256];
    int n, fd;

    if (e->journal == NULL)
        return;
    n = snprintf(line, sizeof(line), "%s %s %u %ld\n", what, info->batch_id,
                 info->attempt, (long)getpid());
    fd = open(e->journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) != n)
        abort(); /* a test must not miss a line */
    close(fd);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static dray_status load(void *state, dray_batch *b, dray_error *err)
{
    const struct dray_host_api *h = dray_host();
    struct echo *e = state;
    struct dray_batch_info info = DRAY_VIEW_INIT(struct dray_batch_info);
    const dray_record *rec;
    char dir[4096], path[4400], tmp[4500];
    int64_t rows = 0;
    int32_t n_nodes = h->batch_schema_nodes(b);
    FILE *f;
    dray_status st;

    h->batch_info(b, &info);
    if (info.ns != NULL) {
        snprintf(dir, sizeof(dir), "%s/%s", e->out_dir, info.ns);
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                                  "cannot make namespace folder '%s'", dir);
    } else {
        snprintf(dir, sizeof(dir), "%s", e->out_dir);
    }
    if ((int64_t)info.attempt <= e->retry_first)
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL,
                              "not yet (attempt %u of a batch that needs %lld "
                              "failures first)",
                              info.attempt, (long long)e->retry_first);
    if (strcmp(e->fail_mode, "retryable") == 0)
        return dray_error_set(err, DRAY_E_RETRYABLE, "503",
                              "destination is busy");
    if (strcmp(e->fail_mode, "permanent") == 0)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "destination refuses batch '%s'", info.batch_id);
    if (e->max_rows > 0 && info.row_count > e->max_rows)
        return dray_error_set(err, DRAY_E_PERMANENT, NULL,
                              "batch has %lld rows, more than max_rows %lld",
                              (long long)info.row_count,
                              (long long)e->max_rows);
    snprintf(path, sizeof(path), "%s/%s.jsonl", dir, info.batch_id);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL)
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL, "cannot write '%s'",
                              tmp);
    write_header(f, b);
    for (;;) {
        struct dray_record_meta meta = DRAY_VIEW_INIT(struct dray_record_meta);
        const char *json;
        uint64_t len;

        st = h->batch_next(b, &rec, err);
        if (st != DRAY_OK || rec == NULL)
            break;
        h->record_json(rec, &json, &len);
        if (e->verbose)
            printf("echo: %.*s\n", (int)len, json);
        /* Fault injection for the runtime's isolation tests. */
        if (e->crash_when && contains(json, (size_t)len, e->crash_when))
            raise(SIGSEGV);
        if (e->hang_when && contains(json, (size_t)len, e->hang_when))
            for (;;)
                pause();
        /* The text is len bytes, not NUL-terminated. */
        if (contains(json, (size_t)len, "\"reject\":true")) {
            h->reject_record(b, rec, NULL, "the record asked to be rejected");
            continue;
        }
        h->record_meta(rec, &meta);
        /* A record the gate rejected goes to the rejects, never a table. */
        if (meta.flags & DRAY_REC_REJECTED) {
            h->reject_record(b, rec, NULL, meta.reject_reason);
            continue;
        }
        fprintf(f, "{\"row\":%lld,\"seq\":%lld,\"data\":%.*s,\"values\":[",
                (long long)meta.row, (long long)meta.sequence, (int)len, json);
        for (int32_t i = 1; i < n_nodes; i++) {
            struct dray_value v = DRAY_VIEW_INIT(struct dray_value);
            if (h->record_value(rec, i, &v) != 0) {
                fprintf(f, "%s[%d,\"-\"]", i > 1 ? "," : "", i);
                continue;
            }
            fprintf(f, "%s[%d,%d,", i > 1 ? "," : "", i, v.kind);
            if (v.text)
                put_json_string(f, v.text, v.len);
            else
                fputs("null", f);
            fputc(']', f);
        }
        fputs("]}\n", f);
        rows++;
    }
    if (fclose(f) != 0 || st != DRAY_OK) {
        remove(tmp);
        if (st != DRAY_OK)
            return st;
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL, "cannot write '%s'",
                              tmp);
    }
    if (rename(tmp, path) != 0)
        return dray_error_set(err, DRAY_E_RETRYABLE, NULL, "cannot rename '%s'",
                              tmp);
    h->report_rows(b, info.stream, rows);
    dray_log(e->inst, DRAY_LOG_INFO, "wrote %lld rows to %s", (long long)rows,
             path);
    return DRAY_OK;
}

/* ---- resource faults, for the harness's resource scenarios ---- */

/* A plugin that leaks a file per batch, or holds memory it does not need:
   dray-plugin-test's [expect-no-fd-leak] and [expect-max-rss] must fail
   it (tests/harness/unit/test_harness_resources.py). */
static void resource_faults(struct echo *e)
{
    if (e->leak_fd_per_batch && open("/dev/null", O_RDONLY | O_CLOEXEC) < 0)
        abort(); /* the test needs the leak */
    if (e->hold_mib > 0 && e->held == NULL) {
        size_t n = (size_t)e->hold_mib << 20;
        e->held = malloc(n);
        if (e->held == NULL)
            abort();
        memset(e->held, 0x5a, n); /* touched: resident, not just reserved */
    }
}

/* The load between its journal lines: "commit" once the file is in place,
   "fail" when it returned an error; a worker that died wrote neither. */
static dray_status echo_load(void *state, dray_batch *b, dray_error *err)
{
    struct echo *e = state;
    struct dray_batch_info info = DRAY_VIEW_INIT(struct dray_batch_info);
    dray_status st;

    dray_host()->batch_info(b, &info);
    resource_faults(e);
    journal(e, "start", &info);
    if (e->sleep_ms > 0)
        sleep_ms(e->sleep_ms);
    st = load(state, b, err);
    journal(e, st == DRAY_OK ? "commit" : "fail", &info);
    return st;
}

const char *echo_out_dir(const void *state)
{
    return ((const struct echo *)state)->out_dir;
}

static const struct dray_plugin_vtable echo_vtable = {
    DRAY_PLUGIN_VTABLE_HDR,
    .validate = echo_validate,
    .create = echo_create,
    .destroy = echo_destroy,
    .check = echo_check,
    .load_batch = echo_load,
    .readback = echo_readback,
    .list_tables = echo_list_tables,
    .namespace_create = echo_namespace_create,
    .namespace_drop = echo_namespace_drop,
};

static const struct dray_dialect echo_dialect = {
    DRAY_DIALECT_HDR,
    .type_map = "files",
    .nesting = DRAY_NEST_DOCUMENT,
    .split_rule = DRAY_SPLIT_KEEP,
    .modes = DRAY_MODE_BIT(DRAY_MODE_APPEND),
};

static const struct dray_plugin_desc echo_desc = {
    DRAY_PLUGIN_DESC_HDR,
    .name = "echo",
    .version = "1.0.0",
    .vendor = "dray tests",
    .license = "MIT",
    .description = "writes what it receives, for tests",
    .caps = DRAY_CAP_IDEMPOTENT_LOADS | DRAY_CAP_REJECT_ROWS |
            DRAY_CAP_READBACK | DRAY_CAP_NAMESPACES | DRAY_CAP_CHECK,
    DRAY_OPTIONS(echo_options),
    .dialect = &echo_dialect,
    .vtable = &echo_vtable,
};

DRAY_PLUGIN_DEFINE(echo_desc)

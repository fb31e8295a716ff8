/*
 * Fault hooks for the conformance harness and dray's own tests
 * (docs/RUNTIME.md, "Fault hooks"): a worker started with
 * DRAY_FAULT_KILL_AT=N dies by SIGKILL at the Nth host call a plugin makes
 * in load_batch; with DRAY_FAULT_FAIL_AT=N the Nth batch_next fails as a
 * lost connection would. Only a batch's first attempt is hit, so the retry
 * shows whether the plugin recovers.
 *
 * Counting happens in a second host table, installed only when a variable
 * is set: each entry counts, then calls the host's own. Without the
 * variables plugins get the host's table and nothing here runs.
 *
 * Also test-only, at the end: DRAY_STATS_FILE, the worker's open files and
 * memory after each load, for the harness's resource scenarios.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_api.h"
#include "log.h"

static uint64_t kill_at, fail_at; /* 0: off */
static atomic_int armed;
/* Plugins may call the host from threads of their own. */
static atomic_uint_fast64_t calls, nexts;

/* Every counted entry starts here. */
static void count_call(void)
{
    if (atomic_load_explicit(&armed, memory_order_relaxed) && kill_at &&
        atomic_fetch_add(&calls, 1) + 1 == kill_at)
        raise(SIGKILL);
}

#define BASE (host_api_base())

static int32_t f_log_enabled(const dray_instance *inst, int32_t level)
{
    count_call();
    return BASE->log_enabled(inst, level);
}

static void f_vlog(const dray_instance *inst, int32_t level, const char *fmt,
                   va_list ap)
{
    count_call();
    BASE->vlog(inst, level, fmt, ap);
}

static void f_log_write(const dray_instance *inst, int32_t level,
                        const char *msg, uint64_t len)
{
    count_call();
    BASE->log_write(inst, level, msg, len);
}

static void f_error_vset(dray_error *err, dray_status cls, const char *code,
                         const char *fmt, va_list ap)
{
    count_call();
    BASE->error_vset(err, cls, code, fmt, ap);
}

static void f_error_vdetail(dray_error *err, const char *fmt, va_list ap)
{
    count_call();
    BASE->error_vdetail(err, fmt, ap);
}

static void f_error_vhint(dray_error *err, const char *fmt, va_list ap)
{
    count_call();
    BASE->error_vhint(err, fmt, ap);
}

static void f_error_set_str(dray_error *err, dray_status cls, const char *code,
                            const char *msg)
{
    count_call();
    BASE->error_set_str(err, cls, code, msg);
}

static void f_error_detail_str(dray_error *err, const char *msg)
{
    count_call();
    BASE->error_detail_str(err, msg);
}

static void f_error_hint_str(dray_error *err, const char *msg)
{
    count_call();
    BASE->error_hint_str(err, msg);
}

static void f_error_retry_after(dray_error *err, uint32_t ms)
{
    count_call();
    BASE->error_retry_after(err, ms);
}

static int32_t f_cfg_str(const dray_config *cfg, const char *name,
                         const char **out)
{
    count_call();
    return BASE->cfg_str(cfg, name, out);
}

static int32_t f_cfg_i64(const dray_config *cfg, const char *name, int64_t *out)
{
    count_call();
    return BASE->cfg_i64(cfg, name, out);
}

static int32_t f_cfg_bool(const dray_config *cfg, const char *name,
                          int32_t *out)
{
    count_call();
    return BASE->cfg_bool(cfg, name, out);
}

static int32_t f_cfg_f64(const dray_config *cfg, const char *name, double *out)
{
    count_call();
    return BASE->cfg_f64(cfg, name, out);
}

static int32_t f_cfg_info(const dray_config *cfg, struct dray_config_info *out)
{
    count_call();
    return BASE->cfg_info(cfg, out);
}

static int32_t f_batch_info(const dray_batch *b, struct dray_batch_info *out)
{
    count_call();
    return BASE->batch_info(b, out);
}

static void f_batch_schema_json(const dray_batch *b, const char **json,
                                uint64_t *len)
{
    count_call();
    BASE->batch_schema_json(b, json, len);
}

static int32_t f_batch_schema_nodes(const dray_batch *b)
{
    count_call();
    return BASE->batch_schema_nodes(b);
}

static int32_t f_batch_schema_node(const dray_batch *b, int32_t index,
                                   struct dray_schema_node *out)
{
    count_call();
    return BASE->batch_schema_node(b, index, out);
}

static dray_status f_batch_next(dray_batch *b, const dray_record **rec,
                                dray_error *err)
{
    count_call();
    if (atomic_load_explicit(&armed, memory_order_relaxed) && fail_at &&
        atomic_fetch_add(&nexts, 1) + 1 == fail_at) {
        if (rec != NULL)
            *rec = NULL;
        error_setf(err, DRAY_E_RETRYABLE,
                   "injected fault (DRAY_FAULT_FAIL_AT)");
        return DRAY_E_RETRYABLE;
    }
    return BASE->batch_next(b, rec, err);
}

static dray_status f_batch_rewind(dray_batch *b, dray_error *err)
{
    count_call();
    return BASE->batch_rewind(b, err);
}

static void f_record_json(const dray_record *r, const char **json,
                          uint64_t *len)
{
    count_call();
    BASE->record_json(r, json, len);
}

static int32_t f_record_meta(const dray_record *r, struct dray_record_meta *out)
{
    count_call();
    return BASE->record_meta(r, out);
}

static int32_t f_record_value(const dray_record *r, int32_t node,
                              struct dray_value *out)
{
    count_call();
    return BASE->record_value(r, node, out);
}

static dray_status f_reject_record(dray_batch *b, const dray_record *r,
                                   const char *table, const char *reason)
{
    count_call();
    return BASE->reject_record(b, r, table, reason);
}

static dray_status f_report_rows(dray_batch *b, const char *table, int64_t rows)
{
    count_call();
    return BASE->report_rows(b, table, rows);
}

static dray_status f_output_write(dray_output *out, const void *data,
                                  uint64_t len)
{
    count_call();
    return BASE->output_write(out, data, len);
}

static int32_t f_should_stop(const dray_instance *inst)
{
    count_call();
    return BASE->should_stop(inst);
}

/* The host's table with every entry counted; version and caps copied. */
static struct dray_host_api fault_table;

static void build_table(void)
{
    fault_table = *BASE;
    fault_table.log_enabled = f_log_enabled;
    fault_table.vlog = f_vlog;
    fault_table.log_write = f_log_write;
    fault_table.error_vset = f_error_vset;
    fault_table.error_vdetail = f_error_vdetail;
    fault_table.error_vhint = f_error_vhint;
    fault_table.error_set_str = f_error_set_str;
    fault_table.error_detail_str = f_error_detail_str;
    fault_table.error_hint_str = f_error_hint_str;
    fault_table.error_retry_after = f_error_retry_after;
    fault_table.cfg_str = f_cfg_str;
    fault_table.cfg_i64 = f_cfg_i64;
    fault_table.cfg_bool = f_cfg_bool;
    fault_table.cfg_f64 = f_cfg_f64;
    fault_table.cfg_info = f_cfg_info;
    fault_table.batch_info = f_batch_info;
    fault_table.batch_schema_json = f_batch_schema_json;
    fault_table.batch_schema_nodes = f_batch_schema_nodes;
    fault_table.batch_schema_node = f_batch_schema_node;
    fault_table.batch_next = f_batch_next;
    fault_table.batch_rewind = f_batch_rewind;
    fault_table.record_json = f_record_json;
    fault_table.record_meta = f_record_meta;
    fault_table.record_value = f_record_value;
    fault_table.reject_record = f_reject_record;
    fault_table.report_rows = f_report_rows;
    fault_table.output_write = f_output_write;
    fault_table.should_stop = f_should_stop;
}

/* A positive count from the environment, or 0 (with a warning when the
   variable is set but not a count). */
static uint64_t env_count(const char *name)
{
    const char *s = getenv(name);
    char *end = NULL;
    unsigned long long n = 0;

    if (s == NULL || *s == '\0')
        return 0;
    if (*s >= '0' && *s <= '9')
        n = strtoull(s, &end, 10);
    if (n == 0 || *end != '\0' || n > UINT64_MAX / 2) {
        log_warn("%s is not a positive count; the fault hook is off", name);
        return 0;
    }
    return (uint64_t)n;
}

static const char *stats_path; /* DRAY_STATS_FILE, or NULL */

void host_faults_from_env(void)
{
    stats_path = getenv("DRAY_STATS_FILE");
    if (stats_path != NULL && *stats_path == '\0')
        stats_path = NULL;
    kill_at = env_count("DRAY_FAULT_KILL_AT");
    fail_at = env_count("DRAY_FAULT_FAIL_AT");
    if (kill_at == 0 && fail_at == 0)
        return;
    build_table();
    host_api_install(&fault_table);
}

void host_faults_arm(uint32_t attempt)
{
    if (kill_at == 0 && fail_at == 0)
        return;
    atomic_store(&calls, 0);
    atomic_store(&nexts, 0);
    atomic_store(&armed, attempt == 1);
}

void host_faults_disarm(void)
{
    if (kill_at != 0 || fail_at != 0)
        atomic_store(&armed, 0);
}

/* ---- resource stats (DRAY_STATS_FILE) ---- */

/* Under AddressSanitizer memory figures are not the plugin's (shadow
   memory, freed blocks in quarantine): the line says so. */
#if defined(__SANITIZE_ADDRESS__)
#define STATS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STATS_ASAN 1
#endif
#endif
#ifndef STATS_ASAN
#define STATS_ASAN 0
#endif

/* Open fds of this process, not counting the one that lists them. */
static long count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
            n++;
    closedir(d);
    return n;
}

/* A "Name:   123 kB" field of /proc/self/status, or -1. */
static long status_kb(const char *status, const char *field)
{
    const char *p = strstr(status, field);

    return p != NULL ? strtol(p + strlen(field), NULL, 10) : -1;
}

void host_stats_after_load(void)
{
    static unsigned long loads;
    char status[4096], line[160];
    long fds;
    ssize_t got;
    int fd, n;

    if (stats_path == NULL)
        return;
    /* Counted first: the files read and written below are not the
       plugin's. */
    fds = count_fds();
    fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    got = fd >= 0 ? read(fd, status, sizeof(status) - 1) : -1;
    if (fd >= 0)
        close(fd);
    status[got > 0 ? got : 0] = '\0';
    n = snprintf(line, sizeof(line),
                 "pid %ld load %lu fds %ld rss_kb %ld hwm_kb %ld asan %d\n",
                 (long)getpid(), ++loads, fds, status_kb(status, "\nVmRSS:"),
                 status_kb(status, "\nVmHWM:"), STATS_ASAN);
    /* One write() to an O_APPEND file: lines of several workers never
       interleave. */
    fd = open(stats_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, line, (size_t)n) != n)
        log_warn("cannot write DRAY_STATS_FILE '%s'", stats_path);
    if (fd >= 0)
        close(fd);
}

/*
 * host_api.h - the host's side of the plugin ABI: the host table and the
 * objects behind the opaque handles (errors, configs, instances, outputs).
 */
#ifndef DRAY_HOST_HOST_API_H
#define DRAY_HOST_HOST_API_H

#include <stdatomic.h>

#include "dray/dray_abi.h"
#include "options.h"
#include "strbuf.h"

struct dray_error {
    dray_status cls; /* DRAY_OK while nothing was set */
    char *code;
    char *message;
    char *detail;
    char *hint;
    uint32_t retry_after_ms;
};

void error_init(struct dray_error *err);
void error_release(struct dray_error *err);
/* Sets an error from the host side. */
void error_setf(struct dray_error *err, dray_status cls, const char *fmt, ...)
    DRAY_PRINTF(3, 4);
/* "message (detail); hint" on one line, malloc'd. An error without a
   message reads "failed with E_X and no message". */
char *error_oneline(const struct dray_error *err);

struct dray_config {
    char *destination;
    char *plugin;
    int32_t mode;
    const struct opt_spec *specs; /* the plugin's table, host copy */
    struct opt_value *values;     /* one per spec */
    size_t n;
};

struct dray_instance {
    char *who; /* "destination 'lake' (s3)", the log prefix */
    const struct dray_config *cfg;
    atomic_int stop;
};

/* A sink the host reads: bytes are appended to a strbuf, or, with fd set,
   passed on to that descriptor through it (readback of a large table). */
struct dray_output {
    struct strbuf buf;
    uint64_t limit; /* 0: none */
    int fd;         /* > 0: written on to this descriptor */
    int error;      /* the errno of a failed write to fd, else 0 */
};

/* Writes what an fd output still holds; 0, or -1 with out->error set. */
int output_flush(struct dray_output *out);

/* The table plugins get: the host's own, or the one host_api_install()
   put in its place (before any plugin was loaded). */
const struct dray_host_api *host_api(void);
const struct dray_host_api *host_api_base(void);
void host_api_install(const struct dray_host_api *table);

/*
 * Fault hooks for tests (host_faults.c, docs/RUNTIME.md): reads
 * DRAY_FAULT_KILL_AT and DRAY_FAULT_FAIL_AT once; when either is set,
 * installs a host table whose entries count their calls. Call before
 * loading plugins. Arming is per load_batch call, and only a first attempt
 * arms them; without the variables all three cost nothing.
 */
void host_faults_from_env(void);
void host_faults_arm(uint32_t attempt);
void host_faults_disarm(void);
/* Test-only too: with DRAY_STATS_FILE set (read by host_faults_from_env),
   appends the worker's open fds and memory to that file after a load. */
void host_stats_after_load(void);

#endif

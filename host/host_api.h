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

/* A sink the host reads: bytes are appended to a strbuf. */
struct dray_output {
    struct strbuf buf;
    uint64_t limit; /* 0: none */
};

const struct dray_host_api *host_api(void);

#endif

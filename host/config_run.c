/*
 * config_run.c - the settings of the loader runtime: the 'run' section
 * (how 'dray run' and 'dray target' load), the 'target' section and
 * spool.keep_loaded. docs/RUNTIME.md says why the defaults are what they
 * are.
 */
#include <stdio.h>

#include "config_internal.h"

#include "dray/dray_abi.h"

static const char *const run_keys[] = {
    "concurrency",   "batch_timeout", "crash_limit", "grace",
    "poll_interval", "retry",         NULL};
static const char *const retry_keys[] = {"attempts", "initial", "max", NULL};
static const char *const target_keys[] = {"state_interval", NULL};

static int must_be_mapping(struct loader *L, yaml_node_t *node,
                           const char *name, const char *example)
{
    if (node->type == YAML_MAPPING_NODE)
        return 0;
    return config_fail(&L->file, config_mark_of(node),
                       "'%s' must be a mapping like %s, not %s", name, example,
                       config_kind(node));
}

static int load_retry(struct loader *L, yaml_node_t *retry)
{
    struct config_run *r = &L->cfg->run;

    if (retry == NULL || config_is_null(retry))
        return 0;
    if (must_be_mapping(L, retry, "retry' in 'run",
                        "{attempts: 10, initial: 1s, max: 5m}") < 0 ||
        config_check_keys(&L->file, retry, retry_keys, "in 'run.retry'") < 0 ||
        config_load_number(L, retry, "attempts", "run.retry", DRAY_OPT_INT, 1,
                           &r->retry_attempts) < 0 ||
        config_load_number(L, retry, "initial", "run.retry", DRAY_OPT_DURATION,
                           1, &r->retry_initial_ms) < 0 ||
        config_load_number(L, retry, "max", "run.retry", DRAY_OPT_DURATION, 1,
                           &r->retry_max_ms) < 0)
        return -1;
    if (r->retry_max_ms < r->retry_initial_ms)
        return config_fail(&L->file, config_mark_of(retry),
                           "'max' in 'run.retry' is shorter than 'initial'; "
                           "make it at least as long");
    return 0;
}

static int load_run(struct loader *L, yaml_node_t *run)
{
    struct config_run *r = &L->cfg->run;

    if (run == NULL || config_is_null(run))
        return 0;
    if (must_be_mapping(L, run, "run",
                        "{concurrency: 4, batch_timeout: 30m, crash_limit: "
                        "3}") < 0 ||
        config_check_keys(&L->file, run, run_keys, "in 'run'") < 0 ||
        config_load_number(L, run, "concurrency", "run", DRAY_OPT_INT, 1,
                           &r->concurrency) < 0 ||
        config_load_number(L, run, "batch_timeout", "run", DRAY_OPT_DURATION, 1,
                           &r->batch_timeout_ms) < 0 ||
        config_load_number(L, run, "crash_limit", "run", DRAY_OPT_INT, 1,
                           &r->crash_limit) < 0 ||
        config_load_number(L, run, "grace", "run", DRAY_OPT_DURATION, 0,
                           &r->grace_ms) < 0 ||
        config_load_number(L, run, "poll_interval", "run", DRAY_OPT_DURATION, 1,
                           &r->poll_ms) < 0 ||
        load_retry(L, config_map_get(&L->file, run, "retry")) < 0)
        return -1;
    if (r->concurrency > 256)
        return config_fail(&L->file, config_mark_of(run),
                           "'concurrency' in 'run' is %lld; at most 256 "
                           "loads per destination run at once",
                           (long long)r->concurrency);
    return 0;
}

int config_load_run(struct loader *L, yaml_node_t *run, yaml_node_t *target,
                    yaml_node_t *spool)
{
    struct config *cfg = L->cfg;
    struct config_run *r = &cfg->run;

    r->concurrency = 4;
    r->batch_timeout_ms = 30 * 60 * 1000;
    r->crash_limit = 3;
    r->grace_ms = 30 * 1000;
    r->poll_ms = 1000;
    r->retry_attempts = 10;
    r->retry_initial_ms = 1000;
    r->retry_max_ms = 5 * 60 * 1000;
    cfg->keep_loaded_ms = 0;
    cfg->target_state_interval_ms = 10 * 1000;

    if (load_run(L, run) < 0)
        return -1;
    if (target != NULL && !config_is_null(target) &&
        (must_be_mapping(L, target, "target", "{state_interval: 10s}") < 0 ||
         config_check_keys(&L->file, target, target_keys, "in 'target'") < 0 ||
         config_load_number(L, target, "state_interval", "target",
                            DRAY_OPT_DURATION, 1,
                            &cfg->target_state_interval_ms) < 0))
        return -1;
    if (spool != NULL && !config_is_null(spool) &&
        spool->type == YAML_MAPPING_NODE &&
        config_load_number(L, spool, "keep_loaded", "spool", DRAY_OPT_DURATION,
                           0, &cfg->keep_loaded_ms) < 0)
        return -1;
    return 0;
}

const char *config_duration_str(int64_t ms, char buf[32])
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{3600000, "h"}, {60000, "m"}, {1000, "s"}};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(buf, 32, "%lld%s", (long long)(ms / units[i].ms),
                     units[i].unit);
            return buf;
        }
    snprintf(buf, 32, ms == 0 ? "0s" : "%lldms", (long long)ms);
    return buf;
}

/*
 * The gate's settings from the config, shared by 'dray put' and 'dray
 * target'.
 */
#include <string.h>

#include "config.h"
#include "gate.h"
#include "log.h"

/* The destinations the integration's batches go to, recorded in them. */
static const char **resolve_routes(const struct config *cfg,
                                   const char *integration, size_t *n)
{
    const char **names;

    *n = 0;
    if (cfg->n_routes == 0) {
        names = xcalloc(cfg->n_destinations + 1, sizeof(*names));
        for (size_t i = 0; i < cfg->n_destinations; i++)
            names[(*n)++] = cfg->destinations[i].name;
        return names;
    }
    for (size_t i = 0; i < cfg->n_routes; i++) {
        const struct config_route *r = &cfg->routes[i];

        if (strcmp(r->integration, integration) != 0)
            continue;
        names = xcalloc(r->n_destinations + 1, sizeof(*names));
        for (size_t k = 0; k < r->n_destinations; k++)
            names[(*n)++] = r->destinations[k];
        return names;
    }
    log_warn("no route in %s names integration '%s'; its batches stay in "
             "the spool, going to no destination",
             cfg->path, integration);
    return xcalloc(1, sizeof(*names));
}

const char **gate_settings_from_config(struct gate_settings *set,
                                       const struct config *cfg,
                                       const char *integration)
{
    const char **routes;

    memset(set, 0, sizeof(*set));
    set->integration = integration;
    set->on_invalid = config_on_invalid(cfg, integration);
    set->batch_max_bytes = cfg->batch_max_bytes;
    set->batch_max_records = cfg->batch_max_records;
    set->batch_max_age_ms = cfg->batch_max_age_ms;
    set->spool_max_bytes = cfg->spool_max_bytes;
    set->wait_when_full = cfg->spool_on_full == CONFIG_ON_FULL_WAIT;
    routes = resolve_routes(cfg, integration, &set->n_routes);
    set->routes = routes;
    return routes;
}

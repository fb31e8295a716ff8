/* Option readers over the host's cfg_* entries, so that every plugin does
   not carry its own copies. A missing host table (no entry point ran)
   reads as "no value", as the logging wrappers treat it. */
#include "dray/dray_cfg.h"

#include <stdlib.h>
#include <string.h>

#include "sdk_internal.h"

const char *dray_cfg_str(const dray_config *cfg, const char *name)
{
    const struct dray_host_api *h = dray__sdk_host;
    const char *v = NULL;

    if (h == NULL || h->cfg_str(cfg, name, &v) != 1)
        return NULL;
    return v;
}

int dray_cfg_dup(const dray_config *cfg, const char *name, uint32_t flags,
                 char **out)
{
    const char *v = dray_cfg_str(cfg, name);

    *out = NULL;
    if (v == NULL || ((flags & DRAY_CFG_NONEMPTY) && *v == '\0'))
        return 0;
    *out = strdup(v);
    return *out == NULL ? -1 : 0;
}

int64_t dray_cfg_i64(const dray_config *cfg, const char *name, int64_t def)
{
    const struct dray_host_api *h = dray__sdk_host;
    int64_t v = 0;

    if (h == NULL || h->cfg_i64(cfg, name, &v) != 1)
        return def;
    return v;
}

int32_t dray_cfg_bool(const dray_config *cfg, const char *name, int32_t def)
{
    const struct dray_host_api *h = dray__sdk_host;
    int32_t v = 0;

    if (h == NULL || h->cfg_bool(cfg, name, &v) != 1)
        return def;
    return v;
}

double dray_cfg_f64(const dray_config *cfg, const char *name, double def)
{
    const struct dray_host_api *h = dray__sdk_host;
    double v = 0;

    if (h == NULL || h->cfg_f64(cfg, name, &v) != 1)
        return def;
    return v;
}

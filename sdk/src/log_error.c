/* printf-style wrappers over the host's va_list entries, so no variadic
   function pointer crosses the boundary. */
#include "sdk_internal.h"

int dray_log_enabled(const dray_instance *inst, int32_t level)
{
    const struct dray_host_api *h = dray__sdk_host;

    return h != NULL && h->log_enabled(inst, level);
}

void dray_log(const dray_instance *inst, int32_t level, const char *fmt, ...)
{
    const struct dray_host_api *h = dray__sdk_host;
    va_list ap;

    if (h == NULL)
        return;
    va_start(ap, fmt);
    h->vlog(inst, level, fmt, ap);
    va_end(ap);
}

dray_status dray_error_set(dray_error *err, dray_status cls, const char *code,
                           const char *fmt, ...)
{
    const struct dray_host_api *h = dray__sdk_host;
    va_list ap;

    if (h == NULL || err == NULL)
        return cls;
    va_start(ap, fmt);
    h->error_vset(err, cls, code, fmt, ap);
    va_end(ap);
    return cls;
}

void dray_error_detail(dray_error *err, const char *fmt, ...)
{
    const struct dray_host_api *h = dray__sdk_host;
    va_list ap;

    if (h == NULL || err == NULL)
        return;
    va_start(ap, fmt);
    h->error_vdetail(err, fmt, ap);
    va_end(ap);
}

void dray_error_hint(dray_error *err, const char *fmt, ...)
{
    const struct dray_host_api *h = dray__sdk_host;
    va_list ap;

    if (h == NULL || err == NULL)
        return;
    va_start(ap, fmt);
    h->error_vhint(err, fmt, ap);
    va_end(ap);
}

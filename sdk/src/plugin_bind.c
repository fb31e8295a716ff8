/* The plugin side of first contact: store the host table, hand out the
   descriptor. No allocation and no I/O, as the entry point's contract asks. */
#include "sdk_internal.h"

const struct dray_host_api *dray__sdk_host;

int32_t dray_sdk_bind(const struct dray_host_api *host,
                      const struct dray_plugin_desc *desc,
                      const struct dray_plugin_desc **out)
{
    if (out == NULL)
        return DRAY_E_ABI;
    *out = NULL;
    /* A host of another major would not call this entry; a host table that
       is too small for 1.0 is not a host we can talk to. */
    if (host == NULL || host->hdr.abi_major != DRAY_ABI_MAJOR ||
        host->hdr.struct_size < DRAY_HOST_API_SIZE_1_0 || desc == NULL)
        return DRAY_E_ABI;
    dray__sdk_host = host;
    *out = desc;
    return DRAY_OK;
}

const struct dray_host_api *dray_host(void)
{
    return dray__sdk_host;
}

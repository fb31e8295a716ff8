/* Status names, generated from the one table in dray_abi.h. */
#include "dray/dray_plugin.h"

const char *dray_status_name(dray_status st)
{
    switch (st) {
#define DRAY__STATUS_CASE(name, value, text)                                   \
    case DRAY_##name:                                                          \
        return #name;
        DRAY_STATUS_MAP(DRAY__STATUS_CASE)
#undef DRAY__STATUS_CASE
    }
    return "UNKNOWN";
}

/* Internal to libdray_sdk.a: names here never leave the plugin (hidden). */
#ifndef DRAY_SDK_INTERNAL_H
#define DRAY_SDK_INTERNAL_H

#include "dray/dray_plugin.h"

/* The host table stored by dray_sdk_bind(). */
extern const struct dray_host_api *dray__sdk_host;

#endif

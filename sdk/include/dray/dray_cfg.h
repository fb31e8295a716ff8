/*
 * dray_cfg.h - a plugin's options, read in validate or create: thin
 * readers over the host table's cfg_* (dray_abi.h) that give a default
 * for an option without a value. Part of libdray_sdk.a.
 *
 * "No value" is everything other than the host's 1: unset and without a
 * default in the option table, a type the reader cannot read, or a name
 * the table does not have. The host has checked required options and
 * types before create, so that leaves unset optional ones.
 */
#ifndef DRAY_CFG_H
#define DRAY_CFG_H

#include <stdint.h>

#include "dray_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The option's text (any type, as configured), borrowed while cfg lives;
   NULL without a value. */
const char *dray_cfg_str(const dray_config *cfg, const char *name);

/* Flags of dray_cfg_dup. */
#define DRAY_CFG_NONEMPTY 0x1u /* an empty text counts as no value */

/* A copy of the option's text for the instance to keep (free it): 0 with
   *out the copy, or NULL without a value; -1 with *out NULL when out of
   memory. */
int dray_cfg_dup(const dray_config *cfg, const char *name, uint32_t flags,
                 char **out);

/* INT, SIZE (bytes), DURATION (ms) or BOOL as an integer; def without a
   value. */
int64_t dray_cfg_i64(const dray_config *cfg, const char *name, int64_t def);

/* A BOOL option: 1 or 0; def without a value. */
int32_t dray_cfg_bool(const dray_config *cfg, const char *name, int32_t def);

/* FLOAT or INT; def without a value. */
double dray_cfg_f64(const dray_config *cfg, const char *name, double def);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_CFG_H */

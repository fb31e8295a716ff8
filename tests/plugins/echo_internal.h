/*
 * echo_internal.h - what echo.c and echo_readback.c share: the test echo
 * plugin's readback, list_tables, namespaces and check, and the one thing
 * of an instance they need.
 */
#ifndef DRAY_TESTS_ECHO_INTERNAL_H
#define DRAY_TESTS_ECHO_INTERNAL_H

#include <dray/dray_plugin.h>

/* echo.c: the instance's out_dir option (state is its struct echo). */
const char *echo_out_dir(const void *state);

/* echo_readback.c: the vtable's callbacks of those names. */
dray_status echo_readback(void *state, const char *ns, const char *table,
                          dray_output *out, dray_error *err);
dray_status echo_list_tables(void *state, const char *ns, dray_output *out,
                             dray_error *err);
dray_status echo_namespace_create(void *state, const char *ns, dray_error *err);
dray_status echo_namespace_drop(void *state, const char *ns, dray_error *err);
dray_status echo_check(void *state, dray_error *err);

#endif

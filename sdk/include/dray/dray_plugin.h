/*
 * dray_plugin.h - what a plugin author includes.
 *
 * A plugin is a shared object built with the SDK's dray_add_plugin(). It
 * defines a static const struct dray_plugin_desc and writes, once:
 *
 *     DRAY_PLUGIN_DEFINE(my_desc)
 *
 * That exports dray_plugin_entry_v1, which stores the host table where the
 * helpers below find it. The helpers live in libdray_sdk.a, linked into the
 * plugin; they reach the host only through its table.
 */
#ifndef DRAY_PLUGIN_H
#define DRAY_PLUGIN_H

#include "dray_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define DRAY_EXPORT __attribute__((visibility("default")))
#define DRAY_PRINTF(fmt_index, first_arg)                                      \
    __attribute__((format(printf, fmt_index, first_arg)))
#else
#define DRAY_EXPORT
#define DRAY_PRINTF(fmt_index, first_arg)
#endif

/*
 * Descriptor initialisers: the header, the built minor and the signature.
 * DRAY_PLUGIN_DESC_HDR_MIN(m) declares that the plugin runs on hosts of
 * minor m and later; it must then check DRAY_HOST_HAS() before calling any
 * host function newer than m. Write the other members after it in
 * declaration order (C++20 designated initialisers require that).
 */
#define DRAY_PLUGIN_DESC_HDR_MIN(min_minor)                                    \
    .hdr = DRAY_HDR_INIT(struct dray_plugin_desc),                             \
    .min_host_abi_minor = (min_minor), .build_sig = DRAY_BUILD_SIGNATURE
#define DRAY_PLUGIN_DESC_HDR DRAY_PLUGIN_DESC_HDR_MIN(DRAY_ABI_MINOR)
#define DRAY_PLUGIN_VTABLE_HDR .hdr = DRAY_HDR_INIT(struct dray_plugin_vtable)
#define DRAY_DIALECT_HDR .hdr = DRAY_HDR_INIT(struct dray_dialect)
#define DRAY_OPTIONS(table)                                                    \
    .options = (table),                                                        \
    .n_options = (uint32_t)(sizeof(table) / sizeof((table)[0])),               \
    .option_size = (uint32_t)sizeof(struct dray_option)

/* Checks the host's major and the descriptor, stores the host table. */
int32_t dray_sdk_bind(const struct dray_host_api *host,
                      const struct dray_plugin_desc *desc,
                      const struct dray_plugin_desc **out);

/* The entry has C linkage in C++ plugins too, or the host cannot find it. */
#ifdef __cplusplus
#define DRAY__EXTERN_C extern "C"
#else
#define DRAY__EXTERN_C
#endif

#define DRAY_PLUGIN_DEFINE(desc)                                               \
    DRAY__EXTERN_C DRAY_EXPORT int32_t dray_plugin_entry_v1(                   \
        const struct dray_host_api *host,                                      \
        const struct dray_plugin_desc **out);                                  \
    DRAY__EXTERN_C int32_t dray_plugin_entry_v1(                               \
        const struct dray_host_api *host, const struct dray_plugin_desc **out) \
    {                                                                          \
        return dray_sdk_bind(host, &(desc), out);                              \
    }

/* The host table stored by the entry point; NULL before it ran. */
const struct dray_host_api *dray_host(void);

/* Logging; inst may be NULL (messages from on_load). */
int dray_log_enabled(const dray_instance *inst, int32_t level);
void dray_log(const dray_instance *inst, int32_t level, const char *fmt, ...)
    DRAY_PRINTF(3, 4);

/*
 * Errors in the PostgreSQL style: a short primary message (lower case, no
 * full stop, what went wrong first), then optional detail and hint. Each
 * returns cls (or DRAY_OK for detail/hint) so a callback can end with
 *     return dray_error_set(err, DRAY_E_CONFIG, NULL, "...", ...);
 */
dray_status dray_error_set(dray_error *err, dray_status cls, const char *code,
                           const char *fmt, ...) DRAY_PRINTF(4, 5);
void dray_error_detail(dray_error *err, const char *fmt, ...) DRAY_PRINTF(2, 3);
void dray_error_hint(dray_error *err, const char *fmt, ...) DRAY_PRINTF(2, 3);

/* Short name of a status ("OK", "E_RETRYABLE", ...); "UNKNOWN" otherwise. */
const char *dray_status_name(dray_status st);

#ifdef __cplusplus
}
#endif

#endif /* DRAY_PLUGIN_H */

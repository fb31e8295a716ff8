/*
 * variant.c - plugins that are wrong in one way each, for the loader's
 * refusal tests. CMake builds this file once per VARIANT_* macro.
 */
#include <dray/dray_plugin.h>

#include <stdlib.h>

/* Some variants override the header the SDK macro sets, on purpose. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Woverride-init"
#endif

static dray_status v_create(dray_instance *inst, const dray_config *cfg,
                            void **state, dray_error *err)
{
    (void)inst;
    (void)cfg;
    (void)err;
    *state = NULL;
    return DRAY_OK;
}

static void v_destroy(void *state)
{
    (void)state;
}

#if !defined(VARIANT_NOLOADBATCH)
static dray_status v_load(void *state, dray_batch *b, dray_error *err)
{
    (void)state;
    (void)b;
    (void)err;
    return DRAY_OK;
}
#endif

#if defined(VARIANT_ONLOADFAIL)
static dray_status v_on_load(const struct dray_host_api *host, dray_error *err)
{
    (void)host;
    dray_error_set(err, DRAY_E_CONFIG, NULL,
                   "libexample.so.3 is too old (3.1, needs 3.4)");
    dray_error_hint(err, "install libexample 3.4 or newer");
    return DRAY_E_CONFIG;
}
#endif

static const struct dray_plugin_vtable v_vtable = {
    DRAY_PLUGIN_VTABLE_HDR,
#if defined(VARIANT_ONLOADFAIL)
    .on_load = v_on_load,
#endif
    .create = v_create,     .destroy = v_destroy,
#if !defined(VARIANT_NOLOADBATCH)
    .load_batch = v_load,
#endif
};

static const struct dray_dialect v_dialect = {
    DRAY_DIALECT_HDR,
    .type_map = "files",
    .modes = DRAY_MODE_BIT(DRAY_MODE_APPEND),
};

#if defined(VARIANT_BADDEFAULT)
static const struct dray_option v_options[] = {
    {"batch_rows", DRAY_OPT_INT, 0, "lots", NULL, 0, 0, "rows per insert"},
};
#endif

#if defined(VARIANT_TWIN_A) || defined(VARIANT_TWIN_B)
#define V_NAME "twin"
#else
#define V_NAME VARIANT_NAME
#endif

static const struct dray_plugin_desc v_desc = {
    DRAY_PLUGIN_DESC_HDR,
#if defined(VARIANT_NEWMINOR)
    /* As if built with a future SDK that needs host ABI 1.(minor+1). */
    .hdr = {sizeof(struct dray_plugin_desc), DRAY_ABI_MAJOR,
            DRAY_ABI_MINOR + 1},
    .min_host_abi_minor = DRAY_ABI_MINOR + 1,
#endif
#if defined(VARIANT_BADMAJOR)
    .hdr = {sizeof(struct dray_plugin_desc), 2, 0},
#endif
#if defined(VARIANT_SMALLDESC)
    /* As if the descriptor were cut short: a layout older than 1.0. */
    .hdr = {16, DRAY_ABI_MAJOR, DRAY_ABI_MINOR},
#endif
#if defined(VARIANT_BADSIG)
    .build_sig = "abi1;ptr4;le",
#endif
    .name = V_NAME,
    .version = "0.0.1",
    .description = "a refusal test case",
#if defined(VARIANT_BADDEFAULT)
    DRAY_OPTIONS(v_options),
#endif
    .dialect = &v_dialect,
    .vtable = &v_vtable,
};

#if defined(VARIANT_NOENTRY)
/* A shared object with code but no dray entry point. */
DRAY_EXPORT int not_a_plugin(void);
int not_a_plugin(void)
{
    return v_desc.name != NULL;
}
#elif defined(VARIANT_V2ONLY)
/* What a plugin for a future ABI 2 exports. */
DRAY_EXPORT int32_t dray_plugin_entry_v2(const void *host, const void **out);
int32_t dray_plugin_entry_v2(const void *host, const void **out)
{
    (void)host;
    *out = &v_desc;
    return 0;
}
#else
DRAY_PLUGIN_DEFINE(v_desc)
#endif

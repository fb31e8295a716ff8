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

#if defined(VARIANT_MISSINGSYM)
/* Built against a library that has tdep_new; run against one that lacks
   it (see CMakeLists.txt). */
int tdep_new(void);
static dray_status v_on_load(const struct dray_host_api *host, dray_error *err)
{
    (void)host;
    (void)err;
    return tdep_new() == 42 ? DRAY_OK : DRAY_E_PERMANENT;
}
#endif

/* Unused by some variants (no vtable on purpose). */
__attribute__((unused)) static const struct dray_plugin_vtable v_vtable = {
    DRAY_PLUGIN_VTABLE_HDR,
#if defined(VARIANT_ONLOADFAIL) || defined(VARIANT_MISSINGSYM)
    .on_load = v_on_load,
#endif
    .create = v_create,     .destroy = v_destroy,
#if !defined(VARIANT_NOLOADBATCH)
    .load_batch = v_load,
#endif
};

__attribute__((unused)) static const struct dray_dialect v_dialect = {
    DRAY_DIALECT_HDR,
    .type_map = "files",
#if defined(VARIANT_BADNEST)
    .nesting = 9,
#endif
#if !defined(VARIANT_NOMODES)
    .modes = DRAY_MODE_BIT(DRAY_MODE_APPEND),
#endif
};

#if defined(VARIANT_BADDEFAULT)
static const struct dray_option v_options[] = {
    {"batch_rows", DRAY_OPT_INT, 0, "lots", NULL, 0, 0, "rows per insert"},
};
#elif defined(VARIANT_DUPOPT)
static const struct dray_option v_options[] = {
    {"dsn", DRAY_OPT_STRING, 0, NULL, NULL, 0, 0, "where"},
    {"dsn", DRAY_OPT_STRING, 0, NULL, NULL, 0, 0, "where, again"},
};
#elif defined(VARIANT_BADOPTNAME)
static const struct dray_option v_options[] = {
    {"Batch-Rows", DRAY_OPT_INT, 0, NULL, NULL, 0, 0, "rows"},
};
#elif defined(VARIANT_BADOPTTYPE)
static const struct dray_option v_options[] = {
    {"mystery", 99, 0, NULL, NULL, 0, 0, "a type from the future"},
};
#elif defined(VARIANT_ENUMNOVALUES)
static const struct dray_option v_options[] = {
    {"format", DRAY_OPT_ENUM, 0, NULL, NULL, 0, 0, "no choices"},
};
#elif defined(VARIANT_HUGEOPTS)
static const struct dray_option v_options[] = {
    {"only", DRAY_OPT_STRING, 0, NULL, NULL, 0, 0, "the one real entry"},
};
#endif
#if defined(VARIANT_BADDEFAULT) || defined(VARIANT_DUPOPT) ||                  \
    defined(VARIANT_BADOPTNAME) || defined(VARIANT_BADOPTTYPE) ||              \
    defined(VARIANT_ENUMNOVALUES) || defined(VARIANT_HUGEOPTS)
#define V_HAS_OPTIONS 1
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
#if defined(VARIANT_BADNAME)
    .name = "Bad-Name",
#else
    .name = V_NAME,
#endif
    .version = "0.0.1",
    .description = "a refusal test case",
#if defined(VARIANT_CAPNOCB)
    .caps = DRAY_CAP_READBACK,
#endif
#if defined(V_HAS_OPTIONS)
    DRAY_OPTIONS(v_options),
#endif
#if defined(VARIANT_HUGEOPTS)
    /* A corrupt count: the host must not read or allocate by it. */
    .n_options = 100000,
#endif
#if !defined(VARIANT_NODIALECT)
    .dialect = &v_dialect,
#endif
#if !defined(VARIANT_NOVTABLE)
    .vtable = &v_vtable,
#endif
};

#if defined(VARIANT_NOENTRY)
/* A shared object with code but no dray entry point. */
DRAY_EXPORT int not_a_plugin(void);
int not_a_plugin(void)
{
    return v_desc.name != NULL;
}
#elif defined(VARIANT_ENTRYFAILS)
DRAY_EXPORT int32_t dray_plugin_entry_v1(const struct dray_host_api *host,
                                         const struct dray_plugin_desc **out);
int32_t dray_plugin_entry_v1(const struct dray_host_api *host,
                             const struct dray_plugin_desc **out)
{
    (void)host;
    *out = &v_desc;
    return DRAY_E_PERMANENT;
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

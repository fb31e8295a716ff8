// A plugin written in C++20 against the C headers: the SDK macros must give
// the entry point C linkage and accept designated initialisers in order.
#include <dray/dray_plugin.h>

namespace
{

dray_status cxx_create(dray_instance *, const dray_config *, void **state,
                       dray_error *)
{
    *state = nullptr;
    return DRAY_OK;
}

void cxx_destroy(void *)
{
}

dray_status cxx_load(void *, dray_batch *, dray_error *err)
{
    return dray_error_set(err, DRAY_E_UNSUPPORTED, nullptr,
                          "this test plugin loads nothing");
}

const dray_plugin_vtable cxx_vtable = {
    DRAY_PLUGIN_VTABLE_HDR,
    .create = cxx_create,
    .destroy = cxx_destroy,
    .load_batch = cxx_load,
};

const dray_dialect cxx_dialect = {
    DRAY_DIALECT_HDR,
    .type_map = "files",
    .modes = DRAY_MODE_BIT(DRAY_MODE_APPEND),
};

const dray_plugin_desc cxx_desc = {
    DRAY_PLUGIN_DESC_HDR,    .name = "cxx",         .version = "1.0.0",
    .dialect = &cxx_dialect, .vtable = &cxx_vtable,
};

} // namespace

DRAY_PLUGIN_DEFINE(cxx_desc)

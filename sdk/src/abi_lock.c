/*
 * abi_lock.c - the 1.0 layouts, frozen.
 *
 * Every size and offset of every struct that crosses the plugin boundary, as
 * released in ABI 1.0 on LP64. Changing one fails the build: append new
 * members instead (docs/ABI.md). Sizes may grow only in a later minor, and
 * then this file gains a block for that minor; the 1.0 offsets never move.
 */
#include <stddef.h>

#include "dray/dray_abi.h"

#if __SIZEOF_POINTER__ == 8

#define DRAY__LOCK_SIZE(type, n)                                               \
    _Static_assert(sizeof(struct type) == (n), #type " size changed")
#define DRAY__LOCK_AT(type, member, n)                                         \
    _Static_assert(offsetof(struct type, member) == (n),                       \
                   #type "." #member " moved")

DRAY__LOCK_SIZE(dray_hdr, 8);
DRAY__LOCK_AT(dray_hdr, struct_size, 0);
DRAY__LOCK_AT(dray_hdr, abi_major, 4);
DRAY__LOCK_AT(dray_hdr, abi_minor, 6);

DRAY__LOCK_SIZE(dray_option, 56);
DRAY__LOCK_AT(dray_option, name, 0);
DRAY__LOCK_AT(dray_option, type, 8);
DRAY__LOCK_AT(dray_option, flags, 12);
DRAY__LOCK_AT(dray_option, default_value, 16);
DRAY__LOCK_AT(dray_option, enum_values, 24);
DRAY__LOCK_AT(dray_option, min, 32);
DRAY__LOCK_AT(dray_option, max, 40);
DRAY__LOCK_AT(dray_option, description, 48);

DRAY__LOCK_SIZE(dray_dialect, 48);
DRAY__LOCK_AT(dray_dialect, hdr, 0);
DRAY__LOCK_AT(dray_dialect, type_map, 8);
DRAY__LOCK_AT(dray_dialect, nesting, 16);
DRAY__LOCK_AT(dray_dialect, split_rule, 20);
DRAY__LOCK_AT(dray_dialect, ident_case, 24);
DRAY__LOCK_AT(dray_dialect, ident_unit, 28);
DRAY__LOCK_AT(dray_dialect, ident_max, 32);
DRAY__LOCK_AT(dray_dialect, modes, 36);
DRAY__LOCK_AT(dray_dialect, max_record_bytes, 40);

DRAY__LOCK_SIZE(dray_plugin_vtable, 96);
DRAY__LOCK_AT(dray_plugin_vtable, hdr, 0);
DRAY__LOCK_AT(dray_plugin_vtable, on_load, 8);
DRAY__LOCK_AT(dray_plugin_vtable, on_unload, 16);
DRAY__LOCK_AT(dray_plugin_vtable, validate, 24);
DRAY__LOCK_AT(dray_plugin_vtable, create, 32);
DRAY__LOCK_AT(dray_plugin_vtable, destroy, 40);
DRAY__LOCK_AT(dray_plugin_vtable, check, 48);
DRAY__LOCK_AT(dray_plugin_vtable, load_batch, 56);
DRAY__LOCK_AT(dray_plugin_vtable, readback, 64);
DRAY__LOCK_AT(dray_plugin_vtable, list_tables, 72);
DRAY__LOCK_AT(dray_plugin_vtable, namespace_create, 80);
DRAY__LOCK_AT(dray_plugin_vtable, namespace_drop, 88);

DRAY__LOCK_SIZE(dray_plugin_desc, 104);
DRAY__LOCK_AT(dray_plugin_desc, hdr, 0);
DRAY__LOCK_AT(dray_plugin_desc, min_host_abi_minor, 8);
DRAY__LOCK_AT(dray_plugin_desc, reserved0, 10);
DRAY__LOCK_AT(dray_plugin_desc, reserved1, 12);
DRAY__LOCK_AT(dray_plugin_desc, name, 16);
DRAY__LOCK_AT(dray_plugin_desc, version, 24);
DRAY__LOCK_AT(dray_plugin_desc, vendor, 32);
DRAY__LOCK_AT(dray_plugin_desc, license, 40);
DRAY__LOCK_AT(dray_plugin_desc, description, 48);
DRAY__LOCK_AT(dray_plugin_desc, build_sig, 56);
DRAY__LOCK_AT(dray_plugin_desc, caps, 64);
DRAY__LOCK_AT(dray_plugin_desc, options, 72);
DRAY__LOCK_AT(dray_plugin_desc, n_options, 80);
DRAY__LOCK_AT(dray_plugin_desc, option_size, 84);
DRAY__LOCK_AT(dray_plugin_desc, dialect, 88);
DRAY__LOCK_AT(dray_plugin_desc, vtable, 96);

DRAY__LOCK_SIZE(dray_config_info, 32);
DRAY__LOCK_AT(dray_config_info, hdr, 0);
DRAY__LOCK_AT(dray_config_info, destination, 8);
DRAY__LOCK_AT(dray_config_info, plugin, 16);
DRAY__LOCK_AT(dray_config_info, mode, 24);
DRAY__LOCK_AT(dray_config_info, reserved0, 28);

DRAY__LOCK_SIZE(dray_batch_info, 88);
DRAY__LOCK_AT(dray_batch_info, hdr, 0);
DRAY__LOCK_AT(dray_batch_info, batch_id, 8);
DRAY__LOCK_AT(dray_batch_info, integration, 16);
DRAY__LOCK_AT(dray_batch_info, stream, 24);
DRAY__LOCK_AT(dray_batch_info, key_properties, 32);
DRAY__LOCK_AT(dray_batch_info, n_key_properties, 40);
DRAY__LOCK_AT(dray_batch_info, attempt, 44);
DRAY__LOCK_AT(dray_batch_info, flags, 48);
DRAY__LOCK_AT(dray_batch_info, reserved0, 52);
DRAY__LOCK_AT(dray_batch_info, table_version, 56);
DRAY__LOCK_AT(dray_batch_info, row_count, 64);
DRAY__LOCK_AT(dray_batch_info, created_at_ms, 72);
DRAY__LOCK_AT(dray_batch_info, ns, 80);

DRAY__LOCK_SIZE(dray_schema_node, 48);
DRAY__LOCK_AT(dray_schema_node, hdr, 0);
DRAY__LOCK_AT(dray_schema_node, name, 8);
DRAY__LOCK_AT(dray_schema_node, parent, 16);
DRAY__LOCK_AT(dray_schema_node, depth, 20);
DRAY__LOCK_AT(dray_schema_node, json_types, 24);
DRAY__LOCK_AT(dray_schema_node, format, 28);
DRAY__LOCK_AT(dray_schema_node, flags, 32);
DRAY__LOCK_AT(dray_schema_node, scale, 36);
DRAY__LOCK_AT(dray_schema_node, multiple_of, 40);

DRAY__LOCK_SIZE(dray_value, 40);
DRAY__LOCK_AT(dray_value, hdr, 0);
DRAY__LOCK_AT(dray_value, kind, 8);
DRAY__LOCK_AT(dray_value, flags, 12);
DRAY__LOCK_AT(dray_value, text, 16);
DRAY__LOCK_AT(dray_value, len, 24);
DRAY__LOCK_AT(dray_value, i64, 32);

DRAY__LOCK_SIZE(dray_record_meta, 72);
DRAY__LOCK_AT(dray_record_meta, hdr, 0);
DRAY__LOCK_AT(dray_record_meta, row, 8);
DRAY__LOCK_AT(dray_record_meta, sequence, 16);
DRAY__LOCK_AT(dray_record_meta, received_at, 24);
DRAY__LOCK_AT(dray_record_meta, extracted_at, 32);
DRAY__LOCK_AT(dray_record_meta, batched_at, 40);
DRAY__LOCK_AT(dray_record_meta, primary_key, 48);
DRAY__LOCK_AT(dray_record_meta, table_version, 56);
DRAY__LOCK_AT(dray_record_meta, flags, 64);
DRAY__LOCK_AT(dray_record_meta, reserved0, 68);

DRAY__LOCK_SIZE(dray_host_api, 224);
DRAY__LOCK_AT(dray_host_api, hdr, 0);
DRAY__LOCK_AT(dray_host_api, host_version, 8);
DRAY__LOCK_AT(dray_host_api, reserved0, 12);
DRAY__LOCK_AT(dray_host_api, caps, 16);
DRAY__LOCK_AT(dray_host_api, caps_known, 24);
DRAY__LOCK_AT(dray_host_api, log_enabled, 32);
DRAY__LOCK_AT(dray_host_api, vlog, 40);
DRAY__LOCK_AT(dray_host_api, error_vset, 48);
DRAY__LOCK_AT(dray_host_api, error_vdetail, 56);
DRAY__LOCK_AT(dray_host_api, error_vhint, 64);
DRAY__LOCK_AT(dray_host_api, error_retry_after, 72);
DRAY__LOCK_AT(dray_host_api, cfg_str, 80);
DRAY__LOCK_AT(dray_host_api, cfg_i64, 88);
DRAY__LOCK_AT(dray_host_api, cfg_bool, 96);
DRAY__LOCK_AT(dray_host_api, cfg_f64, 104);
DRAY__LOCK_AT(dray_host_api, cfg_info, 112);
DRAY__LOCK_AT(dray_host_api, batch_info, 120);
DRAY__LOCK_AT(dray_host_api, batch_schema_json, 128);
DRAY__LOCK_AT(dray_host_api, batch_schema_nodes, 136);
DRAY__LOCK_AT(dray_host_api, batch_schema_node, 144);
DRAY__LOCK_AT(dray_host_api, batch_next, 152);
DRAY__LOCK_AT(dray_host_api, batch_rewind, 160);
DRAY__LOCK_AT(dray_host_api, record_json, 168);
DRAY__LOCK_AT(dray_host_api, record_meta, 176);
DRAY__LOCK_AT(dray_host_api, record_value, 184);
DRAY__LOCK_AT(dray_host_api, reject_record, 192);
DRAY__LOCK_AT(dray_host_api, report_rows, 200);
DRAY__LOCK_AT(dray_host_api, output_write, 208);
DRAY__LOCK_AT(dray_host_api, should_stop, 216);

#endif /* __SIZEOF_POINTER__ == 8 */

/* Status values and the entry symbol are part of the ABI too. */
_Static_assert(DRAY_OK == 0 && DRAY_E_RETRYABLE == 1 && DRAY_E_PERMANENT == 2 &&
                   DRAY_E_CONFIG == 3 && DRAY_E_UNSUPPORTED == 4 &&
                   DRAY_E_CANCELLED == 5 && DRAY_E_NOMEM == 6 &&
                   DRAY_E_ABI == 7,
               "status codes renumbered");
_Static_assert(DRAY_ABI_MAJOR == 1, "a new major needs a new entry symbol");

/* Keeps the translation unit non-empty on every platform. */
int dray__abi_lock_anchor(void);
int dray__abi_lock_anchor(void)
{
    return DRAY_ABI_MAJOR;
}

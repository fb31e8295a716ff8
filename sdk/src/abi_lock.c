/*
 * abi_lock.c - the 1.0 layouts and values, frozen.
 *
 * Every size and offset of every struct that crosses the plugin boundary
 * (LP64), and every enum value, flag bit and minimum size of ABI 1.0.
 * Changing one fails the build: append new members and values instead
 * (docs/ABI.md). A later minor adds a block of its own; nothing here moves.
 */
#include <stddef.h>

#include "dray/dray_abi.h"

#define DRAY__LOCK_VALUE(name, n)                                              \
    _Static_assert((unsigned long long)(name) == (n), #name " changed")

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
DRAY__LOCK_AT(dray_plugin_desc, build_sig, 16);
DRAY__LOCK_AT(dray_plugin_desc, name, 24);
DRAY__LOCK_AT(dray_plugin_desc, version, 32);
DRAY__LOCK_AT(dray_plugin_desc, vendor, 40);
DRAY__LOCK_AT(dray_plugin_desc, license, 48);
DRAY__LOCK_AT(dray_plugin_desc, description, 56);
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

DRAY__LOCK_SIZE(dray_record_meta, 80);
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
DRAY__LOCK_AT(dray_record_meta, reject_reason, 72);

DRAY__LOCK_SIZE(dray_host_api, 256);
DRAY__LOCK_AT(dray_host_api, hdr, 0);
DRAY__LOCK_AT(dray_host_api, host_version, 8);
DRAY__LOCK_AT(dray_host_api, reserved0, 12);
DRAY__LOCK_AT(dray_host_api, caps, 16);
DRAY__LOCK_AT(dray_host_api, caps_known, 24);
DRAY__LOCK_AT(dray_host_api, log_enabled, 32);
DRAY__LOCK_AT(dray_host_api, vlog, 40);
DRAY__LOCK_AT(dray_host_api, log_write, 48);
DRAY__LOCK_AT(dray_host_api, error_vset, 56);
DRAY__LOCK_AT(dray_host_api, error_vdetail, 64);
DRAY__LOCK_AT(dray_host_api, error_vhint, 72);
DRAY__LOCK_AT(dray_host_api, error_set_str, 80);
DRAY__LOCK_AT(dray_host_api, error_detail_str, 88);
DRAY__LOCK_AT(dray_host_api, error_hint_str, 96);
DRAY__LOCK_AT(dray_host_api, error_retry_after, 104);
DRAY__LOCK_AT(dray_host_api, cfg_str, 112);
DRAY__LOCK_AT(dray_host_api, cfg_i64, 120);
DRAY__LOCK_AT(dray_host_api, cfg_bool, 128);
DRAY__LOCK_AT(dray_host_api, cfg_f64, 136);
DRAY__LOCK_AT(dray_host_api, cfg_info, 144);
DRAY__LOCK_AT(dray_host_api, batch_info, 152);
DRAY__LOCK_AT(dray_host_api, batch_schema_json, 160);
DRAY__LOCK_AT(dray_host_api, batch_schema_nodes, 168);
DRAY__LOCK_AT(dray_host_api, batch_schema_node, 176);
DRAY__LOCK_AT(dray_host_api, batch_next, 184);
DRAY__LOCK_AT(dray_host_api, batch_rewind, 192);
DRAY__LOCK_AT(dray_host_api, record_json, 200);
DRAY__LOCK_AT(dray_host_api, record_meta, 208);
DRAY__LOCK_AT(dray_host_api, record_value, 216);
DRAY__LOCK_AT(dray_host_api, reject_record, 224);
DRAY__LOCK_AT(dray_host_api, report_rows, 232);
DRAY__LOCK_AT(dray_host_api, output_write, 240);
DRAY__LOCK_AT(dray_host_api, should_stop, 248);

DRAY__LOCK_VALUE(DRAY_PLUGIN_DESC_SIZE_1_0, 104);
DRAY__LOCK_VALUE(DRAY_PLUGIN_VTABLE_SIZE_1_0, 96);
DRAY__LOCK_VALUE(DRAY_DIALECT_SIZE_1_0, 48);
DRAY__LOCK_VALUE(DRAY_OPTION_SIZE_1_0, 56);
DRAY__LOCK_VALUE(DRAY_HOST_API_SIZE_1_0, 256);

#endif /* __SIZEOF_POINTER__ == 8 */

/* Values: statuses, enums, flag and capability bits. */
DRAY__LOCK_VALUE(DRAY_CAP_IDEMPOTENT_LOADS, 1);
DRAY__LOCK_VALUE(DRAY_CAP_REJECT_ROWS, 2);
DRAY__LOCK_VALUE(DRAY_CAP_READBACK, 4);
DRAY__LOCK_VALUE(DRAY_CAP_NAMESPACES, 8);
DRAY__LOCK_VALUE(DRAY_CAP_ACTIVATE_VERSION, 16);
DRAY__LOCK_VALUE(DRAY_CAP_CONCURRENT_STREAMS, 32);
DRAY__LOCK_VALUE(DRAY_CAP_CHECK, 64);
DRAY__LOCK_VALUE(DRAY_CAP_KNOWN_1_0, 127);
DRAY__LOCK_VALUE(DRAY_OPTF_REQUIRED, 1);
DRAY__LOCK_VALUE(DRAY_OPTF_SECRET, 2);
DRAY__LOCK_VALUE(DRAY_OPTF_CONNINFO, 4);
DRAY__LOCK_VALUE(DRAY_OPTF_DEPRECATED, 8);
DRAY__LOCK_VALUE(DRAY_OPTF_PATH, 16);
DRAY__LOCK_VALUE(DRAY_JT_NULL, 1);
DRAY__LOCK_VALUE(DRAY_JT_BOOLEAN, 2);
DRAY__LOCK_VALUE(DRAY_JT_INTEGER, 4);
DRAY__LOCK_VALUE(DRAY_JT_NUMBER, 8);
DRAY__LOCK_VALUE(DRAY_JT_STRING, 16);
DRAY__LOCK_VALUE(DRAY_JT_OBJECT, 32);
DRAY__LOCK_VALUE(DRAY_JT_ARRAY, 64);
DRAY__LOCK_VALUE(DRAY_NODE_KEY, 1);
DRAY__LOCK_VALUE(DRAY_NODE_ITEMS, 2);
DRAY__LOCK_VALUE(DRAY_NODE_OPEN, 4);
DRAY__LOCK_VALUE(DRAY_NODE_DEPTH_CUT, 8);
DRAY__LOCK_VALUE(DRAY_VF_I64, 1);
DRAY__LOCK_VALUE(DRAY_REC_REJECTED, 1);
DRAY__LOCK_VALUE(DRAY_BATCH_ACTIVATE_VERSION, 1);
DRAY__LOCK_VALUE(DRAY_BATCH_HAS_TABLE_VERSION, 2);
DRAY__LOCK_VALUE(DRAY_LOG_ERROR, 0);
DRAY__LOCK_VALUE(DRAY_LOG_WARN, 1);
DRAY__LOCK_VALUE(DRAY_LOG_INFO, 2);
DRAY__LOCK_VALUE(DRAY_LOG_DEBUG, 3);
DRAY__LOCK_VALUE(DRAY_LOG_TRACE, 4);
DRAY__LOCK_VALUE(DRAY_MODE_UPSERT, 0);
DRAY__LOCK_VALUE(DRAY_MODE_APPEND, 1);
DRAY__LOCK_VALUE(DRAY_OPT_STRING, 0);
DRAY__LOCK_VALUE(DRAY_OPT_INT, 1);
DRAY__LOCK_VALUE(DRAY_OPT_BOOL, 2);
DRAY__LOCK_VALUE(DRAY_OPT_FLOAT, 3);
DRAY__LOCK_VALUE(DRAY_OPT_ENUM, 4);
DRAY__LOCK_VALUE(DRAY_OPT_SIZE, 5);
DRAY__LOCK_VALUE(DRAY_OPT_DURATION, 6);
DRAY__LOCK_VALUE(DRAY_OPT_TYPE_COUNT_1_0, 7);
DRAY__LOCK_VALUE(DRAY_NEST_FLATTEN, 0);
DRAY__LOCK_VALUE(DRAY_NEST_NATIVE, 1);
DRAY__LOCK_VALUE(DRAY_NEST_DOCUMENT, 2);
DRAY__LOCK_VALUE(DRAY_SPLIT_RENAME, 0);
DRAY__LOCK_VALUE(DRAY_SPLIT_KEEP, 1);
DRAY__LOCK_VALUE(DRAY_CASE_PRESERVE, 0);
DRAY__LOCK_VALUE(DRAY_CASE_LOWER, 1);
DRAY__LOCK_VALUE(DRAY_CASE_UPPER, 2);
DRAY__LOCK_VALUE(DRAY_IDENT_BYTES, 0);
DRAY__LOCK_VALUE(DRAY_IDENT_CHARS, 1);
DRAY__LOCK_VALUE(DRAY_FMT_NONE, 0);
DRAY__LOCK_VALUE(DRAY_FMT_DATE_TIME, 1);
DRAY__LOCK_VALUE(DRAY_FMT_DATE, 2);
DRAY__LOCK_VALUE(DRAY_FMT_TIME, 3);
DRAY__LOCK_VALUE(DRAY_V_ABSENT, 0);
DRAY__LOCK_VALUE(DRAY_V_NULL, 1);
DRAY__LOCK_VALUE(DRAY_V_BOOLEAN, 2);
DRAY__LOCK_VALUE(DRAY_V_INTEGER, 3);
DRAY__LOCK_VALUE(DRAY_V_NUMBER, 4);
DRAY__LOCK_VALUE(DRAY_V_STRING, 5);
DRAY__LOCK_VALUE(DRAY_V_DATE_TIME, 6);
DRAY__LOCK_VALUE(DRAY_V_OBJECT, 7);
DRAY__LOCK_VALUE(DRAY_V_ARRAY, 8);
DRAY__LOCK_VALUE(DRAY_OK, 0);
DRAY__LOCK_VALUE(DRAY_E_RETRYABLE, 1);
DRAY__LOCK_VALUE(DRAY_E_PERMANENT, 2);
DRAY__LOCK_VALUE(DRAY_E_CONFIG, 3);
DRAY__LOCK_VALUE(DRAY_E_UNSUPPORTED, 4);
DRAY__LOCK_VALUE(DRAY_E_CANCELLED, 5);
DRAY__LOCK_VALUE(DRAY_E_NOMEM, 6);
DRAY__LOCK_VALUE(DRAY_E_ABI, 7);
_Static_assert(DRAY_ABI_MAJOR == 1, "a new major needs a new entry symbol");

/* Keeps the translation unit non-empty on every platform. */
int dray__abi_lock_anchor(void);
int dray__abi_lock_anchor(void)
{
    return DRAY_ABI_MAJOR;
}

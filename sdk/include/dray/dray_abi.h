/*
 * dray_abi.h - the binary contract between the dray host and its plugins.
 *
 * Layout only: fixed-width types, structs, enum values and status codes.
 * Plugin authors include dray_plugin.h, which includes this file.
 *
 * Rules every declaration here follows (docs/ABI.md has the reasons):
 *  - Every struct that crosses the boundary starts with struct dray_hdr.
 *    Whoever fills a struct sets the header from its own sizeof; whoever
 *    reads it copies min(its size, the filler's size) into zeroed storage.
 *    For a struct the host fills on request (dray_batch_info and friends)
 *    the plugin sets the header first and the host writes only the fields
 *    that fit (the Redis ClientInfo pattern).
 *  - Only fixed-width integers, pointers and function pointers. Enum-valued
 *    fields are int32_t. No bitfields, no bool, no unions.
 *  - Append only. New members carry a comment naming the minor they came in.
 *  - Zero / NULL means "absent, use the default" for every member added
 *    after 1.0.
 *  - Unknown enum values and flag bits are ignored (or treated
 *    conservatively) by whichever side receives them.
 *  - No allocation crosses the boundary. Strings the host hands out are
 *    borrowed for the stated lifetime; strings the plugin hands in are
 *    copied before the host function returns.
 */
#ifndef DRAY_ABI_H
#define DRAY_ABI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "dray_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Header and status codes                                                  */
/* ------------------------------------------------------------------------ */

struct dray_hdr {
    uint32_t struct_size; /* sizeof() as compiled by whoever filled it in */
    uint16_t abi_major;   /* DRAY_ABI_MAJOR of the filler */
    uint16_t abi_minor;   /* DRAY_ABI_MINOR of the filler */
};

#define DRAY_HDR_INIT(type)                                                    \
    {                                                                          \
        (uint32_t)sizeof(type), DRAY_ABI_MAJOR, DRAY_ABI_MINOR                 \
    }

/* A view the host fills on request, ready to pass (C only):
       struct dray_batch_info info = DRAY_VIEW_INIT(struct dray_batch_info); */
#define DRAY_VIEW_INIT(type)                                                   \
    {                                                                          \
        .hdr = DRAY_HDR_INIT(type)                                             \
    }

/*
 * Status codes, returned as data. One table generates the values, the names
 * (dray_status_name()) and the host's descriptions. Never renumbered. A
 * receiver treats an unknown positive value as DRAY_E_PERMANENT.
 */
#define DRAY_STATUS_MAP(XX)                                                    \
    XX(OK, 0, "success")                                                       \
    XX(E_RETRYABLE, 1, "temporary failure; the same call may succeed later")   \
    XX(E_PERMANENT, 2, "this input cannot succeed as it is")                   \
    XX(E_CONFIG, 3, "the configuration must change before anything works")     \
    XX(E_UNSUPPORTED, 4, "the operation is not implemented")                   \
    XX(E_CANCELLED, 5, "stopped because the host asked to stop")               \
    XX(E_NOMEM, 6, "out of memory")                                            \
    XX(E_ABI, 7, "the other side broke the ABI contract")

typedef int32_t dray_status;

enum {
#define DRAY__STATUS_ENUM(name, value, text) DRAY_##name = value,
    DRAY_STATUS_MAP(DRAY__STATUS_ENUM)
#undef DRAY__STATUS_ENUM
};

/* ------------------------------------------------------------------------ */
/* Opaque handles (host-owned; a plugin never sees their layout)             */
/* ------------------------------------------------------------------------ */

typedef struct dray_instance dray_instance; /* one configured destination */
typedef struct dray_config dray_config;     /* its validated options */
typedef struct dray_error dray_error;       /* an error being reported */
typedef struct dray_batch dray_batch;       /* one batch being loaded */
typedef struct dray_record dray_record;     /* one record of a batch */
typedef struct dray_output dray_output;     /* a byte sink the host reads */

/* ------------------------------------------------------------------------ */
/* Enumerations and flag bits                                               */
/* ------------------------------------------------------------------------ */

/* Log levels. */
enum {
    DRAY_LOG_ERROR = 0,
    DRAY_LOG_WARN = 1,
    DRAY_LOG_INFO = 2,
    DRAY_LOG_DEBUG = 3,
    DRAY_LOG_TRACE = 4
};

/* Load modes; also used as bits in dray_dialect.modes (1 << mode). */
enum { DRAY_MODE_UPSERT = 0, DRAY_MODE_APPEND = 1 };
#define DRAY_MODE_BIT(mode) (1u << (mode))

/* Plugin capabilities (dray_plugin_desc.caps). */
#define DRAY_CAP_IDEMPOTENT_LOADS (1ull << 0)   /* same batch id twice = once */
#define DRAY_CAP_REJECT_ROWS (1ull << 1)        /* uses reject_record() */
#define DRAY_CAP_READBACK (1ull << 2)           /* implements readback */
#define DRAY_CAP_NAMESPACES (1ull << 3)         /* namespace_create/drop */
#define DRAY_CAP_ACTIVATE_VERSION (1ull << 4)   /* full-table replace */
#define DRAY_CAP_CONCURRENT_STREAMS (1ull << 5) /* load_batch in parallel */
#define DRAY_CAP_CHECK (1ull << 6)              /* connectivity probe */
#define DRAY_CAP_KNOWN_1_0 ((1ull << 7) - 1)

/* Host capabilities (dray_host_api.caps); none are defined in 1.0. */
#define DRAY_HOST_CAP_KNOWN_1_0 0ull

/* Option value types (dray_option.type). */
enum {
    DRAY_OPT_STRING = 0,
    DRAY_OPT_INT = 1,      /* decimal int64, within [min, max] when max > min */
    DRAY_OPT_BOOL = 2,     /* true/false/yes/no/on/off/1/0 */
    DRAY_OPT_FLOAT = 3,    /* a finite double */
    DRAY_OPT_ENUM = 4,     /* one of enum_values */
    DRAY_OPT_SIZE = 5,     /* bytes: "512", "64KiB", "16MiB", "2GiB", "1MB" */
    DRAY_OPT_DURATION = 6, /* milliseconds: "250ms", "30s", "5m", "2h" */
    DRAY_OPT_TYPE_COUNT_1_0 = 7
};

/* Option flags (dray_option.flags). */
#define DRAY_OPTF_REQUIRED (1u << 0)
/* Never printed or logged. */
#define DRAY_OPTF_SECRET (1u << 1)
/* A libpq-style key=value string or URI: only its password is secret. */
#define DRAY_OPTF_CONNINFO (1u << 2)
#define DRAY_OPTF_DEPRECATED (1u << 3)
/* A file or folder: a relative value resolves against the config's folder. */
#define DRAY_OPTF_PATH (1u << 4)

/* Nesting rule of a destination (dray_dialect.nesting). */
enum {
    DRAY_NEST_FLATTEN = 0, /* objects to a__b columns, arrays to subtables */
    DRAY_NEST_NATIVE = 1,  /* objects and arrays kept (VARIANT, RECORD) */
    DRAY_NEST_DOCUMENT = 2 /* whole records kept as documents (JSONL) */
};

/* Column split rule on a type change (dray_dialect.split_rule). */
enum {
    DRAY_SPLIT_RENAME = 0, /* the original column gets a type suffix too */
    DRAY_SPLIT_KEEP = 1    /* the original keeps its name */
};

/* Identifier case policy (dray_dialect.ident_case). */
enum { DRAY_CASE_PRESERVE = 0, DRAY_CASE_LOWER = 1, DRAY_CASE_UPPER = 2 };

/* Unit of dray_dialect.ident_max. */
enum { DRAY_IDENT_BYTES = 0, DRAY_IDENT_CHARS = 1 };

/* JSON types in a schema node (bits of dray_schema_node.json_types). */
#define DRAY_JT_NULL (1u << 0)
#define DRAY_JT_BOOLEAN (1u << 1)
#define DRAY_JT_INTEGER (1u << 2)
#define DRAY_JT_NUMBER (1u << 3)
#define DRAY_JT_STRING (1u << 4)
#define DRAY_JT_OBJECT (1u << 5)
#define DRAY_JT_ARRAY (1u << 6)

/* String formats a schema node may declare (dray_schema_node.format). */
enum {
    DRAY_FMT_NONE = 0,
    DRAY_FMT_DATE_TIME = 1,
    DRAY_FMT_DATE = 2,
    DRAY_FMT_TIME = 3
};

/* Schema node flags (dray_schema_node.flags). */
#define DRAY_NODE_KEY (1u << 0)       /* a key property */
#define DRAY_NODE_ITEMS (1u << 1)     /* the items of its parent array */
#define DRAY_NODE_OPEN (1u << 2)      /* additionalProperties allowed */
#define DRAY_NODE_DEPTH_CUT (1u << 3) /* recursion cut here; kept as JSON */

/* Value kinds (dray_value.kind). */
enum {
    DRAY_V_ABSENT = 0, /* the field is not in the record */
    DRAY_V_NULL = 1,
    DRAY_V_BOOLEAN = 2,
    DRAY_V_INTEGER = 3,   /* text: the source digits, never via a double */
    DRAY_V_NUMBER = 4,    /* text: the source number text */
    DRAY_V_STRING = 5,    /* text: unescaped UTF-8 (may contain NUL) */
    DRAY_V_DATE_TIME = 6, /* text: RFC 3339, UTC, "Z", microseconds */
    DRAY_V_OBJECT = 7,    /* text: the object as compact JSON */
    DRAY_V_ARRAY = 8      /* text: the array as compact JSON */
};

/* Value flags (dray_value.flags). */
#define DRAY_VF_I64 (1u << 0) /* i64 holds the exact value */

/*
 * Record flags (dray_record_meta.flags). A record rejected at the gate
 * (a missing key, a type mismatch under on_invalid: reject) still reaches
 * every destination, so that it lands in its rejects table with the reason
 * instead of vanishing: load it there, never into the stream's tables.
 */
#define DRAY_REC_REJECTED (1u << 0)

/* Batch flags (dray_batch_info.flags). */
/*
 * The batch starts with an ACTIVATE_VERSION message for table_version (its
 * records, if any, follow it). Loading it makes that version the table's
 * only one: in the same commit as the batch's rows, every row of the
 * stream's tables whose _sdc_table_version differs from table_version is
 * removed. Rows of that version loaded by earlier batches stay. The last
 * activation wins, even when its version is lower than an earlier one. A
 * batch may hold no records and only the activation.
 */
#define DRAY_BATCH_ACTIVATE_VERSION (1u << 0)
/* table_version is set (the stream uses table versions at all). */
#define DRAY_BATCH_HAS_TABLE_VERSION (1u << 1)

/* ------------------------------------------------------------------------ */
/* Plugin -> host: the descriptor and what it points to                      */
/* ------------------------------------------------------------------------ */

/*
 * One option a plugin accepts. A static const array in the plugin, walked by
 * the host with dray_plugin_desc.option_size as the stride. No header: the
 * stride carries the size.
 */
struct dray_option {
    const char *name;               /* [a-z][a-z0-9_]*, unique in the table */
    int32_t type;                   /* DRAY_OPT_* */
    uint32_t flags;                 /* DRAY_OPTF_* */
    const char *default_value;      /* as text, parsed like a configured value;
                                       NULL: no default */
    const char *const *enum_values; /* NULL-terminated, for DRAY_OPT_ENUM */
    int64_t min;                    /* INT/SIZE/DURATION bounds, used when */
    int64_t max;                    /* max > min */
    const char *description;        /* one sentence; the generated docs */
};

/* How a destination shapes data; the SDK data core follows it. */
struct dray_dialect {
    struct dray_hdr hdr;
    const char *type_map;     /* the SDK type table to use: "postgres",
                                 "redshift", "snowflake", "bigquery", "files" */
    int32_t nesting;          /* DRAY_NEST_* */
    int32_t split_rule;       /* DRAY_SPLIT_* */
    int32_t ident_case;       /* DRAY_CASE_* */
    int32_t ident_unit;       /* DRAY_IDENT_BYTES or _CHARS */
    uint32_t ident_max;       /* identifier limit in ident_unit; 0: none */
    uint32_t modes;           /* DRAY_MODE_BIT(DRAY_MODE_UPSERT) | ... */
    int64_t max_record_bytes; /* larger records are rejected at load; 0:
                                 the host's limit */
};

struct dray_host_api;
struct dray_batch_info;

/*
 * Callbacks. Every one is called with a dray_error the plugin fills when it
 * returns anything but DRAY_OK. Threads: see docs/ABI.md ("Threads").
 */
struct dray_plugin_vtable {
    struct dray_hdr hdr;

    /* Once per process, single-threaded, before anything else. Optional.
       Process-wide library set-up (curl_global_init) belongs here. It must
       not block on the network. */
    dray_status (*on_load)(const struct dray_host_api *host, dray_error *err);
    /* Once, after every instance is destroyed. Optional. */
    void (*on_unload)(void);

    /* Cross-option checks, after the host checked each option against the
       option table. No I/O. Optional. */
    dray_status (*validate)(const dray_config *cfg, dray_error *err);
    /* Make an instance. *state is the plugin's until destroy(). Required.
       cfg is borrowed until destroy() returns. */
    dray_status (*create)(dray_instance *inst, const dray_config *cfg,
                          void **state, dray_error *err);
    /* Called exactly once per successful create(). Required. */
    void (*destroy)(void *state);
    /* Probe that the destination is reachable and the credentials work.
       Optional; loads nothing. */
    dray_status (*check)(void *state, dray_error *err);

    /* Load one batch and commit it. Required. DRAY_OK means every row not
       passed to reject_record() is durably committed in the destination.
       Any other status means nothing of the batch is visible, or that
       loading the same batch id again yields the same result (the plugin
       sets DRAY_CAP_IDEMPOTENT_LOADS to promise the latter). The batch
       and everything read from it are borrowed until the call returns. */
    dray_status (*load_batch)(void *state, dray_batch *batch, dray_error *err);

    /* Conformance support. Optional; each comes with its capability bit.
       ns is a namespace (schema, prefix, dataset) name made of
       [a-z0-9_]; NULL means the one the options name. */
    /* Write the table's rows to out as canonical NDJSON (docs/ABI.md). */
    dray_status (*readback)(void *state, const char *ns, const char *table,
                            dray_output *out, dray_error *err);
    /* Write the names of the namespace's tables to out, one a line. */
    dray_status (*list_tables)(void *state, const char *ns, dray_output *out,
                               dray_error *err);
    dray_status (*namespace_create)(void *state, const char *ns,
                                    dray_error *err);
    dray_status (*namespace_drop)(void *state, const char *ns, dray_error *err);

    /* Added after 1.0: append here, marked with the minor. */
};

struct dray_plugin_desc {
    struct dray_hdr hdr;         /* the minor the plugin was built with */
    uint16_t min_host_abi_minor; /* oldest host minor it runs on */
    uint16_t reserved0;
    uint32_t reserved1;
    const char *build_sig; /* DRAY_BUILD_SIGNATURE */
    const char *name;      /* [a-z][a-z0-9_]*, at most 63 characters */
    const char *version;   /* the plugin's own version, informational */
    const char *vendor;
    const char *license;               /* SPDX expression */
    const char *description;           /* one line */
    uint64_t caps;                     /* DRAY_CAP_* */
    const struct dray_option *options; /* n_options entries, at most 1024,
                                          walked with option_size (at most
                                          4096) as the stride */
    uint32_t n_options;
    uint32_t option_size;
    const struct dray_dialect *dialect;      /* required */
    const struct dray_plugin_vtable *vtable; /* required */
};

/* ------------------------------------------------------------------------ */
/* Host -> plugin: views the host fills on request                           */
/* ------------------------------------------------------------------------ */

/* What a destination instance is. Strings live as long as the instance. */
struct dray_config_info {
    struct dray_hdr hdr;
    const char *destination; /* the destination's name in the config */
    const char *plugin;      /* the plugin's name */
    int32_t mode;            /* DRAY_MODE_* */
    int32_t reserved0;
};

/* What a batch is. Strings live until load_batch returns. */
struct dray_batch_info {
    struct dray_hdr hdr;
    const char *batch_id; /* globally unique, [A-Za-z0-9_-], <= 128
                             bytes; the same on every attempt */
    const char *integration;
    const char *stream;                /* the Singer stream name, as sent */
    const char *const *key_properties; /* n_key_properties names */
    uint32_t n_key_properties;
    uint32_t attempt; /* 1 on the first offer */
    uint32_t flags;   /* DRAY_BATCH_* */
    uint32_t reserved0;
    int64_t table_version; /* valid with DRAY_BATCH_HAS_TABLE_VERSION */
    int64_t row_count;     /* records in the batch */
    int64_t created_at_ms; /* Unix ms the batch was cut; strictly
                              increasing per stream */
    const char *ns;        /* namespace to load into instead of the
                              configured one (the harness); usually NULL */
};

/*
 * One node of the batch's column model: the stream's SCHEMA as a tree in
 * pre-order (a parent always precedes its children). Node 0 is the record.
 * Strings live until load_batch returns.
 */
struct dray_schema_node {
    struct dray_hdr hdr;
    const char *name;    /* property name; "" for the root and array items */
    int32_t parent;      /* index of the parent node; -1 for the root */
    int32_t depth;       /* 0 for the root */
    uint32_t json_types; /* DRAY_JT_* */
    int32_t format;      /* DRAY_FMT_* */
    uint32_t flags;      /* DRAY_NODE_* */
    int32_t scale;       /* decimal places from multipleOf; -1: none */
    const char *multiple_of; /* source text of multipleOf, or NULL */
};

/* One value of a record. Text is borrowed until load_batch returns. */
struct dray_value {
    struct dray_hdr hdr;
    int32_t kind;     /* DRAY_V_* */
    uint32_t flags;   /* DRAY_VF_* */
    const char *text; /* canonical text (see DRAY_V_*); NULL when absent
                         or null */
    uint64_t len;     /* bytes of text */
    int64_t i64;      /* booleans 0/1; integers with DRAY_VF_I64 */
};

/* The system fields of a record (reference: Stitch _sdc_* columns). */
struct dray_record_meta {
    struct dray_hdr hdr;
    int64_t row;              /* 0-based position in the batch */
    int64_t sequence;         /* _sdc_sequence; increasing per stream */
    const char *received_at;  /* RFC 3339 UTC; borrowed */
    const char *extracted_at; /* time_extracted, or NULL */
    const char *batched_at;
    const char *primary_key; /* __sdc_primary_key for keyless streams,
                                or NULL */
    int64_t table_version;   /* 0 when the stream has none */
    uint32_t flags;          /* DRAY_REC_* */
    uint32_t reserved0;
    const char *reject_reason; /* with DRAY_REC_REJECTED */
};

/* ------------------------------------------------------------------------ */
/* Host -> plugin: the host API table                                        */
/* ------------------------------------------------------------------------ */

/*
 * Every entry is thread-safe unless it says otherwise. The table and
 * everything it returns outlive every call into the plugin.
 */
struct dray_host_api {
    struct dray_hdr hdr;   /* the host's minor is hdr.abi_minor */
    uint32_t host_version; /* (major << 16) | (minor << 8) | patch */
    uint32_t reserved0;
    uint64_t caps;       /* DRAY_HOST_CAP_* */
    uint64_t caps_known; /* every DRAY_CAP_* bit this host understands */

    /* --- Logging. The host prefixes the destination and plugin names and
       keeps each message on one line. inst may be NULL (from on_load). */
    int32_t (*log_enabled)(const dray_instance *inst, int32_t level);
    void (*vlog)(const dray_instance *inst, int32_t level, const char *fmt,
                 va_list ap);
    /* The same without printf formatting, for plugins written in languages
       that cannot build a va_list: msg is len bytes, not a format. */
    void (*log_write)(const dray_instance *inst, int32_t level, const char *msg,
                      uint64_t len);

    /* --- Errors. The host owns the storage; the text is copied. A second
       set replaces the first. code is the destination's own code
       (SQLSTATE, HTTP status, vendor number), or NULL. The *_str forms
       take a plain NUL-terminated message instead of a format. */
    void (*error_vset)(dray_error *err, dray_status cls, const char *code,
                       const char *fmt, va_list ap);
    void (*error_vdetail)(dray_error *err, const char *fmt, va_list ap);
    void (*error_vhint)(dray_error *err, const char *fmt, va_list ap);
    void (*error_set_str)(dray_error *err, dray_status cls, const char *code,
                          const char *msg);
    void (*error_detail_str)(dray_error *err, const char *msg);
    void (*error_hint_str)(dray_error *err, const char *msg);
    void (*error_retry_after)(dray_error *err, uint32_t ms);

    /* --- Options, parsed and checked against the option table; defaults
       applied. Each returns 1 and sets *out when the option has a value,
       0 when it has none, -1 when its type cannot be read that way, -2
       when the option table has no such name (a bug in the plugin).
       cfg_str reads every type: the text as configured. cfg_i64 reads
       INT, SIZE (bytes), DURATION (ms) and BOOL; cfg_f64 FLOAT and INT.
       Strings are borrowed while cfg lives. */
    int32_t (*cfg_str)(const dray_config *cfg, const char *name,
                       const char **out);
    int32_t (*cfg_i64)(const dray_config *cfg, const char *name, int64_t *out);
    int32_t (*cfg_bool)(const dray_config *cfg, const char *name, int32_t *out);
    int32_t (*cfg_f64)(const dray_config *cfg, const char *name, double *out);
    /* The views below return 0, or -1 (nothing written) for a NULL handle
       or a struct_size that does not cover the header. */
    int32_t (*cfg_info)(const dray_config *cfg, struct dray_config_info *out);

    /* --- The batch. Valid only during load_batch, on its thread. */
    int32_t (*batch_info)(const dray_batch *batch, struct dray_batch_info *out);
    /* The stream's SCHEMA message "schema" value as JSON text. */
    void (*batch_schema_json)(const dray_batch *batch, const char **json,
                              uint64_t *len);
    int32_t (*batch_schema_nodes)(const dray_batch *batch);
    /* Returns 0, or -1 for an index out of range. */
    int32_t (*batch_schema_node)(const dray_batch *batch, int32_t index,
                                 struct dray_schema_node *out);
    /* Next record, or *rec = NULL at the end. A record handle is valid
       until the next batch_next or batch_rewind. */
    dray_status (*batch_next)(dray_batch *batch, const dray_record **rec,
                              dray_error *err);
    /* Start over at the first record (for a second pass or a bisection). */
    dray_status (*batch_rewind)(dray_batch *batch, dray_error *err);
    /* The record's data as canonical compact JSON (numbers keep their
       source text; date-times normalised to UTC). */
    void (*record_json)(const dray_record *rec, const char **json,
                        uint64_t *len);
    int32_t (*record_meta)(const dray_record *rec,
                           struct dray_record_meta *out);
    /* The value at a schema node (descending through objects only).
       Returns 0, or -1 for an index out of range or below an array. */
    int32_t (*record_value)(const dray_record *rec, int32_t node,
                            struct dray_value *out);
    /* Reject one record: it goes to the destination's rejects with the
       reason and is counted. table is the table it was meant for (NULL:
       the stream's). Copies its arguments. Returns DRAY_OK, or an error
       status to return at once (the batch has too many rejects). */
    dray_status (*reject_record)(dray_batch *batch, const dray_record *rec,
                                 const char *table, const char *reason);
    /* Rows committed to a table by this batch, reported before returning
       DRAY_OK; reported again for the same table, the counts add up. */
    dray_status (*report_rows)(dray_batch *batch, const char *table,
                               int64_t rows);

    /* --- Output for readback and list_tables. Copies the bytes. Returns
       DRAY_OK, or an error status the plugin should return at once. */
    dray_status (*output_write)(dray_output *out, const void *data,
                                uint64_t len);

    /* --- Lifecycle. Non-zero once the host wants the call to end soon
       (shutdown or timeout); return DRAY_E_CANCELLED then. */
    int32_t (*should_stop)(const dray_instance *inst);

    /* Added after 1.0: append here, marked with the minor. */
};

/*
 * True when the host table has the function fn (added in some minor) and
 * it is set. Needed before calling anything newer than the plugin's
 * min_host_abi_minor.
 */
#define DRAY_HOST_HAS(host, fn)                                                \
    ((host) != NULL &&                                                         \
     (host)->hdr.struct_size >=                                                \
         offsetof(struct dray_host_api, fn) + sizeof((host)->fn) &&            \
     (host)->fn != NULL)

/* ------------------------------------------------------------------------ */
/* The entry point                                                           */
/* ------------------------------------------------------------------------ */

/*
 * A plugin exports exactly this function (DRAY_PLUGIN_DEFINE writes it). It
 * stores host, sets *out to a static descriptor and returns DRAY_OK. No
 * allocation, no I/O, no other side effects: the host calls it to list
 * plugins. Work belongs in vtable->on_load.
 */
#define DRAY_PLUGIN_ENTRY_V1_NAME "dray_plugin_entry_v1"
typedef int32_t (*dray_plugin_entry_v1_fn)(const struct dray_host_api *host,
                                           const struct dray_plugin_desc **out);

/* Sizes of the 1.0 layouts: the least a 1.0 reader accepts. Measured to
   the end of the last 1.0 member, so they stay put as the structs grow. */
#define DRAY__END_OF(type, member)                                             \
    ((uint32_t)(offsetof(type, member) + sizeof(((type *)0)->member)))
#define DRAY_PLUGIN_DESC_SIZE_1_0 DRAY__END_OF(struct dray_plugin_desc, vtable)
#define DRAY_PLUGIN_VTABLE_SIZE_1_0                                            \
    DRAY__END_OF(struct dray_plugin_vtable, namespace_drop)
#define DRAY_DIALECT_SIZE_1_0                                                  \
    DRAY__END_OF(struct dray_dialect, max_record_bytes)
#define DRAY_OPTION_SIZE_1_0 DRAY__END_OF(struct dray_option, description)
#define DRAY_HOST_API_SIZE_1_0 DRAY__END_OF(struct dray_host_api, should_stop)

#ifdef __cplusplus
}
#endif

#endif /* DRAY_ABI_H */

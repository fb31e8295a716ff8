/*
 * pg_plugin.c - the PostgreSQL destination: its descriptor, options and
 * dialect, and the instance's life (create, check, destroy). Loading is
 * in pg_load.c; docs/POSTGRES.md says what it does and why.
 */
#include <stdlib.h>
#include <string.h>

#include "dray/dray_cfg.h"
#include "pg_internal.h"

static const struct dray_option pg_options[] = {
    {"dsn", DRAY_OPT_STRING, DRAY_OPTF_REQUIRED | DRAY_OPTF_CONNINFO, NULL,
     NULL, 0, 0, "libpq connection string or URI of the database to load into"},
    {"schema", DRAY_OPT_STRING, 0, "{integration}", NULL, 0, 0,
     "schema for the tables; {integration} is replaced by the integration's "
     "name"},
    {"sslrootcert", DRAY_OPT_STRING, DRAY_OPTF_PATH, NULL, NULL, 0, 0,
     "CA bundle that verifies the server (default: the system's)"},
    {"connect_timeout", DRAY_OPT_DURATION, 0, "30s", NULL, 1000, 3600000,
     "give up connecting after this long (retried later)"},
    {"statement_timeout", DRAY_OPT_DURATION, 0, "0", NULL, 0, 86400000,
     "cancel a statement that runs longer (0: never)"},
    {"spill_memory", DRAY_OPT_SIZE, 0, "8MiB", NULL, 65536, 1073741824,
     "subtable rows kept in memory per batch before spilling to a file"},
    {"work_mem", DRAY_OPT_SIZE, 0, "64MiB", NULL, 65536, 2147483648LL,
     "server memory per sort of a batch (dedupe, merge) before it spills "
     "to disk"},
    {"temp_buffers", DRAY_OPT_SIZE, 0, "64MiB", NULL, 1048576, 2147483648LL,
     "server memory for the stage tables of a batch before they spill"},
    {"max_rejects", DRAY_OPT_INT, 0, "0", NULL, 0, INT64_MAX,
     "fail a batch that rejects more records than this (0: no limit)"},
};

static void pg_free(struct pg *pg)
{
    if (pg == NULL)
        return;
    pg_disconnect(pg);
    free(pg->dsn);
    free(pg->schema_tmpl);
    free(pg->sslrootcert);
    free(pg);
}

static const char *const weak_modes[] = {"disable", "allow",     "prefer",
                                         "require", "verify-ca", NULL};

static dray_status pg_validate(const dray_config *cfg, dray_error *err)
{
    const char *dsn, *schema;
    char why[256];
    char *mode;
    int remote = 0;

    dsn = dray_cfg_str(cfg, "dsn");
    schema = dray_cfg_str(cfg, "schema");
    if (schema == NULL || *schema == '\0')
        return dray_error_set(err, DRAY_E_CONFIG, NULL,
                              "option 'schema' is empty");
    if (strlen(schema) > 63 && strstr(schema, "{integration}") == NULL)
        return dray_error_set(err, DRAY_E_CONFIG, NULL,
                              "option 'schema' is longer than PostgreSQL's "
                              "63 bytes");
    mode = pg_effective_sslmode(dsn ? dsn : "", &remote, why, sizeof(why));
    if (mode == NULL) {
        dray_error_set(err, DRAY_E_CONFIG, NULL,
                       "option 'dsn' cannot be read: %s", why);
        dray_error_hint(err, "write key=value pairs (host=... dbname=...) or "
                             "a postgresql:// URI");
        return DRAY_E_CONFIG;
    }
    for (int i = 0; remote && weak_modes[i]; i++)
        if (strcmp(mode, weak_modes[i]) == 0)
            dray_log(NULL, DRAY_LOG_WARN,
                     "option 'dsn' sets sslmode=%s for a remote server: the "
                     "server's identity is not verified; use "
                     "sslmode=verify-full (the default)",
                     mode);
    free(mode);
    return DRAY_OK;
}

static dray_status pg_create(dray_instance *inst, const dray_config *cfg,
                             void **state, dray_error *err)
{
    struct dray_config_info info = DRAY_VIEW_INIT(struct dray_config_info);
    struct pg *pg = calloc(1, sizeof(*pg));
    dray_status st;

    if (pg == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    pg->inst = inst;
    /* dsn is required and schema has a default: both have a value. */
    if (dray_cfg_dup(cfg, "dsn", 0, &pg->dsn) != 0 ||
        dray_cfg_dup(cfg, "schema", 0, &pg->schema_tmpl) != 0 ||
        dray_cfg_dup(cfg, "sslrootcert", 0, &pg->sslrootcert) != 0) {
        pg_free(pg);
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    pg->connect_timeout_ms = dray_cfg_i64(cfg, "connect_timeout", 0);
    pg->statement_timeout_ms = dray_cfg_i64(cfg, "statement_timeout", 0);
    pg->spill_memory = dray_cfg_i64(cfg, "spill_memory", 0);
    pg->work_mem = dray_cfg_i64(cfg, "work_mem", 0);
    pg->temp_buffers = dray_cfg_i64(cfg, "temp_buffers", 0);
    pg->max_rejects = dray_cfg_i64(cfg, "max_rejects", 0);
    dray_host()->cfg_info(cfg, &info);
    pg->mode = info.mode;
    /* Years 1 to 9999: what RFC 3339 can write, so every loaded timestamp
       reads back as one. */
    pg->types = *dray_types_dialect("postgres");
    pg->types.min_year = 1;
    pg->types.max_year = 9999;
    st = pg_connect(pg, err);
    if (st != DRAY_OK) {
        pg_free(pg);
        return st;
    }
    *state = pg;
    return DRAY_OK;
}

static void pg_destroy(void *state)
{
    pg_free(state);
}

static dray_status pg_check(void *state, dray_error *err)
{
    struct pg *pg = state;
    dray_status st = pg_connect(pg, err);

    if (st == DRAY_OK)
        st = pg_exec(pg, "SELECT 1", "checking the connection", err);
    return st;
}

static const struct dray_plugin_vtable pg_vtable = {
    DRAY_PLUGIN_VTABLE_HDR,
    .validate = pg_validate,
    .create = pg_create,
    .destroy = pg_destroy,
    .check = pg_check,
    .load_batch = pg_load_batch,
    .readback = pg_readback,
    .list_tables = pg_list_tables,
    .namespace_create = pg_namespace_create,
    .namespace_drop = pg_namespace_drop,
};

static const struct dray_dialect pg_dialect = {
    DRAY_DIALECT_HDR,
    .type_map = "postgres",
    .nesting = DRAY_NEST_FLATTEN,
    .split_rule = DRAY_SPLIT_RENAME,
    .ident_case = DRAY_CASE_PRESERVE,
    .ident_unit = DRAY_IDENT_BYTES,
    .ident_max = 63,
    .modes = DRAY_MODE_BIT(DRAY_MODE_UPSERT) | DRAY_MODE_BIT(DRAY_MODE_APPEND),
};

static const struct dray_plugin_desc pg_desc = {
    DRAY_PLUGIN_DESC_HDR,
    .name = "postgres",
    .version = "1.0.0",
    .vendor = "dray",
    .license = "MIT",
    .description = "PostgreSQL: Stitch-compatible tables, upsert or append, "
                   "loaded with binary COPY",
    .caps = DRAY_CAP_IDEMPOTENT_LOADS | DRAY_CAP_REJECT_ROWS |
            DRAY_CAP_READBACK | DRAY_CAP_NAMESPACES |
            DRAY_CAP_ACTIVATE_VERSION | DRAY_CAP_CONCURRENT_STREAMS |
            DRAY_CAP_CHECK,
    DRAY_OPTIONS(pg_options),
    .dialect = &pg_dialect,
    .vtable = &pg_vtable,
};

DRAY_PLUGIN_DEFINE(pg_desc)

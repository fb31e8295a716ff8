/*
 * refplug.c - the reference plugin's descriptor and instance, and what the
 * conformance harness reads and makes: readback, list_tables, namespaces.
 *
 * Compiled once per variant with REFPLUG_NAME set (refplug, or
 * broken_<what> with the matching BROKEN_* switch in rp_batch.c and
 * rp_load.c): tests/harness/CMakeLists.txt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dray/dray_cfg.h>

#include "refplug.h"

#ifndef REFPLUG_NAME
#define REFPLUG_NAME "refplug"
#endif

static const struct dray_option rp_options[] = {
    {"path", DRAY_OPT_STRING, DRAY_OPTF_PATH, "refplug-data", NULL, 0, 0,
     "folder holding one subfolder per namespace"},
};

static dray_status rp_create(dray_instance *inst, const dray_config *cfg,
                             void **state, dray_error *err)
{
    const struct dray_host_api *h = dray_host();
    struct dray_config_info info = DRAY_VIEW_INIT(struct dray_config_info);
    struct rp_plugin *p = calloc(1, sizeof(*p));
    const char *path = dray_cfg_str(cfg, "path");

    if (p == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    h->cfg_info(cfg, &info);
    p->inst = inst;
    p->mode = info.mode;
    p->path = strdup(path ? path : "refplug-data");
    /* Years 1 to 9999, as the PostgreSQL plugin: every timestamp kept
       reads back as RFC 3339. */
    p->types = *dray_types_dialect("postgres");
    p->types.min_year = 1;
    p->types.max_year = 9999;
    if (p->path == NULL) {
        free(p);
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    *state = p;
    return DRAY_OK;
}

static void rp_destroy(void *state)
{
    struct rp_plugin *p = state;

    if (p->pending != NULL) { /* broken_early_ok's last batches */
        rp_ns_write(p->pending, NULL);
        rp_ns_close(p->pending);
        free(p->pending);
    }
    free(p->path);
    free(p);
}

static dray_status rp_check(void *state, dray_error *err)
{
    struct rp_plugin *p = state;

    if (mkdir(p->path, 0755) != 0 && errno != EEXIST)
        return dray_error_set(err, DRAY_E_CONFIG, NULL,
                              "cannot make the folder '%s': %s", p->path,
                              strerror(errno));
    if (access(p->path, W_OK) != 0) {
        dray_error_set(err, DRAY_E_CONFIG, NULL, "cannot write to '%s': %s",
                       p->path, strerror(errno));
        dray_error_hint(err, "fix option 'path'");
        return DRAY_E_CONFIG;
    }
    return DRAY_OK;
}

static dray_status rp_readback_cb(void *state, const char *ns,
                                  const char *table, dray_output *out,
                                  dray_error *err)
{
    struct rp_plugin *p = state;
    struct rp_ns n;
    const struct rp_table *t;
    dray_status st = rp_ns_open(&n, p->path, ns, 0, 0, err);

    if (st == DRAY_OK) {
        t = rp_table_find(&n, table);
        st = t ? rp_readback(t, out, err)
               : dray_error_set(err, DRAY_E_PERMANENT, NULL,
                                "no table '%s' in namespace '%s'", table,
                                ns ? ns : "main");
    }
    rp_ns_close(&n);
    return st;
}

static dray_status rp_list_tables(void *state, const char *ns, dray_output *out,
                                  dray_error *err)
{
    struct rp_plugin *p = state;
    struct rp_ns n;
    dray_status st = rp_ns_open(&n, p->path, ns, 0, 0, err);

    for (size_t i = 0; st == DRAY_OK && i < n.n_t; i++) {
        const char *name = n.t[i]->name;
        st = dray_host()->output_write(out, name, strlen(name));
        if (st == DRAY_OK)
            st = dray_host()->output_write(out, "\n", 1);
    }
    rp_ns_close(&n);
    return st;
}

static dray_status rp_namespace_create(void *state, const char *ns,
                                       dray_error *err)
{
    struct rp_plugin *p = state;
    struct rp_ns n;
    dray_status st = rp_ns_open(&n, p->path, ns, 1, 0, err);

    rp_ns_close(&n);
    return st;
}

static dray_status rp_namespace_drop(void *state, const char *ns,
                                     dray_error *err)
{
    struct rp_plugin *p = state;

    return rp_ns_drop(p->path, ns ? ns : "main", err);
}

static const struct dray_plugin_vtable rp_vtable = {
    DRAY_PLUGIN_VTABLE_HDR,
    .create = rp_create,
    .destroy = rp_destroy,
    .check = rp_check,
    .load_batch = rp_load_batch,
    .readback = rp_readback_cb,
    .list_tables = rp_list_tables,
    .namespace_create = rp_namespace_create,
    .namespace_drop = rp_namespace_drop,
};

static const struct dray_dialect rp_dialect = {
    DRAY_DIALECT_HDR,
    .type_map = "postgres",
    .nesting = DRAY_NEST_FLATTEN,
    .split_rule = DRAY_SPLIT_RENAME,
    .ident_case = DRAY_CASE_PRESERVE,
    .ident_unit = DRAY_IDENT_BYTES,
    .ident_max = 63,
    .modes = DRAY_MODE_BIT(DRAY_MODE_UPSERT) | DRAY_MODE_BIT(DRAY_MODE_APPEND),
};

static const struct dray_plugin_desc rp_desc = {
    DRAY_PLUGIN_DESC_HDR,
    .name = REFPLUG_NAME,
    .version = "1.0.0",
    .vendor = "dray tests",
    .license = "MIT",
    .description = "the conformance harness's reference: tables in a file "
                   "per namespace",
    .caps = DRAY_CAP_IDEMPOTENT_LOADS | DRAY_CAP_REJECT_ROWS |
            DRAY_CAP_READBACK | DRAY_CAP_NAMESPACES |
            DRAY_CAP_ACTIVATE_VERSION | DRAY_CAP_CHECK,
    DRAY_OPTIONS(rp_options),
    .dialect = &rp_dialect,
    .vtable = &rp_vtable,
};

DRAY_PLUGIN_DEFINE(rp_desc)

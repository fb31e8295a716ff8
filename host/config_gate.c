/*
 * config_gate.c - the settings 'dray put' reads: the limits in 'spool'
 * (max_bytes, on_full), the 'batch' section and the 'integrations'
 * section.
 *
 * Sizes and durations go through opt_parse (options.c), so they take the
 * same units as plugin options everywhere in the file.
 */
#include "config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dray/dray_abi.h"
#include "options.h"

static const char *const batch_keys[] = {"max_bytes", "max_records", "max_age",
                                         NULL};
static const char *const integration_keys[] = {"on_invalid", NULL};
static const char *const on_invalid_names[] = {"split", "reject", "fail", NULL};
static const char *const on_full_names[] = {"wait", "fail", NULL};

int config_load_number(struct loader *L, yaml_node_t *map, const char *key,
                       const char *section, int32_t type, int positive,
                       int64_t *out)
{
    yaml_node_t *node = config_map_get(&L->file, map, key);
    struct opt_spec spec;
    struct opt_value v;
    struct strbuf why = STRBUF_INIT;
    char what[64], *text = NULL;
    int rc = -1;

    if (node == NULL)
        return 0;
    memset(&spec, 0, sizeof(spec));
    memset(&v, 0, sizeof(v));
    spec.type = type;
    snprintf(what, sizeof(what), "'%s' in '%s'", key, section);
    if (config_scalar(&L->file, node, what, &text) < 0)
        return -1;
    if (opt_parse(&spec, text, &v, &why) != 0) {
        config_fail(&L->file, config_mark_of(node), "%s is wrong: %s", what,
                    strbuf_str(&why));
        goto cleanup;
    }
    if (positive && v.i64 <= 0) {
        config_fail(&L->file, config_mark_of(node),
                    "%s must be more than 0; remove it for the default", what);
        goto cleanup;
    }
    *out = v.i64;
    rc = 0;
cleanup:
    free(text);
    strbuf_release(&why);
    return rc;
}

int config_load_choice(struct loader *L, yaml_node_t *node, const char *what,
                       const char *const *names)
{
    char *text = NULL, list[128];
    size_t used = 0, n = 0;
    int found = -1;

    if (config_scalar(&L->file, node, what, &text) < 0)
        return -1;
    for (; names[n] != NULL; n++)
        if (strcmp(text, names[n]) == 0)
            found = (int)n;
    free(text);
    if (found >= 0)
        return found;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s'%s'",
                                 i == 0       ? ""
                                 : i + 1 == n ? " or "
                                              : ", ",
                                 names[i]);
    return config_fail(&L->file, config_mark_of(node), "%s must be %s", what,
                       list);
}

int config_load_spool_limits(struct loader *L, yaml_node_t *spool)
{
    struct config *cfg = L->cfg;
    yaml_node_t *node;
    int64_t bytes = 0;
    int choice;

    cfg->spool_max_bytes = 0;
    cfg->spool_on_full = CONFIG_ON_FULL_WAIT;
    if (spool == NULL)
        return 0;
    if (config_load_number(L, spool, "max_bytes", "spool", DRAY_OPT_SIZE, 0,
                           &bytes) < 0)
        return -1;
    cfg->spool_max_bytes = (uint64_t)bytes;
    node = config_map_get(&L->file, spool, "on_full");
    if (node != NULL) {
        choice =
            config_load_choice(L, node, "'on_full' in 'spool'", on_full_names);
        if (choice < 0)
            return -1;
        cfg->spool_on_full =
            choice == 0 ? CONFIG_ON_FULL_WAIT : CONFIG_ON_FULL_FAIL;
    }
    return 0;
}

int config_load_batch(struct loader *L, yaml_node_t *batch)
{
    struct config *cfg = L->cfg;
    int64_t bytes = (int64_t)CONFIG_BATCH_MAX_BYTES;
    int64_t records = (int64_t)CONFIG_BATCH_MAX_RECORDS;
    int64_t age_ms = CONFIG_BATCH_MAX_AGE_MS;

    if (batch != NULL && !config_is_null(batch)) {
        if (batch->type != YAML_MAPPING_NODE)
            return config_fail(&L->file, config_mark_of(batch),
                               "'batch' must be a mapping like {max_bytes: "
                               "64MiB, max_records: 1000000, max_age: 5m}, "
                               "not %s",
                               config_kind(batch));
        if (config_check_keys(&L->file, batch, batch_keys, "in 'batch'") < 0 ||
            config_load_number(L, batch, "max_bytes", "batch", DRAY_OPT_SIZE, 1,
                               &bytes) < 0 ||
            config_load_number(L, batch, "max_records", "batch", DRAY_OPT_INT,
                               1, &records) < 0 ||
            config_load_number(L, batch, "max_age", "batch", DRAY_OPT_DURATION,
                               1, &age_ms) < 0)
            return -1;
    }
    cfg->batch_max_bytes = (uint64_t)bytes;
    cfg->batch_max_records = (uint64_t)records;
    cfg->batch_max_age_ms = age_ms;
    return 0;
}

static int load_integration(struct loader *L, yaml_node_t *key,
                            yaml_node_t *value, struct config_integration *in)
{
    char where[96], what[128];
    struct config_shown shown;
    yaml_node_t *node;
    int choice;

    in->on_invalid = CONFIG_INVALID_SPLIT;
    in->mark = config_mark_of(key);
    in->name = strdup((const char *)key->data.scalar.value);
    if (in->name == NULL)
        return config_oom(L);
    if (!config_is_integration_name(in->name))
        return config_fail(&L->file, in->mark,
                           "integration name '%s' in 'integrations' is not "
                           "valid; use letters, digits, '_', '.' and '-'",
                           config_show(&shown, in->name));
    if (config_is_null(value))
        return 0;
    if (value->type != YAML_MAPPING_NODE)
        return config_fail(&L->file, config_mark_of(value),
                           "integration '%s' must be a mapping like "
                           "{on_invalid: split}, not %s",
                           in->name, config_kind(value));
    snprintf(where, sizeof(where), "in integration '%s'", in->name);
    if (config_check_keys(&L->file, value, integration_keys, where) < 0)
        return -1;
    node = config_map_get(&L->file, value, "on_invalid");
    if (node == NULL)
        return 0;
    snprintf(what, sizeof(what), "'on_invalid' of integration '%s'", in->name);
    choice = config_load_choice(L, node, what, on_invalid_names);
    if (choice < 0)
        return -1;
    in->on_invalid = choice == 0   ? CONFIG_INVALID_SPLIT
                     : choice == 1 ? CONFIG_INVALID_REJECT
                                   : CONFIG_INVALID_FAIL;
    return 0;
}

int config_load_integrations(struct loader *L, yaml_node_t *map)
{
    struct config *cfg = L->cfg;
    size_t n;

    if (map == NULL || config_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return config_fail(&L->file, config_mark_of(map),
                           "'integrations' must be a mapping of integration "
                           "names to settings, e.g. 'shop: {on_invalid: "
                           "reject}', not %s",
                           config_kind(map));
    /* Keys are checked for shape and repeats; any name is allowed. */
    if (config_check_keys(&L->file, map, NULL, "in 'integrations'") < 0)
        return -1;
    n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    cfg->integrations = calloc(n ? n : 1, sizeof(*cfg->integrations));
    if (cfg->integrations == NULL)
        return config_oom(L);
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *pair = &map->data.mapping.pairs.start[i];

        cfg->n_integrations = i + 1;
        if (load_integration(L, config_file_node(&L->file, pair->key),
                             config_file_node(&L->file, pair->value),
                             &cfg->integrations[i]) < 0)
            return -1;
    }
    return 0;
}

const struct config_integration *config_integration(const struct config *cfg,
                                                    const char *name)
{
    if (cfg == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_integrations; i++)
        if (strcmp(cfg->integrations[i].name, name) == 0)
            return &cfg->integrations[i];
    return NULL;
}

int config_on_invalid(const struct config *cfg, const char *name)
{
    const struct config_integration *in = config_integration(cfg, name);

    return in != NULL ? in->on_invalid : CONFIG_INVALID_SPLIT;
}

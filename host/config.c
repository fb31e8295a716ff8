/*
 * config.c - the operator config: from the YAML document to struct config,
 * checking the shape of spool, plugin_path and destinations; the routes and
 * their references to destinations are in config_routes.c.
 *
 * Messages say what is wrong and how to fix it. They quote keys and names
 * but never option values, which may be secrets.
 */
#include "config_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dray/dray_abi.h"

#define NAME_MAX_LEN 63

static const char *const top_keys[] = {"spool",  "plugin_path", "destinations",
                                       "routes", "batch",       "integrations",
                                       "run",    "target",      NULL};
static const char *const spool_keys[] = {"path", "max_bytes", "on_full",
                                         "keep_loaded", NULL};
static const char *const destination_keys[] = {"name",      "plugin",  "mode",
                                               "namespace", "options", NULL};

static const struct config_mark no_mark = {0, 0};

size_t config_n_items(const yaml_node_t *seq)
{
    return (size_t)(seq->data.sequence.items.top -
                    seq->data.sequence.items.start);
}

yaml_node_t *config_item(struct loader *L, yaml_node_t *seq, size_t i)
{
    return config_file_node(&L->file, seq->data.sequence.items.start[i]);
}

int config_oom(struct loader *L)
{
    return config_fail(&L->file, no_mark, "out of memory");
}

/* [a-z][a-z0-9_]*, at most max characters (0: no limit). */
static int is_lower_name(const char *s, size_t max)
{
    size_t n = 0;

    if (!(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return max == 0 || n <= max;
}

/* dir joined with rel, without the noise of leading "./" or trailing "/". */
static char *join_path(const char *dir, const char *rel)
{
    size_t dir_len = strlen(dir), rel_len;
    int sep;
    char *out;

    while (rel[0] == '.' && rel[1] == '/') {
        rel += 2;
        while (rel[0] == '/')
            rel++;
    }
    if (strcmp(rel, ".") == 0)
        rel = "";
    rel_len = strlen(rel);
    while (rel_len > 0 && rel[rel_len - 1] == '/')
        rel_len--;
    if (rel_len == 0)
        return strdup(dir);
    sep = dir_len > 0 && dir[dir_len - 1] != '/';
    out = malloc(dir_len + (size_t)sep + rel_len + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, dir, dir_len);
    if (sep)
        out[dir_len] = '/';
    memcpy(out + dir_len + (size_t)sep, rel, rel_len);
    out[dir_len + (size_t)sep + rel_len] = '\0';
    return out;
}

static char *resolve_path(const char *dir, const char *text)
{
    return text[0] == '/' ? strdup(text) : join_path(dir, text);
}

/* The absolute folder of path; NULL with errno set on failure. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char cwd[PATH_MAX];
    char *dir, *real, *out;

    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return NULL;
    real = realpath(dir, NULL);
    if (real != NULL || dir[0] == '/') {
        if (real != NULL)
            free(dir);
        return real != NULL ? real : dir;
    }
    /* The folder vanished after the read: fall back to plain joining. */
    out = getcwd(cwd, sizeof(cwd)) != NULL ? join_path(cwd, dir) : NULL;
    free(dir);
    return out;
}

static int load_spool(struct loader *L, yaml_node_t *spool)
{
    struct config *cfg = L->cfg;
    yaml_node_t *path = NULL;
    char *text = NULL;

    if (spool != NULL && !config_is_null(spool)) {
        if (spool->type != YAML_MAPPING_NODE)
            return config_fail(&L->file, config_mark_of(spool),
                               "'spool' must be a mapping like {path: "
                               "./spool}, not %s",
                               config_kind(spool));
        if (config_check_keys(&L->file, spool, spool_keys, "in 'spool'") < 0)
            return -1;
        path = config_map_get(&L->file, spool, "path");
    }
    if (config_load_spool_limits(
            L, spool != NULL && !config_is_null(spool) ? spool : NULL) < 0)
        return -1;
    if (path == NULL) {
        cfg->spool_path = join_path(cfg->dir, "spool");
        return cfg->spool_path != NULL ? 0 : config_oom(L);
    }
    if (config_scalar(&L->file, path, "'path' in 'spool'", &text) < 0)
        return -1;
    if (text[0] == '\0') {
        free(text);
        return config_fail(&L->file, config_mark_of(path),
                           "'path' in 'spool' is empty; give a folder, e.g. "
                           "./spool");
    }
    cfg->spool_path = resolve_path(cfg->dir, text);
    free(text);
    return cfg->spool_path != NULL ? 0 : config_oom(L);
}

static int load_plugin_path(struct loader *L, yaml_node_t *list)
{
    struct config *cfg = L->cfg;
    char what[64], *text = NULL;
    size_t n;

    if (list == NULL || config_is_null(list))
        return 0;
    if (list->type != YAML_SEQUENCE_NODE)
        return config_fail(&L->file, config_mark_of(list),
                           "'plugin_path' must be a list of folders, not %s; "
                           "write it as [dir] or as '- dir' lines",
                           config_kind(list));
    n = config_n_items(list);
    cfg->plugin_path = calloc(n ? n : 1, sizeof(*cfg->plugin_path));
    if (cfg->plugin_path == NULL)
        return config_oom(L);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *node = config_item(L, list, i);

        snprintf(what, sizeof(what), "item %zu of 'plugin_path'", i + 1);
        if (config_scalar(&L->file, node, what, &text) < 0)
            return -1;
        if (text[0] == '\0') {
            free(text);
            return config_fail(&L->file, config_mark_of(node),
                               "%s is empty; give a folder", what);
        }
        cfg->plugin_path[i] = resolve_path(cfg->dir, text);
        free(text);
        if (cfg->plugin_path[i] == NULL)
            return config_oom(L);
        cfg->n_plugin_path = i + 1;
    }
    return 0;
}

static int load_options(struct loader *L, yaml_node_t *map,
                        struct config_destination *d)
{
    char where[128], what[256];
    struct config_shown shown;
    size_t n;

    if (map == NULL || config_is_null(map))
        return 0;
    if (map->type != YAML_MAPPING_NODE)
        return config_fail(&L->file, config_mark_of(map),
                           "'options' of destination '%s' must be a mapping "
                           "of option names to values, not %s",
                           d->name, config_kind(map));
    snprintf(where, sizeof(where), "in the options of destination '%s'",
             d->name);
    if (config_check_keys(&L->file, map, NULL, where) < 0)
        return -1;
    n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    d->options = calloc(n ? n : 1, sizeof(*d->options));
    if (d->options == NULL)
        return config_oom(L);
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *pair = &map->data.mapping.pairs.start[i];
        yaml_node_t *key = config_file_node(&L->file, pair->key);
        yaml_node_t *value = config_file_node(&L->file, pair->value);
        struct config_option *opt = &d->options[i];
        const char *name = (const char *)key->data.scalar.value;

        if (name[0] == '\0')
            return config_fail(&L->file, config_mark_of(key),
                               "an option of destination '%s' has an empty "
                               "name; name it or remove it",
                               d->name);
        snprintf(what, sizeof(what), "option '%s' of destination '%s'",
                 config_show(&shown, name), d->name);
        d->n_options = i + 1;
        opt->mark = config_mark_of(value);
        opt->name = strdup(name);
        if (opt->name == NULL)
            return config_oom(L);
        if (config_scalar(&L->file, value, what, &opt->value) < 0)
            return -1;
    }
    return 0;
}

static int load_mode(struct loader *L, yaml_node_t *node,
                     struct config_destination *d)
{
    char what[128], *text = NULL;
    int rc = -1;

    snprintf(what, sizeof(what), "'mode' of destination '%s'", d->name);
    d->mode_mark = config_mark_of(node);
    if (config_scalar(&L->file, node, what, &text) < 0)
        return -1;
    if (strcmp(text, "upsert") == 0)
        d->mode = DRAY_MODE_UPSERT;
    else if (strcmp(text, "append") == 0)
        d->mode = DRAY_MODE_APPEND;
    else
        goto cleanup;
    rc = 0;
cleanup:
    free(text);
    if (rc < 0)
        config_fail(&L->file, d->mode_mark, "%s must be 'upsert' or 'append'",
                    what);
    return rc;
}

/* A namespace names a schema, prefix or dataset in every destination, so
   it takes only what needs no quoting anywhere. */
int config_is_namespace(const char *s)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        char c = s[n];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return n >= 1 && n <= NAME_MAX_LEN;
}

static int load_namespace(struct loader *L, yaml_node_t *node,
                          struct config_destination *d)
{
    struct config_shown shown;
    char what[128];

    snprintf(what, sizeof(what), "'namespace' of destination '%s'", d->name);
    d->ns_mark = config_mark_of(node);
    if (config_scalar(&L->file, node, what, &d->ns) < 0)
        return -1;
    if (!config_is_namespace(d->ns))
        return config_fail(&L->file, d->ns_mark,
                           "namespace '%s' of destination '%s' is not valid; "
                           "use 1 to %d characters from a-z, 0-9 and '_'",
                           config_show(&shown, d->ns), d->name, NAME_MAX_LEN);
    return 0;
}

static int load_destination(struct loader *L, yaml_node_t *node, size_t pos,
                            struct config_destination *d)
{
    yaml_node_t *name, *plugin, *mode, *ns;
    char where[64], what[128];
    struct config_shown shown;

    d->mode = -1;
    d->mark = config_mark_of(node);
    if (node->type != YAML_MAPPING_NODE)
        return config_fail(&L->file, d->mark,
                           "destination %zu must be a mapping with 'name' and "
                           "'plugin', not %s",
                           pos, config_kind(node));
    snprintf(where, sizeof(where), "in destination %zu", pos);
    if (config_check_keys(&L->file, node, destination_keys, where) < 0)
        return -1;

    name = config_map_get(&L->file, node, "name");
    if (name == NULL)
        return config_fail(&L->file, d->mark,
                           "destination %zu has no 'name'; add one, e.g. "
                           "'name: warehouse'",
                           pos);
    snprintf(what, sizeof(what), "'name' of destination %zu", pos);
    if (config_scalar(&L->file, name, what, &d->name) < 0)
        return -1;
    if (!is_lower_name(d->name, NAME_MAX_LEN))
        return config_fail(&L->file, config_mark_of(name),
                           "destination name '%s' is not valid; use 1 to %d "
                           "characters from a-z, 0-9 and '_', starting with "
                           "a letter",
                           config_show(&shown, d->name), NAME_MAX_LEN);

    plugin = config_map_get(&L->file, node, "plugin");
    if (plugin == NULL)
        return config_fail(&L->file, d->mark,
                           "destination %zu ('%s') has no 'plugin'; add one, "
                           "e.g. 'plugin: postgres'",
                           pos, d->name);
    snprintf(what, sizeof(what), "'plugin' of destination '%s'", d->name);
    d->plugin_mark = config_mark_of(plugin);
    if (config_scalar(&L->file, plugin, what, &d->plugin) < 0)
        return -1;
    if (!is_lower_name(d->plugin, 0))
        return config_fail(&L->file, d->plugin_mark,
                           "plugin name '%s' of destination '%s' is not "
                           "valid; plugin names use a-z, 0-9 and '_', "
                           "starting with a letter",
                           config_show(&shown, d->plugin), d->name);

    mode = config_map_get(&L->file, node, "mode");
    if (mode != NULL && load_mode(L, mode, d) < 0)
        return -1;
    ns = config_map_get(&L->file, node, "namespace");
    if (ns != NULL && load_namespace(L, ns, d) < 0)
        return -1;
    return load_options(L, config_map_get(&L->file, node, "options"), d);
}

static int load_destinations(struct loader *L, yaml_node_t *list)
{
    struct config *cfg = L->cfg;
    size_t n, first, second;

    if (list == NULL || config_is_null(list))
        return 0;
    if (list->type != YAML_SEQUENCE_NODE)
        return config_fail(&L->file, config_mark_of(list),
                           "'destinations' must be a list of destinations, "
                           "not %s; start each one with '- name: ...'",
                           config_kind(list));
    n = config_n_items(list);
    cfg->destinations = calloc(n ? n : 1, sizeof(*cfg->destinations));
    L->by_name = calloc(n ? n : 1, sizeof(*L->by_name));
    L->listed_in = calloc(n ? n : 1, sizeof(*L->listed_in));
    if (cfg->destinations == NULL || L->by_name == NULL || L->listed_in == NULL)
        return config_oom(L);
    for (size_t i = 0; i < n; i++) {
        cfg->n_destinations = i + 1;
        if (load_destination(L, config_item(L, list, i), i + 1,
                             &cfg->destinations[i]) < 0)
            return -1;
        L->by_name[i].name = cfg->destinations[i].name;
        L->by_name[i].index = i;
    }
    if (config_sort_names(L->by_name, n, &first, &second)) {
        const struct config_destination *was = &cfg->destinations[first];

        return config_fail(&L->file, cfg->destinations[second].mark,
                           "destination %zu has the same name '%s' as "
                           "destination %zu (line %d, column %d); names must "
                           "be unique",
                           second + 1, was->name, first + 1, was->mark.line,
                           was->mark.column);
    }
    return 0;
}

int config_load(const char *path, struct config *out, char *errbuf,
                size_t errlen)
{
    struct config cfg;
    struct loader L;
    yaml_node_t *root;
    int rc = -1;

    memset(&cfg, 0, sizeof(cfg));
    memset(&L, 0, sizeof(L));
    L.cfg = &cfg;
    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (path == NULL || out == NULL) {
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "no config file given");
        return -1;
    }
    if (config_file_load(&L.file, path, errbuf, errlen) < 0)
        goto cleanup;
    cfg.path = strdup(path);
    if (cfg.path == NULL) {
        config_oom(&L);
        goto cleanup;
    }
    cfg.dir = dir_of(path);
    if (cfg.dir == NULL) {
        config_fail(&L.file, no_mark, "cannot find the file's folder: %s",
                    strerror(errno));
        goto cleanup;
    }

    root = config_file_root(&L.file);
    if (root->type != YAML_MAPPING_NODE) {
        config_fail(&L.file, config_mark_of(root),
                    "the top level is %s, but must be a mapping of settings "
                    "(spool, plugin_path, destinations, routes); see "
                    "examples/quickstart/dray.yml",
                    config_kind(root));
        goto cleanup;
    }
    if (config_check_keys(&L.file, root, top_keys, "at the top level") < 0 ||
        load_spool(&L, config_map_get(&L.file, root, "spool")) < 0 ||
        load_plugin_path(&L, config_map_get(&L.file, root, "plugin_path")) <
            0 ||
        load_destinations(&L, config_map_get(&L.file, root, "destinations")) <
            0 ||
        config_load_routes(&L, config_map_get(&L.file, root, "routes")) < 0 ||
        config_load_batch(&L, config_map_get(&L.file, root, "batch")) < 0 ||
        config_load_integrations(
            &L, config_map_get(&L.file, root, "integrations")) < 0 ||
        config_load_run(&L, config_map_get(&L.file, root, "run"),
                        config_map_get(&L.file, root, "target"),
                        config_map_get(&L.file, root, "spool")) < 0)
        goto cleanup;
    *out = cfg;
    memset(&cfg, 0, sizeof(cfg));
    rc = 0;
cleanup:
    free(L.by_name);
    free(L.listed_in);
    config_file_release(&L.file);
    config_release(&cfg);
    return rc;
}

void config_release(struct config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->path);
    free(cfg->dir);
    free(cfg->spool_path);
    for (size_t i = 0; i < cfg->n_plugin_path; i++)
        free(cfg->plugin_path[i]);
    free(cfg->plugin_path);
    for (size_t i = 0; i < cfg->n_destinations; i++) {
        struct config_destination *d = &cfg->destinations[i];

        free(d->name);
        free(d->plugin);
        free(d->ns);
        for (size_t j = 0; j < d->n_options; j++) {
            free(d->options[j].name);
            free(d->options[j].value);
        }
        free(d->options);
    }
    free(cfg->destinations);
    for (size_t i = 0; i < cfg->n_routes; i++) {
        for (size_t j = 0; j < cfg->routes[i].n_destinations; j++)
            free(cfg->routes[i].destinations[j]);
        free(cfg->routes[i].destinations);
        free(cfg->routes[i].integration);
    }
    free(cfg->routes);
    for (size_t i = 0; i < cfg->n_integrations; i++)
        free(cfg->integrations[i].name);
    free(cfg->integrations);
    memset(cfg, 0, sizeof(*cfg));
}

const struct config_destination *config_destination(const struct config *cfg,
                                                    const char *name)
{
    if (cfg == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_destinations; i++) {
        if (strcmp(cfg->destinations[i].name, name) == 0)
            return &cfg->destinations[i];
    }
    return NULL;
}

const char *config_default_path(const char *arg)
{
    const char *env;

    if (arg != NULL)
        return arg;
    env = getenv("DRAY_CONFIG");
    if (env != NULL && env[0] != '\0')
        return env;
    return "dray.yml";
}

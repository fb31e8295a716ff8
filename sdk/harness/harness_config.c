/*
 * harness_config.c - what the harness learns before a scenario runs (the
 * plugin's name, capabilities and dialect from `dray plugins --json -v`,
 * the options of the -c config's destination) and the dray.yml it
 * generates for each scenario (docs/HARNESS.md, "How a scenario runs").
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "dray/dray_abi.h"
#include "dray/dray_ident.h"
#include "harness.h"

void dray__yaml_quote(struct dray_buf *out, const char *s)
{
    dray__xadds(out, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            dray__xaddf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            dray__xaddf(out, "\\x%02x", *p);
        else
            dray__xadd(out, p, 1);
    }
    dray__xadds(out, "\"");
}

/* ---- the plugin ---- */

static const char *str_member(const struct hv *o, const char *key)
{
    const struct hv *v = dray__hv_get(o, key);

    return v && v->t == HV_STR ? v->s : NULL;
}

static int has_string(const struct hv *arr, const char *s)
{
    for (size_t i = 0; arr && arr->t == HV_ARR && i < arr->n; i++)
        if (arr->v[i]->t == HV_STR && strcmp(arr->v[i]->s, s) == 0)
            return 1;
    return 0;
}

static int take_entry(const struct hv *p, struct plugin_info *pi, char *err,
                      size_t errlen)
{
    const struct hv *caps = dray__hv_get(p, "capabilities");
    const struct hv *d = dray__hv_get(p, "dialect");
    const struct hv *opts = dray__hv_get(p, "options");
    const char *status = str_member(p, "status"), *nest;

    if (status == NULL || strcmp(status, "ok") != 0) {
        const char *why = str_member(p, "reason");
        snprintf(err, errlen, "dray refuses %s: %s", pi->file,
                 why ? why : "no reason given");
        return -1;
    }
    if (str_member(p, "name") == NULL || d == NULL ||
        str_member(d, "type_map") == NULL) {
        snprintf(err, errlen,
                 "'dray plugins --json' names no dialect for %s; use the "
                 "dray this harness was built with",
                 pi->file);
        return -1;
    }
    pi->name = dray__xstrdup(str_member(p, "name"));
    pi->type_map = dray__xstrdup(str_member(d, "type_map"));
    pi->ident = dray_ident_dialect_from_name(pi->type_map);
    if (pi->ident < 0) {
        snprintf(err, errlen,
                 "plugin '%s' uses the type map '%s', which this harness does "
                 "not know",
                 pi->name, pi->type_map);
        return -1;
    }
    nest = str_member(d, "nesting");
    pi->nesting = nest && strcmp(nest, "native") == 0     ? DRAY_NEST_NATIVE
                  : nest && strcmp(nest, "document") == 0 ? DRAY_NEST_DOCUMENT
                                                          : DRAY_NEST_FLATTEN;
    pi->files = pi->ident == DRAY_IDENT_FILES;
    pi->has_upsert = has_string(caps, "upsert");
    pi->has_append = has_string(caps, "append");
    pi->has_namespaces = has_string(caps, "namespaces");
    pi->has_check = has_string(caps, "check");
    pi->caps = NEED_NESTED;
    if (pi->has_upsert)
        pi->caps |= NEED_UPSERT;
    if (pi->has_append)
        pi->caps |= NEED_APPEND;
    if (has_string(caps, "readback"))
        pi->caps |= NEED_READBACK;
    if (has_string(caps, "activate_version"))
        pi->caps |= NEED_ACTIVATE;
    if (has_string(caps, "reject_rows"))
        pi->caps |= NEED_REJECTS;
    /* Files have no column types: nothing is typed, nothing splits. */
    if (!pi->files) {
        const char *rule = str_member(d, "split_rule");
        pi->caps |= NEED_SPLIT | NEED_TYPES;
        if (rule != NULL && strcmp(rule, "rename") == 0)
            pi->caps |= NEED_SPLIT_RENAME;
        if (rule != NULL && strcmp(rule, "keep") == 0)
            pi->caps |= NEED_SPLIT_KEEP;
    }
    for (size_t i = 0; opts && opts->t == HV_ARR && i < opts->n; i++) {
        const struct hv *path = dray__hv_get(opts->v[i], "path");
        const char *name = str_member(opts->v[i], "name");
        if (name == NULL || path == NULL || path->t != HV_TRUE)
            continue;
        pi->path_options = dray__xrealloc(
            pi->path_options, (pi->n_path_options + 1) * sizeof(char *));
        pi->path_options[pi->n_path_options++] = dray__xstrdup(name);
    }
    return 0;
}

int dray__plugin_probe(const char *dray, const char *so, const char *scratch,
                       struct plugin_info *pi, char *err, size_t errlen)
{
    char real[PATH_MAX], cfg[PATH_MAX + 32];
    struct dray_buf yml = DRAY_BUF_INIT;
    struct proc_result r;
    struct hv *root = NULL, *list;
    FILE *f;
    int rc = -1;

    memset(pi, 0, sizeof(*pi));
    if (realpath(so, real) == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", so, strerror(errno));
        return -1;
    }
    pi->file = dray__xstrdup(real);
    pi->dir = dray__xstrdup(real);
    *strrchr(pi->dir, '/') = '\0';
    if (pi->dir[0] == '\0')
        strcpy(pi->dir, "/");
    snprintf(cfg, sizeof(cfg), "%s/probe.yml", scratch);
    dray__xadds(&yml, "plugin_path: [");
    dray__yaml_quote(&yml, pi->dir);
    dray__xadds(&yml, "]\n");
    f = fopen(cfg, "w");
    if (f == NULL || fputs(yml.data, f) < 0 || fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", cfg, strerror(errno));
        dray_buf_release(&yml);
        return -1;
    }
    dray_buf_release(&yml);
    const char *argv[] = {dray, "plugins", "--json", "-v", "-c", cfg, NULL};
    if (dray__proc_run(argv, NULL, NULL, scratch, 120, &r) != 0) {
        snprintf(err, errlen, "cannot run %s: %s", dray, strerror(errno));
        return -1;
    }
    if (r.status != 0) {
        snprintf(err, errlen, "'dray plugins' exited %d: %.300s", r.status,
                 r.err.data);
        goto out;
    }
    root = dray__hv_parse(r.out.data, r.out.len, err, errlen);
    list = dray__hv_get(root, "plugins");
    if (list == NULL || list->t != HV_ARR) {
        snprintf(err, errlen, "'dray plugins --json' printed no plugin list");
        goto out;
    }
    for (size_t i = 0; i < list->n; i++) {
        const char *file = str_member(list->v[i], "file");
        if (file != NULL && strcmp(file, real) == 0) {
            rc = take_entry(list->v[i], pi, err, errlen);
            goto out;
        }
    }
    snprintf(err, errlen,
             "dray does not list %s as a plugin; plugin files end in .so",
             real);
out:
    dray__hv_free(root);
    dray__proc_release(&r);
    return rc;
}

void dray__plugin_release(struct plugin_info *pi)
{
    free(pi->file);
    free(pi->dir);
    free(pi->name);
    free(pi->type_map);
    dray__strv_free(pi->path_options, pi->n_path_options);
    memset(pi, 0, sizeof(*pi));
}

/* ---- the -c config ---- */

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map,
                            const char *key)
{
    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static int is_path_option(const struct plugin_info *pi, const char *name)
{
    for (size_t i = 0; i < pi->n_path_options; i++)
        if (strcmp(pi->path_options[i], name) == 0)
            return 1;
    return 0;
}

static int copy_options(yaml_document_t *doc, yaml_node_t *opts,
                        const char *conf_dir, const struct plugin_info *pi,
                        struct scn_option **out, size_t *n, char *err,
                        size_t errlen)
{
    if (opts == NULL || opts->type == YAML_SCALAR_NODE)
        return 0; /* "options:" alone is empty */
    if (opts->type != YAML_MAPPING_NODE) {
        snprintf(err, errlen, "the options of plugin '%s' are not a mapping",
                 pi->name);
        return -1;
    }
    for (yaml_node_pair_t *p = opts->data.mapping.pairs.start;
         p < opts->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE) {
            snprintf(err, errlen, "an option of plugin '%s' has no name",
                     pi->name);
            return -1;
        }
        const char *key = (const char *)k->data.scalar.value;
        if (v->type != YAML_SCALAR_NODE) {
            snprintf(err, errlen,
                     "option '%s' of plugin '%s' is not a single value", key,
                     pi->name);
            return -1;
        }
        const char *val = (const char *)v->data.scalar.value;
        struct dray_buf b = DRAY_BUF_INIT;
        /* Relative paths meant the config's folder; the generated config
           lives elsewhere. */
        if (is_path_option(pi, key) && val[0] != '\0' && val[0] != '/' &&
            strstr(val, "${") == NULL)
            dray__xaddf(&b, "%s/%s", conf_dir, val);
        else
            dray__xadds(&b, val);
        *out = dray__xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[*n].key = dray__xstrdup(key);
        (*out)[(*n)++].value = b.data;
    }
    return 0;
}

int dray__conf_options(const char *conf, const struct plugin_info *pi,
                       struct scn_option **opts, size_t *n, char *err,
                       size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    char dir[PATH_MAX];
    FILE *f = fopen(conf, "rb");
    int rc = -1;

    *opts = NULL;
    *n = 0;
    if (f == NULL || realpath(conf, dir) == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", conf, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    *strrchr(dir, '/') = '\0';
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: %s; fix the YAML", conf,
                 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                 parser.problem ? parser.problem : "cannot parse");
        yaml_parser_delete(&parser);
        fclose(f);
        return -1;
    }
    yaml_node_t *dests =
        map_get(&doc, yaml_document_get_root_node(&doc), "destinations");
    for (yaml_node_item_t *it = dests && dests->type == YAML_SEQUENCE_NODE
                                    ? dests->data.sequence.items.start
                                    : NULL;
         it && it < dests->data.sequence.items.top; it++) {
        yaml_node_t *d = yaml_document_get_node(&doc, *it);
        yaml_node_t *plugin = map_get(&doc, d, "plugin");
        if (plugin && plugin->type == YAML_SCALAR_NODE &&
            strcmp((const char *)plugin->data.scalar.value, pi->name) == 0) {
            rc = copy_options(&doc, map_get(&doc, d, "options"), dir, pi, opts,
                              n, err, errlen);
            goto out;
        }
    }
    snprintf(err, errlen,
             "%s has no destination with plugin '%s'; add one with the "
             "options to test it with",
             conf, pi->name);
out:
    if (rc != 0) {
        dray__options_free(*opts, *n);
        *opts = NULL;
        *n = 0;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

void dray__options_free(struct scn_option *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(o[i].key);
        free(o[i].value);
    }
    free(o);
}

/* ---- the generated dray.yml ---- */

int dray__write_config(const char *path, const struct gen_config *g)
{
    struct dray_buf b = DRAY_BUF_INIT;
    FILE *f;
    int rc = 0;

    dray__xadds(&b, "# generated by dray-plugin-test\n"
                    "spool: {path: ./spool, keep_loaded: 1h}\n"
                    "plugin_path: [");
    dray__yaml_quote(&b, g->pi->dir);
    dray__xadds(&b, "]\ndestinations:\n  - name: dut\n    plugin: ");
    dray__xadds(&b, g->pi->name);
    dray__xaddf(&b, "\n    mode: %s\n",
                g->mode == DRAY_MODE_UPSERT ? "upsert" : "append");
    if (g->ns != NULL)
        dray__xaddf(&b, "    namespace: %s\n", g->ns);
    dray__xadds(&b, "    options:");
    size_t n_scn = g->scn ? g->scn->n_options : 0;
    if (g->n_base + n_scn == 0)
        dray__xadds(&b, " {}");
    dray__xadds(&b, "\n");
    for (size_t i = 0; i < g->n_base + n_scn; i++) {
        const struct scn_option *o =
            i < g->n_base ? &g->base[i] : &g->scn->options[i - g->n_base];
        /* A scenario's own option replaces the config's. */
        int later = 0;
        for (size_t j = i + 1; j < g->n_base + n_scn && !later; j++) {
            const struct scn_option *q =
                j < g->n_base ? &g->base[j] : &g->scn->options[j - g->n_base];
            later = strcmp(q->key, o->key) == 0;
        }
        if (later)
            continue;
        dray__xaddf(&b, "      %s: ", o->key);
        dray__yaml_quote(&b, o->value);
        dray__xadds(&b, "\n");
    }
    dray__xadds(&b, "routes:\n  - {integration: shop, destinations: [dut]}\n"
                    "run:\n  concurrency: 1\n  batch_timeout: 10m\n"
                    "  retry: {attempts: 3, initial: 1s, max: 2s}\n");
    if (g->scn != NULL && g->scn->config[0] != '\0')
        dray__xadds(&b, g->scn->config);
    f = fopen(path, "w");
    if (f == NULL || fwrite(b.data, 1, b.len, f) != b.len)
        rc = -1;
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    dray_buf_release(&b);
    return rc;
}

/* Binding configured destinations to plugins, and plugin instances. */
#include "destination.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "suggest.h"

const char *mode_name(int32_t mode)
{
    return mode == DRAY_MODE_APPEND ? "append" : "upsert";
}

void dest_config_free(struct dray_config *cfg)
{
    if (cfg == NULL)
        return;
    opt_values_free(cfg->values, cfg->n);
    free(cfg->destination);
    free(cfg->plugin);
    free(cfg);
}

int dest_config_bind(const struct plugin *p,
                     const struct config_destination *dest, const char *file,
                     const char *base_dir, struct dray_config **out,
                     struct strbuf *errors)
{
    struct dray_config *cfg;
    struct opt_value *values = NULL;
    int32_t mode = dest->mode;
    int problems;

    *out = NULL;
    if (mode < 0)
        mode = (p->dialect.modes & DRAY_MODE_BIT(DRAY_MODE_UPSERT))
                   ? DRAY_MODE_UPSERT
                   : DRAY_MODE_APPEND;
    problems = opt_bind(p->options, p->n_options, dest, file, base_dir, &values,
                        errors);
    if (!(p->dialect.modes & DRAY_MODE_BIT(mode))) {
        opt_add_location(errors, file,
                         dest->mode_mark.line ? dest->mode_mark : dest->mark);
        strbuf_addf(errors,
                    "destination '%s': plugin '%s' does not support mode "
                    "'%s'; use mode: %s\n",
                    dest->name, p->name, mode_name(mode),
                    mode_name(mode == DRAY_MODE_UPSERT ? DRAY_MODE_APPEND
                                                       : DRAY_MODE_UPSERT));
        problems++;
    }
    /* A plugin without namespaces would ignore batch_info.ns and load
       into its configured place: data where nobody asked for it. */
    if (dest->ns != NULL && !(p->caps & DRAY_CAP_NAMESPACES)) {
        opt_add_location(errors, file, dest->ns_mark);
        strbuf_addf(errors,
                    "destination '%s': plugin '%s' does not support "
                    "namespaces (capability 'namespaces'); remove "
                    "'namespace' or name the place in its options\n",
                    dest->name, p->name);
        problems++;
    }
    if (problems) {
        opt_values_free(values, p->n_options);
        return problems;
    }
    cfg = xcalloc(1, sizeof(*cfg));
    cfg->destination = xstrdup(dest->name);
    cfg->plugin = xstrdup(p->name);
    cfg->mode = mode;
    cfg->specs = p->options;
    cfg->values = values;
    cfg->n = p->n_options;
    if (p->vt.validate) {
        struct dray_error err;
        dray_status st;

        error_init(&err);
        st = p->vt.validate(cfg, &err);
        if (st != DRAY_OK) {
            char *msg;
            if (err.cls == DRAY_OK)
                err.cls = st;
            msg = error_oneline(&err);
            opt_add_location(errors, file, dest->mark);
            strbuf_addf(errors, "destination '%s': %s\n", dest->name, msg);
            free(msg);
            error_release(&err);
            dest_config_free(cfg);
            return 1;
        }
        error_release(&err);
    }
    *out = cfg;
    return 0;
}

int dest_resolve(const struct plugin_set *set,
                 const struct config_destination *dest, const char *file,
                 const char *base_dir, const struct plugin **plugin,
                 struct dray_config **out, struct strbuf *errors)
{
    const struct plugin *p = plugins_find(set, dest->plugin);

    *plugin = NULL;
    *out = NULL;
    if (p == NULL) {
        opt_add_location(errors, file, dest->plugin_mark);
        strbuf_addf(errors, "destination '%s': plugin '%s' not found in ",
                    dest->name, dest->plugin);
        for (size_t i = 0; i < set->n_dirs; i++)
            strbuf_addf(errors, "%s%s", i ? ", " : "", set->dirs[i]);
        if (set->n_dirs == 0)
            strbuf_adds(errors, "(no plugin folders)");
        const char *near = NULL;
        size_t best = 3;
        for (size_t i = 0; i < set->n; i++) {
            size_t d;
            if (set->items[i].name == NULL)
                continue;
            d = edit_distance(dest->plugin, set->items[i].name);
            if (d < best) {
                best = d;
                near = set->items[i].name;
            }
        }
        if (near)
            strbuf_addf(errors, "; did you mean '%s'?\n", near);
        else
            strbuf_adds(errors, "; 'dray plugins' lists what is installed, "
                                "plugin_path adds a folder\n");
        return 1;
    }
    if (p->status != PLUGIN_OK) {
        opt_add_location(errors, file, dest->plugin_mark);
        strbuf_addf(errors,
                    "destination '%s': plugin '%s' (%s) was refused: "
                    "%s\n",
                    dest->name, dest->plugin, p->file, p->reason);
        return 1;
    }
    *plugin = p;
    return dest_config_bind(p, dest, file, base_dir, out, errors);
}

int instance_create(struct instance *inst, const struct plugin *p,
                    const struct dray_config *cfg, struct dray_error *err)
{
    dray_status st;

    memset(inst, 0, sizeof(*inst));
    inst->plugin = p;
    inst->handle.cfg = cfg;
    inst->handle.who =
        xasprintf("destination '%s' (%s)", cfg->destination, p->name);
    atomic_init(&inst->handle.stop, 0);
    st = p->vt.create(&inst->handle, cfg, &inst->state, err);
    if (st != DRAY_OK) {
        if (err->cls == DRAY_OK)
            error_setf(err, st, "create failed with %s and no message",
                       dray_status_name(st));
        free(inst->handle.who);
        inst->handle.who = NULL;
        return -1;
    }
    inst->plugin = p;
    return 0;
}

void instance_destroy(struct instance *inst)
{
    if (inst->plugin && inst->handle.who) {
        inst->plugin->vt.destroy(inst->state);
        free(inst->handle.who);
    }
    memset(inst, 0, sizeof(*inst));
}

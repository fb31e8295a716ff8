/*
 * destination.h - a configured destination bound to its plugin: resolved
 * mode, typed options, and instances made from them.
 */
#ifndef DRAY_HOST_DESTINATION_H
#define DRAY_HOST_DESTINATION_H

#include "config.h"
#include "host_api.h"
#include "plugin_loader.h"
#include "strbuf.h"

/*
 * Binds dest to plugin p: resolves the mode (the configured one, else upsert
 * when the plugin has it, else append), checks the options, then runs the
 * plugin's validate(). Appends one line per problem to errors, prefixed
 * "FILE:L:C: ", and returns their count; on 0 sets *out (free with
 * dest_config_free).
 */
int dest_config_bind(const struct plugin *p,
                     const struct config_destination *dest, const char *file,
                     const char *base_dir, struct dray_config **out,
                     struct strbuf *errors);
void dest_config_free(struct dray_config *cfg);

/*
 * Finds dest's plugin in the set and binds it. Problems (plugin missing or
 * refused, and those of dest_config_bind) go to errors as above.
 */
int dest_resolve(const struct plugin_set *set,
                 const struct config_destination *dest, const char *file,
                 const char *base_dir, const struct plugin **plugin,
                 struct dray_config **out, struct strbuf *errors);

/* An instance of a bound destination. */
struct instance {
    struct dray_instance handle;
    const struct plugin *plugin;
    void *state;
};

/* Calls the plugin's create(); on failure fills err and returns -1. */
int instance_create(struct instance *inst, const struct plugin *p,
                    const struct dray_config *cfg, struct dray_error *err);
void instance_destroy(struct instance *inst);

const char *mode_name(int32_t mode);

#endif

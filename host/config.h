/*
 * config.h - the operator's YAML config, parsed and checked for shape.
 *
 * config_load() reads the file, expands ${VAR} in every string value and
 * checks the structure (known keys, types, names, references between
 * sections). It does not know plugins: checking a destination's options
 * against its plugin's option table is cmd_check's job, through options.h.
 * Every node remembers its line and column for messages.
 */
#ifndef DRAY_HOST_CONFIG_H
#define DRAY_HOST_CONFIG_H

#include <stddef.h>

struct config_mark {
    int line;   /* 1-based; 0 when unknown */
    int column; /* 1-based */
};

/* One destination option as written: a scalar, already env-expanded. */
struct config_option {
    char *name;
    char *value;
    struct config_mark mark; /* of the value */
};

struct config_destination {
    char *name;
    char *plugin;
    int mode; /* DRAY_MODE_*, or -1 when not given */
    struct config_option *options;
    size_t n_options;
    struct config_mark mark;        /* of the list item */
    struct config_mark plugin_mark; /* of the plugin value */
    struct config_mark mode_mark;   /* of the mode value */
};

struct config_route {
    char *integration;
    char **destinations;
    size_t n_destinations;
    struct config_mark mark;
};

struct config {
    char *path;         /* the file as given */
    char *dir;          /* absolute folder of the file; relative paths in the
                           file resolve against it */
    char *spool_path;   /* absolute; default <dir>/spool */
    char **plugin_path; /* absolute folders, in the order given */
    size_t n_plugin_path;
    struct config_destination *destinations;
    size_t n_destinations;
    struct config_route *routes; /* empty: every integration everywhere */
    size_t n_routes;
};

/*
 * Loads and checks path. On success returns 0 and fills *out (release it
 * with config_release). On failure returns -1 and writes one line, without
 * a trailing newline, to errbuf: "FILE:LINE:COLUMN: what is wrong", naming
 * the fix where there is one.
 */
int config_load(const char *path, struct config *out, char *errbuf,
                size_t errlen);

void config_release(struct config *cfg);

/* The destination named name, or NULL. */
const struct config_destination *config_destination(const struct config *cfg,
                                                    const char *name);

/*
 * Which config file a command uses: the -c argument if given, else
 * $DRAY_CONFIG, else ./dray.yml. Returns a pointer into its arguments or the
 * environment, or the literal "dray.yml".
 */
const char *config_default_path(const char *arg);

#endif

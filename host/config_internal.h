/*
 * config_internal.h - shared by config.c, config_routes.c, config_yaml.c and
 * config_env.c only. Not part of the host's interface: include config.h
 * instead.
 *
 * config_yaml.c reads the file into a libyaml document and offers the
 * helpers config.c and config_routes.c walk it with; config_env.c expands
 * ${VAR}.
 */
#ifndef DRAY_HOST_CONFIG_INTERNAL_H
#define DRAY_HOST_CONFIG_INTERNAL_H

#include <stddef.h>
#include <yaml.h>

#include "config.h"

/* The loaded document and where messages about it go. */
struct config_file {
    const char *path; /* as given, the prefix of every message */
    yaml_document_t doc;
    int loaded;
    char *errbuf;
    size_t errlen;
};

/* A name and where it came from, for sorting out duplicates. */
struct config_name {
    const char *name;
    size_t index;
};

/* A name made safe to quote in a one-line message (see config_show). */
struct config_shown {
    char text[72];
};

/* One config_load in progress: config.c's state, shared with routes. */
struct loader {
    struct config_file file;
    struct config *cfg;
    struct config_name *by_name; /* destinations sorted by name */
    size_t *listed_in;           /* per destination: last route naming it */
};

/*
 * Reads and parses path into f. Fails on unreadable files, YAML errors, an
 * empty file and more than one document, with the message in errbuf.
 */
int config_file_load(struct config_file *f, const char *path, char *errbuf,
                     size_t errlen);
void config_file_release(struct config_file *f);
yaml_node_t *config_file_root(struct config_file *f);
yaml_node_t *config_file_node(struct config_file *f, int index);

/* Writes "FILE:L:C: message" (or "FILE: message" without a line); -1. */
int config_fail(struct config_file *f, struct config_mark mark, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));
struct config_mark config_mark_of(const yaml_node_t *node);

int config_is_null(const yaml_node_t *node);
/* "a mapping", "a list", "a single value" or "empty", for messages. */
const char *config_kind(const yaml_node_t *node);
/* The value under key in a mapping whose keys were checked, or NULL. */
yaml_node_t *config_map_get(struct config_file *f, yaml_node_t *map,
                            const char *key);

/*
 * Checks that every key of map is a scalar, that none repeats and, when
 * valid (NULL-terminated) is given, that each is one of valid. where
 * completes the message: "at the top level", "in route 2".
 */
int config_check_keys(struct config_file *f, yaml_node_t *map,
                      const char *const *valid, const char *where);

/*
 * The env-expanded text of a scalar value into *out (malloc'd). what names
 * the value in messages: "'plugin' of destination 'lake'".
 */
int config_scalar(struct config_file *f, yaml_node_t *node, const char *what,
                  char **out);

/*
 * Sorts names by (name, index). Returns 1 and the indexes of the earliest
 * repeat and of its first use when a name repeats, else 0.
 */
int config_sort_names(struct config_name *names, size_t n, size_t *first,
                      size_t *second);

/* Writes "'a', 'b', 'c'" (at most max names, then "and N more") to dst. */
void config_join_names(char *dst, size_t len, const char *const *names,
                       size_t n, size_t max);
/* s with control characters replaced and long text cut; returns the text. */
const char *config_show(struct config_shown *shown, const char *s);

/*
 * Expands ${VAR}, ${VAR:-default} and $${ in text into *out (malloc'd).
 * On failure returns -1 and writes the reason, without position, to why.
 */
int config_expand_env(const char *text, char **out, char *why, size_t whylen);

/* In config.c: the number of items of a sequence, and item i of it. */
size_t config_n_items(const yaml_node_t *seq);
yaml_node_t *config_item(struct loader *L, yaml_node_t *seq, size_t i);
/* Writes "out of memory" as the message; returns -1. */
int config_oom(struct loader *L);

/*
 * In config_routes.c: loads the 'routes' list (NULL or null: none) into
 * L->cfg, checking each route against the destinations already loaded.
 */
int config_load_routes(struct loader *L, yaml_node_t *list);

/*
 * In config_gate.c, the settings of 'dray put': spool.max_bytes and
 * spool.on_full from the (key-checked) 'spool' mapping, or the defaults
 * when spool is NULL; the 'batch' section; the 'integrations' section.
 */
int config_load_spool_limits(struct loader *L, yaml_node_t *spool);
int config_load_batch(struct loader *L, yaml_node_t *batch);
int config_load_integrations(struct loader *L, yaml_node_t *map);

/*
 * The value of key in section map (named section in messages) as a size,
 * integer or duration (type: DRAY_OPT_*), more than 0 when positive is
 * set, into *out; *out keeps its default when the key is absent.
 */
int config_load_number(struct loader *L, yaml_node_t *map, const char *key,
                       const char *section, int32_t type, int positive,
                       int64_t *out);
/* The index of node's text in names (NULL-terminated), or -1 with the
   message "what must be 'a', 'b' or 'c'". */
int config_load_choice(struct loader *L, yaml_node_t *node, const char *what,
                       const char *const *names);

/* In config_run.c: the 'run' and 'target' sections and spool.keep_loaded
   (spool: the key-checked mapping or NULL). */
int config_load_run(struct loader *L, yaml_node_t *run, yaml_node_t *target,
                    yaml_node_t *spool);

#endif

/*
 * plugin_loader.h - finding, checking and loading plugins with libltdl.
 *
 * Every *.so in the search folders is opened by absolute path with local
 * symbols, its entry point called, its descriptor checked and copied into
 * host-owned storage, and its on_load run. A file that fails any step is
 * kept in the set as refused, with a one-line reason naming the fix; it
 * never stops the others.
 */
#ifndef DRAY_HOST_PLUGIN_LOADER_H
#define DRAY_HOST_PLUGIN_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dray/dray_abi.h"
#include "options.h"

enum { PLUGIN_OK = 0, PLUGIN_REFUSED = 1 };

struct plugin {
    char *file;    /* absolute path */
    char *name;    /* NULL when refused before the name was known */
    char *claimed; /* the file's stem, claimed as a name when the
                      descriptor could not be read */
    char *version, *vendor, *license, *description;
    int abi_major, abi_minor; /* what it was built with; 0.0 if unknown */
    int min_host_minor;
    int status;   /* PLUGIN_OK or PLUGIN_REFUSED */
    char *reason; /* why it was refused */
    uint64_t caps;
    struct opt_spec *options;
    size_t n_options;
    struct dray_dialect dialect; /* host copies, zero-filled */
    char *type_map;              /* dialect.type_map, copied for listings */
    struct dray_plugin_vtable vt;
    void *handle; /* lt_dlhandle; NULL once closed */
};

struct plugin_set {
    struct plugin *items; /* in discovery order */
    size_t n;
    char **dirs; /* the folders searched, in order */
    size_t n_dirs;
};

/*
 * The folders to search, in order: the config's plugin_path (cfg may be
 * NULL), then $DRAY_PLUGIN_PATH (colon-separated), then the built-in folder
 * next to the executable. Appended to set->dirs.
 */
void plugins_set_search_path(struct plugin_set *set, const struct config *cfg);

/* The built-in plugin folder: <dir of the executable>/DRAY_PLUGIN_RELDIR,
   malloc'd; NULL if the executable's path is unknown. */
char *plugins_builtin_dir(void);

/* Loads every plugin in set->dirs. */
void plugins_discover(struct plugin_set *set);

/* Loads one file and appends it to the set (ok or refused). */
const struct plugin *plugins_load_file(struct plugin_set *set,
                                       const char *path);

/* The first file that declared (or, unreadable, claimed by its file name)
   that name, usable or refused; NULL when none did. Pointers into the set
   stay valid until the next load into it. */
const struct plugin *plugins_find(const struct plugin_set *set,
                                  const char *name);

/* Capability names, for listings; returns the number written to names. */
size_t plugin_cap_names(uint64_t caps, const char **names, size_t max);

/* Runs on_unload for every loaded plugin, closes them, frees the set. */
void plugins_release(struct plugin_set *set);

#endif

/*
 * plugin_checks.h - checking and copying what a plugin's descriptor points
 * to. Internal to the loader (plugin_loader.c and plugin_checks.c).
 */
#ifndef DRAY_HOST_PLUGIN_CHECKS_H
#define DRAY_HOST_PLUGIN_CHECKS_H

#include <stddef.h>

#include "plugin_loader.h"

/* Marks p refused with a one-line reason. */
void plugin_refuse(struct plugin *p, const char *fmt, ...) DRAY_PRINTF(2, 3);

/* Refuses p and returns -1 when its struct "what" is smaller than least. */
int plugin_require_size(struct plugin *p, const char *what, uint32_t size,
                        uint32_t least);

/* [a-z][a-z0-9_]*, at most max characters. */
int plugin_valid_name(const char *s, size_t max);

/* Copies min(src_size, dst_size) bytes into zeroed dst. */
void plugin_copy_struct(void *dst, size_t dst_size, const void *src,
                        uint32_t src_size);

/* Each returns 0, or -1 after refusing p with the reason. */
int plugin_refuse_signature(struct plugin *p, const char *sig);
int plugin_copy_options(struct plugin *p, const struct dray_plugin_desc *d);
int plugin_check_vtable(struct plugin *p, const struct dray_plugin_vtable *vt);
int plugin_check_dialect(struct plugin *p, const struct dray_dialect *d);

/* A plugin string shown to people: valid UTF-8 without control
   characters, at most max bytes; anything else becomes '?'. */
char *plugin_dup_text(const char *s, size_t max);

/* Loads every *.so of dir, in name order (plugin_search.c). */
void plugin_load_dir(struct plugin_set *set, const char *dir);

#endif

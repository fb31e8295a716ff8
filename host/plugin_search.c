/*
 * Where plugins are looked for: the built-in folder next to the
 * executable, the search path (config, DRAY_PLUGIN_PATH, built-in), and
 * the scan of one folder in a fixed order.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "plugin_checks.h"
#include "strbuf.h"

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir);

    if (n > 0 && dir[n - 1] == '/')
        return xasprintf("%s%s", dir, name);
    return xasprintf("%s/%s", dir, name);
}

/* Length of the valid UTF-8 sequence at s, or 0. */
char *plugins_builtin_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash, *joined, *resolved;

    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    /* Resolve leading "../" by hand so the name is clean even when the
       folder does not exist yet. */
    const char *rel = DRAY_PLUGIN_RELDIR;
    while (strncmp(rel, "../", 3) == 0 && (slash = strrchr(exe, '/')) != NULL &&
           slash != exe) {
        *slash = '\0';
        rel += 3;
    }
    joined = path_join(exe, rel);
    resolved = realpath(joined, NULL);
    if (resolved == NULL)
        return joined; /* not there (yet); still the place to name */
    free(joined);
    return resolved;
}

static void add_dir(struct plugin_set *set, const char *dir)
{
    /* Clean names for messages; a missing folder keeps the name given. */
    char *real = realpath(dir, NULL);

    set->dirs = xrealloc(set->dirs, (set->n_dirs + 1) * sizeof(*set->dirs));
    set->dirs[set->n_dirs++] = real ? real : xstrdup(dir);
}

void plugins_set_search_path(struct plugin_set *set, const struct config *cfg)
{
    const char *env = getenv("DRAY_PLUGIN_PATH");
    char *builtin;

    if (cfg)
        for (size_t i = 0; i < cfg->n_plugin_path; i++)
            add_dir(set, cfg->plugin_path[i]);
    if (env && *env) {
        const char *p = env;
        while (*p) {
            size_t len = strcspn(p, ":");
            if (len > 0) {
                char *dir = xmalloc(len + 1);
                memcpy(dir, p, len);
                dir[len] = '\0';
                /* Relative entries are relative to the working folder. */
                add_dir(set, dir);
                free(dir);
            }
            p += len;
            if (*p == ':')
                p++;
        }
    }
    builtin = plugins_builtin_dir();
    if (builtin)
        add_dir(set, builtin);
    free(builtin);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void plugin_load_dir(struct plugin_set *set, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;

    if (d == NULL) {
        if (errno != ENOENT)
            log_warn("cannot read plugin folder '%s': %s", dir,
                     strerror(errno));
        return;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0 ||
            e->d_name[0] == '.')
            continue;
        names = xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    /* A fixed order makes "first of a name wins" mean the same every run. */
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        char *path = path_join(dir, names[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            plugins_load_file(set, path);
        free(path);
        free(names[i]);
    }
    free(names);
}

/* Shared by dray status, requeue and quarantine: see admin_common.h. */
#include "admin_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

/* How many destinations a message lists before "and N more". */
#define LIST_MAX 8

int admin_open(const struct command *cmd, const char *config_arg,
               struct admin *a)
{
    struct strbuf err = STRBUF_INIT;
    struct stat st;
    int rc = EXITCODE_OK;

    memset(a, 0, sizeof(*a));
    a->sp.dir_fd = -1;
    if (cli_load_config(config_arg, 1, &a->cfg) < 0)
        return EXITCODE_CONFIG;
    /* No spool yet means nothing was put: nothing pending, no failure. */
    if (stat(a->cfg.spool_path, &st) != 0 && errno == ENOENT)
        return EXITCODE_OK;
    if (spool_open(&a->sp, a->cfg.spool_path, 0, &err) != 0) {
        fprintf(stderr, "dray %s: %s\n", cmd->name, strbuf_str(&err));
        config_release(&a->cfg);
        rc = EXITCODE_RUNTIME;
    } else {
        a->have_spool = 1;
    }
    strbuf_release(&err);
    return rc;
}

void admin_close(struct admin *a)
{
    if (a->have_spool)
        spool_close(&a->sp);
    config_release(&a->cfg);
    a->have_spool = 0;
}

const char *admin_spool_path(const struct admin *a)
{
    return a->have_spool ? a->sp.path : a->cfg.spool_path;
}

char *admin_batch_id(const char *arg)
{
    const char *base = strrchr(arg, '/');
    size_t n;
    char *id;

    base = base ? base + 1 : arg;
    n = strlen(base);
    if (n > 6 && strcmp(base + n - 6, ".batch") == 0)
        n -= 6;
    /* Ids are [a-z0-9-] (docs/SPOOL.md); anything else could reach
       outside the spool when joined to a folder. */
    if (n == 0 || strspn(base, "abcdefghijklmnopqrstuvwxyz0123456789-") < n)
        return NULL;
    id = xmalloc(n + 1);
    memcpy(id, base, n);
    id[n] = '\0';
    return id;
}

int admin_batch_exists(const struct admin *a, const char *id)
{
    char *file;
    int yes;

    if (!a->have_spool)
        return 0;
    file = spool_batch_file(&a->sp, id);
    yes = access(file, F_OK) == 0;
    free(file);
    return yes;
}

/* A folder dest/<name> in the spool: a destination removed from the
   config whose batches or markers are still there. */
static int has_dest_folder(const struct admin *a, const char *name)
{
    struct stat st;
    char *dir;
    int yes;

    if (!a->have_spool || name[0] == '\0' || name[0] == '.' ||
        strchr(name, '/') != NULL)
        return 0;
    dir = xasprintf("%s/dest/%s", a->sp.path, name);
    yes = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    free(dir);
    return yes;
}

int admin_check_destination(const struct command *cmd, const struct admin *a,
                            const char *name)
{
    struct strbuf list = STRBUF_INIT;
    size_t n = a->cfg.n_destinations;

    if (config_destination(&a->cfg, name) != NULL || has_dest_folder(a, name))
        return 1;
    for (size_t i = 0; i < n && i < LIST_MAX; i++)
        strbuf_addf(&list, "%s'%s'", i ? ", " : "",
                    a->cfg.destinations[i].name);
    if (n > LIST_MAX)
        strbuf_addf(&list, " and %zu more", n - LIST_MAX);
    if (n == 0)
        cli_usage_error(cmd,
                        "no destination '%s': the config defines none and "
                        "the spool has no folder for it",
                        name);
    else
        cli_usage_error(cmd, "no destination '%s'; the config's are %s", name,
                        strbuf_str(&list));
    strbuf_release(&list);
    return 0;
}

size_t admin_destinations(const struct admin *a, char ***out)
{
    size_t n = a->cfg.n_destinations, n_dirs = 0;
    char **dirs = NULL;
    char **names;

    if (a->have_spool)
        n_dirs = spool_dest_names(&a->sp, &dirs);
    names = xcalloc(n + n_dirs + 1, sizeof(*names));
    for (size_t i = 0; i < a->cfg.n_destinations; i++)
        names[i] = xstrdup(a->cfg.destinations[i].name);
    for (size_t i = 0; i < n_dirs; i++) {
        if (config_destination(&a->cfg, dirs[i]) == NULL)
            names[n++] = dirs[i];
        else
            free(dirs[i]);
    }
    free(dirs);
    *out = names;
    return n;
}

void admin_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

size_t admin_quarantined_at(const struct admin *a, const char *id, char ***out)
{
    char **dests = NULL;
    size_t n_dests = admin_destinations(a, &dests), n = 0;

    *out = xcalloc(n_dests + 1, sizeof(**out));
    for (size_t i = 0; i < n_dests; i++) {
        if (a->have_spool &&
            spool_dest_state(&a->sp, dests[i], id) == SPOOL_QUARANTINED)
            (*out)[n++] = dests[i];
        else
            free(dests[i]);
    }
    free(dests);
    return n;
}

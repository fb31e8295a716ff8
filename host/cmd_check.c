/* dray check: would this config run? Loads no data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "destination.h"
#include "plugin_loader.h"
#include "strbuf.h"

static void print_destination(const struct config_destination *d,
                              const struct plugin *p,
                              const struct dray_config *cfg)
{
    printf("destination %s: plugin %s %s (%s), mode %s\n", d->name, p->name,
           p->version ? p->version : "", p->file, mode_name(cfg->mode));
    for (size_t i = 0; i < cfg->n; i++) {
        const struct opt_value *v = &cfg->values[i];
        char *shown;

        if (!v->set)
            continue;
        shown = opt_display(v->spec, v->text);
        printf("  %s: %s%s\n", v->spec->name, shown,
               v->from_default ? " (default)" : "");
        free(shown);
    }
}

static void print_routes(const struct config *cfg)
{
    if (cfg->n_routes == 0) {
        printf("routes: every integration to every destination\n");
        return;
    }
    for (size_t i = 0; i < cfg->n_routes; i++) {
        const struct config_route *r = &cfg->routes[i];
        printf("route %s ->", r->integration);
        for (size_t k = 0; k < r->n_destinations; k++)
            printf(" %s", r->destinations[k]);
        printf("\n");
    }
}

int cmd_check(int argc, char **argv)
{
    const struct command *self = cli_find_command("check");
    struct common_opts o;
    struct config cfg = {0};
    struct plugin_set set = {0};
    struct strbuf errors = STRBUF_INIT;
    struct dray_config **bound = NULL;
    const struct plugin **plugins = NULL;
    int problems = 0, result;
    int rc = cli_parse_common(self, argc, argv, "c", &o);

    if (rc == -2)
        return EXITCODE_OK;
    if (rc != 0)
        return EXITCODE_USAGE;
    if (cli_load_config(o.config, 1, &cfg) < 0)
        return EXITCODE_CONFIG;

    for (size_t i = 0; i < cfg.n_plugin_path; i++) {
        struct stat st;
        if (stat(cfg.plugin_path[i], &st) != 0 || !S_ISDIR(st.st_mode))
            fprintf(stderr,
                    "%s: warning: plugin_path folder '%s' does not "
                    "exist\n",
                    cfg.path, cfg.plugin_path[i]);
    }
    plugins_set_search_path(&set, &cfg);
    plugins_discover(&set);

    bound = xcalloc(cfg.n_destinations + 1, sizeof(*bound));
    plugins = xcalloc(cfg.n_destinations + 1, sizeof(*plugins));
    for (size_t i = 0; i < cfg.n_destinations; i++)
        problems += dest_resolve(&set, &cfg.destinations[i], cfg.path, cfg.dir,
                                 &plugins[i], &bound[i], &errors);

    if (problems) {
        fputs(strbuf_str(&errors), stderr);
        fprintf(stderr,
                "dray check: %d problem%s in %s; the config would not "
                "run\n",
                problems, problems == 1 ? "" : "s", cfg.path);
        result = EXITCODE_CONFIG;
        goto cleanup;
    }
    printf("config %s\n", cfg.path);
    printf("spool: %s\n", cfg.spool_path);
    for (size_t i = 0; i < cfg.n_destinations; i++)
        print_destination(&cfg.destinations[i], plugins[i], bound[i]);
    if (cfg.n_destinations == 0)
        printf("no destinations: records would stay in the spool\n");
    print_routes(&cfg);
    printf("ok: the config would run\n");
    result = EXITCODE_OK;

cleanup:
    for (size_t i = 0; i < cfg.n_destinations; i++)
        dest_config_free(bound[i]);
    free(bound);
    free(plugins);
    strbuf_release(&errors);
    plugins_release(&set);
    config_release(&cfg);
    return result;
}

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
    printf("destination %s: plugin %s %s (%s), mode %s", d->name, p->name,
           p->version ? p->version : "", p->file, mode_name(cfg->mode));
    if (d->ns != NULL)
        printf(", namespace %s", d->ns);
    printf("\n");
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

static void print_ms(const char *label, int64_t ms)
{
    char buf[32];

    printf("%s%s", label, config_duration_str(ms, buf));
}

static void print_size(const char *label, uint64_t n)
{
    static const char *const units[] = {"GiB", "MiB", "KiB"};

    for (int i = 0; i < 3; i++) {
        uint64_t u = (uint64_t)1 << (10 * (3 - i));
        if (n != 0 && n % u == 0) {
            printf("%s%llu%s", label, (unsigned long long)(n / u), units[i]);
            return;
        }
    }
    printf("%s%lluB", label, (unsigned long long)n);
}

/* What the gate and the loaders will do, defaults included. */
static void print_settings(const struct config *cfg)
{
    const struct config_run *r = &cfg->run;

    printf("spool: %s\n", cfg->spool_path);
    if (cfg->spool_max_bytes)
        print_size("  max_bytes ", cfg->spool_max_bytes);
    else
        printf("  max_bytes 0 (no limit)");
    printf(", on_full %s",
           cfg->spool_on_full == CONFIG_ON_FULL_WAIT ? "wait" : "fail");
    print_ms(", keep_loaded ", cfg->keep_loaded_ms);
    print_size("\nbatch: max_bytes ", cfg->batch_max_bytes);
    printf(", max_records %llu", (unsigned long long)cfg->batch_max_records);
    print_ms(", max_age ", cfg->batch_max_age_ms);
    printf("\nrun: concurrency %lld", (long long)r->concurrency);
    print_ms(", batch_timeout ", r->batch_timeout_ms);
    printf(", crash_limit %lld", (long long)r->crash_limit);
    print_ms(", grace ", r->grace_ms);
    print_ms(", poll_interval ", r->poll_ms);
    printf(", retry %lld attempts", (long long)r->retry_attempts);
    print_ms(" from ", r->retry_initial_ms);
    print_ms(" to ", r->retry_max_ms);
    print_ms("\ntarget: state_interval ", cfg->target_state_interval_ms);
    printf("\n");
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
    print_settings(&cfg);
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

/*
 * dray run: loads the spool's batches into the destinations (run_loop.c),
 * until a signal or, with --once, until nothing is left to do.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "run.h"

static volatile sig_atomic_t stop_level;

static void on_signal(int sig)
{
    (void)sig;
    if (stop_level < 2)
        stop_level++;
}

struct run_args {
    const char *config;
    int once, quiet, log_format;
    const char **dests;
    size_t n_dests;
};

static int parse(const struct command *self, int argc, char **argv,
                 struct run_args *a)
{
    memset(a, 0, sizeof(*a));
    a->dests = xcalloc((size_t)argc + 1, sizeof(*a->dests));
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;

        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(self->usage, stdout);
            return -2;
        }
        if (strcmp(argv[i], "--once") == 0) {
            a->once = 1;
            continue;
        }
        if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0) {
            a->quiet = 1;
            continue;
        }
        if ((r = cli_option_value(self, argc, argv, &i, "-c", "--config",
                                  "a file", &a->config)) != 0) {
            if (r < 0)
                return -1;
            continue;
        }
        if ((r = cli_option_value(self, argc, argv, &i, NULL, "--destination",
                                  "a destination name", &v)) != 0) {
            if (r < 0)
                return -1;
            a->dests[a->n_dests++] = v;
            continue;
        }
        if ((r = cli_option_value(self, argc, argv, &i, NULL, "--log-format",
                                  "'text' or 'json'", &v)) != 0) {
            if (r < 0)
                return -1;
            a->log_format = log_format_parse(v);
            if (a->log_format < 0) {
                cli_usage_error(self, "--log-format must be 'text' or 'json'");
                return -1;
            }
            continue;
        }
        cli_usage_error(self, "unknown argument '%s'", argv[i]);
        return -1;
    }
    return 0;
}

/* Every --destination must be in the config. */
static int check_dests(const struct command *self, const struct config *cfg,
                       const struct run_args *a)
{
    for (size_t i = 0; i < a->n_dests; i++) {
        struct strbuf names = STRBUF_INIT;
        if (config_destination(cfg, a->dests[i]) != NULL)
            continue;
        for (size_t k = 0; k < cfg->n_destinations; k++)
            strbuf_addf(&names, "%s'%s'", k ? ", " : "",
                        cfg->destinations[k].name);
        cli_usage_error(self, "no destination '%s' in %s (it has %s)",
                        a->dests[i], cfg->path, names.len ? names.buf : "none");
        strbuf_release(&names);
        return -1;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    const struct command *self = cli_find_command("run");
    struct run_args a;
    struct run_opts o;
    struct config cfg = {0};
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    struct sigaction sa, old_int, old_term, old_pipe;
    int rc = parse(self, argc, argv, &a);

    if (rc != 0) {
        free(a.dests);
        return rc == -2 ? EXITCODE_OK : EXITCODE_USAGE;
    }
    log_set_format(a.log_format);
    if (cli_load_config(a.config, 1, &cfg) < 0) {
        rc = EXITCODE_CONFIG;
        goto out;
    }
    if (check_dests(self, &cfg, &a) != 0) {
        rc = EXITCODE_USAGE;
        goto out;
    }
    if (run_self_exe() == NULL) {
        log_report(DRAY_LOG_ERROR,
                   "dray run: cannot find its own program in /proc/self/exe "
                   "to start workers; is /proc mounted?");
        rc = EXITCODE_RUNTIME;
        goto out;
    }
    if (spool_open(&sp, cfg.spool_path, 1, &err) != 0) {
        log_report(DRAY_LOG_ERROR, "dray run: %s", strbuf_str(&err));
        rc = EXITCODE_RUNTIME;
        goto out;
    }
    memset(&o, 0, sizeof(o));
    o.name = "dray run";
    o.destinations = a.dests;
    o.n_destinations = a.n_dests;
    o.once = a.once;
    o.quiet = a.quiet;
    o.progress = !a.quiet && a.log_format == LOG_FORMAT_TEXT && isatty(2);
    o.stop = &stop_level;
    o.drain_fd = -1;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    stop_level = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, &old_pipe);
    rc = run_loop(&cfg, &sp, &o);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    spool_close(&sp);
out:
    free(a.dests);
    strbuf_release(&err);
    config_release(&cfg);
    return rc;
}

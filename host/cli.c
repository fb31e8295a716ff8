/* Argument parsing and usage errors shared by the commands. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "strbuf.h"

static int allows(const char *allowed, const char *what)
{
    size_t n = strlen(what);

    for (const char *p = allowed; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, what, n) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

int cli_usage_error(const struct command *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "dray %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; see 'dray %s --help'\n", cmd->name);
    return EXITCODE_USAGE;
}

/* An argument no option of the command takes: a usage error, -1. */
static int unknown_argument(const struct command *cmd, const char *a)
{
    if (a[0] == '-')
        cli_usage_error(cmd, "unknown option '%s'", a);
    else
        cli_usage_error(cmd, "unexpected argument '%s'", a);
    return -1;
}

int cli_option_value(const struct command *cmd, int argc, char **argv, int *i,
                     const char *short_name, const char *long_name,
                     const char *what, const char **out)
{
    const char *a = argv[*i];
    size_t n = strlen(long_name);

    if ((short_name != NULL && strcmp(a, short_name) == 0) ||
        strcmp(a, long_name) == 0) {
        if (*i + 1 >= argc) {
            cli_usage_error(cmd, "option '%s' needs %s", a, what);
            return -1;
        }
        *out = argv[++*i];
        return 1;
    }
    if (strncmp(a, long_name, n) == 0 && a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    return 0;
}

int cli_parse_common(const struct command *cmd, int argc, char **argv,
                     const char *allowed, struct common_opts *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(cmd->usage, stdout);
            return -2;
        }
        if (allows(allowed, "c")) {
            int taken = cli_option_value(cmd, argc, argv, &i, "-c", "--config",
                                         "a file", &out->config);
            if (taken < 0)
                return -1;
            if (taken)
                continue;
        }
        if (allows(allowed, "json") && strcmp(a, "--json") == 0) {
            out->json = 1;
            continue;
        }
        if (allows(allowed, "verbose") &&
            (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)) {
            out->verbose = 1;
            continue;
        }
        return unknown_argument(cmd, a);
    }
    if (out->config && *out->config == '\0') {
        cli_usage_error(cmd, "option '-c' needs a file");
        return -1;
    }
    return 0;
}

/* One option of put or state at argv[*i]: 1 taken, 0 not ours, -1 error. */
static int integration_option(const struct command *cmd, int argc, char **argv,
                              int *i, int put, struct integration_opts *out)
{
    const char *a = argv[*i], *format = NULL;
    int taken;

    taken = cli_option_value(cmd, argc, argv, i, "-c", "--config", "a file",
                             &out->config);
    if (taken == 0)
        taken = cli_option_value(cmd, argc, argv, i, NULL, "--integration",
                                 "a name", &out->integration);
    if (taken != 0 || !put)
        return taken;
    if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        out->quiet = 1;
        return 1;
    }
    taken = cli_option_value(cmd, argc, argv, i, NULL, "--log-format",
                             "'text' or 'json'", &format);
    if (taken > 0 && (out->log_format = log_format_parse(format)) < 0) {
        cli_usage_error(cmd, "unknown log format '%s'; use 'text' or 'json'",
                        format);
        return -1;
    }
    return taken;
}

int cli_parse_integration(const struct command *cmd, int argc, char **argv,
                          int put, struct integration_opts *out)
{
    int only_files = 0;

    memset(out, 0, sizeof(*out));
    out->files = xcalloc((size_t)argc + 1, sizeof(*out->files));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int taken;

        if (put && (only_files || a[0] != '-' || strcmp(a, "-") == 0)) {
            out->files[out->n_files++] = a;
            continue;
        }
        if (put && strcmp(a, "--") == 0) {
            only_files = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(cmd->usage, stdout);
            return -2;
        }
        taken = integration_option(cmd, argc, argv, &i, put, out);
        if (taken < 0)
            return -1;
        if (taken)
            continue;
        return unknown_argument(cmd, a);
    }
    if (out->config != NULL && out->config[0] == '\0') {
        cli_usage_error(cmd, "option '-c' needs a file");
        return -1;
    }
    if (out->integration == NULL) {
        cli_usage_error(cmd, "missing --integration NAME: the integration "
                             "the data belongs to");
        return -1;
    }
    if (!config_is_integration_name(out->integration)) {
        cli_usage_error(cmd,
                        "integration name '%s' is not valid; use letters, "
                        "digits, '_', '.' and '-'",
                        out->integration);
        return -1;
    }
    return 0;
}

int cli_load_config(const char *arg, int required, struct config *cfg)
{
    const char *path = config_default_path(arg);
    const char *env = getenv("DRAY_CONFIG");
    int explicit_path = arg != NULL || (env != NULL && *env != '\0');
    char err[1024];

    if (!explicit_path && access(path, F_OK) != 0) {
        if (!required)
            return 0;
        fprintf(stderr,
                "dray: no config: '%s' not found; pass -c FILE or set "
                "DRAY_CONFIG (examples/quickstart/dray.yml is a start)\n",
                path);
        return -1;
    }
    if (config_load(path, cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 1;
}

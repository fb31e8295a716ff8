/* Argument parsing and usage errors shared by the commands. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

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
        if (allows(allowed, "c") &&
            (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)) {
            if (i + 1 >= argc) {
                cli_usage_error(cmd, "option '%s' needs a file", a);
                return -1;
            }
            out->config = argv[++i];
            continue;
        }
        if (allows(allowed, "c") && strncmp(a, "--config=", 9) == 0) {
            out->config = a + 9;
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
        if (a[0] == '-')
            cli_usage_error(cmd, "unknown option '%s'", a);
        else
            cli_usage_error(cmd, "unexpected argument '%s'", a);
        return -1;
    }
    if (out->config && *out->config == '\0') {
        cli_usage_error(cmd, "option '-c' needs a file");
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

/* cli.h - command-line conventions shared by every dray command. */
#ifndef DRAY_HOST_CLI_H
#define DRAY_HOST_CLI_H

#include <stddef.h>

/* Exit codes of every command. */
enum {
    EXITCODE_OK = 0,         /* done */
    EXITCODE_RUNTIME = 1,    /* something failed while running */
    EXITCODE_USAGE = 2,      /* the command line is wrong */
    EXITCODE_CONFIG = 3,     /* the config is wrong */
    EXITCODE_QUARANTINED = 4 /* finished, but something was quarantined */
};

struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
    const char *usage; /* the full --help text */
};

/* Options every command with a config takes. */
struct common_opts {
    const char *config; /* -c/--config, or NULL */
    int json;           /* --json */
    int verbose;        /* -v/--verbose */
};

/*
 * Parses argv for the options in allowed ("c", "json", "verbose" in any
 * combination, comma-separated). Prints the help and returns -2 on --help
 * (the caller exits 0), prints a usage error and returns -1 (exit 2) on
 * anything unknown or missing; else returns 0.
 */
int cli_parse_common(const struct command *cmd, int argc, char **argv,
                     const char *allowed, struct common_opts *out);

/* What 'dray put' and 'dray state' take. */
struct integration_opts {
    const char *config;      /* -c/--config, or NULL */
    const char *integration; /* --integration, checked for shape */
    int quiet;               /* --quiet (put) */
    int log_format;          /* --log-format (put): LOG_FORMAT_* */
    const char **files;      /* put's FILE arguments ("-" is stdin) */
    size_t n_files;
};

/*
 * Parses argv for -c and the required --integration NAME; with put, also
 * --quiet, --log-format FORMAT and FILE arguments ("--" ends the options).
 * Returns 0, -2 after printing the help (exit 0), -1 after a usage error
 * (exit 2). out->files is malloc'd either way.
 */
int cli_parse_integration(const struct command *cmd, int argc, char **argv,
                          int put, struct integration_opts *out);

/*
 * Takes the value of an option at argv[*i] written "--name VALUE",
 * "--name=VALUE" or (with short_name) "-n VALUE". Returns 1 with *out set
 * and *i on the value's word, 0 when argv[*i] is not this option, -1 after
 * a usage error ("option '--name' needs <what>").
 */
int cli_option_value(const struct command *cmd, int argc, char **argv, int *i,
                     const char *short_name, const char *long_name,
                     const char *what, const char **out);

/* Prints "dray CMD: message; see 'dray CMD --help'" and returns
   EXITCODE_USAGE. */
int cli_usage_error(const struct command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

const struct command *cli_find_command(const char *name);
extern const struct command cli_commands[];
extern const unsigned cli_n_commands;

int cmd_version(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_plugin_op(int argc, char **argv);
int cmd_put(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_target(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_requeue(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);

struct config;
/*
 * Loads the command's config: -c, else $DRAY_CONFIG, else ./dray.yml.
 * Returns 1 when loaded, 0 when there is none and required is 0 (only the
 * implicit ./dray.yml may be absent), -1 after printing the error.
 */
extern const char cli_main_usage[];

int cli_load_config(const char *arg, int required, struct config *cfg);

#endif

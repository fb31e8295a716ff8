/* dray: the command dispatcher. Each command lives in its own cmd_*.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

int main(int argc, char **argv)
{
    const struct command *cmd;

    /* A closed socket in a plugin must be an error, not a dead process. */
    signal(SIGPIPE, SIG_IGN);
    log_init_from_env();

    if (argc < 2) {
        fputs(cli_main_usage, stderr);
        return EXITCODE_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(cli_main_usage, stdout);
        return EXITCODE_OK;
    }
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, (char *[]){"version", NULL});
    if (argv[1][0] == '-') {
        fprintf(stderr, "dray: unknown option '%s'; see 'dray --help'\n",
                argv[1]);
        return EXITCODE_USAGE;
    }
    cmd = cli_find_command(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "dray: '%s' is not a dray command; see 'dray --help'\n",
                argv[1]);
        return EXITCODE_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}

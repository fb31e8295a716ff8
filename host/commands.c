/* The command table and the help texts. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char cli_main_usage[] =
    "usage: dray [--version] [--help] COMMAND [ARGS]\n"
    "\n"
    "dray loads Singer records into warehouses and lakes through destination\n"
    "plugins.\n"
    "\n"
    "Commands:\n"
    "  check     check a config: keys, plugins, modes and options\n"
    "  plugins   list the plugins dray finds, and why any was refused\n"
    "  version   print the dray and plugin ABI versions\n"
    "  help      show the help of a command\n"
    "\n"
    "Every command takes -c FILE (default: $DRAY_CONFIG, then ./dray.yml).\n"
    "'dray COMMAND --help' describes one command.\n"
    "\n"
    "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 config error,\n"
    "4 finished but something was quarantined.\n"
    "Environment: DRAY_CONFIG, DRAY_PLUGIN_PATH (folders, colon-separated),\n"
    "DRAY_LOG_LEVEL (error, warn, info, debug, trace).\n";

const struct command cli_commands[] = {
    {"check", cmd_check, "check a config",
     "usage: dray check [-c FILE]\n"
     "\n"
     "Checks the config without loading data: YAML syntax, unknown keys,\n"
     "${VAR} references, that each destination's plugin is found and loads,\n"
     "supports the destination's mode and accepts its options. Prints the\n"
     "resolved config with secrets masked. Exits 0 when the config would\n"
     "run, 3 when it would not.\n"
     "\n"
     "  -c, --config FILE   the config (default: $DRAY_CONFIG, ./dray.yml)\n"},
    {"plugins", cmd_plugins, "list plugins",
     "usage: dray plugins [-c FILE] [--json] [-v]\n"
     "\n"
     "Lists every plugin file in the search path: the config's plugin_path,\n"
     "then $DRAY_PLUGIN_PATH, then the folder dray was installed with. The\n"
     "first file that declares a name wins; later ones are refused as\n"
     "shadowed. Refused files are listed with the reason; they are not an\n"
     "error (exit 0).\n"
     "\n"
     "  -c, --config FILE   take plugin_path from this config\n"
     "      --json          print JSON\n"
     "  -v, --verbose       also list each plugin's options\n"},
    {"version", cmd_version, "print versions",
     "usage: dray version [-c FILE] [--json]\n"
     "\n"
     "Prints the dray version and the plugin ABI it speaks.\n"},
    {"help", cmd_help, "show help", "usage: dray help [COMMAND]\n"},
};
const unsigned cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct command *cli_find_command(const char *name)
{
    for (unsigned i = 0; i < cli_n_commands; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

int cmd_help(int argc, char **argv)
{
    const struct command *cmd;

    if (argc < 2) {
        fputs(cli_main_usage, stdout);
        return EXITCODE_OK;
    }
    cmd = cli_find_command(argv[1]);
    if (cmd == NULL) {
        fprintf(stderr, "dray: '%s' is not a dray command; see 'dray --help'\n",
                argv[1]);
        return EXITCODE_USAGE;
    }
    fputs(cmd->usage, stdout);
    return EXITCODE_OK;
}

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
    "  put        take Singer messages from a tap into the spool\n"
    "  run        load the spool's batches into the destinations\n"
    "  target     a Singer target: put and load, printing safe STATEs\n"
    "  status     what is pending, loaded and quarantined, per destination\n"
    "  requeue    make quarantined batches pending again\n"
    "  quarantine show, export or drop a quarantined batch\n"
    "  state      print the latest durable STATE of an integration\n"
    "  check      check a config: keys, plugins, modes and options\n"
    "  plugins    list the plugins dray finds, and why any was refused\n"
    "  version    print the dray and plugin ABI versions\n"
    "  help       show the help of a command\n"
    "\n"
    "Every command takes -c FILE (default: $DRAY_CONFIG, then ./dray.yml).\n"
    "'dray COMMAND --help' describes one command.\n"
    "\n"
    "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 config error,\n"
    "4 finished but something was quarantined.\n"
    "Environment: DRAY_CONFIG, DRAY_PLUGIN_PATH (folders, colon-separated),\n"
    "DRAY_LOG_LEVEL (error, warn, info, debug, trace).\n";

const struct command cli_commands[] = {
    {"put", cmd_put, "take Singer messages into the spool",
     "usage: dray put [-c FILE] --integration NAME [--quiet]\n"
     "                [--log-format text|json] [FILE...]\n"
     "\n"
     "Reads Singer messages (SCHEMA, RECORD, STATE, ACTIVATE_VERSION), one\n"
     "JSON object a line, from each FILE in turn or from stdin ('-' or no\n"
     "FILE), checks records against their stream's SCHEMA and writes them\n"
     "to the spool in batches for the loaders. Loads no plugin: data keeps\n"
     "arriving while a destination is missing or broken.\n"
     "\n"
     "A record whose key properties are missing, null or of another type\n"
     "is stored as rejected, with Stitch's reason. A value of another type\n"
     "than its schema declares loads into a split column; the integration's\n"
     "on_invalid (config) can reject such records or stop instead. The\n"
     "latest STATE whose records are all durable is saved; 'dray state'\n"
     "prints it.\n"
     "\n"
     "Batches are cut at batch.max_bytes, batch.max_records and\n"
     "batch.max_age (also while stdin is quiet), and at every SCHEMA change,\n"
     "table version change and ACTIVATE_VERSION of their stream. When the\n"
     "spool reaches spool.max_bytes put waits for the loaders or fails\n"
     "(spool.on_full); it never drops a record.\n"
     "\n"
     "Exit 0 means everything read is durable. Bad input (malformed JSON,\n"
     "a RECORD before its SCHEMA, an invalid schema, invalid UTF-8, a line\n"
     "over 20 MiB) keeps everything before it and exits 1 naming the file\n"
     "and line.\n"
     "\n"
     "  -c, --config FILE        the config (default: $DRAY_CONFIG, "
     "./dray.yml)\n"
     "      --integration NAME   the integration the data belongs to\n"
     "                           (letters, digits, '_', '.', '-')\n"
     "  -q, --quiet              no progress line and no summary\n"
     "      --log-format FORMAT  'text' (default) or 'json': one JSON object\n"
     "                           a line on stderr\n"},
    {"run", cmd_run, "load batches into destinations",
     "usage: dray run [-c FILE] [--once] [--destination NAME]...\n"
     "                [--log-format text|json] [--quiet]\n"
     "\n"
     "Loads the spool's batches into their destinations, each destination's\n"
     "plugin in worker processes of its own: a plugin that crashes or hangs\n"
     "takes down only its worker, and a slow or broken destination never\n"
     "holds up another. A batch leaves the spool once every destination it\n"
     "was routed to committed it.\n"
     "\n"
     "Per destination and stream, batches load in spool order. Retryable\n"
     "errors back off (run.retry), then quarantine the batch; permanent and\n"
     "config errors, damaged batches and batches that killed run.crash_limit\n"
     "workers are quarantined at once. A quarantined batch holds back the\n"
     "later batches of its stream on that destination; see 'dray status',\n"
     "'dray requeue' and 'dray quarantine'.\n"
     "\n"
     "Runs until SIGTERM or SIGINT: it stops taking work, lets loads finish\n"
     "within run.grace and exits 0; a second signal stops at once (nothing\n"
     "is lost: unfinished batches are loaded again later).\n"
     "\n"
     "  -c, --config FILE        the config (default: $DRAY_CONFIG, "
     "./dray.yml)\n"
     "      --once               load what is pending, then exit: 0 when all\n"
     "                           of it loaded, 4 when something ended\n"
     "                           quarantined, 1 when a destination could not\n"
     "                           be reached\n"
     "      --destination NAME   only this destination (repeatable)\n"
     "  -q, --quiet              no progress line and no summary\n"
     "      --log-format FORMAT  'text' (default) or 'json'\n"},
    {"target", cmd_target, "a Singer target: put and load",
     "usage: dray target [-c FILE] --integration NAME\n"
     "                   [--log-format text|json]\n"
     "\n"
     "A Singer target: reads a tap's messages on stdin as 'dray put' does,\n"
     "loads them into every destination routed to the integration as\n"
     "'dray run' does, and writes STATE values to stdout, one JSON object a\n"
     "line, once every record before them is committed in every one of those\n"
     "destinations: at every target.state_interval and at the end of input.\n"
     "At the end of input it waits for the loads. Exits 0 when everything\n"
     "loaded; 4 when a batch was quarantined (no STATE after it is printed);\n"
     "1 on bad input or when a destination could not be reached.\n"
     "\n"
     "  -c, --config FILE        the config (default: $DRAY_CONFIG, "
     "./dray.yml)\n"
     "      --integration NAME   the integration the data belongs to\n"
     "      --log-format FORMAT  'text' (default) or 'json'\n"},
    {"status", cmd_status, "show pending, loaded and quarantined batches",
     "usage: dray status [-c FILE] [--json]\n"
     "\n"
     "Shows the spool's size and, per destination, the batches waiting,\n"
     "being loaded, loaded so far and quarantined, with the last error and\n"
     "every quarantined batch with its reason. Batches routed to a\n"
     "destination that is no longer in the config are shown too.\n"
     "\n"
     "  -c, --config FILE   the config (default: $DRAY_CONFIG, ./dray.yml)\n"
     "      --json          print JSON\n"},
    {"requeue", cmd_requeue, "make quarantined batches pending again",
     "usage: dray requeue [-c FILE] (--all | BATCH...) [--destination NAME]\n"
     "\n"
     "Makes quarantined batches pending again, with their attempts and\n"
     "back-off started over: the next 'dray run' loads them. BATCH is an id\n"
     "as 'dray status' lists it, or the batch's file. Without --destination\n"
     "a batch is requeued wherever it is quarantined. A BATCH that is not\n"
     "quarantined is an error (exit 1); the others are requeued anyway.\n"
     "\n"
     "  -c, --config FILE        the config (default: $DRAY_CONFIG, "
     "./dray.yml)\n"
     "      --all                every quarantined batch\n"
     "      --destination NAME   only for this destination\n"},
    {"quarantine", cmd_quarantine, "show, export or drop a quarantined batch",
     "usage: dray quarantine [-c FILE] show BATCH [--destination NAME]\n"
     "       dray quarantine [-c FILE] export BATCH\n"
     "       dray quarantine [-c FILE] drop BATCH [--destination NAME] --yes\n"
     "\n"
     "show: what the batch holds and, per destination, whether it is\n"
     "pending, acked or quarantined and why; works for any batch.\n"
     "export: its records on stdout, one JSON object a line, as stored; the\n"
     "whole batch is verified first, so a damaged one prints nothing (exit\n"
     "1).\n"
     "drop: gives the batch up for one destination (it is never loaded\n"
     "there); the spool deletes it once its other destinations loaded it.\n"
     "Needs --yes. --destination may be left out when only one destination\n"
     "holds the batch.\n"
     "\n"
     "  -c, --config FILE        the config (default: $DRAY_CONFIG, "
     "./dray.yml)\n"
     "      --destination NAME   the destination\n"
     "      --yes                really drop\n"},
    {"state", cmd_state, "print an integration's durable STATE",
     "usage: dray state [-c FILE] --integration NAME\n"
     "\n"
     "Prints the latest STATE 'dray put' saved for the integration, one line\n"
     "of JSON, so a tap can resume from it. Prints nothing on stdout (and a\n"
     "note on stderr) when none is saved; exits 0 either way.\n"
     "\n"
     "  -c, --config FILE        the config (default: $DRAY_CONFIG, "
     "./dray.yml)\n"
     "      --integration NAME   the integration\n"},
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
    /* Internal: the loader worker 'dray run' starts; not in the help. */
    {"__worker", cmd_worker, "",
     "usage: dray __worker -c FILE --destination NAME\n"},
    /* Internal: one plugin operation for dray-plugin-test; not in the
       help either. */
    {"__plugin-op", cmd_plugin_op, "",
     "usage: dray __plugin-op [-c FILE] --destination NAME OP [ARGS]\n"
     "\n"
     "Loads the destination's plugin as a loader worker does, makes its\n"
     "instance and runs one operation (docs/HARNESS.md):\n"
     "  readback NS TABLE    the table's rows on stdout, as NDJSON\n"
     "  list-tables NS       the namespace's tables, one a line\n"
     "  namespace-create NS  make a namespace\n"
     "  namespace-drop NS    remove a namespace and its tables\n"
     "  check                the plugin's connectivity check\n"
     "NS is [a-z0-9_]; '-' means the configured one (readback, list-tables).\n"
     "Exit 0 ok, 1 the plugin failed (its message on stderr), 2 usage,\n"
     "3 config, 5 the plugin lacks the capability.\n"},
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

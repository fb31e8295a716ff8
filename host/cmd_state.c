/*
 * dray state: the latest durable STATE 'dray put' saved for an
 * integration, so a tap can resume from it (tap --state FILE).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "spool.h"

int cmd_state(int argc, char **argv)
{
    const struct command *self = cli_find_command("state");
    struct integration_opts o;
    struct config cfg = {0};
    struct spool sp;
    struct strbuf err = STRBUF_INIT;
    struct stat st;
    char *state = NULL;
    int rc = cli_parse_integration(self, argc, argv, 0, &o);

    free(o.files);
    if (rc != 0)
        return rc == -2 ? EXITCODE_OK : EXITCODE_USAGE;
    if (cli_load_config(o.config, 1, &cfg) < 0)
        return EXITCODE_CONFIG;
    if (stat(cfg.spool_path, &st) != 0 && errno == ENOENT) {
        /* No spool yet is no STATE yet, not a failure. */
        fprintf(stderr,
                "dray state: no STATE saved for integration '%s' (spool '%s' "
                "does not exist yet)\n",
                o.integration, cfg.spool_path);
        rc = EXITCODE_OK;
        goto out;
    }
    if (spool_open(&sp, cfg.spool_path, 0, &err) != 0) {
        fprintf(stderr, "dray state: %s\n", strbuf_str(&err));
        rc = EXITCODE_RUNTIME;
        goto out;
    }
    int found = spool_state_read(&sp, o.integration, &state, &err);
    if (found < 0) {
        fprintf(stderr, "dray state: %s\n", strbuf_str(&err));
        spool_close(&sp);
        rc = EXITCODE_RUNTIME;
        goto out;
    }
    if (found)
        printf("%s\n", state);
    else
        fprintf(stderr,
                "dray state: no STATE saved for integration '%s' in spool "
                "'%s'\n",
                o.integration, sp.path);
    spool_close(&sp);
    rc = EXITCODE_OK;
out:
    free(state);
    strbuf_release(&err);
    config_release(&cfg);
    return rc;
}

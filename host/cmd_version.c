/* dray version */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "dray/dray_abi.h"

int cmd_version(int argc, char **argv)
{
    const struct command *self = cli_find_command("version");
    struct common_opts o;
    /* -c is accepted, as by every command, though version reads no config. */
    int rc = cli_parse_common(self, argc, argv, "c,json", &o);

    if (rc == -2)
        return EXITCODE_OK;
    if (rc != 0)
        return EXITCODE_USAGE;
    if (o.json) {
        json_t *j =
            json_pack("{s:s, s:s, s:s}", "version", DRAY_VERSION_STRING, "abi",
                      DRAY__STR(DRAY_ABI_MAJOR) "." DRAY__STR(DRAY_ABI_MINOR),
                      "build_signature", DRAY_BUILD_SIGNATURE);
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        puts(s);
        free(s);
        json_decref(j);
        return EXITCODE_OK;
    }
    printf("dray %s (plugin ABI %d.%d, %s)\n", DRAY_VERSION_STRING,
           DRAY_ABI_MAJOR, DRAY_ABI_MINOR, DRAY_BUILD_SIGNATURE);
    return EXITCODE_OK;
}

/* Placeholders until run and target land. */
#include <stdio.h>

#include "cli.h"

int cmd_run(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "dray %s: not built yet\n", argv[0]);
    return EXITCODE_RUNTIME;
}

int cmd_target(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "dray %s: not built yet\n", argv[0]);
    return EXITCODE_RUNTIME;
}

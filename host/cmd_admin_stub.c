/* Placeholders until status, requeue and quarantine land. */
#include <stdio.h>

#include "cli.h"

static int not_yet(const char *name)
{
    fprintf(stderr, "dray %s: not built yet\n", name);
    return EXITCODE_RUNTIME;
}

int cmd_status(int argc, char **argv)
{
    (void)argc;
    return not_yet(argv[0]);
}

int cmd_requeue(int argc, char **argv)
{
    (void)argc;
    return not_yet(argv[0]);
}

int cmd_quarantine(int argc, char **argv)
{
    (void)argc;
    return not_yet(argv[0]);
}

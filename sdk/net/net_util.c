/*
 * net_util.c - small helpers every part of the net library uses.
 */
#include <stdarg.h>
#include <stdio.h>

#include "net_internal.h"

void dray__set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

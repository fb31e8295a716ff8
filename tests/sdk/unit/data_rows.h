/*
 * data_rows.h - table-driven tests read their tables from text files in
 * DRAY_TEST_DATA_DIR: one row a line, fields separated by tabs, blank
 * lines and lines starting with '#' skipped.
 */
#ifndef DRAY_TESTS_DATA_ROWS_H
#define DRAY_TESTS_DATA_ROWS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define DATA_ROWS_MAX_FIELDS 16

typedef void (*data_row_fn)(void *ctx, char **field, int n, int line);

/* Calls fn for each row of DRAY_TEST_DATA_DIR/name; returns the number of
   rows, or -1 (a failed check) when the file cannot be read. */
static inline int data_rows(const char *name, data_row_fn fn, void *ctx)
{
    char path[512], *buf = NULL;
    size_t cap = 0;
    ssize_t len;
    int line = 0, rows = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", DRAY_TEST_DATA_DIR, name);
    f = fopen(path, "r");
    if (f == NULL) {
        UNIT_FAIL_AT("cannot read %s", path);
        return -1;
    }
    while ((len = getline(&buf, &cap, f)) >= 0) {
        char *field[DATA_ROWS_MAX_FIELDS], *p = buf;
        int n = 0;
        line++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        if (len == 0 || buf[0] == '#')
            continue;
        while (n < DATA_ROWS_MAX_FIELDS) {
            field[n++] = p;
            p = strchr(p, '\t');
            if (p == NULL)
                break;
            *p++ = '\0';
        }
        fn(ctx, field, n, line);
        rows++;
    }
    free(buf);
    fclose(f);
    return rows;
}

/* "-" in a table stands for NULL. */
static inline const char *data_opt(const char *field)
{
    return strcmp(field, "-") == 0 ? NULL : field;
}

#endif

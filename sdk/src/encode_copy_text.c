/*
 * PostgreSQL COPY text format: fields split by tabs, rows by newlines,
 * \N for NULL, and backslash escapes for the bytes that would end a field
 * or row early.
 */
#include "encode_internal.h"

#include <string.h>

/* The bytes that would end a field or a row early, and the backslash. */
static size_t copy_escape(unsigned char c, char out[8])
{
    char e;

    switch (c) {
    case '\\':
        e = '\\';
        break;
    case '\t':
        e = 't';
        break;
    case '\n':
        e = 'n';
        break;
    case '\r':
        e = 'r';
        break;
    default:
        return 0;
    }
    out[0] = '\\';
    out[1] = e;
    return 2;
}

int dray_copy_text_write_row(struct dray_sink *sink,
                             const struct dray_field *fields, size_t n)
{
    struct dray__stage st;

    /* PostgreSQL text cannot hold NUL: check the whole row first so a
       rejected record leaves nothing half-written in the stream. */
    for (size_t i = 0; i < n; i++) {
        const struct dray_field *f = &fields[i];

        if (f->kind != DRAY_F_NULL &&
            memchr(dray__field_text(f), '\0', dray__field_len(f)) != NULL)
            return -1;
    }
    dray__stage_init(&st, sink);
    for (size_t i = 0; i < n && st.rc == 0; i++) {
        const struct dray_field *f = &fields[i];

        if (i > 0)
            dray__stage_putc(&st, '\t');
        if (f->kind == DRAY_F_NULL)
            dray__stage_put(&st, "\\N", 2);
        else
            dray__stage_put_escaped(&st, dray__field_text(f),
                                    dray__field_len(f), copy_escape);
    }
    dray__stage_putc(&st, '\n');
    return dray__stage_flush(&st);
}

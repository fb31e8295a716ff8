/* NDJSON: one JSON object a line (see dray_encode.h). */
#include "encode_internal.h"

#include "dray/dray_json.h"

#include <string.h>

static int stage_write(void *ctx, const void *data, size_t len)
{
    return dray__stage_put(ctx, data, len);
}

/* Strings are escaped by dray_json_write_string (quotes, backslashes and
   the C0 controls, NUL as \u0000; UTF-8 above ASCII as it is), into the
   row's staging so the row still goes out in one write. */
static void json_put_string(struct dray__stage *st, const char *s, size_t n)
{
    struct dray_sink into = {stage_write, NULL, st};

    if (st->rc == 0)
        dray_json_write_string(&into, s, n);
}

static void json_put_value(struct dray__stage *st, const struct dray_field *f)
{
    switch (f->kind) {
    case DRAY_F_NULL:
        dray__stage_put(st, "null", 4);
        break;
    case DRAY_F_BOOL:
    case DRAY_F_INT:
    case DRAY_F_DECIMAL:
    case DRAY_F_DOUBLE:
    case DRAY_F_JSON:
        /* Already JSON text: literals, numbers as the source wrote them. */
        dray__stage_put(st, dray__field_text(f), dray__field_len(f));
        break;
    default:
        json_put_string(st, dray__field_text(f), dray__field_len(f));
    }
}

int dray_ndjson_write_row(struct dray_sink *sink, const char *const *names,
                          const struct dray_field *fields, size_t n,
                          int skip_nulls)
{
    struct dray__stage st;
    int first = 1;

    dray__stage_init(&st, sink);
    dray__stage_putc(&st, '{');
    for (size_t i = 0; i < n && st.rc == 0; i++) {
        if (skip_nulls && fields[i].kind == DRAY_F_NULL)
            continue;
        if (!first)
            dray__stage_putc(&st, ',');
        first = 0;
        json_put_string(&st, names[i], strlen(names[i]));
        dray__stage_putc(&st, ':');
        json_put_value(&st, &fields[i]);
    }
    dray__stage_put(&st, "}\n", 2);
    return dray__stage_flush(&st);
}

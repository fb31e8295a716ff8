/* CSV rows and header lines (RFC 4180; see dray_encode.h for the rules). */
#include "encode_internal.h"

#include <string.h>

static int csv_delimiter(const struct dray_csv_opts *opts, char *delim)
{
    char d = opts ? opts->delimiter : 0;

    if (d == 0)
        d = ',';
    if (d != ',' && d != '|' && d != '\t')
        return -1;
    *delim = d;
    return 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int csv_needs_quotes(const char *s, size_t n, char delim)
{
    if (n == 0)
        return 1; /* "" keeps an empty string apart from NULL */
    if (is_blank(s[0]) || is_blank(s[n - 1]))
        return 1; /* readers that trim would lose them */
    if (n == 2 && s[0] == '\\' && s[1] == '.')
        return 1; /* alone on a line, PostgreSQL reads it as end of data */
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == delim || c == '"' || c == '\r' || c == '\n')
            return 1;
    }
    return 0;
}

static size_t csv_escape(unsigned char c, char out[8])
{
    if (c != '"')
        return 0;
    out[0] = out[1] = '"';
    return 2;
}

/* One field's text, quoted when needed (or always), quotes doubled. */
static void csv_put_text(struct dray__stage *st, const char *s, size_t n,
                         char delim, int quote_all)
{
    if (!quote_all && !csv_needs_quotes(s, n, delim)) {
        dray__stage_put(st, s, n);
        return;
    }
    dray__stage_putc(st, '"');
    dray__stage_put_escaped(st, s, n, csv_escape);
    dray__stage_putc(st, '"');
}

static void csv_put_eol(struct dray__stage *st, const struct dray_csv_opts *o)
{
    if (o && o->crlf)
        dray__stage_put(st, "\r\n", 2);
    else
        dray__stage_putc(st, '\n');
}

/* One line of n cells, from names (a header) or from fields (a row). */
static int csv_line(struct dray_sink *sink, const struct dray_csv_opts *opts,
                    const char *const *names, const struct dray_field *fields,
                    size_t n)
{
    struct dray__stage st;
    int quote_all = opts ? opts->quote_all : 0;
    char delim;

    if (csv_delimiter(opts, &delim) != 0)
        return -1;
    dray__stage_init(&st, sink);
    for (size_t i = 0; i < n && st.rc == 0; i++) {
        if (i > 0)
            dray__stage_putc(&st, delim);
        if (names)
            csv_put_text(&st, names[i], strlen(names[i]), delim, quote_all);
        else if (fields[i].kind != DRAY_F_NULL) /* NULL: an empty cell */
            csv_put_text(&st, dray__field_text(&fields[i]),
                         dray__field_len(&fields[i]), delim, quote_all);
    }
    csv_put_eol(&st, opts);
    return dray__stage_flush(&st);
}

int dray_csv_write_header(struct dray_sink *sink,
                          const struct dray_csv_opts *opts,
                          const char *const *names, size_t n)
{
    return csv_line(sink, opts, names, NULL, n);
}

int dray_csv_write_row(struct dray_sink *sink, const struct dray_csv_opts *opts,
                       const struct dray_field *fields, size_t n)
{
    return csv_line(sink, opts, NULL, fields, n);
}

/*
 * harness_scenario.c - the .scn format (docs/HARNESS.md, "Scenario
 * files"): a description in leading # lines, then [sections] with lines.
 * Blank lines and # lines inside sections are skipped, except in [config],
 * which is YAML and keeps them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dray/dray_abi.h"
#include "harness.h"

static const struct {
    const char *name;
    unsigned bit;
} need_names[] = {
    {"upsert", NEED_UPSERT},
    {"append", NEED_APPEND},
    {"readback", NEED_READBACK},
    {"nested", NEED_NESTED},
    {"activate_version", NEED_ACTIVATE},
    {"rejects", NEED_REJECTS},
    {"split", NEED_SPLIT},
    {"types", NEED_TYPES},
    {"split_rename", NEED_SPLIT_RENAME},
    {"split_keep", NEED_SPLIT_KEEP},
};

const char *dray__need_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof(need_names) / sizeof(need_names[0]); i++)
        if (need_names[i].bit == bit)
            return need_names[i].name;
    return "?";
}

/* ---- sections ---- */

struct parser {
    struct scenario *s;
    char *err;
    size_t errlen;
    int line;
    char kind[32]; /* the open section; "" before the first */
    struct dray_buf body;
    int body_lines;
    int shallow; /* macros left unexpanded: see dray__scn_load */
};

static int fail(struct parser *ps, const char *fmt, const char *arg)
{
    int n = snprintf(ps->err, ps->errlen, "%d: ", ps->line);

    if (n >= 0 && (size_t)n < ps->errlen)
        snprintf(ps->err + n, ps->errlen - (size_t)n, fmt, arg);
    return -1;
}

/* "name=N" among args; 1 found, 0 not, -1 malformed. */
static int arg_int(const char *arg, const char *name, long *v)
{
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0 || arg[n] != '=')
        return 0;
    return dray__parse_long(arg + n + 1, strlen(arg + n + 1), v) == 0 ? 1 : -1;
}

static struct scn_step *new_step(struct parser *ps, int kind)
{
    struct scenario *s = ps->s;
    struct scn_step *st;

    s->steps = dray__xrealloc(s->steps, (s->n_steps + 1) * sizeof(*st));
    st = &s->steps[s->n_steps++];
    memset(st, 0, sizeof(*st));
    st->kind = kind;
    st->line = ps->line;
    st->run = 1;
    return st;
}

/* Step arguments: run=no, exit=N / run-exit=N, put-exit=N. */
static int step_args(struct parser *ps, struct scn_step *st, char **argv,
                     int argc, int is_run)
{
    for (int i = 1; i < argc; i++) {
        long v = 0;
        int r;
        if (!is_run && strcmp(argv[i], "run=no") == 0) {
            st->run = 0;
            continue;
        }
        if ((r = arg_int(argv[i],
                         is_run || st->kind == STEP_REPLAY ? "exit"
                                                           : "run-exit",
                         &v)) != 0) {
            if (r < 0)
                return fail(ps, "'%s' needs a number", argv[i]);
            st->run_exit = (int)v;
            continue;
        }
        if (st->kind == STEP_INPUT && (r = arg_int(argv[i], "put-exit", &v))) {
            if (r < 0)
                return fail(ps, "'%s' needs a number", argv[i]);
            st->put_exit = (int)v;
            continue;
        }
        return fail(ps, "unknown argument '%s'", argv[i]);
    }
    return 0;
}

static int open_section(struct parser *ps, char **argv, int argc)
{
    struct scenario *s = ps->s;
    const char *k = argv[0];
    long v;

    snprintf(ps->kind, sizeof(ps->kind), "%s", k);
    if (strcmp(k, "needs") == 0) {
        for (int i = 1; i < argc; i++) {
            size_t j, nn = sizeof(need_names) / sizeof(need_names[0]);
            for (j = 0; j < nn && strcmp(need_names[j].name, argv[i]); j++)
                ;
            if (j == nn)
                return fail(ps,
                            "unknown need '%s' (upsert, append, "
                            "readback, nested, activate_version, "
                            "rejects, split, split_rename, split_keep, types)",
                            argv[i]);
            s->needs |= need_names[j].bit;
        }
        return 0;
    }
    if (strcmp(k, "mode") == 0) {
        if (argc != 2 ||
            (strcmp(argv[1], "upsert") && strcmp(argv[1], "append")))
            return fail(ps, "%s: [mode upsert] or [mode append]", "mode");
        s->mode = strcmp(argv[1], "upsert") == 0 ? DRAY_MODE_UPSERT
                                                 : DRAY_MODE_APPEND;
        return 0;
    }
    if (strcmp(k, "options") == 0 || strcmp(k, "config") == 0 ||
        strcmp(k, "expect-tables") == 0) {
        if (argc != 1)
            return fail(ps, "[%s] takes no arguments", k);
        if (strcmp(k, "expect-tables") == 0)
            s->has_expect_tables = 1;
        return 0;
    }
    if (strcmp(k, "input") == 0)
        return step_args(ps, new_step(ps, STEP_INPUT), argv, argc, 0);
    if (strcmp(k, "run") == 0)
        return step_args(ps, new_step(ps, STEP_RUN), argv, argc, 1);
    if (strcmp(k, "replay") == 0)
        return step_args(ps, new_step(ps, STEP_REPLAY), argv, argc, 0);
    if (strcmp(k, "fault") == 0) {
        struct scn_step *st = new_step(ps, STEP_FAULT);
        int r = 0;
        if (argc == 2 && strcmp(argv[1], "kill-random") == 0)
            st->fault = FAULT_KILL_RANDOM;
        else if (argc == 2 && (r = arg_int(argv[1], "kill-at", &v)) == 1)
            st->fault = FAULT_KILL_AT;
        else if (argc == 2 && (r = arg_int(argv[1], "fail-at", &v)) == 1)
            st->fault = FAULT_FAIL_AT;
        if (st->fault == FAULT_NONE ||
            (st->fault != FAULT_KILL_RANDOM && v < 1))
            return fail(ps,
                        "%s: [fault kill-at=N], [fault fail-at=N] (N from "
                        "1) or [fault kill-random]",
                        "fault");
        st->fault_n = st->fault == FAULT_KILL_RANDOM ? 0 : v;
        return 0;
    }
    if (strcmp(k, "spool-sequence") == 0) {
        struct scn_step *st = new_step(ps, STEP_SEQUENCE);
        char *endp;
        errno = 0;
        st->sequence = argc == 2 ? strtoll(argv[1], &endp, 10) : -1;
        if (argc != 2 || errno != 0 || *endp != '\0' || st->sequence < 0)
            return fail(ps, "%s: [spool-sequence N] needs a sequence from 0",
                        "spool-sequence");
        return 0;
    }
    if (strcmp(k, "expect-rejects") == 0) {
        if (argc != 2 || dray__parse_long(argv[1], strlen(argv[1]), &v) != 0 ||
            v < 0)
            return fail(ps, "%s: [expect-rejects N] needs a count",
                        "expect-rejects");
        s->expect_rejects = v;
        return 0;
    }
    /* The worker's resources, from DRAY_STATS_FILE (harness_resources.c). */
    if (strcmp(k, "expect-max-rss") == 0) {
        v = 0;
        if (argc > 2 ||
            (argc == 2 &&
             (dray__parse_long(argv[1], strlen(argv[1]), &v) != 0 || v < 1)))
            return fail(ps,
                        "%s: [expect-max-rss] or [expect-max-rss MIB] with "
                        "a bound from 1",
                        "expect-max-rss");
        s->max_rss_mib = v;
        return 0;
    }
    if (strcmp(k, "expect-no-fd-leak") == 0) {
        if (argc != 1)
            return fail(ps, "[%s] takes no arguments", k);
        s->no_fd_leak = 1;
        return 0;
    }
    if (strcmp(k, "expect") == 0) {
        if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "empty")))
            return fail(ps, "%s: [expect TABLE] or [expect TABLE empty]",
                        "expect");
        s->expects = dray__xrealloc(s->expects,
                                    (s->n_expects + 1) * sizeof(*s->expects));
        struct scn_expect *e = &s->expects[s->n_expects++];
        memset(e, 0, sizeof(*e));
        e->table = dray__xstrdup(argv[1]);
        e->line = ps->line;
        e->empty = argc == 3;
        return 0;
    }
    return fail(ps, "unknown section [%s]", k);
}

static char *trim(char *p)
{
    size_t n;

    while (*p == ' ' || *p == '\t')
        p++;
    n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        p[--n] = '\0';
    return p;
}

static int expect_row(struct parser *ps, const char *l, size_t n)
{
    struct scn_expect *e = &ps->s->expects[ps->s->n_expects - 1];
    char why[200];
    struct hv *row;

    if (e->empty)
        return fail(ps, "[expect %s empty] takes no rows", e->table);
    row = dray__hv_parse(l, n, why, sizeof(why));
    if (row == NULL || row->t != HV_OBJ) {
        dray__hv_free(row);
        return fail(ps, "an expected row must be a JSON object: %s",
                    row ? "not an object" : why);
    }
    e->rows = dray__xrealloc(e->rows, (e->n_rows + 1) * sizeof(*e->rows));
    e->rows[e->n_rows++] = row;
    return 0;
}

/* An expected row, or the rows a @SEQ or @REPEAT line expands to. */
static int expect_lines(struct parser *ps, const char *l)
{
    struct dray_buf out = DRAY_BUF_INIT;
    char why[200];
    int rc = 0;

    if (strchr(l, '@') == NULL)
        return expect_row(ps, l, strlen(l));
    if (ps->shallow)
        return 0;
    if (dray__scn_expand(l, strlen(l), &out, why, sizeof(why)) != 0) {
        dray_buf_release(&out);
        return fail(ps, "%s", why);
    }
    for (const char *p = out.data, *end = p + out.len; rc == 0 && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0)
            rc = expect_row(ps, p, n);
        p += n + 1;
    }
    dray_buf_release(&out);
    return rc;
}

/* One line inside the open section. */
static int section_line(struct parser *ps, char *raw)
{
    struct scenario *s = ps->s;
    char *l = trim(raw);

    if (strcmp(ps->kind, "config") == 0) {
        dray__xadds(&ps->body, raw);
        dray__xadds(&ps->body, "\n");
        return 0;
    }
    if (*l == '\0' || *l == '#')
        return 0;
    if (ps->kind[0] == '\0')
        return fail(ps, "'%s' before the first [section]", l);
    if (strcmp(ps->kind, "input") == 0) {
        dray__xadds(&ps->body, l);
        dray__xadds(&ps->body, "\n");
        return 0;
    }
    if (strcmp(ps->kind, "options") == 0) {
        char *colon = strchr(l, ':');
        if (colon == NULL || colon == l)
            return fail(ps, "'%s' is not 'key: value'", l);
        *colon = '\0';
        char *val = trim(colon + 1);
        size_t vn = strlen(val);
        if (vn >= 2 && (val[0] == '"' || val[0] == '\'') &&
            val[vn - 1] == val[0])
            val[vn - 1] = '\0', val++;
        s->options = dray__xrealloc(s->options,
                                    (s->n_options + 1) * sizeof(*s->options));
        s->options[s->n_options].key = dray__xstrdup(trim(l));
        s->options[s->n_options++].value = dray__xstrdup(val);
        return 0;
    }
    if (strcmp(ps->kind, "expect-tables") == 0) {
        s->expect_tables = dray__xrealloc(
            s->expect_tables, (s->n_expect_tables + 1) * sizeof(char *));
        s->expect_tables[s->n_expect_tables++] = dray__xstrdup(l);
        return 0;
    }
    if (strcmp(ps->kind, "expect") == 0)
        return expect_lines(ps, l);
    return fail(ps, "[%s] takes no lines", ps->kind);
}

/* Ends the open section: an input's lines are expanded into its step. */
static int close_section(struct parser *ps)
{
    struct scenario *s = ps->s;

    if (strcmp(ps->kind, "input") == 0) {
        struct scn_step *st = &s->steps[s->n_steps - 1];
        struct dray_buf out = DRAY_BUF_INIT;
        char why[200];
        if (ps->shallow) {
            dray__xadd(&out, ps->body.data ? ps->body.data : "", ps->body.len);
        } else if (dray__scn_expand(ps->body.data ? ps->body.data : "",
                                    ps->body.len, &out, why,
                                    sizeof(why)) != 0) {
            dray_buf_release(&out);
            ps->line = st->line;
            return fail(ps, "%s", why);
        }
        st->text = out.data;
        st->len = out.len;
    } else if (strcmp(ps->kind, "config") == 0) {
        size_t n = strlen(s->config);
        s->config = dray__xrealloc(s->config, n + ps->body.len + 1);
        memcpy(s->config + n, ps->body.data ? ps->body.data : "", ps->body.len);
        s->config[n + ps->body.len] = '\0';
    }
    dray_buf_reset(&ps->body);
    return 0;
}

static void add_desc(struct scenario *s, const char *l)
{
    while (*l == '#')
        l++;
    while (*l == ' ')
        l++;
    size_t n = s->desc ? strlen(s->desc) : 0, m = strlen(l);
    if (m == 0)
        return;
    s->desc = dray__xrealloc(s->desc, n + m + 2);
    if (n)
        s->desc[n++] = ' ';
    memcpy(s->desc + n, l, m + 1);
}

static int parse(const char *name, const char *text, size_t len,
                 struct scenario *out, char *err, size_t errlen, int shallow)
{
    struct parser ps = {out, err, errlen, 0, "", DRAY_BUF_INIT, 0, shallow};
    const char *p = text, *end = text + len;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    out->name = dray__xstrdup(name);
    out->mode = -1;
    out->expect_rejects = -1;
    out->max_rss_mib = -1;
    out->config = dray__xstrdup("");
    while (rc == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *line = dray__xstrndup(p, n), *l = trim(line);
        ps.line++;
        p += n + (nl != NULL);
        if (ps.kind[0] == '\0' && *l == '#') {
            add_desc(out, l);
        } else if (*l == '[' && l[strlen(l) - 1] == ']') {
            char *argv[16];
            int argc = 0;
            l[strlen(l) - 1] = '\0';
            for (char *tok = strtok(l + 1, " \t"); tok && argc < 16;
                 tok = strtok(NULL, " \t"))
                argv[argc++] = tok;
            rc = close_section(&ps);
            if (rc == 0 && argc == 0)
                rc = fail(&ps, "%s", "an empty section header");
            if (rc == 0)
                rc = open_section(&ps, argv, argc);
        } else {
            rc = section_line(&ps, line);
        }
        free(line);
    }
    if (rc == 0)
        rc = close_section(&ps);
    dray_buf_release(&ps.body);
    if (rc == 0 && out->n_steps == 0)
        rc = fail(&ps, "%s", "no [input]: a scenario loads something");
    if (out->desc == NULL)
        out->desc = dray__xstrdup("");
    return rc;
}

int dray__scn_parse(const char *name, const char *text, size_t len,
                    struct scenario *out, char *err, size_t errlen)
{
    return parse(name, text, len, out, err, errlen, 0);
}

int dray__scn_load(const char *path, int shallow, struct scenario *out,
                   char *err, size_t errlen)
{
    struct dray_buf text = DRAY_BUF_INIT;
    const char *base = strrchr(path, '/');
    char name[256], why[400];
    int rc;

    base = base ? base + 1 : path;
    snprintf(name, sizeof(name), "%s", base);
    char *dot = strrchr(name, '.');
    if (dot != NULL && strcmp(dot, ".scn") == 0)
        *dot = '\0';
    if (dray__read_file(path, &text) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        memset(out, 0, sizeof(*out));
        out->name = dray__xstrdup(name);
        return -1;
    }
    rc = parse(name, text.data, text.len, out, why, sizeof(why), shallow);
    if (rc != 0)
        snprintf(err, errlen, "%s:%s", path, why);
    out->path = dray__xstrdup(path);
    dray_buf_release(&text);
    return rc;
}

void dray__strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void dray__scn_release(struct scenario *s)
{
    free(s->path);
    free(s->name);
    free(s->desc);
    dray__options_free(s->options, s->n_options);
    free(s->config);
    for (size_t i = 0; i < s->n_steps; i++)
        free(s->steps[i].text);
    free(s->steps);
    for (size_t i = 0; i < s->n_expects; i++) {
        free(s->expects[i].table);
        for (size_t k = 0; k < s->expects[i].n_rows; k++)
            dray__hv_free(s->expects[i].rows[k]);
        free(s->expects[i].rows);
    }
    free(s->expects);
    dray__strv_free(s->expect_tables, s->n_expect_tables);
    memset(s, 0, sizeof(*s));
}

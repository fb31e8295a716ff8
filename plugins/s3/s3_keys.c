/*
 * s3_keys.c - option 'key_template': Stitch's object keys,
 * [integration_name]/[table_name]/[table_version]_[timestamp_loaded].[csv|jsonl]
 * with the optional [year_loaded] .. [hour_loaded] and free text. Keys are
 * rendered for each object and matched again when reading a table back.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3_internal.h"

static const struct {
    const char *name;
    int kind;
} elements[] = {
    {"integration_name", S3_EL_INTEGRATION},
    {"table_name", S3_EL_TABLE},
    {"table_version", S3_EL_VERSION},
    {"timestamp_loaded", S3_EL_TIMESTAMP},
    {"year_loaded", S3_EL_YEAR},
    {"month_loaded", S3_EL_MONTH},
    {"day_loaded", S3_EL_DAY},
    {"hour_loaded", S3_EL_HOUR},
    {"csv|jsonl", S3_EL_EXT},
};

static int push(struct s3_template *t, int kind, const char *text, size_t n)
{
    struct s3_el *el = realloc(t->el, (t->n + 1) * sizeof(*el));

    if (el == NULL)
        return -2;
    t->el = el;
    el[t->n].kind = kind;
    el[t->n].text = NULL;
    if (kind == S3_EL_TEXT) {
        el[t->n].text = malloc(n + 1);
        if (el[t->n].text == NULL)
            return -2;
        memcpy(el[t->n].text, text, n);
        el[t->n].text[n] = '\0';
    }
    t->n++;
    return 0;
}

static int has(const struct s3_template *t, int kind)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->el[i].kind == kind)
            return 1;
    return 0;
}

/* The rendered key must be a clean relative path whatever the values:
   no leading '/', no "//", no "." or ".." segment in the free text. */
static int text_ok(const char *tmpl, char *why, size_t n)
{
    if (tmpl[0] == '/') {
        snprintf(why, n, "it starts with '/'; keys are relative to the URL");
        return 0;
    }
    if (strstr(tmpl, "//") != NULL) {
        snprintf(why, n, "it has '//', which makes an empty folder name");
        return 0;
    }
    for (const char *p = tmpl; *p; p++) {
        int start = p == tmpl || p[-1] == '/';
        if (start && p[0] == '.' &&
            (p[1] == '/' || p[1] == '\0' ||
             (p[1] == '.' && (p[2] == '/' || p[2] == '\0')))) {
            snprintf(why, n, "it has a '.' or '..' folder");
            return 0;
        }
    }
    return 1;
}

int s3_template_parse(const char *text, struct s3_template *t, char *why,
                      size_t n)
{
    static const int required[] = {S3_EL_INTEGRATION, S3_EL_TABLE,
                                   S3_EL_VERSION, S3_EL_TIMESTAMP};
    static const char *const required_names[] = {
        "integration_name", "table_name", "table_version", "timestamp_loaded"};
    const char *p = text;
    int rc = 0;

    memset(t, 0, sizeof(*t));
    if (!text_ok(text, why, n))
        return -1;
    while (*p && rc == 0) {
        const char *open = strchr(p, '['), *close;
        size_t i;
        if (open == NULL) {
            rc = push(t, S3_EL_TEXT, p, strlen(p));
            break;
        }
        if (open > p)
            rc = push(t, S3_EL_TEXT, p, (size_t)(open - p));
        close = strchr(open, ']');
        if (rc != 0)
            break;
        if (close == NULL) {
            snprintf(why, n, "'[' at offset %d is not closed",
                     (int)(open - text));
            rc = -1;
            break;
        }
        for (i = 0; i < sizeof(elements) / sizeof(elements[0]); i++)
            if (strlen(elements[i].name) == (size_t)(close - open - 1) &&
                memcmp(elements[i].name, open + 1,
                       (size_t)(close - open - 1)) == 0)
                break;
        if (i == sizeof(elements) / sizeof(elements[0])) {
            snprintf(why, n,
                     "unknown element '%.*s'; the elements are "
                     "[integration_name] [table_name] [table_version] "
                     "[timestamp_loaded] [year_loaded] [month_loaded] "
                     "[day_loaded] [hour_loaded] [csv|jsonl]",
                     (int)(close - open + 1 > 60 ? 60 : close - open + 1),
                     open);
            rc = -1;
            break;
        }
        if (elements[i].kind != S3_EL_EXT && has(t, elements[i].kind)) {
            snprintf(why, n, "[%s] appears twice", elements[i].name);
            rc = -1;
            break;
        }
        rc = push(t, elements[i].kind, NULL, 0);
        p = close + 1;
    }
    for (size_t i = 0; rc == 0 && i < 4; i++)
        if (!has(t, required[i])) {
            snprintf(why, n,
                     "it lacks [%s]; keys need [integration_name], "
                     "[table_name], [table_version] and [timestamp_loaded] "
                     "so that no two objects share one",
                     required_names[i]);
            rc = -1;
        }
    if (rc == 0 && !has(t, S3_EL_EXT) &&
        ((rc = push(t, S3_EL_TEXT, ".", 1)) != 0 ||
         (rc = push(t, S3_EL_EXT, NULL, 0)) != 0))
        snprintf(why, n, "out of memory");
    if (rc == -2)
        snprintf(why, n, "out of memory");
    if (rc != 0)
        s3_template_release(t);
    return rc;
}

void s3_template_release(struct s3_template *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->el[i].text);
    free(t->el);
    t->el = NULL;
    t->n = 0;
}

int s3_template_render(const struct s3_template *t, const struct s3_key_vars *v,
                       struct dray_buf *out)
{
    time_t secs = (time_t)(v->loaded_ms / 1000);
    struct tm tm;
    char num[32];
    int rc = 0;

    gmtime_r(&secs, &tm);
    for (size_t i = 0; i < t->n && rc == 0; i++) {
        const char *s = num;
        switch (t->el[i].kind) {
        case S3_EL_TEXT:
            s = t->el[i].text;
            break;
        case S3_EL_INTEGRATION:
            s = v->integration;
            break;
        case S3_EL_TABLE:
            s = v->table;
            break;
        case S3_EL_VERSION:
            snprintf(num, sizeof(num), "%" PRId64, v->version);
            break;
        case S3_EL_TIMESTAMP:
            snprintf(num, sizeof(num), "%" PRId64, v->loaded_ms);
            break;
        case S3_EL_YEAR:
            snprintf(num, sizeof(num), "%04d", tm.tm_year + 1900);
            break;
        case S3_EL_MONTH:
            snprintf(num, sizeof(num), "%02d", tm.tm_mon + 1);
            break;
        case S3_EL_DAY:
            snprintf(num, sizeof(num), "%02d", tm.tm_mday);
            break;
        case S3_EL_HOUR:
            snprintf(num, sizeof(num), "%02d", tm.tm_hour);
            break;
        default: /* S3_EL_EXT */
            s = v->ext;
            break;
        }
        rc = dray_buf_add(out, s, strlen(s));
    }
    return rc;
}

/* ---- matching ---- */

struct match {
    const struct s3_template *t;
    const char *key;
    const char *table;
    size_t table_len;
    int64_t version;
    int64_t loaded_ms;
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int64_t number(const char *s, size_t n)
{
    int64_t v = 0;

    for (size_t i = 0; i < n && v < INT64_MAX / 10 - 10; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Backtracking over the elements: names may contain the text that
   follows them (a '.' in a table name), so every split is tried. */
static int match_from(struct match *m, size_t el, const char *s)
{
    int kind;
    size_t max;

    if (el == m->t->n)
        return *s == '\0';
    kind = m->t->el[el].kind;
    if (kind == S3_EL_TEXT) {
        size_t n = strlen(m->t->el[el].text);
        return strncmp(s, m->t->el[el].text, n) == 0 &&
               match_from(m, el + 1, s + n);
    }
    if (kind == S3_EL_EXT) {
        static const char *const exts[] = {"csv.gz", "jsonl.gz", "csv",
                                           "jsonl"};
        for (size_t i = 0; i < 4; i++) {
            size_t n = strlen(exts[i]);
            if (strncmp(s, exts[i], n) == 0 && match_from(m, el + 1, s + n))
                return 1;
        }
        return 0;
    }
    max = strlen(s);
    for (size_t n = 1; n <= max; n++) {
        if (kind != S3_EL_TABLE && kind != S3_EL_INTEGRATION &&
            !is_digit(s[n - 1]))
            break;
        if ((kind == S3_EL_TABLE || kind == S3_EL_INTEGRATION) &&
            s[n - 1] == '/')
            break;
        if (!match_from(m, el + 1, s + n))
            continue;
        if (kind == S3_EL_TABLE) {
            m->table = s;
            m->table_len = n;
        } else if (kind == S3_EL_VERSION) {
            m->version = number(s, n);
        } else if (kind == S3_EL_TIMESTAMP) {
            m->loaded_ms = number(s, n);
        }
        return 1;
    }
    return 0;
}

int s3_template_match(const struct s3_template *t, const char *key,
                      struct dray_buf *table, int64_t *version,
                      int64_t *loaded_ms)
{
    struct match m = {t, key, NULL, 0, 0, 0};

    if (!match_from(&m, 0, key) || m.table == NULL)
        return 0;
    dray_buf_reset(table);
    if (dray_buf_add(table, m.table, m.table_len) != 0)
        return 0;
    *version = m.version;
    *loaded_ms = m.loaded_ms;
    return 1;
}

/* Parsing and checking destination options against a plugin's table. */
#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dray/dray_abi.h"
#include "suggest.h"

const char *opt_type_name(int32_t type)
{
    switch (type) {
    case DRAY_OPT_STRING:
        return "string";
    case DRAY_OPT_INT:
        return "integer";
    case DRAY_OPT_BOOL:
        return "boolean";
    case DRAY_OPT_FLOAT:
        return "number";
    case DRAY_OPT_ENUM:
        return "enum";
    case DRAY_OPT_SIZE:
        return "size";
    case DRAY_OPT_DURATION:
        return "duration";
    }
    return "unknown";
}

/* Reads an unsigned decimal integer with overflow checks. */
static int parse_u64(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;

    if (!isdigit((unsigned char)*s))
        return -1;
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

struct unit {
    const char *name;
    uint64_t factor;
};

static const struct unit size_units[] = {
    {"", 1},
    {"b", 1},
    {"k", 1000},
    {"kb", 1000},
    {"kib", 1024},
    {"m", 1000 * 1000},
    {"mb", 1000 * 1000},
    {"mib", 1024 * 1024},
    {"g", 1000ull * 1000 * 1000},
    {"gb", 1000ull * 1000 * 1000},
    {"gib", 1024ull * 1024 * 1024},
    {"t", 1000ull * 1000 * 1000 * 1000},
    {"tb", 1000ull * 1000 * 1000 * 1000},
    {"tib", 1024ull * 1024 * 1024 * 1024},
};

static const struct unit duration_units[] = {
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
};

/* "<digits><unit>" with optional blanks between; the unit from table. */
static int parse_with_unit(const char *text, const struct unit *units,
                           size_t n_units, int unit_required, int64_t *out)
{
    const char *p = text;
    uint64_t n;

    while (*p == ' ')
        p++;
    if (parse_u64(&p, &n) != 0)
        return -1;
    while (*p == ' ')
        p++;
    size_t ulen = strlen(p);
    while (ulen > 0 && p[ulen - 1] == ' ')
        ulen--;
    if (ulen == 0 && unit_required && n != 0)
        return -1;
    for (size_t i = 0; i < n_units; i++) {
        if (strlen(units[i].name) != ulen ||
            strncasecmp(units[i].name, p, ulen) != 0)
            continue;
        if (units[i].factor != 0 && n > (uint64_t)INT64_MAX / units[i].factor)
            return -1;
        *out = (int64_t)(n * units[i].factor);
        return 0;
    }
    if (ulen == 0) {
        *out = (int64_t)(n > (uint64_t)INT64_MAX ? INT64_MAX : n);
        return n > (uint64_t)INT64_MAX ? -1 : 0;
    }
    return -1;
}

static int parse_bool(const char *text, int64_t *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int in_range(const struct opt_spec *spec, int64_t v)
{
    return spec->max <= spec->min || (v >= spec->min && v <= spec->max);
}

static void range_reason(const struct opt_spec *spec, struct strbuf *err)
{
    strbuf_addf(err, "must be between %lld and %lld", (long long)spec->min,
                (long long)spec->max);
    if (spec->type == DRAY_OPT_SIZE)
        strbuf_adds(err, " bytes");
    else if (spec->type == DRAY_OPT_DURATION)
        strbuf_adds(err, " milliseconds");
}

int opt_parse(const struct opt_spec *spec, const char *text,
              struct opt_value *out, struct strbuf *err)
{
    char *end;

    switch (spec->type) {
    case DRAY_OPT_STRING:
        return 0;
    case DRAY_OPT_INT: {
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno != 0 || end == text || *end != '\0' ||
            isspace((unsigned char)*text)) {
            strbuf_adds(err, "expected an integer");
            return -1;
        }
        if (!in_range(spec, v)) {
            range_reason(spec, err);
            return -1;
        }
        out->i64 = v;
        return 0;
    }
    case DRAY_OPT_BOOL:
        if (parse_bool(text, &out->i64) != 0) {
            strbuf_adds(err, "expected true or false");
            return -1;
        }
        return 0;
    case DRAY_OPT_FLOAT: {
        errno = 0;
        double v = strtod(text, &end);
        if (errno != 0 || end == text || *end != '\0' || !isfinite(v)) {
            strbuf_adds(err, "expected a number");
            return -1;
        }
        out->f64 = v;
        return 0;
    }
    case DRAY_OPT_ENUM:
        for (size_t i = 0; i < spec->n_enum_values; i++) {
            if (strcmp(text, spec->enum_values[i]) == 0)
                return 0;
        }
        strbuf_adds(err, "expected one of ");
        for (size_t i = 0; i < spec->n_enum_values; i++)
            strbuf_addf(err, "%s'%s'", i ? ", " : "", spec->enum_values[i]);
        return -1;
    case DRAY_OPT_SIZE:
        if (parse_with_unit(text, size_units,
                            sizeof(size_units) / sizeof(size_units[0]), 0,
                            &out->i64) != 0) {
            strbuf_adds(err, "expected a size such as 512KiB, 16MiB or 1GB");
            return -1;
        }
        if (!in_range(spec, out->i64)) {
            range_reason(spec, err);
            return -1;
        }
        return 0;
    case DRAY_OPT_DURATION:
        if (parse_with_unit(text, duration_units,
                            sizeof(duration_units) / sizeof(duration_units[0]),
                            1, &out->i64) != 0) {
            strbuf_adds(err, "expected a duration such as 250ms, 30s, 5m or "
                             "2h");
            return -1;
        }
        if (!in_range(spec, out->i64)) {
            range_reason(spec, err);
            return -1;
        }
        return 0;
    }
    strbuf_addf(err, "has type %d, which this host does not know",
                (int)spec->type);
    return -1;
}

void opt_add_location(struct strbuf *errors, const char *file,
                      struct config_mark mark)
{
    if (mark.line > 0)
        strbuf_addf(errors, "%s:%d:%d: ", file, mark.line, mark.column);
    else
        strbuf_addf(errors, "%s: ", file);
}

static const struct opt_spec *closest_spec(const struct opt_spec *specs,
                                           size_t n, const char *name)
{
    const struct opt_spec *best = NULL;
    size_t best_d = 3;

    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(name, specs[i].name);
        if (d < best_d) {
            best_d = d;
            best = &specs[i];
        }
    }
    return best;
}

/* A PATH option's relative value resolves against the config's folder. */
static char *resolve_path(const struct opt_spec *spec, const char *value,
                          const char *base_dir)
{
    if (!(spec->flags & DRAY_OPTF_PATH) || base_dir == NULL ||
        value[0] == '/' || value[0] == '\0')
        return xstrdup(value);
    if (strncmp(value, "./", 2) == 0)
        value += 2;
    return xasprintf("%s/%s", base_dir, value);
}

int opt_bind(const struct opt_spec *specs, size_t n_specs,
             const struct config_destination *dest, const char *file,
             const char *base_dir, struct opt_value **values,
             struct strbuf *errors)
{
    struct opt_value *vals = xcalloc(n_specs ? n_specs : 1, sizeof(*vals));
    struct strbuf reason = STRBUF_INIT;
    int problems = 0;

    for (size_t i = 0; i < n_specs; i++)
        vals[i].spec = &specs[i];

    for (size_t k = 0; k < dest->n_options; k++) {
        const struct config_option *o = &dest->options[k];
        size_t i;
        for (i = 0; i < n_specs; i++)
            if (strcmp(specs[i].name, o->name) == 0)
                break;
        if (i == n_specs) {
            const struct opt_spec *near = closest_spec(specs, n_specs, o->name);
            opt_add_location(errors, file, o->mark);
            strbuf_addf(errors,
                        "destination '%s': plugin '%s' has no option '%s'",
                        dest->name, dest->plugin, o->name);
            if (near)
                strbuf_addf(errors, "; did you mean '%s'?", near->name);
            else
                strbuf_addf(errors, "; 'dray plugins' lists its options");
            strbuf_addch(errors, '\n');
            problems++;
            continue;
        }
        strbuf_reset(&reason);
        if (opt_parse(&specs[i], o->value, &vals[i], &reason) != 0) {
            opt_add_location(errors, file, o->mark);
            strbuf_addf(errors, "destination '%s': option '%s' %s%s\n",
                        dest->name, o->name,
                        strncmp(reason.buf, "must", 4) == 0 ? "" : "is wrong: ",
                        reason.buf);
            problems++;
            continue;
        }
        vals[i].set = 1;
        vals[i].text = resolve_path(&specs[i], o->value, base_dir);
        vals[i].mark = o->mark;
    }

    for (size_t i = 0; i < n_specs; i++) {
        if (vals[i].set)
            continue;
        if (specs[i].default_value) {
            strbuf_reset(&reason);
            /* The loader checked defaults already; this cannot fail. */
            if (opt_parse(&specs[i], specs[i].default_value, &vals[i],
                          &reason) == 0) {
                vals[i].set = 1;
                vals[i].from_default = 1;
                vals[i].text =
                    resolve_path(&specs[i], specs[i].default_value, base_dir);
            }
        } else if (specs[i].flags & DRAY_OPTF_REQUIRED) {
            opt_add_location(errors, file, dest->mark);
            strbuf_addf(errors,
                        "destination '%s': plugin '%s' requires option '%s' "
                        "(%s)\n",
                        dest->name, dest->plugin, specs[i].name,
                        specs[i].description ? specs[i].description
                                             : opt_type_name(specs[i].type));
            problems++;
        }
    }
    strbuf_release(&reason);
    if (problems) {
        opt_values_free(vals, n_specs);
        *values = NULL;
        return problems;
    }
    *values = vals;
    return 0;
}

void opt_values_free(struct opt_value *values, size_t n)
{
    if (values == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(values[i].text);
    free(values);
}

#define MASK "********"

/* Masks the value of password-like keys in "k=v k='v v'" conninfo. */
static char *mask_keyvalue(const char *s)
{
    struct strbuf sb = STRBUF_INIT;
    const char *p = s;

    while (*p) {
        const char *key;
        size_t klen;

        while (isspace((unsigned char)*p))
            strbuf_addch(&sb, *p++);
        key = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        klen = (size_t)(p - key);
        strbuf_add(&sb, key, klen);
        while (isspace((unsigned char)*p))
            strbuf_addch(&sb, *p++);
        if (*p != '=')
            continue;
        strbuf_addch(&sb, *p++);
        while (isspace((unsigned char)*p))
            strbuf_addch(&sb, *p++);
        int secret = (klen == 8 && strncmp(key, "password", 8) == 0) ||
                     (klen == 11 && strncmp(key, "sslpassword", 11) == 0);
        const char *val = p;
        if (*p == '\'') {
            p++;
            while (*p && *p != '\'') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (*p == '\'')
                p++;
        } else {
            while (*p && !isspace((unsigned char)*p)) {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
        }
        if (secret)
            strbuf_adds(&sb, MASK);
        else
            strbuf_add(&sb, val, (size_t)(p - val));
    }
    return strbuf_detach(&sb);
}

/*
 * Masks the password of scheme://user:password@host/...?password=...
 * Passwords are often written unencoded, so the user info runs to the last
 * '@' of the whole string: a '/', '?' or '#' in a password must not end it.
 * That may mask too much of an odd query, never too little.
 */
static char *mask_uri(const char *s)
{
    struct strbuf sb = STRBUF_INIT;
    const char *auth = strstr(s, "://") + 3;
    const char *at = strrchr(auth, '@');
    const char *p = auth;

    strbuf_add(&sb, s, (size_t)(auth - s));
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        if (colon) {
            strbuf_add(&sb, auth, (size_t)(colon + 1 - auth));
            strbuf_adds(&sb, MASK);
        } else {
            strbuf_add(&sb, auth, (size_t)(at - auth));
        }
        p = at;
    }
    /* The rest, masking password= query parameters. */
    const char *query = strchr(p, '?');
    if (query == NULL) {
        strbuf_adds(&sb, p);
        return strbuf_detach(&sb);
    }
    strbuf_add(&sb, p, (size_t)(query + 1 - p));
    p = query + 1;
    while (*p) {
        size_t len = strcspn(p, "&#");
        if ((len >= 9 && strncmp(p, "password=", 9) == 0) ||
            (len >= 12 && strncmp(p, "sslpassword=", 12) == 0)) {
            const char *eq = strchr(p, '=');
            strbuf_add(&sb, p, (size_t)(eq + 1 - p));
            strbuf_adds(&sb, MASK);
        } else {
            strbuf_add(&sb, p, len);
        }
        p += len;
        if (*p == '&')
            strbuf_addch(&sb, *p++);
        else if (*p == '#') {
            strbuf_adds(&sb, p);
            break;
        }
    }
    return strbuf_detach(&sb);
}

char *opt_mask_conninfo(const char *conninfo)
{
    const char *scheme_end = strstr(conninfo, "://");

    if (scheme_end != NULL &&
        strcspn(conninfo, " =") > (size_t)(scheme_end - conninfo))
        return mask_uri(conninfo);
    return mask_keyvalue(conninfo);
}

char *opt_display(const struct opt_spec *spec, const char *text)
{
    if (spec->flags & DRAY_OPTF_SECRET)
        return xstrdup(MASK);
    if (spec->flags & DRAY_OPTF_CONNINFO)
        return opt_mask_conninfo(text);
    return xstrdup(text);
}

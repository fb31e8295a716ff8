/* dray plugins: what the search path holds, loaded or refused. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "options.h"
#include "plugin_loader.h"
#include "strbuf.h"

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* A secret option's default is a secret too. */
static json_t *default_json(const struct opt_spec *s)
{
    json_t *j;
    char *shown;

    if (s->default_value == NULL)
        return json_null();
    shown = opt_display(s, s->default_value);
    j = json_string(shown);
    free(shown);
    return j ? j : json_null();
}

static json_t *options_json(const struct plugin *p)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < p->n_options; i++) {
        const struct opt_spec *s = &p->options[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(s->name));
        json_object_set_new(o, "type", json_string(opt_type_name(s->type)));
        json_object_set_new(o, "required",
                            json_boolean(s->flags & DRAY_OPTF_REQUIRED));
        json_object_set_new(o, "secret",
                            json_boolean(s->flags & DRAY_OPTF_SECRET));
        json_object_set_new(o, "path", json_boolean(s->flags & DRAY_OPTF_PATH));
        json_object_set_new(o, "default", default_json(s));
        json_object_set_new(o, "description", json_str_or_null(s->description));
        if (s->n_enum_values) {
            json_t *vals = json_array();
            for (size_t k = 0; k < s->n_enum_values; k++)
                json_array_append_new(vals, json_string(s->enum_values[k]));
            json_object_set_new(o, "values", vals);
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static const char *const nest_names[] = {"flatten", "native", "document"};
static const char *const split_names[] = {"rename", "keep"};
static const char *const case_names[] = {"preserve", "lower", "upper"};

static json_t *enum_json(int32_t v, const char *const *names, size_t n)
{
    return v >= 0 && (size_t)v < n ? json_string(names[v]) : json_integer(v);
}

/* How the plugin shapes data: the conformance harness maps its expected
   rows through it (docs/HARNESS.md). */
static json_t *dialect_json(const struct plugin *p)
{
    const struct dray_dialect *d = &p->dialect;
    json_t *o = json_object();

    json_object_set_new(o, "type_map", json_str_or_null(p->type_map));
    json_object_set_new(o, "nesting", enum_json(d->nesting, nest_names, 3));
    json_object_set_new(o, "split_rule",
                        enum_json(d->split_rule, split_names, 2));
    json_object_set_new(o, "ident_case",
                        enum_json(d->ident_case, case_names, 3));
    json_object_set_new(o, "ident_max", json_integer(d->ident_max));
    json_object_set_new(
        o, "ident_unit",
        json_string(d->ident_unit == DRAY_IDENT_CHARS ? "chars" : "bytes"));
    json_object_set_new(o, "max_record_bytes",
                        json_integer(d->max_record_bytes));
    return o;
}

static json_t *capabilities_json(const struct plugin *p)
{
    json_t *arr = json_array();
    const char *names[64];
    size_t n = plugin_cap_names(p->caps, names, 64);

    if (p->status == PLUGIN_OK) {
        if (p->dialect.modes & DRAY_MODE_BIT(DRAY_MODE_UPSERT))
            json_array_append_new(arr, json_string("upsert"));
        if (p->dialect.modes & DRAY_MODE_BIT(DRAY_MODE_APPEND))
            json_array_append_new(arr, json_string("append"));
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(names[i]));
    return arr;
}

static void print_json(const struct plugin_set *set, int verbose)
{
    json_t *root = json_object(), *list = json_array(), *dirs = json_array();
    char *text;

    for (size_t i = 0; i < set->n; i++) {
        const struct plugin *p = &set->items[i];
        json_t *o = json_object();
        char abi[32];

        snprintf(abi, sizeof(abi), "%d.%d", p->abi_major, p->abi_minor);
        json_object_set_new(o, "name", json_str_or_null(p->name));
        json_object_set_new(o, "file", json_string(p->file));
        json_object_set_new(o, "abi",
                            p->abi_major ? json_string(abi) : json_null());
        json_object_set_new(o, "version", json_str_or_null(p->version));
        json_object_set_new(o, "capabilities", capabilities_json(p));
        json_object_set_new(
            o, "status",
            json_string(p->status == PLUGIN_OK ? "ok" : "refused"));
        json_object_set_new(o, "reason", json_str_or_null(p->reason));
        if (p->status == PLUGIN_OK)
            json_object_set_new(o, "dialect", dialect_json(p));
        if (verbose && p->status == PLUGIN_OK) {
            json_object_set_new(o, "description",
                                json_str_or_null(p->description));
            json_object_set_new(o, "options", options_json(p));
        }
        json_array_append_new(list, o);
    }
    for (size_t i = 0; i < set->n_dirs; i++)
        json_array_append_new(dirs, json_string(set->dirs[i]));
    json_object_set_new(root, "plugins", list);
    json_object_set_new(root, "search_path", dirs);
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
    json_decref(root);
}

static void print_options(const struct plugin *p)
{
    for (size_t i = 0; i < p->n_options; i++) {
        const struct opt_spec *s = &p->options[i];
        printf("    %-20s %-8s %s", s->name, opt_type_name(s->type),
               s->description ? s->description : "");
        if (s->flags & DRAY_OPTF_REQUIRED)
            printf(" (required)");
        if (s->default_value) {
            char *shown = opt_display(s, s->default_value);
            printf(" (default: %s)", shown);
            free(shown);
        }
        if (s->n_enum_values) {
            printf(" (one of:");
            for (size_t k = 0; k < s->n_enum_values; k++)
                printf(" %s", s->enum_values[k]);
            printf(")");
        }
        printf("\n");
    }
}

static void print_text(const struct plugin_set *set, int verbose)
{
    if (set->n == 0) {
        printf("no plugins found in:");
        for (size_t i = 0; i < set->n_dirs; i++)
            printf(" %s", set->dirs[i]);
        printf("\n");
        return;
    }
    printf("%-16s %-10s %-4s %-8s %s\n", "NAME", "VERSION", "ABI", "STATUS",
           "FILE");
    for (size_t i = 0; i < set->n; i++) {
        const struct plugin *p = &set->items[i];
        char abi[32] = "-";

        if (p->abi_major)
            snprintf(abi, sizeof(abi), "%d.%d", p->abi_major, p->abi_minor);
        printf("%-16s %-10s %-4s %-8s %s\n", p->name ? p->name : "-",
               p->version ? p->version : "-", abi,
               p->status == PLUGIN_OK ? "ok" : "refused", p->file);
        if (p->status != PLUGIN_OK)
            printf("    refused: %s\n", p->reason);
        else if (verbose)
            print_options(p);
    }
}

int cmd_plugins(int argc, char **argv)
{
    const struct command *self = cli_find_command("plugins");
    struct common_opts o;
    struct config cfg = {0};
    struct plugin_set set = {0};
    int have;
    int rc = cli_parse_common(self, argc, argv, "c,json,verbose", &o);

    if (rc == -2)
        return EXITCODE_OK;
    if (rc != 0)
        return EXITCODE_USAGE;
    have = cli_load_config(o.config, 0, &cfg);
    if (have < 0)
        return EXITCODE_CONFIG;
    plugins_set_search_path(&set, have ? &cfg : NULL);
    plugins_discover(&set);
    if (o.json)
        print_json(&set, o.verbose);
    else
        print_text(&set, o.verbose);
    plugins_release(&set);
    config_release(&cfg);
    return EXITCODE_OK;
}

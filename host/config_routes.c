/*
 * config_routes.c - the 'routes' section of the operator config: each
 * route's integration name and the destinations it lists, checked against
 * the destinations config.c has loaded.
 *
 * As in config.c, messages quote keys and names but never option values.
 */
#include "config_internal.h"
#include "suggest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many defined destinations a message lists before "and N more". */
#define LIST_MAX 8

static const char *const route_keys[] = {"integration", "destinations", NULL};

int config_is_integration_name(const char *s)
{
    if (s[0] == '\0')
        return 0;
    return s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789_.-")] == '\0';
}

static int compare_to_name(const void *key, const void *elem)
{
    return strcmp(key, ((const struct config_name *)elem)->name);
}

static int unknown_destination(struct loader *L, yaml_node_t *node, size_t pos,
                               const struct config_route *r, const char *name)
{
    const struct config *cfg = L->cfg;
    const char **names;
    const char *guess;
    struct config_shown shown;
    char list[512];
    int rc;

    if (cfg->n_destinations == 0)
        return config_fail(&L->file, config_mark_of(node),
                           "route %zu ('%s') names destination '%s', but no "
                           "destinations are defined; add it under "
                           "'destinations'",
                           pos, r->integration, config_show(&shown, name));
    names = calloc(cfg->n_destinations, sizeof(*names));
    if (names == NULL)
        return config_oom(L);
    for (size_t i = 0; i < cfg->n_destinations; i++)
        names[i] = cfg->destinations[i].name;
    guess = suggest_closest(name, names, cfg->n_destinations);
    if (guess != NULL)
        snprintf(list, sizeof(list), "did you mean '%s'?", guess);
    else {
        int w = snprintf(list, sizeof(list), "defined destinations are ");
        config_join_names(list + w, sizeof(list) - (size_t)w, names,
                          cfg->n_destinations, LIST_MAX);
    }
    rc = config_fail(&L->file, config_mark_of(node),
                     "route %zu ('%s') names destination '%s', which is not "
                     "defined; %s",
                     pos, r->integration, config_show(&shown, name), list);
    free(names);
    return rc;
}

static int load_route_destinations(struct loader *L, yaml_node_t *list,
                                   size_t pos, struct config_route *r)
{
    char what[128];
    size_t n;

    if (list == NULL)
        return config_fail(&L->file, r->mark,
                           "route %zu ('%s') has no 'destinations'; add a "
                           "list, e.g. 'destinations: [warehouse]'",
                           pos, r->integration);
    if (list->type != YAML_SEQUENCE_NODE && !config_is_null(list))
        return config_fail(&L->file, config_mark_of(list),
                           "'destinations' of route %zu ('%s') must be a "
                           "list of destination names, not %s; write it as "
                           "[name]",
                           pos, r->integration, config_kind(list));
    n = config_is_null(list) ? 0 : config_n_items(list);
    if (n == 0)
        return config_fail(&L->file, config_mark_of(list),
                           "route %zu ('%s') lists no destinations; name at "
                           "least one, e.g. 'destinations: [warehouse]'",
                           pos, r->integration);
    r->destinations = calloc(n, sizeof(*r->destinations));
    if (r->destinations == NULL)
        return config_oom(L);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *node = config_item(L, list, i);
        const struct config_name *found;
        char **name = &r->destinations[i];

        snprintf(what, sizeof(what), "item %zu of 'destinations' in route %zu",
                 i + 1, pos);
        r->n_destinations = i + 1;
        if (config_scalar(&L->file, node, what, name) < 0)
            return -1;
        found = L->cfg->n_destinations == 0
                    ? NULL
                    : bsearch(*name, L->by_name, L->cfg->n_destinations,
                              sizeof(*L->by_name), compare_to_name);
        if (found == NULL)
            return unknown_destination(L, node, pos, r, *name);
        /* Positions are 1-based, so 0 means "not named by any route". */
        if (L->listed_in[found->index] == pos)
            return config_fail(&L->file, config_mark_of(node),
                               "route %zu ('%s') names destination '%s' "
                               "twice; remove one",
                               pos, r->integration, *name);
        L->listed_in[found->index] = pos;
    }
    return 0;
}

static int load_route(struct loader *L, yaml_node_t *node, size_t pos,
                      struct config_route *r)
{
    yaml_node_t *integration;
    char where[32], what[64];
    struct config_shown shown;

    r->mark = config_mark_of(node);
    if (node->type != YAML_MAPPING_NODE)
        return config_fail(&L->file, r->mark,
                           "route %zu must be a mapping with 'integration' "
                           "and 'destinations', not %s",
                           pos, config_kind(node));
    snprintf(where, sizeof(where), "in route %zu", pos);
    if (config_check_keys(&L->file, node, route_keys, where) < 0)
        return -1;
    integration = config_map_get(&L->file, node, "integration");
    if (integration == NULL)
        return config_fail(&L->file, r->mark,
                           "route %zu has no 'integration'; add one, e.g. "
                           "'integration: shop'",
                           pos);
    snprintf(what, sizeof(what), "'integration' of route %zu", pos);
    if (config_scalar(&L->file, integration, what, &r->integration) < 0)
        return -1;
    if (r->integration[0] == '\0')
        return config_fail(&L->file, config_mark_of(integration),
                           "%s is empty; give the integration's name", what);
    if (!config_is_integration_name(r->integration))
        return config_fail(&L->file, config_mark_of(integration),
                           "integration name '%s' in route %zu is not valid; "
                           "use letters, digits, '_', '.' and '-'",
                           config_show(&shown, r->integration), pos);
    return load_route_destinations(
        L, config_map_get(&L->file, node, "destinations"), pos, r);
}

int config_load_routes(struct loader *L, yaml_node_t *list)
{
    struct config *cfg = L->cfg;
    struct config_name *names;
    size_t n, first, second;
    int rc = 0;

    if (list == NULL || config_is_null(list))
        return 0;
    if (list->type != YAML_SEQUENCE_NODE)
        return config_fail(&L->file, config_mark_of(list),
                           "'routes' must be a list of routes, not %s; start "
                           "each one with '- integration: ...'",
                           config_kind(list));
    n = config_n_items(list);
    cfg->routes = calloc(n ? n : 1, sizeof(*cfg->routes));
    names = calloc(n ? n : 1, sizeof(*names));
    if (cfg->routes == NULL || names == NULL) {
        free(names);
        return config_oom(L);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        cfg->n_routes = i + 1;
        rc = load_route(L, config_item(L, list, i), i + 1, &cfg->routes[i]);
        names[i].name = cfg->routes[i].integration;
        names[i].index = i;
    }
    if (rc == 0 && config_sort_names(names, n, &first, &second)) {
        const struct config_route *was = &cfg->routes[first];

        rc = config_fail(&L->file, cfg->routes[second].mark,
                         "route %zu repeats integration '%s' of route %zu "
                         "(line %d, column %d); merge their destination "
                         "lists into one route",
                         second + 1, was->integration, first + 1,
                         was->mark.line, was->mark.column);
    }
    free(names);
    return rc;
}

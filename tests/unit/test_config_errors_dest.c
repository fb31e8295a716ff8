/*
 * test_config_errors_dest.c - config_load: the error rules of
 * destinations, their options and routes, each with its message and
 * position, as one table. The other rules are in test_config_errors.c.
 *
 * Each case writes its YAML to a file in a fresh folder under /tmp.
 */
#include "config_test_util.h"

#include "config.h"

static const struct error_case error_cases[] = {
    /* destinations. */
    {"destinations mapping",
     "destinations:\n  warehouse: {plugin: p}\n",
     {NULL},
     "2:3: 'destinations' must be a list of destinations, not a mapping; "
     "start each one with '- name: ...'"},
    {"destinations scalar",
     "destinations: warehouse\n",
     {NULL},
     "1:15: 'destinations' must be a list of destinations, not a single "
     "value; start each one with '- name: ...'"},
    {"destination scalar",
     "destinations:\n  - warehouse\n",
     {NULL},
     "2:5: destination 1 must be a mapping with 'name' and 'plugin', not a "
     "single value"},
    {"destination list",
     "destinations:\n  - [a, b]\n",
     {NULL},
     "2:5: destination 1 must be a mapping with 'name' and 'plugin', not a "
     "list"},
    {"missing name",
     "destinations:\n  - name: a\n    plugin: p\n  - plugin: q\n",
     {NULL},
     "4:5: destination 2 has no 'name'; add one, e.g. 'name: warehouse'"},
    {"missing plugin",
     "destinations:\n  - name: a\n",
     {NULL},
     "2:5: destination 1 ('a') has no 'plugin'; add one, e.g. 'plugin: "
     "postgres'"},
    {"name null",
     "destinations:\n  - name:\n    plugin: p\n",
     {NULL},
     "2:10: 'name' of destination 1 has no value; give one, or remove the "
     "line"},
    {"name list",
     "destinations:\n  - {name: [a], plugin: p}\n",
     {NULL},
     "2:12: 'name' of destination 1 must be a single value, not a list; "
     "quote it if it is meant as text"},
    {"name bad characters",
     "destinations:\n  - {name: Ware-house, plugin: p}\n",
     {NULL},
     "2:12: destination name 'Ware-house' is not valid; use 1 to 63 "
     "characters from a-z, 0-9 and '_', starting with a letter"},
    {"name starts with a digit",
     "destinations:\n  - {name: 1a, plugin: p}\n",
     {NULL},
     "2:12: destination name '1a' is not valid; use 1 to 63 characters from "
     "a-z, 0-9 and '_', starting with a letter"},
    {"name empty",
     "destinations:\n  - {name: '', plugin: p}\n",
     {NULL},
     "2:12: destination name '' is not valid; use 1 to 63 characters from "
     "a-z, 0-9 and '_', starting with a letter"},
    {"name of 63",
     "destinations:\n  - {name: " NAME_63 ", plugin: p}\n",
     {NULL},
     NULL},
    {"name of 64",
     "destinations:\n  - {name: " NAME_63 "b, plugin: p}\n",
     {NULL},
     "2:12: destination name '" NAME_63 "b' is not valid; use 1 to 63 "
     "characters from a-z, 0-9 and '_', starting with a letter"},
    {"name with a newline",
     "destinations:\n  - {name: \"a\\nb\", plugin: p}\n",
     {NULL},
     "2:12: destination name 'a?b' is not valid; use 1 to 63 characters "
     "from a-z, 0-9 and '_', starting with a letter"},
    {"name from env",
     "destinations:\n  - {name: '${DRAY_T_N}', plugin: p}\n",
     {"DRAY_T_N=Big"},
     "2:12: destination name 'Big' is not valid; use 1 to 63 characters "
     "from a-z, 0-9 and '_', starting with a letter"},
    {"plugin bad",
     "destinations:\n  - {name: a, plugin: Postgres}\n",
     {NULL},
     "2:23: plugin name 'Postgres' of destination 'a' is not valid; plugin "
     "names use a-z, 0-9 and '_', starting with a letter"},
    {"plugin mapping",
     "destinations:\n  - {name: a, plugin: {x: y}}\n",
     {NULL},
     "2:23: 'plugin' of destination 'a' must be a single value, not a "
     "mapping; quote it if it is meant as text"},
    {"duplicate names",
     "destinations:\n  - {name: a, plugin: p}\n  - {name: b, plugin: p}\n"
     "  - {name: a, plugin: q}\n",
     {NULL},
     "4:5: destination 3 has the same name 'a' as destination 1 (line 2, "
     "column 5); names must be unique"},
    {"mode unknown",
     "destinations:\n  - {name: a, plugin: p, mode: merge}\n",
     {NULL},
     "2:32: 'mode' of destination 'a' must be 'upsert' or 'append'"},
    {"mode capitalised",
     "destinations:\n  - {name: a, plugin: p, mode: Upsert}\n",
     {NULL},
     "2:32: 'mode' of destination 'a' must be 'upsert' or 'append'"},
    {"mode null",
     "destinations:\n  - name: a\n    plugin: p\n    mode: ~\n",
     {NULL},
     "4:11: 'mode' of destination 'a' has no value; give one, or remove the "
     "line"},
    {"mode list",
     "destinations:\n  - {name: a, plugin: p, mode: [upsert]}\n",
     {NULL},
     "2:32: 'mode' of destination 'a' must be a single value, not a list; "
     "quote it if it is meant as text"},

    /* options. */
    {"options scalar",
     "destinations:\n  - {name: a, plugin: p, options: x}\n",
     {NULL},
     "2:35: 'options' of destination 'a' must be a mapping of option names "
     "to values, not a single value"},
    {"options list",
     "destinations:\n  - {name: a, plugin: p, options: [x]}\n",
     {NULL},
     "2:35: 'options' of destination 'a' must be a mapping of option names "
     "to values, not a list"},
    {"option list value",
     "destinations:\n  - name: a\n    plugin: p\n    options:\n"
     "      hosts: [h1, h2]\n",
     {NULL},
     "5:14: option 'hosts' of destination 'a' must be a single value, not a "
     "list; quote it if it is meant as text"},
    {"option mapping value",
     "destinations:\n  - name: a\n    plugin: p\n    options:\n"
     "      tls: {ca: hunter2}\n",
     {NULL},
     "5:12: option 'tls' of destination 'a' must be a single value, not a "
     "mapping; quote it if it is meant as text"},
    {"option block mapping value",
     "destinations:\n  - name: a\n    plugin: p\n    options:\n"
     "      tls:\n        ca: hunter2\n",
     {NULL},
     "6:9: option 'tls' of destination 'a' must be a single value, not a "
     "mapping; quote it if it is meant as text"},
    {"option without value",
     "destinations:\n  - name: a\n    plugin: p\n    options:\n"
     "      schema:\n      table: t\n",
     {NULL},
     "5:14: option 'schema' of destination 'a' has no value; give one, or "
     "remove the line"},
    {"option tilde",
     "destinations:\n  - name: a\n    plugin: p\n    options:\n"
     "      schema: ~\n",
     {NULL},
     "5:15: option 'schema' of destination 'a' has no value; give one, or "
     "remove the line"},
    {"option null",
     "destinations:\n  - name: a\n    plugin: p\n    options:\n"
     "      schema: null\n",
     {NULL},
     "5:15: option 'schema' of destination 'a' has no value; give one, or "
     "remove the line"},
    {"option tagged null",
     "destinations:\n  - name: a\n    plugin: p\n    options:\n"
     "      schema: !!null ''\n",
     {NULL},
     "5:15: option 'schema' of destination 'a' has no value; give one, or "
     "remove the line"},
    {"option empty name",
     "destinations:\n  - {name: a, plugin: p, options: {'': x}}\n",
     {NULL},
     "2:36: an option of destination 'a' has an empty name; name it or "
     "remove it"},
    {"option NUL in value",
     "destinations:\n  - {name: a, plugin: p, options: {pw: \"hunter2\\0\"}}\n",
     {NULL},
     "2:40: option 'pw' of destination 'a' holds a NUL character; remove "
     "it"},
    {"error after unicode",
     "destinations:\n  - name: a\n    plugin: p\n"
     "    options: {u: \"\xc3\xbc\xe2\x98\x83\", b: [1]}\n",
     {NULL},
     "4:27: option 'b' of destination 'a' must be a single value, not a "
     "list; quote it if it is meant as text"},
    {"options null is none",
     "destinations:\n  - name: a\n    plugin: p\n    options:\n",
     {NULL},
     NULL},

    /* routes. */
    {"routes scalar",
     "routes: shop\n",
     {NULL},
     "1:9: 'routes' must be a list of routes, not a single value; start each "
     "one with '- integration: ...'"},
    {"routes mapping",
     "routes: {shop: [a]}\n",
     {NULL},
     "1:9: 'routes' must be a list of routes, not a mapping; start each one "
     "with '- integration: ...'"},
    {"route scalar",
     DEST_A "routes:\n  - shop\n",
     {NULL},
     "4:5: route 1 must be a mapping with 'integration' and 'destinations', "
     "not a single value"},
    {"route missing integration",
     DEST_A "routes:\n  - destinations: [a]\n",
     {NULL},
     "4:5: route 1 has no 'integration'; add one, e.g. 'integration: shop'"},
    {"route integration bad",
     DEST_A "routes:\n  - {integration: shop floor, destinations: [a]}\n",
     {NULL},
     "4:19: integration name 'shop floor' in route 1 is not valid; use "
     "letters, digits, '_', '.' and '-'"},
    {"route integration empty",
     DEST_A "routes:\n  - {integration: '', destinations: [a]}\n",
     {NULL},
     "4:19: 'integration' of route 1 is empty; give the integration's name"},
    {"route integration null",
     DEST_A "routes:\n  - {integration: ~, destinations: [a]}\n",
     {NULL},
     "4:19: 'integration' of route 1 has no value; give one, or remove the "
     "line"},
    {"route integration allowed characters",
     DEST_A "routes:\n  - {integration: Shop.EU-2_x, destinations: [a]}\n",
     {NULL},
     NULL},
    {"route missing destinations",
     DEST_A "routes:\n  - {integration: shop}\n",
     {NULL},
     "4:5: route 1 ('shop') has no 'destinations'; add a list, e.g. "
     "'destinations: [warehouse]'"},
    {"route destinations scalar",
     DEST_A "routes:\n  - {integration: shop, destinations: a}\n",
     {NULL},
     "4:39: 'destinations' of route 1 ('shop') must be a list of destination "
     "names, not a single value; write it as [name]"},
    {"route destinations empty",
     DEST_A "routes:\n  - {integration: shop, destinations: []}\n",
     {NULL},
     "4:39: route 1 ('shop') lists no destinations; name at least one, e.g. "
     "'destinations: [warehouse]'"},
    {"route destinations null",
     DEST_A "routes:\n  - integration: shop\n    destinations:\n",
     {NULL},
     "5:18: route 1 ('shop') lists no destinations; name at least one, e.g. "
     "'destinations: [warehouse]'"},
    {"route destination item list",
     DEST_A "routes:\n  - {integration: shop, destinations: [[a]]}\n",
     {NULL},
     "4:40: item 1 of 'destinations' in route 1 must be a single value, not "
     "a list; quote it if it is meant as text"},
    {"route to unknown, close",
     "destinations:\n  - {name: warehouse, plugin: p}\n"
     "  - {name: lake, plugin: p}\n"
     "routes:\n  - {integration: shop, destinations: [lake, warehous]}\n",
     {NULL},
     "5:46: route 1 ('shop') names destination 'warehous', which is not "
     "defined; did you mean 'warehouse'?"},
    {"route to unknown, far",
     "destinations:\n  - {name: warehouse, plugin: p}\n"
     "  - {name: lake, plugin: p}\n"
     "routes:\n  - {integration: shop, destinations: [s3]}\n",
     {NULL},
     "5:40: route 1 ('shop') names destination 's3', which is not defined; "
     "defined destinations are 'warehouse', 'lake'"},
    {"route to unknown, none defined",
     "routes:\n  - {integration: shop, destinations: [lake]}\n",
     {NULL},
     "2:40: route 1 ('shop') names destination 'lake', but no destinations "
     "are defined; add it under 'destinations'"},
    {"route names a destination twice",
     DEST_A "routes:\n  - {integration: shop, destinations: [a, a]}\n",
     {NULL},
     "4:43: route 1 ('shop') names destination 'a' twice; remove one"},
    {"duplicate integration",
     DEST_A "routes:\n  - {integration: shop, destinations: [a]}\n"
            "  - {integration: crm, destinations: [a]}\n"
            "  - {integration: shop, destinations: [a]}\n",
     {NULL},
     "6:5: route 3 repeats integration 'shop' of route 1 (line 4, column 5); "
     "merge their destination lists into one route"},
    {"one destination in many routes",
     DEST_A "routes:\n  - {integration: shop, destinations: [a]}\n"
            "  - {integration: crm, destinations: [a]}\n",
     {NULL},
     NULL},
};

static void test_errors(void)
{
    expect_cases(error_cases, sizeof(error_cases) / sizeof(error_cases[0]));
}

UNIT_MAIN(UNIT_CASE(test_errors))

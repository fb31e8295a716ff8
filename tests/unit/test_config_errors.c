/*
 * test_config_errors.c - config_load: the error rules of keys, the top
 * level, spool and plugin_path, the gate's settings (spool limits, batch,
 * integrations) and ${VAR} expansion, each with its message and position,
 * as one table. Destinations, options and routes are in
 * test_config_errors_dest.c.
 *
 * Each case writes its YAML to a file in a fresh folder under /tmp.
 */
#include "config_test_util.h"

#include "config.h"

static const struct error_case error_cases[] = {
    /* Keys. */
    {"top-level typo",
     "spool: {path: ./spool}\ndestinatons: []\n",
     {NULL},
     "2:1: unknown key 'destinatons' at the top level; did you mean "
     "'destinations'?"},
    {"top-level unknown",
     "colour: blue\n",
     {NULL},
     "1:1: unknown key 'colour' at the top level; valid keys are 'spool', "
     "'plugin_path', 'destinations', 'routes', 'batch', 'integrations', 'run', "
     "'target'"},
    {"spool typo",
     "spool: {path: ./s, pth: x}\n",
     {NULL},
     "1:20: unknown key 'pth' in 'spool'; did you mean 'path'?"},
    {"spool unknown",
     "spool:\n  folder: x\n",
     {NULL},
     "2:3: unknown key 'folder' in 'spool'; valid keys are 'path', "
     "'max_bytes', 'on_full', 'keep_loaded'"},
    {"destination typo",
     "destinations:\n  - name: a\n    plugin: p\n    optoins: {}\n",
     {NULL},
     "4:5: unknown key 'optoins' in destination 1; did you mean 'options'?"},
    {"destination unknown",
     "destinations:\n  - name: a\n    plugin: p\n    schedule: hourly\n",
     {NULL},
     "4:5: unknown key 'schedule' in destination 1; valid keys are 'name', "
     "'plugin', 'mode', 'namespace', 'options'"},
    {"route unknown",
     DEST_A "routes:\n  - {integration: shop, destinations: [a], priority: "
            "1}\n",
     {NULL},
     "4:44: unknown key 'priority' in route 1; valid keys are 'integration', "
     "'destinations'"},
    {"route typo",
     DEST_A "routes:\n  - {integration: shop, destination: [a]}\n",
     {NULL},
     "4:25: unknown key 'destination' in route 1; did you mean "
     "'destinations'?"},
    {"duplicate top-level key",
     "destinations: []\nspool: {path: a}\ndestinations: []\n",
     {NULL},
     "3:1: key 'destinations' appears twice at the top level (first at line "
     "1, column 1); keep one of them"},
    {"duplicate destination key",
     "destinations:\n  - name: a\n    plugin: p\n    name: b\n",
     {NULL},
     "4:5: key 'name' appears twice in destination 1 (first at line 2, "
     "column 5); keep one of them"},
    {"duplicate option",
     "destinations:\n  - name: a\n    plugin: p\n    options:\n"
     "      dsn: x\n      dsn: y\n",
     {NULL},
     "6:7: key 'dsn' appears twice in the options of destination 'a' (first "
     "at line 5, column 7); keep one of them"},
    {"duplicate spool key",
     "spool: {path: a, path: b}\n",
     {NULL},
     "1:18: key 'path' appears twice in 'spool' (first at line 1, column 9); "
     "keep one of them"},
    {"duplicate route key",
     DEST_A "routes:\n  - {integration: a, integration: b}\n",
     {NULL},
     "4:22: key 'integration' appears twice in route 1 (first at line 4, "
     "column 6); keep one of them"},
    {"list as key",
     "? [a, b]\n: c\n",
     {NULL},
     "1:3: a key at the top level is a list; keys must be plain names"},

    /* Top level and documents. */
    {"top level list",
     "- a\n- b\n",
     {NULL},
     "1:1: the top level is a list, but must be a mapping of settings "
     "(spool, plugin_path, destinations, routes); see "
     "examples/quickstart/dray.yml"},
    {"top level scalar",
     "hello\n",
     {NULL},
     "1:1: the top level is a single value, but must be a mapping of "
     "settings (spool, plugin_path, destinations, routes); see "
     "examples/quickstart/dray.yml"},
    {"empty file",
     "",
     {NULL},
     " the file is empty; start from examples/quickstart/dray.yml"},
    {"only comments",
     "# nothing\n\n   # here\n",
     {NULL},
     " the file is empty; start from examples/quickstart/dray.yml"},
    {"only a document marker",
     "---\n",
     {NULL},
     " the file is empty; start from examples/quickstart/dray.yml"},
    {"two documents",
     "destinations: []\n---\nroutes: []\n",
     {NULL},
     "2:1: a second YAML document starts here; keep everything in one "
     "document (remove the '---' line)"},
    {"two documents, first marked",
     "---\nspool: {}\n---\nroutes: []\n",
     {NULL},
     "3:1: a second YAML document starts here; keep everything in one "
     "document (remove the '---' line)"},

    /* spool and plugin_path. */
    {"spool scalar",
     "spool: ./spool\n",
     {NULL},
     "1:8: 'spool' must be a mapping like {path: ./spool}, not a single "
     "value"},
    {"spool list",
     "spool: [a]\n",
     {NULL},
     "1:8: 'spool' must be a mapping like {path: ./spool}, not a list"},
    {"spool path list",
     "spool: {path: [a]}\n",
     {NULL},
     "1:15: 'path' in 'spool' must be a single value, not a list; quote it "
     "if it is meant as text"},
    {"spool path empty",
     "spool: {path: \"\"}\n",
     {NULL},
     "1:15: 'path' in 'spool' is empty; give a folder, e.g. ./spool"},
    {"spool path null",
     "spool:\n  path:\n",
     {NULL},
     "2:8: 'path' in 'spool' has no value; give one, or remove the line"},

    /* The gate's settings: spool limits, batch, integrations. */
    {"spool max_bytes not a size",
     "spool: {max_bytes: lots}\n",
     {NULL},
     "1:20: 'max_bytes' in 'spool' is wrong: expected a size such as 512KiB, "
     "16MiB or 1GB"},
    {"spool max_bytes negative",
     "spool: {max_bytes: -1}\n",
     {NULL},
     "1:20: 'max_bytes' in 'spool' is wrong: expected a size such as 512KiB, "
     "16MiB or 1GB"},
    {"spool max_bytes zero", "spool: {max_bytes: 0}\n", {NULL}, NULL},
    {"spool max_bytes from env",
     "spool: {max_bytes: '${DRAY_T_SIZE}'}\n",
     {"DRAY_T_SIZE=2GiB"},
     NULL},
    {"spool on_full unknown",
     "spool: {on_full: drop}\n",
     {NULL},
     "1:18: 'on_full' in 'spool' must be 'wait' or 'fail'"},
    {"spool on_full list",
     "spool: {on_full: [wait]}\n",
     {NULL},
     "1:18: 'on_full' in 'spool' must be a single value, not a list; quote "
     "it if it is meant as text"},
    {"batch scalar",
     "batch: 64MiB\n",
     {NULL},
     "1:8: 'batch' must be a mapping like {max_bytes: 64MiB, max_records: "
     "1000000, max_age: 5m}, not a single value"},
    {"batch typo",
     "batch: {max_recods: 5}\n",
     {NULL},
     "1:9: unknown key 'max_recods' in 'batch'; did you mean "
     "'max_records'?"},
    {"batch unknown",
     "batch:\n  compress: yes\n",
     {NULL},
     "2:3: unknown key 'compress' in 'batch'; valid keys are 'max_bytes', "
     "'max_records', 'max_age'"},
    {"batch max_bytes zero",
     "batch: {max_bytes: 0}\n",
     {NULL},
     "1:20: 'max_bytes' in 'batch' must be more than 0; remove it for the "
     "default"},
    {"batch max_records not a number",
     "batch: {max_records: 1e6}\n",
     {NULL},
     "1:22: 'max_records' in 'batch' is wrong: expected an integer"},
    {"batch max_records zero",
     "batch: {max_records: 0}\n",
     {NULL},
     "1:22: 'max_records' in 'batch' must be more than 0; remove it for the "
     "default"},
    {"batch max_age without unit",
     "batch: {max_age: 30}\n",
     {NULL},
     "1:18: 'max_age' in 'batch' is wrong: expected a duration such as "
     "250ms, 30s, 5m or 2h"},
    {"batch max_age zero",
     "batch: {max_age: 0s}\n",
     {NULL},
     "1:18: 'max_age' in 'batch' must be more than 0; remove it for the "
     "default"},
    {"batch max_age null",
     "batch:\n  max_age:\n",
     {NULL},
     "2:11: 'max_age' in 'batch' has no value; give one, or remove the line"},
    {"integrations list",
     "integrations: [shop]\n",
     {NULL},
     "1:15: 'integrations' must be a mapping of integration names to "
     "settings, e.g. 'shop: {on_invalid: reject}', not a list"},
    {"integration bad name",
     "integrations:\n  'my shop': {on_invalid: split}\n",
     {NULL},
     "2:3: integration name 'my shop' in 'integrations' is not valid; use "
     "letters, digits, '_', '.' and '-'"},
    {"integration scalar",
     "integrations:\n  shop: reject\n",
     {NULL},
     "2:9: integration 'shop' must be a mapping like {on_invalid: split}, "
     "not a single value"},
    {"integration typo",
     "integrations:\n  shop: {on_invalide: reject}\n",
     {NULL},
     "2:10: unknown key 'on_invalide' in integration 'shop'; did you mean "
     "'on_invalid'?"},
    {"integration on_invalid unknown",
     "integrations:\n  shop: {on_invalid: drop}\n",
     {NULL},
     "2:22: 'on_invalid' of integration 'shop' must be 'split', 'reject' or "
     "'fail'"},
    {"integration twice",
     "integrations:\n  shop: {}\n  shop: {on_invalid: fail}\n",
     {NULL},
     "3:3: key 'shop' appears twice in 'integrations' (first at line 2, "
     "column 3); keep one of them"},
    {"integration empty", "integrations:\n  shop:\n", {NULL}, NULL},
    {"plugin_path scalar",
     "plugin_path: extra\n",
     {NULL},
     "1:14: 'plugin_path' must be a list of folders, not a single value; "
     "write it as [dir] or as '- dir' lines"},
    {"plugin_path mapping",
     "plugin_path: {a: b}\n",
     {NULL},
     "1:14: 'plugin_path' must be a list of folders, not a mapping; write it "
     "as [dir] or as '- dir' lines"},
    {"plugin_path item mapping",
     "plugin_path:\n  - a\n  - {b: c}\n",
     {NULL},
     "3:5: item 2 of 'plugin_path' must be a single value, not a mapping; "
     "quote it if it is meant as text"},
    {"plugin_path item empty",
     "plugin_path: [a, '']\n",
     {NULL},
     "1:18: item 2 of 'plugin_path' is empty; give a folder"},
    {"plugin_path item null",
     "plugin_path:\n  - a\n  - ~\n",
     {NULL},
     "3:5: item 2 of 'plugin_path' has no value; give one, or remove the "
     "line"},

    /* Environment. */
    {"env unset",
     "destinations:\n  - name: warehouse\n    plugin: postgres\n"
     "    options: {dsn: \"${WAREHOUSE_DSN}\"}\n",
     {"WAREHOUSE_DSN"},
     "4:20: environment variable 'WAREHOUSE_DSN' is not set; set it, or give "
     "a default with ${WAREHOUSE_DSN:-value}"},
    {"env unset mid-value",
     "destinations:\n  - name: a\n    plugin: p\n"
     "    options: {pw: 'hunter2${DRAY_T_A}'}\n",
     {"DRAY_T_A"},
     "4:19: environment variable 'DRAY_T_A' is not set; set it, or give a "
     "default with ${DRAY_T_A:-value}"},
    {"env unclosed",
     "destinations:\n  - {name: a, plugin: p, options: {pw: 'hunter2${A'}}\n",
     {NULL},
     "2:40: a '${' in this value is not closed; add the '}', or write '$${' "
     "for a literal '${'"},
    {"env empty name",
     "destinations:\n  - {name: a, plugin: p, options: {pw: 'hunter2${}'}}\n",
     {NULL},
     "2:40: a '${...}' in this value does not hold a variable name; names "
     "use A-Z, a-z, 0-9 and '_' and do not start with a digit (write '$${' "
     "for a literal '${')"},
    {"env digit name",
     "destinations:\n  - {name: a, plugin: p, options: {pw: '${1A}'}}\n",
     {NULL},
     "2:40: a '${...}' in this value does not hold a variable name; names "
     "use A-Z, a-z, 0-9 and '_' and do not start with a digit (write '$${' "
     "for a literal '${')"},
    {"env space in name",
     "destinations:\n  - {name: a, plugin: p, options: {pw: '${A B}'}}\n",
     {NULL},
     "2:40: a '${...}' in this value is malformed; write ${NAME} or "
     "${NAME:-default}"},
    {"env other operator",
     "destinations:\n  - {name: a, plugin: p, options: {pw: '${A:=x}'}}\n",
     {NULL},
     "2:40: a '${...}' in this value is malformed; write ${NAME} or "
     "${NAME:-default}"},
    {"env nested default",
     "destinations:\n  - {name: a, plugin: p, options: {pw: "
     "'${A:-${B}}'}}\n",
     {NULL},
     "2:40: a default in this value holds '${'; defaults are plain text, so "
     "write the text itself"},
    {"env in plugin unset",
     "destinations:\n  - {name: a, plugin: '${DRAY_T_P}'}\n",
     {"DRAY_T_P"},
     "2:23: environment variable 'DRAY_T_P' is not set; set it, or give a "
     "default with ${DRAY_T_P:-value}"},
    {"env in spool unset",
     "spool:\n  path: ${DRAY_T_S}/spool\n",
     {"DRAY_T_S"},
     "2:9: environment variable 'DRAY_T_S' is not set; set it, or give a "
     "default with ${DRAY_T_S:-value}"},
    {"env in route unset",
     DEST_A "routes:\n  - {integration: shop, destinations: ['${DRAY_T_D}']}"
            "\n",
     {"DRAY_T_D"},
     "4:40: environment variable 'DRAY_T_D' is not set; set it, or give a "
     "default with ${DRAY_T_D:-value}"},
    {"env default gives empty spool",
     "spool: {path: '${DRAY_T_S:-}'}\n",
     {"DRAY_T_S"},
     "1:15: 'path' in 'spool' is empty; give a folder, e.g. ./spool"},
};

static void test_errors(void)
{
    expect_cases(error_cases, sizeof(error_cases) / sizeof(error_cases[0]));
}

UNIT_MAIN(UNIT_CASE(test_errors))

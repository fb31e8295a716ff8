/*
 * test_config.c - config_load: the full example, defaults, the gate's
 * settings, paths, values as written, aliases, YAML syntax errors and a
 * large file. ${VAR} expansion is in test_config_env.c, the error rules in
 * test_config_errors.c.
 *
 * Each case writes its YAML to a file in a fresh folder under /tmp.
 */
#include "config_test_util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dray/dray_abi.h"

/* ---------------------------------------------------------------------- */

static const char full_example[] =
    "spool: {path: ./spool}              # relative to this file\n"
    "plugin_path: [extra/dir]\n"
    "destinations:\n"
    "  - name: warehouse                 # unique\n"
    "    plugin: postgres\n"
    "    mode: upsert\n"
    "    options: {dsn: \"${WAREHOUSE_DSN}\", schema: analytics}\n"
    "  - name: lake\n"
    "    plugin: s3\n"
    "    options: {url: \"file:///var/lib/dray/lake\", format: jsonl}\n"
    "routes:\n"
    "  - {integration: shop, destinations: [warehouse, lake]}\n";

static void check_mark(struct config_mark mark, int line, int column)
{
    CHECK_INT(mark.line, line);
    CHECK_INT(mark.column, column);
}

static void test_full_example(void)
{
    struct config cfg;
    char err[512], want[PATH_MAX + 64];
    const struct config_destination *wh, *lake;
    const char *path;

    setenv("WAREHOUSE_DSN", "postgres://u:hunter2@db/wh", 1);
    path = write_file("dray.yml", full_example, 0);
    CHECK_INT(config_load(path, &cfg, err, sizeof(err)), 0);
    unsetenv("WAREHOUSE_DSN");
    if (cfg.path == NULL) {
        UNIT_FAIL_AT("load failed: %s", err);
        return;
    }
    CHECK_STR(cfg.path, path);
    CHECK_STR(cfg.dir, real_dir);
    snprintf(want, sizeof(want), "%s/spool", real_dir);
    CHECK_STR(cfg.spool_path, want);
    CHECK_INT(cfg.n_plugin_path, 1);
    snprintf(want, sizeof(want), "%s/extra/dir", real_dir);
    CHECK_STR(cfg.plugin_path[0], want);

    CHECK_INT(cfg.n_destinations, 2);
    wh = &cfg.destinations[0];
    CHECK_STR(wh->name, "warehouse");
    CHECK_STR(wh->plugin, "postgres");
    CHECK_INT(wh->mode, DRAY_MODE_UPSERT);
    check_mark(wh->mark, 4, 5);
    check_mark(wh->plugin_mark, 5, 13);
    check_mark(wh->mode_mark, 6, 11);
    CHECK_INT(wh->n_options, 2);
    CHECK_STR(wh->options[0].name, "dsn");
    CHECK_STR(wh->options[0].value, "postgres://u:hunter2@db/wh");
    check_mark(wh->options[0].mark, 7, 20);
    CHECK_STR(wh->options[1].name, "schema");
    CHECK_STR(wh->options[1].value, "analytics");
    check_mark(wh->options[1].mark, 7, 48);

    lake = &cfg.destinations[1];
    CHECK_STR(lake->name, "lake");
    CHECK_STR(lake->plugin, "s3");
    CHECK_INT(lake->mode, -1);
    check_mark(lake->mark, 8, 5);
    check_mark(lake->plugin_mark, 9, 13);
    check_mark(lake->mode_mark, 0, 0);
    CHECK_INT(lake->n_options, 2);
    CHECK_STR(lake->options[0].name, "url");
    CHECK_STR(lake->options[0].value, "file:///var/lib/dray/lake");
    CHECK_STR(lake->options[1].name, "format");
    CHECK_STR(lake->options[1].value, "jsonl");

    CHECK_INT(cfg.n_routes, 1);
    CHECK_STR(cfg.routes[0].integration, "shop");
    CHECK_INT(cfg.routes[0].n_destinations, 2);
    CHECK_STR(cfg.routes[0].destinations[0], "warehouse");
    CHECK_STR(cfg.routes[0].destinations[1], "lake");
    check_mark(cfg.routes[0].mark, 12, 5);

    CHECK(config_destination(&cfg, "lake") == lake);
    CHECK(config_destination(&cfg, "warehouse") == wh);
    CHECK(config_destination(&cfg, "lak") == NULL);

    config_release(&cfg);
    CHECK(is_zeroed(&cfg));
    config_release(&cfg); /* twice is harmless */
    CHECK(is_zeroed(&cfg));
    config_release(NULL);
}

static void test_defaults(void)
{
    struct config cfg;
    char err[512], want[PATH_MAX + 64];

    CHECK_INT(load("destinations: []\n", &cfg, err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/spool", real_dir);
    CHECK_STR(cfg.spool_path, want);
    CHECK_INT(cfg.n_plugin_path, 0);
    CHECK_INT(cfg.n_destinations, 0);
    CHECK_INT(cfg.n_routes, 0);
    CHECK(config_destination(&cfg, "x") == NULL);
    config_release(&cfg);

    /* Empty sections behave as absent ones. */
    CHECK_INT(load("spool:\nplugin_path:\ndestinations:\nroutes:\n", &cfg, err,
                   sizeof(err)),
              0);
    CHECK_STR(cfg.spool_path, want);
    CHECK_INT(cfg.n_destinations + cfg.n_routes + cfg.n_plugin_path, 0);
    config_release(&cfg);

    CHECK_INT(load("spool: {}\nroutes: []\n", &cfg, err, sizeof(err)), 0);
    CHECK_STR(cfg.spool_path, want);
    config_release(&cfg);

    /* Without an error buffer a failure is still just -1. */
    memset(&cfg, 0xAB, sizeof(cfg));
    CHECK_INT(load("colour: x\n", &cfg, NULL, 0), -1);
    CHECK(is_zeroed(&cfg));
    memset(&cfg, 0xAB, sizeof(cfg));
    CHECK_INT(config_load(NULL, &cfg, err, sizeof(err)), -1);
    CHECK(is_zeroed(&cfg));
}

/* The gate's settings: defaults, every value, and units as elsewhere. */
static void test_gate_settings(void)
{
    struct config cfg;
    char err[512];

    CHECK_INT(load("destinations: []\n", &cfg, err, sizeof(err)), 0);
    CHECK_INT(cfg.spool_max_bytes, 0);
    CHECK_INT(cfg.spool_on_full, CONFIG_ON_FULL_WAIT);
    CHECK_INT(cfg.batch_max_bytes, 64 * 1024 * 1024);
    CHECK_INT(cfg.batch_max_records, 1000000);
    CHECK_INT(cfg.batch_max_age_ms, 5 * 60 * 1000);
    CHECK_INT(cfg.n_integrations, 0);
    CHECK(config_integration(&cfg, "shop") == NULL);
    CHECK_INT(config_on_invalid(&cfg, "shop"), CONFIG_INVALID_SPLIT);
    config_release(&cfg);

    CHECK_INT(load("spool: {path: ./q, max_bytes: 10GiB, on_full: fail}\n"
                   "batch: {max_bytes: 512KB, max_records: 250, max_age: "
                   "1500ms}\n"
                   "integrations:\n"
                   "  shop: {on_invalid: reject}\n"
                   "  crm.v2-eu:\n"
                   "    on_invalid: fail\n"
                   "  web_hooks: {on_invalid: split}\n"
                   "  plain:\n",
                   &cfg, err, sizeof(err)),
              0);
    if (cfg.path == NULL) {
        UNIT_FAIL_AT("load failed: %s", err);
        return;
    }
    CHECK(cfg.spool_max_bytes == 10ull * 1024 * 1024 * 1024);
    CHECK_INT(cfg.spool_on_full, CONFIG_ON_FULL_FAIL);
    CHECK_INT(cfg.batch_max_bytes, 512000);
    CHECK_INT(cfg.batch_max_records, 250);
    CHECK_INT(cfg.batch_max_age_ms, 1500);
    CHECK_INT(cfg.n_integrations, 4);
    CHECK_INT(config_on_invalid(&cfg, "shop"), CONFIG_INVALID_REJECT);
    CHECK_INT(config_on_invalid(&cfg, "crm.v2-eu"), CONFIG_INVALID_FAIL);
    CHECK_INT(config_on_invalid(&cfg, "web_hooks"), CONFIG_INVALID_SPLIT);
    CHECK_INT(config_on_invalid(&cfg, "plain"), CONFIG_INVALID_SPLIT);
    CHECK_INT(config_on_invalid(&cfg, "other"), CONFIG_INVALID_SPLIT);
    CHECK(config_integration(&cfg, "crm.v2-eu") == &cfg.integrations[1]);
    check_mark(cfg.integrations[1].mark, 5, 3);
    config_release(&cfg);
    CHECK(is_zeroed(&cfg));

    /* Empty sections are absent ones; on_full: wait is the default. */
    CHECK_INT(load("spool: {on_full: wait}\nbatch:\nintegrations: {}\n", &cfg,
                   err, sizeof(err)),
              0);
    CHECK_INT(cfg.spool_on_full, CONFIG_ON_FULL_WAIT);
    CHECK_INT(cfg.batch_max_records, 1000000);
    CHECK_INT(cfg.n_integrations, 0);
    config_release(&cfg);

    CHECK(config_is_integration_name("a.b-c_9"));
    CHECK(!config_is_integration_name(""));
    CHECK(!config_is_integration_name("a/b"));
}

static void test_paths(void)
{
    struct config cfg;
    char err[512], want[PATH_MAX + 64], cwd[PATH_MAX], sub[PATH_MAX + 8];

    snprintf(sub, sizeof(sub), "%s/sub", dir());
    CHECK_INT(mkdir(sub, 0700), 0);
    write_file("sub/dray.yml",
               "spool: {path: .//queue/}\n"
               "plugin_path: [../plugins, ., ./, /opt/dray/plugins, "
               "'./a/./b', \"${DRAY_T_PLUGINS}\"]\n",
               0);
    setenv("DRAY_T_PLUGINS", "from/env", 1);
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK_INT(chdir(dir()), 0);
    CHECK_INT(config_load("sub/dray.yml", &cfg, err, sizeof(err)), 0);
    CHECK_INT(chdir(cwd), 0);
    unsetenv("DRAY_T_PLUGINS");
    if (cfg.path == NULL) {
        UNIT_FAIL_AT("load failed: %s", err);
        return;
    }
    CHECK_STR(cfg.path, "sub/dray.yml");
    snprintf(want, sizeof(want), "%s/sub", real_dir);
    CHECK_STR(cfg.dir, want);
    snprintf(want, sizeof(want), "%s/sub/queue", real_dir);
    CHECK_STR(cfg.spool_path, want);
    CHECK_INT(cfg.n_plugin_path, 6);
    snprintf(want, sizeof(want), "%s/sub/../plugins", real_dir);
    CHECK_STR(cfg.plugin_path[0], want);
    snprintf(want, sizeof(want), "%s/sub", real_dir);
    CHECK_STR(cfg.plugin_path[1], want);
    CHECK_STR(cfg.plugin_path[2], want);
    CHECK_STR(cfg.plugin_path[3], "/opt/dray/plugins");
    snprintf(want, sizeof(want), "%s/sub/a/./b", real_dir);
    CHECK_STR(cfg.plugin_path[4], want);
    snprintf(want, sizeof(want), "%s/sub/from/env", real_dir);
    CHECK_STR(cfg.plugin_path[5], want);
    config_release(&cfg);

    /* A bare file name lives in the working folder. */
    write_file("dray.yml", "spool: {path: /var/spool/dray}\n", 0);
    CHECK_INT(chdir(dir()), 0);
    CHECK_INT(config_load("dray.yml", &cfg, err, sizeof(err)), 0);
    CHECK_INT(chdir(cwd), 0);
    CHECK_STR(cfg.dir, real_dir);
    CHECK_STR(cfg.spool_path, "/var/spool/dray");
    config_release(&cfg);
}

static void test_default_path(void)
{
    const char *old = getenv("DRAY_CONFIG");
    char *saved = old ? strdup(old) : NULL;

    CHECK_STR(config_default_path("given.yml"), "given.yml");
    unsetenv("DRAY_CONFIG");
    CHECK_STR(config_default_path(NULL), "dray.yml");
    setenv("DRAY_CONFIG", "", 1);
    CHECK_STR(config_default_path(NULL), "dray.yml");
    setenv("DRAY_CONFIG", "/etc/dray/dray.yml", 1);
    CHECK_STR(config_default_path(NULL), "/etc/dray/dray.yml");
    CHECK_STR(config_default_path("given.yml"), "given.yml");
    if (saved != NULL)
        setenv("DRAY_CONFIG", saved, 1);
    else
        unsetenv("DRAY_CONFIG");
    free(saved);
}

static void test_unreadable(void)
{
    struct config cfg;
    char err[512], want[PATH_MAX + 128];

    memset(&cfg, 0xAB, sizeof(cfg));
    snprintf(want, sizeof(want), "%s/nope.yml", dir());
    CHECK_INT(config_load(want, &cfg, err, sizeof(err)), -1);
    CHECK(is_zeroed(&cfg));
    strcat(want, ": cannot read: ");
    strcat(want, strerror(ENOENT));
    CHECK_STR(err, want);

    memset(&cfg, 0xAB, sizeof(cfg));
    CHECK_INT(config_load(dir(), &cfg, err, sizeof(err)), -1);
    CHECK(is_zeroed(&cfg));
    snprintf(want, sizeof(want), "%s: cannot read: %s", dir(),
             strerror(EISDIR));
    CHECK_STR(err, want);

    /* A short buffer truncates, never overflows. */
    CHECK_INT(config_load(dir(), &cfg, err, 8), -1);
    CHECK_INT(strlen(err), 7);
}

static void test_values_as_written(void)
{
    struct config cfg;
    char err[512];

    CHECK_INT(load("destinations:\n"
                   "  - name: a\n"
                   "    plugin: p\n"
                   "    mode: append\n"
                   "    options:\n"
                   "      port: 05432\n"
                   "      ssl: yes\n"
                   "      ratio: 1.50\n"
                   "      quoted_null: 'null'\n"
                   "      empty: ''\n"
                   "      tabbed: \"a\\tb\"\n"
                   "      raw_tab: \"x\ty\"\n"
                   "      plain_tab: left\tright\n"
                   "      unicode: Z\xc3\xbcrich \xe2\x98\x83 "
                   "\xe6\x97\xa5\xe6\x9c\xac\n"
                   "      escaped: \"\\u263A\"\n"
                   "      folded: >\n"
                   "        one\n"
                   "        two\n",
                   &cfg, err, sizeof(err)),
              0);
    if (cfg.path == NULL) {
        UNIT_FAIL_AT("load failed: %s", err);
        return;
    }
    const struct config_destination *d = &cfg.destinations[0];
    CHECK_INT(d->mode, DRAY_MODE_APPEND);
    CHECK_INT(d->n_options, 11);
    CHECK_STR(d->options[0].value, "05432");
    CHECK_STR(d->options[1].value, "yes");
    CHECK_STR(d->options[2].value, "1.50");
    CHECK_STR(d->options[3].value, "null");
    CHECK_STR(d->options[4].value, "");
    CHECK_STR(d->options[5].value, "a\tb");
    CHECK_STR(d->options[6].value, "x\ty");
    CHECK_STR(d->options[7].value, "left\tright");
    CHECK_STR(d->options[8].name, "unicode");
    CHECK_STR(d->options[8].value,
              "Z\xc3\xbcrich \xe2\x98\x83 \xe6\x97\xa5\xe6\x9c\xac");
    CHECK_STR(d->options[9].value, "\xe2\x98\xba");
    CHECK_STR(d->options[10].value, "one two\n");
    config_release(&cfg);
}

static void test_aliases(void)
{
    struct config cfg;
    char err[512];

    CHECK_INT(load("destinations:\n"
                   "  - name: a\n"
                   "    plugin: p\n"
                   "    options: &common {schema: s, region: eu}\n"
                   "  - name: b\n"
                   "    plugin: p\n"
                   "    options: *common\n",
                   &cfg, err, sizeof(err)),
              0);
    CHECK_INT(cfg.n_destinations, 2);
    if (cfg.n_destinations == 2) {
        CHECK_INT(cfg.destinations[1].n_options, 2);
        CHECK_STR(cfg.destinations[1].options[1].value, "eu");
    }
    config_release(&cfg);

    /* A mapping holding itself must fail, not loop. */
    memset(&cfg, 0xAB, sizeof(cfg));
    CHECK_INT(load("destinations:\n"
                   "  - name: a\n"
                   "    plugin: p\n"
                   "    options: &o {self: *o}\n",
                   &cfg, err, sizeof(err)),
              -1);
    CHECK(is_zeroed(&cfg));
    CHECK_CONTAINS(err, "option 'self' of destination 'a' must be a single "
                        "value, not a mapping");

    /* A billion laughs stays cheap: the walk has a fixed depth. */
    CHECK_INT(load("destinations:\n"
                   "  - name: a\n"
                   "    plugin: p\n"
                   "    options: {x: &l1 [a, a, a, a, a, a, a, a, a, a]}\n"
                   "routes:\n"
                   "  - integration: shop\n"
                   "    destinations: &l2 [*l1, *l1, *l1, *l1, *l1, *l1]\n",
                   &cfg, err, sizeof(err)),
              -1);
    CHECK_CONTAINS(err, ":4:18: option 'x' of destination 'a' must be a "
                        "single value, not a list");
}

/* libyaml words these; only the prefix and position are ours. */
static void test_syntax_errors(void)
{
    static const struct {
        const char *yaml;
        size_t len; /* 0: up to the NUL */
        const char *expect;
    } cases[] = {
        {"destinations: [a, b\n", 0,
         ":2:1: YAML syntax error: did not find expected ',' or ']' (while "
         "parsing a flow sequence)"},
        {"destinations:\n\t- name: a\n", 0,
         ":2:1: YAML syntax error: found character that cannot start any "
         "token (while scanning for the next token)"},
        {"spool: *nope\n", 0, ":1:8: YAML syntax error: found undefined alias"},
        {"spool: a: b\n", 0,
         ":1:9: YAML syntax error: mapping values are not allowed in this "
         "context"},
        {"spool: {path: 'ab\xff'}\n", 0,
         ":1:18: YAML syntax error: invalid leading UTF-8 octet"},
        {"spool:\n  path: \xc3\xa9\xc3\xa9\x01\n", 0,
         ":2:11: YAML syntax error: control characters are not allowed"},
        {"destinations: []\n---\n]\n", 0, ":3:1: YAML syntax error: "},
        {"spool: {}\nroutes: [\0]\n", 21,
         ":2:10: YAML syntax error: control characters are not allowed"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config cfg;
        char err[512], want[PATH_MAX + 256];
        const char *path = write_file("dray.yml", cases[i].yaml, cases[i].len);

        memset(&cfg, 0xAB, sizeof(cfg));
        CHECK_INT(config_load(path, &cfg, err, sizeof(err)), -1);
        CHECK(is_zeroed(&cfg));
        snprintf(want, sizeof(want), "%s%s", path, cases[i].expect);
        if (strncmp(err, want, strlen(want)) != 0)
            UNIT_FAIL_AT("syntax case %zu:\n  got:      %s\n  expected: %s", i,
                         err, want);
        check_message_shape("syntax", err);
    }
}

/* Many destinations and routes: the checks must not go quadratic. */
static void test_large(void)
{
    enum { N = 2000 };
    size_t cap = (size_t)N * 256, used = 0;
    char *yaml = malloc(cap), err[512];
    struct config cfg;

    if (yaml == NULL)
        return;
    used += (size_t)snprintf(yaml + used, cap - used, "destinations:\n");
    for (int i = 0; i < N; i++)
        used += (size_t)snprintf(yaml + used, cap - used,
                                 "  - name: d%d\n    plugin: p\n"
                                 "    options: {a: '%d', b: "
                                 "'${DRAY_T_BIG:-x}', c: z}\n",
                                 i, i);
    used += (size_t)snprintf(yaml + used, cap - used, "routes:\n");
    for (int i = 0; i < N; i++)
        used += (size_t)snprintf(
            yaml + used, cap - used,
            "  - {integration: i%d, destinations: [d%d, d%d]}\n", i, N - 1 - i,
            i == N - 1 - i ? 0 : i);
    setenv("DRAY_T_BIG", "big", 1);
    CHECK_INT(load(yaml, &cfg, err, sizeof(err)), 0);
    unsetenv("DRAY_T_BIG");
    CHECK_INT(cfg.n_destinations, N);
    CHECK_INT(cfg.n_routes, N);
    if (cfg.n_destinations == N && cfg.n_routes == N) {
        CHECK_STR(cfg.destinations[N - 1].name, "d1999");
        CHECK_STR(cfg.destinations[N - 1].options[0].value, "1999");
        CHECK_STR(cfg.destinations[N - 1].options[1].value, "big");
        CHECK_INT(cfg.destinations[N - 1].mark.line, 3 * (N - 1) + 2);
        CHECK_STR(cfg.routes[0].destinations[0], "d1999");
        CHECK(config_destination(&cfg, "d1234") == &cfg.destinations[1234]);
    }
    config_release(&cfg);

    /* The same with one repeated name right at the end. */
    used = (size_t)(strstr(yaml, "routes:\n") - yaml);
    snprintf(yaml + used, cap - used, "  - {name: d7, plugin: p}\n");
    CHECK_INT(load(yaml, &cfg, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, ":6002:5: destination 2001 has the same name 'd7' as "
                        "destination 8 (line 23, column 5); names must be "
                        "unique");
    free(yaml);
}

UNIT_MAIN(UNIT_CASE(test_full_example), UNIT_CASE(test_defaults),
          UNIT_CASE(test_gate_settings), UNIT_CASE(test_paths),
          UNIT_CASE(test_default_path), UNIT_CASE(test_unreadable),
          UNIT_CASE(test_values_as_written), UNIT_CASE(test_aliases),
          UNIT_CASE(test_syntax_errors), UNIT_CASE(test_large))

/*
 * test_config.c - config_load: the full example, every error rule with its
 * position, ${VAR} expansion, paths, and a large file.
 *
 * Each case writes its YAML to a file in a fresh folder under /tmp.
 */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dray/dray_abi.h"

static char tmp_dir[PATH_MAX];  /* as made by mkdtemp */
static char real_dir[PATH_MAX]; /* the same, through realpath */

static void remove_tmp_dir(void)
{
    unit_remove_tree(tmp_dir);
}

static const char *dir(void)
{
    if (tmp_dir[0] == '\0') {
        strcpy(tmp_dir, "/tmp/dray-test-config-XXXXXX");
        if (mkdtemp(tmp_dir) == NULL || realpath(tmp_dir, real_dir) == NULL) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(remove_tmp_dir);
    }
    return tmp_dir;
}

/* Writes text (len bytes, or up to its NUL when len is 0) to dir()/name. */
static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[PATH_MAX + 64];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", dir(), name);
    fp = fopen(path, "wb");
    if (fp == NULL) {
        perror(path);
        exit(2);
    }
    fwrite(text, 1, len ? len : strlen(text), fp);
    fclose(fp);
    return path;
}

/* env entries: "NAME=value" sets NAME, a bare "NAME" unsets it. */
static void set_env(const char *const *env, size_t n)
{
    for (size_t i = 0; i < n && env[i] != NULL; i++) {
        const char *eq = strchr(env[i], '=');
        char name[128];

        if (eq == NULL) {
            unsetenv(env[i]);
            continue;
        }
        snprintf(name, sizeof(name), "%.*s", (int)(eq - env[i]), env[i]);
        setenv(name, eq + 1, 1);
    }
}

static void clear_env(const char *const *env, size_t n)
{
    for (size_t i = 0; i < n && env[i] != NULL; i++) {
        char name[128];

        snprintf(name, sizeof(name), "%.*s", (int)strcspn(env[i], "="), env[i]);
        unsetenv(name);
    }
}

static int is_zeroed(const struct config *cfg)
{
    static const struct config zero;

    return memcmp(cfg, &zero, sizeof(zero)) == 0;
}

/* Every message is one line with no full stop, and never leaks a secret. */
static void check_message_shape(const char *label, const char *err)
{
    size_t len = strlen(err);

    if (len == 0 || strchr(err, '\n') != NULL || err[len - 1] == '.')
        UNIT_FAIL_AT("%s: badly shaped message: [%s]", label, err);
    if (strstr(err, "hunter2") != NULL)
        UNIT_FAIL_AT("%s: message echoes a secret: %s", label, err);
}

/*
 * Loads yaml and checks the result: success when expect is NULL, else the
 * whole message must be "FILE:" followed by expect.
 */
static void expect_load(const char *label, const char *yaml,
                        const char *const *env, size_t n_env,
                        const char *expect)
{
    struct config cfg;
    char err[1024], want[2048];
    const char *path;
    int rc;

    memset(&cfg, 0xAB, sizeof(cfg)); /* config_load must zero it */
    set_env(env, n_env);
    path = write_file("dray.yml", yaml, 0);
    rc = config_load(path, &cfg, err, sizeof(err));
    clear_env(env, n_env);
    if (expect == NULL) {
        if (rc != 0)
            UNIT_FAIL_AT("%s: expected success, got: %s", label, err);
        config_release(&cfg);
        return;
    }
    snprintf(want, sizeof(want), "%s:%s", path, expect);
    if (rc != -1 || strcmp(err, want) != 0)
        UNIT_FAIL_AT("%s: rc %d\n  got:      %s\n  expected: %s", label, rc,
                     err, want);
    if (!is_zeroed(&cfg))
        UNIT_FAIL_AT("%s: *out not zeroed after failure", label);
    check_message_shape(label, err);
}

static int load(const char *yaml, struct config *cfg, char *err, size_t len)
{
    return config_load(write_file("dray.yml", yaml, 0), cfg, err, len);
}

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

/* ---------------------------------------------------------------------- */

struct env_case {
    const char *value; /* inside single quotes in the YAML */
    const char *env[3];
    const char *expect;
};

static const struct env_case env_cases[] = {
    {"${DRAY_T_A}", {"DRAY_T_A=alpha"}, "alpha"},
    {"x${DRAY_T_A}y${DRAY_T_B}z", {"DRAY_T_A=1", "DRAY_T_B=2"}, "x1y2z"},
    {"${DRAY_T_A:-fallback}", {"DRAY_T_A"}, "fallback"},
    {"${DRAY_T_A:-fallback}", {"DRAY_T_A="}, "fallback"},
    {"${DRAY_T_A:-fallback}", {"DRAY_T_A=set"}, "set"},
    {"${DRAY_T_A}", {"DRAY_T_A="}, ""},
    {"${DRAY_T_A:-}", {"DRAY_T_A"}, ""},
    {"${DRAY_T_A:-a:b c/d?e=f-}", {"DRAY_T_A"}, "a:b c/d?e=f-"},
    {"${lower_1}", {"lower_1=small"}, "small"},
    {"$${DRAY_T_A}", {"DRAY_T_A=x"}, "${DRAY_T_A}"},
    {"a $${ b", {NULL}, "a ${ b"},
    {"$$${DRAY_T_A}", {"DRAY_T_A=x"}, "$${DRAY_T_A}"},
    {"pa$$word", {NULL}, "pa$$word"},
    {"cost: 5$", {NULL}, "cost: 5$"},
    {"a$b$", {NULL}, "a$b$"},
    {"$", {NULL}, "$"},
    {"${DRAY_T_A}}", {"DRAY_T_A=v"}, "v}"},
    {"{${DRAY_T_A}}", {"DRAY_T_A=v"}, "{v}"},
    /* Substituted text is never expanded again. */
    {"${DRAY_T_A}", {"DRAY_T_A=${DRAY_T_B}", "DRAY_T_B=boom"}, "${DRAY_T_B}"},
    {"${DRAY_T_A}", {"DRAY_T_A=p@ss w0rd'\"$\t\\"}, "p@ss w0rd'\"$\t\\"},
    {"h\xc3\xa9 ${DRAY_T_A} \xe2\x98\x83",
     {"DRAY_T_A=\xe6\x97\xa5"},
     "h\xc3\xa9 \xe6\x97\xa5 \xe2\x98\x83"},
};

static void test_env_expansion(void)
{
    for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
        const struct env_case *c = &env_cases[i];
        struct config cfg;
        char yaml[512], err[512];
        int rc;

        snprintf(yaml, sizeof(yaml),
                 "destinations:\n"
                 "  - name: a\n"
                 "    plugin: p\n"
                 "    options:\n"
                 "      v: '%s'\n",
                 c->value);
        set_env(c->env, 3);
        rc = load(yaml, &cfg, err, sizeof(err));
        clear_env(c->env, 3);
        if (rc != 0) {
            UNIT_FAIL_AT("env case %zu (%s): %s", i, c->value, err);
            continue;
        }
        if (strcmp(cfg.destinations[0].options[0].value, c->expect) != 0)
            UNIT_FAIL_AT("env case %zu (%s): got [%s], expected [%s]", i,
                         c->value, cfg.destinations[0].options[0].value,
                         c->expect);
        config_release(&cfg);
    }
}

static void test_env_everywhere_but_keys(void)
{
    static const char *const env[] = {"DRAY_T_NAME=wh", "DRAY_T_PLUGIN=pg",
                                      "DRAY_T_MODE=append", "DRAY_T_INT=shop",
                                      "DRAY_T_SPOOL=/srv/spool"};
    struct config cfg;
    char err[512];

    set_env(env, 5);
    CHECK_INT(load("spool: {path: '${DRAY_T_SPOOL}'}\n"
                   "destinations:\n"
                   "  - name: ${DRAY_T_NAME}\n"
                   "    plugin: ${DRAY_T_PLUGIN}\n"
                   "    mode: ${DRAY_T_MODE}\n"
                   "    options: {'${DRAY_T_NAME}': '${DRAY_T_NAME}'}\n"
                   "routes:\n"
                   "  - {integration: '${DRAY_T_INT}', destinations: "
                   "['${DRAY_T_NAME}']}\n",
                   &cfg, err, sizeof(err)),
              0);
    clear_env(env, 5);
    if (cfg.path == NULL) {
        UNIT_FAIL_AT("load failed: %s", err);
        return;
    }
    CHECK_STR(cfg.spool_path, "/srv/spool");
    CHECK_STR(cfg.destinations[0].name, "wh");
    CHECK_STR(cfg.destinations[0].plugin, "pg");
    CHECK_INT(cfg.destinations[0].mode, DRAY_MODE_APPEND);
    CHECK_STR(cfg.destinations[0].options[0].name, "${DRAY_T_NAME}");
    CHECK_STR(cfg.destinations[0].options[0].value, "wh");
    CHECK_STR(cfg.routes[0].integration, "shop");
    CHECK_STR(cfg.routes[0].destinations[0], "wh");
    config_release(&cfg);
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

/* ---------------------------------------------------------------------- */

struct error_case {
    const char *label;
    const char *yaml;
    const char *env[3];
    const char *expect; /* what follows "FILE:", or NULL for success */
};

#define DEST_A "destinations:\n  - {name: a, plugin: p}\n"
#define NAME_63                                                                \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

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
     "'plugin_path', 'destinations', 'routes', 'batch', 'integrations'"},
    {"spool typo",
     "spool: {path: ./s, pth: x}\n",
     {NULL},
     "1:20: unknown key 'pth' in 'spool'; did you mean 'path'?"},
    {"spool unknown",
     "spool:\n  folder: x\n",
     {NULL},
     "2:3: unknown key 'folder' in 'spool'; valid keys are 'path', "
     "'max_bytes', 'on_full'"},
    {"destination typo",
     "destinations:\n  - name: a\n    plugin: p\n    optoins: {}\n",
     {NULL},
     "4:5: unknown key 'optoins' in destination 1; did you mean 'options'?"},
    {"destination unknown",
     "destinations:\n  - name: a\n    plugin: p\n    schedule: hourly\n",
     {NULL},
     "4:5: unknown key 'schedule' in destination 1; valid keys are 'name', "
     "'plugin', 'mode', 'options'"},
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
    for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
        expect_load(error_cases[i].label, error_cases[i].yaml,
                    error_cases[i].env, 3, error_cases[i].expect);
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
          UNIT_CASE(test_env_expansion),
          UNIT_CASE(test_env_everywhere_but_keys),
          UNIT_CASE(test_values_as_written), UNIT_CASE(test_aliases),
          UNIT_CASE(test_errors), UNIT_CASE(test_syntax_errors),
          UNIT_CASE(test_large))

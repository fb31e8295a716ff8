/*
 * test_config_env.c - config_load: ${VAR} expansion in values, and where
 * it applies (everywhere but option names). Its error messages are in
 * test_config_errors.c.
 *
 * Each case writes its YAML to a file in a fresh folder under /tmp.
 */
#include "config_test_util.h"

#include "config.h"
#include "dray/dray_abi.h"

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

UNIT_MAIN(UNIT_CASE(test_env_expansion),
          UNIT_CASE(test_env_everywhere_but_keys))

/*
 * config_test_util.h - shared helpers of the config_load unit tests: a
 * fresh folder under /tmp, writing YAML into it, setting the environment
 * of a case, the shape checks every result gets, and the table runner of
 * the error cases (test_config_errors*.c).
 */
#ifndef DRAY_TESTS_CONFIG_TEST_UTIL_H
#define DRAY_TESTS_CONFIG_TEST_UTIL_H

#include "unit.h"

#include <limits.h>
#include <stdlib.h>

#include "config.h"

static char tmp_dir[PATH_MAX];  /* as made by mkdtemp */
static char real_dir[PATH_MAX]; /* the same, through realpath */

static inline void remove_tmp_dir(void)
{
    unit_remove_tree(tmp_dir);
}

static inline const char *dir(void)
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
static inline const char *write_file(const char *name, const char *text,
                                     size_t len)
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
static inline void set_env(const char *const *env, size_t n)
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

static inline void clear_env(const char *const *env, size_t n)
{
    for (size_t i = 0; i < n && env[i] != NULL; i++) {
        char name[128];

        snprintf(name, sizeof(name), "%.*s", (int)strcspn(env[i], "="), env[i]);
        unsetenv(name);
    }
}

static inline int is_zeroed(const struct config *cfg)
{
    static const struct config zero;

    return memcmp(cfg, &zero, sizeof(zero)) == 0;
}

/* Every message is one line with no full stop, and never leaks a secret. */
static inline void check_message_shape(const char *label, const char *err)
{
    size_t len = strlen(err);

    if (len == 0 || strchr(err, '\n') != NULL || err[len - 1] == '.')
        UNIT_FAIL_AT("%s: badly shaped message: [%s]", label, err);
    if (strstr(err, "hunter2") != NULL)
        UNIT_FAIL_AT("%s: message echoes a secret: %s", label, err);
}

static inline int load(const char *yaml, struct config *cfg, char *err,
                       size_t len)
{
    return config_load(write_file("dray.yml", yaml, 0), cfg, err, len);
}

/*
 * Loads yaml and checks the result: success when expect is NULL, else the
 * whole message must be "FILE:" followed by expect.
 */
static inline void expect_load(const char *label, const char *yaml,
                               const char *const *env, size_t n_env,
                               const char *expect)
{
    struct config cfg;
    /* want holds any path write_file gives, ':' and expect. */
    char err[1024], want[PATH_MAX + 64 + 1024];
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

/* One row of an error table; DEST_A and NAME_63 are YAML both tables use. */
struct error_case {
    const char *label;
    const char *yaml;
    const char *env[3];
    const char *expect; /* what follows "FILE:", or NULL for success */
};

#define DEST_A "destinations:\n  - {name: a, plugin: p}\n"
#define NAME_63                                                                \
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Runs expect_load on each of n cases. */
static inline void expect_cases(const struct error_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_load(cases[i].label, cases[i].yaml, cases[i].env, 3,
                    cases[i].expect);
}

#endif

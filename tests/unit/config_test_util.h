/*
 * config_test_util.h - shared helpers of the config_load unit tests: a
 * fresh folder under /tmp, writing YAML into it, setting the environment
 * of a case, and the shape checks every result gets.
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

#endif

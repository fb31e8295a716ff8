/*
 * The SDK's option readers (dray_cfg.h) against a fake host table: what
 * each gives for a value, for no value (unset, wrong type, unknown name)
 * and without a host; dray_cfg_dup's copies, its empty-text flag and its
 * report of an allocation failure (strdup is wrapped at link time, see
 * CMakeLists.txt).
 */
#include <dray/dray_cfg.h>
#include <dray/dray_plugin.h>

#include <stdlib.h>

#include "unit.h"

/* ---- strdup that fails on demand ---- */

char *__real_strdup(const char *s);
char *__wrap_strdup(const char *s);

static int strdup_fails; /* the next calls that return NULL */

char *__wrap_strdup(const char *s)
{
    if (strdup_fails > 0) {
        strdup_fails--;
        return NULL;
    }
    return __real_strdup(s);
}

/* ---- the fake host's options ---- */

struct fake_opt {
    const char *name;
    int32_t rc; /* what every cfg_* returns for it */
    const char *text;
    int64_t i64;
    double f64;
};

static const struct fake_opt fake_opts[] = {
    {"path", 1, "/data/out", 0, 0},    {"empty", 1, "", 0, 0},
    {"unset", 0, NULL, 0, 0},          {"wrong_type", -1, NULL, 0, 0},
    {"buffer", 1, "1MiB", 1048576, 0}, {"zero", 1, "0", 0, 0},
    {"negative", 1, "-5", -5, -5.0},   {"verbose", 1, "true", 1, 0},
    {"quiet", 1, "false", 0, 0},       {"ratio", 1, "0.25", 0, 0.25},
};

/* The handle the plugin passes: the fakes answer only for this one. */
static const char fake_cfg_storage;
#define FAKE_CFG ((const dray_config *)&fake_cfg_storage)

static const struct fake_opt *find(const dray_config *cfg, const char *name,
                                   int32_t *rc)
{
    *rc = -2;
    if (cfg != FAKE_CFG)
        return NULL;
    for (size_t i = 0; i < sizeof(fake_opts) / sizeof(fake_opts[0]); i++)
        if (strcmp(fake_opts[i].name, name) == 0) {
            *rc = fake_opts[i].rc;
            return &fake_opts[i];
        }
    return NULL;
}

static int32_t fake_cfg_str(const dray_config *cfg, const char *name,
                            const char **out)
{
    int32_t rc;
    const struct fake_opt *o = find(cfg, name, &rc);

    if (rc == 1)
        *out = o->text;
    return rc;
}

static int32_t fake_cfg_i64(const dray_config *cfg, const char *name,
                            int64_t *out)
{
    int32_t rc;
    const struct fake_opt *o = find(cfg, name, &rc);

    if (rc == 1)
        *out = o->i64;
    return rc;
}

static int32_t fake_cfg_bool(const dray_config *cfg, const char *name,
                             int32_t *out)
{
    int32_t rc;
    const struct fake_opt *o = find(cfg, name, &rc);

    if (rc == 1)
        *out = (int32_t)o->i64;
    return rc;
}

static int32_t fake_cfg_f64(const dray_config *cfg, const char *name,
                            double *out)
{
    int32_t rc;
    const struct fake_opt *o = find(cfg, name, &rc);

    if (rc == 1)
        *out = o->f64;
    return rc;
}

static const struct dray_plugin_desc fake_desc = {
    DRAY_PLUGIN_DESC_HDR,
    .name = "cfgtest",
};

static void bind_fake_host(void)
{
    static struct dray_host_api host;
    const struct dray_plugin_desc *out = NULL;

    host.hdr.struct_size = (uint32_t)sizeof(host);
    host.hdr.abi_major = DRAY_ABI_MAJOR;
    host.hdr.abi_minor = DRAY_ABI_MINOR;
    host.cfg_str = fake_cfg_str;
    host.cfg_i64 = fake_cfg_i64;
    host.cfg_bool = fake_cfg_bool;
    host.cfg_f64 = fake_cfg_f64;
    CHECK_INT(dray_sdk_bind(&host, &fake_desc, &out), DRAY_OK);
    CHECK(dray_host() == &host);
}

/* ---- cases ---- */

/* Listed first: before any entry point ran there is no host table. */
static void test_no_host_reads_as_no_value(void)
{
    char *copy = (char *)"stale";

    CHECK(dray_host() == NULL);
    CHECK(dray_cfg_str(FAKE_CFG, "path") == NULL);
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "path", 0, &copy), 0);
    CHECK(copy == NULL);
    CHECK_INT(dray_cfg_i64(FAKE_CFG, "buffer", 42), 42);
    CHECK_INT(dray_cfg_bool(FAKE_CFG, "verbose", 0), 0);
    CHECK(dray_cfg_f64(FAKE_CFG, "ratio", 0.5) == 0.5);
}

static void test_str(void)
{
    bind_fake_host();
    CHECK_STR(dray_cfg_str(FAKE_CFG, "path"), "/data/out");
    CHECK_STR(dray_cfg_str(FAKE_CFG, "buffer"), "1MiB"); /* any type */
    CHECK_STR(dray_cfg_str(FAKE_CFG, "empty"), "");
    CHECK(dray_cfg_str(FAKE_CFG, "unset") == NULL);
    CHECK(dray_cfg_str(FAKE_CFG, "wrong_type") == NULL);
    CHECK(dray_cfg_str(FAKE_CFG, "no_such_option") == NULL);
    /* The handle is passed through: another one has no options. */
    CHECK(dray_cfg_str((const dray_config *)&fake_opts, "path") == NULL);
}

static void test_dup(void)
{
    char *copy = NULL;

    bind_fake_host();
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "path", 0, &copy), 0);
    CHECK_STR(copy, "/data/out");
    CHECK(copy != fake_opts[0].text); /* a copy, not the borrowed text */
    free(copy);

    copy = (char *)"stale";
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "unset", 0, &copy), 0);
    CHECK(copy == NULL);
    copy = (char *)"stale";
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "no_such_option", 0, &copy), 0);
    CHECK(copy == NULL);
}

static void test_dup_empty(void)
{
    char *copy = NULL;

    bind_fake_host();
    /* Without the flag an empty text is a value like any other. */
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "empty", 0, &copy), 0);
    CHECK_STR(copy, "");
    free(copy);
    copy = (char *)"stale";
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "empty", DRAY_CFG_NONEMPTY, &copy), 0);
    CHECK(copy == NULL);
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "path", DRAY_CFG_NONEMPTY, &copy), 0);
    CHECK_STR(copy, "/data/out");
    free(copy);
}

static void test_dup_out_of_memory(void)
{
    char *copy = (char *)"stale";

    bind_fake_host();
    strdup_fails = 1;
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "path", 0, &copy), -1);
    CHECK(copy == NULL);
    CHECK_INT(strdup_fails, 0); /* the copy was attempted */
    /* No value needs no copy: nothing to fail. */
    strdup_fails = 1;
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "unset", 0, &copy), 0);
    CHECK_INT(dray_cfg_dup(FAKE_CFG, "empty", DRAY_CFG_NONEMPTY, &copy), 0);
    CHECK_INT(strdup_fails, 1);
    strdup_fails = 0;
}

static void test_i64(void)
{
    bind_fake_host();
    CHECK_INT(dray_cfg_i64(FAKE_CFG, "buffer", 7), 1048576);
    CHECK_INT(dray_cfg_i64(FAKE_CFG, "negative", 7), -5);
    CHECK_INT(dray_cfg_i64(FAKE_CFG, "zero", 7), 0); /* set to 0: not def */
    CHECK_INT(dray_cfg_i64(FAKE_CFG, "unset", 7), 7);
    CHECK_INT(dray_cfg_i64(FAKE_CFG, "wrong_type", 7), 7);
    CHECK_INT(dray_cfg_i64(FAKE_CFG, "no_such_option", -1), -1);
}

static void test_bool(void)
{
    bind_fake_host();
    CHECK_INT(dray_cfg_bool(FAKE_CFG, "verbose", 0), 1);
    CHECK_INT(dray_cfg_bool(FAKE_CFG, "quiet", 1), 0);
    CHECK_INT(dray_cfg_bool(FAKE_CFG, "unset", 1), 1);
    CHECK_INT(dray_cfg_bool(FAKE_CFG, "wrong_type", 1), 1);
    CHECK_INT(dray_cfg_bool(FAKE_CFG, "no_such_option", 0), 0);
}

static void test_f64(void)
{
    bind_fake_host();
    CHECK(dray_cfg_f64(FAKE_CFG, "ratio", 0.5) == 0.25);
    CHECK(dray_cfg_f64(FAKE_CFG, "negative", 0.5) == -5.0);
    CHECK(dray_cfg_f64(FAKE_CFG, "zero", 0.5) == 0.0);
    CHECK(dray_cfg_f64(FAKE_CFG, "unset", 0.5) == 0.5);
    CHECK(dray_cfg_f64(FAKE_CFG, "wrong_type", 0.5) == 0.5);
    CHECK(dray_cfg_f64(FAKE_CFG, "no_such_option", 2.0) == 2.0);
}

UNIT_MAIN(UNIT_CASE(test_no_host_reads_as_no_value), UNIT_CASE(test_str),
          UNIT_CASE(test_dup), UNIT_CASE(test_dup_empty),
          UNIT_CASE(test_dup_out_of_memory), UNIT_CASE(test_i64),
          UNIT_CASE(test_bool), UNIT_CASE(test_f64))

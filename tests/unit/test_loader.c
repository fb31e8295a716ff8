/*
 * The loader against real shared objects built by tests/plugins: every
 * refusal with its exact reason, shadowing, and a refused file never
 * stopping the others.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_api.h"
#include "plugin_loader.h"
#include "unit.h"

#define DIR_OF(sub) DRAY_TEST_PLUGIN_DIR "/" sub

static const struct plugin *load_one(struct plugin_set *set, const char *file)
{
    const struct plugin *p;

    plugins_discover(set); /* no folders: only initialises libltdl */
    p = plugins_load_file(set, file);
    return p;
}

struct refusal {
    const char *file;
    const char *name; /* NULL when refused before the name is known */
    const char *reason;
};

static const struct refusal refusals[] = {
    {"notelf.so", NULL,
     "not a shared object (no ELF header); remove it from the plugin folder"},
    {"noentry.so", NULL,
     "not a dray plugin: it exports no dray_plugin_entry_v1; build it with "
     "dray_add_plugin() and DRAY_PLUGIN_DEFINE()"},
    {"v2only.so", NULL,
     "targets ABI 2; this host supports ABI 1; rebuild it against the dray "
     "SDK for ABI 1, or use a dray that supports ABI 2"},
    {"newminor.so", "newminor",
     "needs host ABI 1.1 or newer; this host supports ABI 1.0; upgrade dray, "
     "or rebuild the plugin against SDK ABI 1.0"},
    {"badmajor.so", NULL,
     "its descriptor declares ABI 2.0; this host supports ABI 1; rebuild it "
     "against the dray SDK for ABI 1"},
    {"smalldesc.so", NULL,
     "its descriptor is 16 bytes, smaller than ABI 1.0's 104; rebuild it "
     "against the dray SDK"},
    {"badsig.so", "badsig",
     "was built for 'abi1;ptr4;le' but this host is 'abi1;ptr8;le' (pointer "
     "size differs); rebuild it for this platform"},
    {"onloadfail.so", "onloadfail",
     "on_load failed: libexample.so.3 is too old (3.1, needs 3.4); install "
     "libexample 3.4 or newer"},
    {"noloadbatch.so", "noloadbatch",
     "lacks the required callback 'load_batch'"},
    {"baddefault.so", "baddefault",
     "the default of option 'batch_rows' is invalid: expected an integer"},
};

static void test_each_refusal_exact(void)
{
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        struct plugin_set set = {0};
        char *path = xasprintf("%s/%s", DIR_OF("refused"), refusals[i].file);
        const struct plugin *p = load_one(&set, path);

        CHECK(p != NULL);
        if (p) {
            CHECK_INT(p->status, PLUGIN_REFUSED);
            CHECK_STR(p->reason, refusals[i].reason);
            if (refusals[i].name)
                CHECK_STR(p->name, refusals[i].name);
            else
                CHECK(p->name == NULL);
            CHECK(p->handle == NULL); /* closed after the refusal */
        }
        plugins_release(&set);
        free(path);
    }
}

static const struct refusal more_refusals[] = {
    {"novtable.so", "novtable", "has no vtable; set .vtable in its descriptor"},
    {"nodialect.so", "nodialect",
     "has no dialect; set .dialect in its descriptor"},
    {"nomodes.so", "nomodes",
     "supports no load mode; set upsert and/or append in its dialect"},
    {"badnest.so", "badnest",
     "has a dialect with a value this host does not know (nesting 9, split "
     "rule 0, case 0, unit 0); rebuild it against the dray SDK"},
    {"capnocb.so", "capnocb",
     "claims capability 'readback' but has no 'readback' callback"},
    {"hugeopts.so", "hugeopts",
     "has an invalid option table (100000 options of 56 bytes; ABI 1.0 "
     "allows up to 1024 options of 56 to 4096 bytes); rebuild it against the "
     "dray SDK"},
    {"dupopt.so", "dupopt", "declares option 'dsn' twice"},
    {"badoptname.so", "badoptname",
     "has an option with an invalid name 'Batch-Rows'; option names are "
     "[a-z][a-z0-9_]*"},
    {"badopttype.so", "badopttype",
     "option 'mystery' has type 99, unknown to this host"},
    {"enumnovalues.so", "enumnovalues", "enum option 'format' lists no values"},
    {"badname.so", NULL,
     "has an invalid name 'Bad-Name'; a plugin name is [a-z][a-z0-9_]*, at "
     "most 63 characters"},
    {"entryfails.so", NULL, "its entry point failed (E_PERMANENT)"},
};

static void check_refusals(const char *dir, const struct refusal *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct plugin_set set = {0};
        char *path = xasprintf("%s/%s", dir, r[i].file);
        const struct plugin *p = load_one(&set, path);

        CHECK(p != NULL);
        if (p) {
            CHECK_INT(p->status, PLUGIN_REFUSED);
            CHECK_STR(p->reason, r[i].reason);
            if (r[i].name)
                CHECK_STR(p->name, r[i].name);
            else
                CHECK(p->name == NULL);
        }
        plugins_release(&set);
        free(path);
    }
}

static void test_more_refusals(void)
{
    check_refusals(DIR_OF("refused2"), more_refusals,
                   sizeof(more_refusals) / sizeof(more_refusals[0]));
}

/* A plugin whose library lacks a function at run time is refused with the
   dynamic loader's own words, not killed at its first call. */
static void test_missing_symbol_refused_at_load(void)
{
    struct plugin_set set = {0};
    const struct plugin *p = load_one(&set, DIR_OF("lazy") "/missingsym.so");

    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->status, PLUGIN_REFUSED);
        CHECK_CONTAINS(p->reason, "cannot be loaded: ");
        CHECK_CONTAINS(p->reason, "undefined symbol: tdep_new");
    }
    plugins_release(&set);
}

/* A refused file claims its file name, so a broken override in an earlier
   folder is reported instead of silently replaced by a later file. */
static void test_unreadable_file_claims_its_stem(void)
{
    char dir[] = "/tmp/dray-claim-XXXXXX";
    struct plugin_set set = {0};
    char *cmd;

    CHECK(mkdtemp(dir) != NULL);
    cmd = xasprintf("cp '%s/v2only.so' '%s/echo.so'", DIR_OF("refused"), dir);
    CHECK_INT(system(cmd), 0);
    free(cmd);
    set.dirs = xcalloc(2, sizeof(char *));
    set.dirs[0] = xstrdup(dir);
    set.dirs[1] = xstrdup(DIR_OF("good"));
    set.n_dirs = 2;
    plugins_discover(&set);
    const struct plugin *p = plugins_find(&set, "echo");
    CHECK(p != NULL && p->status == PLUGIN_REFUSED);
    CHECK_INT(set.n, 2);
    if (set.n == 2) {
        CHECK_INT(set.items[1].status, PLUGIN_REFUSED);
        CHECK_CONTAINS(set.items[1].reason, "shadowed by ");
    }
    plugins_release(&set);
    cmd = xasprintf("rm -rf '%s'", dir);
    CHECK_INT(system(cmd), 0);
    free(cmd);
}

/* Loaded plugins stay mapped after release; on_load runs once per file. */
static void test_loaded_plugins_stay_mapped(void)
{
    struct plugin_set a = {0}, b = {0};
    const struct plugin *p;
    void *probe;

    p = load_one(&a, DIR_OF("good") "/echo.so");
    CHECK(p && p->status == PLUGIN_OK);
    p = load_one(&b, DIR_OF("good") "/echo.so");
    CHECK(p && p->status == PLUGIN_OK);
    plugins_release(&a);
    plugins_release(&b);
    probe = dlopen(DIR_OF("good") "/echo.so", RTLD_NOW | RTLD_NOLOAD);
    CHECK(probe != NULL);
    if (probe)
        dlclose(probe);
}

static void test_not_loadable_elf(void)
{
    /* An executable is ELF but cannot be dlopen'ed as a library. */
    char dir[] = "/tmp/dray-loader-XXXXXX";
    struct plugin_set set = {0};
    const struct plugin *p;
    char *copy, *cmd;

    CHECK(mkdtemp(dir) != NULL);
    copy = xasprintf("%s/exe.so", dir);
    cmd = xasprintf("cp /bin/true '%s'", copy);
    CHECK_INT(system(cmd), 0);
    p = load_one(&set, copy);
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->status, PLUGIN_REFUSED);
        CHECK(strncmp(p->reason, "cannot be loaded: ", 18) == 0);
        CHECK_CONTAINS(p->reason, "; install the libraries it needs or "
                                  "rebuild it");
    }
    plugins_release(&set);
    unlink(copy);
    rmdir(dir);
    free(copy);
    free(cmd);
}

static void test_refused_never_stop_others(void)
{
    struct plugin_set set = {0};
    size_t ok = 0, refused = 0;

    set.dirs = xcalloc(2, sizeof(char *));
    set.dirs[0] = xstrdup(DIR_OF("refused"));
    set.dirs[1] = xstrdup(DIR_OF("good"));
    set.n_dirs = 2;
    plugins_discover(&set);
    for (size_t i = 0; i < set.n; i++)
        set.items[i].status == PLUGIN_OK ? ok++ : refused++;
    CHECK_INT(refused, sizeof(refusals) / sizeof(refusals[0]));
    CHECK_INT(ok, 1);
    const struct plugin *echo = plugins_find(&set, "echo");
    CHECK(echo != NULL && echo->status == PLUGIN_OK);
    if (echo) {
        CHECK_STR(echo->version, "1.0.0");
        CHECK_INT(echo->abi_major, DRAY_ABI_MAJOR);
        CHECK_INT(echo->abi_minor, DRAY_ABI_MINOR);
        CHECK_INT(echo->n_options, 16);
        CHECK_STR(echo->options[1].name, "fail_mode");
        CHECK_INT(echo->options[1].n_enum_values, 3);
        CHECK(echo->dialect.modes == DRAY_MODE_BIT(DRAY_MODE_APPEND));
    }
    plugins_release(&set);
}

static void check_twins(const char *first, const char *second)
{
    struct plugin_set set = {0};
    char *want;

    set.dirs = xcalloc(3, sizeof(char *));
    set.dirs[0] = xstrdup(first);
    set.dirs[1] = xstrdup(second);
    set.dirs[2] = xstrdup(first); /* listed twice: loaded once */
    set.n_dirs = 3;
    plugins_discover(&set);
    CHECK_INT(set.n, 2);
    if (set.n == 2) {
        CHECK_INT(set.items[0].status, PLUGIN_OK);
        CHECK_INT(set.items[1].status, PLUGIN_REFUSED);
        want = xasprintf("shadowed by %s", set.items[0].file);
        CHECK_STR(set.items[1].reason, want);
        free(want);
        CHECK(plugins_find(&set, "twin") == &set.items[0]);
        CHECK(strncmp(set.items[0].file, first, strlen(first)) == 0);
    }
    plugins_release(&set);
}

static void test_first_of_a_name_wins(void)
{
    check_twins(DIR_OF("dup1"), DIR_OF("dup2"));
    check_twins(DIR_OF("dup2"), DIR_OF("dup1"));
}

static void test_search_path_order(void)
{
    struct plugin_set set = {0};
    struct config cfg = {0};
    char *pp[] = {"/from/config"};

    cfg.plugin_path = pp;
    cfg.n_plugin_path = 1;
    setenv("DRAY_PLUGIN_PATH", "/env/a::/env/b", 1);
    plugins_set_search_path(&set, &cfg);
    unsetenv("DRAY_PLUGIN_PATH");
    CHECK_INT(set.n_dirs, 4);
    if (set.n_dirs == 4) {
        CHECK_STR(set.dirs[0], "/from/config");
        CHECK_STR(set.dirs[1], "/env/a");
        CHECK_STR(set.dirs[2], "/env/b");
        /* The built-in folder is next to the test binary's bin/. */
        CHECK_CONTAINS(set.dirs[3], "/lib/dray/plugins");
        CHECK(strstr(set.dirs[3], "..") == NULL);
    }
    plugins_release(&set);
}

static void test_host_has(void)
{
    struct dray_host_api copy = *host_api();

    CHECK(DRAY_HOST_HAS(&copy, should_stop));
    CHECK(DRAY_HOST_HAS(&copy, log_enabled));
    /* A host table from before should_stop existed. */
    copy.hdr.struct_size =
        (uint32_t)offsetof(struct dray_host_api, should_stop);
    CHECK(!DRAY_HOST_HAS(&copy, should_stop));
    CHECK(DRAY_HOST_HAS(&copy, output_write));
    copy = *host_api();
    copy.output_write = NULL;
    CHECK(!DRAY_HOST_HAS(&copy, output_write));
    CHECK(!DRAY_HOST_HAS((const struct dray_host_api *)NULL, vlog));
    CHECK_INT(host_api()->hdr.struct_size, sizeof(struct dray_host_api));
    CHECK(host_api()->hdr.struct_size >= DRAY_HOST_API_SIZE_1_0);
    CHECK_INT(host_api()->hdr.abi_major, DRAY_ABI_MAJOR);
}

static void test_sdk_bind_checks_host(void)
{
    static const struct dray_plugin_desc desc = {
        .hdr = DRAY_HDR_INIT(struct dray_plugin_desc)};
    struct dray_host_api host = *host_api();
    const struct dray_plugin_desc *out = &desc;

    CHECK_INT(dray_sdk_bind(&host, &desc, &out), DRAY_OK);
    CHECK(out == &desc);
    host.hdr.abi_major = 2;
    CHECK_INT(dray_sdk_bind(&host, &desc, &out), DRAY_E_ABI);
    CHECK(out == NULL);
    host = *host_api();
    host.hdr.struct_size = 16;
    CHECK_INT(dray_sdk_bind(&host, &desc, &out), DRAY_E_ABI);
    CHECK_INT(dray_sdk_bind(NULL, &desc, &out), DRAY_E_ABI);
}

UNIT_MAIN(UNIT_CASE(test_each_refusal_exact), UNIT_CASE(test_not_loadable_elf),
          UNIT_CASE(test_refused_never_stop_others),
          UNIT_CASE(test_first_of_a_name_wins),
          UNIT_CASE(test_search_path_order), UNIT_CASE(test_host_has),
          UNIT_CASE(test_sdk_bind_checks_host), UNIT_CASE(test_more_refusals),
          UNIT_CASE(test_missing_symbol_refused_at_load),
          UNIT_CASE(test_unreadable_file_claims_its_stem),
          UNIT_CASE(test_loaded_plugins_stay_mapped))

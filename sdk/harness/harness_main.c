/*
 * dray-plugin-test: says whether a destination plugin keeps dray's
 * promises (docs/HARNESS.md). This file: the command line, finding the
 * scenarios and dray, the loop and the summary.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dray/dray_abi.h"
#include "harness.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define EXIT_UNUSABLE 3

static const char usage[] =
    "usage: dray-plugin-test PLUGIN.so [-c CONF] [--scenario GLOB]... "
    "[--list]\n"
    "                        [--junit FILE] [--max-rss MIB] [-v] [--keep]\n"
    "\n"
    "Loads Singer data through the plugin as 'dray run' does, reads it back\n"
    "and compares it with what dray promises (docs/HARNESS.md).\n"
    "\n"
    "  -c CONF          a dray config; the options of its first destination\n"
    "                   with this plugin are used\n"
    "  --scenario GLOB  only scenarios whose name matches (repeatable)\n"
    "  --list           print the scenarios and their needs, and exit\n"
    "  --junit FILE     also write JUnit XML\n"
    "  --max-rss MIB    the bound of the worker's peak memory in the\n"
    "                   [expect-max-rss] scenarios (default: the scenario's,\n"
    "                   else 64)\n"
    "  -v               print each step and the dray commands' output\n"
    "  --keep           keep each scenario's folder and namespace\n"
    "\n"
    "Environment: DRAY (the dray executable; default: beside this one),\n"
    "DRAY_SCENARIOS (the scenario folder).\n"
    "Exit 0 when nothing failed, 1 when something did, 2 for a usage error,\n"
    "3 when the plugin or config cannot be used at all, 130 or 143 when\n"
    "interrupted (SIGINT, SIGTERM) after cleaning up.\n";

struct opts {
    const char *plugin, *conf, *junit, *max_rss;
    const char *globs[64];
    int n_globs, list, verbose, keep;
};

static int usage_error(const char *fmt, const char *arg)
{
    fputs("dray-plugin-test: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    fputs(usage, stderr);
    return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **val = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return -1;
        }
        if (strcmp(a, "--list") == 0)
            o->list = 1;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            o->verbose = 1;
        else if (strcmp(a, "--keep") == 0)
            o->keep = 1;
        else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0)
            val = &o->conf;
        else if (strcmp(a, "--junit") == 0)
            val = &o->junit;
        else if (strcmp(a, "--max-rss") == 0)
            val = &o->max_rss;
        else if (strcmp(a, "--scenario") == 0) {
            if (o->n_globs == 64)
                return usage_error("at most 64 '%s' options", a);
            val = &o->globs[o->n_globs++];
        } else if (a[0] == '-')
            return usage_error("unknown option '%s'", a);
        else if (o->plugin != NULL)
            return usage_error("one plugin at a time ('%s' is a second)", a);
        else
            o->plugin = a;
        if (val != NULL) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0')
                return usage_error("option '%s' needs a value", a);
            *val = argv[++i];
        }
    }
    if (o->plugin == NULL && !o->list)
        return usage_error("%s", "name the plugin file to test");
    long mib;
    if (o->max_rss != NULL &&
        (dray__parse_long(o->max_rss, strlen(o->max_rss), &mib) != 0 ||
         mib < 1))
        return usage_error("--max-rss needs a bound in MiB from 1, not '%s'",
                           o->max_rss);
    return 0;
}

static int is_dir(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folder of this executable, or "" when unknown. */
static void exe_dir(char *out, size_t n)
{
    ssize_t got = readlink("/proc/self/exe", out, n - 1);

    out[got > 0 ? got : 0] = '\0';
    char *slash = strrchr(out, '/');
    if (slash != NULL)
        *slash = '\0';
}

static const char *scenario_dir(const char *exe, char *buf, size_t n)
{
    const char *env = getenv("DRAY_SCENARIOS");

    if (env != NULL && *env)
        return env;
    snprintf(buf, n, "%s/../share/dray/scenarios", exe);
    if (exe[0] && is_dir(buf))
        return buf;
#ifdef DRAY_HARNESS_SCENARIO_SRC
    if (is_dir(DRAY_HARNESS_SCENARIO_SRC))
        return DRAY_HARNESS_SCENARIO_SRC; /* a build tree */
#endif
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .scn files that match the globs, sorted. */
static char **find_scenarios(const char *dir, const struct opts *o, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **list = NULL;

    *n = 0;
    while (d != NULL && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".scn") != 0)
            continue;
        char stem[NAME_MAX + 1];
        snprintf(stem, sizeof(stem), "%.*s", (int)(len - 4), e->d_name);
        int match = o->n_globs == 0;
        for (int g = 0; g < o->n_globs && !match; g++)
            match = fnmatch(o->globs[g], stem, 0) == 0;
        if (!match)
            continue;
        list = dray__xrealloc(list, (*n + 1) * sizeof(char *));
        size_t plen = strlen(dir) + len + 2;
        list[*n] = dray__xmalloc(plen);
        snprintf(list[(*n)++], plen, "%s/%s", dir, e->d_name);
    }
    if (d != NULL)
        closedir(d);
    if (*n > 0)
        qsort(list, *n, sizeof(char *), cmp_str);
    return list;
}

static void print_list(char **files, size_t n, const struct plugin_info *pi)
{
    for (size_t i = 0; i < n; i++) {
        struct scenario s;
        char err[512], missing[200];
        if (dray__scn_load(files[i], 1, &s, err, sizeof(err)) != 0) {
            printf("%-28s scenario error: %s\n", s.name ? s.name : files[i],
                   err);
            dray__scn_release(&s);
            continue;
        }
        struct dray_buf needs = DRAY_BUF_INIT;
        for (unsigned bit = 1; bit <= NEED_LAST; bit <<= 1)
            if (s.needs & bit)
                dray__xaddf(&needs, "%s%s", needs.len ? " " : "",
                            dray__need_name(bit));
        /* The first sentence of the description. */
        const char *dot = strstr(s.desc, ". ");
        int dlen = dot ? (int)(dot - s.desc + 1) : (int)strlen(s.desc);
        printf("%-28s [needs %s] %.*s", s.name, needs.len ? needs.data : "-",
               dlen, s.desc);
        if (pi != NULL) {
            dray__missing_needs(pi, &s, missing, sizeof(missing));
            if (missing[0])
                printf(" (skip: needs%s)", missing);
        }
        printf("\n");
        dray_buf_release(&needs);
        dray__scn_release(&s);
    }
}

/* The destination must work before any scenario can say anything. */
static int check_destination(struct harness *h, const char *scratch)
{
    char cfg[PATH_MAX + 16], line[400];
    struct gen_config g = {h->pi,
                           h->base,
                           h->n_base,
                           NULL,
                           h->pi->has_upsert ? DRAY_MODE_UPSERT
                                             : DRAY_MODE_APPEND,
                           NULL};
    struct proc_result pr;
    int rc = 0;

    snprintf(cfg, sizeof(cfg), "%s/check.yml", scratch);
    if (dray__write_config(cfg, &g) != 0) {
        fprintf(stderr, "dray-plugin-test: cannot write %s: %s\n", cfg,
                strerror(errno));
        return -1;
    }
    const char *argv[] = {h->dray,         "__plugin-op", "-c",    cfg,
                          "--destination", "dut",         "check", NULL};
    if (dray__proc_run(argv, NULL, NULL, scratch, 300, &pr) != 0) {
        if (!dray__interrupted())
            fprintf(stderr, "dray-plugin-test: cannot run %s: %s\n", h->dray,
                    strerror(errno));
        return -1;
    }
    if (dray__interrupted()) {
        rc = -1;
    } else if (pr.status != 0 && pr.status != 5) {
        const char *end = pr.err.data + pr.err.len;
        while (end > pr.err.data && end[-1] == '\n')
            end--;
        snprintf(line, sizeof(line), "%.*s", (int)(end - pr.err.data),
                 pr.err.data);
        fprintf(stderr,
                "dray-plugin-test: destination check of plugin '%s' "
                "failed (exit %d): %s\n",
                h->pi->name, pr.status, line[0] ? line : "no message");
        rc = -1;
    }
    dray__proc_release(&pr);
    return rc;
}

/* The one line an interrupt leaves, on stderr; scenario NULL: none was
   running. */
static void interrupted_msg(const char *scenario, int keep)
{
    int sig = dray__interrupted();
    const char *name = sig == SIGINT ? "SIGINT" : "SIGTERM";

    if (scenario == NULL)
        fprintf(stderr,
                "dray-plugin-test: interrupted by %s; no scenario was "
                "running, nothing to clean up\n",
                name);
    else if (keep)
        fprintf(stderr,
                "dray-plugin-test: interrupted by %s in %s; its folder and "
                "namespace are kept (--keep)\n",
                name, scenario);
    else
        fprintf(stderr,
                "dray-plugin-test: interrupted by %s in %s; its commands "
                "were stopped, its namespace dropped and its folder "
                "removed\n",
                name, scenario);
}

static int run_all(struct harness *h, char **files, size_t n, const char *junit)
{
    struct result *res = dray__xcalloc(n + 1, sizeof(*res));
    size_t passed = 0, failed = 0, skipped = 0;

    for (size_t i = 0; i < n; i++) {
        struct scenario s;
        struct result *r = &res[i];
        char err[512];
        if (dray__interrupted()) {
            interrupted_msg(NULL, 0); /* between two scenarios */
            goto out;
        }
        if (dray__scn_load(files[i], 0, &s, err, sizeof(err)) != 0) {
            r->status = RES_FAIL;
            snprintf(r->msg, sizeof(r->msg), "scenario error: %.480s", err);
        } else {
            if (h->verbose)
                printf("-- %s: %s\n", s.name, s.desc);
            dray__run_scenario(h, &s, r);
        }
        r->name = dray__xstrdup(s.name ? s.name : files[i]);
        dray__scn_release(&s);
        if (dray__interrupted()) {
            /* Its cleanup ran (namespace, folder); what it did so far
               means nothing, so neither a result nor a summary. */
            interrupted_msg(r->name, h->keep);
            n = i + 1;
            goto out;
        }
        if (r->status == RES_OK) {
            printf("ok %s\n", r->name);
            passed++;
        } else {
            printf("%s %s: %s\n", r->status == RES_FAIL ? "FAIL" : "skip",
                   r->name, r->msg);
            if (r->status == RES_FAIL && r->diff.len)
                fputs(r->diff.data, stdout);
            failed += r->status == RES_FAIL;
            skipped += r->status == RES_SKIP;
        }
        fflush(stdout);
    }
    printf("%zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
    if (junit != NULL) {
        char suite[128];
        snprintf(suite, sizeof(suite), "dray-plugin-test.%s", h->pi->name);
        if (dray__junit_write(junit, suite, res, n) != 0)
            fprintf(stderr, "dray-plugin-test: cannot write %s: %s\n", junit,
                    strerror(errno));
    }
out:
    for (size_t i = 0; i < n; i++) {
        free(res[i].name);
        dray_buf_release(&res[i].diff);
    }
    free(res);
    if (dray__interrupted())
        return 128 + dray__interrupted();
    return failed ? EXIT_FAILED : 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct harness h;
    struct plugin_info pi;
    struct scn_option *base = NULL;
    size_t n_base = 0, n_files = 0;
    char exe[PATH_MAX], sdir_buf[PATH_MAX + 64], dray_buf[PATH_MAX + 8];
    char scratch[PATH_MAX], err[1024];
    const char *sdir, *dray = getenv("DRAY"), *tmp = getenv("TMPDIR");
    char **files;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&h, 0, sizeof(h));
    memset(&pi, 0, sizeof(pi));
    if ((rc = parse_args(argc, argv, &o)) != 0)
        return rc < 0 ? 0 : rc;
    setvbuf(stdout, NULL, _IOLBF, 0);
    exe_dir(exe, sizeof(exe));
    sdir = scenario_dir(exe, sdir_buf, sizeof(sdir_buf));
    if (sdir == NULL) {
        fprintf(stderr,
                "dray-plugin-test: no scenario folder beside %s; "
                "set DRAY_SCENARIOS\n",
                exe);
        return EXIT_UNUSABLE;
    }
    files = find_scenarios(sdir, &o, &n_files);
    if (n_files == 0) {
        /* Passing nothing is no pass: a glob with a typo must not look
           like a green run. */
        fprintf(stderr, "dray-plugin-test: no scenario in %s%s\n", sdir,
                o.n_globs ? " matches; see --list" : "");
        free(files);
        return o.n_globs ? EXIT_USAGE : EXIT_UNUSABLE;
    }
    if (dray == NULL || *dray == '\0') {
        snprintf(dray_buf, sizeof(dray_buf), "%s/dray", exe);
        dray = dray_buf;
    }
    if (o.plugin != NULL && access(dray, X_OK) != 0) {
        fprintf(stderr,
                "dray-plugin-test: cannot run %s: %s; set DRAY to "
                "the dray executable\n",
                dray, strerror(errno));
        dray__strv_free(files, n_files);
        return EXIT_UNUSABLE;
    }
    if (o.plugin == NULL) {
        print_list(files, n_files, NULL);
        dray__strv_free(files, n_files);
        return 0;
    }
    snprintf(scratch, sizeof(scratch), "%s/dpt-probe-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(scratch) == NULL) {
        fprintf(stderr, "dray-plugin-test: cannot make a folder in %s: %s\n",
                tmp && *tmp ? tmp : "/tmp", strerror(errno));
        dray__strv_free(files, n_files);
        return EXIT_UNUSABLE;
    }
    rc = EXIT_UNUSABLE;
    /* From here a Ctrl-C stops the running command and cleans up. */
    dray__interrupt_install();
    if (dray__plugin_probe(dray, o.plugin, scratch, &pi, err, sizeof(err))) {
        if (!dray__interrupted())
            fprintf(stderr, "dray-plugin-test: %s\n", err);
        goto out;
    }
    if (o.list) {
        print_list(files, n_files, &pi);
        rc = 0;
        goto out;
    }
    if (o.conf != NULL &&
        dray__conf_options(o.conf, &pi, &base, &n_base, err, sizeof(err))) {
        fprintf(stderr, "dray-plugin-test: %s\n", err);
        goto out;
    }
    h.dray = dray;
    h.pi = &pi;
    h.base = base;
    h.n_base = n_base;
    h.verbose = o.verbose;
    h.keep = o.keep;
    if (o.max_rss != NULL)
        dray__parse_long(o.max_rss, strlen(o.max_rss), &h.max_rss_mib);
    if (check_destination(&h, scratch) != 0)
        goto out;
    rc = run_all(&h, files, n_files, o.junit);
out:
    if (dray__interrupted() && rc != 128 + dray__interrupted()) {
        interrupted_msg(NULL, 0);
        rc = 128 + dray__interrupted();
    }
    dray__remove_tree(scratch);
    dray__options_free(base, n_base);
    dray__plugin_release(&pi);
    dray__strv_free(files, n_files);
    return rc;
}

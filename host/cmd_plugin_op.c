/*
 * dray __plugin-op: one conformance operation on a destination's plugin,
 * for dray-plugin-test (docs/HARNESS.md). Hidden from the help. The plugin
 * is loaded and its instance made exactly as in a loader worker, so the
 * harness tests what 'dray run' would run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "destination.h"
#include "host_api.h"
#include "plugin_loader.h"

enum op { OP_READBACK, OP_LIST_TABLES, OP_NS_CREATE, OP_NS_DROP, OP_CHECK };

static const struct {
    const char *name;
    int n_args;   /* after the name */
    int ns_maybe; /* "-" may stand for the configured namespace */
    uint64_t cap;
    const char *cap_name;
} ops[] = {
    [OP_READBACK] = {"readback", 2, 1, DRAY_CAP_READBACK, "readback"},
    [OP_LIST_TABLES] = {"list-tables", 1, 1, DRAY_CAP_READBACK, "readback"},
    [OP_NS_CREATE] = {"namespace-create", 1, 0, DRAY_CAP_NAMESPACES,
                      "namespaces"},
    [OP_NS_DROP] = {"namespace-drop", 1, 0, DRAY_CAP_NAMESPACES, "namespaces"},
    [OP_CHECK] = {"check", 0, 0, DRAY_CAP_CHECK, "check"},
};
#define N_OPS (sizeof(ops) / sizeof(ops[0]))

#define EXITCODE_UNSUPPORTED 5 /* the plugin lacks the operation */

struct args {
    const char *config, *destination;
    const char *pos[4]; /* OP and its arguments */
    int n_pos;
    int op;
};

/* 0, -2 after --help, or -1 after a usage error. */
static int parse(const struct command *self, int argc, char **argv,
                 struct args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        int taken = cli_option_value(self, argc, argv, &i, "-c", "--config",
                                     "a file", &a->config);
        if (taken == 0)
            taken =
                cli_option_value(self, argc, argv, &i, NULL, "--destination",
                                 "a name", &a->destination);
        if (taken < 0)
            return -1;
        if (taken)
            continue;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(self->usage, stdout);
            return -2;
        }
        if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0) {
            cli_usage_error(self, "unknown option '%s'", argv[i]);
            return -1;
        }
        if (a->n_pos == 3) {
            cli_usage_error(self, "unexpected argument '%s'", argv[i]);
            return -1;
        }
        a->pos[a->n_pos++] = argv[i];
    }
    if (a->destination == NULL || a->n_pos == 0) {
        cli_usage_error(self, "needs --destination NAME and an operation");
        return -1;
    }
    for (a->op = 0; a->op < (int)N_OPS; a->op++)
        if (strcmp(a->pos[0], ops[a->op].name) == 0)
            break;
    if (a->op == (int)N_OPS) {
        cli_usage_error(self, "unknown operation '%s'", a->pos[0]);
        return -1;
    }
    if (a->n_pos - 1 != ops[a->op].n_args) {
        cli_usage_error(self, "'%s' takes %d argument%s", a->pos[0],
                        ops[a->op].n_args, ops[a->op].n_args == 1 ? "" : "s");
        return -1;
    }
    if (a->n_pos > 1 && !(ops[a->op].ns_maybe && strcmp(a->pos[1], "-") == 0) &&
        !config_is_namespace(a->pos[1])) {
        cli_usage_error(self,
                        "namespace '%s' is not valid; use 1 to 63 "
                        "characters from a-z, 0-9 and '_'%s",
                        a->pos[1],
                        ops[a->op].ns_maybe ? ", or '-' for the configured one"
                                            : "");
        return -1;
    }
    if (a->n_pos > 2 && a->pos[2][0] == '\0') {
        cli_usage_error(self, "the table name is empty");
        return -1;
    }
    return 0;
}

/* Runs the operation; the plugin's status, with out holding any rows. */
static dray_status run_op(const struct instance *inst, const struct args *a,
                          dray_output *out, struct dray_error *e)
{
    const struct dray_plugin_vtable *vt = &inst->plugin->vt;
    const char *ns =
        a->n_pos > 1 && strcmp(a->pos[1], "-") != 0 ? a->pos[1] : NULL;

    switch (a->op) {
    case OP_READBACK:
        return vt->readback(inst->state, ns, a->pos[2], out, e);
    case OP_LIST_TABLES:
        return vt->list_tables(inst->state, ns, out, e);
    case OP_NS_CREATE:
        return vt->namespace_create(inst->state, ns, e);
    case OP_NS_DROP:
        return vt->namespace_drop(inst->state, ns, e);
    default:
        return vt->check(inst->state, e);
    }
}

/* "readback of 'orders'", "namespace-create of 'x'", "check". */
static void describe(const struct args *a, char *buf, size_t len)
{
    if (a->op == OP_READBACK)
        snprintf(buf, len, "readback of %s", a->pos[2]);
    else if (a->n_pos > 1)
        snprintf(buf, len, "%s of %s", a->pos[0], a->pos[1]);
    else
        snprintf(buf, len, "%s", a->pos[0]);
}

int cmd_plugin_op(int argc, char **argv)
{
    const struct command *self = cli_find_command("__plugin-op");
    struct config cfg = {0};
    struct plugin_set set = {0};
    struct strbuf errors = STRBUF_INIT;
    struct dray_config *bound = NULL;
    const struct config_destination *d;
    const struct plugin *p = NULL;
    struct instance inst;
    struct dray_error e;
    struct dray_output out = {STRBUF_INIT, 0, -1, 0};
    struct args a;
    char what[256];
    dray_status st;
    int rc = parse(self, argc, argv, &a);

    if (rc != 0)
        return rc == -2 ? EXITCODE_OK : EXITCODE_USAGE;
    if (cli_load_config(a.config, 1, &cfg) < 0)
        return EXITCODE_CONFIG;
    rc = EXITCODE_CONFIG;
    d = config_destination(&cfg, a.destination);
    if (d == NULL) {
        fprintf(stderr, "dray __plugin-op: no destination '%s' in %s\n",
                a.destination, cfg.path);
        goto out;
    }
    /* Rows go to the caller's stdout only: a plugin that prints writes to
       stderr, as in a worker. */
    out.fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (out.fd < 0 || dup2(2, 1) < 0) {
        fprintf(stderr, "dray __plugin-op: cannot set up stdout: %s\n",
                strerror(errno));
        rc = EXITCODE_RUNTIME;
        goto out;
    }
    plugins_set_search_path(&set, &cfg);
    plugins_discover(&set);
    if (dest_resolve(&set, d, cfg.path, cfg.dir, &p, &bound, &errors) != 0) {
        fputs(strbuf_str(&errors), stderr);
        goto out;
    }
    if (!(p->caps & ops[a.op].cap)) {
        fprintf(stderr,
                "dray __plugin-op: plugin '%s' does not support %s "
                "(capability '%s')\n",
                p->name, a.pos[0], ops[a.op].cap_name);
        rc = EXITCODE_UNSUPPORTED;
        goto out;
    }
    rc = EXITCODE_RUNTIME;
    error_init(&e);
    if (instance_create(&inst, p, bound, &e) != 0) {
        char *msg = error_oneline(&e);
        fprintf(stderr,
                "dray __plugin-op: destination '%s' could not start: %s\n",
                d->name, msg);
        free(msg);
        error_release(&e);
        goto out;
    }
    st = run_op(&inst, &a, &out, &e);
    instance_destroy(&inst);
    describe(&a, what, sizeof(what));
    if (st == DRAY_OK && output_flush(&out) != 0) {
        fprintf(stderr, "dray __plugin-op: cannot write the %s to stdout: %s\n",
                what, strerror(out.error));
    } else if (st != DRAY_OK && out.error) {
        fprintf(stderr, "dray __plugin-op: cannot write the %s to stdout: %s\n",
                what, strerror(out.error));
    } else if (st != DRAY_OK) {
        char *msg;
        if (e.cls == DRAY_OK)
            e.cls = st;
        msg = error_oneline(&e);
        fprintf(stderr, "dray __plugin-op: %s %s: %s\n", what,
                st == DRAY_E_UNSUPPORTED ? "is not supported" : "failed", msg);
        free(msg);
        if (st == DRAY_E_UNSUPPORTED)
            rc = EXITCODE_UNSUPPORTED;
    } else {
        rc = EXITCODE_OK;
    }
    error_release(&e);
out:
    if (out.fd > 0)
        close(out.fd);
    strbuf_release(&out.buf);
    dest_config_free(bound);
    strbuf_release(&errors);
    plugins_release(&set); /* on_unload, after the instance is gone */
    config_release(&cfg);
    return rc;
}

/*
 * dray requeue: makes quarantined batches pending again, with their
 * attempts and back-off started over, so the next 'dray run' offers them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_common.h"
#include "strbuf.h"

struct requeue_opts {
    const char *config;
    const char *destination;
    int all;
    const char **batches;
    size_t n_batches;
};

/* Returns 0, -2 after --help, -1 after a usage error. */
static int parse(const struct command *cmd, int argc, char **argv,
                 struct requeue_opts *o)
{
    int only_args = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int taken;

        if (only_args || a[0] != '-') {
            o->batches[o->n_batches++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(cmd->usage, stdout);
            return -2;
        }
        if (strcmp(a, "--all") == 0) {
            o->all = 1;
            continue;
        }
        taken = cli_option_value(cmd, argc, argv, &i, "-c", "--config",
                                 "a file", &o->config);
        if (taken == 0)
            taken = cli_option_value(cmd, argc, argv, &i, NULL, "--destination",
                                     "a name", &o->destination);
        if (taken < 0)
            return -1;
        if (taken == 0) {
            cli_usage_error(cmd, "unknown option '%s'", a);
            return -1;
        }
    }
    if (o->config != NULL && o->config[0] == '\0') {
        cli_usage_error(cmd, "option '-c' needs a file");
        return -1;
    }
    if (o->destination != NULL && o->destination[0] == '\0') {
        cli_usage_error(cmd, "option '--destination' needs a name");
        return -1;
    }
    if (o->all && o->n_batches > 0) {
        cli_usage_error(cmd, "give either --all or BATCH arguments, not both");
        return -1;
    }
    if (!o->all && o->n_batches == 0) {
        cli_usage_error(cmd, "name the batches to requeue, or give --all");
        return -1;
    }
    return 0;
}

/* The batches requeued, to count each once whatever its destinations. */
struct done {
    char **ids;
    size_t n;
};

static void done_add(struct done *d, const char *id)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->ids[i], id) == 0)
            return;
    d->ids = xrealloc(d->ids, (d->n + 1) * sizeof(*d->ids));
    d->ids[d->n++] = xstrdup(id);
}

/* One batch at one destination: 0 requeued, 1 not quarantined there, -1
   failed (said so). */
static int requeue_one(struct admin *a, const char *dest, const char *id,
                       struct done *done)
{
    struct strbuf err = STRBUF_INIT;
    int rc = spool_requeue(&a->sp, dest, id, &err);

    if (rc == 0)
        done_add(done, id);
    else if (rc < 0)
        fprintf(stderr, "dray requeue: %s\n", strbuf_str(&err));
    strbuf_release(&err);
    return rc;
}

static int requeue_all(struct admin *a, const char *dest, struct done *done)
{
    struct spool_quarantined *q = NULL;
    size_t n = a->have_spool ? spool_quarantined_list(&a->sp, &q) : 0;
    int failed = 0;

    for (size_t i = 0; i < n; i++) {
        if (dest != NULL && strcmp(q[i].destination, dest) != 0)
            continue;
        /* 1: requeued by someone else meanwhile, which is fine. */
        if (requeue_one(a, q[i].destination, q[i].batch, done) < 0)
            failed = 1;
    }
    spool_quarantined_free(q, n);
    return failed;
}

/* Why a BATCH argument was not requeued (at dest, or anywhere). */
static void not_quarantined(const struct admin *a, const char *arg,
                            const char *id, const char *dest)
{
    if (!admin_batch_exists(a, id))
        fprintf(stderr, "dray requeue: no batch '%s' in the spool at %s\n", arg,
                admin_spool_path(a));
    else if (dest != NULL)
        fprintf(stderr, "dray requeue: batch %s is not quarantined at %s\n", id,
                dest);
    else
        fprintf(stderr,
                "dray requeue: batch %s is not quarantined at any "
                "destination\n",
                id);
}

/* A BATCH argument: requeued at dest, or wherever it is quarantined. */
static int requeue_arg(struct admin *a, const char *arg, const char *dest,
                       struct done *done)
{
    char *id = admin_batch_id(arg);
    char **at = NULL;
    size_t n = 0;
    int failed = 0;

    if (id == NULL) {
        fprintf(stderr, "dray requeue: no batch '%s' in the spool at %s\n", arg,
                admin_spool_path(a));
        return 1;
    }
    if (dest != NULL) {
        at = xcalloc(2, sizeof(*at));
        at[n++] = xstrdup(dest);
    } else {
        n = admin_quarantined_at(a, id, &at);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = a->have_spool ? requeue_one(a, at[i], id, done) : 1;
        if (rc != 0)
            failed = 1;
        if (rc == 1)
            not_quarantined(a, arg, id, at[i]);
    }
    if (n == 0) {
        failed = 1;
        not_quarantined(a, arg, id, NULL);
    }
    admin_names_free(at, n);
    free(id);
    return failed;
}

int cmd_requeue(int argc, char **argv)
{
    const struct command *self = cli_find_command("requeue");
    struct requeue_opts o = {0};
    struct done done = {0};
    struct admin a;
    int failed = 0, rc;

    o.batches = xcalloc((size_t)argc + 1, sizeof(*o.batches));
    rc = parse(self, argc, argv, &o);
    if (rc != 0) {
        rc = rc == -2 ? EXITCODE_OK : EXITCODE_USAGE;
        goto out;
    }
    rc = admin_open(self, o.config, &a);
    if (rc != EXITCODE_OK)
        goto out;
    if (o.destination != NULL &&
        !admin_check_destination(self, &a, o.destination)) {
        rc = EXITCODE_USAGE;
        goto close;
    }
    if (o.all)
        failed = requeue_all(&a, o.destination, &done);
    /* Every argument is tried: one bad id must not hold back the rest. */
    for (size_t i = 0; i < o.n_batches; i++)
        failed |= requeue_arg(&a, o.batches[i], o.destination, &done);
    fprintf(stderr, "dray requeue: %zu batch(es) requeued\n", done.n);
    rc = failed ? EXITCODE_RUNTIME : EXITCODE_OK;
close:
    admin_close(&a);
out:
    for (size_t i = 0; i < done.n; i++)
        free(done.ids[i]);
    free(done.ids);
    free(o.batches);
    return rc;
}

/*
 * dray quarantine show|export|drop: looking into one batch, taking its
 * records out, or giving it up at a destination for good.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin_common.h"
#include "strbuf.h"

enum action { SHOW, EXPORT, DROP };

struct quarantine_opts {
    const char *config;
    const char *destination;
    int yes;
    int action;
    const char *batch;
};

static int parse_action(const struct command *cmd, const char *a, int *out)
{
    static const char *const names[] = {"show", "export", "drop"};

    for (int i = 0; i < 3; i++)
        if (strcmp(a, names[i]) == 0) {
            *out = i;
            return 0;
        }
    cli_usage_error(cmd, "unknown action '%s'; use show, export or drop", a);
    return -1;
}

/* Returns 0, -2 after --help, -1 after a usage error. */
static int parse(const struct command *cmd, int argc, char **argv,
                 struct quarantine_opts *o)
{
    const char *words[2] = {NULL, NULL};
    int n_words = 0, only_args = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int taken;

        if (only_args || a[0] != '-') {
            if (n_words == 2) {
                cli_usage_error(cmd, "unexpected argument '%s'", a);
                return -1;
            }
            words[n_words++] = a;
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
        if (strcmp(a, "--yes") == 0) {
            o->yes = 1;
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
    if (n_words == 0) {
        cli_usage_error(cmd, "name an action: show, export or drop");
        return -1;
    }
    if (parse_action(cmd, words[0], &o->action) != 0)
        return -1;
    if (n_words < 2) {
        cli_usage_error(cmd, "name the batch to %s", words[0]);
        return -1;
    }
    o->batch = words[1];
    if (o->yes && o->action != DROP) {
        cli_usage_error(cmd, "--yes is only for drop");
        return -1;
    }
    if (o->destination != NULL && o->action == EXPORT) {
        cli_usage_error(cmd, "export takes no --destination: a batch's "
                             "records are the same everywhere");
        return -1;
    }
    return 0;
}

/* ---- show ---- */

static void print_time_ms(const char *label, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char text[64];

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm) == 0)
        snprintf(text, sizeof(text), "%lld ms", (long long)ms);
    printf("%s%s.%03d UTC\n", label, text, (int)(ms % 1000));
}

/* dest/<d>/<kind>/<id> as text, malloc'd, or NULL. */
static char *read_marker(const struct admin *a, const char *dest,
                         const char *kind, const char *id)
{
    char *file = xasprintf("%s/dest/%s/%s/%s", a->sp.path, dest, kind, id);
    FILE *f = fopen(file, "r");
    char buf[512];
    size_t n;

    free(file);
    if (f == NULL)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return xstrdup(buf);
}

/* One destination's view of the batch: state, then tries so far. */
static void show_dest(const struct admin *a, const char *dest, const char *id,
                      int routed)
{
    int state = spool_dest_state(&a->sp, dest, id);
    char *attempts = read_marker(a, dest, "attempts", id);
    struct spool_failures f;

    if (state == SPOOL_ACKED) {
        char *how = read_marker(a, dest, "acked", id);
        printf("  %s: %s\n", dest,
               how && strcmp(how, "dropped") == 0 ? "dropped" : "acked");
        free(how);
    } else if (state == SPOOL_QUARANTINED) {
        char *reason = spool_quarantine_reason(&a->sp, dest, id);
        printf("  %s: quarantined: %s\n", dest, reason ? reason : "");
        free(reason);
    } else {
        printf("  %s: %s\n", dest, routed ? "pending" : "not routed there");
    }
    spool_failures_read(&a->sp, dest, id, &f);
    if (attempts != NULL || f.retryable || f.crashes) {
        printf("    attempts %d, retryable failures %d, worker crashes %d\n",
               attempts ? atoi(attempts) : 0, f.retryable, f.crashes);
        if (f.not_before_ms > 0 && state == SPOOL_PENDING)
            print_time_ms("    next try after ", f.not_before_ms);
    }
    free(attempts);
}

/* Markers of a batch whose routes cannot be read: wherever one exists. */
static void show_markers(const struct admin *a, const char *id,
                         const char *only)
{
    char **dests = NULL;
    size_t n = admin_destinations(a, &dests);
    int any = 0;

    for (size_t i = 0; i < n; i++) {
        if (only != NULL && strcmp(dests[i], only) != 0)
            continue;
        if (spool_dest_state(&a->sp, dests[i], id) == SPOOL_PENDING)
            continue;
        show_dest(a, dests[i], id, 0);
        any = 1;
    }
    if (!any)
        printf("  quarantined or acked at no destination\n");
    admin_names_free(dests, n);
}

static int show(const struct admin *a, const char *id, const char *file,
                const char *only)
{
    struct strbuf err = STRBUF_INIT;
    struct spool_batch b;
    int routed = 0;

    printf("batch        %s\nfile         %s\n", id, file);
    if (spool_batch_peek(file, &b, &err) != 0) {
        /* Still worth showing: why it is held back, where. */
        printf("unreadable   %s\nroutes       unknown\n", strbuf_str(&err));
        show_markers(a, id, only);
        strbuf_release(&err);
        return EXITCODE_OK;
    }
    printf("integration  %s\nstream       %s\nrecords      %llu\n",
           b.integration, b.stream, (unsigned long long)b.n_records);
    print_time_ms("created      ", b.created_at_ms);
    printf("size         %llu bytes\nroutes      ", (unsigned long long)b.size);
    for (size_t i = 0; i < b.n_routes; i++)
        printf("%s %s", i ? "," : "", b.routes[i]);
    printf("%s\n", b.n_routes ? "" : " none");
    for (size_t i = 0; i < b.n_routes; i++) {
        if (only != NULL && strcmp(b.routes[i], only) != 0)
            continue;
        show_dest(a, b.routes[i], id, 1);
        routed |= only != NULL;
    }
    if (only != NULL && !routed)
        show_dest(a, only, id, 0);
    spool_batch_release(&b);
    strbuf_release(&err);
    return EXITCODE_OK;
}

/* ---- export ---- */

static int export_batch(const char *file)
{
    struct strbuf err = STRBUF_INIT;
    struct spool_batch b;
    struct spool_record r;
    int rc = EXITCODE_RUNTIME, more;

    if (spool_batch_read(file, &b, &err) != 0) {
        fprintf(stderr, "dray quarantine: cannot export: %s\n",
                strbuf_str(&err));
        strbuf_release(&err);
        return rc;
    }
    /* Every frame is checked before the first line goes out, so a
       damaged batch never leaves half its records on stdout. */
    while ((more = spool_batch_next(&b, &r, &err)) == 1)
        ;
    if (more < 0)
        goto damaged;
    spool_batch_rewind(&b);
    while ((more = spool_batch_next(&b, &r, &err)) == 1) {
        fwrite(r.json, 1, r.len, stdout);
        putchar('\n');
    }
    if (more < 0)
        goto damaged; /* changed under us after the first pass */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "dray quarantine: cannot write the records: %s\n",
                strerror(errno));
        goto out;
    }
    rc = EXITCODE_OK;
    goto out;
damaged:
    fprintf(stderr, "dray quarantine: cannot export: %s\n", strbuf_str(&err));
out:
    spool_batch_release(&b);
    strbuf_release(&err);
    return rc;
}

/* ---- drop ---- */

/* Which destination to drop at: the one asked for, or the only one the
   batch is quarantined at. NULL after saying why not; *rc the exit. */
static char *drop_destination(const struct command *cmd, const struct admin *a,
                              const char *id, const char *asked, int *rc)
{
    char **at = NULL;
    size_t n = admin_quarantined_at(a, id, &at);
    struct strbuf list = STRBUF_INIT;
    char *dest = NULL;

    for (size_t i = 0; i < n; i++) {
        if (asked != NULL && strcmp(at[i], asked) == 0)
            dest = xstrdup(asked);
        strbuf_addf(&list, "%s%s", i ? ", " : "", at[i]);
    }
    if (asked == NULL && n == 1)
        dest = xstrdup(at[0]);
    *rc = EXITCODE_OK;
    if (dest != NULL)
        goto out;
    if (asked != NULL || n == 0) {
        fprintf(stderr,
                "dray quarantine: batch %s is not quarantined at %s; only "
                "quarantined batches can be dropped\n",
                id, asked ? asked : "any destination");
        *rc = EXITCODE_RUNTIME;
    } else {
        *rc = cli_usage_error(cmd,
                              "batch %s is quarantined at %s; say which "
                              "with --destination",
                              id, strbuf_str(&list));
    }
out:
    admin_names_free(at, n);
    strbuf_release(&list);
    return dest;
}

/* After a drop: whether the file went, and if not, who still needs it. */
static void report_drop(const struct admin *a, const char *id, const char *file,
                        const char *dest, int existed)
{
    struct strbuf err = STRBUF_INIT, left = STRBUF_INIT;
    struct spool_batch b;

    fprintf(stderr, "dray quarantine: dropped batch %s at %s", id, dest);
    if (!existed) {
        fprintf(stderr, "; its file was already gone\n");
        goto out;
    }
    if (access(file, F_OK) != 0) {
        fprintf(stderr, "; every destination is done with it: deleted\n");
        goto out;
    }
    if (spool_batch_peek(file, &b, &err) != 0) {
        /* The spool deletes a damaged batch once no destination holds
           it quarantined any more. */
        fprintf(stderr,
                "; it is damaged and still quarantined elsewhere: drop it "
                "there too and the spool deletes it\n");
        goto out;
    }
    for (size_t i = 0; i < b.n_routes; i++)
        if (spool_dest_state(&a->sp, b.routes[i], id) != SPOOL_ACKED)
            strbuf_addf(&left, "%s%s", left.len ? ", " : "", b.routes[i]);
    if (left.len)
        fprintf(stderr, "; the spool keeps it for %s\n", left.buf);
    else
        fprintf(stderr, "; kept for spool.keep_loaded\n");
    spool_batch_release(&b);
out:
    strbuf_release(&err);
    strbuf_release(&left);
}

static int drop(const struct command *cmd, struct admin *a, const char *id,
                const char *file, const struct quarantine_opts *o)
{
    struct strbuf err = STRBUF_INIT;
    char *dest, *reason;
    int rc, existed;

    dest = drop_destination(cmd, a, id, o->destination, &rc);
    if (dest == NULL)
        return rc;
    if (!o->yes) {
        struct spool_batch b;
        reason = spool_quarantine_reason(&a->sp, dest, id);
        fprintf(stderr, "dray quarantine: would drop batch %s at %s", id, dest);
        if (spool_batch_peek(file, &b, &err) == 0) {
            fprintf(stderr, " (%llu records of stream %s)",
                    (unsigned long long)b.n_records, b.stream);
            spool_batch_release(&b);
        }
        fprintf(stderr, ", quarantined there: %s\n", reason ? reason : "");
        free(reason);
        rc = cli_usage_error(cmd,
                             "dropping never loads the batch at %s; add --yes "
                             "to drop it (nothing was changed)",
                             dest);
        goto out;
    }
    existed = access(file, F_OK) == 0;
    rc = spool_drop(&a->sp, dest, file, a->cfg.keep_loaded_ms != 0, &err);
    if (rc < 0) {
        fprintf(stderr, "dray quarantine: %s\n", strbuf_str(&err));
        rc = EXITCODE_RUNTIME;
    } else if (rc == 1) {
        fprintf(stderr,
                "dray quarantine: batch %s is no longer quarantined at %s "
                "(requeued meanwhile?); nothing was dropped\n",
                id, dest);
        rc = EXITCODE_RUNTIME;
    } else {
        report_drop(a, id, file, dest, existed);
        rc = EXITCODE_OK;
    }
out:
    free(dest);
    strbuf_release(&err);
    return rc;
}

int cmd_quarantine(int argc, char **argv)
{
    const struct command *self = cli_find_command("quarantine");
    struct quarantine_opts o = {0};
    struct admin a;
    char *id = NULL, *file = NULL, **at = NULL;
    size_t n_at = 0;
    int rc = parse(self, argc, argv, &o);

    if (rc != 0)
        return rc == -2 ? EXITCODE_OK : EXITCODE_USAGE;
    rc = admin_open(self, o.config, &a);
    if (rc != EXITCODE_OK)
        return rc;
    if (o.destination != NULL &&
        !admin_check_destination(self, &a, o.destination)) {
        rc = EXITCODE_USAGE;
        goto out;
    }
    id = admin_batch_id(o.batch);
    if (id != NULL && a.have_spool) {
        file = spool_batch_file(&a.sp, id);
        n_at = admin_quarantined_at(&a, id, &at);
    }
    /* A batch whose file is gone may still be held back somewhere. */
    if (file == NULL || (access(file, F_OK) != 0 && n_at == 0)) {
        fprintf(stderr, "dray quarantine: no batch '%s' in the spool at %s\n",
                o.batch, admin_spool_path(&a));
        rc = EXITCODE_RUNTIME;
        goto out;
    }
    if (o.action == SHOW)
        rc = show(&a, id, file, o.destination);
    else if (o.action == EXPORT)
        rc = export_batch(file);
    else
        rc = drop(self, &a, id, file, &o);
out:
    admin_names_free(at, n_at);
    free(file);
    free(id);
    admin_close(&a);
    return rc;
}

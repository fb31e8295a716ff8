/*
 * dray status: per destination, what waits in the spool, what is being
 * loaded, what was loaded and what is quarantined. Reads only: it never
 * takes a lease or changes a marker, so it is safe beside running loaders.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "admin_common.h"
#include "strbuf.h"

struct dest_row {
    char *name;
    int in_config;
    uint64_t pending, pending_rows, loading, quarantined, quarantined_rows;
    int64_t oldest_ms; /* created_at_ms of the oldest pending batch; 0 */
    struct spool_dest_stats stats;
    char *last_error;
};

/* A batch's record count, by id, for the quarantined rows. */
struct peeked {
    char *id;
    uint64_t records;
    int damaged; /* its header or footer cannot be read */
};

struct status {
    struct dest_row *rows;
    size_t n_rows, n_config;
    struct peeked *peeked; /* sorted by id once gathered */
    size_t n_peeked;
    size_t n_damaged; /* batches whose header or footer cannot be read */
    struct spool_quarantined *q;
    size_t n_q;
    uint64_t bytes;
};

static struct dest_row *row_for(struct status *s, const char *name)
{
    for (size_t i = 0; i < s->n_rows; i++)
        if (strcmp(s->rows[i].name, name) == 0)
            return &s->rows[i];
    s->rows = xrealloc(s->rows, (s->n_rows + 1) * sizeof(*s->rows));
    memset(&s->rows[s->n_rows], 0, sizeof(*s->rows));
    s->rows[s->n_rows].name = xstrdup(name);
    return &s->rows[s->n_rows++];
}

static int cmp_peeked(const void *a, const void *b)
{
    return strcmp(((const struct peeked *)a)->id,
                  ((const struct peeked *)b)->id);
}

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const struct dest_row *)a)->name,
                  ((const struct dest_row *)b)->name);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One batch file: counts it pending at each route that neither acked nor
   quarantined it, and remembers its record count. */
static void scan_batch(struct status *s, const struct spool *sp,
                       const char *file)
{
    struct strbuf err = STRBUF_INIT;
    struct spool_batch b;
    struct peeked *p;
    const char *base = strrchr(file, '/');

    s->peeked = xrealloc(s->peeked, (s->n_peeked + 1) * sizeof(*s->peeked));
    p = &s->peeked[s->n_peeked++];
    p->id = admin_batch_id(base ? base + 1 : file);
    p->records = 0;
    p->damaged = 0;
    if (p->id == NULL)
        p->id = xstrdup("");
    if (spool_batch_peek(file, &b, &err) != 0) {
        /* Its routes are unknown: it shows only where it is
           quarantined, with 0 rows. */
        s->n_damaged++;
        p->damaged = 1;
        strbuf_release(&err);
        return;
    }
    p->records = b.n_records;
    for (size_t r = 0; r < b.n_routes; r++) {
        struct dest_row *row = row_for(s, b.routes[r]);
        if (spool_dest_state(sp, b.routes[r], b.id) != SPOOL_PENDING)
            continue;
        row->pending++;
        row->pending_rows += b.n_records;
        if (row->oldest_ms == 0 || b.created_at_ms < row->oldest_ms)
            row->oldest_ms = b.created_at_ms;
    }
    spool_batch_release(&b);
    strbuf_release(&err);
}

/* Lease files locked by someone: a shared lock that cannot be had means a
   loader holds the exclusive one. Ours is dropped at once. */
static uint64_t count_loading(const struct spool *sp, const char *name)
{
    char *dir = xasprintf("%s/dest/%s/leases", sp->path, name);
    DIR *d = opendir(dir);
    struct dirent *e;
    uint64_t n = 0;

    while (d != NULL && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int fd;
        if (e->d_name[0] == '.' || len < 6 ||
            strcmp(e->d_name + len - 5, ".lock") != 0)
            continue;
        fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
            n++;
        close(fd); /* releases ours, if we got it */
    }
    if (d != NULL)
        closedir(d);
    free(dir);
    return n;
}

static void gather(struct status *s, const struct admin *a)
{
    const struct spool *sp = &a->sp;
    char **files = NULL, **dirs = NULL;
    size_t n_files, n_dirs;

    for (size_t i = 0; i < a->cfg.n_destinations; i++)
        row_for(s, a->cfg.destinations[i].name)->in_config = 1;
    s->n_config = s->n_rows;
    if (!a->have_spool)
        return;
    s->bytes = spool_bytes(sp);
    n_files = spool_list(sp, &files);
    for (size_t i = 0; i < n_files; i++) {
        scan_batch(s, sp, files[i]);
        free(files[i]);
    }
    free(files);
    if (s->n_peeked > 1)
        qsort(s->peeked, s->n_peeked, sizeof(*s->peeked), cmp_peeked);
    /* Destinations gone from the config but not from the spool. */
    n_dirs = spool_dest_names(sp, &dirs);
    for (size_t i = 0; i < n_dirs; i++) {
        row_for(s, dirs[i]);
        free(dirs[i]);
    }
    free(dirs);
    s->n_q = spool_quarantined_list(sp, &s->q);
    for (size_t i = 0; i < s->n_q; i++) {
        struct dest_row *row = row_for(s, s->q[i].destination);
        struct peeked key = {s->q[i].batch, 0, 0}, *p;
        p = bsearch(&key, s->peeked, s->n_peeked, sizeof(*s->peeked),
                    cmp_peeked);
        row->quarantined++;
        row->quarantined_rows += p ? p->records : 0;
    }
    for (size_t i = 0; i < s->n_rows; i++) {
        struct dest_row *row = &s->rows[i];
        spool_stats_read(sp, row->name, &row->stats);
        row->last_error = spool_last_error(sp, row->name);
        row->loading = count_loading(sp, row->name);
    }
    /* Config order first, then the removed ones by name. */
    if (s->n_rows - s->n_config > 1)
        qsort(s->rows + s->n_config, s->n_rows - s->n_config, sizeof(*s->rows),
              cmp_row);
}

static void status_release(struct status *s)
{
    for (size_t i = 0; i < s->n_rows; i++) {
        free(s->rows[i].name);
        free(s->rows[i].last_error);
    }
    for (size_t i = 0; i < s->n_peeked; i++)
        free(s->peeked[i].id);
    free(s->rows);
    free(s->peeked);
    spool_quarantined_free(s->q, s->n_q);
}

static int64_t age_s(const struct dest_row *row, int64_t now)
{
    if (row->oldest_ms == 0 || now <= row->oldest_ms)
        return 0;
    return (now - row->oldest_ms) / 1000;
}

static json_t *jint(uint64_t v)
{
    return json_integer((json_int_t)v);
}

/* Markers hold what a plugin said, which may not be UTF-8; json_string
   refuses that, so such bytes show as '?'. */
static json_t *jtext(const char *text)
{
    json_t *j = json_string(text);
    char *copy;

    if (j != NULL)
        return j;
    copy = xstrdup(text);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static void print_json(const struct status *s, uint64_t limit)
{
    json_t *root = json_object(), *spool = json_object();
    json_t *dests = json_array(), *quar = json_array();
    int64_t now = now_ms();
    char *text;

    json_object_set_new(spool, "bytes", jint(s->bytes));
    json_object_set_new(spool, "limit_bytes", jint(limit));
    for (size_t i = 0; i < s->n_rows; i++) {
        const struct dest_row *r = &s->rows[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", jtext(r->name));
        json_object_set_new(o, "pending", jint(r->pending));
        json_object_set_new(o, "pending_rows", jint(r->pending_rows));
        json_object_set_new(o, "loading", jint(r->loading));
        json_object_set_new(o, "loaded", jint(r->stats.loaded));
        json_object_set_new(o, "rows_loaded", jint(r->stats.rows_loaded));
        json_object_set_new(o, "rows_rejected", jint(r->stats.rows_rejected));
        json_object_set_new(o, "quarantined", jint(r->quarantined));
        json_object_set_new(o, "quarantined_rows", jint(r->quarantined_rows));
        json_object_set_new(o, "oldest_pending_age_s",
                            json_integer(age_s(r, now)));
        json_object_set_new(o, "last_error",
                            r->last_error ? jtext(r->last_error) : json_null());
        json_array_append_new(dests, o);
    }
    for (size_t i = 0; i < s->n_q; i++) {
        const struct spool_quarantined *q = &s->q[i];
        json_t *o = json_object();
        json_object_set_new(o, "batch", json_string(q->batch));
        json_object_set_new(o, "destination", jtext(q->destination));
        json_object_set_new(o, "stream", jtext(q->stream));
        json_object_set_new(o, "reason", jtext(q->reason));
        json_array_append_new(quar, o);
    }
    json_object_set_new(root, "spool", spool);
    json_object_set_new(root, "destinations", dests);
    json_object_set_new(root, "quarantined", quar);
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
    json_decref(root);
}

/* 1536 -> "1.5 KiB". */
static void human_bytes(char *out, size_t cap, uint64_t v)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double d = (double)v;
    size_t u = 0;

    while (d >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        d /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%llu B", (unsigned long long)v);
    else
        snprintf(out, cap, "%.1f %s", d, units[u]);
}

/* 75 -> "1m15s": ages of minutes to days read best in mixed units. */
static void human_age(char *out, size_t cap, int64_t s)
{
    if (s < 60)
        snprintf(out, cap, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(out, cap, "%lldm%02llds", (long long)(s / 60),
                 (long long)(s % 60));
    else if (s < 86400)
        snprintf(out, cap, "%lldh%02lldm", (long long)(s / 3600),
                 (long long)(s % 3600 / 60));
    else
        snprintf(out, cap, "%lldd%02lldh", (long long)(s / 86400),
                 (long long)(s % 86400 / 3600));
}

static void print_text(const struct status *s, const struct admin *a)
{
    char bytes[32], limit[32], age[32];
    int64_t now = now_ms();
    int w = 11; /* "DESTINATION" */

    human_bytes(bytes, sizeof(bytes), s->bytes);
    human_bytes(limit, sizeof(limit), a->cfg.spool_max_bytes);
    printf("spool %s: %s%s%s%s\n", admin_spool_path(a), bytes,
           a->cfg.spool_max_bytes ? " of " : "",
           a->cfg.spool_max_bytes ? limit : " (no limit)",
           a->have_spool ? "" : " (does not exist yet)");
    if (s->n_rows == 0) {
        printf("no destinations\n");
    } else {
        for (size_t i = 0; i < s->n_rows; i++)
            if ((int)strlen(s->rows[i].name) > w)
                w = (int)strlen(s->rows[i].name);
        printf("%-*s %7s %9s %7s %7s %11s %8s %11s %9s %s\n", w, "DESTINATION",
               "PENDING", "ROWS", "LOADING", "LOADED", "LOADED_ROWS",
               "REJECTED", "QUARANTINED", "Q_ROWS", "OLDEST");
    }
    for (size_t i = 0; i < s->n_rows; i++) {
        const struct dest_row *r = &s->rows[i];
        if (r->pending)
            human_age(age, sizeof(age), age_s(r, now));
        else
            snprintf(age, sizeof(age), "-");
        printf("%-*s %7llu %9llu %7llu %7llu %11llu %8llu %11llu %9llu %s\n", w,
               r->name, (unsigned long long)r->pending,
               (unsigned long long)r->pending_rows,
               (unsigned long long)r->loading,
               (unsigned long long)r->stats.loaded,
               (unsigned long long)r->stats.rows_loaded,
               (unsigned long long)r->stats.rows_rejected,
               (unsigned long long)r->quarantined,
               (unsigned long long)r->quarantined_rows, age);
        if (!r->in_config)
            printf("  not in the config any more: 'dray run' quarantines its "
                   "batches; 'dray quarantine drop BATCH --destination %s' "
                   "gives them up\n",
                   r->name);
        if (r->last_error)
            printf("  last error: %s\n", r->last_error);
    }
    if (s->n_damaged)
        printf("%zu batch(es) cannot be read (damaged; 'dray quarantine show "
               "BATCH' tells more):\n",
               s->n_damaged);
    for (size_t i = 0; i < s->n_peeked; i++)
        if (s->peeked[i].damaged)
            printf("  %s\n", s->peeked[i].id);
    if (s->n_q == 0) {
        printf("no quarantined batches\n");
        return;
    }
    printf("quarantined batches:\n");
    for (size_t i = 0; i < s->n_q; i++)
        printf("  %s at %s (stream %s): %s\n", s->q[i].batch,
               s->q[i].destination, s->q[i].stream, s->q[i].reason);
}

int cmd_status(int argc, char **argv)
{
    const struct command *self = cli_find_command("status");
    struct common_opts o;
    struct status s = {0};
    struct admin a;
    int rc = cli_parse_common(self, argc, argv, "c,json", &o);

    if (rc == -2)
        return EXITCODE_OK;
    if (rc != 0)
        return EXITCODE_USAGE;
    rc = admin_open(self, o.config, &a);
    if (rc != EXITCODE_OK)
        return rc;
    gather(&s, &a);
    if (o.json)
        print_json(&s, a.cfg.spool_max_bytes);
    else
        print_text(&s, &a);
    status_release(&s);
    admin_close(&a);
    return EXITCODE_OK;
}

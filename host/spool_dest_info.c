/*
 * What the spool remembers about each destination besides acks: failures
 * per batch (for back-off and the crash limit across restarts), cumulative
 * counts, the last error, and the quarantined batches 'dray status' lists.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "spool_internal.h"

void spool_failures_read(const struct spool *sp, const char *destination,
                         const char *batch_id, struct spool_failures *f)
{
    char *dir = spool_dest_dir(sp, destination, "failures", 0);
    char *text = spool_read_marker(dir, batch_id);
    long long nb = 0;

    memset(f, 0, sizeof(*f));
    if (text != NULL &&
        sscanf(text, "%d %d %lld", &f->retryable, &f->crashes, &nb) == 3)
        f->not_before_ms = nb;
    if (f->retryable < 0 || f->crashes < 0)
        memset(f, 0, sizeof(*f)); /* a damaged marker starts over */
    free(text);
    free(dir);
}

int spool_failures_write(struct spool *sp, const char *destination,
                         const char *batch_id, const struct spool_failures *f,
                         struct strbuf *err)
{
    char *dir = spool_dest_dir(sp, destination, "failures", 1);
    char text[96];
    int rc;

    snprintf(text, sizeof(text), "%d %d %lld\n", f->retryable, f->crashes,
             (long long)f->not_before_ms);
    rc = spool_write_marker(dir, batch_id, text, 0, err);
    free(dir);
    return rc;
}

void spool_stats_read(const struct spool *sp, const char *destination,
                      struct spool_dest_stats *st)
{
    char *dir = spool_dest_dir(sp, destination, ".", 0);
    char *text = spool_read_marker(dir, "stats");

    memset(st, 0, sizeof(*st));
    if (text != NULL &&
        sscanf(text, "%" SCNu64 " %" SCNu64 " %" SCNu64, &st->loaded,
               &st->rows_loaded, &st->rows_rejected) != 3)
        memset(st, 0, sizeof(*st));
    free(text);
    free(dir);
}

int spool_stats_add(struct spool *sp, const char *destination,
                    const struct spool_dest_stats *add, struct strbuf *err)
{
    char *dir = spool_dest_dir(sp, destination, ".", 1);
    char *lock = xasprintf("%s/stats.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct spool_dest_stats st;
    char text[96];
    int rc = -1;

    if (fd < 0) {
        strbuf_addf(err, "cannot open '%s': %s", lock, strerror(errno));
        goto out;
    }
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            strbuf_addf(err, "cannot lock '%s': %s", lock, strerror(errno));
            goto out;
        }
    spool_stats_read(sp, destination, &st);
    st.loaded += add->loaded;
    st.rows_loaded += add->rows_loaded;
    st.rows_rejected += add->rows_rejected;
    snprintf(text, sizeof(text), "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
             st.loaded, st.rows_loaded, st.rows_rejected);
    rc = spool_write_marker(dir, "stats", text, 0, err);
out:
    if (fd >= 0)
        close(fd); /* releases the lock */
    free(lock);
    free(dir);
    return rc;
}

void spool_last_error_set(struct spool *sp, const char *destination,
                          const char *message)
{
    char *dir = spool_dest_dir(sp, destination, ".", message != NULL);
    struct strbuf err = STRBUF_INIT;

    if (message == NULL) {
        char *file = xasprintf("%s/last_error", dir);
        unlink(file);
        free(file);
    } else {
        struct strbuf line = STRBUF_INIT;
        for (const char *p = message; *p; p++)
            strbuf_addch(&line, (*p == '\n' || *p == '\r') ? ' ' : *p);
        strbuf_addch(&line, '\n');
        /* Best effort: the error is logged as well. */
        spool_write_marker(dir, "last_error", line.buf, 0, &err);
        strbuf_release(&line);
    }
    strbuf_release(&err);
    free(dir);
}

char *spool_last_error(const struct spool *sp, const char *destination)
{
    char *dir = spool_dest_dir(sp, destination, ".", 0);
    char *text = spool_read_marker(dir, "last_error");

    free(dir);
    if (text != NULL)
        text[strcspn(text, "\n")] = '\0';
    return text;
}

static int cmp_quarantined(const void *a, const void *b)
{
    const struct spool_quarantined *x = a, *y = b;
    int c = strcmp(x->destination, y->destination);

    return c != 0 ? c : strcmp(x->batch, y->batch);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t spool_dest_names(const struct spool *sp, char ***out)
{
    char *base = xasprintf("%s/dest", sp->path);
    DIR *d = opendir(base);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        names = xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = xstrdup(e->d_name);
    }
    if (d != NULL)
        closedir(d);
    free(base);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_str);
    *out = names;
    return n;
}

size_t spool_quarantined_list(const struct spool *sp,
                              struct spool_quarantined **out)
{
    char **dests = NULL;
    size_t n_dests = spool_dest_names(sp, &dests), n = 0;
    struct spool_quarantined *list = NULL;

    for (size_t i = 0; i < n_dests; i++) {
        char *dir = spool_dest_dir(sp, dests[i], "quarantined", 0);
        DIR *d = opendir(dir);
        struct dirent *e;

        while (d != NULL && (e = readdir(d)) != NULL) {
            char *text, *tab;
            if (e->d_name[0] == '.' || strchr(e->d_name, '.') != NULL)
                continue; /* temporary names */
            text = spool_read_marker(dir, e->d_name);
            if (text == NULL)
                continue; /* requeued meanwhile */
            list = xrealloc(list, (n + 1) * sizeof(*list));
            list[n].destination = xstrdup(dests[i]);
            list[n].batch = xstrdup(e->d_name);
            text[strcspn(text, "\n")] = '\0';
            tab = strchr(text, '\t');
            if (tab != NULL)
                *tab = '\0';
            list[n].stream = xstrdup(tab ? text : "");
            list[n].reason = xstrdup(tab ? tab + 1 : text);
            free(text);
            n++;
        }
        if (d != NULL)
            closedir(d);
        free(dir);
        free(dests[i]);
    }
    free(dests);
    if (n > 1)
        qsort(list, n, sizeof(*list), cmp_quarantined);
    *out = list;
    return n;
}

void spool_quarantined_free(struct spool_quarantined *q, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(q[i].destination);
        free(q[i].batch);
        free(q[i].stream);
        free(q[i].reason);
    }
    free(q);
}

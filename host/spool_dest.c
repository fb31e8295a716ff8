/*
 * Each destination's view of the spool: which batches it acked or
 * quarantined, how often a batch was offered to it, and leases on its
 * streams. Markers are small files written with the same care as batches
 * (temporary name, fsync, rename, folder fsync): an ack that is on disk is
 * never undone by a crash, and one that is not will be redone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool_internal.h"

/* The per-batch markers, deleted with the batch. */
static const char *const kinds[] = {"acked", "quarantined", "attempts",
                                    "failures"};

char *spool_dest_dir(const struct spool *sp, const char *destination,
                     const char *kind, int make)
{
    char *base = xasprintf("%s/dest", sp->path);
    char *dest = xasprintf("%s/%s", base, destination);
    char *dir = xasprintf("%s/%s", dest, kind);

    if (make) {
        mkdir(base, 0700);
        mkdir(dest, 0700);
        mkdir(dir, 0700);
    }
    free(base);
    free(dest);
    return dir;
}

int spool_write_marker(const char *dir, const char *name, const char *text,
                       int durable, struct strbuf *err)
{
    char *file = xasprintf("%s/%s", dir, name);
    char *tmp = spool_tmp_name(file);
    size_t len = strlen(text);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = -1;

    if (fd < 0 || spool_write_all(fd, text, len) != 0 ||
        (durable && fsync(fd) != 0) || rename(tmp, file) != 0 ||
        (durable && spool_sync_dir(dir) != 0)) {
        strbuf_addf(err, "cannot write '%s': %s", file, strerror(errno));
        unlink(tmp);
    } else {
        rc = 0;
    }
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(file);
    return rc;
}

char *spool_read_marker(const char *dir, const char *name)
{
    char *file = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(file, "r");
    struct strbuf sb = STRBUF_INIT;
    char buf[1024];
    size_t n;

    free(file);
    if (f == NULL)
        return NULL;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_add(&sb, buf, n);
    fclose(f);
    return strbuf_detach(&sb);
}

static int has_marker(const struct spool *sp, const char *destination,
                      const char *kind, const char *id)
{
    char *dir = spool_dest_dir(sp, destination, kind, 0);
    char *file = xasprintf("%s/%s", dir, id);
    int yes = access(file, F_OK) == 0;

    free(file);
    free(dir);
    return yes;
}

int spool_dest_state(const struct spool *sp, const char *destination,
                     const char *batch_id)
{
    if (has_marker(sp, destination, "acked", batch_id))
        return SPOOL_ACKED;
    if (has_marker(sp, destination, "quarantined", batch_id))
        return SPOOL_QUARANTINED;
    return SPOOL_PENDING;
}

int spool_id_stream_hash(const char *batch_id, char out[17])
{
    /* <uuid: 36>-<hash: 16>-<number> */
    if (strlen(batch_id) < 36 + 1 + 16 + 1 || batch_id[36] != '-' ||
        batch_id[53] != '-')
        return -1;
    memcpy(out, batch_id + 37, 16);
    out[16] = '\0';
    return 0;
}

int spool_lease(struct spool *sp, const char *destination,
                const char *stream_hash, int *fd, struct strbuf *err)
{
    char *dir = spool_dest_dir(sp, destination, "leases", 1);
    char *file = xasprintf("%s/%s.lock", dir, stream_hash);
    int rc = 0;

    *fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0) {
        strbuf_addf(err, "cannot open lease '%s': %s", file, strerror(errno));
        rc = -1;
    } else if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            rc = 1;
        } else {
            strbuf_addf(err, "cannot lock lease '%s': %s", file,
                        strerror(errno));
            rc = -1;
        }
        close(*fd);
        *fd = -1;
    }
    free(file);
    free(dir);
    return rc;
}

/* Deletes the batch and its markers once every route acked it. */
static void retire(struct spool *sp, const struct spool_batch *b,
                   const char *file)
{
    for (size_t i = 0; i < b->n_routes; i++)
        if (!has_marker(sp, b->routes[i], "acked", b->id))
            return;
    if (unlink(file) != 0)
        return;
    char *dir = xasprintf("%s/batches", sp->path);
    spool_sync_dir(dir);
    free(dir);
    /* The markers only matter while the batch exists. */
    for (size_t i = 0; i < b->n_routes; i++)
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            char *d = spool_dest_dir(sp, b->routes[i], kinds[k], 0);
            char *m = xasprintf("%s/%s", d, b->id);
            unlink(m);
            free(m);
            free(d);
        }
}

static int mark_done(struct spool *sp, const char *destination,
                     const char *file, const char *how, int keep_loaded,
                     struct strbuf *err)
{
    struct spool_batch b;
    char *dir;
    int rc;

    /* The header names the routes; the records were verified by the
       load. */
    if (spool_batch_peek(file, &b, err) != 0)
        return -1;
    dir = spool_dest_dir(sp, destination, "acked", 1);
    rc = spool_write_marker(dir, b.id, how, 1, err);
    if (rc == 0 && !keep_loaded)
        retire(sp, &b, file);
    if (rc == 0 && access(file, F_OK) != 0 && errno == ENOENT) {
        /* Deleted meanwhile by another loader's last ack (after our
           peek): the batch is done, and our marker must not outlive
           it. */
        char *m = xasprintf("%s/%s", dir, b.id);
        unlink(m);
        free(m);
    }
    free(dir);
    spool_batch_release(&b);
    return rc;
}

int spool_ack(struct spool *sp, const char *destination, const char *file,
              int keep_loaded, struct strbuf *err)
{
    return mark_done(sp, destination, file, "", keep_loaded, err);
}

static int quarantined_anywhere(const struct spool *sp, const char *id)
{
    char **dests = NULL;
    size_t n = spool_dest_names(sp, &dests);
    int found = 0;

    for (size_t i = 0; i < n; i++) {
        found = found || has_marker(sp, dests[i], "quarantined", id);
        free(dests[i]);
    }
    free(dests);
    return found;
}

/* A damaged batch can load nowhere: once no destination holds it back any
   more, the file and every destination's markers go. */
static void forget_damaged(struct spool *sp, const char *file, const char *id)
{
    char **dests = NULL;
    size_t n = spool_dest_names(sp, &dests);
    char *bdir = xasprintf("%s/batches", sp->path);

    if (unlink(file) == 0)
        spool_sync_dir(bdir);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            char *d = spool_dest_dir(sp, dests[i], kinds[k], 0);
            char *m = xasprintf("%s/%s", d, id);
            unlink(m);
            free(m);
            free(d);
        }
        free(dests[i]);
    }
    free(dests);
    free(bdir);
}

int spool_drop(struct spool *sp, const char *destination, const char *file,
               int keep_loaded, struct strbuf *err)
{
    const char *base = strrchr(file, '/');
    char *id = xstrdup(base ? base + 1 : file);
    char *dir = spool_dest_dir(sp, destination, "quarantined", 0);
    char *marker;
    int rc, damaged = 0;

    id[strcspn(id, ".")] = '\0';
    marker = xasprintf("%s/%s", dir, id);
    if (access(marker, F_OK) != 0) {
        rc = 1;
        goto out;
    }
    if (access(file, F_OK) != 0 && errno == ENOENT) {
        /* The batch is gone already: only the quarantine is left. */
        rc = 0;
        unlink(marker);
        spool_sync_dir(dir);
        goto out;
    }
    /* Acked first: a crash between the two leaves it done, not pending. */
    rc = mark_done(sp, destination, file, "dropped\n", keep_loaded, err);
    if (rc != 0) {
        /* A damaged batch: its routes cannot be read. */
        char *adir = spool_dest_dir(sp, destination, "acked", 1);
        strbuf_reset(err);
        rc = spool_write_marker(adir, id, "dropped\n", 1, err);
        free(adir);
        damaged = rc == 0;
    }
    if (rc == 0) {
        unlink(marker);
        spool_sync_dir(dir);
    }
    if (damaged && !quarantined_anywhere(sp, id))
        forget_damaged(sp, file, id);
out:
    free(marker);
    free(dir);
    free(id);
    return rc;
}

char *spool_batch_file(const struct spool *sp, const char *batch_id)
{
    return xasprintf("%s/batches/%s.batch", sp->path, batch_id);
}

size_t spool_sweep_loaded(struct spool *sp, int64_t keep_ms)
{
    char **files = NULL;
    size_t n = spool_list(sp, &files), done = 0;
    int64_t now_ms = spool_now_us() / 1000;

    for (size_t i = 0; i < n; i++) {
        struct spool_batch b;
        struct strbuf err = STRBUF_INIT;
        int64_t newest = 0;
        int all = 1;

        if (spool_batch_peek(files[i], &b, &err) == 0) {
            for (size_t r = 0; r < b.n_routes && all; r++) {
                char *dir = spool_dest_dir(sp, b.routes[r], "acked", 0);
                char *m = xasprintf("%s/%s", dir, b.id);
                struct stat st;
                if (stat(m, &st) != 0)
                    all = 0;
                else if ((int64_t)st.st_mtime * 1000 > newest)
                    newest = (int64_t)st.st_mtime * 1000;
                free(m);
                free(dir);
            }
            if (all && b.n_routes > 0 && now_ms - newest >= keep_ms) {
                retire(sp, &b, files[i]);
                done++;
            }
            spool_batch_release(&b);
        }
        strbuf_release(&err);
        free(files[i]);
    }
    free(files);
    return done;
}

int spool_quarantine(struct spool *sp, const char *destination,
                     const char *batch_id, const char *stream,
                     const char *reason, struct strbuf *err)
{
    char *dir = spool_dest_dir(sp, destination, "quarantined", 1);
    struct strbuf text = STRBUF_INIT;
    int rc;

    /* "stream<TAB>reason": one line each, for dray status. */
    strbuf_addf(&text, "%s\t", stream);
    for (const char *p = reason; *p; p++)
        strbuf_addch(&text, (*p == '\n' || *p == '\t') ? ' ' : *p);
    strbuf_addch(&text, '\n');
    rc = spool_write_marker(dir, batch_id, text.buf, 1, err);
    strbuf_release(&text);
    free(dir);
    return rc;
}

int spool_requeue(struct spool *sp, const char *destination,
                  const char *batch_id, struct strbuf *err)
{
    char *dir = spool_dest_dir(sp, destination, "quarantined", 0);
    char *file = xasprintf("%s/%s", dir, batch_id);
    char *adir = spool_dest_dir(sp, destination, "attempts", 0);
    char *afile = xasprintf("%s/%s", adir, batch_id);
    char *fdir = spool_dest_dir(sp, destination, "failures", 0);
    char *ffile = xasprintf("%s/%s", fdir, batch_id);
    int rc = 0;

    if (unlink(file) != 0) {
        if (errno == ENOENT) {
            rc = 1;
        } else {
            strbuf_addf(err, "cannot requeue '%s': %s", batch_id,
                        strerror(errno));
            rc = -1;
        }
    } else {
        /* A requeued batch starts its attempts and back-off over. */
        unlink(afile);
        unlink(ffile);
        spool_sync_dir(dir);
    }
    free(file);
    free(dir);
    free(afile);
    free(adir);
    free(ffile);
    free(fdir);
    return rc;
}

char *spool_quarantine_reason(const struct spool *sp, const char *destination,
                              const char *batch_id)
{
    char *dir = spool_dest_dir(sp, destination, "quarantined", 0);
    char *text = spool_read_marker(dir, batch_id);
    char *tab, *reason = NULL;

    free(dir);
    if (text == NULL)
        return NULL;
    tab = strchr(text, '\t');
    reason = xstrdup(tab ? tab + 1 : text);
    free(text);
    reason[strcspn(reason, "\n")] = '\0';
    return reason;
}

int spool_attempt(struct spool *sp, const char *destination,
                  const char *batch_id, struct strbuf *err)
{
    char *dir = spool_dest_dir(sp, destination, "attempts", 1);
    char *text = spool_read_marker(dir, batch_id);
    char num[32];
    int n = text ? atoi(text) : 0;

    free(text);
    n = n < 0 ? 1 : n + 1;
    snprintf(num, sizeof(num), "%d\n", n);
    if (spool_write_marker(dir, batch_id, num, 0, err) != 0)
        n = -1;
    free(dir);
    return n;
}

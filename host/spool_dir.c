/*
 * The spool folder: creation with its FORMAT file and UUID, the format
 * check, sweeping temporary files of dead writers, listing batches,
 * measuring disk use, and the saved STATE of each integration.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spool_internal.h"

static const char *const subdirs[] = {"tmp", "batches", "streams", "state"};

int64_t spool_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void spool_stream_hash(const char *integration, const char *stream,
                       char out[17])
{
    uint64_t h = 14695981039346656037ull;
    const char *parts[2] = {integration, stream};

    for (int k = 0; k < 2; k++) {
        for (const unsigned char *p = (const unsigned char *)parts[k]; *p;
             p++) {
            h ^= *p;
            h *= 1099511628211ull;
        }
        h ^= 0; /* the separator between integration and stream */
        h *= 1099511628211ull;
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

char *spool_tmp_name(const char *base)
{
    unsigned r = 0;

    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (unsigned)spool_now_us();
    return xasprintf("%s.%ld-%08x.tmp", base, (long)getpid(), r);
}

int spool_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = ENOSPC; /* no progress: the device takes no more */
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int spool_sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int make_uuid(char out[37])
{
    unsigned char r[16];
    size_t got = 0;

    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* variant 1 */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
             r[11], r[12], r[13], r[14], r[15]);
    return 0;
}

/* Writes the FORMAT file unless another process won the race: link()
   refuses to replace, so exactly one UUID ever names the spool. */
static int create_format(const char *path, struct strbuf *err)
{
    char uuid[37];
    char *base = xasprintf("%s/FORMAT", path);
    char *tmp = spool_tmp_name(base);
    char *dst = xasprintf("%s/FORMAT", path);
    char text[128];
    int fd = -1, rc = -1;

    if (make_uuid(uuid) != 0) {
        strbuf_addf(err, "cannot get random bytes for the spool's id: %s",
                    strerror(errno));
        goto out;
    }
    snprintf(text, sizeof(text), "dray-spool\nformat %d\nuuid %s\n",
             SPOOL_FORMAT, uuid);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || spool_write_all(fd, text, strlen(text)) != 0 ||
        fsync(fd) != 0) {
        strbuf_addf(err, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (link(tmp, dst) != 0 && errno != EEXIST) {
        strbuf_addf(err, "cannot create '%s': %s", dst, strerror(errno));
        goto out;
    }
    spool_sync_dir(path);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    free(base);
    free(dst);
    return rc;
}

static int read_format(struct spool *sp, struct strbuf *err)
{
    char *file = xasprintf("%s/FORMAT", sp->path);
    char text[256] = "";
    FILE *f = fopen(file, "r");
    int format = -1;
    char uuid[64] = "";
    int rc = -1;

    if (f == NULL) {
        strbuf_addf(err, "'%s' is not a dray spool (cannot read FORMAT: %s)",
                    sp->path, strerror(errno));
        goto out;
    }
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    if (strncmp(text, "dray-spool\n", 11) != 0 ||
        sscanf(text + 11, "format %d\nuuid %63s", &format, uuid) != 2) {
        strbuf_addf(err, "'%s' is not a dray spool (FORMAT file is damaged)",
                    sp->path);
        goto out;
    }
    if (format != SPOOL_FORMAT) {
        strbuf_addf(err,
                    "spool '%s' has format %d; this dray reads format %d; %s",
                    sp->path, format, SPOOL_FORMAT,
                    format > SPOOL_FORMAT
                        ? "use the newer dray that wrote it"
                        : "load it with the dray that wrote it, then start a "
                          "new spool");
        goto out;
    }
    if (strlen(uuid) != 36) {
        strbuf_addf(err, "'%s' is not a dray spool (FORMAT has no valid id)",
                    sp->path);
        goto out;
    }
    memcpy(sp->uuid, uuid, 37);
    rc = 0;
out:
    free(file);
    return rc;
}

/* Temporary files are "<pid>-<n>.tmp": those of dead writers go. */
static void sweep_tmp(const struct spool *sp)
{
    char *dir = xasprintf("%s/tmp", sp->path);
    DIR *d = opendir(dir);
    struct dirent *e;

    while (d && (e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '-' || strstr(e->d_name, ".tmp") == NULL)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char *f = xasprintf("%s/%s", dir, e->d_name);
        if (unlink(f) == 0)
            log_debug("removed '%s', left by a writer that died", f);
        free(f);
    }
    if (d)
        closedir(d);
    free(dir);
}

int spool_open(struct spool *sp, const char *path, int create,
               struct strbuf *err)
{
    struct stat st;
    char *fmt;

    memset(sp, 0, sizeof(*sp));
    sp->dir_fd = -1;
    if (stat(path, &st) != 0) {
        if (!create || errno != ENOENT) {
            strbuf_addf(err, "cannot open spool '%s': %s", path,
                        strerror(errno));
            return -1;
        }
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            strbuf_addf(err, "cannot create spool folder '%s': %s", path,
                        strerror(errno));
            return -1;
        }
    }
    sp->path = realpath(path, NULL);
    if (sp->path == NULL) {
        strbuf_addf(err, "cannot open spool '%s': %s", path, strerror(errno));
        return -1;
    }
    if (create && access(sp->path, W_OK) != 0) {
        strbuf_addf(err,
                    "cannot write to spool '%s': %s; fix its "
                    "permissions or point spool.path elsewhere",
                    sp->path, strerror(errno));
        goto fail;
    }
    fmt = xasprintf("%s/FORMAT", sp->path);
    if (create && access(fmt, F_OK) != 0 && create_format(sp->path, err) != 0) {
        free(fmt);
        goto fail;
    }
    free(fmt);
    if (read_format(sp, err) != 0)
        goto fail;
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        char *d = xasprintf("%s/%s", sp->path, subdirs[i]);
        if (create && mkdir(d, 0700) != 0 && errno != EEXIST) {
            strbuf_addf(err, "cannot create '%s': %s", d, strerror(errno));
            free(d);
            goto fail;
        }
        free(d);
    }
    sp->dir_fd = open(sp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (create)
        sweep_tmp(sp);
    return 0;
fail:
    free(sp->path);
    sp->path = NULL;
    return -1;
}

void spool_close(struct spool *sp)
{
    if (sp->dir_fd >= 0)
        close(sp->dir_fd);
    free(sp->path);
    memset(sp, 0, sizeof(*sp));
    sp->dir_fd = -1;
}

static int is_batch_name(const char *name)
{
    size_t n = strlen(name);

    return n > 6 && strcmp(name + n - 6, ".batch") == 0 && name[0] != '.';
}

static uint64_t scan_bytes(const struct spool *sp);

uint64_t spool_bytes(const struct spool *sp)
{
    /* A scan per commit would be quadratic in the batches kept; once a
       second is plenty for a limit that only needs to hold roughly
       against other writers. */
    struct spool *m = (struct spool *)sp;
    int64_t now = spool_now_us();

    if (m->scanned_at_us == 0 || now - m->scanned_at_us > 1000000) {
        m->scanned_bytes = scan_bytes(sp);
        m->committed_bytes = 0;
        m->scanned_at_us = now;
    }
    return m->scanned_bytes + m->committed_bytes;
}

static uint64_t scan_bytes(const struct spool *sp)
{
    char *dir = xasprintf("%s/batches", sp->path);
    DIR *d = opendir(dir);
    struct dirent *e;
    uint64_t total = 0;

    while (d && (e = readdir(d)) != NULL) {
        struct stat st;
        if (!is_batch_name(e->d_name))
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, 0) == 0)
            total += (uint64_t)st.st_size;
    }
    if (d)
        closedir(d);
    free(dir);
    return total;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t spool_list(const struct spool *sp, char ***files)
{
    char *dir = xasprintf("%s/batches", sp->path);
    DIR *d = opendir(dir);
    struct dirent *e;
    char **list = NULL;
    size_t n = 0;

    while (d && (e = readdir(d)) != NULL) {
        if (!is_batch_name(e->d_name))
            continue;
        list = xrealloc(list, (n + 1) * sizeof(*list));
        list[n++] = xasprintf("%s/%s", dir, e->d_name);
    }
    if (d)
        closedir(d);
    free(dir);
    /* Ids are "<spool uuid>-<stream hash>-<seq, zero-padded>": in one
       spool their order is by stream, then by sequence. */
    if (n > 1)
        qsort(list, n, sizeof(*list), cmp_str);
    *files = list;
    return n;
}

/* ---- state ---- */

static char *state_file(const struct spool *sp, const char *integration)
{
    char hash[17];

    spool_stream_hash(integration, "", hash);
    return xasprintf("%s/state/%s.json", sp->path, hash);
}

int spool_state_save(struct spool *sp, const char *integration,
                     const char *json, size_t len, struct strbuf *err)
{
    char *file = state_file(sp, integration);
    char *tmp = spool_tmp_name(file);
    char *dir = xasprintf("%s/state", sp->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = -1;

    if (fd < 0 || spool_write_all(fd, json, len) != 0 ||
        spool_write_all(fd, "\n", 1) != 0 || fsync(fd) != 0 ||
        rename(tmp, file) != 0 || spool_sync_dir(dir) != 0) {
        if (errno == ENOSPC || errno == EDQUOT) {
            rc = 1; /* full: nothing changed, the caller retries */
            goto out;
        }
        strbuf_addf(err, "cannot save the STATE of '%s' in '%s': %s",
                    integration, file, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    free(file);
    free(dir);
    return rc;
}

int spool_state_read(const struct spool *sp, const char *integration,
                     char **out, struct strbuf *err)
{
    char *file = state_file(sp, integration);
    FILE *f = fopen(file, "r");
    struct strbuf sb = STRBUF_INIT;
    char buf[4096];
    size_t n;

    *out = NULL;
    if (f == NULL) {
        /* Only a missing file means "no STATE": a tap told to start over
           after an unreadable one would load everything again. */
        int missing = errno == ENOENT;
        if (!missing)
            strbuf_addf(err, "cannot read the saved STATE '%s': %s", file,
                        strerror(errno));
        free(file);
        return missing ? 0 : -1;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_add(&sb, buf, n);
    if (ferror(f)) {
        strbuf_addf(err, "cannot read the saved STATE '%s': %s", file,
                    strerror(errno));
        fclose(f);
        free(file);
        strbuf_release(&sb);
        return -1;
    }
    fclose(f);
    free(file);
    while (sb.len > 0 && (sb.buf[sb.len - 1] == '\n'))
        sb.buf[--sb.len] = '\0';
    *out = strbuf_detach(&sb);
    return 1;
}

char *spool_state_load(const struct spool *sp, const char *integration)
{
    struct strbuf err = STRBUF_INIT;
    char *out = NULL;

    spool_state_read(sp, integration, &out, &err);
    strbuf_release(&err);
    return out;
}

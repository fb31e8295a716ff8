/*
 * s3_store_file.c - the file:// store: the S3 layout in a local folder.
 *
 * Each object is written under the hidden folder .dray-tmp/ beside the
 * objects (same file system, so the rename is atomic), held with an
 * exclusive flock while it is written, fsynced, renamed into place, and
 * the folder fsynced: a reader sees a whole object or none, and a crash
 * leaves only temp files. Those are swept when an instance starts: a temp
 * file whose lock can be taken belongs to no live writer (a pid could be
 * reused; a lock dies with its process).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3_internal.h"

#define TMP_DIR ".dray-tmp"

struct file_store {
    struct s3_store base;
    char *root;
    unsigned counter;
};

struct s3_object {
    int fd;
    char *tmp;
    char *final;
    int failed_errno;
};

/* A file error as a status: a full disk or an I/O error may pass, a
   permission or a read-only file system needs the operator. */
static dray_status file_fail(dray_error *err, int e, const char *what,
                             const char *path)
{
    dray_status cls = (e == EACCES || e == EPERM || e == EROFS ||
                       e == ENOTDIR || e == ENAMETOOLONG)
                          ? DRAY_E_CONFIG
                          : DRAY_E_RETRYABLE;

    dray_error_set(err, cls, NULL, "cannot %s '%s': %s", what, path,
                   strerror(e));
    if (cls == DRAY_E_CONFIG)
        dray_error_hint(err, "let dray write to the folder of option 'url', "
                             "or point 'url' at another folder");
    return cls;
}

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 2);

    if (s != NULL) {
        memcpy(s, a, na);
        s[na] = '/';
        memcpy(s + na + 1, b, nb + 1);
    }
    return s;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

/* mkdir -p of path's folders from root down (root itself must exist or
   be creatable), each new one made durable in its parent. */
static int make_dirs(const char *root, char *path)
{
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0777) == 0) {
            char *slash = strrchr(path, '/');
            *slash = '\0';
            fsync_dir(path);
            *slash = '/';
        } else if (errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return 0;
}

static int make_root(const char *root)
{
    char *copy = strdup(root);
    int rc = 0;

    if (copy == NULL)
        return -1;
    for (char *p = copy + 1; rc == 0; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST)
            rc = -1;
        *p = c;
        if (c == '\0')
            break;
    }
    free(copy);
    /* mkdir's EEXIST also means a file of that name: not a folder. */
    if (rc == 0) {
        struct stat sb;
        if (stat(root, &sb) != 0)
            return -1;
        if (!S_ISDIR(sb.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
    }
    return rc;
}

static int obj_write(void *ctx, const void *data, size_t len)
{
    struct s3_object *o = ctx;
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(o->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            o->failed_errno = errno;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void obj_free(struct s3_object *o)
{
    if (o == NULL)
        return;
    if (o->fd >= 0)
        close(o->fd);
    free(o->tmp);
    free(o->final);
    free(o);
}

/*
 * Creates and locks a new temp file in tmpdir (its path in o->tmp). A
 * sweep starting in another instance may open and remove the file between
 * our open and our flock, finding the lock free; so once locked the name
 * must still be ours, else a new name is tried. 0, or -1 with errno set.
 */
static int create_locked(struct file_store *fs, const char *tmpdir,
                         struct s3_object *o)
{
    for (int tries = 0; tries < 8; tries++) {
        struct stat held, named;
        char name[96];

        snprintf(name, sizeof(name), "%ld-%u-%08lx.part", (long)getpid(),
                 fs->counter++, (unsigned long)random());
        free(o->tmp);
        o->tmp = join(tmpdir, name);
        if (o->tmp == NULL) {
            errno = ENOMEM;
            return -1;
        }
        o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (o->fd < 0)
            return -1;
        if (flock(o->fd, LOCK_EX) != 0) {
            int e = errno;
            unlink(o->tmp);
            errno = e;
            return -1;
        }
        if (fstat(o->fd, &held) == 0 && stat(o->tmp, &named) == 0 &&
            held.st_ino == named.st_ino && held.st_dev == named.st_dev)
            return 0;
        close(o->fd); /* swept away: its name is free again */
        o->fd = -1;
    }
    errno = EAGAIN;
    return -1;
}

static dray_status f_open(struct s3_store *st, const char *key,
                          const char *content_type, struct s3_object **out,
                          struct dray_sink *sink, dray_error *err)
{
    struct file_store *fs = (struct file_store *)st;
    struct s3_object *o = calloc(1, sizeof(*o));
    char *tmpdir = join(fs->root, TMP_DIR);
    dray_status rc;

    (void)content_type;
    if (o == NULL || tmpdir == NULL) {
        rc = dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
        goto fail;
    }
    o->fd = -1;
    if (make_root(tmpdir) != 0) {
        rc = file_fail(err, errno, "create the folder", tmpdir);
        goto fail;
    }
    o->final = join(fs->root, key);
    if (o->final == NULL || create_locked(fs, tmpdir, o) != 0) {
        rc = o->final == NULL || errno == ENOMEM
                 ? dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory")
                 : file_fail(err, errno, "create", o->tmp);
        goto fail;
    }
    free(tmpdir);
    sink->write = obj_write;
    sink->close = NULL;
    sink->ctx = o;
    *out = o;
    return DRAY_OK;
fail:
    free(tmpdir);
    obj_free(o);
    return rc;
}

static dray_status f_commit(struct s3_store *st, struct s3_object *o,
                            dray_error *err)
{
    struct file_store *fs = (struct file_store *)st;
    char *slash;

    if (o->failed_errno != 0)
        return file_fail(err, o->failed_errno, "write", o->tmp);
    if (fsync(o->fd) != 0)
        return file_fail(err, errno, "flush to disk", o->tmp);
    if (make_dirs(fs->root, o->final) != 0)
        return file_fail(err, errno, "create the folders of", o->final);
    if (rename(o->tmp, o->final) != 0)
        return file_fail(err, errno, "rename into place", o->final);
    free(o->tmp);
    o->tmp = NULL;
    slash = strrchr(o->final, '/');
    *slash = '\0';
    if (fsync_dir(o->final) != 0) {
        dray_status rc = file_fail(err, errno, "flush the folder", o->final);
        *slash = '/';
        return rc;
    }
    *slash = '/';
    return DRAY_OK;
}

static void f_discard(struct s3_store *st, struct s3_object *o)
{
    (void)st;
    if (o != NULL && o->tmp != NULL)
        unlink(o->tmp);
    obj_free(o);
}

/* ---- listing ---- */

struct keys {
    char **k;
    size_t n, cap;
};

static int keys_add(struct keys *ks, const char *k)
{
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 64;
        char **p = realloc(ks->k, cap * sizeof(*p));
        if (p == NULL)
            return -1;
        ks->k = p;
        ks->cap = cap;
    }
    if ((ks->k[ks->n] = strdup(k)) == NULL)
        return -1;
    ks->n++;
    return 0;
}

static void keys_free(struct keys *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        free(ks->k[i]);
    free(ks->k);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects the regular files under dir (rel is its key prefix). */
static int walk(const char *dir, struct dray_buf *rel, struct keys *ks)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t keep = rel->len;
        struct stat sb;
        char *path;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            (rel->len == 0 && strcmp(e->d_name, TMP_DIR) == 0))
            continue;
        path = join(dir, e->d_name);
        if (path == NULL || stat(path, &sb) != 0) {
            free(path);
            continue; /* removed while we looked */
        }
        if (rel->len > 0)
            dray_buf_addc(rel, '/');
        dray_buf_add(rel, e->d_name, strlen(e->d_name));
        if (S_ISDIR(sb.st_mode))
            rc = walk(path, rel, ks);
        else if (S_ISREG(sb.st_mode))
            rc = keys_add(ks, rel->data);
        rel->len = keep;
        if (rel->data)
            rel->data[keep] = '\0';
        free(path);
    }
    closedir(d);
    return rc;
}

static dray_status f_list(struct s3_store *st, const char *prefix,
                          int (*fn)(void *ctx, const char *key), void *ctx,
                          dray_error *err)
{
    struct file_store *fs = (struct file_store *)st;
    struct dray_buf rel = DRAY_BUF_INIT;
    struct keys ks = {0};
    size_t plen = strlen(prefix);
    dray_status rc = DRAY_OK;

    if (walk(fs->root, &rel, &ks) != 0)
        rc = file_fail(err, errno, "list", fs->root);
    else
        qsort(ks.k, ks.n, sizeof(*ks.k), cmp_key);
    for (size_t i = 0; rc == DRAY_OK && i < ks.n; i++)
        if (strncmp(ks.k[i], prefix, plen) == 0 && fn(ctx, ks.k[i]) != 0)
            break;
    keys_free(&ks);
    dray_buf_release(&rel);
    return rc;
}

static dray_status f_get(struct s3_store *st, const char *key,
                         struct dray_sink *sink, dray_error *err)
{
    struct file_store *fs = (struct file_store *)st;
    char *path = join(fs->root, key);
    char buf[65536];
    dray_status rc = DRAY_OK;
    ssize_t n;
    int fd;

    if (path == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = file_fail(err, errno, "open", path);
        free(path);
        return rc;
    }
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = file_fail(err, errno, "read", path);
            break;
        }
        if (sink->write(sink->ctx, buf, (size_t)n) != 0) {
            rc = dray_error_set(err, DRAY_E_NOMEM, NULL,
                                "out of memory reading '%s'", path);
            break;
        }
    }
    close(fd);
    free(path);
    return rc;
}

/* rm -r of a folder below the root. */
static int remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int rc = 0;

    if (d == NULL)
        return errno == ENOENT ? 0 : unlink(path);
    while ((e = readdir(d)) != NULL) {
        char *child;
        struct stat sb;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        child = join(path, e->d_name);
        if (child == NULL)
            rc = -1;
        else if (lstat(child, &sb) == 0 && S_ISDIR(sb.st_mode))
            rc |= remove_tree(child);
        else if (unlink(child) != 0 && errno != ENOENT)
            rc = -1;
        free(child);
    }
    closedir(d);
    if (rmdir(path) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

static dray_status f_remove_prefix(struct s3_store *st, const char *prefix,
                                   dray_error *err)
{
    struct file_store *fs = (struct file_store *)st;
    char *path = join(fs->root, prefix);
    dray_status rc = DRAY_OK;
    size_t n;

    if (path == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        path[--n] = '\0';
    if (remove_tree(path) != 0)
        rc = file_fail(err, errno, "remove", path);
    free(path);
    return rc;
}

static dray_status f_remove(struct s3_store *st, const char *key,
                            dray_error *err)
{
    struct file_store *fs = (struct file_store *)st;
    char *path = join(fs->root, key);
    dray_status rc = DRAY_OK;

    if (path == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    if (unlink(path) != 0 && errno != ENOENT)
        rc = file_fail(err, errno, "remove", path);
    free(path);
    return rc;
}

static dray_status f_probe(struct s3_store *st, dray_error *err)
{
    struct s3_object *o;
    struct dray_sink sink;
    dray_status rc = f_open(st, "probe", NULL, &o, &sink, err);

    if (rc != DRAY_OK)
        return rc;
    if (sink.write(sink.ctx, "probe\n", 6) != 0 || fsync(o->fd) != 0)
        rc = file_fail(err, o->failed_errno ? o->failed_errno : errno, "write",
                       o->tmp);
    f_discard(st, o);
    return rc;
}

/* Removes temp files that no live writer holds. */
static void sweep(struct file_store *fs)
{
    char *tmpdir = join(fs->root, TMP_DIR);
    DIR *d = tmpdir ? opendir(tmpdir) : NULL;
    struct dirent *e;

    while (d != NULL && (e = readdir(d)) != NULL) {
        char *path;
        int fd;
        if (e->d_name[0] == '.')
            continue;
        path = join(tmpdir, e->d_name);
        fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
            unlink(path);
            dray_log(fs->base.inst, DRAY_LOG_INFO,
                     "removed '%s', left by a load that did not finish", path);
        }
        if (fd >= 0)
            close(fd);
        free(path);
    }
    if (d != NULL)
        closedir(d);
    free(tmpdir);
}

static void f_close(struct s3_store *st)
{
    struct file_store *fs = (struct file_store *)st;

    if (fs == NULL)
        return;
    free(fs->root);
    free(fs);
}

static const struct s3_store_ops file_ops = {
    f_open,   f_commit,        f_discard, f_list,  f_get,
    f_remove, f_remove_prefix, f_probe,   f_close,
};

dray_status s3_store_file_open(struct s3_plugin *p, struct s3_store **out,
                               dray_error *err)
{
    struct file_store *fs = calloc(1, sizeof(*fs));

    if (fs == NULL || (fs->root = strdup(p->url.prefix)) == NULL) {
        free(fs);
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    fs->base.ops = &file_ops;
    fs->base.inst = p->inst;
    if (make_root(fs->root) != 0) {
        dray_status rc = file_fail(err, errno, "create the folder", fs->root);
        f_close(&fs->base);
        return rc;
    }
    sweep(fs);
    *out = &fs->base;
    return DRAY_OK;
}

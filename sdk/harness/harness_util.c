/* harness_util.c - allocation that cannot fail, buffers, files, folders. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

void dray__oom(void)
{
    fputs("dray-plugin-test: out of memory\n", stderr);
    exit(3);
}

void *dray__xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        dray__oom();
    return p;
}

void *dray__xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL)
        dray__oom();
    return p;
}

void *dray__xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        dray__oom();
    return q;
}

char *dray__xstrndup(const char *s, size_t n)
{
    char *p = dray__xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *dray__xstrdup(const char *s)
{
    return dray__xstrndup(s, strlen(s));
}

void dray__xadd(struct dray_buf *b, const void *data, size_t n)
{
    if (dray_buf_add(b, data, n) != 0)
        dray__oom();
}

void dray__xadds(struct dray_buf *b, const char *s)
{
    dray__xadd(b, s, strlen(s));
}

void dray__xaddf(struct dray_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        dray__xadd(b, small, (size_t)n);
        return;
    }
    char *big = dray__xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    dray__xadd(b, big, (size_t)n);
    free(big);
}

int dray__read_file(const char *path, struct dray_buf *out)
{
    char chunk[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got;

    if (fd < 0)
        return -1;
    while ((got = read(fd, chunk, sizeof(chunk))) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        dray__xadd(out, chunk, (size_t)got);
    }
    close(fd);
    dray__xadd(out, "", 0); /* data is NUL-terminated, even when empty */
    return 0;
}

void dray__remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat st;

    if (d == NULL) {
        unlink(dir);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2;
        char *path = dray__xmalloc(n);
        snprintf(path, n, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            dray__remove_tree(path);
        else
            unlink(path);
        free(path);
    }
    closedir(d);
    rmdir(dir);
}

/*
 * s3_url.c - option 'url': s3://bucket/prefix or file:///folder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_internal.h"

/* Each /-separated segment non-empty and not "." or "..": a key made
   from the prefix must not climb out of a folder or make empty names. */
static int segments_ok(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '/')
            j++;
        if (j == i || (j - i == 1 && s[i] == '.') ||
            (j - i == 2 && s[i] == '.' && s[i + 1] == '.'))
            return 0;
        i = j + 1;
    }
    return 1;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Bucket names as S3 allows them (3 to 63 of [a-z0-9.-]), with '_' and
   capitals too for S3-compatible stores that take them. */
static int bucket_ok(const char *b, size_t n)
{
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int parse_s3(const char *rest, struct s3_url *out, char *why, size_t n)
{
    const char *slash = strchr(rest, '/');
    size_t blen = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *p = slash ? slash + 1 : "";
    size_t plen = strlen(p);

    if (!bucket_ok(rest, blen)) {
        snprintf(why, n,
                 "'%.*s' is not a bucket name (3 to 63 letters, "
                 "digits, '.' and '-')",
                 (int)(blen > 80 ? 80 : blen), rest);
        return -1;
    }
    while (plen > 0 && p[plen - 1] == '/')
        plen--;
    if (plen > 0 && !segments_ok(p, plen)) {
        snprintf(why, n, "the prefix '%.*s' has an empty, '.' or '..' part",
                 (int)(plen > 200 ? 200 : plen), p);
        return -1;
    }
    out->kind = S3_URL_S3;
    out->bucket = dup_n(rest, blen);
    out->prefix = dup_n(p, plen);
    if (out->bucket == NULL || out->prefix == NULL) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    return 0;
}

static int parse_file(const char *rest, struct s3_url *out, char *why, size_t n)
{
    size_t len;

    /* file://localhost/dir is file:///dir (RFC 8089); no other host. */
    if (strncmp(rest, "localhost/", 10) == 0)
        rest += 9;
    if (rest[0] != '/') {
        snprintf(why, n,
                 "a file URL names an absolute folder, as in "
                 "file:///var/lib/dray/lake");
        return -1;
    }
    len = strlen(rest);
    while (len > 1 && rest[len - 1] == '/')
        len--;
    if (len > 1 && !segments_ok(rest + 1, len - 1)) {
        snprintf(why, n, "the folder '%.*s' has an empty, '.' or '..' part",
                 (int)(len > 200 ? 200 : len), rest);
        return -1;
    }
    out->kind = S3_URL_FILE;
    out->bucket = NULL;
    out->prefix = dup_n(rest, len);
    if (out->prefix == NULL) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    return 0;
}

int s3_url_parse(const char *text, struct s3_url *out, char *why, size_t n)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL || *text == '\0') {
        snprintf(why, n, "it is empty");
        return -1;
    }
    if (strncmp(text, "s3://", 5) == 0)
        return parse_s3(text + 5, out, why, n);
    if (strncmp(text, "file://", 7) == 0)
        return parse_file(text + 7, out, why, n);
    snprintf(why, n,
             "'%.200s' is neither s3://bucket/prefix nor "
             "file:///folder",
             text);
    return -1;
}

void s3_url_release(struct s3_url *u)
{
    free(u->bucket);
    free(u->prefix);
    u->bucket = u->prefix = NULL;
}

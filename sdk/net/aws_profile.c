/*
 * aws_profile.c - the AWS shared credentials and config files: where they
 * are, one profile's settings in them as the AWS CLI writes them, and the
 * default region (dray_aws_default_region).
 *
 * The format, and the choices made where AWS's tools differ:
 *  - "[name]" starts a section; in the config file a profile is
 *    "[profile name]" (and the default one "[default]" or
 *    "[profile default]"), in the credentials file it is "[name]". A
 *    comment may follow the closing bracket.
 *  - "key = value" (':' also separates, as in the AWS CLI's parser); key
 *    and value are trimmed; a value is kept as written, '#' included
 *    (there are no comments after a value).
 *  - Keys are matched without case, as the AWS CLI does (it lowercases
 *    them), so AWS_ACCESS_KEY_ID = ... works there and here; section names
 *    are matched exactly.
 *  - Lines whose first non-blank character is '#' or ';' are comments.
 *  - A line indented deeper than the key before it continues that key:
 *    the nested settings of "s3 =" and the like. They are skipped.
 *  - A section that appears twice adds up; a key set twice keeps its last
 *    value.
 *  - CRLF line endings and a missing final newline are fine; a file that
 *    does not exist is an empty file.
 *  - Anything else (a line that is neither a section nor a setting, a
 *    setting before the first section) is an error naming the file and the
 *    line number, never the line itself: it may hold a secret.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dray/dray_encode.h"
#include "net_internal.h"

/* Bigger than any real profile file; stops a mistaken path to a huge file
   from being read into memory. */
#define PROFILE_FILE_MAX (4 * 1024 * 1024)

/* Keys that name a credential source this library does not implement, so
   the "no credentials" message can say why a profile gave nothing. */
static const char *const unsupported_keys[] = {"role_arn", "credential_process",
                                               "sso_session", "sso_start_url",
                                               "web_identity_token_file"};

/* Reads the whole file into out (NUL-terminated). Returns 0, 1 when it
   does not exist, -1 with a reason, -2 when out of memory. */
static int read_whole(const char *path, struct dray_buf *out, char *err,
                      size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;
    int rc = 0;

    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        dray__set_err(err, errlen, "cannot open the AWS file %s: %s", path,
                      strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (out->len + n > PROFILE_FILE_MAX) {
            dray__set_err(err, errlen, "the AWS file %s is over 4 MiB", path);
            rc = -1;
            goto done;
        }
        if (dray_buf_add(out, chunk, n) != 0) {
            rc = -2;
            goto done;
        }
    }
    if (ferror(f)) {
        dray__set_err(err, errlen, "cannot read the AWS file %s: %s", path,
                      strerror(errno));
        rc = -1;
        goto done;
    }
    if (dray_buf_reserve(out, 0) != 0) /* a NUL even for an empty file */
        rc = -2;
done:
    fclose(f);
    return rc;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims blanks at both ends of [*s, *e). */
static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

static int span_is(const char *s, const char *e, const char *word)
{
    size_t n = strlen(word);

    return (size_t)(e - s) == n && memcmp(s, word, n) == 0;
}

/* Whether the section name [s, e) is the profile's section. */
static int section_matches(const char *s, const char *e, int kind,
                           const char *profile)
{
    if (kind == DRAY__AWS_CREDENTIALS_FILE)
        return span_is(s, e, profile);
    if (strcmp(profile, "default") == 0 && span_is(s, e, "default"))
        return 1;
    if ((size_t)(e - s) <= 7 || memcmp(s, "profile", 7) != 0 || !is_blank(s[7]))
        return 0;
    s += 7;
    trim(&s, &e);
    return span_is(s, e, profile);
}

static int store(char **slot, const char *s, const char *e)
{
    char *v = strndup(s, (size_t)(e - s));

    if (v == NULL)
        return -2;
    if (*slot != NULL)
        dray__aws_free_secret(*slot);
    *slot = v;
    return 0;
}

/* Takes one setting of the profile's section. */
static int take(struct dray__aws_profile *out, const char *ks, const char *ke,
                const char *vs, const char *ve)
{
    size_t kn = (size_t)(ke - ks);
    size_t i;

    if (kn == 17 && strncasecmp(ks, "aws_access_key_id", kn) == 0)
        return store(&out->access_key_id, vs, ve);
    if (kn == 21 && strncasecmp(ks, "aws_secret_access_key", kn) == 0)
        return store(&out->secret_access_key, vs, ve);
    if (kn == 17 && strncasecmp(ks, "aws_session_token", kn) == 0)
        return store(&out->session_token, vs, ve);
    if (kn == 6 && strncasecmp(ks, "region", kn) == 0)
        return store(&out->region, vs, ve);
    for (i = 0; i < sizeof(unsupported_keys) / sizeof(unsupported_keys[0]);
         i++) {
        if (strlen(unsupported_keys[i]) == kn &&
            strncasecmp(ks, unsupported_keys[i], kn) == 0 &&
            out->unsupported == NULL)
            out->unsupported = unsupported_keys[i];
    }
    return 0;
}

/* Walks the text line by line; settings of the matching section go into
   out. */
static int parse(const char *path, const char *text, size_t len, int kind,
                 const char *profile, struct dray__aws_profile *out, char *err,
                 size_t errlen)
{
    const char *p = text, *end = text + len;
    size_t lineno = 0;
    int in_section = 0, matching = 0, have_key = 0;
    size_t key_indent = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *ls = p, *le = nl ? nl : end;
        const char *s, *e, *sep;
        size_t indent;

        p = nl ? nl + 1 : end;
        lineno++;
        for (indent = 0; ls + indent < le && is_blank(ls[indent]); indent++)
            ;
        s = ls;
        e = le;
        trim(&s, &e); /* also drops the CR of CRLF */
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (have_key && indent > key_indent)
            continue; /* continues the key above: a nested setting */
        if (*s == '[') {
            const char *close = memchr(s, ']', (size_t)(e - s));
            const char *ns = s + 1, *ne = close, *rest = close + 1;

            if (close == NULL)
                goto bad_section;
            while (rest < e && is_blank(*rest))
                rest++;
            if (rest < e && *rest != '#' && *rest != ';')
                goto bad_section;
            trim(&ns, &ne);
            if (ns == ne)
                goto bad_section;
            in_section = 1;
            have_key = 0;
            matching = section_matches(ns, ne, kind, profile);
            if (matching)
                out->found = 1;
            continue;
        }
        sep = s;
        while (sep < e && *sep != '=' && *sep != ':')
            sep++;
        if (sep == e || sep == s) {
            dray__set_err(
                err, errlen,
                "the AWS file %s has a line that is neither a [section] "
                "nor a key = value setting at line %zu: fix or remove it",
                path, lineno);
            return -1;
        }
        if (!in_section) {
            dray__set_err(
                err, errlen,
                "the AWS file %s has a setting before its first [section] "
                "at line %zu: move it into a section",
                path, lineno);
            return -1;
        }
        have_key = 1;
        key_indent = indent;
        if (matching) {
            const char *ks = s, *ke = sep, *vs = sep + 1, *ve = e;

            trim(&ks, &ke);
            trim(&vs, &ve);
            if (take(out, ks, ke, vs, ve) != 0)
                return -2;
        }
    }
    return 0;

bad_section:
    dray__set_err(
        err, errlen,
        "the AWS file %s has a malformed [section] header at line %zu: "
        "write it as [name]",
        path, lineno);
    return -1;
}

int dray__aws_profile_read(const char *path, int kind, const char *profile,
                           struct dray__aws_profile *out, char *err,
                           size_t errlen)
{
    struct dray_buf text = DRAY_BUF_INIT;
    int rc;

    if (path == NULL)
        return 0;
    rc = read_whole(path, &text, err, errlen);
    if (rc == 0)
        rc = parse(path, text.data, text.len, kind, profile, out, err, errlen);
    else if (rc == 1)
        rc = 0;
    /* The file may hold secrets of other profiles too. */
    if (text.data != NULL)
        dray__aws_wipe(text.data, text.cap);
    dray_buf_release(&text);
    return rc;
}

void dray__aws_profile_release(struct dray__aws_profile *p)
{
    dray__aws_free_secret(p->access_key_id);
    dray__aws_free_secret(p->secret_access_key);
    dray__aws_free_secret(p->session_token);
    free(p->region);
    memset(p, 0, sizeof(*p));
}

/* ---- paths and the default region ------------------------------------- */

/* A variable's value; NULL when unset or empty. */
static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && *v != '\0' ? v : NULL;
}

static int dup_text(char **out, const char *s)
{
    *out = strdup(s);
    return *out == NULL ? -2 : 0;
}

/* Path of one shared file: the variable, with a leading "~/" expanded, or
   $HOME/.aws/leaf. *out NULL: no HOME. Returns 0 or -2. */
int dray__aws_shared_path(const char *var, const char *leaf, char **out)
{
    const char *v = env(var), *home = env("HOME");
    size_t n;

    *out = NULL;
    if (v != NULL && (v[0] != '~' || v[1] != '/'))
        return dup_text(out, v);
    if (home == NULL)
        return 0;
    n = strlen(home) + strlen(leaf) + 8;
    if (v != NULL)
        n += strlen(v);
    *out = malloc(n);
    if (*out == NULL)
        return -2;
    if (v != NULL)
        snprintf(*out, n, "%s%s", home, v + 1);
    else
        snprintf(*out, n, "%s/.aws/%s", home, leaf);
    return 0;
}

/* A shared file's path for a message. */
const char *dray__aws_shown_path(const char *path, int kind)
{
    if (path != NULL)
        return path;
    return kind == DRAY__AWS_CREDENTIALS_FILE
               ? "~/.aws/credentials (HOME is not set)"
               : "~/.aws/config (HOME is not set)";
}

int dray_aws_default_region(const char *profile, char *buf, size_t size)
{
    struct dray__aws_profile prof;
    const char *region = env("AWS_REGION");
    char *path = NULL;
    int ok = 0;

    if (region == NULL)
        region = env("AWS_DEFAULT_REGION");
    if (region != NULL)
        goto copy;
    if (profile != NULL && *profile == '\0')
        profile = NULL;
    if (profile == NULL)
        profile = env("AWS_PROFILE");
    if (profile == NULL)
        profile = "default";
    if (dray__aws_shared_path("AWS_CONFIG_FILE", "config", &path) != 0)
        return 0;
    memset(&prof, 0, sizeof(prof));
    if (dray__aws_profile_read(path, DRAY__AWS_CONFIG_FILE, profile, &prof,
                               NULL, 0) == 0 &&
        prof.region != NULL && prof.region[0] != '\0' &&
        strlen(prof.region) < size) {
        memcpy(buf, prof.region, strlen(prof.region) + 1);
        ok = 1;
    }
    dray__aws_profile_release(&prof);
    free(path);
    return ok;
copy:
    if (strlen(region) >= size)
        return 0;
    memcpy(buf, region, strlen(region) + 1);
    return 1;
}

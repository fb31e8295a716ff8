/*
 * aws_creds_chain.c - the default AWS credential chain's walk: options,
 * environment, shared profile files, container endpoint, instance metadata,
 * in that order. Caching, refreshing and locking are aws_creds.c's.
 *
 * Decisions, where AWS's SDKs leave room or differ:
 *  - Open reads the environment once and keeps it; it touches files only
 *    to check a profile named explicitly (the option or AWS_PROFILE), and
 *    never the network. Explicit keys in the options end the chain there:
 *    the environment and the files are then not looked at, not even for
 *    errors. Keys in the environment still let open check a named
 *    profile (a wrong AWS_PROFILE is worth knowing). Empty values count
 *    as unset, in options and environment. The credentials and config
 *    files are read again at each resolution (they may have changed).
 *  - Half a key pair is an error at open, never a silent fall-through:
 *    access_key_id without secret_access_key (or the reverse, or a
 *    session_token alone) in the options, and the same with
 *    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; in a profile it is an
 *    error at get naming the file. A broken profile file is an error too
 *    (file and line, never a value), as the AWS CLI has it.
 *  - A profile whose section has no keys (one that uses role_arn, SSO or
 *    credential_process, which this library does not implement) lets the
 *    chain go on; the "no credentials" message says so.
 *  - Container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI wins
 *    over _FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE over
 *    AWS_CONTAINER_AUTHORIZATION_TOKEN (the AWS SDKs' order); a full URI
 *    over plain http must name the loopback or a container agent address.
 *    When these variables are set the container is the source: its
 *    failures are reported, the chain does not go on to IMDS.
 *  - IMDS outcomes. The token PUT decides whether there is a metadata
 *    service at all: refused, timed out, reset, or answered with a 4xx
 *    (IMDS turned off on the instance) means "not on EC2": the source has
 *    nothing, and get returns -1 "no credentials" with the fix. After a
 *    token: a 5xx, a 429, a 401 (the token expired in between), a timeout
 *    or a dropped connection is transient (1: try again); a 404 for the
 *    role list is "no role attached" (-1, no credentials); any other 4xx,
 *    a malformed answer or a Code other than "Success" is -1. A 5xx on the
 *    token PUT itself is transient too: something answered at the
 *    metadata address.
 *  - Each IMDS request has a 1 s connect timeout, 3 s in all and two
 *    tries, so a machine off EC2 learns it within about 2 s.
 *  - A refresh asks the source that gave the credentials again; one that
 *    finds the source gone ("not on EC2" after it worked) is transient.
 *  - A container or IMDS answer with a Token but no Expiration is
 *    malformed (temporary credentials kept forever would fail later);
 *    without a Token, no Expiration means "does not expire".
 *  - HOME unset: the default file paths do not exist (empty files).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dray/dray_aws.h"
#include "dray/dray_encode.h"
#include "net_internal.h"

#define FIX_HINT                                                               \
    "set access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and "       \
    "AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials, or run with "  \
    "an instance role"

/* A variable's value; NULL when unset or empty. */
static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && *v != '\0' ? v : NULL;
}

static const char *nonempty(const char *s)
{
    return s != NULL && *s != '\0' ? s : NULL;
}

static int dup_opt(char **slot, const char *s)
{
    *slot = NULL;
    if (s == NULL)
        return 0;
    *slot = strdup(s);
    return *slot == NULL ? -2 : 0;
}

static int format_source(char **out, const char *profile, const char *file)
{
    size_t n = strlen(profile) + (file ? strlen(file) : 0) + 16;

    *out = malloc(n);
    if (*out == NULL)
        return -2;
    snprintf(*out, n, "profile %s in %s", profile, file ? file : "?");
    return 0;
}

/* Reads both files for profile c->profile: *found tells in which. */
static int profile_exists(struct dray__aws_chain *c, int *found, char *err,
                          size_t errlen)
{
    int i, rc = 0;

    *found = 0;
    for (i = 0; i < 2 && rc == 0 && !*found; i++) {
        struct dray__aws_profile prof;

        memset(&prof, 0, sizeof(prof));
        rc = dray__aws_profile_read(c->files[i], i, c->profile, &prof, err,
                                    errlen);
        *found = prof.found;
        dray__aws_profile_release(&prof);
    }
    return rc;
}

/* The options and the environment's keys; -1 for half a pair. */
static int open_explicit(struct dray__aws_chain *c,
                         const struct dray_aws_cred_opts *o, char *err,
                         size_t errlen)
{
    const char *key = nonempty(o->access_key_id);
    const char *secret = nonempty(o->secret_access_key);
    const char *token = nonempty(o->session_token);

    if (key != NULL || secret != NULL || token != NULL) {
        if (key == NULL || secret == NULL) {
            dray__set_err(
                err, errlen,
                "AWS option %s is set but %s is not: set both, or neither "
                "to use the default credential chain",
                key != NULL ? "access_key_id"
                            : (secret ? "secret_access_key" : "session_token"),
                key != NULL ? "secret_access_key" : "access_key_id");
            return -1;
        }
        c->explicit_kind = DRAY__AWS_SRC_OPTIONS;
    } else {
        key = env("AWS_ACCESS_KEY_ID");
        secret = env("AWS_SECRET_ACCESS_KEY");
        token = env("AWS_SESSION_TOKEN");
        if ((key == NULL) != (secret == NULL)) {
            dray__set_err(
                err, errlen,
                "environment variable %s is set but %s is not: set both, "
                "or unset %s",
                key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                key ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
                key ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
            return -1;
        }
        if (key == NULL)
            return 0;
        c->explicit_kind = DRAY__AWS_SRC_ENV;
    }
    if (dup_opt(&c->explicit_creds.access_key_id, key) != 0 ||
        dup_opt(&c->explicit_creds.secret_access_key, secret) != 0 ||
        dup_opt(&c->explicit_creds.session_token, token) != 0)
        return -2;
    return 0;
}

/* The profile to read (option, AWS_PROFILE, else "default"), its files,
   and whether a profile named explicitly exists. */
static int open_profile(struct dray__aws_chain *c,
                        const struct dray_aws_cred_opts *o, char *err,
                        size_t errlen)
{
    const char *profile = nonempty(o->profile);
    int i, rc, found;

    c->profile_from = "the profile option";
    if (profile == NULL) {
        profile = env("AWS_PROFILE");
        c->profile_from = "AWS_PROFILE";
    }
    if (profile == NULL) {
        profile = "default";
        c->profile_from = NULL;
    }
    if (dup_opt(&c->profile, profile) != 0 ||
        dray__aws_shared_path("AWS_SHARED_CREDENTIALS_FILE", "credentials",
                              &c->files[0]) != 0 ||
        dray__aws_shared_path("AWS_CONFIG_FILE", "config", &c->files[1]) != 0)
        return -2;
    for (i = 0; i < 2; i++)
        if (format_source(&c->sources[i], profile, c->files[i]) != 0)
            return -2;
    if (c->profile_from == NULL)
        return 0;
    rc = profile_exists(c, &found, err, errlen);
    if (rc != 0)
        return rc;
    if (!found) {
        dray__set_err(err, errlen,
                      "AWS profile \"%s\" (from %s) is not in %s or %s: add "
                      "it or name another profile",
                      profile, c->profile_from,
                      dray__aws_shown_path(c->files[0], 0),
                      dray__aws_shown_path(c->files[1], 1));
        return -1;
    }
    return 0;
}

/* The container endpoint and IMDS, from the environment. */
static int open_remote(struct dray__aws_chain *c,
                       const struct dray_aws_cred_opts *o)
{
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *ep = nonempty(o->imds_endpoint), *dis;
    size_t n;

    if (rel != NULL) {
        n = strlen(rel) + 32;
        c->container_url = malloc(n);
        if (c->container_url == NULL)
            return -2;
        snprintf(c->container_url, n, "http://169.254.170.2%s%s",
                 rel[0] == '/' ? "" : "/", rel);
    } else if (dup_opt(&c->container_url, full) != 0) {
        return -2;
    }
    if (dup_opt(&c->container_token_file,
                env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) != 0)
        return -2;
    if (c->container_token_file == NULL &&
        dup_opt(&c->container_token,
                env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) != 0)
        return -2;
    if (dup_opt(&c->ca_bundle, nonempty(o->ca_bundle)) != 0)
        return -2;
    c->container.url = c->container_url;
    c->container.token = c->container_token;
    c->container.token_file = c->container_token_file;
    c->container.ca_bundle = c->ca_bundle;

    dis = env("AWS_EC2_METADATA_DISABLED");
    if (dis != NULL && strcasecmp(dis, "true") == 0)
        return 0;
    if (ep == NULL)
        ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (ep == NULL) {
        const char *mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");

        ep = mode != NULL && strcasecmp(mode, "IPv6") == 0
                 ? "http://[fd00:ec2::254]"
                 : "http://169.254.169.254";
    }
    if (dup_opt(&c->imds_endpoint, ep) != 0)
        return -2;
    n = strlen(c->imds_endpoint);
    while (n > 0 && c->imds_endpoint[n - 1] == '/')
        c->imds_endpoint[--n] = '\0';
    return 0;
}

int dray__aws_chain_open(struct dray__aws_chain *c,
                         const struct dray_aws_cred_opts *o, char *err,
                         size_t errlen)
{
    int rc = open_explicit(c, o, err, errlen);

    if (rc != 0 || c->explicit_kind == DRAY__AWS_SRC_OPTIONS)
        return rc;
    rc = open_profile(c, o, err, errlen);
    if (rc != 0)
        return rc;
    return open_remote(c, o);
}

void dray__aws_chain_release(struct dray__aws_chain *c)
{
    int i;

    dray_aws_creds_clear(&c->explicit_creds);
    free(c->profile);
    for (i = 0; i < 2; i++) {
        free(c->files[i]);
        free(c->sources[i]);
    }
    free(c->container_url);
    dray__aws_free_secret(c->container_token);
    free(c->container_token_file);
    free(c->ca_bundle);
    free(c->imds_endpoint);
}

/* ---- resolving ---------------------------------------------------------- */

static void note(struct dray_buf *tried, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends "; " and one source's story to the "no credentials" message. */
static void note(struct dray_buf *tried, const char *fmt, ...)
{
    char line[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (tried->len > 0)
        dray_buf_add(tried, "; ", 2);
    dray_buf_add(tried, line, strlen(line));
}

/* The shared files. Returns 0 with creds, DRAY__AWS_NONE, -1, -2. */
static int from_profile(struct dray__aws_chain *c, struct dray_aws_creds *out,
                        const char **source, struct dray_buf *tried, char *err,
                        size_t errlen)
{
    struct dray__aws_profile prof;
    const char *unsupported = NULL, *in_file = NULL;
    int i, rc = DRAY__AWS_NONE;

    for (i = 0; i < 2 && rc == DRAY__AWS_NONE; i++) {
        memset(&prof, 0, sizeof(prof));
        rc = dray__aws_profile_read(c->files[i], i, c->profile, &prof, err,
                                    errlen);
        if (rc != 0)
            goto next;
        rc = DRAY__AWS_NONE;
        if (prof.found && in_file == NULL)
            in_file = c->files[i];
        if (prof.unsupported != NULL && unsupported == NULL)
            unsupported = prof.unsupported;
        if (prof.access_key_id == NULL && prof.secret_access_key == NULL)
            goto next;
        if (prof.access_key_id == NULL || prof.secret_access_key == NULL) {
            dray__set_err(
                err, errlen,
                "profile %s in %s has %s but no %s: add it, or remove the "
                "other",
                c->profile, c->files[i],
                prof.access_key_id ? "aws_access_key_id"
                                   : "aws_secret_access_key",
                prof.access_key_id ? "aws_secret_access_key"
                                   : "aws_access_key_id");
            rc = -1;
            goto next;
        }
        /* Moved, not copied: prof's pointers go to out. */
        out->access_key_id = prof.access_key_id;
        out->secret_access_key = prof.secret_access_key;
        out->session_token = prof.session_token;
        if (out->session_token != NULL && *out->session_token == '\0') {
            free(out->session_token);
            out->session_token = NULL;
        }
        out->expires_at_ms = 0;
        prof.access_key_id = prof.secret_access_key = NULL;
        prof.session_token = NULL;
        *source = c->sources[i];
        rc = 0;
    next:
        dray__aws_profile_release(&prof);
    }
    if (rc != DRAY__AWS_NONE)
        return rc;
    if (in_file == NULL)
        note(tried, "profile \"%s\": not in %s or %s", c->profile,
             dray__aws_shown_path(c->files[0], 0),
             dray__aws_shown_path(c->files[1], 1));
    else
        note(tried, "profile \"%s\" in %s: no aws_access_key_id%s%s%s",
             c->profile, in_file, unsupported ? " (it uses " : "",
             unsupported ? unsupported : "",
             unsupported ? ", which dray does not read)" : "");
    return DRAY__AWS_NONE;
}

int dray__aws_chain_resolve(struct dray__aws_chain *c,
                            struct dray_aws_creds *out, int *kind,
                            const char **source, char *err, size_t errlen)
{
    struct dray_buf tried = DRAY_BUF_INIT;
    int rc;

    if (c->explicit_kind != DRAY__AWS_SRC_NONE) {
        *kind = c->explicit_kind;
        *source = *kind == DRAY__AWS_SRC_OPTIONS ? "options" : "environment";
        return dray__aws_creds_copy(&c->explicit_creds, out);
    }
    note(&tried, "options and environment: no keys");
    rc = from_profile(c, out, source, &tried, err, errlen);
    if (rc != DRAY__AWS_NONE) {
        *kind = DRAY__AWS_SRC_PROFILE;
        goto done;
    }
    if (c->container_url != NULL) {
        rc = dray__aws_container_fetch(&c->container, out, err, errlen);
        *kind = DRAY__AWS_SRC_CONTAINER;
        *source = "container";
        goto done;
    }
    note(&tried, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                 "_FULL_URI not set");
    if (c->imds_endpoint == NULL) {
        note(&tried,
             "instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
    } else {
        rc = dray__aws_imds_fetch(c->imds_endpoint, out, err, errlen);
        *kind = DRAY__AWS_SRC_IMDS;
        *source = "instance metadata";
        if (rc != DRAY__AWS_NONE)
            goto done;
        note(&tried, "instance metadata: %s", err);
    }
    dray__set_err(err, errlen,
                  "no AWS credentials found: " FIX_HINT " (tried %s)",
                  tried.data ? tried.data : "");
    rc = -1;
done:
    dray_buf_release(&tried);
    return rc;
}

int dray__aws_chain_refetch(struct dray__aws_chain *c, int kind,
                            struct dray_aws_creds *out, char *err,
                            size_t errlen)
{
    int rc;

    if (kind == DRAY__AWS_SRC_CONTAINER)
        rc = dray__aws_container_fetch(&c->container, out, err, errlen);
    else
        rc = dray__aws_imds_fetch(c->imds_endpoint, out, err, errlen);
    return rc == DRAY__AWS_NONE ? 1 : rc;
}

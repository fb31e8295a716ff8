/*
 * aws_creds.c - the default AWS credential chain: which source is used,
 * caching and refreshing.
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
 *  - Once a source has given credentials, refreshing asks that source
 *    again, not the whole chain: the identity does not change in the
 *    middle of a run. A refresh that finds the source gone ("not on EC2"
 *    after it worked) is transient.
 *  - Credentials are fetched again when less than five minutes remain.
 *    When that fails and the old ones are still valid, get returns 0 with
 *    them and leaves the failure's reason in err (a caller that logs can
 *    look); another refresh is not tried for 10 s. Only one thread
 *    refreshes; the others keep using valid credentials meanwhile, or
 *    wait for its result when there are none.
 *  - A container or IMDS answer with a Token but no Expiration is
 *    malformed (temporary credentials kept forever would fail later);
 *    without a Token, no Expiration means "does not expire".
 *  - HOME unset: the default file paths do not exist (empty files).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "dray/dray_aws.h"
#include "dray/dray_encode.h"
#include "net_internal.h"

#define REFRESH_BEFORE_MS (5 * 60 * 1000)
#define RETRY_AFTER_FAILURE_MS (10 * 1000)

#define FIX_HINT                                                               \
    "set access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and "       \
    "AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials, or run with "  \
    "an instance role"

enum { SRC_NONE, SRC_OPTIONS, SRC_ENV, SRC_PROFILE, SRC_CONTAINER, SRC_IMDS };

struct dray_aws_cred_provider {
    pthread_mutex_t mu;
    pthread_cond_t done;

    /* Fixed at open. */
    struct dray_aws_creds explicit_creds; /* options or environment */
    int explicit_kind;                    /* SRC_OPTIONS, SRC_ENV, none */
    char *profile;
    const char *profile_from; /* "the profile option", "AWS_PROFILE" */
    char *files[2];           /* credentials, config; NULL: no HOME */
    char *sources[2];         /* "profile NAME in FILE" for each */
    struct dray__aws_container container;
    char *container_url, *container_token, *container_token_file;
    char *ca_bundle;
    char *imds_endpoint; /* NULL: disabled */

    /* Under mu. */
    struct dray_aws_creds cur;
    int have, kind;
    const char *source;
    int refreshing;
    int64_t next_try_ms;
    unsigned gen; /* counts finished refreshes */
    int last_rc;  /* the last refresh's outcome, for waiters */
    char last_err[1024];
};

void dray__aws_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

void dray__aws_free_secret(char *s)
{
    if (s == NULL)
        return;
    dray__aws_wipe(s, strlen(s));
    free(s);
}

void dray_aws_creds_clear(struct dray_aws_creds *c)
{
    if (c == NULL)
        return;
    dray__aws_free_secret(c->access_key_id);
    dray__aws_free_secret(c->secret_access_key);
    dray__aws_free_secret(c->session_token);
    memset(c, 0, sizeof(*c));
}

static int copy_creds(const struct dray_aws_creds *src,
                      struct dray_aws_creds *dst)
{
    memset(dst, 0, sizeof(*dst));
    dst->access_key_id = strdup(src->access_key_id);
    dst->secret_access_key = strdup(src->secret_access_key);
    if (src->session_token != NULL)
        dst->session_token = strdup(src->session_token);
    dst->expires_at_ms = src->expires_at_ms;
    if (dst->access_key_id == NULL || dst->secret_access_key == NULL ||
        (src->session_token != NULL && dst->session_token == NULL)) {
        dray_aws_creds_clear(dst);
        return -2;
    }
    return 0;
}

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

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* Reads both files for profile p->profile: *found tells in which. */
static int profile_exists(struct dray_aws_cred_provider *p, int *found,
                          char *err, size_t errlen)
{
    int i, rc = 0;

    *found = 0;
    for (i = 0; i < 2 && rc == 0 && !*found; i++) {
        struct dray__aws_profile prof;

        memset(&prof, 0, sizeof(prof));
        rc = dray__aws_profile_read(p->files[i], i, p->profile, &prof, err,
                                    errlen);
        *found = prof.found;
        dray__aws_profile_release(&prof);
    }
    return rc;
}

/* The options and the environment's keys; -1 for half a pair. */
static int open_explicit(struct dray_aws_cred_provider *p,
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
        p->explicit_kind = SRC_OPTIONS;
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
        p->explicit_kind = SRC_ENV;
    }
    if (dup_opt(&p->explicit_creds.access_key_id, key) != 0 ||
        dup_opt(&p->explicit_creds.secret_access_key, secret) != 0 ||
        dup_opt(&p->explicit_creds.session_token, token) != 0)
        return -2;
    return 0;
}

/* The container endpoint and IMDS, from the environment. */
static int open_remote(struct dray_aws_cred_provider *p,
                       const struct dray_aws_cred_opts *o)
{
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *ep = nonempty(o->imds_endpoint), *dis;
    size_t n;

    if (rel != NULL) {
        n = strlen(rel) + 32;
        p->container_url = malloc(n);
        if (p->container_url == NULL)
            return -2;
        snprintf(p->container_url, n, "http://169.254.170.2%s%s",
                 rel[0] == '/' ? "" : "/", rel);
    } else if (dup_opt(&p->container_url, full) != 0) {
        return -2;
    }
    if (dup_opt(&p->container_token_file,
                env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) != 0)
        return -2;
    if (p->container_token_file == NULL &&
        dup_opt(&p->container_token,
                env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) != 0)
        return -2;
    if (dup_opt(&p->ca_bundle, nonempty(o->ca_bundle)) != 0)
        return -2;
    p->container.url = p->container_url;
    p->container.token = p->container_token;
    p->container.token_file = p->container_token_file;
    p->container.ca_bundle = p->ca_bundle;

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
    if (dup_opt(&p->imds_endpoint, ep) != 0)
        return -2;
    n = strlen(p->imds_endpoint);
    while (n > 0 && p->imds_endpoint[n - 1] == '/')
        p->imds_endpoint[--n] = '\0';
    return 0;
}

int dray_aws_creds_open(struct dray_aws_cred_provider **out,
                        const struct dray_aws_cred_opts *opts, char *err,
                        size_t errlen)
{
    struct dray_aws_cred_opts none;
    struct dray_aws_cred_provider *p;
    const char *profile;
    int i, rc, found;

    *out = NULL;
    if (opts == NULL) {
        memset(&none, 0, sizeof(none));
        opts = &none;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -2;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->done, NULL);
    p->source = "none";

    rc = open_explicit(p, opts, err, errlen);
    if (rc != 0 || p->explicit_kind == SRC_OPTIONS)
        goto done;

    profile = nonempty(opts->profile);
    p->profile_from = "the profile option";
    if (profile == NULL) {
        profile = env("AWS_PROFILE");
        p->profile_from = "AWS_PROFILE";
    }
    if (profile == NULL) {
        profile = "default";
        p->profile_from = NULL;
    }
    rc = -2;
    if (dup_opt(&p->profile, profile) != 0 ||
        dray__aws_shared_path("AWS_SHARED_CREDENTIALS_FILE", "credentials",
                              &p->files[0]) != 0 ||
        dray__aws_shared_path("AWS_CONFIG_FILE", "config", &p->files[1]) != 0)
        goto done;
    for (i = 0; i < 2; i++)
        if (format_source(&p->sources[i], profile, p->files[i]) != 0)
            goto done;
    if (p->profile_from != NULL) {
        rc = profile_exists(p, &found, err, errlen);
        if (rc != 0)
            goto done;
        if (!found) {
            dray__set_err(
                err, errlen,
                "AWS profile \"%s\" (from %s) is not in %s or %s: add it "
                "or name another profile",
                profile, p->profile_from, dray__aws_shown_path(p->files[0], 0),
                dray__aws_shown_path(p->files[1], 1));
            rc = -1;
            goto done;
        }
    }
    rc = open_remote(p, opts);
done:
    if (rc != 0) {
        dray_aws_creds_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

void dray_aws_creds_close(struct dray_aws_cred_provider *p)
{
    int i;

    if (p == NULL)
        return;
    dray_aws_creds_clear(&p->explicit_creds);
    dray_aws_creds_clear(&p->cur);
    free(p->profile);
    for (i = 0; i < 2; i++) {
        free(p->files[i]);
        free(p->sources[i]);
    }
    free(p->container_url);
    dray__aws_free_secret(p->container_token);
    free(p->container_token_file);
    free(p->ca_bundle);
    free(p->imds_endpoint);
    dray__aws_wipe(p->last_err, sizeof(p->last_err));
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
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
static int from_profile(struct dray_aws_cred_provider *p,
                        struct dray_aws_creds *out, const char **source,
                        struct dray_buf *tried, char *err, size_t errlen)
{
    struct dray__aws_profile prof;
    const char *unsupported = NULL, *in_file = NULL;
    int i, rc = DRAY__AWS_NONE;

    for (i = 0; i < 2 && rc == DRAY__AWS_NONE; i++) {
        memset(&prof, 0, sizeof(prof));
        rc = dray__aws_profile_read(p->files[i], i, p->profile, &prof, err,
                                    errlen);
        if (rc != 0)
            goto next;
        rc = DRAY__AWS_NONE;
        if (prof.found && in_file == NULL)
            in_file = p->files[i];
        if (prof.unsupported != NULL && unsupported == NULL)
            unsupported = prof.unsupported;
        if (prof.access_key_id == NULL && prof.secret_access_key == NULL)
            goto next;
        if (prof.access_key_id == NULL || prof.secret_access_key == NULL) {
            dray__set_err(
                err, errlen,
                "profile %s in %s has %s but no %s: add it, or remove the "
                "other",
                p->profile, p->files[i],
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
        *source = p->sources[i];
        rc = 0;
    next:
        dray__aws_profile_release(&prof);
    }
    if (rc != DRAY__AWS_NONE)
        return rc;
    if (in_file == NULL)
        note(tried, "profile \"%s\": not in %s or %s", p->profile,
             dray__aws_shown_path(p->files[0], 0),
             dray__aws_shown_path(p->files[1], 1));
    else
        note(tried, "profile \"%s\" in %s: no aws_access_key_id%s%s%s",
             p->profile, in_file, unsupported ? " (it uses " : "",
             unsupported ? unsupported : "",
             unsupported ? ", which dray does not read)" : "");
    return DRAY__AWS_NONE;
}

/* The whole chain, for the first credentials. */
static int resolve(struct dray_aws_cred_provider *p, struct dray_aws_creds *out,
                   int *kind, const char **source, char *err, size_t errlen)
{
    struct dray_buf tried = DRAY_BUF_INIT;
    int rc;

    if (p->explicit_kind != SRC_NONE) {
        *kind = p->explicit_kind;
        *source = *kind == SRC_OPTIONS ? "options" : "environment";
        return copy_creds(&p->explicit_creds, out);
    }
    note(&tried, "options and environment: no keys");
    rc = from_profile(p, out, source, &tried, err, errlen);
    if (rc != DRAY__AWS_NONE) {
        *kind = SRC_PROFILE;
        goto done;
    }
    if (p->container_url != NULL) {
        rc = dray__aws_container_fetch(&p->container, out, err, errlen);
        *kind = SRC_CONTAINER;
        *source = "container";
        goto done;
    }
    note(&tried, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and "
                 "_FULL_URI not set");
    if (p->imds_endpoint == NULL) {
        note(&tried,
             "instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
    } else {
        rc = dray__aws_imds_fetch(p->imds_endpoint, out, err, errlen);
        *kind = SRC_IMDS;
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

/* A refresh asks the source that gave the credentials. */
static int fetch_again(struct dray_aws_cred_provider *p, int kind,
                       struct dray_aws_creds *out, char *err, size_t errlen)
{
    int rc;

    if (kind == SRC_CONTAINER)
        rc = dray__aws_container_fetch(&p->container, out, err, errlen);
    else
        rc = dray__aws_imds_fetch(p->imds_endpoint, out, err, errlen);
    return rc == DRAY__AWS_NONE ? 1 : rc;
}

static int fresh_enough(const struct dray_aws_creds *c, int64_t now)
{
    return c->expires_at_ms == 0 || c->expires_at_ms - now > REFRESH_BEFORE_MS;
}

static int usable(const struct dray_aws_creds *c, int64_t now)
{
    return c->expires_at_ms == 0 || c->expires_at_ms > now;
}

int dray_aws_creds_get(struct dray_aws_cred_provider *p,
                       struct dray_aws_creds *out, char *err, size_t errlen)
{
    struct dray_aws_creds fresh;
    const char *source = NULL;
    char why[sizeof(p->last_err)] = "";
    int kind, rc;
    unsigned gen;

    memset(out, 0, sizeof(*out));
    memset(&fresh, 0, sizeof(fresh));
    dray__set_err(err, errlen, "%s", "");
    pthread_mutex_lock(&p->mu);
    gen = p->gen;
    for (;;) {
        int64_t now = now_ms();

        if (p->have &&
            (fresh_enough(&p->cur, now) ||
             (usable(&p->cur, now) && (p->refreshing || now < p->next_try_ms))))
            goto copy;
        if (!p->refreshing && p->gen != gen) {
            /* Waited for another thread's refresh: its outcome is ours. */
            if (p->have && usable(&p->cur, now))
                goto copy;
            rc = p->last_rc;
            dray__set_err(err, errlen, "%s", p->last_err);
            goto unlock;
        }
        if (!p->refreshing)
            break;
        pthread_cond_wait(&p->done, &p->mu);
    }
    p->refreshing = 1;
    kind = p->have ? p->kind : SRC_NONE;
    pthread_mutex_unlock(&p->mu);

    /* The network, without the lock. */
    if (kind == SRC_CONTAINER || kind == SRC_IMDS)
        rc = fetch_again(p, kind, &fresh, why, sizeof(why));
    else
        rc = resolve(p, &fresh, &kind, &source, why, sizeof(why));

    pthread_mutex_lock(&p->mu);
    p->refreshing = 0;
    p->gen++;
    p->last_rc = rc;
    memcpy(p->last_err, why, sizeof(why));
    pthread_cond_broadcast(&p->done);
    if (rc == 0) {
        dray_aws_creds_clear(&p->cur);
        p->cur = fresh;
        p->have = 1;
        p->kind = kind;
        if (source != NULL)
            p->source = source;
        p->next_try_ms = 0;
    } else {
        dray_aws_creds_clear(&fresh);
        dray__set_err(err, errlen, "%s", why);
        if (!p->have || rc == -2 || !usable(&p->cur, now_ms()))
            goto unlock;
        /* Still valid: keep them; err tells why the refresh failed. */
        p->next_try_ms = now_ms() + RETRY_AFTER_FAILURE_MS;
        rc = 0;
    }
copy:
    rc = copy_creds(&p->cur, out);
unlock:
    pthread_mutex_unlock(&p->mu);
    return rc;
}

const char *dray_aws_creds_source(struct dray_aws_cred_provider *p)
{
    const char *s;

    pthread_mutex_lock(&p->mu);
    s = p->source;
    pthread_mutex_unlock(&p->mu);
    return s;
}

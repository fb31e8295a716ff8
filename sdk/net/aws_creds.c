/*
 * aws_creds.c - the credentials a provider hands out: opening and closing
 * it, the cache, refreshing and its locking. Which source gives them, and
 * in what order, is aws_creds_chain.c's.
 *
 * Decisions, where AWS's SDKs leave room or differ:
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
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dray/dray_aws.h"
#include "net_internal.h"

#define REFRESH_BEFORE_MS (5 * 60 * 1000)
#define RETRY_AFTER_FAILURE_MS (10 * 1000)

struct dray_aws_cred_provider {
    pthread_mutex_t mu;
    pthread_cond_t done;

    struct dray__aws_chain chain; /* fixed at open */

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

int dray__aws_creds_copy(const struct dray_aws_creds *src,
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

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dray_aws_creds_open(struct dray_aws_cred_provider **out,
                        const struct dray_aws_cred_opts *opts, char *err,
                        size_t errlen)
{
    struct dray_aws_cred_opts none;
    struct dray_aws_cred_provider *p;
    int rc;

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
    rc = dray__aws_chain_open(&p->chain, opts, err, errlen);
    if (rc != 0) {
        dray_aws_creds_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

void dray_aws_creds_close(struct dray_aws_cred_provider *p)
{
    if (p == NULL)
        return;
    dray__aws_chain_release(&p->chain);
    dray_aws_creds_clear(&p->cur);
    dray__aws_wipe(p->last_err, sizeof(p->last_err));
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* ---- the cache --------------------------------------------------------- */

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
    kind = p->have ? p->kind : DRAY__AWS_SRC_NONE;
    pthread_mutex_unlock(&p->mu);

    /* The network, without the lock. */
    if (kind == DRAY__AWS_SRC_CONTAINER || kind == DRAY__AWS_SRC_IMDS)
        rc = dray__aws_chain_refetch(&p->chain, kind, &fresh, why, sizeof(why));
    else
        rc = dray__aws_chain_resolve(&p->chain, &fresh, &kind, &source, why,
                                     sizeof(why));

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
    rc = dray__aws_creds_copy(&p->cur, out);
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

/*
 * tools_creds - opens a credential provider and calls get, for
 * aws_creds.py. The chain reads the environment the test sets.
 *
 *   tools_creds [--count N] [--pause-ms MS] [--threads T] [--profile P]
 *               [--imds URL] [--key ID --secret S [--token T]]
 *
 * One line per get:
 *   get I rc=R source=S key=ID token=yes|no secret=LEN:SHA8 expires=MS
 *       [note=why a refresh failed while the old credentials were kept]
 *   get I rc=R source=S err=MESSAGE
 * (the secret only as its length and the first 8 hex digits of its
 * SHA-256). With --threads, T threads make N gets each and one line sums
 * them up: "threads T gets N ok K keys-equal yes|no". Exit 0 once the gets
 * ran; 3 when open failed ("open rc=R err=..."); 2 for bad usage.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dray/dray_aws.h"
#include "dray/dray_http.h"

static struct dray_aws_cred_provider *prov;
static int count = 1;
static long pause_ms;

struct worker {
    pthread_t t;
    int ok;
    int same_key;
};

static void pause_a_while(void)
{
    struct timespec ts;

    if (pause_ms <= 0)
        return;
    ts.tv_sec = pause_ms / 1000;
    ts.tv_nsec = (pause_ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static void print_get(int i, int rc, const struct dray_aws_creds *c,
                      const char *err)
{
    char sha[65];

    if (rc != 0) {
        printf("get %d rc=%d source=%s err=%s\n", i, rc,
               dray_aws_creds_source(prov), err);
        return;
    }
    if (c->access_key_id == NULL || c->secret_access_key == NULL) {
        printf("get %d rc=0 but no credentials\n", i);
        return;
    }
    dray_sha256_hex(c->secret_access_key, strlen(c->secret_access_key), sha);
    printf("get %d rc=0 source=%s key=%s token=%s secret=%zu:%.8s "
           "expires=%lld%s%s\n",
           i, dray_aws_creds_source(prov), c->access_key_id,
           c->session_token ? "yes" : "no", strlen(c->secret_access_key), sha,
           (long long)c->expires_at_ms, err[0] ? " note=" : "", err);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct dray_aws_creds c;
    char err[1024], first[256] = "";
    int i;

    w->same_key = 1;
    for (i = 0; i < count; i++) {
        if (dray_aws_creds_get(prov, &c, err, sizeof(err)) == 0 &&
            c.access_key_id != NULL && c.secret_access_key != NULL) {
            w->ok++;
            if (first[0] == '\0')
                snprintf(first, sizeof(first), "%s", c.access_key_id);
            else if (strcmp(first, c.access_key_id) != 0)
                w->same_key = 0;
        }
        dray_aws_creds_clear(&c);
    }
    return NULL;
}

static int run_threads(int n)
{
    struct worker *w = calloc((size_t)n, sizeof(*w));
    int i, ok = 0, same = 1;

    if (w == NULL)
        return 1;
    for (i = 0; i < n; i++)
        if (pthread_create(&w[i].t, NULL, work, &w[i]) != 0)
            return 1;
    for (i = 0; i < n; i++) {
        pthread_join(w[i].t, NULL);
        ok += w[i].ok;
        same = same && w[i].same_key;
    }
    printf("threads %d gets %d ok %d keys-equal %s\n", n, n * count, ok,
           same ? "yes" : "no");
    free(w);
    return 0;
}

int main(int argc, char **argv)
{
    struct dray_aws_cred_opts o;
    struct dray_aws_creds c;
    char err[2048];
    int i, rc, threads = 0;

    memset(&o, 0, sizeof(o));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL)
            goto usage;
        i++;
        if (strcmp(a, "--count") == 0)
            count = atoi(v);
        else if (strcmp(a, "--pause-ms") == 0)
            pause_ms = atol(v);
        else if (strcmp(a, "--threads") == 0)
            threads = atoi(v);
        else if (strcmp(a, "--profile") == 0)
            o.profile = v;
        else if (strcmp(a, "--imds") == 0)
            o.imds_endpoint = v;
        else if (strcmp(a, "--key") == 0)
            o.access_key_id = v;
        else if (strcmp(a, "--secret") == 0)
            o.secret_access_key = v;
        else if (strcmp(a, "--token") == 0)
            o.session_token = v;
        else
            goto usage;
    }
    if (dray_http_global_init(err, sizeof(err)) != 0) {
        fprintf(stderr, "tools_creds: %s\n", err);
        return 1;
    }
    rc = dray_aws_creds_open(&prov, &o, err, sizeof(err));
    if (rc != 0) {
        printf("open rc=%d err=%s\n", rc, err);
        return 3;
    }
    if (threads > 0) {
        rc = run_threads(threads);
    } else {
        for (i = 1; i <= count; i++) {
            if (i > 1)
                pause_a_while();
            rc = dray_aws_creds_get(prov, &c, err, sizeof(err));
            print_get(i, rc, &c, err);
            dray_aws_creds_clear(&c);
        }
        rc = 0;
    }
    fflush(stdout);
    dray_aws_creds_close(prov);
    return rc;

usage:
    fprintf(stderr,
            "usage: tools_creds [--count N] [--pause-ms MS] [--threads T] "
            "[--profile P] [--imds URL] [--key ID --secret S [--token T]]\n");
    return 2;
}

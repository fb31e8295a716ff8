/*
 * aws_imds.c - credentials from the network: the container credentials
 * endpoint (ECS, EKS pod identity) and the EC2 instance metadata service
 * (IMDSv2), both answering the same JSON document.
 *
 * What each answer means is decided here and explained in aws_creds.c's
 * opening comment; in short: no answer to the IMDS token request is "not
 * on EC2" (DRAY__AWS_NONE), trouble after a token was given is transient
 * (1) unless the service says no with a 4xx (-1).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "dray/dray_aws.h"
#include "dray/dray_http.h"
#include "net_internal.h"

/* Short waits, few tries: a machine that is not on EC2 must learn it in
   about two seconds, not a minute. */
#define IMDS_CONNECT_MS 1000
#define IMDS_TIMEOUT_MS 3000
#define IMDS_TRIES 2
#define CONTAINER_CONNECT_MS 2000
#define CONTAINER_TIMEOUT_MS 10000
#define CONTAINER_TRIES 3
#define ANSWER_MAX (64 * 1024)
#define TOKEN_FILE_MAX (16 * 1024)

/* ---- the JSON document -------------------------------------------------- */

static int digits(const char *s, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int dray__aws_iso8601_ms(const char *s, int64_t *ms)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, frac_ms = 0, off_h, off_m, off_s = 0;
    time_t t;
    const char *p;

    /* yyyy-mm-ddThh:mm:ss */
    if (strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' ||
        digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
        s[16] != ':' || digits(s + 17, 2, &sec))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -1;
    p = s + 19;
    if (*p == '.') {
        int scale = 100;

        if (!isdigit((unsigned char)p[1]))
            return -1;
        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
            frac_ms += (*p - '0') * scale;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        off_s = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
               digits(p + 1, 2, &off_h) == 0 && p[3] == ':' &&
               digits(p + 4, 2, &off_m) == 0) {
        off_s = (off_h * 60 + off_m) * 60 * (*p == '-' ? -1 : 1);
    } else {
        return -1;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm); /* UTC whatever TZ says */
    *ms = ((int64_t)t - off_s) * 1000 + frac_ms;
    return 0;
}

static int json_text(json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 0;
}

/* Reads {AccessKeyId, SecretAccessKey, Token, Expiration[, Code]}. Returns
   0, -1 (malformed: err says what is wrong, never a value but Code), -2. */
static int creds_from_json(const char *body, size_t len, const char *what,
                           struct dray_aws_creds *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body ? body : "", len, 0, &jerr);
    const char *code, *key, *secret, *token, *expiration;
    int64_t expires = 0;
    int rc = -1;

    /* jerr.text may quote the document: only the line number is shown. */
    if (doc == NULL || !json_is_object(doc)) {
        dray__set_err(
            err, errlen,
            "the %s answered credentials that are not a JSON object (line %d)",
            what, doc == NULL ? jerr.line : 1);
        goto done;
    }
    if (json_text(doc, "Code", &code) != 0 ||
        json_text(doc, "AccessKeyId", &key) != 0 ||
        json_text(doc, "SecretAccessKey", &secret) != 0 ||
        json_text(doc, "Token", &token) != 0 ||
        json_text(doc, "Expiration", &expiration) != 0) {
        dray__set_err(
            err, errlen,
            "the %s answered credentials with a field that is not a string",
            what);
        goto done;
    }
    if (code != NULL && strcmp(code, "Success") != 0) {
        dray__set_err(
            err, errlen,
            "the %s answered Code \"%.64s\" instead of \"Success\": check "
            "the instance's IAM role",
            what, code);
        goto done;
    }
    if (key == NULL || *key == '\0' || secret == NULL || *secret == '\0') {
        dray__set_err(err, errlen,
                      "the %s answered without AccessKeyId or SecretAccessKey",
                      what);
        goto done;
    }
    if (token != NULL && *token == '\0')
        token = NULL;
    if (expiration != NULL) {
        if (dray__aws_iso8601_ms(expiration, &expires) != 0) {
            dray__set_err(
                err, errlen,
                "the %s answered an Expiration that is not an ISO 8601 time",
                what);
            goto done;
        }
    } else if (token != NULL) {
        /* Temporary credentials kept forever would fail after hours. */
        dray__set_err(err, errlen,
                      "the %s answered a session Token without an Expiration",
                      what);
        goto done;
    }
    rc = -2;
    out->access_key_id = strdup(key);
    out->secret_access_key = strdup(secret);
    out->session_token = token ? strdup(token) : NULL;
    out->expires_at_ms = expires;
    if (out->access_key_id == NULL || out->secret_access_key == NULL ||
        (token != NULL && out->session_token == NULL)) {
        dray_aws_creds_clear(out);
        goto done;
    }
    rc = 0;
done:
    json_decref(doc);
    return rc;
}

/* ---- HTTP --------------------------------------------------------------- */

static int new_handle(struct dray_http **h, int64_t connect_ms,
                      int64_t timeout_ms, const char *ca_bundle, char *err,
                      size_t errlen)
{
    struct dray_http_opts o;
    int rc;

    rc = dray_http_global_init(err, errlen);
    if (rc != 0)
        return rc;
    memset(&o, 0, sizeof(o));
    o.ca_bundle = ca_bundle;
    o.connect_timeout_ms = connect_ms;
    o.timeout_ms = timeout_ms;
    o.max_response_bytes = ANSWER_MAX;
    return dray_http_new(h, &o, err, errlen);
}

/* One request with up to tries tries (transport failures, 5xx). Returns
   dray_http_call's result: 0 (see resp->status), -1 transport, -2. */
static int request(struct dray_http *h, const char *method, const char *url,
                   const struct dray_http_header *headers, size_t n, int tries,
                   struct dray_http_response *resp)
{
    struct dray_retry retry;
    struct dray_http_call call;
    struct dray_http_body none = DRAY_HTTP_BODY_NONE;

    memset(&retry, 0, sizeof(retry));
    retry.max_attempts = tries;
    retry.base_ms = 100;
    retry.cap_ms = 400;
    memset(&call, 0, sizeof(call));
    call.req.method = method;
    call.req.url = url;
    call.req.headers = headers;
    call.req.n_headers = n;
    call.req.body = none;
    call.retry = &retry;
    return dray_http_call(h, &call, resp, NULL);
}

/* The body holds secrets: zeroed before it is freed. Leaves resp ready
   for another request. */
static void release(struct dray_http_response *resp)
{
    struct dray_http_response empty = DRAY_HTTP_RESPONSE_INIT;

    if (resp->body.data != NULL)
        dray__aws_wipe(resp->body.data, resp->body.cap);
    dray_http_response_release(resp);
    *resp = empty;
}

/* A header value must not smuggle in another header. */
static int header_safe(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 0;
    return 1;
}

/* ---- container credentials ---------------------------------------------- */

/* Over plain HTTP only the loopback and the container agents' addresses
   are trusted with a request for credentials, as the AWS SDKs do. */
static int container_url_allowed(const char *url)
{
    const char *h, *he;
    char host[64];
    unsigned char a4[4];

    if (strncasecmp(url, "https://", 8) == 0)
        return 1;
    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    h = url + 7;
    he = h + strcspn(h, "/?#");
    if (memchr(h, '@', (size_t)(he - h)) != NULL)
        return 0;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(he - h));

        if (close == NULL)
            return 0;
        h++;
        he = close;
    } else {
        const char *colon = memchr(h, ':', (size_t)(he - h));

        if (colon != NULL)
            he = colon;
    }
    if ((size_t)(he - h) >= sizeof(host))
        return 0;
    memcpy(host, h, (size_t)(he - h));
    host[he - h] = '\0';
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
        strcmp(host, "169.254.170.2") == 0 ||
        strcmp(host, "169.254.170.23") == 0 ||
        strcasecmp(host, "fd00:ec2::23") == 0)
        return 1;
    return inet_pton(AF_INET, host, a4) == 1 && a4[0] == 127;
}

/* Reads the token file (Kubernetes rotates it, so at every fetch). */
static int read_token_file(const char *path, char **out, char *err,
                           size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct dray_buf b = DRAY_BUF_INIT;
    char chunk[1024];
    size_t n;
    int rc = 0;

    if (f == NULL) {
        dray__set_err(
            err, errlen,
            "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", path,
            strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (b.len + n > TOKEN_FILE_MAX) {
            dray__set_err(
                err, errlen,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s is over 16 KiB",
                path);
            rc = -1;
            goto done;
        }
        if (dray_buf_add(&b, chunk, n) != 0) {
            rc = -2;
            goto done;
        }
    }
    while (b.len > 0 && isspace((unsigned char)b.data[b.len - 1]))
        b.data[--b.len] = '\0';
    if (b.len == 0) {
        dray__set_err(err, errlen,
                      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s is empty",
                      path);
        rc = -1;
        goto done;
    }
    *out = strdup(b.data);
    if (*out == NULL)
        rc = -2;
done:
    fclose(f);
    if (b.data != NULL)
        dray__aws_wipe(b.data, b.cap);
    dray_buf_release(&b);
    return rc;
}

int dray__aws_container_fetch(const struct dray__aws_container *c,
                              struct dray_aws_creds *out, char *err,
                              size_t errlen)
{
    const char *what = "container credentials endpoint";
    struct dray_http *h = NULL;
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_http_header auth = {"Authorization", NULL};
    char *file_token = NULL;
    int rc;

    if (!container_url_allowed(c->url)) {
        dray__set_err(err, errlen,
                      "the container credentials URL %s is neither https nor a "
                      "loopback or container agent address: fix "
                      "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                      c->url);
        return -1;
    }
    auth.value = c->token;
    if (c->token_file != NULL && c->token == NULL) {
        rc = read_token_file(c->token_file, &file_token, err, errlen);
        if (rc != 0)
            return rc;
        auth.value = file_token;
    }
    if (auth.value != NULL && !header_safe(auth.value)) {
        dray__set_err(
            err, errlen,
            "the container authorization token has a control character (a "
            "line break?): fix AWS_CONTAINER_AUTHORIZATION_TOKEN");
        rc = -1;
        goto done;
    }
    rc = new_handle(&h, CONTAINER_CONNECT_MS, CONTAINER_TIMEOUT_MS,
                    c->ca_bundle, err, errlen);
    if (rc != 0)
        goto done;
    rc = request(h, "GET", c->url, &auth, auth.value ? 1 : 0, CONTAINER_TRIES,
                 &resp);
    if (rc == -2)
        goto done;
    if (rc != 0 || resp.status >= 500 || resp.status == 429) {
        /* The environment says an agent serves us: it is late, not gone. */
        if (rc != 0)
            dray__set_err(err, errlen, "the %s at %s did not answer: %s", what,
                          c->url, resp.error);
        else
            dray__set_err(err, errlen, "the %s at %s did not answer: HTTP %ld",
                          what, c->url, resp.status);
        rc = 1;
        goto done;
    }
    if (resp.status != 200) {
        dray__set_err(err, errlen,
                      "the %s at %s refused the request (HTTP %ld): check "
                      "AWS_CONTAINER_AUTHORIZATION_TOKEN and the task's role",
                      what, c->url, resp.status);
        rc = -1;
        goto done;
    }
    rc = creds_from_json(resp.body.data, resp.body.len, what, out, err, errlen);
done:
    release(&resp);
    dray_http_free(h);
    dray__aws_free_secret(file_token);
    return rc;
}

/* ---- IMDSv2 ------------------------------------------------------------- */

/* The first line of a body, trimmed, into buf; 0, or -1 when it does not
   fit or is empty. */
static int first_line(const struct dray_http_response *resp, char *buf,
                      size_t size)
{
    const char *s = resp->body.data ? resp->body.data : "";
    size_t n = strcspn(s, "\r\n");

    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    if (n == 0 || n >= size)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

static int role_name_ok(const char *r)
{
    for (; *r; r++)
        if (!isalnum((unsigned char)*r) && strchr("+=,.@_-", *r) == NULL)
            return 0;
    return 1;
}

/* Judges a GET made with a token: 0 for 200, else sets err and returns 1
   (transient), -1 (refused) or DRAY__AWS_NONE (404: nothing there). */
static int judge_get(int rc, const struct dray_http_response *resp,
                     const char *url, const char *none_why, char *err,
                     size_t errlen)
{
    if (rc == 0 && resp->status == 200)
        return 0;
    if (rc != 0 || resp->status >= 500 || resp->status == 401 ||
        resp->status == 429) {
        /* A token was given, so the service is there: try again later (a
           401 means the token expired between two requests). */
        if (rc != 0)
            dray__set_err(err, errlen,
                          "instance metadata at %s did not answer: %s", url,
                          resp->error);
        else
            dray__set_err(err, errlen,
                          "instance metadata at %s did not answer: HTTP %ld%s",
                          url, resp->status,
                          resp->status == 401 ? " (session token rejected)"
                                              : "");
        return 1;
    }
    if (resp->status == 404) {
        dray__set_err(err, errlen, "%s", none_why);
        return DRAY__AWS_NONE;
    }
    dray__set_err(
        err, errlen,
        "instance metadata refused %s (HTTP %ld): check the instance's "
        "metadata options and IAM role",
        url, resp->status);
    return -1;
}

int dray__aws_imds_fetch(const char *endpoint, struct dray_aws_creds *out,
                         char *err, size_t errlen)
{
    static const char creds_path[] =
        "/latest/meta-data/iam/security-credentials/";
    struct dray_http *h = NULL;
    struct dray_http_response resp = DRAY_HTTP_RESPONSE_INIT;
    struct dray_http_header hd;
    struct dray_buf url = DRAY_BUF_INIT;
    char token[1024], role[256];
    int rc;

    rc = new_handle(&h, IMDS_CONNECT_MS, IMDS_TIMEOUT_MS, NULL, err, errlen);
    if (rc != 0)
        goto done;

    /* 1. The session token: no answer here means "not on EC2". */
    if (dray_buf_add(&url, endpoint, strlen(endpoint)) != 0 ||
        dray_buf_add(&url, "/latest/api/token", 17) != 0)
        goto oom;
    hd.name = "X-aws-ec2-metadata-token-ttl-seconds";
    hd.value = "21600";
    rc = request(h, "PUT", url.data, &hd, 1, IMDS_TRIES, &resp);
    if (rc == -2)
        goto done;
    if (rc != 0) {
        dray__set_err(err, errlen, "no answer at %s (%s)", endpoint,
                      resp.error);
        rc = DRAY__AWS_NONE;
        goto done;
    }
    if (resp.status >= 500 || resp.status == 429) {
        dray__set_err(err, errlen,
                      "instance metadata at %s did not answer: HTTP %ld",
                      endpoint, resp.status);
        rc = 1;
        goto done;
    }
    if (resp.status != 200) {
        /* IMDS turned off for the instance, or a hop limit too low. */
        dray__set_err(err, errlen, "%s refused a session token (HTTP %ld)",
                      endpoint, resp.status);
        rc = DRAY__AWS_NONE;
        goto done;
    }
    if (first_line(&resp, token, sizeof(token)) != 0 || !header_safe(token)) {
        dray__set_err(
            err, errlen,
            "%s answered a malformed session token: it is not an instance "
            "metadata service",
            endpoint);
        rc = -1;
        goto done;
    }
    release(&resp);

    /* 2. The role's name. */
    hd.name = "X-aws-ec2-metadata-token";
    hd.value = token;
    dray_buf_reset(&url);
    if (dray_buf_add(&url, endpoint, strlen(endpoint)) != 0 ||
        dray_buf_add(&url, creds_path, sizeof(creds_path) - 1) != 0)
        goto oom;
    rc = request(h, "GET", url.data, &hd, 1, IMDS_TRIES, &resp);
    if (rc == -2)
        goto done;
    rc = judge_get(rc, &resp, url.data,
                   "the instance has no IAM role (instance profile)", err,
                   errlen);
    if (rc != 0)
        goto done;
    if (first_line(&resp, role, sizeof(role)) != 0) {
        dray__set_err(err, errlen,
                      "the instance has no IAM role (instance profile)");
        rc = DRAY__AWS_NONE;
        goto done;
    }
    if (!role_name_ok(role)) {
        dray__set_err(
            err, errlen,
            "instance metadata at %s answered a role name with characters "
            "IAM does not allow",
            endpoint);
        rc = -1;
        goto done;
    }
    release(&resp);

    /* 3. The role's credentials. */
    if (dray_buf_add(&url, role, strlen(role)) != 0)
        goto oom;
    rc = request(h, "GET", url.data, &hd, 1, IMDS_TRIES, &resp);
    if (rc == -2)
        goto done;
    rc = judge_get(rc, &resp, url.data,
                   "the instance's IAM role has no credentials (HTTP 404)", err,
                   errlen);
    if (rc == 0)
        rc = creds_from_json(resp.body.data, resp.body.len,
                             "instance metadata service", out, err, errlen);
    goto done;
oom:
    rc = -2;
done:
    release(&resp);
    dray__aws_wipe(token, sizeof(token));
    dray_buf_release(&url);
    dray_http_free(h);
    return rc;
}

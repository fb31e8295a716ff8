/*
 * s3_client.c - the S3 client: its options checked, the endpoint parsed
 * into a scheme and a Host, and the HTTP connection it keeps.
 */
#include "net_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_PAGE 1000

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- the endpoint ------------------------------------------------------- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           c == '-' || c == '.' || c == '_';
}

/* scheme://host[:port][/] into s3->scheme, s3->host (the port only when it
   is not the scheme's, as curl writes the Host header), s3->host_is_ip. */
static int parse_endpoint(struct dray_s3 *s3, const char *ep, char *err,
                          size_t errlen)
{
    static const char *usage =
        "give scheme://host[:port], e.g. https://s3.eu-west-1.amazonaws.com "
        "or http://127.0.0.1:9000";
    const char *sep = strstr(ep, "://"), *a, *end, *hend, *rest;
    long port = -1;
    int is_ip = 1, bracket;
    char buf[300];

    if (sep == NULL)
        return fail(err, errlen, "S3 endpoint \"%.200s\" has no scheme: %s", ep,
                    usage);
    if (sep - ep == 4 && strncasecmp(ep, "http", 4) == 0)
        s3->scheme = strdup("http");
    else if (sep - ep == 5 && strncasecmp(ep, "https", 5) == 0)
        s3->scheme = strdup("https");
    else
        return fail(err, errlen,
                    "S3 endpoint \"%.200s\" is not http or https: %s", ep,
                    usage);
    if (s3->scheme == NULL)
        return -2;
    a = sep + 3;
    end = a + strcspn(a, "/?#");
    if (memchr(a, '@', (size_t)(end - a)) != NULL)
        return fail(err, errlen,
                    "S3 endpoint must not carry user:password@ (credentials "
                    "come from the credential chain): %s",
                    usage);
    if (*end != '\0' && strcmp(end, "/") != 0)
        return fail(err, errlen,
                    "S3 endpoint \"%.200s\" has a path or query: %s", ep,
                    usage);
    bracket = a[0] == '[';
    if (bracket) {
        hend = memchr(a, ']', (size_t)(end - a));
        if (hend == NULL)
            return fail(err, errlen,
                        "S3 endpoint \"%.200s\" has an unclosed '[': %s", ep,
                        usage);
        hend++;
        for (const char *p = a + 1; p < hend - 1; p++)
            if (!is_host_char(*p) && *p != ':' && *p != '%')
                return fail(err, errlen,
                            "S3 endpoint \"%.200s\" has a bad IPv6 "
                            "address: %s",
                            ep, usage);
    } else {
        hend = memchr(a, ':', (size_t)(end - a));
        if (hend == NULL)
            hend = end;
        for (const char *p = a; p < hend; p++) {
            if (!is_host_char(*p))
                return fail(err, errlen,
                            "S3 endpoint \"%.200s\" has a bad host name: %s",
                            ep, usage);
            if (!is_digit(*p) && *p != '.')
                is_ip = 0;
        }
    }
    if (hend == a || (bracket && hend - a <= 2))
        return fail(err, errlen, "S3 endpoint \"%.200s\" has no host: %s", ep,
                    usage);
    rest = hend;
    if (rest < end) {
        if (*rest != ':' || rest + 1 == end)
            return fail(err, errlen,
                        "S3 endpoint \"%.200s\" has a bad port: %s", ep, usage);
        port = 0;
        for (const char *p = rest + 1; p < end; p++) {
            if (!is_digit(*p) || port > 65535)
                return fail(err, errlen,
                            "S3 endpoint \"%.200s\" has a bad port: %s", ep,
                            usage);
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return fail(err, errlen,
                        "S3 endpoint \"%.200s\" has a port out of range: %s",
                        ep, usage);
    }
    if (port == (strcmp(s3->scheme, "https") == 0 ? 443 : 80))
        port = -1;
    if (hend - a > 255)
        return fail(err, errlen, "S3 endpoint host name is too long");
    if (port >= 0)
        snprintf(buf, sizeof(buf), "%.*s:%ld", (int)(hend - a), a, port);
    else
        snprintf(buf, sizeof(buf), "%.*s", (int)(hend - a), a);
    for (char *p = buf; *p; p++) /* host names compare without case */
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    s3->host = strdup(buf);
    s3->host_is_ip = bracket || is_ip;
    return s3->host == NULL ? -2 : 0;
}

static int valid_region(const char *r)
{
    if (*r == '\0')
        return 0;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || is_digit(*r) || *r == '-'))
            return 0;
    return 1;
}

int dray_s3_new(struct dray_s3 **out, const struct dray_s3_opts *opts,
                char *err, size_t errlen)
{
    struct dray_http_opts ho;
    struct dray_s3 *s3;
    char ep[300];
    int rc;

    *out = NULL;
    if (opts == NULL || opts->region == NULL || opts->region[0] == '\0')
        return fail(err, errlen,
                    "no S3 region given: set the bucket's region (e.g. "
                    "us-east-1)");
    if (!valid_region(opts->region))
        return fail(err, errlen,
                    "S3 region \"%.64s\" is not a region name such as "
                    "us-east-1",
                    opts->region);
    if (opts->creds == NULL)
        return fail(err, errlen, "no AWS credential provider given");
    if ((rc = dray_http_global_init(err, errlen)) != 0)
        return rc;
    if ((s3 = calloc(1, sizeof(*s3))) == NULL)
        return -2;
    s3->creds = opts->creds;
    s3->path_style = opts->path_style;
    s3->page_size = DEFAULT_PAGE;
    s3->cancel = opts->cancel;
    s3->cancel_ctx = opts->cancel_ctx;
    if (opts->retry != NULL) {
        s3->retry = *opts->retry;
        s3->has_retry = 1;
    }
    if ((s3->region = strdup(opts->region)) == NULL) {
        rc = -2;
        goto fail;
    }
    if (opts->endpoint == NULL || opts->endpoint[0] == '\0') {
        /* China's regions live under their own domain. */
        snprintf(ep, sizeof(ep), "https://s3.%s.amazonaws.com%s", s3->region,
                 strncmp(s3->region, "cn-", 3) == 0 ? ".cn" : "");
        rc = parse_endpoint(s3, ep, err, errlen);
    } else {
        rc = parse_endpoint(s3, opts->endpoint, err, errlen);
    }
    if (rc != 0)
        goto fail;
    memset(&ho, 0, sizeof(ho));
    ho.ca_bundle = opts->ca_bundle;
    ho.connect_timeout_ms = opts->connect_timeout_ms;
    ho.stall_timeout_ms = opts->stall_timeout_ms;
    ho.cancel = opts->cancel;
    ho.cancel_ctx = opts->cancel_ctx;
    if ((rc = dray_http_new(&s3->http, &ho, err, errlen)) != 0)
        goto fail;
    *out = s3;
    return 0;
fail:
    dray_s3_free(s3);
    return rc;
}

void dray_s3_free(struct dray_s3 *s3)
{
    if (s3 == NULL)
        return;
    dray_http_free(s3->http);
    free(s3->region);
    free(s3->scheme);
    free(s3->host);
    free(s3);
}

const char *dray__s3_region(const struct dray_s3 *s3)
{
    return s3->region;
}

int dray__s3_page_size(const struct dray_s3 *s3)
{
    return s3->page_size;
}

void dray__s3_set_page_size(struct dray_s3 *s3, int n)
{
    s3->page_size = n > 0 && n <= DEFAULT_PAGE ? n : DEFAULT_PAGE;
}

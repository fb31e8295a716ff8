/*
 * test_s3_errors.c - what the S3 client makes of answers (retry or not,
 * the code, the one-line message with its fix) on answers built here as S3
 * sends them, including ones moto cannot produce (a redirect to another
 * region, a skewed clock); and the endpoint options of dray_s3_new.
 */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "unit.h"

/* An answer: status, body and "name: value\n" header lines. */
static struct dray_http_response answer(long status, const char *body,
                                        const char *headers)
{
    struct dray_http_response r = DRAY_HTTP_RESPONSE_INIT;

    r.status = status;
    if (body != NULL)
        dray_buf_add(&r.body, body, strlen(body));
    if (headers != NULL)
        dray_buf_add(&r.headers, headers, strlen(headers));
    return r;
}

static struct dray_http_response cut(int transport, const char *why)
{
    struct dray_http_response r = DRAY_HTTP_RESPONSE_INIT;

    r.transport = transport;
    snprintf(r.error, sizeof(r.error), "%s", why);
    return r;
}

static char *error_doc(const char *code, const char *message)
{
    static char doc[1024];

    snprintf(doc, sizeof(doc),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
             "</Code><Message>%s</Message><RequestId>R</RequestId></Error>",
             code, message);
    return doc;
}

static struct dray__s3_req req(const char *op, const char *perm,
                               const char *bucket, const char *key)
{
    struct dray__s3_req rq;

    memset(&rq, 0, sizeof(rq));
    rq.op = op;
    rq.perm = perm;
    rq.method = "PUT";
    rq.bucket = bucket;
    rq.key = key;
    return rq;
}

static int classify(long status, const char *body, int complete)
{
    struct dray_http_response r = answer(status, body, NULL);
    int v = dray__s3_classify(&r, complete);

    dray_http_response_release(&r);
    return v;
}

static void test_classify_status(void)
{
    CHECK_INT(classify(200, "", 0), DRAY_HTTP_DONE);
    CHECK_INT(classify(204, NULL, 0), DRAY_HTTP_DONE);
    CHECK_INT(classify(500, error_doc("InternalError", "x"), 0),
              DRAY_HTTP_RETRY);
    CHECK_INT(classify(503, error_doc("SlowDown", "x"), 0), DRAY_HTTP_RETRY);
    CHECK_INT(classify(503, NULL, 0), DRAY_HTTP_RETRY);
    CHECK_INT(classify(502, NULL, 0), DRAY_HTTP_RETRY);
    /* A code decides over a status: S3's RequestTimeout is a 400. */
    CHECK_INT(classify(400, error_doc("RequestTimeout", "x"), 0),
              DRAY_HTTP_RETRY);
    CHECK_INT(classify(409, error_doc("ConditionalRequestConflict", "x"), 0),
              DRAY_HTTP_RETRY);
    CHECK_INT(classify(409, error_doc("BucketNotEmpty", "x"), 0),
              DRAY_HTTP_FAIL);
    CHECK_INT(classify(403, error_doc("AccessDenied", "x"), 0), DRAY_HTTP_FAIL);
    CHECK_INT(classify(404, NULL, 0), DRAY_HTTP_FAIL);
    CHECK_INT(classify(412, error_doc("PreconditionFailed", "x"), 0),
              DRAY_HTTP_FAIL);
    CHECK_INT(classify(301, NULL, 0), DRAY_HTTP_FAIL);
}

static void test_classify_transport(void)
{
    static const struct {
        int transport, verdict;
    } cases[] = {{DRAY_HTTP_T_CONNECT, DRAY_HTTP_RETRY},
                 {DRAY_HTTP_T_TIMEOUT, DRAY_HTTP_RETRY},
                 {DRAY_HTTP_T_RESET, DRAY_HTTP_RETRY},
                 {DRAY_HTTP_T_TLS, DRAY_HTTP_FAIL},
                 {DRAY_HTTP_T_CANCELLED, DRAY_HTTP_FAIL},
                 {DRAY_HTTP_T_BODY, DRAY_HTTP_FAIL},
                 {DRAY_HTTP_T_TOO_LARGE, DRAY_HTTP_FAIL}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dray_http_response r = cut(cases[i].transport, "x");

        CHECK_INT(dray__s3_classify(&r, 0), cases[i].verdict);
        CHECK_INT(dray__s3_classify(&r, 1), cases[i].verdict);
    }
}

static void test_classify_complete(void)
{
    const char *ok = "<?xml version=\"1.0\"?>\n<CompleteMultipartUploadResult>"
                     "<ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>";

    CHECK_INT(classify(200, ok, 1), DRAY_HTTP_DONE);
    /* 200 with an error body: its code decides. */
    CHECK_INT(classify(200, error_doc("InternalError", "x"), 1),
              DRAY_HTTP_RETRY);
    CHECK_INT(classify(200, error_doc("SlowDown", "x"), 1), DRAY_HTTP_RETRY);
    CHECK_INT(classify(200, error_doc("InvalidPart", "x"), 1), DRAY_HTTP_FAIL);
    /* Cut short, or only the white space S3 sends while it works. */
    CHECK_INT(classify(200, "<CompleteMultipartUploadResult><ETag>", 1),
              DRAY_HTTP_RETRY);
    CHECK_INT(classify(200, "<?xml version=\"1.0\"?>\n  \n  ", 1),
              DRAY_HTTP_RETRY);
    CHECK_INT(classify(200, NULL, 1), DRAY_HTTP_RETRY);
    /* An error body on another operation's 200 is not looked at. */
    CHECK_INT(classify(200, error_doc("InternalError", "x"), 0),
              DRAY_HTTP_DONE);
}

/* e for rq after an answer of status/body/headers. */
static struct dray_s3_error fill(const struct dray__s3_req *rq, long status,
                                 const char *body, const char *headers)
{
    struct dray_http_response r = answer(status, body, headers);
    struct dray_s3_error e;

    memset(&e, 0x5a, sizeof(e));
    dray__s3_error_fill(&e, rq, "us-east-1", 0, &r);
    dray_http_response_release(&r);
    return e;
}

static void test_messages_config(void)
{
    struct dray__s3_req put = req("PutObject", "s3:PutObject", "bkt", "a/b");
    struct dray__s3_req list =
        req("ListObjectsV2", "s3:ListBucket", "bkt", NULL);
    /* S3's SignatureDoesNotMatch body carries what it signed; none of it
       may reach the message. */
    const char *sig =
        "<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
        "signature we calculated does not match</Message><AWSAccessKeyId>"
        "AKIDEXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n"
        "20260101T000000Z</StringToSign><CanonicalRequest>PUT /a/b"
        "</CanonicalRequest></Error>";
    struct dray_s3_error e;

    e = fill(&put, 403, sig, NULL);
    CHECK_INT(e.status, 403);
    CHECK_STR(e.code, "SignatureDoesNotMatch");
    CHECK_INT(e.config, 1);
    CHECK_INT(e.retryable, 0);
    CHECK_CONTAINS(e.message, "PutObject s3://bkt/a/b");
    CHECK_CONTAINS(e.message, "check secret_access_key");
    CHECK(strstr(e.message, "AWS4-HMAC") == NULL);
    CHECK(strstr(e.message, "\n") == NULL);

    e = fill(&put, 403, error_doc("InvalidAccessKeyId", "no such key"), NULL);
    CHECK_STR(e.code, "InvalidAccessKeyId");
    CHECK_INT(e.config, 1);
    CHECK_CONTAINS(e.message, "access_key_id");

    e = fill(&put, 403, error_doc("AccessDenied", "Access Denied"), NULL);
    CHECK_INT(e.config, 1);
    CHECK_CONTAINS(e.message, "s3:PutObject on arn:aws:s3:::bkt/a/b");
    e = fill(&list, 403, error_doc("AccessDenied", "Access Denied"), NULL);
    CHECK_CONTAINS(e.message, "s3:ListBucket on arn:aws:s3:::bkt ");
    /* A HEAD's 403 has no body. */
    e = fill(&put, 403, NULL, NULL);
    CHECK_STR(e.code, "Forbidden");
    CHECK_INT(e.config, 1);
    CHECK_CONTAINS(e.message, "s3:PutObject");

    e = fill(&list, 404, error_doc("NoSuchBucket", "gone"), NULL);
    CHECK_INT(e.config, 1);
    CHECK_CONTAINS(e.message, "bucket \"bkt\" does not exist");

    e = fill(&put, 403, error_doc("RequestTimeTooSkewed", "skewed"), NULL);
    CHECK_INT(e.config, 1);
    CHECK_INT(e.retryable, 0);
    CHECK_CONTAINS(e.message, "clock");
}

static void test_messages_region(void)
{
    struct dray__s3_req put = req("PutObject", "s3:PutObject", "bkt", "k");
    struct dray_s3_error e;

    /* A redirect names the bucket's region in a header... */
    e = fill(&put, 301, error_doc("PermanentRedirect", "use the endpoint"),
             "x-amz-request-id: 1\nx-amz-bucket-region: eu-west-1\n");
    CHECK_STR(e.code, "PermanentRedirect");
    CHECK_INT(e.config, 1);
    CHECK_CONTAINS(e.message, "in region eu-west-1, not us-east-1");
    CHECK_CONTAINS(e.message, "set region to eu-west-1");
    /* ... a HEAD's has only the header ... */
    e = fill(&put, 301, NULL, "x-amz-bucket-region: ap-south-1\n");
    CHECK_STR(e.code, "PermanentRedirect");
    CHECK_CONTAINS(e.message, "set region to ap-south-1");
    /* ... a wrong signing region says it in the body. */
    e = fill(&put, 400,
             "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the "
             "region 'us-east-1' is wrong; expecting 'eu-central-1'"
             "</Message><Region>eu-central-1</Region></Error>",
             NULL);
    CHECK_INT(e.config, 1);
    CHECK_CONTAINS(e.message, "set region to eu-central-1");
    /* Unknown: still a configuration error, naming what was used. */
    e = fill(&put, 301, NULL, NULL);
    CHECK_INT(e.config, 1);
    CHECK_CONTAINS(e.message, "not in region us-east-1");
}

static void test_messages_transient(void)
{
    struct dray__s3_req put = req("UploadPart", "s3:PutObject", "bkt", "k");
    struct dray_s3_error e;
    struct dray_http_response r = cut(DRAY_HTTP_T_RESET, "Connection reset");

    e = fill(&put, 503, error_doc("SlowDown", "Please reduce"), NULL);
    CHECK_INT(e.retryable, 1);
    CHECK_INT(e.config, 0);
    CHECK_CONTAINS(e.message, "SlowDown");
    e = fill(&put, 500, error_doc("InternalError", "We encountered"), NULL);
    CHECK_INT(e.retryable, 1);
    CHECK_CONTAINS(e.message, "We encountered");
    e = fill(&put, 412, error_doc("PreconditionFailed", "At least one"), NULL);
    CHECK_INT(e.retryable, 0);
    CHECK_INT(e.config, 0);
    CHECK_STR(e.code, "PreconditionFailed");

    dray__s3_error_fill(&e, &put, "us-east-1", -1, &r);
    CHECK_INT(e.status, 0);
    CHECK_STR(e.code, "ConnectionReset");
    CHECK_INT(e.retryable, 1);
    CHECK_CONTAINS(e.message, "Connection reset");
    r = cut(DRAY_HTTP_T_TLS, "certificate verify failed");
    dray__s3_error_fill(&e, &put, "us-east-1", -1, &r);
    CHECK_STR(e.code, "TLSError");
    CHECK_INT(e.config, 1);
    CHECK_CONTAINS(e.message, "ca_bundle");
}

static void test_messages_one_line(void)
{
    char key[600];
    struct dray__s3_req put;
    struct dray_s3_error e;

    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    key[3] = '\n';
    put = req("PutObject", "s3:PutObject", "bkt", key);
    e = fill(&put, 400, error_doc("Weird", "line one\nline two\r\tend"), NULL);
    CHECK(strchr(e.message, '\n') == NULL);
    CHECK(strchr(e.message, '\r') == NULL);
    CHECK(strchr(e.message, '\t') == NULL);
    CHECK(strlen(e.message) < sizeof(e.message));
    CHECK_CONTAINS(e.message, "s3://bkt/kkk?kkk");
    CHECK_CONTAINS(e.message, "...");
    CHECK_CONTAINS(e.message, "Weird");
}

/* ---- endpoints ---------------------------------------------------------- */

static struct dray_aws_cred_provider *creds(void)
{
    struct dray_aws_cred_opts o;
    struct dray_aws_cred_provider *p = NULL;
    char err[256];

    memset(&o, 0, sizeof(o));
    o.access_key_id = "AKIDEXAMPLE";
    o.secret_access_key = "secret";
    CHECK_INT(dray_aws_creds_open(&p, &o, err, sizeof(err)), 0);
    return p;
}

/* dray_s3_new with endpoint; "" when it fails, else "scheme host ip". */
static const char *endpoint(struct dray_aws_cred_provider *p,
                            const char *region, const char *ep)
{
    static char out[512];
    struct dray_s3_opts o;
    struct dray_s3 *s3 = NULL;
    char err[300] = "";

    memset(&o, 0, sizeof(o));
    o.region = region;
    o.endpoint = ep;
    o.creds = p;
    if (dray_s3_new(&s3, &o, err, sizeof(err)) != 0) {
        CHECK(s3 == NULL);
        CHECK(err[0] != '\0');
        snprintf(out, sizeof(out), "error: %s", err);
        return out;
    }
    snprintf(out, sizeof(out), "%s %s %d", s3->scheme, s3->host,
             s3->host_is_ip);
    dray_s3_free(s3);
    return out;
}

static void test_endpoints(void)
{
    struct dray_aws_cred_provider *p = creds();

    CHECK_STR(endpoint(p, "eu-west-1", NULL),
              "https s3.eu-west-1.amazonaws.com 0");
    CHECK_STR(endpoint(p, "cn-north-1", ""),
              "https s3.cn-north-1.amazonaws.com.cn 0");
    CHECK_STR(endpoint(p, "us-east-1", "http://127.0.0.1:9000"),
              "http 127.0.0.1:9000 1");
    CHECK_STR(endpoint(p, "us-east-1", "HTTP://Minio.Local:9000/"),
              "http minio.local:9000 0");
    /* The scheme's own port is left out, as curl leaves it out of Host. */
    CHECK_STR(endpoint(p, "us-east-1", "https://s3.example.com:443"),
              "https s3.example.com 0");
    CHECK_STR(endpoint(p, "us-east-1", "http://localhost:80"),
              "http localhost 0");
    CHECK_STR(endpoint(p, "us-east-1", "http://[::1]:9000"),
              "http [::1]:9000 1");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "127.0.0.1:9000"), "no scheme");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "ftp://h"), "not http or https");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://h/bucket"), "path");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://h?x=1"), "path");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://h:0"), "port");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://h:65536"), "port");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://h:"), "port");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://h:9x"), "port");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://"), "no host");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://[::1"), "'['");
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://a b"), "host name");
    /* A password in the endpoint is not repeated in the message. */
    CHECK(strstr(endpoint(p, "us-east-1", "http://u:hunter2@h"), "hunter2") ==
          NULL);
    CHECK_CONTAINS(endpoint(p, "us-east-1", "http://u:hunter2@h"),
                   "user:password@");
    CHECK_CONTAINS(endpoint(p, NULL, NULL), "no S3 region");
    CHECK_CONTAINS(endpoint(p, "", NULL), "no S3 region");
    CHECK_CONTAINS(endpoint(p, "us east 1", NULL), "not a region name");
    CHECK_CONTAINS(endpoint(NULL, "us-east-1", NULL), "credential provider");
    dray_aws_creds_close(p);
}

UNIT_MAIN(UNIT_CASE(test_classify_status), UNIT_CASE(test_classify_transport),
          UNIT_CASE(test_classify_complete), UNIT_CASE(test_messages_config),
          UNIT_CASE(test_messages_region), UNIT_CASE(test_messages_transient),
          UNIT_CASE(test_messages_one_line), UNIT_CASE(test_endpoints))

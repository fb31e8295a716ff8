/*
 * SigV4 signing, digests and AWS percent-encoding. Expected signatures are
 * AWS's published S3 examples; expected digests were computed with the
 * openssl command-line tool; encodings follow the documented rule
 * (unreserved A-Z a-z 0-9 - . _ ~ kept, the rest %XX upper-case).
 */
#include "dray/dray_aws.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* The credentials, host and time of AWS's S3 SigV4 examples. */
#define EX_AKID "AKIAIOSFODNN7EXAMPLE"
#define EX_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EX_HOST "examplebucket.s3.amazonaws.com"
#define EX_TIME ((time_t)1369353600) /* 2013-05-24T00:00:00Z */
#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define EX_CRED                                                                \
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/"     \
    "s3/aws4_request, "

static struct dray_aws_creds ex_creds = {EX_AKID, EX_SECRET, NULL, 0};

static struct dray_sigv4_input ex_input(const char *method, const char *uri,
                                        const char *query)
{
    struct dray_sigv4_input in;

    memset(&in, 0, sizeof(in));
    in.method = method;
    in.host = EX_HOST;
    in.canonical_uri = uri;
    in.canonical_query = query;
    in.payload_hash = EMPTY_SHA256;
    in.region = "us-east-1";
    in.service = "s3";
    in.now = EX_TIME;
    in.creds = &ex_creds;
    return in;
}

/* ---- AWS's published vectors -------------------------------------------- */

static void test_vector_get_object(void)
{
    struct dray_http_header h[] = {{"Range", "bytes=0-9"}};
    struct dray_sigv4_input in = ex_input("GET", "/test.txt", NULL);
    struct dray_sigv4_output out = DRAY_SIGV4_OUTPUT_INIT;

    in.headers = h;
    in.n_headers = 1;
    CHECK_INT(dray_sigv4_sign(&in, &out), 0);
    CHECK_STR(out.amz_date, "20130524T000000Z");
    CHECK_STR(out.canonical_request.data,
              "GET\n/test.txt\n\n"
              "host:examplebucket.s3.amazonaws.com\n"
              "range:bytes=0-9\n"
              "x-amz-content-sha256:" EMPTY_SHA256 "\n"
              "x-amz-date:20130524T000000Z\n\n"
              "host;range;x-amz-content-sha256;"
              "x-amz-date\n" EMPTY_SHA256);
    CHECK_STR(
        out.string_to_sign.data,
        "AWS4-HMAC-SHA256\n20130524T000000Z\n"
        "20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    CHECK_STR(out.authorization.data,
              EX_CRED "SignedHeaders=host;range;x-amz-content-sha256;"
                      "x-amz-date, Signature="
                      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6"
                      "036bdb41");
    dray_sigv4_output_release(&out);
}

static void test_vector_put_object(void)
{
    static const char body[] = "Welcome to Amazon S3.";
    struct dray_http_header h[] = {
        {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    struct dray_sigv4_input in = ex_input("PUT", NULL, NULL);
    struct dray_sigv4_output out = DRAY_SIGV4_OUTPUT_INIT;
    struct dray_buf uri = DRAY_BUF_INIT;
    char hash[65];

    /* The key goes through the path encoder: '$' is not unreserved. */
    CHECK_INT(dray_aws_uri_encode(&uri, "/test$file.text", 15, 1), 0);
    CHECK_STR(uri.data, "/test%24file.text");
    dray_sha256_hex(body, strlen(body), hash);
    in.canonical_uri = uri.data;
    in.payload_hash = hash;
    in.headers = h;
    in.n_headers = 2;
    CHECK_INT(dray_sigv4_sign(&in, &out), 0);
    CHECK_CONTAINS(out.canonical_request.data,
                   "PUT\n/test%24file.text\n\n"
                   "date:Fri, 24 May 2013 00:00:00 GMT\n");
    CHECK_STR(out.authorization.data,
              EX_CRED "SignedHeaders=date;host;x-amz-content-sha256;"
                      "x-amz-date;x-amz-storage-class, Signature="
                      "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0"
                      "ece108bd");
    dray_sigv4_output_release(&out);
    dray_buf_release(&uri);
}

static void test_vector_get_lifecycle(void)
{
    struct dray_aws_param p[] = {{"lifecycle", NULL}};
    struct dray_buf q = DRAY_BUF_INIT;
    struct dray_sigv4_input in = ex_input("GET", "/", NULL);
    struct dray_sigv4_output out = DRAY_SIGV4_OUTPUT_INIT;

    CHECK_INT(dray_aws_canonical_query(&q, p, 1), 0);
    CHECK_STR(q.data, "lifecycle=");
    in.canonical_query = q.data;
    CHECK_INT(dray_sigv4_sign(&in, &out), 0);
    CHECK_STR(out.authorization.data,
              EX_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                      "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91"
                      "ac7a200a0136783543");
    dray_sigv4_output_release(&out);
    dray_buf_release(&q);
}

static void test_vector_list_objects(void)
{
    /* Given out of order: the encoder sorts them. */
    struct dray_aws_param p[] = {{"prefix", "J"}, {"max-keys", "2"}};
    struct dray_buf q = DRAY_BUF_INIT;
    struct dray_sigv4_input in = ex_input("GET", "/", NULL);
    struct dray_sigv4_output out = DRAY_SIGV4_OUTPUT_INIT;

    CHECK_INT(dray_aws_canonical_query(&q, p, 2), 0);
    CHECK_STR(q.data, "max-keys=2&prefix=J");
    in.canonical_query = q.data;
    CHECK_INT(dray_sigv4_sign(&in, &out), 0);
    CHECK_STR(out.authorization.data,
              EX_CRED "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                      "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6"
                      "670ed5711ef69dc6f7");
    /* Signing again into the same output replaces, not appends. */
    CHECK_INT(dray_sigv4_sign(&in, &out), 0);
    CHECK_CONTAINS(out.authorization.data, "Signature=34b48302");
    CHECK(strstr(out.authorization.data + 1, "AWS4-HMAC-SHA256") == NULL);
    dray_sigv4_output_release(&out);
    dray_buf_release(&q);
}

/* ---- header canonicalisation -------------------------------------------- */

static void test_headers_folded_sorted_joined(void)
{
    struct dray_http_header h[] = {
        {"X-Amz-Meta-B", "  one   two \t three  "},
        {"Content-Type", "text/plain"},
        {"x-amz-meta-a", "1"},
        {"X-AMZ-META-A", " 2 "},
        {"Host", "ignored.example"},        /* the signer's own */
        {"x-amz-date", "19990101T000000Z"}, /* likewise */
        {"User-Agent", NULL},               /* not sent: not signed */
        {"x-amz-meta-empty", "   "}};
    struct dray_sigv4_input in = ex_input("PUT", "/k", "");
    struct dray_sigv4_output out = DRAY_SIGV4_OUTPUT_INIT;

    in.headers = h;
    in.n_headers = sizeof(h) / sizeof(h[0]);
    CHECK_INT(dray_sigv4_sign(&in, &out), 0);
    CHECK_STR(out.canonical_request.data,
              "PUT\n/k\n\n"
              "content-type:text/plain\n"
              "host:examplebucket.s3.amazonaws.com\n"
              "x-amz-content-sha256:" EMPTY_SHA256 "\n"
              "x-amz-date:20130524T000000Z\n"
              "x-amz-meta-a:1,2\n"
              "x-amz-meta-b:one two three\n"
              "x-amz-meta-empty:\n\n"
              "content-type;host;x-amz-content-sha256;x-amz-date;"
              "x-amz-meta-a;x-amz-meta-b;x-amz-meta-empty\n" EMPTY_SHA256);
    CHECK_CONTAINS(out.authorization.data,
                   "SignedHeaders=content-type;host;x-amz-content-sha256;"
                   "x-amz-date;x-amz-meta-a;x-amz-meta-b;x-amz-meta-empty, ");
    dray_sigv4_output_release(&out);
}

static void test_session_token_signed(void)
{
    struct dray_aws_creds tok = {EX_AKID, EX_SECRET, "FQoG//token+x=", 0};
    struct dray_sigv4_input in = ex_input("GET", "/test.txt", NULL);
    struct dray_sigv4_output plain = DRAY_SIGV4_OUTPUT_INIT;
    struct dray_sigv4_output out = DRAY_SIGV4_OUTPUT_INIT;

    CHECK_INT(dray_sigv4_sign(&in, &plain), 0);
    in.creds = &tok;
    CHECK_INT(dray_sigv4_sign(&in, &out), 0);
    CHECK_CONTAINS(out.canonical_request.data,
                   "x-amz-date:20130524T000000Z\n"
                   "x-amz-security-token:FQoG//token+x=\n\n"
                   "host;x-amz-content-sha256;x-amz-date;"
                   "x-amz-security-token\n");
    CHECK_CONTAINS(out.authorization.data,
                   "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                   "x-amz-security-token, Signature=");
    CHECK(strcmp(strstr(out.authorization.data, "Signature="),
                 strstr(plain.authorization.data, "Signature=")) != 0);
    /* An empty token is no token. */
    tok.session_token = "";
    CHECK_INT(dray_sigv4_sign(&in, &out), 0);
    CHECK_STR(out.authorization.data, plain.authorization.data);
    dray_sigv4_output_release(&out);
    dray_sigv4_output_release(&plain);
}

static void test_missing_input(void)
{
    struct dray_aws_creds no_secret = {EX_AKID, NULL, NULL, 0};
    struct dray_aws_creds empty_akid = {"", EX_SECRET, NULL, 0};
    struct dray_http_header unnamed[] = {{NULL, "v"}};
    struct dray_sigv4_output out = DRAY_SIGV4_OUTPUT_INIT;
    struct dray_sigv4_input in;

    CHECK_INT(dray_sigv4_sign(NULL, &out), -1);
    in = ex_input("GET", "/", NULL);
    CHECK_INT(dray_sigv4_sign(&in, NULL), -1);
    in = ex_input(NULL, "/", NULL);
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in = ex_input("GET", NULL, NULL);
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in = ex_input("GET", "/", NULL);
    in.host = NULL;
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in = ex_input("GET", "/", NULL);
    in.payload_hash = NULL;
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in = ex_input("GET", "/", NULL);
    in.region = "";
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in = ex_input("GET", "/", NULL);
    in.service = NULL;
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in = ex_input("GET", "/", NULL);
    in.creds = NULL;
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in.creds = &no_secret;
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in.creds = &empty_akid;
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in = ex_input("GET", "/", NULL);
    in.n_headers = 1; /* headers NULL */
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    in.headers = unnamed;
    CHECK_INT(dray_sigv4_sign(&in, &out), -1);
    CHECK(out.authorization.data == NULL);
    /* The same input made whole signs. */
    in.n_headers = 0;
    CHECK_INT(dray_sigv4_sign(&in, &out), 0);
    dray_sigv4_output_release(&out);
    CHECK(out.authorization.data == NULL);
    CHECK_STR(out.amz_date, "");
}

/* ---- digests ------------------------------------------------------------ */

static void test_sha256_known(void)
{
    char hex[65];

    dray_sha256_hex("", 0, hex);
    CHECK_STR(hex, EMPTY_SHA256);
    dray_sha256_hex(NULL, 0, hex);
    CHECK_STR(hex, EMPTY_SHA256);
    dray_sha256_hex("abc", 3, hex);
    CHECK_STR(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    dray_sha256_hex("Welcome to Amazon S3.", 21, hex);
    CHECK_STR(
        hex,
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

static void digest_of(struct dray_digest *d, const char *s, char sha[65],
                      char md5[25])
{
    dray_digest_update(d, s, strlen(s));
    dray_digest_final(d, sha, md5);
}

static void test_digest_known(void)
{
    struct dray_digest *d = dray_digest_new();
    char sha[65], md5[25];

    CHECK(d != NULL);
    if (d == NULL)
        return;
    digest_of(d, "", sha, md5);
    CHECK_STR(sha, EMPTY_SHA256);
    CHECK_STR(md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
    /* Each final starts over: no state leaks into the next. */
    digest_of(d, "abc", sha, md5);
    CHECK_STR(
        sha,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_STR(md5, "kAFQmDzST7DWlj99KOF/cg==");
    digest_of(d, "Welcome to Amazon S3.", sha, md5);
    CHECK_STR(md5, "1EfQ6PKJ8WoS/2AnznfCWA==");
    digest_of(d, "The quick brown fox jumps over the lazy dog", sha, md5);
    CHECK_STR(
        sha,
        "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
    CHECK_STR(md5, "nhB9nTcrtoJr2B01QqQZ1g==");
    dray_digest_free(d);
    dray_digest_free(NULL);
}

static void test_digest_incremental(void)
{
    struct dray_digest *d = dray_digest_new();
    size_t n = 1000000, sizes[] = {1, 7, 4096, 65537, 1000000};
    char *a = malloc(n);
    char sha[65], md5[25], one[65];

    CHECK(d != NULL && a != NULL);
    if (d == NULL || a == NULL)
        goto done;
    memset(a, 'a', n);
    dray_sha256_hex(a, n, one);
    /* A million 'a', openssl dgst's values. */
    CHECK_STR(
        one,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (size_t off = 0; off < n; off += sizes[s])
            dray_digest_update(d, a + off,
                               n - off < sizes[s] ? n - off : sizes[s]);
        dray_digest_update(d, a, 0);
        dray_digest_final(d, sha, md5);
        CHECK_STR(sha, one);
        CHECK_STR(md5, "dwfWrk4CfHDuoqk1wilvIQ==");
    }
done:
    free(a);
    dray_digest_free(d);
}

/* ---- encoding ----------------------------------------------------------- */

static void check_enc(const char *s, size_t len, int keep_slash,
                      const char *want)
{
    struct dray_buf b = DRAY_BUF_INIT;

    CHECK_INT(dray_buf_add(&b, "<", 1), 0);
    CHECK_INT(dray_aws_uri_encode(&b, s, len, keep_slash), 0);
    CHECK_STR(b.data, want);
    dray_buf_release(&b);
}

static void test_uri_encode(void)
{
    check_enc("a b", 3, 1, "<a%20b");
    check_enc("a+b=c&d", 7, 1, "<a%2Bb%3Dc%26d");
    check_enc("AZaz09-._~", 10, 0, "<AZaz09-._~");
    check_enc("a/b//c", 6, 1, "<a/b//c");
    check_enc("a/b//c", 6, 0, "<a%2Fb%2F%2Fc");
    check_enc("\xc3\xa9t\xc3\xa9", 5, 1, "<%C3%A9t%C3%A9"); /* "été" */
    check_enc("100%", 4, 1, "<100%25");
    check_enc("%2F", 3, 0, "<%252F"); /* encoded once, by us, not reused */
    check_enc("!*'()$,;:@?#[]", 14, 1,
              "<%21%2A%27%28%29%24%2C%3B%3A%40%3F%23%5B%5D");
    check_enc("a\0b\x7f\xff", 5, 0, "<a%00b%7F%FF");
    check_enc("", 0, 0, "<");
    check_enc(NULL, 0, 1, "<");
}

static void check_query(const struct dray_aws_param *p, size_t n,
                        const char *want)
{
    struct dray_buf b = DRAY_BUF_INIT;

    CHECK_INT(dray_aws_canonical_query(&b, p, n), 0);
    CHECK_STR(b.data ? b.data : "", want);
    dray_buf_release(&b);
}

static void test_canonical_query(void)
{
    struct dray_aws_param unsorted[] = {
        {"uploadId", "abc"}, {"partNumber", "10"}, {"list-type", "2"}};
    struct dray_aws_param repeated[] = {
        {"k", "b"}, {"k", "a"}, {"j", "z"}, {"k", ""}, {"k", NULL}};
    struct dray_aws_param valueless[] = {{"uploads", NULL}};
    struct dray_aws_param enc[] = {
        {"prefix", "a/b c+d=e"}, {"delimiter", "/"}, {"v", "\xe2\x82\xac~"}};
    /* Raw order a- < a/, encoded a%2F < a-: sorting is on encoded bytes;
       and by byte, upper case before lower. */
    struct dray_aws_param order[] = {
        {"a-", "1"}, {"a/", "2"}, {"b", "3"}, {"B", "4"}};

    check_query(unsorted, 3, "list-type=2&partNumber=10&uploadId=abc");
    check_query(repeated, 5, "j=z&k=&k=&k=a&k=b");
    check_query(valueless, 1, "uploads=");
    check_query(enc, 3, "delimiter=%2F&prefix=a%2Fb%20c%2Bd%3De&v=%E2%82%AC~");
    check_query(order, 4, "B=4&a%2F=2&a-=1&b=3");
    check_query(NULL, 0, "");
}

UNIT_MAIN(UNIT_CASE(test_vector_get_object), UNIT_CASE(test_vector_put_object),
          UNIT_CASE(test_vector_get_lifecycle),
          UNIT_CASE(test_vector_list_objects),
          UNIT_CASE(test_headers_folded_sorted_joined),
          UNIT_CASE(test_session_token_signed), UNIT_CASE(test_missing_input),
          UNIT_CASE(test_sha256_known), UNIT_CASE(test_digest_known),
          UNIT_CASE(test_digest_incremental), UNIT_CASE(test_uri_encode),
          UNIT_CASE(test_canonical_query))

/*
 * test_s3_xml.c - the reader of S3's XML bodies (sdk/net/s3_xml.c) on
 * bodies shaped as the S3 API reference shows them, entity decoding, and
 * malformed or truncated input.
 */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "unit.h"

static struct dray__xml doc(const char *s)
{
    struct dray__xml x = {s, strlen(s)};
    return x;
}

/* The decoded text of the first tag in s, "(missing)" when there is none;
   a static buffer, good until the next call. */
static const char *text(struct dray__xml x, const char *tag)
{
    static char out[512];
    struct dray_buf b = DRAY_BUF_INIT;
    int rc = dray__xml_text(x, tag, &b);

    if (rc == 1)
        snprintf(out, sizeof(out), "%s", b.data);
    else
        snprintf(out, sizeof(out), rc == 0 ? "(missing)" : "(error %d)", rc);
    dray_buf_release(&b);
    return out;
}

static const char *ERROR_BODY =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Error>\n"
    "  <Code>NoSuchKey</Code>\n"
    "  <Message>The resource you requested does not exist</Message>\n"
    "  <Resource>/mybucket/myfoto.jpg</Resource>\n"
    "  <RequestId>4442587FB7D0A2F9</RequestId>\n"
    "</Error>";

static void test_error(void)
{
    struct dray__xml x = doc(ERROR_BODY);
    char code[64];

    CHECK(dray__xml_root_is(x, "Error"));
    CHECK(!dray__xml_root_is(x, "Code"));
    CHECK_STR(text(x, "Code"), "NoSuchKey");
    CHECK_STR(text(x, "Message"), "The resource you requested does not exist");
    CHECK_STR(text(x, "RequestId"), "4442587FB7D0A2F9");
    CHECK_STR(text(x, "HostId"), "(missing)");
    CHECK(dray__xml_copy(x, "Code", code, sizeof(code)));
    CHECK_STR(code, "NoSuchKey");
    CHECK(!dray__xml_copy(x, "Region", code, sizeof(code)));
    CHECK_STR(code, "");
}

static void test_initiate(void)
{
    struct dray__xml x = doc(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<InitiateMultipartUploadResult "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
        "  <Bucket>example-bucket</Bucket>\n"
        "  <Key>example-object</Key>\n"
        "  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9h"
        "ZA</UploadId>\n"
        "</InitiateMultipartUploadResult>");

    CHECK(dray__xml_root_is(x, "InitiateMultipartUploadResult"));
    CHECK(!dray__xml_root_is(x, "Error"));
    CHECK_STR(text(x, "UploadId"),
              "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
    CHECK_STR(text(x, "Key"), "example-object");
}

static const char *LIST_V2 =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
    "  <Name>bucket</Name>\n"
    "  <Prefix>a/</Prefix>\n"
    "  <KeyCount>3</KeyCount>\n"
    "  <MaxKeys>3</MaxKeys>\n"
    "  <IsTruncated>true</IsTruncated>\n"
    "  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    "</NextContinuationToken>\n"
    "  <Contents>\n"
    "    <Key>a/one &amp; two.txt</Key>\n"
    "    <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
    "    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>\n"
    "    <Size>434234</Size>\n"
    "    <StorageClass>STANDARD</StorageClass>\n"
    "  </Contents>\n"
    "  <Contents>\n"
    "    <Key>a/&lt;b&gt;</Key>\n"
    "    <LastModified>2009-10-12T17:50:31.000Z</LastModified>\n"
    "    <ETag>\"e1a2\"</ETag>\n"
    "    <Size>0</Size>\n"
    "    <Owner><ID>x</ID><DisplayName>k</DisplayName></Owner>\n"
    "  </Contents>\n"
    "  <Contents><Key>a/caf&#233;&#x2603;</Key><Size>7</Size></Contents>\n"
    "</ListBucketResult>";

static void test_list_v2(void)
{
    struct dray__xml x = doc(LIST_V2), c;
    const char *keys[3] = {"a/one & two.txt", "a/<b>",
                           "a/caf\xc3\xa9\xe2\x98\x83"};
    const char *sizes[3] = {"434234", "0", "7"};
    size_t pos = 0;
    int n = 0;

    CHECK(dray__xml_root_is(x, "ListBucketResult"));
    CHECK_STR(text(x, "IsTruncated"), "true");
    CHECK_STR(text(x, "NextContinuationToken"),
              "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    /* <KeyCount> must not be taken for <Key>, nor <Key> for <KeyCount>. */
    CHECK_STR(text(x, "KeyCount"), "3");
    CHECK_STR(text(x, "Key"), "a/one & two.txt");
    while (dray__xml_next(x, "Contents", &pos, &c)) {
        if (n < 3) {
            CHECK_STR(text(c, "Key"), keys[n]);
            CHECK_STR(text(c, "Size"), sizes[n]);
        }
        n++;
    }
    CHECK_INT(n, 3);
    /* The first Contents' fields, one by one. */
    pos = 0;
    CHECK(dray__xml_next(x, "Contents", &pos, &c));
    CHECK_STR(text(c, "ETag"), "\"fba9dede5f27731c9771645a39863328\"");
    CHECK_STR(text(c, "LastModified"), "2009-10-12T17:50:30.000Z");
    CHECK_STR(text(c, "Owner"), "(missing)");
    /* Iteration past the end stays at the end. */
    pos = x.len;
    CHECK(!dray__xml_next(x, "Contents", &pos, &c));
}

static void test_list_uploads(void)
{
    struct dray__xml x = doc(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListMultipartUploadsResult "
        "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
        "  <Bucket>bucket</Bucket>\n"
        "  <KeyMarker></KeyMarker>\n"
        "  <UploadIdMarker/>\n"
        "  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>\n"
        "  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWls"
        "ZWQ</NextUploadIdMarker>\n"
        "  <MaxUploads>3</MaxUploads>\n"
        "  <IsTruncated>true</IsTruncated>\n"
        "  <Upload>\n"
        "    <Key>my-divisor</Key>\n"
        "    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</"
        "UploadId>\n"
        "    <Initiator><ID>arn:aws:iam::111122223333:user/u</ID></Initiator>\n"
        "    <StorageClass>STANDARD</StorageClass>\n"
        "    <Initiated>2010-11-10T20:48:33.000Z</Initiated>\n"
        "  </Upload>\n"
        "  <Upload>\n"
        "    <Key>my-movie.m2ts</Key>\n"
        "    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9h"
        "ZA</UploadId>\n"
        "    <Initiated>2010-11-10T20:48:33.000Z</Initiated>\n"
        "  </Upload>\n"
        "</ListMultipartUploadsResult>");
    struct dray__xml u;
    size_t pos = 0;
    int n = 0;

    CHECK_STR(text(x, "NextKeyMarker"), "my-movie.m2ts");
    CHECK_STR(text(x, "NextUploadIdMarker"),
              "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
    /* An empty element and a self-closed one are both present and "". */
    CHECK_STR(text(x, "KeyMarker"), "");
    CHECK_STR(text(x, "UploadIdMarker"), "");
    /* <UploadIdMarker> is not <UploadId>, nor <Upload>. */
    while (dray__xml_next(x, "Upload", &pos, &u)) {
        if (n == 0) {
            CHECK_STR(text(u, "Key"), "my-divisor");
            CHECK_STR(text(u, "UploadId"),
                      "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
        } else {
            CHECK_STR(text(u, "Key"), "my-movie.m2ts");
            CHECK_STR(text(u, "Initiated"), "2010-11-10T20:48:33.000Z");
        }
        n++;
    }
    CHECK_INT(n, 2);
}

static void test_complete(void)
{
    struct dray__xml ok =
        doc("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<CompleteMultipartUploadResult "
            "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
            "  <Location>http://Example-Bucket.s3.region.amazonaws.com/"
            "Example-Object</Location>\n"
            "  <Bucket>Example-Bucket</Bucket>\n"
            "  <Key>Example-Object</Key>\n"
            "  <ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>\n"
            "</CompleteMultipartUploadResult>");
    /* What S3 may send with a 200: white space while it worked, then an
       error document. */
    struct dray__xml err = doc(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n   \n"
        "<Error>\n"
        "  <Code>InternalError</Code>\n"
        "  <Message>We encountered an internal error. Please try "
        "again.</Message>\n"
        "  <RequestId>656c76696e6727732072657175657374</RequestId>\n"
        "  <HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</"
        "HostId>\n"
        "</Error>");

    CHECK(dray__xml_root_is(ok, "CompleteMultipartUploadResult"));
    CHECK(!dray__xml_root_is(ok, "Error"));
    CHECK_STR(text(ok, "ETag"), "\"3858f62230ac3c915f300c664312c11f-9\"");
    CHECK(dray__xml_root_is(err, "Error"));
    CHECK(!dray__xml_root_is(err, "CompleteMultipartUploadResult"));
    CHECK_STR(text(err, "Code"), "InternalError");
    /* A whole document, whatever its root (moto says ...Response), or one
       cut short or missing. */
    CHECK(dray__xml_root_closed(ok));
    CHECK(dray__xml_root_closed(err));
    CHECK(dray__xml_root_closed(doc("<CompleteMultipartUploadResponse>"
                                    "<ETag>x</ETag>"
                                    "</CompleteMultipartUploadResponse>")));
    CHECK(dray__xml_root_closed(doc("  <R/>")));
    CHECK(!dray__xml_root_closed(doc("<?xml version=\"1.0\"?>\n   \n")));
    CHECK(!dray__xml_root_closed(doc("")));
    CHECK(!dray__xml_root_closed(
        doc("<CompleteMultipartUploadResult><ETag>x</ETag>")));
}

static void test_entities(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"a &amp; b", "a & b"},
        {"&lt;&gt;&quot;&apos;", "<>\"'"},
        {"&#65;&#x42;&#X43;", "ABC"},
        {"&#xE9;&#233;", "\xc3\xa9\xc3\xa9"},
        {"&#x1F600;", "\xf0\x9f\x98\x80"},
        /* Unknown, invalid or unfinished references stay as written. */
        {"&nbsp;", "&nbsp;"},
        {"&#0;", "&#0;"},
        {"&#xD800;", "&#xD800;"},
        {"&#x110000;", "&#x110000;"},
        {"&#;&#x;", "&#;&#x;"},
        {"&#12a;", "&#12a;"},
        {"a & b", "a & b"},
        {"tail &amp", "tail &amp"},
        {"&", "&"},
        {"&&amp;", "&&"},
        {"<![CDATA[a<b&amp;]]>c", "a<b&amp;c"},
        {"<![CDATA[cut", "cut"},
        {"", ""},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct dray_buf b = DRAY_BUF_INIT;

        CHECK_INT(dray__xml_decode(&b, cases[i].in, strlen(cases[i].in)), 0);
        CHECK(b.data != NULL);
        CHECK_STR(b.data, cases[i].out);
        dray_buf_release(&b);
    }
}

static void test_escape(void)
{
    struct dray_buf b = DRAY_BUF_INIT;

    CHECK_INT(dray__xml_escape(&b, "\"e<1>&2\""), 0);
    CHECK_STR(b.data, "\"e&lt;1&gt;&amp;2\"");
    dray_buf_reset(&b);
    CHECK_INT(dray__xml_escape(&b, ""), 0);
    CHECK_STR(b.data, "");
    dray_buf_release(&b);
}

static void test_markup_skipped(void)
{
    struct dray__xml x =
        doc("<?xml version=\"1.0\"?><!DOCTYPE r>"
            "<!-- <Code>Fake</Code> -->"
            "<r a='x>y' b=\"<Code>\"><![CDATA[<Code>NotMe</Code>]]>"
            "<s3:Code>Real</s3:Code></r>");

    CHECK(dray__xml_root_is(x, "r"));
    CHECK_STR(text(x, "Code"), "Real");
}

static void test_nested_same_name(void)
{
    struct dray__xml x = doc("<a><b><b>in</b>out</b><c>1</c></a>");

    CHECK_STR(text(x, "b"), "<b>in</b>out");
    CHECK_STR(text(x, "c"), "1");
}

static void test_copy_truncates(void)
{
    struct dray__xml x = doc("<M>abc\xc3\xa9xyz</M>");
    char small[5], tiny[1] = {'z'};

    /* "abc" and the two bytes of e-acute do not fit in 4: the cut moves
       back to before the character rather than splitting it. */
    CHECK(dray__xml_copy(x, "M", small, sizeof(small)));
    CHECK_STR(small, "abc");
    CHECK(dray__xml_copy(x, "M", tiny, sizeof(tiny)));
    CHECK_STR(tiny, "");
}

/* Every prefix of a document, read by every function: nothing may read
   past the end (ASan) and nothing cut short may be found. */
static void test_truncated(void)
{
    static const char *tags[] = {"Error",  "Code",     "Message",
                                 "Key",    "Contents", "NextContinuationToken",
                                 "Upload", "UploadId", "IsTruncated"};
    const char *docs[] = {ERROR_BODY, LIST_V2};

    for (size_t d = 0; d < 2; d++) {
        size_t full = strlen(docs[d]);

        for (size_t n = 0; n <= full; n++) {
            /* A heap copy of exactly n bytes, without a NUL, so ASan sees
               any read past the end. */
            char *p = malloc(n ? n : 1);
            struct dray__xml x, in;
            struct dray_buf b = DRAY_BUF_INIT;
            size_t pos = 0;

            memcpy(p, docs[d], n);
            x.s = p;
            x.len = n;
            for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
                if (dray__xml_find(x, tags[t], &in))
                    CHECK(in.s >= p && in.s + in.len <= p + n);
                dray__xml_text(x, tags[t], &b);
                pos = 0;
                while (dray__xml_next(x, tags[t], &pos, &in))
                    CHECK(pos <= n);
            }
            dray__xml_root_is(x, "Error");
            CHECK(dray__xml_root_closed(x) == (n == full));
            dray__xml_decode(&b, p, n);
            /* The Error element is found only once its end tag is in. */
            if (d == 0 && n < full)
                CHECK(!dray__xml_find(x, "Error", &in));
            dray_buf_release(&b);
            free(p);
        }
    }
}

static void test_malformed(void)
{
    static const char *bad[] = {
        "",
        "<",
        "<<<<",
        "</Code>",
        "<Code",
        "<Code>",
        "<Code>x</Code",
        "<Code>x</Cod>",
        "<!--",
        "<![CDATA[",
        "<?xml",
        "<Code a=\">x</Code>",
        "<>",
        "< Code>x</Code>",
        "<Code/",
        "text only",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct dray__xml x = doc(bad[i]);

        CHECK_STR(text(x, "Code"), "(missing)");
    }
    /* A self-closed element is present and empty. */
    CHECK_STR(text(doc("<Code/>"), "Code"), "");
    /* A NULL range is empty. */
    {
        struct dray__xml none = {NULL, 0}, in;
        size_t pos = 0;

        CHECK(!dray__xml_find(none, "Code", &in));
        CHECK(!dray__xml_next(none, "Code", &pos, &in));
        CHECK(!dray__xml_root_is(none, "Code"));
    }
}

UNIT_MAIN(UNIT_CASE(test_error), UNIT_CASE(test_initiate),
          UNIT_CASE(test_list_v2), UNIT_CASE(test_list_uploads),
          UNIT_CASE(test_complete), UNIT_CASE(test_entities),
          UNIT_CASE(test_escape), UNIT_CASE(test_markup_skipped),
          UNIT_CASE(test_nested_same_name), UNIT_CASE(test_copy_truncates),
          UNIT_CASE(test_truncated), UNIT_CASE(test_malformed))

/*
 * The AWS credential chain's static sources (options, environment, shared
 * files), the shared file parser and the default region, against files in
 * a scratch HOME. Every case starts with no AWS_* variable set and IMDS
 * disabled, so nothing here touches the network. Expected times were
 * computed with Python's datetime.
 */
#include "dray/dray_aws.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../../sdk/net/net_internal.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRET"
#define SECRET2 "Q2hhbmdlZCBzZWNyZXQgZm9yIHRlc3RzSECRET2"

extern char **environ;

static char home[256];
static char path_buf[512];
static char err[2048];

/* HOME/rel */
static const char *at(const char *rel)
{
    snprintf(path_buf, sizeof(path_buf), "%s/%s", home, rel);
    return path_buf;
}

static void put_file(const char *rel, const char *text)
{
    FILE *f = fopen(at(rel), "wb");

    CHECK(f != NULL);
    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
}

/* A fresh HOME with an empty ~/.aws, every AWS_* variable unset, IMDS
   off. */
static void setup(void)
{
    char *names[256];
    size_t n = 0, i;

    for (i = 0; environ[i] != NULL && n < 256; i++) {
        const char *eq = strchr(environ[i], '=');

        if (strncmp(environ[i], "AWS_", 4) == 0 && eq != NULL)
            names[n++] = strndup(environ[i], (size_t)(eq - environ[i]));
    }
    for (i = 0; i < n; i++) {
        unsetenv(names[i]);
        free(names[i]);
    }
    snprintf(home, sizeof(home), "/tmp/dray-awsprof-XXXXXX");
    CHECK(mkdtemp(home) != NULL);
    CHECK_INT(mkdir(at(".aws"), 0700), 0);
    setenv("HOME", home, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    err[0] = '\0';
}

static void teardown(void)
{
    unit_remove_tree(home);
}

/* Opens with opts and gets once; the provider is left in *pp (closed by
   the caller) when open worked. */
static int open_get(const struct dray_aws_cred_opts *o,
                    struct dray_aws_cred_provider **pp,
                    struct dray_aws_creds *c)
{
    int rc;

    memset(c, 0, sizeof(*c));
    *pp = NULL;
    rc = dray_aws_creds_open(pp, o, err, sizeof(err));
    if (rc != 0)
        return 100 + rc; /* open's failure, told apart from get's */
    return dray_aws_creds_get(*pp, c, err, sizeof(err));
}

/* Opens with no options, gets once, checks key id and source. */
static void expect_creds(const struct dray_aws_cred_opts *o, const char *key,
                         const char *secret, const char *token,
                         const char *source)
{
    struct dray_aws_cred_provider *p;
    struct dray_aws_creds c;

    CHECK_INT(open_get(o, &p, &c), 0);
    CHECK_STR(c.access_key_id, key);
    CHECK_STR(c.secret_access_key, secret);
    if (token == NULL)
        CHECK(c.session_token == NULL);
    else
        CHECK_STR(c.session_token, token);
    CHECK_INT(c.expires_at_ms, 0);
    if (p != NULL)
        CHECK_STR(dray_aws_creds_source(p), source);
    dray_aws_creds_clear(&c);
    dray_aws_creds_close(p);
}

static char source_buf[600];

static const char *profile_source(const char *name, const char *rel)
{
    snprintf(source_buf, sizeof(source_buf), "profile %s in %s/%s", name, home,
             rel);
    return source_buf;
}

static void test_default_profile_from_credentials_file(void)
{
    setup();
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = AKIADEFAULT\n"
                                 "aws_secret_access_key = " SECRET "\n");
    expect_creds(NULL, "AKIADEFAULT", SECRET, NULL,
                 profile_source("default", ".aws/credentials"));
    teardown();
}

static void test_profile_section_in_config(void)
{
    setup();
    put_file(".aws/config", "[default]\nregion = eu-west-1\n"
                            "[profile x]\n"
                            "aws_access_key_id = AKIACONFIGX\n"
                            "aws_secret_access_key = " SECRET "\n");
    setenv("AWS_PROFILE", "x", 1);
    expect_creds(NULL, "AKIACONFIGX", SECRET, NULL,
                 profile_source("x", ".aws/config"));
    teardown();
}

static void test_default_section_in_config(void)
{
    setup();
    put_file(".aws/config", "[default]\n"
                            "aws_access_key_id = AKIACONFIGDEF\n"
                            "aws_secret_access_key = " SECRET "\n");
    expect_creds(NULL, "AKIACONFIGDEF", SECRET, NULL,
                 profile_source("default", ".aws/config"));
    put_file(".aws/config", "[profile default]\n"
                            "aws_access_key_id = AKIAPROFILEDEF\n"
                            "aws_secret_access_key = " SECRET "\n");
    expect_creds(NULL, "AKIAPROFILEDEF", SECRET, NULL,
                 profile_source("default", ".aws/config"));
    teardown();
}

/* In the config file a profile is [profile x]: a bare [x] is not one. */
static void test_bare_section_in_config_is_not_a_profile(void)
{
    struct dray_aws_cred_provider *p;
    struct dray_aws_creds c;

    setup();
    put_file(".aws/config", "[x]\n"
                            "aws_access_key_id = AKIABARE\n"
                            "aws_secret_access_key = " SECRET "\n");
    setenv("AWS_PROFILE", "x", 1);
    CHECK_INT(open_get(NULL, &p, &c), 99);
    CHECK_CONTAINS(err, "\"x\"");
    teardown();
}

static void test_credentials_file_beats_config(void)
{
    setup();
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = AKIAFROMCREDS\n"
                                 "aws_secret_access_key = " SECRET "\n");
    put_file(".aws/config", "[default]\n"
                            "aws_access_key_id = AKIAFROMCONFIG\n"
                            "aws_secret_access_key = " SECRET2 "\n");
    expect_creds(NULL, "AKIAFROMCREDS", SECRET, NULL,
                 profile_source("default", ".aws/credentials"));
    teardown();
}

static void test_aws_profile_and_profile_option(void)
{
    struct dray_aws_cred_opts o;

    setup();
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = AKIADEFAULT\n"
                                 "aws_secret_access_key = " SECRET "\n"
                                 "[p2]\n"
                                 "aws_access_key_id = AKIAP2\n"
                                 "aws_secret_access_key = " SECRET2 "\n"
                                 "[p3]\n"
                                 "aws_access_key_id = AKIAP3\n"
                                 "aws_secret_access_key = " SECRET "\n");
    setenv("AWS_PROFILE", "p2", 1);
    expect_creds(NULL, "AKIAP2", SECRET2, NULL,
                 profile_source("p2", ".aws/credentials"));
    memset(&o, 0, sizeof(o));
    o.profile = "p3"; /* the option beats AWS_PROFILE */
    expect_creds(&o, "AKIAP3", SECRET, NULL,
                 profile_source("p3", ".aws/credentials"));
    teardown();
}

static void test_unknown_named_profile_fails_at_open(void)
{
    struct dray_aws_cred_opts o;
    struct dray_aws_cred_provider *p = NULL;

    setup();
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = AKIADEFAULT\n"
                                 "aws_secret_access_key = " SECRET "\n");
    memset(&o, 0, sizeof(o));
    o.profile = "nope";
    CHECK_INT(dray_aws_creds_open(&p, &o, err, sizeof(err)), -1);
    CHECK(p == NULL);
    CHECK_CONTAINS(err, "\"nope\"");
    CHECK_CONTAINS(err, "profile option");
    CHECK_CONTAINS(err, at(".aws/credentials"));
    CHECK_CONTAINS(err, at(".aws/config"));
    CHECK(strstr(err, SECRET) == NULL);

    setenv("AWS_PROFILE", "gone", 1);
    CHECK_INT(dray_aws_creds_open(&p, NULL, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, "\"gone\"");
    CHECK_CONTAINS(err, "AWS_PROFILE");
    teardown();
}

static void test_environment_beats_profile(void)
{
    setup();
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = AKIADEFAULT\n"
                                 "aws_secret_access_key = " SECRET "\n");
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET2, 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    expect_creds(NULL, "AKIAENV", SECRET2, "envtoken", "environment");
    teardown();
}

static void test_options_beat_environment(void)
{
    struct dray_aws_cred_opts o;

    setup();
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET2, 1);
    memset(&o, 0, sizeof(o));
    o.access_key_id = "AKIAOPT";
    o.secret_access_key = SECRET;
    o.session_token = "opttoken";
    expect_creds(&o, "AKIAOPT", SECRET, "opttoken", "options");
    /* With explicit keys the environment is not looked at, even when it
       is incomplete or names a missing profile. */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    setenv("AWS_PROFILE", "nope", 1);
    o.session_token = NULL;
    expect_creds(&o, "AKIAOPT", SECRET, NULL, "options");
    teardown();
}

static void test_half_a_key_pair_is_an_error(void)
{
    struct dray_aws_cred_opts o;
    struct dray_aws_cred_provider *p = NULL;
    struct dray_aws_creds c;

    setup();
    memset(&o, 0, sizeof(o));
    o.access_key_id = "AKIAOPT";
    CHECK_INT(dray_aws_creds_open(&p, &o, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, "secret_access_key is not");
    o.access_key_id = NULL;
    o.secret_access_key = SECRET;
    CHECK_INT(dray_aws_creds_open(&p, &o, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, "access_key_id is not");
    CHECK(strstr(err, SECRET) == NULL);
    o.secret_access_key = NULL;
    o.session_token = "tok";
    CHECK_INT(dray_aws_creds_open(&p, &o, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, "session_token");

    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    CHECK_INT(dray_aws_creds_open(&p, NULL, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, "but AWS_SECRET_ACCESS_KEY is not");
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    CHECK_INT(dray_aws_creds_open(&p, NULL, err, sizeof(err)), -1);
    CHECK_CONTAINS(err, "but AWS_ACCESS_KEY_ID is not");
    CHECK(strstr(err, SECRET) == NULL);
    unsetenv("AWS_SECRET_ACCESS_KEY");

    /* In a profile: found when the chain reads it. */
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = AKIAHALF\n");
    CHECK_INT(open_get(NULL, &p, &c), -1);
    CHECK_CONTAINS(err, at(".aws/credentials"));
    CHECK_CONTAINS(err, "no aws_secret_access_key");
    CHECK(c.access_key_id == NULL);
    CHECK_STR(dray_aws_creds_source(p), "none");
    dray_aws_creds_close(p);
    put_file(".aws/credentials", "[default]\n"
                                 "aws_secret_access_key = " SECRET "\n");
    CHECK_INT(open_get(NULL, &p, &c), -1);
    CHECK_CONTAINS(err, "no aws_access_key_id");
    CHECK(strstr(err, SECRET) == NULL);
    dray_aws_creds_close(p);
    teardown();
}

static void test_session_token_from_profile(void)
{
    setup();
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = ASIATEMP\n"
                                 "aws_secret_access_key = " SECRET "\n"
                                 "aws_session_token = FwoGZXIvYXdzEXAMPLE\n");
    expect_creds(NULL, "ASIATEMP", SECRET, "FwoGZXIvYXdzEXAMPLE",
                 profile_source("default", ".aws/credentials"));
    teardown();
}

/* Comments, CRLF, blanks, upper-case keys, ':' and nested settings
   (whose aws_access_key_id must not be taken: a line indented under a key
   continues it), no final newline. */
static void test_file_syntax(void)
{
    setup();
    put_file(".aws/config",
             "# written by hand\r\n"
             "; another comment\r\n"
             "\r\n"
             "[profile  dev ]  # trailing comment\r\n"
             "region=us-west-2\r\n"
             "s3 =\r\n"
             "    max_concurrent_requests = 20\r\n"
             "    aws_access_key_id = AKIANESTED\r\n"
             "\tsignature_version = s3v4\r\n"
             "AWS_ACCESS_KEY_ID   =   AKIADEV  \r\n"
             "  ; an indented comment\r\n"
             "aws_secret_access_key: " SECRET "\r\n"
             "[profile other]\r\n"
             "  aws_access_key_id = AKIAOTHER\r\n" /* no key above it */
             "aws_secret_access_key = " SECRET2);
    setenv("AWS_PROFILE", "dev", 1);
    expect_creds(NULL, "AKIADEV", SECRET, NULL,
                 profile_source("dev", ".aws/config"));
    setenv("AWS_PROFILE", "other", 1);
    expect_creds(NULL, "AKIAOTHER", SECRET2, NULL,
                 profile_source("other", ".aws/config"));
    teardown();
}

/* A section given twice adds up; a key given twice keeps the last. */
static void test_repeated_sections_and_keys(void)
{
    setup();
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = AKIAFIRST\n"
                                 "[other]\n"
                                 "aws_access_key_id = AKIANOTTHIS\n"
                                 "[default]\n"
                                 "aws_access_key_id = AKIASECOND\n"
                                 "aws_secret_access_key = " SECRET "\n");
    expect_creds(NULL, "AKIASECOND", SECRET, NULL,
                 profile_source("default", ".aws/credentials"));
    teardown();
}

static void test_malformed_file_names_line_not_value(void)
{
    struct dray_aws_cred_opts o;
    struct dray_aws_cred_provider *p;
    struct dray_aws_creds c;

    setup();
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = AKIADEFAULT\n"
                                 "aws_secret_access_key " SECRET "\n");
    CHECK_INT(open_get(NULL, &p, &c), -1);
    CHECK_CONTAINS(err, at(".aws/credentials"));
    CHECK_CONTAINS(err, "line 3");
    CHECK(strstr(err, SECRET) == NULL);
    dray_aws_creds_close(p);

    /* A named profile is checked at open: the same error then. */
    memset(&o, 0, sizeof(o));
    o.profile = "default";
    CHECK_INT(open_get(&o, &p, &c), 99);
    CHECK_CONTAINS(err, "line 3");
    CHECK(strstr(err, SECRET) == NULL);

    put_file(".aws/credentials", "\n[default\n");
    CHECK_INT(open_get(NULL, &p, &c), -1);
    CHECK_CONTAINS(err, "line 2");
    dray_aws_creds_close(p);
    put_file(".aws/credentials", "aws_secret_access_key = " SECRET "\n");
    CHECK_INT(open_get(NULL, &p, &c), -1);
    CHECK_CONTAINS(err, "line 1");
    CHECK_CONTAINS(err, "before its first [section]");
    CHECK(strstr(err, SECRET) == NULL);
    dray_aws_creds_close(p);
    teardown();
}

static void test_file_path_overrides(void)
{
    setup();
    put_file(".aws/credentials", "[default]\n"
                                 "aws_access_key_id = AKIAHOME\n"
                                 "aws_secret_access_key = " SECRET "\n");
    put_file("creds-elsewhere", "[default]\n"
                                "aws_access_key_id = AKIAELSEWHERE\n"
                                "aws_secret_access_key = " SECRET2 "\n");
    put_file("config-elsewhere", "[profile c]\n"
                                 "aws_access_key_id = AKIACONFIGC\n"
                                 "aws_secret_access_key = " SECRET "\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", at("creds-elsewhere"), 1);
    expect_creds(NULL, "AKIAELSEWHERE", SECRET2, NULL,
                 profile_source("default", "creds-elsewhere"));
    /* "~/" stands for HOME, as in the AWS CLI. */
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/no-such-file", 1);
    setenv("AWS_CONFIG_FILE", "~/config-elsewhere", 1);
    setenv("AWS_PROFILE", "c", 1);
    expect_creds(NULL, "AKIACONFIGC", SECRET, NULL,
                 profile_source("c", "config-elsewhere"));
    teardown();
}

static void test_nothing_found(void)
{
    struct dray_aws_cred_provider *p;
    struct dray_aws_creds c;

    setup();
    /* No files at all: not an error at open for the default profile. */
    CHECK_INT(open_get(NULL, &p, &c), -1);
    CHECK_CONTAINS(err, "no AWS credentials found");
    CHECK_CONTAINS(err, "AWS_ACCESS_KEY_ID");
    CHECK_CONTAINS(err, "instance role");
    CHECK_CONTAINS(err, at(".aws/credentials"));
    CHECK_CONTAINS(err, "AWS_EC2_METADATA_DISABLED");
    CHECK(c.access_key_id == NULL);
    CHECK_STR(dray_aws_creds_source(p), "none");
    dray_aws_creds_close(p);

    /* A profile that uses a source this library does not read. */
    put_file(".aws/config", "[default]\n"
                            "role_arn = arn:aws:iam::123456789012:role/r\n"
                            "source_profile = base\n");
    CHECK_INT(open_get(NULL, &p, &c), -1);
    CHECK_CONTAINS(err, "role_arn");
    dray_aws_creds_close(p);
    teardown();
}

static void test_gets_are_copies(void)
{
    struct dray_aws_cred_provider *p;
    struct dray_aws_creds a, b;

    setup();
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    CHECK_INT(open_get(NULL, &p, &a), 0);
    CHECK_INT(dray_aws_creds_get(p, &b, err, sizeof(err)), 0);
    CHECK(a.access_key_id != b.access_key_id);
    CHECK(a.secret_access_key != b.secret_access_key);
    dray_aws_creds_clear(&a);
    CHECK(a.access_key_id == NULL && a.secret_access_key == NULL);
    CHECK_STR(b.secret_access_key, SECRET);
    /* The environment is read at open: a later change does not count. */
    setenv("AWS_ACCESS_KEY_ID", "AKIALATER", 1);
    dray_aws_creds_clear(&b);
    CHECK_INT(dray_aws_creds_get(p, &b, err, sizeof(err)), 0);
    CHECK_STR(b.access_key_id, "AKIAENV");
    dray_aws_creds_clear(&b);
    dray_aws_creds_clear(&b); /* twice is harmless */
    dray_aws_creds_close(p);
    teardown();
}

static void test_default_region(void)
{
    char buf[32];

    setup();
    CHECK_INT(dray_aws_default_region(NULL, buf, sizeof(buf)), 0);
    put_file(".aws/config", "[default]\n"
                            "region = eu-central-1\n"
                            "[profile west]\n"
                            "region = us-west-2\n"
                            "[profile none]\n"
                            "output = json\n");
    CHECK_INT(dray_aws_default_region(NULL, buf, sizeof(buf)), 1);
    CHECK_STR(buf, "eu-central-1");
    CHECK_INT(dray_aws_default_region("west", buf, sizeof(buf)), 1);
    CHECK_STR(buf, "us-west-2");
    CHECK_INT(dray_aws_default_region("none", buf, sizeof(buf)), 0);
    setenv("AWS_PROFILE", "west", 1);
    CHECK_INT(dray_aws_default_region(NULL, buf, sizeof(buf)), 1);
    CHECK_STR(buf, "us-west-2");
    setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
    CHECK_INT(dray_aws_default_region(NULL, buf, sizeof(buf)), 1);
    CHECK_STR(buf, "ap-south-1");
    setenv("AWS_REGION", "sa-east-1", 1);
    CHECK_INT(dray_aws_default_region("west", buf, sizeof(buf)), 1);
    CHECK_STR(buf, "sa-east-1");
    CHECK_INT(dray_aws_default_region(NULL, buf, 5), 0); /* does not fit */
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    setenv("AWS_CONFIG_FILE", at("other-config"), 1);
    put_file("other-config", "[profile west]\nregion = ca-central-1\n");
    CHECK_INT(dray_aws_default_region(NULL, buf, sizeof(buf)), 1);
    CHECK_STR(buf, "ca-central-1");
    teardown();
}

/* Expirations are UTC whatever TZ says. */
static void test_iso8601(void)
{
    int64_t ms = 0;

    setenv("TZ", "America/New_York", 1);
    tzset();
    CHECK_INT(dray__aws_iso8601_ms("2026-12-05T22:00:00Z", &ms), 0);
    CHECK_INT(ms, 1796508000000LL);
    CHECK_INT(dray__aws_iso8601_ms("2026-12-05T22:00:00.250Z", &ms), 0);
    CHECK_INT(ms, 1796508000250LL);
    CHECK_INT(dray__aws_iso8601_ms("2026-12-05T22:00:00+02:00", &ms), 0);
    CHECK_INT(ms, 1796500800000LL);
    CHECK_INT(dray__aws_iso8601_ms("2000-02-29T23:59:59Z", &ms), 0);
    CHECK_INT(ms, 951868799000LL);
    CHECK_INT(dray__aws_iso8601_ms("2026-12-05T22:00:00", &ms), -1);
    CHECK_INT(dray__aws_iso8601_ms("2026-13-05T22:00:00Z", &ms), -1);
    CHECK_INT(dray__aws_iso8601_ms("2026-12-05 22:00Z", &ms), -1);
    CHECK_INT(dray__aws_iso8601_ms("tomorrow", &ms), -1);
    CHECK_INT(dray__aws_iso8601_ms("2026-12-05T22:00:00Zjunk", &ms), -1);
    unsetenv("TZ");
    tzset();
}

UNIT_MAIN(UNIT_CASE(test_default_profile_from_credentials_file),
          UNIT_CASE(test_profile_section_in_config),
          UNIT_CASE(test_default_section_in_config),
          UNIT_CASE(test_bare_section_in_config_is_not_a_profile),
          UNIT_CASE(test_credentials_file_beats_config),
          UNIT_CASE(test_aws_profile_and_profile_option),
          UNIT_CASE(test_unknown_named_profile_fails_at_open),
          UNIT_CASE(test_environment_beats_profile),
          UNIT_CASE(test_options_beat_environment),
          UNIT_CASE(test_half_a_key_pair_is_an_error),
          UNIT_CASE(test_session_token_from_profile),
          UNIT_CASE(test_file_syntax),
          UNIT_CASE(test_repeated_sections_and_keys),
          UNIT_CASE(test_malformed_file_names_line_not_value),
          UNIT_CASE(test_file_path_overrides), UNIT_CASE(test_nothing_found),
          UNIT_CASE(test_gets_are_copies), UNIT_CASE(test_default_region),
          UNIT_CASE(test_iso8601))

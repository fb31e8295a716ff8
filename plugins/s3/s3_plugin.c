/*
 * s3_plugin.c - the S3 destination: its descriptor, options and dialect,
 * and the instance's life (create, check, destroy). Loading is in
 * s3_load.c; docs/S3.md says what it does and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dray/dray_cfg.h>

#include "s3_internal.h"

#define STITCH_TEMPLATE                                                        \
    "[integration_name]/[table_name]/[table_version]_[timestamp_loaded]."      \
    "[csv|jsonl]"

static const char *const formats[] = {"csv", "jsonl", NULL};
static const char *const delimiters[] = {",", "|", "tab", "\t", NULL};
static const char *const compressions[] = {"none", "gzip", NULL};
static const char *const checksums[] = {"crc32", "none", NULL};

static const struct dray_option s3_options[] = {
    {"url", DRAY_OPT_STRING, DRAY_OPTF_REQUIRED, NULL, NULL, 0, 0,
     "where objects go: s3://bucket/prefix, or file:///folder for a local "
     "folder in the same layout"},
    {"region", DRAY_OPT_STRING, 0, NULL, NULL, 0, 0,
     "the bucket's AWS region (default: AWS_REGION, the profile's region, "
     "else us-east-1)"},
    {"endpoint", DRAY_OPT_STRING, 0, NULL, NULL, 0, 0,
     "S3-compatible endpoint, as https://host[:port] (default: AWS)"},
    {"path_style", DRAY_OPT_BOOL, 0, "false", NULL, 0, 0,
     "address buckets as ENDPOINT/bucket instead of bucket.ENDPOINT"},
    {"format", DRAY_OPT_ENUM, 0, "csv", formats, 0, 0,
     "csv (flattened, with subtables) or jsonl (records intact)"},
    {"delimiter", DRAY_OPT_ENUM, 0, ",", delimiters, 0, 0,
     "CSV field delimiter: ',', '|' or tab"},
    {"quote_all", DRAY_OPT_BOOL, 0, "false", NULL, 0, 0,
     "quote every CSV value that is not NULL"},
    {"compression", DRAY_OPT_ENUM, 0, "none", compressions, 0, 0,
     "none, or gzip (objects end in .gz)"},
    {"key_template", DRAY_OPT_STRING, 0, STITCH_TEMPLATE, NULL, 0, 0,
     "object keys under the URL's prefix; needs [integration_name], "
     "[table_name], [table_version] and [timestamp_loaded]"},
    {"access_key_id", DRAY_OPT_STRING, 0, NULL, NULL, 0, 0,
     "AWS access key id (default: the AWS credential chain)"},
    {"secret_access_key", DRAY_OPT_STRING, DRAY_OPTF_SECRET, NULL, NULL, 0, 0,
     "AWS secret access key, with access_key_id"},
    {"session_token", DRAY_OPT_STRING, DRAY_OPTF_SECRET, NULL, NULL, 0, 0,
     "AWS session token of temporary credentials"},
    {"profile", DRAY_OPT_STRING, 0, NULL, NULL, 0, 0,
     "profile of the shared AWS files (default: AWS_PROFILE, else default)"},
    {"ca_bundle", DRAY_OPT_STRING, DRAY_OPTF_PATH, NULL, NULL, 0, 0,
     "CA bundle that verifies the endpoint (default: the system's)"},
    {"part_size", DRAY_OPT_SIZE, 0, "8MiB", NULL, 5 * 1048576LL,
     5 * 1073741824LL,
     "multipart upload part size; larger objects upload "
     "while the batch is encoded"},
    {"tmp_dir", DRAY_OPT_STRING, DRAY_OPTF_PATH, NULL, NULL, 0, 0,
     "folder for the parts being uploaded (default: TMPDIR, else /tmp)"},
    {"checksum", DRAY_OPT_ENUM, 0, "crc32", checksums, 0, 0,
     "S3's CRC32 checksum of every upload, checked by S3 and kept with the "
     "object; none for S3-compatible stores that refuse it"},
    {"max_rejects", DRAY_OPT_INT, 0, "0", NULL, 0, INT64_MAX,
     "fail a batch that rejects more records than this (0: no limit)"},
};

static dray_status on_load(const struct dray_host_api *host, dray_error *err)
{
    char why[256];

    (void)host;
    if (dray_http_global_init(why, sizeof(why)) != 0)
        return dray_error_set(err, DRAY_E_CONFIG, NULL, "%s", why);
    return DRAY_OK;
}

/* The host of "host[:port][/...]" is the loopback: localhost, 127.x.y.z
   or [::1] (a prefix match would take localhost.example.com). */
static int loopback(const char *hostport)
{
    size_t n = strcspn(hostport, ":/");
    int dots = 0;

    if (strncmp(hostport, "[::1]", 5) == 0)
        return hostport[5] == '\0' || hostport[5] == ':' || hostport[5] == '/';
    if (n == 9 && strncmp(hostport, "localhost", 9) == 0)
        return 1;
    if (n < 7 || strncmp(hostport, "127.", 4) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (hostport[i] == '.')
            dots++;
        else if (hostport[i] < '0' || hostport[i] > '9')
            return 0;
    }
    return dots == 3;
}

static dray_status s3_validate(const dray_config *cfg, dray_error *err)
{
    const char *endpoint = dray_cfg_str(cfg, "endpoint");
    const char *akid = dray_cfg_str(cfg, "access_key_id");
    const char *secret = dray_cfg_str(cfg, "secret_access_key");
    struct s3_template t;
    struct s3_url u;
    char why[320];

    if (s3_url_parse(dray_cfg_str(cfg, "url"), &u, why, sizeof(why)) != 0) {
        dray_error_set(err, DRAY_E_CONFIG, NULL, "option 'url': %s", why);
        dray_error_hint(err, "write s3://bucket/prefix or file:///folder");
        return DRAY_E_CONFIG;
    }
    if (s3_template_parse(dray_cfg_str(cfg, "key_template"), &t, why,
                          sizeof(why)) != 0) {
        s3_url_release(&u);
        dray_error_set(err, DRAY_E_CONFIG, NULL, "option 'key_template': %s",
                       why);
        dray_error_hint(err, "the default is " STITCH_TEMPLATE);
        return DRAY_E_CONFIG;
    }
    s3_template_release(&t);
    if ((akid != NULL) != (secret != NULL)) {
        s3_url_release(&u);
        return dray_error_set(
            err, DRAY_E_CONFIG, NULL,
            "option '%s' is set without '%s'; give both, or neither to use "
            "the AWS credential chain",
            akid ? "access_key_id" : "secret_access_key",
            akid ? "secret_access_key" : "access_key_id");
    }
    if (endpoint != NULL && strncmp(endpoint, "https://", 8) != 0 &&
        strncmp(endpoint, "http://", 7) != 0) {
        s3_url_release(&u);
        return dray_error_set(err, DRAY_E_CONFIG, NULL,
                              "option 'endpoint' is '%s'; write "
                              "https://host[:port]",
                              endpoint);
    }
    if (u.kind == S3_URL_S3 && endpoint != NULL &&
        strncmp(endpoint, "http://", 7) == 0 && !loopback(endpoint + 7))
        dray_log(NULL, DRAY_LOG_WARN,
                 "option 'endpoint' is plain http: data travels unencrypted; "
                 "use https");
    if (u.kind == S3_URL_FILE && (akid != NULL || endpoint != NULL))
        dray_log(NULL, DRAY_LOG_WARN,
                 "option 'url' names a local folder: the S3 options are "
                 "ignored");
    s3_url_release(&u);
    return DRAY_OK;
}

static void s3_free(struct s3_plugin *p)
{
    if (p == NULL)
        return;
    if (p->store != NULL)
        p->store->ops->close(p->store);
    dray_aws_creds_close(p->creds);
    s3_url_release(&p->url);
    s3_template_release(&p->tmpl);
    free(p->tmp_dir);
    free(p->region);
    free(p->endpoint);
    free(p->ca_bundle);
    free(p);
}

static dray_status open_creds(struct s3_plugin *p, const dray_config *cfg,
                              dray_error *err)
{
    struct dray_aws_cred_opts co = {0};
    char region[64], why[512];

    co.access_key_id = dray_cfg_str(cfg, "access_key_id");
    co.secret_access_key = dray_cfg_str(cfg, "secret_access_key");
    co.session_token = dray_cfg_str(cfg, "session_token");
    co.profile = dray_cfg_str(cfg, "profile");
    co.ca_bundle = p->ca_bundle;
    if (dray_aws_creds_open(&p->creds, &co, why, sizeof(why)) != 0)
        return dray_error_set(err, DRAY_E_CONFIG, NULL, "%s", why);
    if (p->region == NULL) {
        const char *r =
            dray_aws_default_region(co.profile, region, sizeof(region))
                ? region
                : "us-east-1";
        p->region = strdup(r);
        if (p->region == NULL)
            return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    return DRAY_OK;
}

static dray_status s3_create(dray_instance *inst, const dray_config *cfg,
                             void **state, dray_error *err)
{
    struct s3_plugin *p = calloc(1, sizeof(*p));
    const char *v;
    dray_status st;
    char why[320];

    if (p == NULL)
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    p->inst = inst;
    v = dray_cfg_str(cfg, "url");
    if (s3_url_parse(v, &p->url, why, sizeof(why)) != 0 ||
        s3_template_parse(dray_cfg_str(cfg, "key_template"), &p->tmpl, why,
                          sizeof(why)) != 0) {
        s3_free(p);
        return dray_error_set(err, DRAY_E_CONFIG, NULL, "%s", why);
    }
    v = dray_cfg_str(cfg, "format");
    p->format = v && strcmp(v, "jsonl") == 0 ? S3_FMT_JSONL : S3_FMT_CSV;
    v = dray_cfg_str(cfg, "delimiter");
    p->delimiter = !v || strcmp(v, ",") == 0 ? ','
                   : strcmp(v, "|") == 0     ? '|'
                                             : '\t';
    p->quote_all = dray_cfg_bool(cfg, "quote_all", 0) != 0;
    v = dray_cfg_str(cfg, "compression");
    p->gzip = v && strcmp(v, "gzip") == 0;
    p->part_size = dray_cfg_i64(cfg, "part_size", 0);
    p->max_rejects = dray_cfg_i64(cfg, "max_rejects", 0);
    v = dray_cfg_str(cfg, "checksum");
    p->checksum = v && strcmp(v, "none") == 0 ? DRAY_S3_CHECKSUM_NONE
                                              : DRAY_S3_CHECKSUM_CRC32;
    p->path_style = dray_cfg_bool(cfg, "path_style", 0) != 0;
    /* An empty text counts as unset: the default applies. */
    if (dray_cfg_dup(cfg, "tmp_dir", DRAY_CFG_NONEMPTY, &p->tmp_dir) < 0 ||
        dray_cfg_dup(cfg, "region", DRAY_CFG_NONEMPTY, &p->region) < 0 ||
        dray_cfg_dup(cfg, "endpoint", DRAY_CFG_NONEMPTY, &p->endpoint) < 0 ||
        dray_cfg_dup(cfg, "ca_bundle", DRAY_CFG_NONEMPTY, &p->ca_bundle) < 0) {
        s3_free(p);
        return dray_error_set(err, DRAY_E_NOMEM, NULL, "out of memory");
    }
    if (p->url.kind == S3_URL_FILE) {
        st = s3_store_file_open(p, &p->store, err);
    } else {
        st = open_creds(p, cfg, err);
        if (st == DRAY_OK)
            st = s3_store_s3_open(p, &p->store, err);
    }
    if (st != DRAY_OK) {
        s3_free(p);
        return st;
    }
    *state = p;
    return DRAY_OK;
}

static void s3_destroy(void *state)
{
    s3_free(state);
}

static dray_status s3_check(void *state, dray_error *err)
{
    struct s3_plugin *p = state;
    dray_status st = p->store->ops->probe(p->store, err);

    if (st == DRAY_OK && p->creds != NULL)
        dray_log(p->inst, DRAY_LOG_INFO,
                 "bucket '%s' in %s is writable with credentials from %s",
                 p->url.bucket, p->region, dray_aws_creds_source(p->creds));
    return st;
}

static const struct dray_plugin_vtable s3_vtable = {
    DRAY_PLUGIN_VTABLE_HDR,
    .on_load = on_load,
    .validate = s3_validate,
    .create = s3_create,
    .destroy = s3_destroy,
    .check = s3_check,
    .load_batch = s3_load_batch,
    .readback = s3_readback,
    .list_tables = s3_list_tables,
    .namespace_create = s3_namespace_create,
    .namespace_drop = s3_namespace_drop,
};

/* CSV flattens (the default format); a jsonl instance keeps documents.
   The dialect is per plugin, so it declares the CSV shape. */
static const struct dray_dialect s3_dialect = {
    DRAY_DIALECT_HDR,
    .type_map = "files",
    .nesting = DRAY_NEST_FLATTEN,
    .split_rule = DRAY_SPLIT_KEEP,
    .ident_case = DRAY_CASE_PRESERVE,
    .ident_unit = DRAY_IDENT_BYTES,
    .ident_max = 1024,
    .modes = DRAY_MODE_BIT(DRAY_MODE_APPEND),
};

static const struct dray_plugin_desc s3_desc = {
    DRAY_PLUGIN_DESC_HDR,
    .name = "s3",
    .version = "1.0.0",
    .vendor = "dray",
    .license = "MIT",
    .description = "Amazon S3 (or a local folder): Stitch's layout, CSV or "
                   "JSON lines, append-only",
    .caps = DRAY_CAP_IDEMPOTENT_LOADS | DRAY_CAP_REJECT_ROWS |
            DRAY_CAP_READBACK | DRAY_CAP_NAMESPACES |
            DRAY_CAP_CONCURRENT_STREAMS | DRAY_CAP_CHECK,
    DRAY_OPTIONS(s3_options),
    .dialect = &s3_dialect,
    .vtable = &s3_vtable,
};

DRAY_PLUGIN_DEFINE(s3_desc)

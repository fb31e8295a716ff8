/*
 * s3_internal.h - the S3 destination's pieces: the parsed URL, the key
 * template, the two stores (S3 and a local folder) behind one interface,
 * and the load and readback entry points. docs/S3.md says what it does
 * and why.
 */
#ifndef DRAY_S3_INTERNAL_H
#define DRAY_S3_INTERNAL_H

#include <stdint.h>

#include <dray/dray_aws.h>
#include <dray/dray_encode.h>
#include <dray/dray_flatten.h>
#include <dray/dray_plugin.h>
#include <dray/dray_s3.h>

/* ---- the URL ------------------------------------------------------------ */

enum { S3_URL_S3 = 0, S3_URL_FILE = 1 };

struct s3_url {
    int kind;     /* S3_URL_* */
    char *bucket; /* s3:// only */
    char *prefix; /* s3://: the key prefix without slashes at either end,
                     "" for none; file://: the folder, absolute, without a
                     trailing slash */
};

/* Returns 0, or -1 with the reason in why. */
int s3_url_parse(const char *text, struct s3_url *out, char *why, size_t n);
void s3_url_release(struct s3_url *u);

/* ---- the key template --------------------------------------------------- */

enum {
    S3_EL_TEXT = 0,
    S3_EL_INTEGRATION,
    S3_EL_TABLE,
    S3_EL_VERSION,
    S3_EL_TIMESTAMP,
    S3_EL_YEAR,
    S3_EL_MONTH,
    S3_EL_DAY,
    S3_EL_HOUR,
    S3_EL_EXT
};

struct s3_el {
    int kind;
    char *text; /* S3_EL_TEXT */
};

struct s3_template {
    struct s3_el *el;
    size_t n;
};

/* What one object's key is made of. */
struct s3_key_vars {
    const char *integration;
    const char *table;
    int64_t version;
    int64_t loaded_ms;
    const char *ext; /* "csv", "jsonl.gz", ... */
};

/* Returns 0, -1 with the reason in why, -2 out of memory. A template
   without [csv|jsonl] gets ".[csv|jsonl]" appended. */
int s3_template_parse(const char *text, struct s3_template *t, char *why,
                      size_t n);
void s3_template_release(struct s3_template *t);
/* Appends the key. Returns 0 or -2. */
int s3_template_render(const struct s3_template *t, const struct s3_key_vars *v,
                       struct dray_buf *out);
/*
 * Reads a key back: 1 when key is one of the template's, with the table
 * (copied into table) and the version and load time set; 0 when not.
 */
int s3_template_match(const struct s3_template *t, const char *key,
                      struct dray_buf *table, int64_t *version,
                      int64_t *loaded_ms);

/* ---- stores ------------------------------------------------------------- */

struct s3_store;
struct s3_object;

/* Keys are relative to the URL's prefix or folder. Each returns DRAY_OK or
   a status with err set. */
struct s3_store_ops {
    /* A new object; its bytes go to *sink until commit or discard. */
    dray_status (*open)(struct s3_store *st, const char *key,
                        const char *content_type, struct s3_object **obj,
                        struct dray_sink *sink, dray_error *err);
    /* Makes the object visible under its key, whole (replacing any).
       After its sink failed, publishes nothing and returns the reason. */
    dray_status (*commit)(struct s3_store *st, struct s3_object *obj,
                          dray_error *err);
    /* Drops an object not committed; frees it (also after commit). */
    void (*discard)(struct s3_store *st, struct s3_object *obj);
    /* Every key under prefix ("" for all), in byte order. */
    dray_status (*list)(struct s3_store *st, const char *prefix,
                        int (*fn)(void *ctx, const char *key), void *ctx,
                        dray_error *err);
    dray_status (*get)(struct s3_store *st, const char *key,
                       struct dray_sink *sink, dray_error *err);
    /* Removes one object; a missing one is not an error. */
    dray_status (*remove)(struct s3_store *st, const char *key,
                          dray_error *err);
    /* Removes every object under prefix (which ends in '/'). */
    dray_status (*remove_prefix)(struct s3_store *st, const char *prefix,
                                 dray_error *err);
    /* Reachable and writable, without leaving anything behind. */
    dray_status (*probe)(struct s3_store *st, dray_error *err);
    void (*close)(struct s3_store *st);
};

struct s3_store {
    const struct s3_store_ops *ops;
    dray_instance *inst;
};

struct s3_plugin;

dray_status s3_store_file_open(struct s3_plugin *p, struct s3_store **out,
                               dray_error *err);
dray_status s3_store_s3_open(struct s3_plugin *p, struct s3_store **out,
                             dray_error *err);

/* ---- the instance ------------------------------------------------------- */

enum { S3_FMT_CSV = 0, S3_FMT_JSONL = 1 };

struct s3_plugin {
    dray_instance *inst;
    struct s3_url url;
    struct s3_template tmpl;
    int format;     /* S3_FMT_* */
    char delimiter; /* ',', '|' or '\t' */
    int quote_all;
    int gzip;
    int64_t part_size;
    int checksum; /* DRAY_S3_CHECKSUM_* */
    int64_t max_rejects;
    char *tmp_dir;
    /* S3 only */
    char *region;
    char *endpoint;
    int path_style;
    char *ca_bundle;
    struct dray_aws_cred_provider *creds;
    struct dray_retry retry;
    struct s3_store *store;
};

/* load_batch, readback and friends (s3_load.c, s3_readback.c). */
dray_status s3_load_batch(void *state, dray_batch *batch, dray_error *err);
dray_status s3_readback(void *state, const char *ns, const char *table,
                        dray_output *out, dray_error *err);
dray_status s3_list_tables(void *state, const char *ns, dray_output *out,
                           dray_error *err);
dray_status s3_namespace_create(void *state, const char *ns, dray_error *err);
dray_status s3_namespace_drop(void *state, const char *ns, dray_error *err);

/* An S3 client error as a status, with the message in err. */
dray_status s3_fail(dray_error *err, const struct dray_s3_error *e);

#endif /* DRAY_S3_INTERNAL_H */

/*
 * harness.h - the conformance harness dray-plugin-test (docs/HARNESS.md):
 * declarations shared by its files. Not installed; not part of the SDK.
 *
 *   harness_value.c    a JSON value tree that keeps numbers' digits, and
 *                      canonical texts for comparing values
 *   harness_scenario.c the .scn parser (sections, @REPEAT/@SEQ)
 *   harness_expect.c   logical expected rows -> the dialect's tables
 *   harness_compare.c  multiset and order checks, the diff
 *   harness_proc.c     child processes with captured output
 *   harness_config.c   the -c config's options, the plugin's descriptor,
 *                      the generated dray.yml
 *   harness_inputs.c   @REPEAT/@SEQ and the key properties in inputs
 *   harness_run.c      one scenario, step by step
 *   harness_check.c    its tables read back and compared
 *   harness_resources.c the worker's open files and peak memory
 *   harness_util.c     allocation, buffers, files
 *   harness_junit.c    JUnit XML
 *   harness_main.c     options, listing, the loop, the summary
 */
#ifndef DRAY_HARNESS_H
#define DRAY_HARNESS_H

#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "dray/dray_encode.h"

/* ---- small helpers (harness_util.c) ---- */

/* The harness is a command-line tool: running out of memory ends it with
   a message (exit 3) instead of threading -2 through every caller. */
void dray__oom(void) __attribute__((noreturn));
void *dray__xmalloc(size_t n);
void *dray__xcalloc(size_t n, size_t size);
void *dray__xrealloc(void *p, size_t n);
char *dray__xstrdup(const char *s);
char *dray__xstrndup(const char *s, size_t n);
void dray__xadd(struct dray_buf *b, const void *data, size_t n);
void dray__xadds(struct dray_buf *b, const char *s);
void dray__xaddf(struct dray_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reads a whole file; 0, or -1 (errno). */
int dray__read_file(const char *path, struct dray_buf *out);
/* Removes a folder and everything below it. */
void dray__remove_tree(const char *dir);

/* ---- values (harness_value.c) ---- */

enum { HV_NULL, HV_FALSE, HV_TRUE, HV_NUM, HV_STR, HV_OBJ, HV_ARR };

struct hv {
    int t;
    char *s;    /* HV_NUM: the source text; HV_STR: decoded UTF-8 */
    size_t len; /* bytes of s (a string may hold NUL) */
    size_t n;   /* HV_OBJ members, HV_ARR items */
    size_t cap;
    char **keys;   /* HV_OBJ: member names, in order */
    struct hv **v; /* HV_OBJ values, HV_ARR items */
};

/* Parses one JSON text; NULL with a message in err when it is not JSON.
   Numbers keep their source text. */
struct hv *dray__hv_parse(const char *text, size_t len, char *err,
                          size_t errlen);
void dray__hv_free(struct hv *v);
struct hv *dray__hv_new(int t);
struct hv *dray__hv_str(const char *s, size_t n);
struct hv *dray__hv_num(const char *text);
struct hv *dray__hv_dup(const struct hv *v);
/* Member of an object (NULL when absent or v is not an object). */
struct hv *dray__hv_get(const struct hv *v, const char *key);
/* Sets obj's member key to val (replacing, keeping its place), taking
   val. */
void dray__hv_set(struct hv *obj, const char *key, struct hv *val);
/* Appends val to arr, taking it. */
void dray__hv_push(struct hv *arr, struct hv *val);
/* Compact JSON. */
void dray__hv_write(struct dray_buf *out, const struct hv *v);
/* 1 when v is the string "$absent" (the column must not exist). */
int dray__hv_is_absent(const struct hv *v);

/*
 * The canonical text of a value: equal texts mean equal values. Numbers
 * (and strings in JSON number syntax) by their normalised digits, strings
 * that are date-times as instants, objects by their sorted members with
 * nulls left out (null and absent are the same), booleans as the strings
 * "true"/"false" when files is set (CSV has no types). Appends to out.
 */
void dray__hv_canon(struct dray_buf *out, const struct hv *v, int files);

/* Orders two key values as a destination's ORDER BY does: numbers by
   value, date-times by instant, strings of [a-z0-9_] bytewise. Returns
   <0, 0, >0, or 2 when they cannot be compared (other strings, whose
   order depends on a collation; nulls; mixed kinds). */
int dray__hv_order(const struct hv *a, const struct hv *b);

/* ---- scenarios (harness_scenario.c, harness_inputs.c) ---- */

/* [needs] bits. */
#define NEED_UPSERT 0x01u
#define NEED_APPEND 0x02u
#define NEED_READBACK 0x04u
#define NEED_NESTED 0x08u
#define NEED_ACTIVATE 0x10u
#define NEED_REJECTS 0x20u
#define NEED_SPLIT 0x40u
#define NEED_TYPES 0x80u
#define NEED_SPLIT_RENAME 0x100u /* splits, renaming the original column */
#define NEED_SPLIT_KEEP 0x200u   /* splits, the original keeps its name */
#define NEED_LAST NEED_SPLIT_KEEP

/* The name of a need bit ("upsert"), for messages. */
const char *dray__need_name(unsigned bit);

enum { STEP_INPUT, STEP_RUN, STEP_FAULT, STEP_REPLAY, STEP_SEQUENCE };
enum { FAULT_NONE, FAULT_KILL_AT, FAULT_FAIL_AT, FAULT_KILL_RANDOM };

struct scn_step {
    int kind;
    int line;   /* of the section header */
    char *text; /* STEP_INPUT: the lines, macros expanded */
    size_t len;
    int run; /* STEP_INPUT, STEP_REPLAY: run dray run --once after */
    int put_exit;
    int run_exit; /* the expected exit of that dray run */
    int fault;    /* STEP_FAULT: FAULT_* */
    long fault_n;
    long long sequence; /* STEP_SEQUENCE: the spool's last _sdc_sequence */
};

struct scn_expect {
    char *table; /* as written: a stream's name, or a table's */
    int line;
    int empty; /* [expect TABLE empty] */
    struct hv **rows;
    size_t n_rows;
};

struct scn_option {
    char *key, *value;
};

struct scenario {
    char *path;
    char *name; /* the file name without .scn: "001-append-flat" */
    char *desc; /* the description (the leading # lines, joined) */
    unsigned needs;
    int mode; /* -1: the default; DRAY_MODE_UPSERT or _APPEND */
    struct scn_option *options;
    size_t n_options;
    char *config; /* YAML lines for dray.yml; "" when none */
    struct scn_step *steps;
    size_t n_steps;
    struct scn_expect *expects;
    size_t n_expects;
    long expect_rejects; /* -1: not checked */
    char **expect_tables;
    size_t n_expect_tables;
    int has_expect_tables;
    long max_rss_mib; /* [expect-max-rss]: -1 not checked, 0 the default */
    int no_fd_leak;   /* [expect-no-fd-leak] */
};

/* Parses a scenario's text. Returns 0, or -1 with "LINE: what" in err
   (the caller adds the file); -2 when memory runs out. */
int dray__scn_parse(const char *name, const char *text, size_t len,
                    struct scenario *out, char *err, size_t errlen);
/* Reads and parses a file; as dray__scn_parse, err naming the file.
   shallow: @REPEAT/@SEQ are left as written (inputs) or dropped (expected
   rows), for --list, which must not build a 250k-record input per file. */
int dray__scn_load(const char *path, int shallow, struct scenario *out,
                   char *err, size_t errlen);
void dray__scn_release(struct scenario *s);
/* A decimal long in s (n bytes, blanks around allowed); 0 or -1. */
int dray__parse_long(const char *s, size_t n, long *out);
/* Expands @REPEAT(text,count)@ and @SEQ(from,to,template)@ (nested ones
   first) into out. Returns 0, or -1 with a message in err. */
int dray__scn_expand(const char *text, size_t len, struct dray_buf *out,
                     char *err, size_t errlen);
/* The key properties of stream in the scenario's SCHEMA messages (the
   last one wins). Returns 1 when the inputs hold a SCHEMA of stream, else
   0 (*keys NULL, *n 0). Free with dray__strv_free. */
int dray__scn_keys(const struct scenario *s, const char *stream, char ***keys,
                   size_t *n);
void dray__strv_free(char **v, size_t n);
/* 1 when the SCHEMA messages of stream name different key properties (a
   key change, docs/POSTGRES.md), else 0. */
int dray__scn_key_changed(const struct scenario *s, const char *stream);

/* ---- mapping through the dialect (harness_expect.c) ---- */

struct map_opts {
    int ident;             /* DRAY_IDENT_* */
    int nesting;           /* DRAY_NEST_* */
    int native_canon_keys; /* canonicalise names inside nested values */
    char **keys;           /* the stream's key properties (source names) */
    size_t n_keys;
};

/* One destination table's expected rows. */
struct xtable {
    char *name; /* canonical */
    int depth;  /* 0: the root; n: a subtable of n array levels */
    struct hv **rows;
    size_t n, cap;
};

struct xtables {
    struct xtable *t; /* the root first, subtables as met */
    size_t n;
};

/* Maps logical rows of stream (or table) name to the rows each of its
   tables must hold. Returns 0, or -1 with a message in err. */
int dray__map_rows(const struct map_opts *o, const char *name,
                   struct hv *const *rows, size_t n, struct xtables *out,
                   char *err, size_t errlen);
void dray__xtables_release(struct xtables *x);
/* Canonical name of a source name in the dialect, malloc'd (NULL on
   OOM or an unusable name). */
char *dray__canon_name(int ident, const char *name);

/* ---- comparison (harness_compare.c) ---- */

enum { ORDER_NONE, ORDER_COLUMNS, ORDER_SUBTABLE };

struct order_spec {
    int kind;
    char **cols; /* ORDER_COLUMNS: the columns, canonical */
    size_t n;
};

/*
 * Compares a table's expected rows with the rows read back (in the order
 * read). Returns 0 when they match, 1 when not: a one-line what in msg and
 * the diff ("- expected only", "+ actual only") appended to diff; -1 when
 * memory runs out.
 */
/* The order the ABI promises for a table of stream at depth (0: the root)
   in mode (docs/HARNESS.md): ORDER_COLUMNS by the keys (*by_sequence 0)
   or by _sdc_sequence (*by_sequence 1), ORDER_SUBTABLE, or ORDER_NONE:
   appended subtables, streams without a SCHEMA, and upserted streams
   whose key changed (their table is appended to from then on, so rows
   need not follow either key). */
int dray__order_rule(const struct scenario *s, const char *stream, int mode,
                     int depth, int *by_sequence);

int dray__cmp_table(const char *table, struct hv *const *exp, size_t ne,
                    struct hv *const *act, size_t na,
                    const struct order_spec *ord, int files,
                    struct dray_buf *diff, char *msg, size_t msglen);

/* Parses NDJSON rows (one object a line, blank lines skipped). Returns 0,
   or -1 with "line N: what" in err. */
int dray__parse_rows(const char *text, size_t len, struct hv ***rows, size_t *n,
                     char *err, size_t errlen);
void dray__rows_free(struct hv **rows, size_t n);

/* ---- child processes (harness_proc.c) ---- */

struct proc_result {
    int status; /* exit code; 128 + signal when killed */
    int signal; /* the signal that killed it, else 0 */
    int timed_out;
    int stopped; /* stopped because the harness was interrupted */
    struct dray_buf out, err;
};

/*
 * Runs argv[0] (a path) with argv, extra environment entries env
 * ("NAME=value", NULL-terminated, may be NULL), stdin from in_file (NULL:
 * /dev/null), stdout and stderr captured through files in scratch_dir.
 * The child gets its own process group, killed whole after timeout_s.
 * Returns 0 (r filled), -1 when it could not start (errno).
 */
int dray__proc_run(const char *const *argv, const char *const *env,
                   const char *in_file, const char *scratch_dir, int timeout_s,
                   struct proc_result *r);
void dray__proc_release(struct proc_result *r);

/*
 * Interrupts (harness_proc.c). SIGINT and SIGTERM are counted, not fatal:
 * a running command is stopped (its process group: SIGTERM, SIGKILL after
 * a grace period) and no new one starts, so the scenario ends and its
 * cleanup runs. The cleanup calls dray__interrupt_tolerate() first: its
 * commands survive the signals so far, and a second Ctrl-C stops them too.
 */
void dray__interrupt_install(void);
/* The first signal received, else 0. */
int dray__interrupted(void);
void dray__interrupt_tolerate(void);

/* ---- the plugin and the configs (harness_config.c) ---- */

struct plugin_info {
    char *file; /* absolute */
    char *dir;  /* its folder */
    char *name;
    unsigned caps; /* NEED_* bits the plugin can meet */
    int has_upsert, has_append;
    int has_namespaces, has_check;
    char *type_map;
    int ident;           /* DRAY_IDENT_* */
    int nesting;         /* DRAY_NEST_* */
    int files;           /* a files type map: values compare as strings */
    char **path_options; /* options that are paths */
    size_t n_path_options;
};

/* Learns name, capabilities and dialect from `dray plugins --json -v`
   with the plugin's folder as plugin_path. Returns 0, or -1 with why in
   err. */
int dray__plugin_probe(const char *dray, const char *so, const char *scratch,
                       struct plugin_info *pi, char *err, size_t errlen);
void dray__plugin_release(struct plugin_info *pi);

/* The options of conf's first destination whose plugin is plugin (values
   as written, relative path options made absolute). Returns 0, or -1 with
   why in err (unreadable, no such destination, a non-scalar value). */
int dray__conf_options(const char *conf, const struct plugin_info *pi,
                       struct scn_option **opts, size_t *n, char *err,
                       size_t errlen);
void dray__options_free(struct scn_option *o, size_t n);

struct gen_config {
    const struct plugin_info *pi;
    const struct scn_option *base; /* from -c */
    size_t n_base;
    const struct scenario *scn; /* NULL: only the base options */
    int mode;                   /* DRAY_MODE_* */
    const char *ns;             /* NULL: no namespace key */
};

/* Writes the generated dray.yml to path; 0 or -1 (errno). */
int dray__write_config(const char *path, const struct gen_config *g);
/* A YAML double-quoted scalar. */
void dray__yaml_quote(struct dray_buf *out, const char *s);

/* ---- running (harness_run.c) ---- */

enum { RES_OK, RES_FAIL, RES_SKIP };

struct harness {
    const char *dray; /* the dray executable */
    const struct plugin_info *pi;
    const struct scn_option *base;
    size_t n_base;
    int verbose, keep;
    int warned_namespaces;
    long max_rss_mib; /* --max-rss; 0: not given */
    int warned_sanitized;
};

struct result {
    char *name;
    int status;
    char msg[512];
    struct dray_buf diff; /* the diff and the failing command's output */
    double seconds;
};

/* One scenario's run (harness_run.c); the checks (harness_check.c) use
   it with the helpers below. */
struct run_ctx {
    struct harness *h;
    const struct scenario *s;
    struct result *r;
    char dir[PATH_MAX];
    char cfg[PATH_MAX + 16];
    char ns[64];
    int mode;
    int n_inputs;
    char fault_env[64];
    char fault_note[64];
    char stats[PATH_MAX + 16]; /* DRAY_STATS_FILE; "" when not asked */
};

/* Records the scenario's first failure (later ones are dropped). */
void dray__fail(struct run_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Runs dray with args (NULL-terminated), stdin from in, env ("NAME=v",
   NULL-terminated, may be NULL) added; 0 when it ran (pr filled), -1 after
   a failure was recorded. */
int dray__run_dray(struct run_ctx *c, const char *const *args, const char *in,
                   const char *const *env, struct proc_result *pr);
/* 0 when pr exited want; else records the failure (what, the status, the
   last stderr line; the output into the diff) and returns -1. */
int dray__expect_exit(struct run_ctx *c, const char *what,
                      struct proc_result *pr, int want);
/* `dray __plugin-op ... OP NS [TABLE]`. */
int dray__plugin_op(struct run_ctx *c, const char *op, const char *table,
                    struct proc_result *pr);
/* The checks after the steps. */
void dray__run_checks(struct run_ctx *c);

/* ---- the worker's resources (harness_resources.c) ---- */

/* The bound of [expect-max-rss] when neither the scenario nor --max-rss
   names one. */
#define DEFAULT_MAX_RSS_MIB 64

/* One line of DRAY_STATS_FILE: what a worker held after a load. */
struct load_stat {
    long pid, load, fds, rss_kb, hwm_kb;
    int asan; /* the worker is built with AddressSanitizer */
};

/* Parses the stats file's lines. Returns 0, or -1 with "line N: what" in
   err. */
int dray__parse_stats(const char *text, size_t len, struct load_stat **out,
                      size_t *n, char *err, size_t errlen);
/* 0 when every worker's peak (VmHWM) is at most bound_mib; else 1 with a
   one-line what in msg and the worst worker's lines in diff. */
int dray__check_max_rss(const struct load_stat *s, size_t n, long bound_mib,
                        struct dray_buf *diff, char *msg, size_t msglen);
/* 0 when no worker holds more open fds after its last load than after
   its first; else 1 with msg and diff. At least one worker must have
   loaded two batches, or there is nothing to compare (1 too). */
int dray__check_fd_leak(const struct load_stat *s, size_t n,
                        struct dray_buf *diff, char *msg, size_t msglen);
/* The scenario's [expect-max-rss] and [expect-no-fd-leak], from c->stats. */
void dray__run_resource_checks(struct run_ctx *c);

/* Runs one scenario (loaded already). */
void dray__run_scenario(struct harness *h, const struct scenario *s,
                        struct result *r);
/* The needs the plugin lacks, as " upsert nested"; "" when none. */
void dray__missing_needs(const struct plugin_info *pi, const struct scenario *s,
                         char *out, size_t outlen);

/* ---- JUnit (harness_junit.c) ---- */

int dray__junit_write(const char *path, const char *suite,
                      const struct result *r, size_t n);

#endif /* DRAY_HARNESS_H */

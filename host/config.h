/*
 * config.h - the operator's YAML config, parsed and checked for shape.
 *
 * config_load() reads the file, expands ${VAR} in every string value and
 * checks the structure (known keys, types, names, references between
 * sections). It does not know plugins: checking a destination's options
 * against its plugin's option table is cmd_check's job, through options.h.
 * Every node remembers its line and column for messages.
 */
#ifndef DRAY_HOST_CONFIG_H
#define DRAY_HOST_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct config_mark {
    int line;   /* 1-based; 0 when unknown */
    int column; /* 1-based */
};

/* One destination option as written: a scalar, already env-expanded. */
struct config_option {
    char *name;
    char *value;
    struct config_mark mark; /* of the value */
};

struct config_destination {
    char *name;
    char *plugin;
    int mode; /* DRAY_MODE_*, or -1 when not given */
    char *ns; /* 'namespace': every batch loads there; NULL: the plugin's */
    struct config_option *options;
    size_t n_options;
    struct config_mark mark;        /* of the list item */
    struct config_mark plugin_mark; /* of the plugin value */
    struct config_mark mode_mark;   /* of the mode value */
    struct config_mark ns_mark;     /* of the namespace value */
};

struct config_route {
    char *integration;
    char **destinations;
    size_t n_destinations;
    struct config_mark mark;
};

/* spool.on_full: what 'dray put' does when spool.max_bytes is reached. */
enum { CONFIG_ON_FULL_WAIT = 0, CONFIG_ON_FULL_FAIL = 1 };

/* on_invalid: what the gate does with a value of another type than the
   schema declares. */
enum {
    CONFIG_INVALID_SPLIT = 0,  /* keep it; it loads into a split column */
    CONFIG_INVALID_REJECT = 1, /* store the record as rejected */
    CONFIG_INVALID_FAIL = 2    /* stop: bad input */
};

/* Defaults of the 'batch' section. */
#define CONFIG_BATCH_MAX_BYTES ((uint64_t)64 * 1024 * 1024)
#define CONFIG_BATCH_MAX_RECORDS ((uint64_t)1000000)
#define CONFIG_BATCH_MAX_AGE_MS ((int64_t)5 * 60 * 1000)

/* The 'run' section: how 'dray run' and 'dray target' load. */
struct config_run {
    int64_t concurrency;      /* loads at once per destination */
    int64_t batch_timeout_ms; /* a load taking longer is killed */
    int64_t crash_limit;      /* worker deaths before a batch is poison */
    int64_t grace_ms;         /* in-flight loads may finish after SIGTERM */
    int64_t poll_ms;          /* how often the spool is looked at when idle */
    int64_t retry_attempts;   /* retryable failures before quarantine */
    int64_t retry_initial_ms; /* first back-off */
    int64_t retry_max_ms;     /* longest back-off */
};

struct config_integration {
    char *name;
    int on_invalid; /* CONFIG_INVALID_* */
    struct config_mark mark;
};

struct config {
    char *path;         /* the file as given */
    char *dir;          /* absolute folder of the file; relative paths in the
                           file resolve against it */
    char *spool_path;   /* absolute; default <dir>/spool */
    char **plugin_path; /* absolute folders, in the order given */
    size_t n_plugin_path;
    struct config_destination *destinations;
    size_t n_destinations;
    struct config_route *routes; /* empty: every integration everywhere */
    size_t n_routes;
    uint64_t spool_max_bytes; /* 0: no limit */
    int spool_on_full;        /* CONFIG_ON_FULL_* */
    uint64_t batch_max_bytes;
    uint64_t batch_max_records;
    int64_t batch_max_age_ms;
    struct config_integration *integrations; /* only those written */
    size_t n_integrations;
    struct config_run run;
    int64_t keep_loaded_ms;           /* spool.keep_loaded: 0 deletes at once */
    int64_t target_state_interval_ms; /* target.state_interval */
};

/*
 * Loads and checks path. On success returns 0 and fills *out (release it
 * with config_release). On failure returns -1 and writes one line, without
 * a trailing newline, to errbuf: "FILE:LINE:COLUMN: what is wrong", naming
 * the fix where there is one.
 */
int config_load(const char *path, struct config *out, char *errbuf,
                size_t errlen);

void config_release(struct config *cfg);

/* The destination named name, or NULL. */
const struct config_destination *config_destination(const struct config *cfg,
                                                    const char *name);

/* The settings of integration name, or NULL when the config has none. */
const struct config_integration *config_integration(const struct config *cfg,
                                                    const char *name);

/* The on_invalid of integration name (CONFIG_INVALID_SPLIT by default). */
int config_on_invalid(const struct config *cfg, const char *name);

/* Integration names: [A-Za-z0-9_.-]+. */
int config_is_integration_name(const char *s);

/* Namespaces ('namespace' of a destination, the harness's): [a-z0-9_],
   1 to 63 characters. */
int config_is_namespace(const char *s);

/*
 * Which config file a command uses: the -c argument if given, else
 * $DRAY_CONFIG, else ./dray.yml. Returns a pointer into its arguments or the
 * environment, or the literal "dray.yml".
 */
const char *config_default_path(const char *arg);
/* ms as the config writes durations: "30m", "1500ms". Returns buf. */
const char *config_duration_str(int64_t ms, char buf[32]);

#endif

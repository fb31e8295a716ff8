/*
 * options.h - a plugin's option table as the host keeps it, and typed,
 * checked option values for one destination.
 */
#ifndef DRAY_HOST_OPTIONS_H
#define DRAY_HOST_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "strbuf.h"

/* A host-owned copy of one dray_option. */
struct opt_spec {
    char *name;
    int32_t type;   /* DRAY_OPT_* */
    uint32_t flags; /* DRAY_OPTF_* */
    char *default_value;
    char **enum_values; /* n_enum_values entries */
    size_t n_enum_values;
    int64_t min, max;
    char *description;
};

/* One option's value for one destination. */
struct opt_value {
    const struct opt_spec *spec;
    int set;          /* configured or defaulted */
    int from_default; /* the value is the spec's default */
    char *text;       /* as written (or the default text) */
    int64_t i64;      /* INT, SIZE (bytes), DURATION (ms), BOOL (0/1) */
    double f64;       /* FLOAT */
    struct config_mark mark;
};

const char *opt_type_name(int32_t type);

/*
 * Parses text as a value of spec's type into out (i64/f64). Returns 0, or -1
 * with a reason in err that does not repeat the text (it may be secret),
 * e.g. "expected a size such as 512MiB".
 */
int opt_parse(const struct opt_spec *spec, const char *text,
              struct opt_value *out, struct strbuf *err);

/*
 * Checks a destination's options against specs: unknown names (with a
 * suggestion), required ones missing, values of the wrong type or range.
 * Appends one line per problem to errors ("FILE:L:C: destination 'x': ...")
 * and returns their count. Relative values of DRAY_OPTF_PATH options are
 * joined to base_dir (when not NULL). On 0 it sets *values to an array of
 * n_specs values, one per spec in order (release with opt_values_free).
 */
int opt_bind(const struct opt_spec *specs, size_t n_specs,
             const struct config_destination *dest, const char *file,
             const char *base_dir, struct opt_value **values,
             struct strbuf *errors);

void opt_values_free(struct opt_value *values, size_t n);

/* The value as it may be shown: secrets as "********", the password in a
   connection string masked. Malloc'd. */
char *opt_display(const struct opt_spec *spec, const char *text);

/* Masks passwords in a libpq key=value string or URI. Malloc'd. */
char *opt_mask_conninfo(const char *conninfo);

/* Appends "FILE:L:C: " (or "FILE: " without a line) to errors. */
void opt_add_location(struct strbuf *errors, const char *file,
                      struct config_mark mark);

#endif

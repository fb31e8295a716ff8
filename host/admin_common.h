/*
 * admin_common.h - what dray status, requeue and quarantine share: the
 * config and the spool opened read-mostly, batch ids taken from the
 * command line, and destination names checked against the config and the
 * spool.
 */
#ifndef DRAY_HOST_ADMIN_COMMON_H
#define DRAY_HOST_ADMIN_COMMON_H

#include <stddef.h>

#include "cli.h"
#include "config.h"
#include "spool.h"

struct admin {
    struct config cfg;
    struct spool sp;
    int have_spool; /* 0: the spool folder does not exist (yet) */
};

/*
 * Loads the config (required) and opens its spool without creating it.
 * Returns EXITCODE_OK, or the exit code after printing the error.
 */
int admin_open(const struct command *cmd, const char *config_arg,
               struct admin *a);
void admin_close(struct admin *a);

/* The spool's folder, for messages (absolute once opened). */
const char *admin_spool_path(const struct admin *a);

/*
 * The batch id in arg: an id, "<id>.batch" or a path ending in it.
 * Returns it malloc'd, or NULL when arg cannot name a batch (it is never
 * used to build a path then).
 */
char *admin_batch_id(const char *arg);

/* Whether the batch's file is in batches/. */
int admin_batch_exists(const struct admin *a, const char *id);

/*
 * Whether name is a destination to act on: one of the config's, or one
 * the spool still has a folder for (removed from the config). Otherwise
 * prints a usage error naming the config's destinations and returns 0.
 */
int admin_check_destination(const struct command *cmd, const struct admin *a,
                            const char *name);

/*
 * Every destination worth looking at for a batch: the config's in config
 * order, then those the spool has a folder for, sorted. *out is malloc'd;
 * the names point into cfg or are malloc'd (free with admin_names_free).
 */
size_t admin_destinations(const struct admin *a, char ***out);
void admin_names_free(char **names, size_t n);

/* The destinations the batch is quarantined at, as admin_destinations. */
size_t admin_quarantined_at(const struct admin *a, const char *id, char ***out);

#endif

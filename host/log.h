/* log.h - the host's diagnostics on stderr: "dray: <level>: message". */
#ifndef DRAY_HOST_LOG_H
#define DRAY_HOST_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "dray/dray_plugin.h"

/* Messages above this level (DRAY_LOG_*) are dropped. Default: WARN, or
   $DRAY_LOG_LEVEL (error, warn, info, debug, trace). */
void log_set_level(int32_t level);
int32_t log_level(void);
/* Parses a level name; -1 when unknown. */
int32_t log_level_parse(const char *name);
void log_init_from_env(void);

/* How lines look: "dray: warn: message" (the default), or one JSON object
   a line, {"level":"warn","msg":"message"}. */
enum { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 };
void log_set_format(int format);
int log_format(void);
/* Parses "text" or "json"; -1 when unknown. */
int log_format_parse(const char *name);

/*
 * A line that is a command's output rather than a diagnostic (a summary,
 * the error that ends a run): never filtered by level, written as it is in
 * the text format (it carries its own prefix) and as a JSON object in the
 * JSON format. Line breaks become spaces: one message, one line.
 */
void log_report(int32_t level, const char *fmt, ...) DRAY_PRINTF(2, 3);

/* who is a prefix such as "destination 'lake' (s3)", or NULL. */
void log_vmsg(int32_t level, const char *who, const char *fmt, va_list ap);
void log_msg(int32_t level, const char *fmt, ...) DRAY_PRINTF(2, 3);
/* msg is len bytes of plain text, not a format. */
void log_msg_who(int32_t level, const char *who, const char *msg, size_t len);

#define log_error(...) log_msg(DRAY_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(DRAY_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(DRAY_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(DRAY_LOG_DEBUG, __VA_ARGS__)

#endif

/* Host logging. One lock keeps lines from different threads whole. */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "strbuf.h"

static int32_t current_level = DRAY_LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warn", "info", "debug",
                                          "trace"};

void log_set_level(int32_t level)
{
    current_level = level;
}

int32_t log_level(void)
{
    return current_level;
}

int32_t log_level_parse(const char *name)
{
    for (int32_t i = 0; i <= DRAY_LOG_TRACE; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return DRAY_LOG_WARN;
    return -1;
}

void log_init_from_env(void)
{
    const char *v = getenv("DRAY_LOG_LEVEL");
    int32_t level;

    if (v == NULL || *v == '\0')
        return;
    level = log_level_parse(v);
    if (level < 0) {
        fprintf(stderr,
                "dray: warn: DRAY_LOG_LEVEL '%s' is not a level; use error, "
                "warn, info, debug or trace\n",
                v);
        return;
    }
    current_level = level;
}

static void log_msg_fmt(int32_t level, const char *who, const char *fmt, ...)
    DRAY_PRINTF(3, 4);

void log_vmsg(int32_t level, const char *who, const char *fmt, va_list ap)
{
    struct strbuf sb = STRBUF_INIT;

    if (level > current_level)
        return;
    if (level < DRAY_LOG_ERROR)
        level = DRAY_LOG_ERROR;
    if (level > DRAY_LOG_TRACE)
        level = DRAY_LOG_TRACE;
    strbuf_addf(&sb, "dray: %s: ", level_names[level]);
    if (who)
        strbuf_addf(&sb, "%s: ", who);
    strbuf_vaddf(&sb, fmt, ap);
    /* Keep one message on one line whatever a plugin sends. */
    for (size_t i = 0; i < sb.len; i++)
        if (sb.buf[i] == '\n' || sb.buf[i] == '\r')
            sb.buf[i] = ' ';
    strbuf_addch(&sb, '\n');
    pthread_mutex_lock(&log_lock);
    fputs(sb.buf, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
    strbuf_release(&sb);
}

static void log_vmsg_s(int32_t level, const char *who, const char *text)
{
    log_msg_fmt(level, who, "%s", text);
}

void log_msg(int32_t level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, NULL, fmt, ap);
    va_end(ap);
}

void log_msg_who(int32_t level, const char *who, const char *msg, size_t len)
{
    struct strbuf sb = STRBUF_INIT;

    if (level > current_level)
        return;
    strbuf_add(&sb, msg, len);
    /* Through "%s" so that a '%' in msg is text, not a directive. */
    log_vmsg_s(level, who, sb.buf);
    strbuf_release(&sb);
}

static void log_msg_fmt(int32_t level, const char *who, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, who, fmt, ap);
    va_end(ap);
}

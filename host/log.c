/* Host logging. One lock keeps lines from different threads whole. */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dray/dray_json.h"
#include "strbuf.h"

static int32_t current_level = DRAY_LOG_WARN;
static int current_format = LOG_FORMAT_TEXT;
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

void log_set_format(int format)
{
    current_format = format;
}

int log_format(void)
{
    return current_format;
}

int log_format_parse(const char *name)
{
    if (strcmp(name, "text") == 0)
        return LOG_FORMAT_TEXT;
    if (strcmp(name, "json") == 0)
        return LOG_FORMAT_JSON;
    return -1;
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

/* Keeps one message on one line whatever a plugin sends. */
static void one_line(struct strbuf *sb)
{
    for (size_t i = 0; i < sb->len; i++)
        if (sb->buf[i] == '\n' || sb->buf[i] == '\r')
            sb->buf[i] = ' ';
}

static void emit(struct strbuf *line)
{
    strbuf_addch(line, '\n');
    pthread_mutex_lock(&log_lock);
    fputs(line->buf, stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

/* {"level":"warn","msg":"..."}: text is the message, already one line. */
static void emit_json(int32_t level, const char *text, size_t len)
{
    struct dray_buf b = DRAY_BUF_INIT;
    struct dray_sink sink;
    struct strbuf line = STRBUF_INIT;

    dray_sink_to_buf(&sink, &b);
    strbuf_addf(&line, "{\"level\":\"%s\",\"msg\":", level_names[level]);
    /* Only out of memory fails; the line then carries an empty message. */
    if (dray_json_write_string(&sink, text, len) == 0)
        strbuf_add(&line, b.data, b.len);
    else
        strbuf_adds(&line, "\"\"");
    strbuf_addch(&line, '}');
    emit(&line);
    strbuf_release(&line);
    dray_buf_release(&b);
}

static int32_t clamp_level(int32_t level)
{
    if (level < DRAY_LOG_ERROR)
        return DRAY_LOG_ERROR;
    return level > DRAY_LOG_TRACE ? DRAY_LOG_TRACE : level;
}

void log_vmsg(int32_t level, const char *who, const char *fmt, va_list ap)
{
    struct strbuf sb = STRBUF_INIT;
    size_t start;

    if (level > current_level)
        return;
    level = clamp_level(level);
    if (current_format == LOG_FORMAT_TEXT)
        strbuf_addf(&sb, "dray: %s: ", level_names[level]);
    start = sb.len;
    if (who)
        strbuf_addf(&sb, "%s: ", who);
    strbuf_vaddf(&sb, fmt, ap);
    one_line(&sb);
    if (current_format == LOG_FORMAT_JSON)
        emit_json(level, sb.buf + start, sb.len - start);
    else
        emit(&sb);
    strbuf_release(&sb);
}

void log_report(int32_t level, const char *fmt, ...)
{
    struct strbuf sb = STRBUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    one_line(&sb);
    if (current_format == LOG_FORMAT_JSON)
        emit_json(clamp_level(level), sb.buf, sb.len);
    else
        emit(&sb);
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

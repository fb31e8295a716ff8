/* strbuf.h - a growable NUL-terminated byte string. Allocation failure
   aborts through xmalloc: the host has no sensible way on without memory. */
#ifndef DRAY_HOST_STRBUF_H
#define DRAY_HOST_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "dray/dray_plugin.h"

struct strbuf {
    char *buf; /* always NUL-terminated once anything was added */
    size_t len;
    size_t cap;
};

#define STRBUF_INIT                                                            \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) DRAY_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* The contents, never NULL ("" when empty). */
const char *strbuf_str(const struct strbuf *sb);
/* Hands the buffer to the caller (malloc'd, never NULL) and resets sb. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* xstrdup of NULL is NULL. */
char *xstrdup_or_null(const char *s);
char *xasprintf(const char *fmt, ...) DRAY_PRINTF(1, 2);

#endif

/* Internal to the encoders of libdray_sdk.a (dray_encode.h). */
#ifndef DRAY_ENCODE_INTERNAL_H
#define DRAY_ENCODE_INTERNAL_H

#include "dray/dray_encode.h"

/*
 * Staging for the text encoders: a row's bytes collect in a fixed buffer
 * on the caller's stack and go to the sink when it fills and at the end.
 * A row that fits is one sink write; a 20 MB value needs no heap at all.
 * The first sink error sticks: later puts do nothing and return it.
 */
#define DRAY__STAGE_CAP 8192

struct dray__stage {
    struct dray_sink *sink;
    int rc;
    size_t len;
    char buf[DRAY__STAGE_CAP];
};

void dray__stage_init(struct dray__stage *st, struct dray_sink *sink);
int dray__stage_put(struct dray__stage *st, const void *data, size_t len);
int dray__stage_flush(struct dray__stage *st);

/* Writes s (n bytes) with each byte for which esc() fills out (returning
   its length) replaced by that text; esc() returns 0 to keep the byte. */
typedef size_t (*dray__escape_fn)(unsigned char c, char out[8]);
int dray__stage_put_escaped(struct dray__stage *st, const char *s, size_t n,
                            dray__escape_fn esc);

static inline int dray__stage_putc(struct dray__stage *st, char c)
{
    if (st->len == DRAY__STAGE_CAP && dray__stage_flush(st) != 0)
        return st->rc;
    if (st->rc == 0)
        st->buf[st->len++] = c;
    return st->rc;
}

/* A field's text; a NULL text pointer reads as "". */
static inline const char *dray__field_text(const struct dray_field *f)
{
    return f->text ? f->text : "";
}

static inline size_t dray__field_len(const struct dray_field *f)
{
    return f->text ? f->len : 0;
}

#endif

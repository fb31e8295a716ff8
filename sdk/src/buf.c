/* Growable byte buffers and the sink that appends to one. */
#include "dray/dray_encode.h"

#include <stdlib.h>
#include <string.h>

int dray_buf_reserve(struct dray_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1; /* room for the NUL kept after data */
    size_t cap;
    char *p;

    if (need < b->len)
        return -2;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (p == NULL)
        return -2;
    b->data = p;
    b->cap = cap;
    return 0;
}

int dray_buf_add(struct dray_buf *b, const void *data, size_t len)
{
    if (dray_buf_reserve(b, len) != 0)
        return -2;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int dray_buf_addc(struct dray_buf *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return 0;
    }
    return dray_buf_add(b, &c, 1);
}

void dray_buf_reset(struct dray_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void dray_buf_release(struct dray_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int buf_sink_write(void *ctx, const void *data, size_t len)
{
    return dray_buf_add(ctx, data, len);
}

void dray_sink_to_buf(struct dray_sink *sink, struct dray_buf *buf)
{
    sink->write = buf_sink_write;
    sink->close = NULL;
    sink->ctx = buf;
}

/*
 * Buffering in front of a sink: the dray_bufsink stage, and the stack
 * staging the text encoders write a row through (encode_internal.h).
 */
#include "encode_internal.h"

#include <string.h>

/* ---- staging ------------------------------------------------------------ */

void dray__stage_init(struct dray__stage *st, struct dray_sink *sink)
{
    st->sink = sink;
    st->rc = 0;
    st->len = 0;
}

int dray__stage_flush(struct dray__stage *st)
{
    int rc;

    if (st->rc != 0 || st->len == 0)
        return st->rc;
    rc = st->sink->write(st->sink->ctx, st->buf, st->len);
    st->len = 0;
    if (rc != 0)
        st->rc = rc;
    return st->rc;
}

int dray__stage_put(struct dray__stage *st, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0 && st->rc == 0) {
        size_t room = DRAY__STAGE_CAP - st->len;
        size_t take = len < room ? len : room;

        memcpy(st->buf + st->len, p, take);
        st->len += take;
        p += take;
        len -= take;
        if (st->len == DRAY__STAGE_CAP)
            dray__stage_flush(st);
    }
    return st->rc;
}

int dray__stage_put_escaped(struct dray__stage *st, const char *s, size_t n,
                            dray__escape_fn esc)
{
    size_t run = 0; /* start of the bytes not yet put */
    char out[8];

    for (size_t i = 0; i < n && st->rc == 0; i++) {
        size_t k = esc((unsigned char)s[i], out);

        if (k == 0)
            continue;
        dray__stage_put(st, s + run, i - run);
        dray__stage_put(st, out, k);
        run = i + 1;
    }
    return dray__stage_put(st, s + run, n - run);
}

/* ---- dray_bufsink ------------------------------------------------------- */

static int bufsink_flush(struct dray_bufsink *bs)
{
    int rc;

    if (bs->buf.len == 0)
        return 0;
    rc = bs->next.write(bs->next.ctx, bs->buf.data, bs->buf.len);
    if (rc == 0)
        dray_buf_reset(&bs->buf);
    return rc;
}

static int bufsink_write(void *ctx, const void *data, size_t len)
{
    struct dray_bufsink *bs = ctx;
    const char *p = data;
    size_t fill;
    int rc;

    if (len == 0)
        return 0;
    /* The buffer reaches chunk anyway: take the room at once. */
    if (bs->buf.cap == 0 && bs->chunk > 0 &&
        dray_buf_reserve(&bs->buf, bs->chunk) != 0)
        return -2;
    if (bs->buf.len + len < bs->chunk)
        return dray_buf_add(&bs->buf, p, len);
    if (bs->buf.len > 0) {
        /* Top the buffer up to one whole chunk and pass it on. */
        fill = bs->chunk - bs->buf.len;
        if (dray_buf_add(&bs->buf, p, fill) != 0)
            return -2;
        p += fill;
        len -= fill;
        rc = bufsink_flush(bs);
        if (rc != 0)
            return rc;
    }
    if (len >= bs->chunk)
        return bs->next.write(bs->next.ctx, p, len); /* no copy needed */
    return dray_buf_add(&bs->buf, p, len);
}

static int bufsink_close(void *ctx)
{
    struct dray_bufsink *bs = ctx;
    int rc = bufsink_flush(bs);
    int crc = 0;

    /* next is closed even after a failed flush so it can let go of what
       it holds; the first error is the one reported. */
    if (bs->next.close)
        crc = bs->next.close(bs->next.ctx);
    return rc != 0 ? rc : crc;
}

void dray_bufsink_init(struct dray_bufsink *bs, struct dray_sink next,
                       size_t chunk, struct dray_sink *out)
{
    struct dray_buf empty = DRAY_BUF_INIT;

    bs->next = next;
    bs->buf = empty;
    bs->chunk = chunk;
    out->write = bufsink_write;
    out->close = bufsink_close;
    out->ctx = bs;
}

void dray_bufsink_release(struct dray_bufsink *bs)
{
    dray_buf_release(&bs->buf);
}

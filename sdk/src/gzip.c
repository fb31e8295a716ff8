/*
 * The gzip stage: zlib's deflate with the gzip wrapper, fed as bytes
 * arrive. Memory stays bounded by zlib's state and one output block; the
 * output goes on to next a block at a time.
 */
#include "dray/dray_encode.h"

#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

#define GZIP_OUT_CAP 16384
#define GZIP_WINDOW (15 + 16) /* 32 KiB window; +16 asks for gzip framing */
#define GZIP_MEMLEVEL 8

struct dray_gzip {
    z_stream zs;
    struct dray_sink next;
    int rc;     /* first error: the stream is finished or broken */
    int closed; /* the trailer was written */
    unsigned char out[GZIP_OUT_CAP];
};

/* Passes the finished part of out to next and makes room again. */
static int gzip_drain(struct dray_gzip *gz)
{
    size_t have = GZIP_OUT_CAP - gz->zs.avail_out;
    int rc;

    gz->zs.next_out = gz->out;
    gz->zs.avail_out = GZIP_OUT_CAP;
    if (have == 0)
        return 0;
    rc = gz->next.write(gz->next.ctx, gz->out, have);
    if (rc != 0)
        gz->rc = rc;
    return rc;
}

static int gzip_write(void *ctx, const void *data, size_t len)
{
    struct dray_gzip *gz = ctx;
    const unsigned char *p = data;

    if (gz->rc != 0)
        return gz->rc;
    if (gz->closed)
        return -1;
    while (len > 0) {
        /* avail_in is an unsigned int: feed huge writes in slices. */
        uInt take = len > UINT_MAX ? UINT_MAX : (uInt)len;

        gz->zs.next_in = (Bytef *)p;
        gz->zs.avail_in = take;
        while (gz->zs.avail_in > 0) {
            if (deflate(&gz->zs, Z_NO_FLUSH) == Z_STREAM_ERROR) {
                gz->rc = -1;
                return -1;
            }
            if (gz->zs.avail_out == 0 && gzip_drain(gz) != 0)
                return gz->rc;
        }
        p += take;
        len -= take;
    }
    return 0;
}

static int gzip_finish(struct dray_gzip *gz)
{
    int zrc;

    gz->zs.next_in = NULL;
    gz->zs.avail_in = 0;
    do {
        zrc = deflate(&gz->zs, Z_FINISH);
        if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR) {
            gz->rc = -1;
            return -1;
        }
        if ((gz->zs.avail_out == 0 || zrc == Z_STREAM_END) &&
            gzip_drain(gz) != 0)
            return gz->rc;
    } while (zrc != Z_STREAM_END);
    return 0;
}

static int gzip_close(void *ctx)
{
    struct dray_gzip *gz = ctx;
    int rc = gz->rc;
    int crc = 0;

    if (gz->closed)
        return rc;
    gz->closed = 1;
    if (rc == 0)
        rc = gzip_finish(gz);
    /* next is closed even after an error so it can let go of what it
       holds; the first error is the one reported. */
    if (gz->next.close)
        crc = gz->next.close(gz->next.ctx);
    return rc != 0 ? rc : crc;
}

int dray_gzip_open(struct dray_gzip **out_gz, struct dray_sink next, int level,
                   struct dray_sink *out)
{
    struct dray_gzip *gz;
    int zrc;

    *out_gz = NULL;
    if (level != Z_DEFAULT_COMPRESSION && (level < 0 || level > 9))
        return -1;
    gz = calloc(1, sizeof(*gz));
    if (gz == NULL)
        return -2;
    /* zalloc, zfree and opaque are Z_NULL from calloc: zlib's malloc. */
    zrc = deflateInit2(&gz->zs, level, Z_DEFLATED, GZIP_WINDOW, GZIP_MEMLEVEL,
                       Z_DEFAULT_STRATEGY);
    if (zrc != Z_OK) {
        free(gz);
        return zrc == Z_MEM_ERROR ? -2 : -1;
    }
    gz->next = next;
    gz->zs.next_out = gz->out;
    gz->zs.avail_out = GZIP_OUT_CAP;
    *out_gz = gz;
    out->write = gzip_write;
    out->close = gzip_close;
    out->ctx = gz;
    return 0;
}

void dray_gzip_free(struct dray_gzip *gz)
{
    if (gz == NULL)
        return;
    deflateEnd(&gz->zs);
    free(gz);
}

/* spool_internal.h - shared by spool_dir.c, spool_write.c, spool_read.c. */
#ifndef DRAY_HOST_SPOOL_INTERNAL_H
#define DRAY_HOST_SPOOL_INTERNAL_H

#include <stdint.h>

#include "spool.h"

/* File layout (docs/SPOOL.md):
     "DRAYBAT1" | u32 header length | header JSON
     records: u32 frame length | frame
     footer JSON | u32 footer length | u32 crc32 | "DRAYEND1"
   The crc covers every byte before it. Integers are little-endian. */
#define SPOOL_MAGIC "DRAYBAT1"
#define SPOOL_END "DRAYEND1"
#define SPOOL_TRAILER 16 /* footer length, crc, end magic */

/* Frame: u8 flags | u8 has_extracted | u8 has_pk | u8 0 | i64 received_at
   | [u16 len + extracted_at] | [u16 len + primary key] | [u32 len +
   reason] | JSON (the rest). Optional texts are stored with their NUL and
   their lengths count it. */
#define SPOOL_FRAME_FIXED 12

static inline void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The 16 hex digits that name a stream in batch ids and lock files. */
void spool_stream_hash(const char *integration, const char *stream,
                       char out[17]);
/* fsyncs a folder so a rename in it is durable. */
int spool_sync_dir(const char *path);
int64_t spool_now_us(void);
/* "<base>.<pid>-<random>.tmp", malloc'd: unique even between processes of
   the same pid in different containers sharing a spool. */
char *spool_tmp_name(const char *base);
/* Writes all of data; a short write is retried, so errno afterwards is
   the real cause of a failure. 0 or -1. */
int spool_write_all(int fd, const void *data, size_t len);

/* In spool_dest.c: dest/<destination>/<kind> (malloc'd; made when make
   is set); a small file written whole (temporary name, rename: readers see
   the old text or the new) and, when durable, fsynced with its folder so
   a power loss keeps it too; its text read back (malloc'd, NULL when
   absent). Acks and quarantines are durable; counters are not: a process
   crash keeps them (the page cache survives it), a power loss may set
   them back, which costs a retry's back-off, never data. */
char *spool_dest_dir(const struct spool *sp, const char *destination,
                     const char *kind, int make);
int spool_write_marker(const char *dir, const char *name, const char *text,
                       int durable, struct strbuf *err);
char *spool_read_marker(const char *dir, const char *name);

#endif

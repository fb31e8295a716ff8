/*
 * Reading a batch: the whole file is checked first (end mark, checksum,
 * footer, header), so a damaged batch is refused before a single record
 * reaches a destination; then records stream through a buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "dray/dray_json.h"
#include "spool_internal.h"

#define READ_CHUNK (256 * 1024)

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    size_t done = 0;

    while (done < n) {
        ssize_t r =
            pread(fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* The crc of bytes [0, n) of the file. */
static int file_crc(int fd, uint64_t n, uint32_t *out)
{
    unsigned char *buf = xmalloc(READ_CHUNK);
    uint32_t crc = (uint32_t)crc32(0, Z_NULL, 0);
    uint64_t off = 0;
    int rc = 0;

    while (off < n) {
        size_t k = n - off < READ_CHUNK ? (size_t)(n - off) : READ_CHUNK;
        if (pread_all(fd, buf, k, off) != 0) {
            rc = -1;
            break;
        }
        crc = (uint32_t)crc32(crc, buf, (uInt)k);
        off += k;
    }
    free(buf);
    *out = crc;
    return rc;
}

/* The strings of array token a of doc, malloc'd. */
static char **strings(const struct dray_json_doc *doc, int32_t a, size_t *n)
{
    struct dray_buf buf = DRAY_BUF_INIT;
    char **out;

    *n = 0;
    if (a < 0 || doc->tok[a].type != DRAY_JSON_ARRAY)
        return xcalloc(1, sizeof(char *));
    out = xcalloc(doc->tok[a].count + 1, sizeof(char *));
    for (uint32_t i = (uint32_t)a + 1; i < doc->tok[a].end;
         i = doc->tok[i].end) {
        dray_buf_reset(&buf);
        if (doc->tok[i].type == DRAY_JSON_STRING &&
            dray_json_string(doc, i, &buf) == 0)
            out[(*n)++] = xstrdup(buf.data ? buf.data : "");
    }
    dray_buf_release(&buf);
    return out;
}

static char *string_member(const struct dray_json_doc *doc, const char *name)
{
    struct dray_buf buf = DRAY_BUF_INIT;
    int32_t v = dray_json_get(doc, 0, name, strlen(name));
    char *out = NULL;

    if (v >= 0 && doc->tok[v].type == DRAY_JSON_STRING &&
        dray_json_string(doc, (uint32_t)v, &buf) == 0)
        out = xstrdup(buf.data ? buf.data : "");
    dray_buf_release(&buf);
    return out;
}

static int corrupt(struct strbuf *err, const char *file, const char *what)
{
    strbuf_addf(err,
                "batch '%s' is damaged (%s); it is kept for "
                "inspection and never loaded",
                file, what);
    return -1;
}

static int read_footer(struct spool_batch *b, int fd, int verify,
                       struct strbuf *err)
{
    unsigned char tail[SPOOL_TRAILER];
    uint32_t flen, crc, want;
    char *text;
    json_t *f;
    json_error_t jerr;

    if (b->size < 8 + 4 + SPOOL_TRAILER)
        return corrupt(err, b->file, "too short");
    if (pread_all(fd, tail, sizeof(tail), b->size - SPOOL_TRAILER) != 0)
        return corrupt(err, b->file, "cannot read its end");
    if (memcmp(tail + 8, SPOOL_END, 8) != 0)
        return corrupt(err, b->file, "no end mark: incomplete");
    flen = get_u32(tail);
    want = get_u32(tail + 4);
    if ((uint64_t)flen + SPOOL_TRAILER + 12 > b->size)
        return corrupt(err, b->file, "bad footer length");
    if (verify && file_crc(fd, b->size - 12, &crc) != 0)
        return corrupt(err, b->file, "cannot read it");
    if (verify && crc != want)
        return corrupt(err, b->file, "checksum mismatch");
    text = xmalloc(flen + 1);
    if (pread_all(fd, text, flen, b->size - SPOOL_TRAILER - flen) != 0) {
        free(text);
        return corrupt(err, b->file, "cannot read its footer");
    }
    text[flen] = '\0';
    f = json_loads(text, 0, &jerr);
    free(text);
    if (!json_is_object(f) || !json_is_string(json_object_get(f, "batch_id"))) {
        json_decref(f);
        return corrupt(err, b->file, "bad footer");
    }
    b->id = xstrdup(json_string_value(json_object_get(f, "batch_id")));
    b->first_sequence =
        json_integer_value(json_object_get(f, "first_sequence"));
    b->n_records = (uint64_t)json_integer_value(json_object_get(f, "records"));
    b->created_at_ms = json_integer_value(json_object_get(f, "created_at_ms"));
    b->batched_at_us = json_integer_value(json_object_get(f, "batched_at_us"));
    b->records_end = b->size - SPOOL_TRAILER - flen;
    json_decref(f);
    return 0;
}

static int read_header(struct spool_batch *b, int fd, struct strbuf *err)
{
    unsigned char head[12];
    uint32_t hlen;
    char *text;
    struct dray_json_doc doc;
    int32_t v;
    int rc = -1;

    if (pread_all(fd, head, sizeof(head), 0) != 0 ||
        memcmp(head, SPOOL_MAGIC, 8) != 0)
        return corrupt(err, b->file, "not a dray batch");
    hlen = get_u32(head + 8);
    if (12 + (uint64_t)hlen > b->records_end)
        return corrupt(err, b->file, "bad header length");
    text = xmalloc(hlen + 1);
    if (pread_all(fd, text, hlen, 12) != 0) {
        free(text);
        return corrupt(err, b->file, "cannot read its header");
    }
    text[hlen] = '\0';
    /* The SDK's parser, not a tree: the schema is kept as written. */
    dray_json_doc_init(&doc);
    if (dray_json_parse(&doc, text, hlen, NULL) != 0 ||
        doc.tok[0].type != DRAY_JSON_OBJECT) {
        corrupt(err, b->file, "bad header");
        goto out;
    }
    b->integration = string_member(&doc, "integration");
    b->stream = string_member(&doc, "stream");
    if (b->integration == NULL || b->stream == NULL) {
        corrupt(err, b->file, "no stream in its header");
        goto out;
    }
    b->keys =
        strings(&doc, dray_json_get(&doc, 0, "key_properties", 14), &b->n_keys);
    b->routes =
        strings(&doc, dray_json_get(&doc, 0, "routes", 6), &b->n_routes);
    v = dray_json_get(&doc, 0, "schema", 6);
    if (v >= 0) {
        const struct dray_json_token *t = &doc.tok[v];
        size_t n = t->type == DRAY_JSON_STRING ? t->len + 2 : t->len;
        size_t off = t->type == DRAY_JSON_STRING ? t->offset - 1 : t->offset;
        b->schema_json = xmalloc(n + 1);
        memcpy(b->schema_json, text + off, n);
        b->schema_json[n] = '\0';
    } else {
        b->schema_json = xstrdup("{}");
    }
    v = dray_json_get(&doc, 0, "table_version", 13);
    b->has_table_version = v >= 0 && doc.tok[v].type == DRAY_JSON_NUMBER;
    if (b->has_table_version)
        b->table_version = strtoll(text + doc.tok[v].offset, NULL, 10);
    v = dray_json_get(&doc, 0, "activate_version", 16);
    b->activate_version = v >= 0 && doc.tok[v].type == DRAY_JSON_TRUE;
    b->records_at = 12 + hlen;
    rc = 0;
out:
    dray_json_doc_release(&doc);
    free(text);
    return rc;
}

static int batch_open(const char *file, struct spool_batch *b, int verify,
                      struct strbuf *err)
{
    struct stat st;

    memset(b, 0, sizeof(*b));
    b->fd = -1;
    b->file = xstrdup(file);
    b->fd = open(file, O_RDONLY | O_CLOEXEC);
    if (b->fd < 0 || fstat(b->fd, &st) != 0) {
        strbuf_addf(err, "cannot read batch '%s': %s", file, strerror(errno));
        goto fail;
    }
    b->size = (uint64_t)st.st_size;
    if (read_footer(b, b->fd, verify, err) != 0 ||
        read_header(b, b->fd, err) != 0)
        goto fail;
    spool_batch_rewind(b);
    return 0;
fail:
    spool_batch_release(b);
    return -1;
}

int spool_batch_read(const char *file, struct spool_batch *b,
                     struct strbuf *err)
{
    return batch_open(file, b, 1, err);
}

int spool_batch_peek(const char *file, struct spool_batch *b,
                     struct strbuf *err)
{
    return batch_open(file, b, 0, err);
}

void spool_batch_release(struct spool_batch *b)
{
    if (b->fd >= 0)
        close(b->fd);
    for (size_t i = 0; i < b->n_keys; i++)
        free(b->keys[i]);
    for (size_t i = 0; i < b->n_routes; i++)
        free(b->routes[i]);
    free(b->keys);
    free(b->routes);
    free(b->id);
    free(b->file);
    free(b->integration);
    free(b->stream);
    free(b->schema_json);
    free(b->buf);
    memset(b, 0, sizeof(*b));
    b->fd = -1;
}

void spool_batch_rewind(struct spool_batch *b)
{
    b->pos = b->records_at;
    b->buf_len = b->buf_off = 0;
    b->next_index = 0;
}

/* Makes n bytes from the current offset available in the buffer. */
static int want(struct spool_batch *b, size_t n)
{
    if (b->buf_len - b->buf_off >= n)
        return 0;
    /* Keep what is unread, then fill. */
    if (b->buf_len > b->buf_off)
        memmove(b->buf, b->buf + b->buf_off, b->buf_len - b->buf_off);
    b->pos += b->buf_off;
    b->buf_len -= b->buf_off;
    b->buf_off = 0;
    if (n > b->buf_cap) {
        size_t cap = b->buf_cap ? b->buf_cap : READ_CHUNK;
        while (cap < n)
            cap *= 2;
        b->buf = xrealloc(b->buf, cap);
        b->buf_cap = cap;
    }
    uint64_t avail = b->records_end - (b->pos + b->buf_len);
    size_t room = b->buf_cap - b->buf_len;
    size_t k = avail < room ? (size_t)avail : room;
    if (b->buf_len + k < n)
        return -1;
    if (k && pread_all(b->fd, b->buf + b->buf_len, k, b->pos + b->buf_len))
        return -1;
    b->buf_len += k;
    return 0;
}

int spool_batch_next(struct spool_batch *b, struct spool_record *r,
                     struct strbuf *err)
{
    const unsigned char *p;
    uint32_t frame;
    size_t at;

    if (b->next_index >= b->n_records)
        return 0;
    if (want(b, 4) != 0)
        goto damaged;
    frame = get_u32(b->buf + b->buf_off);
    if (frame < SPOOL_FRAME_FIXED || want(b, 4 + (size_t)frame) != 0)
        goto damaged;
    p = b->buf + b->buf_off + 4;
    memset(r, 0, sizeof(*r));
    r->index = b->next_index;
    r->sequence = b->first_sequence + (int64_t)b->next_index;
    r->meta.flags = p[0];
    r->meta.received_at_us = (int64_t)get_u64(p + 4);
    at = SPOOL_FRAME_FIXED; /* flags, two presence bytes, pad, time */
    /* Optional texts: a length that counts their NUL, then the text. */
    if (p[1]) {
        size_t n = get_u16(p + at);
        r->meta.extracted_at = (const char *)p + at + 2;
        at += 2 + n;
        if (n == 0 || at > frame || p[at - 1] != '\0')
            goto damaged;
    }
    if (p[2]) {
        size_t n = get_u16(p + at);
        r->meta.primary_key = (const char *)p + at + 2;
        at += 2 + n;
        if (n == 0 || at > frame || p[at - 1] != '\0')
            goto damaged;
    }
    if (p[0] & SPOOL_REC_REJECTED) {
        size_t n = get_u32(p + at);
        r->meta.reason = (const char *)p + at + 4;
        at += 4 + n;
        if (n == 0 || at > frame || p[at - 1] != '\0')
            goto damaged;
    }
    r->json = (const char *)p + at;
    r->len = frame - at;
    b->buf_off += 4 + frame;
    b->next_index++;
    return 1;
damaged:
    strbuf_addf(err, "batch '%s' is damaged at record %llu", b->file,
                (unsigned long long)b->next_index);
    return -1;
}

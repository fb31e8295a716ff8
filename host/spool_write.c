/*
 * Writing a batch: records stream into tmp/ through a buffer with a
 * running checksum; commit assigns the id, the _sdc_sequence range and
 * the creation time under the stream's lock, and renames the file into
 * batches/ only once it is complete and on disk.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include "dray/dray_json.h"
#include "spool_internal.h"

#define WRITE_CHUNK (256 * 1024)

/* The stream's counters, kept under its lock in streams/<hash>.seq. */
struct counters {
    uint64_t batch;
    int64_t sequence;   /* last _sdc_sequence issued */
    int64_t created_ms; /* last batch creation time */
};

struct spool_writer {
    struct spool *sp;
    char hash[17];
    char *tmp; /* tmp/<pid>-<n>.tmp */
    int fd;
    unsigned char *buf; /* bytes not yet written */
    size_t len, cap;
    uint32_t crc;  /* of the bytes before buf[crc_at] */
    size_t crc_at; /* bytes of buf already in crc */
    uint64_t bytes;
    size_t records;
    int64_t started_ms;
    int trailer_done; /* footer appended to buf (commit retry) */
    int published;    /* linked into batches/ (commit retry) */
    int lock_fd;      /* the stream's lock, held from commit to the end */
    char *seq_file;
    struct counters counters;
    char id[129];
};

static int full_errno(int e)
{
    return e == ENOSPC || e == EDQUOT;
}

static int reserve(struct spool_writer *w, size_t extra)
{
    if (w->len + extra <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : WRITE_CHUNK;
    while (cap < w->len + extra)
        cap *= 2;
    w->buf = xrealloc(w->buf, cap);
    w->cap = cap;
    return 0;
}

static void append(struct spool_writer *w, const void *p, size_t n)
{
    reserve(w, n);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    w->bytes += n;
}

/* The checksum runs over whole buffers rather than field by field: one
   call per 256 KiB costs a fraction of a call per field. */
static void crc_catch_up(struct spool_writer *w)
{
    if (w->len > w->crc_at)
        w->crc = (uint32_t)crc32(w->crc, w->buf + w->crc_at,
                                 (uInt)(w->len - w->crc_at));
    w->crc_at = w->len;
}

/* Writes the buffer out; what a full disk refuses stays for a retry. */
static int flush(struct spool_writer *w, struct strbuf *err)
{
    size_t done = 0;
    int rc = 0;

    if (!w->trailer_done)
        crc_catch_up(w);
    if (w->fd < 0) {
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (w->fd < 0) {
            if (full_errno(errno))
                return 1;
            strbuf_addf(err, "cannot create '%s': %s", w->tmp, strerror(errno));
            return -1;
        }
    }

    while (done < w->len) {
        ssize_t n = write(w->fd, w->buf + done, w->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = full_errno(errno) ? 1 : -1;
            if (rc < 0)
                strbuf_addf(err, "cannot write '%s': %s", w->tmp,
                            strerror(errno));
            break;
        }
        done += (size_t)n;
    }
    if (w->len > done)
        memmove(w->buf, w->buf + done, w->len - done);
    w->len -= done;
    w->crc_at = w->crc_at > done ? w->crc_at - done : 0;
    /* One huge record must not pin a huge buffer for the whole batch. */
    if (rc == 0 && w->len == 0 && w->cap > 4 * WRITE_CHUNK) {
        free(w->buf);
        w->buf = NULL;
        w->cap = 0;
    }
    return rc;
}

static int sink_strbuf(void *ctx, const void *data, size_t len)
{
    strbuf_add(ctx, data, len);
    return 0;
}

static void add_string_list(struct strbuf *sb, struct dray_sink *sink,
                            const char *const *items, size_t n)
{
    strbuf_addch(sb, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            strbuf_addch(sb, ',');
        dray_json_write_string(sink, items[i], strlen(items[i]));
    }
    strbuf_addch(sb, ']');
}

/* The header as JSON. The schema goes in verbatim: taps send bounds such
   as 1e38 written as integers, which a tree parser would refuse or
   round, and its text is the stream's contract. */
static int header_json(const struct spool_batch_head *head, struct strbuf *sb,
                       struct strbuf *err)
{
    struct dray_sink sink = {sink_strbuf, NULL, sb};
    const char *schema = head->schema_json ? head->schema_json : "{}";
    struct dray_json_doc doc;
    int rc;

    dray_json_doc_init(&doc);
    rc = dray_json_parse(&doc, schema, strlen(schema), NULL);
    dray_json_doc_release(&doc);
    if (rc != 0) {
        strbuf_addf(err, "the schema of stream '%s' is not JSON", head->stream);
        return -1;
    }
    strbuf_adds(sb, "{\"integration\":");
    dray_json_write_string(&sink, head->integration, strlen(head->integration));
    strbuf_adds(sb, ",\"stream\":");
    dray_json_write_string(&sink, head->stream, strlen(head->stream));
    strbuf_adds(sb, ",\"key_properties\":");
    add_string_list(sb, &sink, head->keys, head->n_keys);
    strbuf_adds(sb, ",\"schema\":");
    strbuf_adds(sb, schema);
    if (head->has_table_version)
        strbuf_addf(sb, ",\"table_version\":%lld",
                    (long long)head->table_version);
    else
        strbuf_adds(sb, ",\"table_version\":null");
    strbuf_addf(sb, ",\"activate_version\":%s",
                head->activate_version ? "true" : "false");
    strbuf_adds(sb, ",\"routes\":");
    add_string_list(sb, &sink, head->routes, head->n_routes);
    strbuf_addch(sb, '}');
    return 0;
}

struct spool_writer *spool_writer_open(struct spool *sp,
                                       const struct spool_batch_head *head,
                                       struct strbuf *err)
{
    static unsigned counter;
    struct spool_writer *w = xcalloc(1, sizeof(*w));
    struct strbuf text = STRBUF_INIT;
    unsigned char len[4];

    w->sp = sp;
    w->fd = -1;
    w->lock_fd = -1;
    w->crc = (uint32_t)crc32(0, Z_NULL, 0);
    w->started_ms = spool_now_us() / 1000;
    spool_stream_hash(head->integration, head->stream, w->hash);
    {
        /* "<pid>-<n>-...": the sweep reads the pid; the rest keeps names
           apart between processes of one pid in different containers. */
        char *base =
            xasprintf("%s/tmp/%ld-%u", sp->path, (long)getpid(),
                      __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
        w->tmp = spool_tmp_name(base);
        free(base);
    }
    if (header_json(head, &text, err) != 0)
        goto fail;
    /* The file is created at the first flush: a full disk then is the
       retryable kind, like any write. */
    append(w, SPOOL_MAGIC, 8);
    put_u32(len, (uint32_t)text.len);
    append(w, len, 4);
    append(w, text.buf, text.len);
    strbuf_release(&text);
    return w;
fail:
    strbuf_release(&text);
    spool_writer_abort(w);
    return NULL;
}

int spool_writer_add(struct spool_writer *w, const char *json, size_t len,
                     const struct spool_record_meta *meta, struct strbuf *err)
{
    unsigned char fixed[SPOOL_FRAME_FIXED + 4], small[4];
    /* Optional texts keep their NUL, so readers can point at them. */
    size_t ex = meta->extracted_at ? strlen(meta->extracted_at) + 1 : 0;
    size_t pk = meta->primary_key ? strlen(meta->primary_key) + 1 : 0;
    int rejected = (meta->flags & SPOOL_REC_REJECTED) != 0;
    const char *reason = rejected && meta->reason ? meta->reason : "";
    size_t rs = rejected ? strlen(reason) + 1 : 0;
    uint64_t frame;

    if (ex > UINT16_MAX || pk > UINT16_MAX || rs > UINT32_MAX ||
        len > UINT32_MAX - 64) {
        strbuf_adds(err, "a record or its metadata is too large for a batch");
        return -1;
    }
    frame = SPOOL_FRAME_FIXED + (ex ? 2 + ex : 0) + (pk ? 2 + pk : 0) +
            (rejected ? 4 + rs : 0) + len;
    put_u32(fixed, (uint32_t)frame);
    fixed[4] = (unsigned char)(meta->flags & 0xff);
    fixed[5] = ex ? 1 : 0;
    fixed[6] = pk ? 1 : 0;
    fixed[7] = 0;
    put_u64(fixed + 8, (uint64_t)meta->received_at_us);
    append(w, fixed, sizeof(fixed));
    if (ex) {
        put_u16(small, (uint16_t)ex);
        append(w, small, 2);
        append(w, meta->extracted_at, ex);
    }
    if (pk) {
        put_u16(small, (uint16_t)pk);
        append(w, small, 2);
        append(w, meta->primary_key, pk);
    }
    if (rejected) {
        put_u32(small, (uint32_t)rs);
        append(w, small, 4);
        append(w, reason, rs);
    }
    append(w, json, len);
    w->records++;
    return w->len >= WRITE_CHUNK ? flush(w, err) : 0;
}

int spool_writer_retry(struct spool_writer *w, struct strbuf *err)
{
    return flush(w, err);
}

size_t spool_writer_records(const struct spool_writer *w)
{
    return w->records;
}

uint64_t spool_writer_bytes(const struct spool_writer *w)
{
    return w->bytes;
}

int64_t spool_writer_started_ms(const struct spool_writer *w)
{
    return w->started_ms;
}

void spool_writer_abort(struct spool_writer *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp)
        unlink(w->tmp);
    if (w->lock_fd >= 0)
        close(w->lock_fd); /* releases the stream's lock */
    free(w->tmp);
    free(w->seq_file);
    free(w->buf);
    free(w);
}

/* The highest batch number of a stream found in batches/: a floor for
   the counter, so a lost counters file can never reuse an id. */
static uint64_t highest_batch(const struct spool *sp, const char *hash)
{
    char *dir = xasprintf("%s/batches", sp->path);
    DIR *d = opendir(dir);
    struct dirent *e;
    uint64_t best = 0;
    size_t prefix = 36 + 1 + 16 + 1;

    while (d && (e = readdir(d)) != NULL) {
        if (strlen(e->d_name) <= prefix ||
            strncmp(e->d_name + 37, hash, 16) != 0)
            continue;
        uint64_t n = strtoull(e->d_name + prefix, NULL, 10);
        if (n > best)
            best = n;
    }
    if (d)
        closedir(d);
    free(dir);
    return best;
}

/* 0, or -1 when the file exists but cannot be read: guessing zeros would
   reuse batch ids and sequences. */
static int read_counters(const char *file, struct counters *c,
                         struct strbuf *err)
{
    FILE *f = fopen(file, "r");
    unsigned long long b = 0;
    long long s = 0, m = 0;

    memset(c, 0, sizeof(*c));
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        strbuf_addf(err, "cannot read '%s': %s", file, strerror(errno));
        return -1;
    }
    if (fscanf(f, "batch %llu\nsequence %lld\ncreated %lld", &b, &s, &m) != 3) {
        fclose(f);
        strbuf_addf(err,
                    "'%s' is damaged; restore it or remove it to let "
                    "dray rebuild the counters from batches/",
                    file);
        return -1;
    }
    fclose(f);
    c->batch = b;
    c->sequence = s;
    c->created_ms = m;
    return 0;
}

static int write_counters(const char *file, const struct counters *c,
                          struct strbuf *err)
{
    char *tmp = spool_tmp_name(file);
    char text[128];
    int n = snprintf(text, sizeof(text),
                     "batch %llu\nsequence %lld\n"
                     "created %lld\n",
                     (unsigned long long)c->batch, (long long)c->sequence,
                     (long long)c->created_ms);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = -1;

    char *dir = xstrdup(file);
    *strrchr(dir, '/') = '\0';
    if (fd < 0 || spool_write_all(fd, text, (size_t)n) != 0 || fsync(fd) != 0 ||
        rename(tmp, file) != 0 || spool_sync_dir(dir) != 0) {
        rc = full_errno(errno) ? 1 : -1;
        if (rc < 0)
            strbuf_addf(err, "cannot update '%s': %s", file, strerror(errno));
        unlink(tmp);
    } else {
        rc = 0;
    }
    if (fd >= 0)
        close(fd);
    free(dir);
    free(tmp);
    return rc;
}

/* Sequences follow the clock in nanoseconds, as Stitch's do, but never go
   back: a clock step or a restart continues after the last one issued. */
static int64_t next_sequence(int64_t last)
{
    int64_t now_ns = spool_now_us() * 1000;

    return now_ns > last ? now_ns : last + 1;
}

/* Assigns the id, sequences and creation time from the stream's counters
   (the lock is held) and appends footer, checksum and end mark. */
static int add_trailer(struct spool_writer *w, struct strbuf *err)
{
    int64_t first, now_ms = spool_now_us() / 1000;
    unsigned char tail[8];
    json_t *f;
    char *text;

    uint64_t floor;

    w->seq_file = xasprintf("%s/streams/%s.seq", w->sp->path, w->hash);
    if (read_counters(w->seq_file, &w->counters, err) != 0)
        return -1;
    floor = highest_batch(w->sp, w->hash);
    if (w->counters.batch < floor)
        w->counters.batch = floor;
    first = next_sequence(w->counters.sequence);
    w->counters.batch++;
    w->counters.created_ms =
        now_ms > w->counters.created_ms ? now_ms : w->counters.created_ms + 1;
    snprintf(w->id, sizeof(w->id), "%s-%s-%012llu", w->sp->uuid, w->hash,
             (unsigned long long)w->counters.batch);
    f = json_pack("{s:s, s:I, s:I, s:I, s:I}", "batch_id", w->id,
                  "first_sequence", (json_int_t)first, "records",
                  (json_int_t)w->records, "created_at_ms",
                  (json_int_t)w->counters.created_ms, "batched_at_us",
                  (json_int_t)spool_now_us());
    text = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(f);
    append(w, text, strlen(text));
    put_u32(tail, (uint32_t)strlen(text));
    append(w, tail, 4);
    free(text);
    crc_catch_up(w);
    put_u32(tail, w->crc); /* the crc covers everything before it */
    reserve(w, 12);
    memcpy(w->buf + w->len, tail, 4);
    memcpy(w->buf + w->len + 4, SPOOL_END, 8);
    w->len += 12;
    w->bytes += 12;
    if (w->records)
        w->counters.sequence = first + (int64_t)w->records - 1;
    w->trailer_done = 1;
    return 0;
}

int spool_writer_commit(struct spool_writer *w, char *id, struct strbuf *err)
{
    char *dst = NULL, *dir = NULL;
    int rc;

    rc = flush(w, err);
    if (rc != 0)
        goto out;
    /* Under the stream's lock: the counters, the footer, the rename, so
       batches of a stream appear in the order of their sequences. A full
       disk keeps the lock (and the batch) until the retry succeeds. */
    if (w->lock_fd < 0) {
        char *lock = xasprintf("%s/streams/%s.lock", w->sp->path, w->hash);
        w->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        int locked = -1;
        while (w->lock_fd >= 0 && (locked = flock(w->lock_fd, LOCK_EX)) != 0 &&
               errno == EINTR)
            ; /* a signal: keep waiting, the holder finishes soon */
        if (w->lock_fd < 0 || locked != 0) {
            /* No room for a new lock file is a full disk like any other. */
            rc = w->lock_fd < 0 && full_errno(errno) ? 1 : -1;
            if (rc < 0)
                strbuf_addf(err, "cannot lock '%s': %s", lock, strerror(errno));
            free(lock);
            goto out;
        }
        free(lock);
    }
    if (!w->trailer_done && add_trailer(w, err) != 0) {
        rc = -1;
        goto out;
    }
    rc = w->published ? 0 : flush(w, err);
    /* A failed fsync may have dropped pages it reported clean: never
       retry it, throw the batch away (nothing was acknowledged). */
    if (rc == 0 && !w->published && fsync(w->fd) != 0) {
        strbuf_addf(err, "cannot write '%s' to disk: %s", w->tmp,
                    strerror(errno));
        rc = -1;
    }
    if (rc == 0 && !w->published)
        rc = write_counters(w->seq_file, &w->counters, err);
    if (rc != 0)
        goto out;
    dst = xasprintf("%s/batches/%s.batch", w->sp->path, w->id);
    dir = xasprintf("%s/batches", w->sp->path);
    /* link() never replaces: an id that somehow exists is an error, not a
       silent overwrite of a committed batch. */
    if (!w->published) {
        if (link(w->tmp, dst) != 0) {
            rc = full_errno(errno) ? 1 : -1;
            if (rc < 0)
                strbuf_addf(err, "cannot move the batch into '%s': %s", dst,
                            strerror(errno));
            goto out;
        }
        w->published = 1;
        unlink(w->tmp);
    }
    if (spool_sync_dir(dir) != 0) {
        rc = full_errno(errno) ? 1 : -1; /* retried: only this step */
        if (rc < 0)
            strbuf_addf(err, "cannot sync '%s': %s", dir, strerror(errno));
        goto out;
    }
    w->sp->committed_bytes += w->bytes;
    if (id)
        snprintf(id, 129, "%s", w->id);
    free(w->tmp);
    w->tmp = NULL; /* renamed: abort must not unlink it */
out:
    free(dst);
    free(dir);
    if (rc == 1)
        return 1; /* full disk: the caller retries with w intact */
    spool_writer_abort(w);
    return rc;
}

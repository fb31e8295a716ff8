/*
 * gate_write.c - what the spool stores of a record: its compact text, with
 * date-times at date-time nodes in UTC and numbers keeping their source
 * digits, and the random __sdc_primary_key of keyless streams.
 */
#include "gate.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

/* "YYYY-MM-DDTHH:MM:SS.ffffffZ" with digits where digits go, and no leap
   second: what dray_datetime_format writes for a date-time that parses. */
static int is_normal_form(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

    if (n != sizeof(shape) - 1 || (s[17] == '6' && s[18] == '0'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return 0;
    }
    return 1;
}

int gate_datetime(const char *s, size_t n, char out[DRAY_DATETIME_MAX])
{
    struct dray_timestamp ts;

    if (dray_datetime_parse(s, n, &ts) != 0)
        return -1;
    /* Most taps send UTC with microseconds: no need to write it again. */
    if (is_normal_form(s, n))
        return 0;
    return (int)dray_datetime_format(&ts, out);
}

/*
 * Token i as compact JSON: its source text when that is compact already
 * (most taps write it so), else through dray_json_write. The bytes are the
 * same either way: compact source has exactly the punctuation the tokens
 * need between them, and no "\/" (which dray_json_write writes as "/").
 */
static int write_compact(struct gate *g, uint32_t i, struct dray_sink *sink)
{
    const struct dray_json_doc *doc = &g->doc;
    const struct dray_json_token *t = &doc->tok[i];
    size_t want = 0, start = t->offset, len = t->len;

    for (uint32_t j = i; j < t->end; j++) {
        const struct dray_json_token *u = &doc->tok[j];

        switch (u->type) {
        case DRAY_JSON_STRING:
            if ((u->flags & DRAY_JSON_F_ESCAPED) &&
                memchr(doc->text + u->offset, '/', u->len) != NULL)
                return dray_json_write(doc, i, sink);
            want += (size_t)u->len + 2;
            break;
        case DRAY_JSON_OBJECT: /* braces, colons, commas */
            want += 2 + (u->count ? 2 * (size_t)u->count - 1 : 0);
            break;
        case DRAY_JSON_ARRAY:
            want += 2 + (u->count ? (size_t)u->count - 1 : 0);
            break;
        default:
            want += u->len;
            break;
        }
    }
    if (t->type == DRAY_JSON_STRING) {
        start--;
        len += 2;
    }
    if (want != len)
        return dray_json_write(doc, i, sink);
    return dray_buf_add(&g->out, doc->text + start, len);
}

/* Writes token i, substituting the date-times from *next on. */
static int write_value(struct gate *g, uint32_t i, size_t *next,
                       struct dray_sink *sink)
{
    const struct dray_json_doc *doc = &g->doc;
    const struct dray_json_token *t = &doc->tok[i];
    int closing = t->type == DRAY_JSON_OBJECT ? '}' : ']';
    int rc = 0;
    uint32_t k;

    if (*next >= g->n_subst || g->subst[*next].token >= t->end)
        return write_compact(g, i, sink); /* untouched subtree */
    if (g->subst[*next].token == i) {
        const struct gate_subst *s = &g->subst[(*next)++];

        return dray_buf_addc(&g->out, '"') ||
               dray_buf_add(&g->out, g->subst_text.data + s->at, s->len) ||
               dray_buf_addc(&g->out, '"');
    }
    rc = dray_buf_addc(&g->out, (char)doc->text[t->offset]);
    for (k = i + 1; k < t->end && rc == 0; k = doc->tok[k].end) {
        if (k > i + 1)
            rc = dray_buf_addc(&g->out, ',');
        if (rc == 0 && t->type == DRAY_JSON_OBJECT) {
            rc = dray_json_write(doc, k, sink);
            if (rc == 0)
                rc = dray_buf_addc(&g->out, ':');
            k++; /* the member's value */
        }
        if (rc == 0)
            rc = write_value(g, k, next, sink);
    }
    return rc != 0 ? rc : dray_buf_addc(&g->out, (char)closing);
}

int gate_write_record(struct gate *g, uint32_t rec)
{
    struct dray_sink sink;
    size_t next = 0;

    dray_buf_reset(&g->out);
    dray_sink_to_buf(&sink, &g->out);
    if (write_value(g, rec, &next, &sink) != 0) {
        strbuf_adds(&g->err, "out of memory writing a record");
        return GATE_FAILED;
    }
    return GATE_OK;
}

int gate_uuid(struct gate *g, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char *r;
    size_t o = 0;

    /* One getrandom() per 256 keys. */
    if (g->random_pos + 16 > sizeof(g->random)) {
        size_t got = 0;

        while (got < sizeof(g->random)) {
            ssize_t n = getrandom(g->random + got, sizeof(g->random) - got, 0);

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                strbuf_addf(&g->err,
                            "cannot get random bytes for "
                            "__sdc_primary_key: %s",
                            strerror(errno));
                return GATE_FAILED;
            }
            got += (size_t)n;
        }
        g->random_pos = 0;
    }
    r = g->random + g->random_pos;
    g->random_pos += 16;
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* variant 1 */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 15];
    }
    out[o] = '\0';
    return GATE_OK;
}

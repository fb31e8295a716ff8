/*
 * gate_messages.c - one line of input: parsed with the SDK's parser (one
 * reused document) and dispatched as the Singer message it is. Types are
 * matched case-insensitively; unknown ones are skipped with a debug log.
 */
#include "gate.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dray/dray_datetime.h"
#include "log.h"

/* The members a message may have, found in one pass over the envelope. */
struct envelope {
    int32_t type, stream, record, schema, keys, version, time_extracted, value;
};

static const struct {
    const char *name;
    size_t len;
    size_t at; /* offset of the member in struct envelope */
} members[] = {
#define M(name, field)                                                         \
    {                                                                          \
        name, sizeof(name) - 1, offsetof(struct envelope, field)               \
    }
    M("type", type),
    M("stream", stream),
    M("record", record),
    M("schema", schema),
    M("key_properties", keys),
    M("version", version),
    M("time_extracted", time_extracted),
    M("value", value),
#undef M
};

static void read_envelope(const struct dray_json_doc *doc, struct envelope *e)
{
    uint32_t k = 1;

    memset(e, 0xff, sizeof(*e)); /* every member -1: absent */
    for (uint32_t m = 0; m < doc->tok[0].count; m++) {
        const struct dray_json_token *key = &doc->tok[k];

        for (size_t j = 0; j < sizeof(members) / sizeof(members[0]); j++) {
            int found = key->flags & DRAY_JSON_F_ESCAPED
                            ? dray_json_string_eq(doc, k, members[j].name,
                                                  members[j].len)
                            : key->len == members[j].len &&
                                  memcmp(doc->text + key->offset,
                                         members[j].name, members[j].len) == 0;

            if (found) {
                /* Of duplicates the last wins, as in most parsers. */
                int32_t value = (int32_t)(k + 1);

                memcpy((char *)e + members[j].at, &value, sizeof(value));
                break;
            }
        }
        k = doc->tok[k + 1].end;
    }
}

static const char *kind_of(const struct dray_json_token *t)
{
    static const char *const kinds[] = {"",          "null",     "a boolean",
                                        "a boolean", "a number", "a string",
                                        "an object", "an array"};

    return kinds[t->type];
}

static int is_null(const struct gate *g, int32_t i)
{
    return i < 0 || g->doc.tok[i].type == DRAY_JSON_NULL;
}

/* The decoded text of string token i in g->text; BAD_INPUT naming what
   for anything else, or for U+0000 (names are C strings). */
static int string_member(struct gate *g, int32_t i, const char *what)
{
    const struct dray_json_token *t = &g->doc.tok[i];

    if (t->type != DRAY_JSON_STRING) {
        strbuf_addf(&g->err, "%s must be a string, not %s", what, kind_of(t));
        return GATE_BAD_INPUT;
    }
    if (t->flags & DRAY_JSON_F_NUL) {
        strbuf_addf(&g->err, "%s holds the character U+0000", what);
        return GATE_BAD_INPUT;
    }
    dray_buf_reset(&g->text);
    if (dray_json_string(&g->doc, (uint32_t)i, &g->text) != 0) {
        strbuf_adds(&g->err, "out of memory");
        return GATE_FAILED;
    }
    return GATE_OK;
}

/* The stream a message names; with need_schema, one that has a SCHEMA. */
static int find_stream(struct gate *g, const struct envelope *e,
                       const char *type, int need_schema,
                       struct gate_stream **out)
{
    struct gate_stream *st;
    int rc;

    if (e->stream < 0) {
        strbuf_addf(&g->err, "%s message has no 'stream'", type);
        return GATE_BAD_INPUT;
    }
    rc = string_member(g, e->stream, "'stream'");
    if (rc != GATE_OK)
        return rc;
    if (g->text.len == 0) {
        strbuf_addf(&g->err, "%s message has an empty 'stream'", type);
        return GATE_BAD_INPUT;
    }
    st = gate_stream(g, g->text.data, g->text.len, !need_schema);
    if (need_schema && (st == NULL || !st->has_schema)) {
        strbuf_addf(&g->err,
                    "%s of stream '%s' before any SCHEMA of it; the tap must "
                    "send the stream's SCHEMA first",
                    type, g->text.data);
        return GATE_BAD_INPUT;
    }
    *out = st;
    return GATE_OK;
}

/* A table version: an integer that fits int64. */
static int read_version(struct gate *g, int32_t i, const char *stream,
                        int64_t *out)
{
    const struct dray_json_token *t = &g->doc.tok[i];
    char digits[24];
    int64_t v = 0;

    if (t->type != DRAY_JSON_NUMBER || !(t->flags & DRAY_JSON_F_INTEGER) ||
        t->len >= sizeof(digits)) {
        strbuf_addf(&g->err,
                    "'version' of stream '%s' must be an integer (a table "
                    "version), not %s",
                    stream,
                    t->type == DRAY_JSON_NUMBER ? "this number" : kind_of(t));
        return GATE_BAD_INPUT;
    }
    /* Not strtoll: this runs for every record. */
    memcpy(digits, g->doc.text + t->offset, t->len);
    digits[t->len] = '\0';
    for (const char *p = digits + (digits[0] == '-'); *p != '\0'; p++) {
        int d = *p - '0';

        if (v < (INT64_MIN + d) / 10) {
            strbuf_addf(&g->err, "'version' of stream '%s' is out of range",
                        stream);
            return GATE_BAD_INPUT;
        }
        v = v * 10 - d; /* negative, so INT64_MIN fits */
    }
    if (digits[0] != '-' && v == INT64_MIN) {
        strbuf_addf(&g->err, "'version' of stream '%s' is out of range",
                    stream);
        return GATE_BAD_INPUT;
    }
    *out = digits[0] == '-' ? v : -v;
    return GATE_OK;
}

/* time_extracted in UTC into out; 0 when absent or not a date-time. */
static int extracted_at(struct gate *g, struct gate_stream *st, int32_t i,
                        char out[DRAY_DATETIME_MAX])
{
    const struct dray_json_token *t;
    int n;

    if (is_null(g, i))
        return 0;
    t = &g->doc.tok[i];
    if (t->type == DRAY_JSON_STRING && !(t->flags & DRAY_JSON_F_ESCAPED)) {
        n = gate_datetime(g->doc.text + t->offset, t->len, out);
        if (n == 0) {
            memcpy(out, g->doc.text + t->offset, t->len);
            out[t->len] = '\0';
        }
        if (n >= 0)
            return 1;
    }
    if (!st->warned_extracted) {
        st->warned_extracted = 1;
        log_warn("%s:%" PRIu64 ": stream '%s': 'time_extracted' is not a "
                 "date-time; _sdc_extracted_at stays empty for such records "
                 "(logged once per stream)",
                 g->file, g->line, st->name);
    }
    return 0;
}

static int on_record(struct gate *g, const struct envelope *e)
{
    struct gate_stream *st = NULL;
    struct spool_record_meta meta;
    char pk[37], extracted[DRAY_DATETIME_MAX];
    int64_t version = 0;
    int rc, rejected;

    rc = find_stream(g, e, "RECORD", 1, &st);
    if (rc != GATE_OK)
        return rc;
    if (e->record < 0) {
        strbuf_addf(&g->err, "RECORD of stream '%s' has no 'record'", st->name);
        return GATE_BAD_INPUT;
    }
    if (g->doc.tok[e->record].type != DRAY_JSON_OBJECT) {
        /* Nothing could load it anywhere, not even as a reject. */
        strbuf_addf(&g->err,
                    "the record of stream '%s' is %s; a record must be a "
                    "JSON object",
                    st->name, kind_of(&g->doc.tok[e->record]));
        return GATE_BAD_INPUT;
    }
    if (!is_null(g, e->version) &&
        read_version(g, e->version, st->name, &version) != GATE_OK)
        return GATE_BAD_INPUT;
    memset(&meta, 0, sizeof(meta));
    meta.received_at_us = g->now_us;
    if (extracted_at(g, st, e->time_extracted, extracted))
        meta.extracted_at = extracted;
    if (st->n_keys == 0) {
        if (gate_uuid(g, pk) != GATE_OK)
            return GATE_FAILED;
        meta.primary_key = pk;
    }
    rc = gate_check_record(g, st, (uint32_t)e->record, &rejected);
    if (rc != GATE_OK)
        return rc;
    if (rejected) {
        meta.flags = SPOOL_REC_REJECTED;
        meta.reason = g->reason.buf;
        g->stats.rejected++;
    }
    return gate_add_record(g, st, !is_null(g, e->version), version, &meta);
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* key_properties: a list of names, or one name as a string. */
static int read_keys(struct gate *g, int32_t i, const char *stream,
                     char ***keys, size_t *n_keys)
{
    const struct dray_json_token *t;
    uint32_t first, count;
    int rc;

    *keys = NULL;
    *n_keys = 0;
    if (is_null(g, i))
        return GATE_OK;
    t = &g->doc.tok[i];
    first = t->type == DRAY_JSON_ARRAY ? (uint32_t)i + 1 : (uint32_t)i;
    count = t->type == DRAY_JSON_ARRAY ? t->count : 1;
    *keys = xcalloc(count ? count : 1, sizeof(**keys));
    for (uint32_t k = first, m = 0; m < count; m++, k = g->doc.tok[k].end) {
        const struct dray_json_token *name = &g->doc.tok[k];

        if (name->type != DRAY_JSON_STRING || (name->flags & DRAY_JSON_F_NUL)) {
            strbuf_addf(&g->err,
                        "'key_properties' of stream '%s' must be a list of "
                        "property names",
                        stream);
            rc = GATE_BAD_INPUT;
            goto fail;
        }
        dray_buf_reset(&g->text);
        if (dray_json_string(&g->doc, k, &g->text) != 0) {
            strbuf_adds(&g->err, "out of memory");
            rc = GATE_FAILED;
            goto fail;
        }
        (*keys)[m] = xstrdup(g->text.data);
        *n_keys = m + 1;
    }
    return GATE_OK;
fail:
    free_keys(*keys, *n_keys);
    *keys = NULL;
    *n_keys = 0;
    return rc;
}

static int same_keys(const struct gate_stream *st, char **keys, size_t n)
{
    if (st->n_keys != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(st->keys[i], keys[i]) != 0)
            return 0;
    return 1;
}

static int on_schema(struct gate *g, const struct envelope *e)
{
    struct gate_stream *st = NULL;
    struct dray_schema schema;
    struct dray_sink sink;
    char **keys = NULL, why[512];
    size_t n_keys = 0;
    int rc;

    rc = find_stream(g, e, "SCHEMA", 0, &st);
    if (rc != GATE_OK)
        return rc;
    if (e->schema < 0) {
        strbuf_addf(&g->err, "SCHEMA of stream '%s' has no 'schema'", st->name);
        return GATE_BAD_INPUT;
    }
    rc = read_keys(g, e->keys, st->name, &keys, &n_keys);
    if (rc != GATE_OK)
        return rc;
    dray_buf_reset(&g->text);
    dray_sink_to_buf(&sink, &g->text);
    if (dray_json_write(&g->doc, (uint32_t)e->schema, &sink) != 0) {
        free_keys(keys, n_keys);
        strbuf_adds(&g->err, "out of memory");
        return GATE_FAILED;
    }
    /* Taps repeat their SCHEMA; only a different one cuts the batch. */
    if (st->has_schema && st->schema_len == g->text.len &&
        memcmp(st->schema_json, g->text.data, g->text.len) == 0 &&
        same_keys(st, keys, n_keys)) {
        free_keys(keys, n_keys);
        return GATE_OK;
    }
    rc = dray_schema_parse(&schema, g->text.data, g->text.len,
                           (const char *const *)keys, n_keys, why, sizeof(why));
    if (rc != 0) {
        free_keys(keys, n_keys);
        if (rc == -2) {
            strbuf_adds(&g->err, "out of memory");
            return GATE_FAILED;
        }
        strbuf_addf(&g->err, "invalid SCHEMA for stream '%s': %s", st->name,
                    why);
        return GATE_BAD_INPUT;
    }
    return gate_set_schema(g, st, &schema, g->text.data, g->text.len, keys,
                           n_keys);
}

static int on_state(struct gate *g, const struct envelope *e)
{
    struct dray_sink sink;

    if (e->value < 0) {
        strbuf_adds(&g->err, "STATE message has no 'value'");
        return GATE_BAD_INPUT;
    }
    dray_buf_reset(&g->text);
    dray_sink_to_buf(&sink, &g->text);
    if (dray_json_write(&g->doc, (uint32_t)e->value, &sink) != 0) {
        strbuf_adds(&g->err, "out of memory");
        return GATE_FAILED;
    }
    return gate_add_state(g, g->text.data, g->text.len);
}

static int on_activate_version(struct gate *g, const struct envelope *e)
{
    struct gate_stream *st = NULL;
    int64_t version;
    int rc = find_stream(g, e, "ACTIVATE_VERSION", 1, &st);

    if (rc != GATE_OK)
        return rc;
    if (is_null(g, e->version)) {
        strbuf_addf(&g->err, "ACTIVATE_VERSION of stream '%s' has no 'version'",
                    st->name);
        return GATE_BAD_INPUT;
    }
    if (read_version(g, e->version, st->name, &version) != GATE_OK)
        return GATE_BAD_INPUT;
    return gate_activate_version(g, st, version);
}

static int only_blanks(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

int gate_message(struct gate *g, const char *line, size_t len)
{
    struct dray_json_error jerr;
    struct envelope e;
    int rc;

    g->column = 0;
    if (only_blanks(line, len))
        return GATE_OK;
    rc = dray_json_parse(&g->doc, line, len, &jerr);
    if (rc == -2) {
        strbuf_adds(&g->err, "out of memory");
        return GATE_FAILED;
    }
    if (rc != 0) {
        g->column = jerr.offset + 1;
        strbuf_addf(&g->err, "not valid JSON: %s", jerr.message);
        return GATE_BAD_INPUT;
    }
    if (g->doc.tok[0].type != DRAY_JSON_OBJECT) {
        strbuf_addf(&g->err, "a Singer message must be a JSON object, not %s",
                    kind_of(&g->doc.tok[0]));
        return GATE_BAD_INPUT;
    }
    read_envelope(&g->doc, &e);
    if (e.type < 0) {
        strbuf_adds(&g->err, "the message has no 'type'; Singer messages are "
                             "SCHEMA, RECORD, STATE or ACTIVATE_VERSION");
        return GATE_BAD_INPUT;
    }
    rc = string_member(g, e.type, "'type'");
    if (rc != GATE_OK)
        return rc;
    if (strcasecmp(g->text.data, "RECORD") == 0)
        return on_record(g, &e);
    if (strcasecmp(g->text.data, "SCHEMA") == 0)
        return on_schema(g, &e);
    if (strcasecmp(g->text.data, "STATE") == 0)
        return on_state(g, &e);
    if (strcasecmp(g->text.data, "ACTIVATE_VERSION") == 0)
        return on_activate_version(g, &e);
    log_debug("%s:%" PRIu64 ": skipping a message of type '%.40s'", g->file,
              g->line, g->text.data);
    return GATE_OK;
}

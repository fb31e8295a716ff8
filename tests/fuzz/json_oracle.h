/*
 * json_oracle.h - the checks the JSON unit test and the JSON fuzz target
 * share: tape invariants, tape shape equality, and jansson as an oracle
 * with dray's deliberate differences from it.
 *
 * Header-only (static functions): included by tests/sdk/unit/test_json.c
 * and tests/fuzz/fuzz_json.c. Each check returns NULL when all is well, or
 * a description of the first problem.
 */
#ifndef DRAY_JSON_ORACLE_H
#define DRAY_JSON_ORACLE_H

#include "dray/dray_json.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* jansson's nesting limit (JSON_PARSER_MAX_DEPTH). */
#define ORACLE_JANSSON_DEPTH 2048

/*
 * Where dray and jansson disagree on purpose. jansson runs with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL, so "\u0000" in a string value agrees.
 */
enum oracle_diff {
    ORACLE_SAME = 0,
    /* Numbers keep their source text: dray accepts any grammatical number;
       jansson refuses integers beyond int64 and reals beyond a double. */
    ORACLE_DIFF_NUMBER_RANGE,
    /* "\u0000" in a member name: dray accepts it (DRAY_JSON_F_NUL), jansson
       refuses it even with JSON_ALLOW_NUL. */
    ORACLE_DIFF_NUL_IN_KEY,
    /* Nesting: dray's default limit is 512 levels, jansson's 2048. */
    ORACLE_DIFF_DEPTH,
    /* A NUL byte right after a number or literal ("[1\0]"): jansson skips
       it (its lexer takes a pushed-back NUL for an empty buffer); it is
       not white space, so dray refuses it. */
    ORACLE_DIFF_NUL_AFTER_TOKEN
};

static char oracle_msg[256];

/* Token i's subtree, recursively: depths, ends, counts, member names and
   where each token points in the text. Returns the index after it. */
static inline uint32_t oracle_walk(const struct dray_json_doc *d, uint32_t i,
                                   unsigned depth, const char **why)
{
    const struct dray_json_token *t;
    const char *x = d->text;
    uint32_t j;

    if (*why != NULL)
        return i;
    if (i >= d->n_tok) {
        *why = "subtree runs past the tape";
        return i;
    }
    t = &d->tok[i];
    if (t->depth != depth || (size_t)t->offset + t->len > d->text_len ||
        t->type < DRAY_JSON_NULL || t->type > DRAY_JSON_ARRAY) {
        snprintf(oracle_msg, sizeof oracle_msg,
                 "token %u: bad depth, type or extent", (unsigned)i);
        *why = oracle_msg;
        return i;
    }
    if (t->type == DRAY_JSON_STRING &&
        (t->offset == 0 || x[t->offset - 1] != '"' ||
         t->offset + t->len >= d->text_len || x[t->offset + t->len] != '"'))
        *why = "string token not between quotes";
    if (t->type < DRAY_JSON_OBJECT) {
        if (t->end != i + 1 || t->count != 0)
            *why = "scalar token with a subtree";
        return i + 1;
    }
    if (x[t->offset] != (t->type == DRAY_JSON_OBJECT ? '{' : '[') ||
        x[t->offset + t->len - 1] != (t->type == DRAY_JSON_OBJECT ? '}' : ']'))
        *why = "container extent not bracketed";
    j = i + 1;
    for (uint32_t k = 0; k < t->count && *why == NULL; k++) {
        if (t->type == DRAY_JSON_OBJECT) {
            if (j >= d->n_tok || d->tok[j].type != DRAY_JSON_STRING ||
                !(d->tok[j].flags & DRAY_JSON_F_KEY) ||
                d->tok[j].depth != depth + 1) {
                *why = "object member without a key token";
                return j;
            }
            j++;
        }
        j = oracle_walk(d, j, depth + 1, why);
    }
    if (*why == NULL && j != t->end) {
        snprintf(oracle_msg, sizeof oracle_msg,
                 "token %u: end %u but subtree ends at %u", (unsigned)i,
                 (unsigned)t->end, (unsigned)j);
        *why = oracle_msg;
    }
    return t->end;
}

static inline const char *oracle_check_tape(const struct dray_json_doc *d)
{
    const char *why = NULL;

    if (d->n_tok == 0)
        return "empty tape";
    if (oracle_walk(d, 0, 0, &why) != d->n_tok && why == NULL)
        why = "tokens after the top-level value";
    return why;
}

/* Decodes string token i into buf; returns the decoded length. */
static inline size_t oracle_string(const struct dray_json_doc *d, uint32_t i,
                                   struct dray_buf *buf)
{
    dray_buf_reset(buf);
    if (dray_json_string(d, i, buf) != 0)
        return (size_t)-1;
    return buf->len;
}

/* Same types, depths, ends, counts and flags (but ESCAPED, which "\/"
   written as "/" may drop), same decoded strings and number texts. */
static inline const char *oracle_same_shape(const struct dray_json_doc *a,
                                            const struct dray_json_doc *b)
{
    struct dray_buf sa = DRAY_BUF_INIT, sb = DRAY_BUF_INIT;
    const char *why = NULL;

    if (a->n_tok != b->n_tok)
        return "different token counts";
    for (uint32_t i = 0; i < a->n_tok && why == NULL; i++) {
        const struct dray_json_token *x = &a->tok[i], *y = &b->tok[i];

        if (x->type != y->type || x->depth != y->depth || x->end != y->end ||
            x->count != y->count ||
            ((x->flags ^ y->flags) & ~DRAY_JSON_F_ESCAPED))
            why = "token differs";
        else if (x->type == DRAY_JSON_NUMBER &&
                 (x->len != y->len ||
                  memcmp(a->text + x->offset, b->text + y->offset, x->len)))
            why = "number text differs";
        else if (x->type == DRAY_JSON_STRING &&
                 (oracle_string(a, i, &sa) != oracle_string(b, i, &sb) ||
                  memcmp(sa.data, sb.data, sa.len) != 0))
            why = "string differs";
        if (why != NULL) {
            snprintf(oracle_msg, sizeof oracle_msg, "token %u: %.200s",
                     (unsigned)i, why);
            why = oracle_msg;
        }
    }
    dray_buf_release(&sa);
    dray_buf_release(&sb);
    return why;
}

/* Writes token 0 of doc compactly into out, parses that into again and
   compares the shapes; in the output a blank may stand only in a string. */
static inline const char *oracle_check_rewrite(const struct dray_json_doc *doc,
                                               struct dray_json_doc *again,
                                               struct dray_buf *out)
{
    struct dray_json_error err;
    struct dray_sink sink;
    const char *why;
    uint32_t k = 0;

    dray_buf_reset(out);
    dray_sink_to_buf(&sink, out);
    if (dray_json_write(doc, 0, &sink) != 0)
        return "dray_json_write failed";
    if (dray_json_parse(again, out->data, out->len, &err) != 0) {
        snprintf(oracle_msg, sizeof oracle_msg,
                 "written JSON does not parse: %s at %zu", err.message,
                 err.offset);
        return oracle_msg;
    }
    if ((why = oracle_same_shape(doc, again)) != NULL)
        return why;
    for (size_t i = 0; i < out->len; i++) {
        const struct dray_json_token *t;

        if (out->data[i] != ' ' && out->data[i] != '\t' &&
            out->data[i] != '\r' && out->data[i] != '\n')
            continue;
        /* Tokens are in text order: pass the strings that end before i. */
        while (k < again->n_tok &&
               (again->tok[k].type != DRAY_JSON_STRING ||
                (size_t)again->tok[k].offset + again->tok[k].len <= i))
            k++;
        t = k < again->n_tok ? &again->tok[k] : NULL;
        if (t == NULL || t->offset > i)
            return "a blank outside strings in compact output";
    }
    return NULL;
}

/* Token i agrees with jansson's value v: type, size, each element, each
   member's last value, each decoded string. */
static inline const char *oracle_agree(const struct dray_json_doc *d,
                                       uint32_t i, const json_t *v,
                                       struct dray_buf *s)
{
    const struct dray_json_token *t = &d->tok[i];
    const char *why = NULL;
    uint32_t j;

    switch (t->type) {
    case DRAY_JSON_NULL:
        return json_is_null(v) ? NULL : "null differs";
    case DRAY_JSON_TRUE:
        return json_is_true(v) ? NULL : "true differs";
    case DRAY_JSON_FALSE:
        return json_is_false(v) ? NULL : "false differs";
    case DRAY_JSON_NUMBER:
        if ((t->flags & DRAY_JSON_F_INTEGER) ? !json_is_integer(v)
                                             : !json_is_real(v))
            return "number kind differs";
        return NULL;
    case DRAY_JSON_STRING:
        if (!json_is_string(v) ||
            oracle_string(d, i, s) != json_string_length(v) ||
            memcmp(s->data, json_string_value(v), s->len) != 0)
            return "string differs";
        return NULL;
    case DRAY_JSON_ARRAY:
        if (!json_is_array(v) || json_array_size(v) != t->count)
            return "array differs";
        j = i + 1;
        for (size_t k = 0; k < t->count && why == NULL; k++) {
            why = oracle_agree(d, j, json_array_get(v, k), s);
            j = d->tok[j].end;
        }
        return why;
    default:
        if (!json_is_object(v) || json_object_size(v) > t->count)
            return "object differs";
        j = i + 1;
        for (size_t k = 0; k < t->count && why == NULL; k++) {
            json_t *m;

            oracle_string(d, j, s);
            m = json_object_getn(v, s->data, s->len);
            if (m == NULL)
                why = "member missing in jansson's object";
            else if (dray_json_get(d, i, s->data, s->len) != (int32_t)j + 1)
                ; /* a duplicate name: jansson keeps the last, so do we */
            else
                why = oracle_agree(d, j + 1, m, s);
            j = d->tok[j + 1].end;
        }
        return why;
    }
}

/* Copies text to out without the NUL bytes that follow a letter or digit
   (the ones jansson skips); returns how many were dropped. */
static inline size_t oracle_strip_nuls(const char *text, size_t len,
                                       struct dray_buf *out)
{
    size_t dropped = 0;

    dray_buf_reset(out);
    for (size_t i = 0; i < len; i++) {
        unsigned char prev = i ? (unsigned char)text[i - 1] : 0;

        if (text[i] == '\0' && prev < 0x80 &&
            ((prev >= '0' && prev <= '9') ||
             ((prev | 0x20) >= 'a' && (prev | 0x20) <= 'z')))
            dropped++;
        else if (dray_buf_addc(out, text[i]) != 0)
            return 0;
    }
    return dropped;
}

/*
 * Parses text with dray (into doc) and with jansson and compares: the
 * verdict, and on acceptance the tape and the values. Returns NULL when
 * they agree or differ only as *diff says, else what went wrong. *dray_ok
 * gets dray's verdict (with the default depth limit). Where the difference
 * is deliberate, dray's side is re-checked without its cause (at jansson's
 * depth, without the NULs jansson skips), and doc may then point into a
 * copy of text kept until the next call.
 */
static inline const char *oracle_compare(struct dray_json_doc *doc,
                                         const char *text, size_t len,
                                         int *dray_ok, enum oracle_diff *diff)
{
    static struct dray_buf copy;
    struct dray_json_error err;
    struct dray_buf s = DRAY_BUF_INIT;
    json_error_t jerr;
    json_t *v;
    const char *why = NULL;
    uint32_t depth = doc->max_depth;
    int rc;

    *diff = ORACLE_SAME;
    rc = dray_json_parse(doc, text, len, &err);
    if (rc == -2)
        return "dray ran out of memory";
    *dray_ok = rc == 0;
    v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (rc != 0 && v != NULL) {
        if (strstr(err.message, "nesting deeper") != NULL) {
            doc->max_depth = ORACLE_JANSSON_DEPTH;
            rc = dray_json_parse(doc, text, len, &err);
            doc->max_depth = depth;
            *diff = ORACLE_DIFF_DEPTH;
        } else if (oracle_strip_nuls(text, len, &copy) > 0) {
            rc = dray_json_parse(doc, copy.data, copy.len, &err);
            *diff = ORACLE_DIFF_NUL_AFTER_TOKEN;
        }
    }
    if (rc == 0 && v == NULL) {
        if (json_error_code(&jerr) == json_error_numeric_overflow)
            *diff = ORACLE_DIFF_NUMBER_RANGE;
        else if (json_error_code(&jerr) == json_error_null_byte_in_key)
            *diff = ORACLE_DIFF_NUL_IN_KEY;
        else {
            snprintf(oracle_msg, sizeof oracle_msg,
                     "dray accepts, jansson refuses: %s at %d", jerr.text,
                     jerr.position);
            why = oracle_msg;
        }
    } else if (rc != 0 && v != NULL) {
        snprintf(oracle_msg, sizeof oracle_msg,
                 "jansson accepts, dray refuses: %s at %zu", err.message,
                 err.offset);
        why = oracle_msg;
    } else if (rc == 0) {
        why = oracle_check_tape(doc);
        if (why == NULL)
            why = oracle_agree(doc, 0, v, &s);
    }
    json_decref(v);
    dray_buf_release(&s);
    return why;
}

#endif

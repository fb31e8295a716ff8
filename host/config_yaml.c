/*
 * config_yaml.c - the config file as a libyaml document, and the helpers
 * config.c walks it with: messages with positions, key checks, scalars.
 *
 * config.c only ever walks the document to a fixed depth, so aliases (even
 * one pointing at its own parent) cannot make it loop or blow up.
 */
#include "config_internal.h"
#include "suggest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct config_mark no_mark = {0, 0};

int config_fail(struct config_file *f, struct config_mark mark, const char *fmt,
                ...)
{
    va_list ap;
    int n;

    if (f->errbuf == NULL || f->errlen == 0)
        return -1;
    if (mark.line > 0)
        n = snprintf(f->errbuf, f->errlen, "%s:%d:%d: ", f->path, mark.line,
                     mark.column);
    else
        n = snprintf(f->errbuf, f->errlen, "%s: ", f->path);
    if (n < 0 || (size_t)n >= f->errlen)
        return -1;
    va_start(ap, fmt);
    vsnprintf(f->errbuf + n, f->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

struct config_mark config_mark_of(const yaml_node_t *node)
{
    struct config_mark mark = {0, 0};

    if (node != NULL) {
        mark.line = (int)node->start_mark.line + 1;
        mark.column = (int)node->start_mark.column + 1;
    }
    return mark;
}

static int read_file(const char *path, unsigned char **data, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, used = 0;
    int saved;

    if (fp == NULL)
        return -1;
    for (;;) {
        if (cap - used < 4096) {
            unsigned char *grown = realloc(buf, cap ? cap * 2 : 8192);

            if (grown == NULL) {
                errno = ENOMEM;
                goto fail;
            }
            buf = grown;
            cap = cap ? cap * 2 : 8192;
        }
        size_t got = fread(buf + used, 1, cap - used, fp);
        used += got;
        if (got == 0) {
            if (ferror(fp))
                goto fail; /* errno from the read, e.g. EISDIR */
            break;
        }
    }
    fclose(fp);
    *data = buf;
    *len = used;
    return 0;
fail:
    saved = errno;
    fclose(fp);
    free(buf);
    errno = saved;
    return -1;
}

/* Reader errors carry a byte offset only; count lines and characters. */
static struct config_mark mark_at_offset(const unsigned char *data, size_t len,
                                         size_t offset)
{
    struct config_mark mark = {1, 1};

    for (size_t i = 0; i < offset && i < len; i++) {
        if (data[i] == '\n') {
            mark.line++;
            mark.column = 1;
        } else if ((data[i] & 0xC0) != 0x80) {
            mark.column++;
        }
    }
    return mark;
}

static void syntax_error(struct config_file *f, const yaml_parser_t *parser,
                         const unsigned char *data, size_t len)
{
    struct config_mark mark;
    const char *problem = parser->problem ? parser->problem : "unknown error";

    if (parser->error == YAML_MEMORY_ERROR) {
        config_fail(f, no_mark, "out of memory while reading the file");
        return;
    }
    if (parser->error == YAML_READER_ERROR) {
        mark = mark_at_offset(data, len, parser->problem_offset);
    } else {
        mark.line = (int)parser->problem_mark.line + 1;
        mark.column = (int)parser->problem_mark.column + 1;
    }
    if (parser->context != NULL)
        config_fail(f, mark, "YAML syntax error: %s (%s)", problem,
                    parser->context);
    else
        config_fail(f, mark, "YAML syntax error: %s", problem);
}

int config_file_load(struct config_file *f, const char *path, char *errbuf,
                     size_t errlen)
{
    yaml_parser_t parser;
    yaml_document_t extra;
    yaml_node_t *root;
    unsigned char *data = NULL;
    size_t len = 0;
    int parser_ready = 0, more, rc = -1;
    struct config_mark extra_mark;

    memset(f, 0, sizeof(*f));
    f->path = path;
    f->errbuf = errbuf;
    f->errlen = errlen;
    if (read_file(path, &data, &len) < 0) {
        config_fail(f, no_mark, "cannot read: %s", strerror(errno));
        goto cleanup;
    }
    if (!yaml_parser_initialize(&parser)) {
        config_fail(f, no_mark, "out of memory");
        goto cleanup;
    }
    parser_ready = 1;
    yaml_parser_set_input_string(&parser, data, len);
    if (!yaml_parser_load(&parser, &f->doc)) {
        syntax_error(f, &parser, data, len);
        goto cleanup;
    }
    f->loaded = 1;

    /* A second document would be silently ignored; say so instead. */
    if (!yaml_parser_load(&parser, &extra)) {
        syntax_error(f, &parser, data, len);
        goto cleanup;
    }
    more = yaml_document_get_root_node(&extra) != NULL;
    extra_mark.line = (int)extra.start_mark.line + 1;
    extra_mark.column = (int)extra.start_mark.column + 1;
    yaml_document_delete(&extra);
    if (more) {
        config_fail(f, extra_mark,
                    "a second YAML document starts here; keep everything in "
                    "one document (remove the '---' line)");
        goto cleanup;
    }

    /* A lone "---" gives an empty scalar: as empty as no document. */
    root = yaml_document_get_root_node(&f->doc);
    if (root == NULL ||
        (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0 &&
         root->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)) {
        config_fail(f, no_mark,
                    "the file is empty; start from "
                    "examples/quickstart/dray.yml");
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (parser_ready)
        yaml_parser_delete(&parser);
    free(data);
    if (rc < 0)
        config_file_release(f);
    return rc;
}

void config_file_release(struct config_file *f)
{
    if (f->loaded)
        yaml_document_delete(&f->doc);
    f->loaded = 0;
}

yaml_node_t *config_file_root(struct config_file *f)
{
    return f->loaded ? yaml_document_get_root_node(&f->doc) : NULL;
}

yaml_node_t *config_file_node(struct config_file *f, int index)
{
    return f->loaded ? yaml_document_get_node(&f->doc, index) : NULL;
}

int config_is_null(const yaml_node_t *node)
{
    const char *text, *tag;

    if (node == NULL || node->type != YAML_SCALAR_NODE)
        return 0;
    tag = (const char *)node->tag;
    if (tag != NULL && strcmp(tag, YAML_NULL_TAG) == 0)
        return 1;
    /* Only plain scalars are null; "" and 'null' are strings. */
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    text = (const char *)node->data.scalar.value;
    return text[0] == '\0' || strcmp(text, "~") == 0 ||
           strcmp(text, "null") == 0 || strcmp(text, "Null") == 0 ||
           strcmp(text, "NULL") == 0;
}

const char *config_kind(const yaml_node_t *node)
{
    if (node == NULL || config_is_null(node))
        return "empty";
    if (node->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (node->type == YAML_SEQUENCE_NODE)
        return "a list";
    return "a single value";
}

yaml_node_t *config_map_get(struct config_file *f, yaml_node_t *map,
                            const char *key)
{
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = config_file_node(f, pair->key);

        if (k != NULL && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return config_file_node(f, pair->value);
    }
    return NULL;
}

static int has_nul(const yaml_node_t *node)
{
    return strlen((const char *)node->data.scalar.value) !=
           node->data.scalar.length;
}

static int check_known(struct config_file *f, yaml_node_t *key,
                       const char *const *valid, const char *where)
{
    const char *name = (const char *)key->data.scalar.value;
    const char *guess;
    struct config_shown shown;
    char list[256];
    size_t n = 0;

    while (valid[n] != NULL) {
        if (strcmp(valid[n], name) == 0)
            return 0;
        n++;
    }
    guess = suggest_closest(name, valid, n);
    if (guess != NULL)
        return config_fail(f, config_mark_of(key),
                           "unknown key '%s' %s; did you mean '%s'?",
                           config_show(&shown, name), where, guess);
    config_join_names(list, sizeof(list), valid, n, n);
    return config_fail(f, config_mark_of(key),
                       "unknown key '%s' %s; valid keys are %s",
                       config_show(&shown, name), where, list);
}

int config_check_keys(struct config_file *f, yaml_node_t *map,
                      const char *const *valid, const char *where)
{
    size_t n =
        (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    struct config_name *names = NULL;
    yaml_node_t *key;
    struct config_shown shown;
    size_t first = 0, second = 0;
    int rc = -1;

    if (n == 0)
        return 0;
    names = calloc(n, sizeof(*names));
    if (names == NULL)
        return config_fail(f, no_mark, "out of memory");
    for (size_t i = 0; i < n; i++) {
        key = config_file_node(f, map->data.mapping.pairs.start[i].key);
        if (key == NULL || key->type != YAML_SCALAR_NODE) {
            config_fail(f, config_mark_of(key),
                        "a key %s is %s; keys must be plain names", where,
                        config_kind(key));
            goto cleanup;
        }
        if (has_nul(key)) {
            config_fail(f, config_mark_of(key),
                        "a key %s holds a NUL character; remove it", where);
            goto cleanup;
        }
        names[i].name = (const char *)key->data.scalar.value;
        names[i].index = i;
    }
    if (config_sort_names(names, n, &first, &second)) {
        yaml_node_t *was =
            config_file_node(f, map->data.mapping.pairs.start[first].key);
        struct config_mark was_mark = config_mark_of(was);

        key = config_file_node(f, map->data.mapping.pairs.start[second].key);
        config_fail(f, config_mark_of(key),
                    "key '%s' appears twice %s (first at line %d, column "
                    "%d); keep one of them",
                    config_show(&shown, (const char *)key->data.scalar.value),
                    where, was_mark.line, was_mark.column);
        goto cleanup;
    }
    if (valid != NULL) {
        for (size_t i = 0; i < n; i++) {
            key = config_file_node(f, map->data.mapping.pairs.start[i].key);
            if (check_known(f, key, valid, where) < 0)
                goto cleanup;
        }
    }
    rc = 0;
cleanup:
    free(names);
    return rc;
}

int config_scalar(struct config_file *f, yaml_node_t *node, const char *what,
                  char **out)
{
    char why[256];

    *out = NULL;
    if (node->type != YAML_SCALAR_NODE)
        return config_fail(f, config_mark_of(node),
                           "%s must be a single value, not %s; quote it if "
                           "it is meant as text",
                           what, config_kind(node));
    if (config_is_null(node))
        return config_fail(f, config_mark_of(node),
                           "%s has no value; give one, or remove the line",
                           what);
    if (has_nul(node))
        return config_fail(f, config_mark_of(node),
                           "%s holds a NUL character; remove it", what);
    if (config_expand_env((const char *)node->data.scalar.value, out, why,
                          sizeof(why)) < 0)
        return config_fail(f, config_mark_of(node), "%s", why);
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    const struct config_name *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    return (x->index > y->index) - (x->index < y->index);
}

int config_sort_names(struct config_name *names, size_t n, size_t *first,
                      size_t *second)
{
    int found = 0;

    /* Sorting keeps large files O(n log n) where pairwise checks are not. */
    if (n > 1)
        qsort(names, n, sizeof(*names), compare_names);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(names[i - 1].name, names[i].name) != 0)
            continue;
        /* Within a run, i - 1 is the first use only at the run's start,
           and later members of the run never beat its first repeat. */
        if (!found || names[i].index < *second) {
            *first = names[i - 1].index;
            *second = names[i].index;
            found = 1;
        }
    }
    return found;
}

void config_join_names(char *dst, size_t len, const char *const *names,
                       size_t n, size_t max)
{
    size_t used = 0;

    if (len == 0)
        return;
    dst[0] = '\0';
    for (size_t i = 0; i < n && i < max && used < len; i++) {
        int w =
            snprintf(dst + used, len - used, "%s'%s'", i ? ", " : "", names[i]);
        if (w < 0)
            return;
        used += (size_t)w;
    }
    if (n > max && used < len)
        snprintf(dst + used, len - used, " and %zu more", n - max);
}

const char *config_show(struct config_shown *shown, const char *s)
{
    const size_t keep = sizeof(shown->text) - 4; /* room for "..." */
    size_t i = 0;

    for (; s[i] != '\0' && i < keep; i++) {
        unsigned char c = (unsigned char)s[i];

        shown->text[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (s[i] != '\0') {
        /* Cut on a character boundary, then mark the cut. */
        while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
            i--;
        memcpy(shown->text + i, "...", 4);
    } else {
        shown->text[i] = '\0';
    }
    return shown->text;
}

/*
 * config_env.c - ${VAR} expansion in config values.
 *
 * ${VAR} takes the variable, ${VAR:-default} the default when VAR is unset
 * or empty, $${ is a literal ${ and any other $ is literal. The substituted
 * text is not scanned again, so a value can never expand itself.
 */
#include "config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct env_buf {
    char *data;
    size_t len;
    size_t cap;
};

static int buf_add(struct env_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *grown;

        while (cap < b->len + n + 1)
            cap *= 2;
        grown = realloc(b->data, cap);
        if (grown == NULL)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int is_name_start(char c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/*
 * Expands the reference starting at ref ("${...") into b and points *next
 * past its '}'. Messages never quote the value around the reference: it
 * may be a secret.
 */
static int expand_ref(const char *ref, struct env_buf *b, const char **next,
                      char *why, size_t whylen)
{
    const char *name = ref + 2, *end = name, *deflt = NULL, *value;
    size_t deflt_len = 0, name_len;
    char *var = NULL;
    int rc = -1;

    if (strchr(name, '}') == NULL) {
        snprintf(why, whylen,
                 "a '${' in this value is not closed; add the '}', or "
                 "write '$${' for a literal '${'");
        return -1;
    }
    if (!is_name_start(*end)) {
        snprintf(why, whylen,
                 "a '${...}' in this value does not hold a variable name; "
                 "names use A-Z, a-z, 0-9 and '_' and do not start with a "
                 "digit (write '$${' for a literal '${')");
        return -1;
    }
    while (is_name_char(*end))
        end++;
    name_len = (size_t)(end - name);
    if (end[0] == ':' && end[1] == '-') {
        deflt = end + 2;
        end = strchr(deflt, '}');
        deflt_len = (size_t)(end - deflt);
        /* Defaults are plain text; nesting would need a second pass. */
        for (const char *p = deflt; p + 1 < end; p++) {
            if (p[0] == '$' && p[1] == '{') {
                snprintf(why, whylen,
                         "a default in this value holds '${'; defaults are "
                         "plain text, so write the text itself");
                return -1;
            }
        }
    } else if (*end != '}') {
        snprintf(why, whylen,
                 "a '${...}' in this value is malformed; write ${NAME} or "
                 "${NAME:-default}");
        return -1;
    }

    var = strndup(name, name_len);
    if (var == NULL)
        goto oom;
    value = getenv(var);
    if (deflt != NULL && (value == NULL || value[0] == '\0')) {
        if (buf_add(b, deflt, deflt_len) < 0)
            goto oom;
    } else if (value == NULL) {
        snprintf(why, whylen,
                 "environment variable '%s' is not set; set it, or give a "
                 "default with ${%s:-value}",
                 var, var);
        goto cleanup;
    } else if (buf_add(b, value, strlen(value)) < 0) {
        goto oom;
    }
    *next = end + 1;
    rc = 0;
    goto cleanup;
oom:
    snprintf(why, whylen, "out of memory");
cleanup:
    free(var);
    return rc;
}

int config_expand_env(const char *text, char **out, char *why, size_t whylen)
{
    struct env_buf b = {NULL, 0, 0};
    const char *p = text;

    *out = NULL;
    if (buf_add(&b, "", 0) < 0)
        goto oom;
    while (*p != '\0') {
        const char *dollar = strchr(p, '$');

        if (dollar == NULL) {
            if (buf_add(&b, p, strlen(p)) < 0)
                goto oom;
            break;
        }
        if (buf_add(&b, p, (size_t)(dollar - p)) < 0)
            goto oom;
        if (dollar[1] == '$' && dollar[2] == '{') {
            if (buf_add(&b, "${", 2) < 0)
                goto oom;
            p = dollar + 3;
        } else if (dollar[1] != '{') {
            if (buf_add(&b, "$", 1) < 0)
                goto oom;
            p = dollar + 1;
        } else if (expand_ref(dollar, &b, &p, why, whylen) < 0) {
            free(b.data);
            return -1;
        }
    }
    *out = b.data;
    return 0;
oom:
    free(b.data);
    snprintf(why, whylen, "out of memory");
    return -1;
}

/*
 * http_response.c - reading and releasing a struct dray_http_response.
 */
#include <string.h>
#include <strings.h>

#include "dray/dray_http.h"

void dray_http_response_release(struct dray_http_response *resp)
{
    if (resp == NULL)
        return;
    dray_buf_release(&resp->body);
    dray_buf_release(&resp->headers);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

const char *dray_http_response_header(const struct dray_http_response *resp,
                                      const char *name, char *buf, size_t size)
{
    const char *p, *end;
    size_t nlen;

    if (resp == NULL || name == NULL || buf == NULL || size == 0 ||
        resp->headers.data == NULL)
        return NULL;
    nlen = strlen(name);
    p = resp->headers.data;
    end = p + resp->headers.len;
    /* Lines are "name: value\n", as the header callback stored them. */
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *v, *ve;
        size_t n;

        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
            strncasecmp(p, name, nlen) == 0) {
            v = p + nlen + 1;
            ve = eol;
            while (v < ve && is_blank(*v))
                v++;
            while (ve > v && is_blank(ve[-1]))
                ve--;
            n = (size_t)(ve - v);
            if (n >= size)
                n = size - 1;
            memcpy(buf, v, n);
            buf[n] = '\0';
            return buf;
        }
        p = eol + 1;
    }
    return NULL;
}

/*
 * rp_map.c - open addressing with linear probing, FNV-1a, grown at half
 * full.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_map.h"

struct slot {
    char *key;
    size_t value;
};

struct rp_map {
    struct slot *s;
    size_t cap, n;
};

static uint64_t hash(const char *k)
{
    uint64_t h = 1469598103934665603ull;

    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return h;
}

struct rp_map *rp_map_new(void)
{
    struct rp_map *m = calloc(1, sizeof(*m));

    if (m == NULL)
        return NULL;
    m->cap = 64;
    m->s = calloc(m->cap, sizeof(*m->s));
    if (m->s == NULL) {
        free(m);
        return NULL;
    }
    return m;
}

void rp_map_free(struct rp_map *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->s[i].key);
    free(m->s);
    free(m);
}

static struct slot *find(const struct rp_map *m, const char *key)
{
    size_t i = (size_t)hash(key) & (m->cap - 1);

    while (m->s[i].key != NULL && strcmp(m->s[i].key, key) != 0)
        i = (i + 1) & (m->cap - 1);
    return &m->s[i];
}

static int grow(struct rp_map *m)
{
    struct rp_map bigger = {calloc(m->cap * 2, sizeof(struct slot)), m->cap * 2,
                            m->n};

    if (bigger.s == NULL)
        return -2;
    for (size_t i = 0; i < m->cap; i++)
        if (m->s[i].key != NULL)
            *find(&bigger, m->s[i].key) = m->s[i];
    free(m->s);
    *m = bigger;
    return 0;
}

int rp_map_put(struct rp_map *m, const char *key, size_t value)
{
    struct slot *s;

    if (2 * (m->n + 1) > m->cap && grow(m) != 0)
        return -2;
    s = find(m, key);
    if (s->key == NULL) {
        if ((s->key = strdup(key)) == NULL)
            return -2;
        m->n++;
    }
    s->value = value;
    return 0;
}

int rp_map_get(const struct rp_map *m, const char *key, size_t *value)
{
    const struct slot *s = find(m, key);

    if (s->key == NULL)
        return 0;
    if (value != NULL)
        *value = s->value;
    return 1;
}

/*
 * schema_access.c - reading a parsed schema: the child lookup (hashed, so
 * a record of a 5,000-column stream does not scan siblings per field), the
 * ABI view, and the small id table both the lookup and the parser use.
 */
#include "schema_internal.h"

#include <stdlib.h>
#include <string.h>

struct dray__schema_index {
    struct dray__idtab tab; /* (parent, name) of every named node */
};

uint32_t dray__hash_bytes(const void *p, size_t n, uint32_t seed)
{
    const unsigned char *b = p;
    uint32_t h = 2166136261u ^ seed; /* FNV-1a */

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

int dray__grow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t n = *cap ? *cap : 8;
    void *old, *np;

    if (need <= *cap)
        return 0;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size)
            return -2;
        n *= 2;
    }
    /* p points at a pointer of some object type: copied, not punned. */
    memcpy(&old, p, sizeof(old));
    np = realloc(old, n * size);
    if (np == NULL)
        return -2;
    memcpy(p, &np, sizeof(np));
    *cap = n;
    return 0;
}

static void idtab_put(struct dray__idslot *slot, size_t mask, uint32_t hash,
                      int32_t id)
{
    size_t i = hash & mask;

    while (slot[i].id >= 0)
        i = (i + 1) & mask;
    slot[i].id = id;
    slot[i].hash = hash;
}

int dray__idtab_add(struct dray__idtab *t, uint32_t hash, int32_t id)
{
    /* Kept at most half full: probes stay short. */
    if ((t->n + 1) * 2 > t->mask + 1 || t->slot == NULL) {
        size_t n = t->slot ? (t->mask + 1) * 2 : 16;
        struct dray__idslot *slot;

        if (n > SIZE_MAX / sizeof(*slot))
            return -2;
        slot = malloc(n * sizeof(*slot));
        if (slot == NULL)
            return -2;
        for (size_t i = 0; i < n; i++)
            slot[i].id = -1;
        for (size_t i = 0; t->slot && i <= t->mask; i++)
            if (t->slot[i].id >= 0)
                idtab_put(slot, n - 1, t->slot[i].hash, t->slot[i].id);
        free(t->slot);
        t->slot = slot;
        t->mask = n - 1;
    }
    idtab_put(t->slot, t->mask, hash, id);
    t->n++;
    return 0;
}

int32_t dray__idtab_find(const struct dray__idtab *t, uint32_t hash,
                         dray__id_eq eq, const void *ctx)
{
    size_t i;

    if (t->slot == NULL)
        return -1;
    for (i = hash & t->mask; t->slot[i].id >= 0; i = (i + 1) & t->mask)
        if (t->slot[i].hash == hash && eq(ctx, t->slot[i].id))
            return t->slot[i].id;
    return -1;
}

void dray__idtab_release(struct dray__idtab *t)
{
    free(t->slot);
    memset(t, 0, sizeof(*t));
}

/* ---- child lookup ---- */

struct child_key {
    const struct dray_schema *s;
    int32_t parent;
    const char *name;
    size_t n;
};

static uint32_t child_hash(int32_t parent, const char *name, size_t n)
{
    return dray__hash_bytes(name, n, (uint32_t)parent * 2654435761u);
}

static int child_eq(const void *ctx, int32_t id)
{
    const struct child_key *k = ctx;
    const struct dray_schema_field *f = &k->s->nodes[id];

    return f->parent == k->parent && strncmp(f->name, k->name, k->n) == 0 &&
           f->name[k->n] == '\0';
}

/* Items nodes are reached through .items, never by name. */
static int is_named(const struct dray_schema_field *f)
{
    return f->parent >= 0 && !(f->flags & DRAY_NODE_ITEMS);
}

int dray__schema_index_build(struct dray_schema *s)
{
    struct dray__schema_index *ix = calloc(1, sizeof(*ix));

    if (ix == NULL)
        return -2;
    for (int32_t i = 0; i < s->n_nodes; i++) {
        const struct dray_schema_field *f = &s->nodes[i];
        if (is_named(f) &&
            dray__idtab_add(&ix->tab,
                            child_hash(f->parent, f->name, strlen(f->name)),
                            i) != 0) {
            dray__idtab_release(&ix->tab);
            free(ix);
            return -2;
        }
    }
    s->index = ix;
    return 0;
}

void dray__schema_index_free(struct dray_schema *s)
{
    if (s->index == NULL)
        return;
    dray__idtab_release(&s->index->tab);
    free(s->index);
    s->index = NULL;
}

int32_t dray_schema_child(const struct dray_schema *s, int32_t parent,
                          const char *name, size_t n)
{
    struct child_key key = {s, parent, name, n};

    if (s == NULL || parent < 0 || parent >= s->n_nodes ||
        (name == NULL && n > 0) || memchr(name ? name : "", '\0', n))
        return -1;
    if (name == NULL)
        key.name = "";
    if (s->index)
        return dray__idtab_find(&s->index->tab, child_hash(parent, key.name, n),
                                child_eq, &key);
    /* A schema put together by hand has no index: walk the siblings. */
    for (int32_t c = s->nodes[parent].first_child; c >= 0;
         c = s->nodes[c].next_sibling)
        if (is_named(&s->nodes[c]) && child_eq(&key, c))
            return c;
    return -1;
}

/* ---- the ABI view ---- */

void dray_schema_view(const struct dray_schema *s, int32_t i,
                      struct dray_schema_node *out)
{
    struct dray_schema_node full;
    const struct dray_schema_field *f;
    size_t n;

    if (s == NULL || out == NULL || i < 0 || i >= s->n_nodes)
        return;
    f = &s->nodes[i];
    memset(&full, 0, sizeof(full));
    full.hdr = (struct dray_hdr)DRAY_HDR_INIT(struct dray_schema_node);
    full.name = f->name;
    full.parent = f->parent;
    full.depth = f->depth;
    full.json_types = f->json_types;
    full.format = f->format;
    full.flags = f->flags & 0xffffu; /* SDK-only bits stay home */
    full.scale = f->scale;
    full.multiple_of = f->multiple_of;
    /* The caller's header says how much of the struct it has; a reader
       built against an older minor gets only what it knows. */
    n = out->hdr.struct_size < sizeof(full) ? out->hdr.struct_size
                                            : sizeof(full);
    if (n > sizeof(struct dray_hdr))
        memcpy((char *)out + sizeof(struct dray_hdr),
               (const char *)&full + sizeof(struct dray_hdr),
               n - sizeof(struct dray_hdr));
}

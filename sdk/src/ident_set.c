/*
 * The collision set: canonical names of one scope in an open-addressing
 * hash table (linear probing, a power-of-two size kept at most half full,
 * so add and has take O(1) on average). The names themselves are copied
 * back to back into one arena; slots hold their offsets, so the table
 * never owns one allocation per name.
 */
#include "dray/dray_ident.h"

#include <stdlib.h>
#include <string.h>

#define SET_MIN_SLOTS 16

struct set_slot {
    size_t off;    /* offset of the name in the arena, plus 1; 0: empty */
    uint64_t hash; /* the whole hash, to skip most string compares */
};

struct dray_ident_set {
    struct set_slot *slots;
    size_t mask; /* slot count - 1 */
    size_t count;
    struct dray_buf arena; /* NUL-terminated names */
};

/*
 * FNV-1a over 64 bits, then a final mix: FNV's multiply only carries
 * upwards, and the low bits choose the slot.
 */
static uint64_t set_hash(const char *name, size_t *len)
{
    const unsigned char *p = (const unsigned char *)name;
    uint64_t h = 0xCBF29CE484222325u;

    for (; *p; p++)
        h = (h ^ *p) * 0x100000001B3u;
    *len = (size_t)(p - (const unsigned char *)name);
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDu;
    h ^= h >> 33;
    return h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t set_find(const struct dray_ident_set *set, const char *name,
                       uint64_t h, int *found)
{
    size_t i = (size_t)h & set->mask;
    const struct set_slot *sl;

    for (;;) {
        sl = &set->slots[i];
        if (sl->off == 0) {
            *found = 0;
            return i;
        }
        if (sl->hash == h && strcmp(set->arena.data + sl->off - 1, name) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & set->mask;
    }
}

/* Doubles the table; the set is unchanged when memory runs out. */
static int set_grow(struct dray_ident_set *set)
{
    size_t old_n = set->mask + 1, n = old_n * 2, i, j;
    struct set_slot *slots;

    if (n > SIZE_MAX / sizeof *slots)
        return -2;
    slots = calloc(n, sizeof *slots);
    if (slots == NULL)
        return -2;
    for (i = 0; i < old_n; i++) {
        if (set->slots[i].off == 0)
            continue;
        /* Names are distinct: only an empty slot is needed. */
        j = (size_t)set->slots[i].hash & (n - 1);
        while (slots[j].off != 0)
            j = (j + 1) & (n - 1);
        slots[j] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->mask = n - 1;
    return 0;
}

struct dray_ident_set *dray_ident_set_new(void)
{
    struct dray_ident_set *set = calloc(1, sizeof *set);

    if (set == NULL)
        return NULL;
    set->slots = calloc(SET_MIN_SLOTS, sizeof *set->slots);
    if (set->slots == NULL) {
        free(set);
        return NULL;
    }
    set->mask = SET_MIN_SLOTS - 1;
    return set;
}

void dray_ident_set_free(struct dray_ident_set *set)
{
    if (set == NULL)
        return;
    dray_buf_release(&set->arena);
    free(set->slots);
    free(set);
}

int dray_ident_set_add(struct dray_ident_set *set, const char *name)
{
    size_t len, i, off;
    uint64_t h;
    int found;

    if (set == NULL || name == NULL)
        return -1;
    h = set_hash(name, &len);
    i = set_find(set, name, h, &found);
    if (found)
        return 0;
    /* Keep the table at most half full: probe runs stay short. */
    if ((set->count + 1) * 2 > set->mask + 1) {
        if (set_grow(set) != 0)
            return -2;
        i = set_find(set, name, h, &found);
    }
    off = set->arena.len;
    if (dray_buf_add(&set->arena, name, len + 1) != 0)
        return -2;
    set->slots[i].off = off + 1;
    set->slots[i].hash = h;
    set->count++;
    return 1;
}

int dray_ident_set_has(const struct dray_ident_set *set, const char *name)
{
    size_t len;
    int found;

    if (set == NULL || name == NULL)
        return 0;
    set_find(set, name, set_hash(name, &len), &found);
    return found;
}

/*
 * rp_map.h - a string -> index hash map (keys copied), for the upsert
 * merge: the stored rows by key, the batch's latest record per key.
 */
#ifndef RP_MAP_H
#define RP_MAP_H

#include <stddef.h>

struct rp_map;

struct rp_map *rp_map_new(void);
void rp_map_free(struct rp_map *m);
/* Sets key's value (adding the key); 0 or -2. */
int rp_map_put(struct rp_map *m, const char *key, size_t value);
/* 1 with *value set (value may be NULL) when key is there, else 0. */
int rp_map_get(const struct rp_map *m, const char *key, size_t *value);

#endif /* RP_MAP_H */

/* suggest.h - "did you mean" for misspelt names. */
#ifndef DRAY_HOST_SUGGEST_H
#define DRAY_HOST_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance between two strings; SIZE_MAX without memory. */
size_t edit_distance(const char *a, const char *b);

/* The choice closest to word within an edit distance of 2 (the first of
   equals), or NULL. */
const char *suggest_closest(const char *word, const char *const *choices,
                            size_t n);

#endif

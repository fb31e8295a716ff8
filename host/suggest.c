/* Edit distance and closest-name suggestions. */
#include "suggest.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Names longer than this are not worth a suggestion (and bound the work). */
#define SUGGEST_MAX_LEN 256

size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t stack_row[SUGGEST_MAX_LEN + 1];
    size_t *row = stack_row;
    size_t result;

    /* No allocation for the short names suggestions are made for. */
    if (lb > SUGGEST_MAX_LEN) {
        row = malloc((lb + 1) * sizeof(*row));
        if (row == NULL)
            return SIZE_MAX;
    }

    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    result = row[lb];
    if (row != stack_row)
        free(row);
    return result;
}

const char *suggest_closest(const char *word, const char *const *choices,
                            size_t n)
{
    const char *best = NULL;
    size_t best_distance = 3;

    if (strlen(word) > SUGGEST_MAX_LEN)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d;
        if (choices[i] == NULL || strlen(choices[i]) > SUGGEST_MAX_LEN)
            continue;
        d = edit_distance(word, choices[i]);
        if (d < best_distance) {
            best_distance = d;
            best = choices[i];
        }
    }
    return best;
}

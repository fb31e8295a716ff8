/*
 * unit.h - a small assertion kit for dray's C unit tests.
 *
 * A test file defines functions "static void test_x(void)" and a table:
 *     UNIT_MAIN(UNIT_CASE(test_x), UNIT_CASE(test_y))
 * Each failed check prints FILE:LINE and the values, and the run ends with
 * the closing line "N passed, N failed" and exit status 1 on any failure.
 * An optional argument runs only the cases whose name contains it.
 */
#ifndef DRAY_TESTS_UNIT_H
#define DRAY_TESTS_UNIT_H

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int unit__failed_checks;

#define UNIT_FAIL_AT(...)                                                      \
    do {                                                                       \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        unit__failed_checks++;                                                 \
    } while (0)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            UNIT_FAIL_AT("check failed: %s", #cond);                           \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long unit__a = (long long)(a), unit__b = (long long)(b);          \
        if (unit__a != unit__b)                                                \
            UNIT_FAIL_AT("%s == %s: %lld != %lld", #a, #b, unit__a, unit__b);  \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *unit__a = (a), *unit__b = (b);                             \
        if (unit__a == NULL || unit__b == NULL ||                              \
            strcmp(unit__a, unit__b) != 0)                                     \
            UNIT_FAIL_AT("%s == %s:\n  got:      %s\n  expected: %s", #a, #b,  \
                         unit__a ? unit__a : "(null)",                         \
                         unit__b ? unit__b : "(null)");                        \
    } while (0)

/* Checks that haystack contains needle. */
#define CHECK_CONTAINS(hay, needle)                                            \
    do {                                                                       \
        const char *unit__h = (hay), *unit__n = (needle);                      \
        if (unit__h == NULL || strstr(unit__h, unit__n) == NULL)               \
            UNIT_FAIL_AT("%s contains %s:\n  got: %s\n  missing: %s", #hay,    \
                         #needle, unit__h ? unit__h : "(null)", unit__n);      \
    } while (0)

/* Removes dir and everything below it (scratch folders of a test). */
static inline void unit_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX * 2];
    struct stat st;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
            (int)sizeof(path))
            continue;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            unit_remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

struct unit_case {
    const char *name;
    void (*fn)(void);
};

#define UNIT_CASE(fn)                                                          \
    {                                                                          \
#fn, fn                                                                \
    }

#define UNIT_MAIN(...)                                                         \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        static const struct unit_case cases[] = {__VA_ARGS__};                 \
        int passed = 0, failed = 0;                                            \
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {        \
            if (argc > 1 && strstr(cases[i].name, argv[1]) == NULL)            \
                continue;                                                      \
            int before = unit__failed_checks;                                  \
            cases[i].fn();                                                     \
            if (unit__failed_checks == before) {                               \
                passed++;                                                      \
                printf("ok %s\n", cases[i].name);                              \
            } else {                                                           \
                failed++;                                                      \
                printf("FAIL %s\n", cases[i].name);                            \
            }                                                                  \
        }                                                                      \
        printf("%d passed, %d failed\n", passed, failed);                      \
        return failed == 0 && passed > 0 ? 0 : 1;                              \
    }

#endif

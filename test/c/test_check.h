/*
 * test_check: CHECK for the C tests. It counts a failure and goes on, so
 * one run reports every broken case; main() returns non-zero when
 * `failures' is. Each test is one translation unit: the counter is static.
 */
#ifndef STANZA_TEST_CHECK_H
#define STANZA_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,          \
                    __LINE__, #cond);                                       \
            failures++;                                                     \
        }                                                                   \
    } while (0)

#endif

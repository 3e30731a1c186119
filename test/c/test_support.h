/*
 * test_support: what the C tests share. Each test is one translation
 * unit, so these are static and each test gets its own counters.
 *
 * The counting allocator lets a test assert that code under test frees
 * everything it allocated, whatever happened; CHECK is test_check.h's.
 */
#ifndef STANZA_TEST_SUPPORT_H
#define STANZA_TEST_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>

#include "../../c_src/xml_core.h"
#include "test_check.h"

static long live_allocations;

static void *counted_alloc(size_t n)
{
    void *p = malloc(n);
    if (p)
        live_allocations++;
    return p;
}

static void *counted_realloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q && !p)
        live_allocations++;
    return q;
}

static void counted_free(void *p)
{
    if (p)
        live_allocations--;
    free(p);
}

static const stz_allocator counting_allocator = {
    counted_alloc, counted_realloc, counted_free};

#endif

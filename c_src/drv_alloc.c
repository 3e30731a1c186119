/*
 * drv_alloc: see drv_alloc.h.
 */
#include "drv_alloc.h"

#include <erl_driver.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Each block starts with its size. Two words keep the payload aligned as
 * well as driver_alloc's own result (8 bytes on 64-bit ERTS; a union with
 * max_align_t would claim 16, which driver_alloc does not promise). */
typedef struct header {
    size_t size;
    size_t unused;
} header;

static atomic_llong allocated;

static void *counted_alloc(size_t size)
{
    if (size > SIZE_MAX - sizeof(header))
        return NULL;
    header *h = driver_alloc(sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    atomic_fetch_add_explicit(&allocated, (long long)(sizeof *h + size),
                              memory_order_relaxed);
    return h + 1;
}

static void counted_free(void *ptr)
{
    if (!ptr)
        return;
    header *h = (header *)ptr - 1;
    atomic_fetch_sub_explicit(&allocated, (long long)(sizeof *h + h->size),
                              memory_order_relaxed);
    driver_free(h);
}

static void *counted_realloc(void *ptr, size_t size)
{
    if (!ptr)
        return counted_alloc(size);
    if (size > SIZE_MAX - sizeof(header))
        return NULL;
    header *h = (header *)ptr - 1;
    size_t old = h->size;
    header *grown = driver_realloc(h, sizeof *grown + size);
    if (!grown)
        return NULL;
    grown->size = size;
    atomic_fetch_add_explicit(&allocated, (long long)size - (long long)old,
                              memory_order_relaxed);
    return grown + 1;
}

const stz_allocator drv_allocator = {
    .alloc = counted_alloc,
    .realloc = counted_realloc,
    .free = counted_free,
};

long long drv_alloc_bytes(void)
{
    return atomic_load_explicit(&allocated, memory_order_relaxed);
}

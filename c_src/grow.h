/*
 * grow: the one way stanza's C code enlarges an array.
 *
 * Capacity doubles from a first size, every multiplication is checked for
 * overflow, and on failure the array is left as it was.
 */
#ifndef STANZA_GROW_H
#define STANZA_GROW_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns array reallocated to hold at least need elements of size bytes
 * (need > *cap), updating *cap; or NULL, with array and *cap unchanged,
 * on overflow or when realloc_fn fails.
 */
static inline void *grow_array(void *array, size_t *cap, size_t need,
                               size_t size, size_t first,
                               void *(*realloc_fn)(void *, size_t))
{
    size_t n = *cap ? *cap : first;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return NULL;
        n *= 2;
    }
    if (n > SIZE_MAX / size)
        return NULL;
    void *grown = realloc_fn(array, n * size);
    if (grown)
        *cap = n;
    return grown;
}

#endif

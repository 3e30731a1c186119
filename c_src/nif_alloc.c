/*
 * nif_alloc: see nif_alloc.h.
 */
#include "nif_alloc.h"

#include <erl_nif.h>

const stz_allocator nif_allocator = {
    .alloc = enif_alloc,
    .realloc = enif_realloc,
    .free = enif_free,
};

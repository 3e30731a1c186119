/*
 * stz_alloc: the allocator interface of stanza's C cores.
 *
 * A core (xml_core, block_arena) allocates only through the allocator its
 * front-end gives it, so the same core runs on enif_alloc in a NIF
 * (nif_alloc.h), on driver_alloc in the port driver (drv_alloc.h) and on
 * malloc or a failing allocator in the C tests and fuzz harnesses, with
 * no BEAM linked in.
 */
#ifndef STANZA_STZ_ALLOC_H
#define STANZA_STZ_ALLOC_H

#include <stddef.h>

typedef struct stz_allocator {
    void *(*alloc)(size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);
} stz_allocator;

#endif

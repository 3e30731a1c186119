/*
 * nif_alloc: the allocator a NIF gives the C cores (stz_alloc.h).
 *
 * Everything goes through enif_alloc, so erlang:memory(system) sees it.
 * The port driver's counterpart is drv_alloc.h.
 */
#ifndef STANZA_NIF_ALLOC_H
#define STANZA_NIF_ALLOC_H

#include "stz_alloc.h"

extern const stz_allocator nif_allocator;

#endif

/*
 * drv_alloc: the allocator the port driver gives xml_core and its builder
 * (stz_alloc.h; the NIF's counterpart is nif_alloc.h).
 *
 * Everything goes through driver_alloc, so erlang:memory(system) sees it,
 * and is counted in one process-wide total, so a test or an operator can
 * check that closed ports gave their memory back (stanza_port:info/0).
 * The total is a statistic of the loaded driver, not per-port state.
 */
#ifndef STANZA_DRV_ALLOC_H
#define STANZA_DRV_ALLOC_H

#include "stz_alloc.h"

extern const stz_allocator drv_allocator;

/* Bytes currently allocated through drv_allocator, headers included. */
long long drv_alloc_bytes(void);

#endif

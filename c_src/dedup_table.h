/*
 * dedup_table: a bounded window of recently seen 128-bit hashes, for
 * duplicate stanza suppression. Knows nothing of the BEAM: the caller
 * hashes the key, reads the clock and holds the lock.
 *
 * Entries live in a ring in the order they were recorded, so the oldest
 * is always at the head: eviction by count and by age both take from the
 * head, in O(1). A chained hash index (32-bit slot numbers) finds an entry
 * by hash. Everything is allocated at creation: memory is fixed by the
 * capacity, 32 bytes per ring slot plus 4 to 8 bytes of index.
 */
#ifndef STANZA_DEDUP_TABLE_H
#define STANZA_DEDUP_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* 2^28 entries (about 10 GB): far above any sane window, and keeps every
 * slot number and size computation well inside 32 and 64 bits. */
#define DEDUP_MAX_CAPACITY (1u << 28)

typedef struct dedup_alloc {
    void *(*alloc)(size_t);
    void (*free)(void *);
} dedup_alloc;

typedef struct dedup_table dedup_table;

/* A table for capacity (1..DEDUP_MAX_CAPACITY) entries that forgets an
 * entry ttl time units after it was recorded (ttl > 0; any unit, as long
 * as the caller's clock uses the same). NULL if out of memory or bad
 * arguments. */
dedup_table *dedup_new(const dedup_alloc *a, uint32_t capacity, int64_t ttl);
void dedup_free(dedup_table *t);

/* 1 if (h0, h1) was recorded less than ttl before now; otherwise records
 * it at now and returns 0. A now earlier than a previous one counts as
 * that previous one. */
int dedup_check(dedup_table *t, uint64_t h0, uint64_t h1, int64_t now);

/* Entries held (expired ones not yet swept included). */
uint32_t dedup_size(const dedup_table *t);
uint32_t dedup_capacity(const dedup_table *t);
/* Bytes allocated for the table, all included. */
size_t dedup_memory(const dedup_table *t);

#endif

/*
 * request_tracker: pending requests keyed by byte strings, each with an
 * owner and a deadline. Knows nothing of the BEAM: the NIF encodes keys,
 * reads the clock, holds the lock, and keeps what it needs per entry (the
 * owner's pid and monitor) in the entry's payload.
 *
 * A chained hash table (SipHash-2-4 with a per-table random key) finds an
 * entry by key; a binary min-heap orders entries by deadline; a per-owner
 * doubly linked list drops all of a dead owner's entries in time
 * proportional to their number. Removal is exact: keys compare byte for
 * byte, the hash only narrows the search.
 *
 * A table may be one shard of several (the NIF keeps 16 per tracker,
 * each under its own lock): the caller can then hash a key once with
 * rt_hash, pick the shard from the hash's top bits and pass the hash to
 * the _hashed calls (every shard shares the SipHash key, and buckets use
 * the low bits), and can put a bound of its own across shards through
 * rt_insert_hashed's admit callback.
 */
#ifndef STANZA_REQUEST_TRACKER_H
#define STANZA_REQUEST_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include "siphash.h"

/* Same bound as the duplicate table: keeps counts in 32 bits. */
#define RT_MAX_CAPACITY (1u << 28)
/* Keys are request identifiers ({PeerJid, Id} encoded): a megabyte is
 * far beyond any real one and bounds the work of one call. */
#define RT_MAX_KEY (1u << 20)

typedef struct rt_alloc {
    void *(*alloc)(size_t);
    void (*free)(void *);
} rt_alloc;

typedef struct rt_entry {
    struct rt_entry *next;        /* hash chain */
    struct rt_entry *owner_prev;  /* owner list; NULL at the list head */
    struct rt_entry *owner_next;
    uint64_t hash;
    int64_t deadline;
    uint64_t owner;
    uint32_t heap_index;
    uint32_t key_len;
    /* payload_size bytes of payload (8-aligned), then the key. */
    unsigned char data[];
} rt_entry;

typedef struct rt_table rt_table;

typedef enum rt_result {
    RT_OK,
    RT_FULL,
    RT_EXISTS,
    RT_TOO_BIG,
    RT_NO_MEMORY
} rt_result;

/* payload_size bytes per entry and owner_payload_size bytes per owner
 * for the caller. At most capacity owners without entries are kept.
 * The deadline heap starts with initial slots (1 to capacity) and
 * doubles when needed, up to capacity, so that a shard sized for its
 * expected share does not preallocate the whole bound; the buckets are
 * the largest power of two not above initial (chains stay short while
 * the table holds up to about twice that). */
rt_table *rt_new(const rt_alloc *a, uint32_t capacity, uint32_t initial,
                 size_t payload_size, size_t owner_payload_size,
                 const siphash_key *key);
/* Frees the table and every entry in it. */
void rt_free(rt_table *t);

/* Adds key (at most RT_MAX_KEY bytes) for owner with deadline; on RT_OK
 * *out is the new entry, whose payload the caller fills, and *new_owner
 * the (zeroed) payload of the owner when it is new, else NULL. */
rt_result rt_insert(rt_table *t, const void *key, size_t len, uint64_t owner,
                    int64_t deadline, rt_entry **out, void **new_owner);

/* The hash rt_insert and rt_take use for key: tables made with the same
 * SipHash key give the same hash. */
uint64_t rt_hash(const rt_table *t, const void *key, size_t len);

/* rt_insert with the key's hash from rt_hash. When admit is not NULL it
 * is called once the key is known to be new and the table not full, and
 * the insert gives RT_FULL if it returns 0: a bound across shards is
 * reserved there, after the RT_EXISTS check, so that a duplicate key
 * never takes (even briefly) a slot of that bound. If admit returned 1
 * and the result is not RT_OK (RT_NO_MEMORY), the caller gives the
 * reservation back: admit_ctx can record that it was made. */
rt_result rt_insert_hashed(rt_table *t, const void *key, size_t len,
                           uint64_t hash, uint64_t owner, int64_t deadline,
                           int (*admit)(void *), void *admit_ctx,
                           rt_entry **out, void **new_owner);

/* Removes and returns the entry for key, or NULL. The caller frees it with
 * rt_entry_free. */
rt_entry *rt_take(rt_table *t, const void *key, size_t len);
rt_entry *rt_take_hashed(rt_table *t, const void *key, size_t len,
                         uint64_t hash);

/* Removes and returns an entry whose deadline is <= now, earliest first,
 * or NULL. */
rt_entry *rt_pop_expired(rt_table *t, int64_t now);

/* Removes and returns one entry of owner, or NULL when it has none. */
rt_entry *rt_pop_owner(rt_table *t, uint64_t owner);

/* Forgets owner, which must have no entries: 1 if it was known. */
int rt_forget_owner(rt_table *t, uint64_t owner);

/* When more owners than the limit have no entries, forgets the one idle
 * longest, copies its payload to payload and returns 1; else 0. */
int rt_pop_idle_owner(rt_table *t, void *payload);
void rt_set_idle_max(rt_table *t, uint32_t idle_max);

/* Owners known, idle ones included (walks the table: for tests). */
uint32_t rt_owners(const rt_table *t);

/* The earliest deadline, or INT64_MAX when empty. */
int64_t rt_next_deadline(const rt_table *t);

uint32_t rt_size(const rt_table *t);
uint32_t rt_capacity(const rt_table *t);
/* Bytes allocated by the table and its entries. */
size_t rt_memory(const rt_table *t);

void *rt_payload(rt_entry *e);
const unsigned char *rt_key(const rt_table *t, const rt_entry *e);
void rt_entry_free(rt_table *t, rt_entry *e);

#endif

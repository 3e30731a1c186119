#include "dedup_table.h"

#include <string.h>

#define NIL UINT32_MAX

/* Expired entries swept from the head per call. More than one, so the
 * sweep outruns insertion and an idle table empties as it is used; few
 * enough that a call stays O(1). */
#define SWEEP_PER_CALL 4

/* 32 bytes: two to a cache line. */
typedef struct entry {
    uint64_t h0, h1;
    int64_t recorded;
    uint32_t next; /* next slot in the same hash chain, or NIL */
    uint32_t dead; /* unlinked from its chain already (expired, then
                      recorded again): the ring still holds it */
} entry;

struct dedup_table {
    dedup_alloc a;
    uint32_t capacity;
    uint32_t head;  /* ring slot of the oldest entry */
    uint32_t count; /* entries in the ring */
    uint32_t mask;  /* buckets - 1 */
    int64_t ttl;
    int64_t last; /* the latest now seen: callers that read the clock
                     before taking their lock may arrive out of order */
    uint32_t *buckets;
    entry *ring;
};

dedup_table *dedup_new(const dedup_alloc *a, uint32_t capacity, int64_t ttl)
{
    if (capacity == 0 || capacity > DEDUP_MAX_CAPACITY || ttl <= 0)
        return NULL;
    uint32_t buckets = 1;
    while (buckets < capacity)
        buckets <<= 1;
    dedup_table *t = a->alloc(sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    t->a = *a;
    t->capacity = capacity;
    t->mask = buckets - 1;
    t->ttl = ttl;
    t->last = INT64_MIN;
    t->buckets = a->alloc((size_t)buckets * sizeof *t->buckets);
    t->ring = a->alloc((size_t)capacity * sizeof *t->ring);
    if (!t->buckets || !t->ring) {
        dedup_free(t);
        return NULL;
    }
    /* All ones is NIL in every slot. */
    memset(t->buckets, 0xff, (size_t)buckets * sizeof *t->buckets);
    return t;
}

void dedup_free(dedup_table *t)
{
    if (!t)
        return;
    if (t->buckets)
        t->a.free(t->buckets);
    if (t->ring)
        t->a.free(t->ring);
    t->a.free(t);
}

static uint32_t slot_after(const dedup_table *t, uint32_t slot, uint32_t n)
{
    uint64_t s = (uint64_t)slot + n;
    return (uint32_t)(s % t->capacity);
}

static void unlink_slot(dedup_table *t, uint32_t slot)
{
    uint32_t *link = &t->buckets[t->ring[slot].h0 & t->mask];
    while (*link != NIL) {
        if (*link == slot) {
            *link = t->ring[slot].next;
            return;
        }
        link = &t->ring[*link].next;
    }
}

static void pop_head(dedup_table *t)
{
    if (!t->ring[t->head].dead)
        unlink_slot(t, t->head);
    t->head = slot_after(t, t->head, 1);
    t->count--;
}

/* Written as a difference so that a huge ttl cannot overflow. */
static int expired(const dedup_table *t, const entry *e, int64_t now)
{
    return now - e->recorded >= t->ttl;
}

int dedup_check(dedup_table *t, uint64_t h0, uint64_t h1, int64_t now)
{
    /* Keeps the ring in recording order, which the sweep relies on. */
    if (now < t->last)
        now = t->last;
    t->last = now;
    for (int i = 0; i < SWEEP_PER_CALL && t->count > 0 &&
                    expired(t, &t->ring[t->head], now);
         i++)
        pop_head(t);

    uint32_t *link = &t->buckets[h0 & t->mask];
    for (uint32_t s = *link; s != NIL; s = t->ring[s].next) {
        entry *e = &t->ring[s];
        if (e->h0 != h0 || e->h1 != h1)
            continue;
        if (!expired(t, e, now))
            return 1;
        /* Seen, but too long ago: forget that sighting here and now (the
         * sweep will reach its ring slot later) and record a new one. */
        unlink_slot(t, s);
        e->dead = 1;
        break;
    }

    if (t->count == t->capacity)
        pop_head(t);
    uint32_t slot = slot_after(t, t->head, t->count);
    entry *e = &t->ring[slot];
    e->h0 = h0;
    e->h1 = h1;
    e->recorded = now;
    e->dead = 0;
    e->next = *link;
    *link = slot;
    t->count++;
    return 0;
}

uint32_t dedup_size(const dedup_table *t)
{
    return t->count;
}

uint32_t dedup_capacity(const dedup_table *t)
{
    return t->capacity;
}

size_t dedup_memory(const dedup_table *t)
{
    return sizeof *t + ((size_t)t->mask + 1) * sizeof *t->buckets +
           (size_t)t->capacity * sizeof *t->ring;
}

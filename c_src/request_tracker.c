#include "request_tracker.h"

#include <string.h>

/* An owner: its entries, and the caller's per-owner payload (the NIF
 * keeps the owner's monitor there). A node whose owner has no entries
 * left is kept, on an idle list, so that an owner that tracks request
 * after request is monitored once, not once per request; the oldest idle
 * nodes go when there are more than idle_max. */
typedef struct owner_node {
    struct owner_node *next; /* hash chain */
    struct owner_node *idle_prev;
    struct owner_node *idle_next;
    uint64_t owner;
    rt_entry *entries;
    unsigned char data[];
} owner_node;

struct rt_table {
    rt_alloc a;
    siphash_key key;
    uint32_t capacity;
    uint32_t count;
    uint32_t mask; /* buckets - 1, for both tables */
    size_t payload_size;
    size_t owner_payload_size;
    uint32_t idle_count;
    uint32_t idle_max;
    owner_node *idle_head; /* least recently idle */
    owner_node *idle_tail;
    size_t memory;
    rt_entry **buckets;
    owner_node **owners;
    rt_entry **heap; /* heap_slots slots, min-heap on deadline */
    uint32_t heap_slots;
    /* Tables of one tracker's shards are allocated one after another
     * and written by every call on them: a cache line of padding keeps
     * two shards' fields off one line (no false sharing between cores). */
    char pad[64];
};

static void *table_alloc(rt_table *t, size_t n)
{
    void *p = t->a.alloc(n);
    if (p)
        t->memory += n;
    return p;
}

static void table_free(rt_table *t, void *p, size_t n)
{
    t->memory -= n;
    t->a.free(p);
}

rt_table *rt_new(const rt_alloc *a, uint32_t capacity, uint32_t initial,
                 size_t payload_size, size_t owner_payload_size,
                 const siphash_key *key)
{
    if (capacity == 0 || capacity > RT_MAX_CAPACITY || initial == 0 ||
        initial > capacity || payload_size > 4096 ||
        owner_payload_size > 4096)
        return NULL;
    /* The largest power of two not above initial: a caller that adds a
     * margin to initial for the heap does not double the buckets. */
    uint32_t buckets = 1;
    while (buckets <= initial / 2)
        buckets <<= 1;
    rt_table *t = a->alloc(sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    t->a = *a;
    t->key = *key;
    t->capacity = capacity;
    t->mask = buckets - 1;
    t->payload_size = (payload_size + 7) & ~(size_t)7;
    t->owner_payload_size = owner_payload_size;
    t->idle_max = capacity;
    t->memory = sizeof *t;
    size_t bucket_bytes = (size_t)buckets * sizeof(rt_entry *);
    size_t owners_bytes = (size_t)buckets * sizeof(owner_node *);
    t->buckets = table_alloc(t, bucket_bytes);
    if (t->buckets)
        memset(t->buckets, 0, bucket_bytes);
    t->owners = table_alloc(t, owners_bytes);
    if (t->owners)
        memset(t->owners, 0, owners_bytes);
    t->heap_slots = initial;
    t->heap = table_alloc(t, (size_t)initial * sizeof(rt_entry *));
    if (!t->buckets || !t->owners || !t->heap) {
        rt_free(t);
        return NULL;
    }
    return t;
}

void rt_free(rt_table *t)
{
    if (!t)
        return;
    if (t->heap)
        for (uint32_t i = 0; i < t->count; i++)
            t->a.free(t->heap[i]);
    if (t->owners)
        for (uint32_t b = 0; b <= t->mask; b++)
            for (owner_node *o = t->owners[b], *next; o; o = next) {
                next = o->next;
                t->a.free(o);
            }
    if (t->buckets)
        t->a.free(t->buckets);
    if (t->owners)
        t->a.free(t->owners);
    if (t->heap)
        t->a.free(t->heap);
    t->a.free(t);
}

void *rt_payload(rt_entry *e)
{
    return e->data;
}

const unsigned char *rt_key(const rt_table *t, const rt_entry *e)
{
    return e->data + t->payload_size;
}

static size_t entry_bytes(const rt_table *t, size_t key_len)
{
    return sizeof(rt_entry) + t->payload_size + key_len;
}

void rt_entry_free(rt_table *t, rt_entry *e)
{
    table_free(t, e, entry_bytes(t, e->key_len));
}

/* ---------------------------------------------------------------------- */
/* The deadline heap                                                       */

/* Doubles the heap (up to capacity) when it is full. The copy is O(n),
 * but a shard sized with room above its expected share grows only when
 * the keys pile into it far beyond that share, or while it is small. */
static int heap_reserve(rt_table *t)
{
    if (t->count < t->heap_slots)
        return 1;
    uint32_t slots = t->heap_slots > t->capacity / 2 ? t->capacity
                                                      : t->heap_slots * 2;
    rt_entry **heap = table_alloc(t, (size_t)slots * sizeof *heap);
    if (!heap)
        return 0;
    memcpy(heap, t->heap, (size_t)t->count * sizeof *heap);
    table_free(t, t->heap, (size_t)t->heap_slots * sizeof *heap);
    t->heap = heap;
    t->heap_slots = slots;
    return 1;
}

static void heap_set(rt_table *t, uint32_t i, rt_entry *e)
{
    t->heap[i] = e;
    e->heap_index = i;
}

static void sift_up(rt_table *t, uint32_t i)
{
    rt_entry *e = t->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (t->heap[parent]->deadline <= e->deadline)
            break;
        heap_set(t, i, t->heap[parent]);
        i = parent;
    }
    heap_set(t, i, e);
}

static void sift_down(rt_table *t, uint32_t i)
{
    rt_entry *e = t->heap[i];
    for (;;) {
        uint32_t child = 2 * i + 1;
        if (child >= t->count)
            break;
        if (child + 1 < t->count &&
            t->heap[child + 1]->deadline < t->heap[child]->deadline)
            child++;
        if (e->deadline <= t->heap[child]->deadline)
            break;
        heap_set(t, i, t->heap[child]);
        i = child;
    }
    heap_set(t, i, e);
}

static void heap_remove(rt_table *t, rt_entry *e)
{
    uint32_t i = e->heap_index;
    t->count--;
    if (i == t->count)
        return;
    rt_entry *last = t->heap[t->count];
    heap_set(t, i, last);
    sift_down(t, i);
    sift_up(t, last->heap_index);
}

/* ---------------------------------------------------------------------- */
/* Owners                                                                  */

/* Owners are opaque 64-bit values (the NIF uses the pid term, whose low
 * bits are a tag): a multiplicative mix spreads them over the buckets. */
static uint32_t owner_bucket(const rt_table *t, uint64_t owner)
{
    uint64_t h = owner * 0x9e3779b97f4a7c15ULL;
    return (uint32_t)(h >> 32) & t->mask;
}

static owner_node **find_owner(rt_table *t, uint64_t owner)
{
    owner_node **link = &t->owners[owner_bucket(t, owner)];
    while (*link && (*link)->owner != owner)
        link = &(*link)->next;
    return link;
}

static size_t owner_bytes(const rt_table *t)
{
    return sizeof(owner_node) + t->owner_payload_size;
}

static void idle_unlink(rt_table *t, owner_node *o)
{
    if (o->idle_prev)
        o->idle_prev->idle_next = o->idle_next;
    else
        t->idle_head = o->idle_next;
    if (o->idle_next)
        o->idle_next->idle_prev = o->idle_prev;
    else
        t->idle_tail = o->idle_prev;
    o->idle_prev = o->idle_next = NULL;
    t->idle_count--;
}

static void idle_append(rt_table *t, owner_node *o)
{
    o->idle_next = NULL;
    o->idle_prev = t->idle_tail;
    if (t->idle_tail)
        t->idle_tail->idle_next = o;
    else
        t->idle_head = o;
    t->idle_tail = o;
    t->idle_count++;
}

/* Links e into its owner's list; *created is the payload of a node made
 * for it, or NULL when the owner had one. */
static int owner_add(rt_table *t, rt_entry *e, void **created)
{
    owner_node **link = find_owner(t, e->owner);
    owner_node *o = *link;
    *created = NULL;
    if (!o) {
        o = table_alloc(t, owner_bytes(t));
        if (!o)
            return 0;
        memset(o, 0, owner_bytes(t));
        o->owner = e->owner;
        *link = o;
        *created = o->data;
    } else if (!o->entries) {
        idle_unlink(t, o);
    }
    e->owner_prev = NULL;
    e->owner_next = o->entries;
    if (o->entries)
        o->entries->owner_prev = e;
    o->entries = e;
    return 1;
}

static void owner_remove(rt_table *t, rt_entry *e)
{
    owner_node *o = *find_owner(t, e->owner);
    if (e->owner_next)
        e->owner_next->owner_prev = e->owner_prev;
    if (e->owner_prev)
        e->owner_prev->owner_next = e->owner_next;
    else
        o->entries = e->owner_next;
    if (!o->entries)
        idle_append(t, o);
}

/* Unlinks and frees o, which has no entries. */
static void owner_free(rt_table *t, owner_node **link)
{
    owner_node *o = *link;
    idle_unlink(t, o);
    *link = o->next;
    table_free(t, o, owner_bytes(t));
}

int rt_forget_owner(rt_table *t, uint64_t owner)
{
    owner_node **link = find_owner(t, owner);
    if (!*link || (*link)->entries)
        return 0;
    owner_free(t, link);
    return 1;
}

int rt_pop_idle_owner(rt_table *t, void *payload)
{
    if (t->idle_count <= t->idle_max)
        return 0;
    owner_node *o = t->idle_head;
    memcpy(payload, o->data, t->owner_payload_size);
    owner_free(t, find_owner(t, o->owner));
    return 1;
}

void rt_set_idle_max(rt_table *t, uint32_t idle_max)
{
    t->idle_max = idle_max;
}

uint32_t rt_owners(const rt_table *t)
{
    uint32_t n = 0;
    for (uint32_t b = 0; b <= t->mask; b++)
        for (owner_node *o = t->owners[b]; o; o = o->next)
            n++;
    return n;
}

/* ---------------------------------------------------------------------- */
/* Keys                                                                    */

uint64_t rt_hash(const rt_table *t, const void *key, size_t len)
{
    uint64_t h[2];
    siphash128(&t->key, key, len, h);
    return h[0];
}

static rt_entry **find_key(rt_table *t, const void *key, size_t len,
                           uint64_t hash)
{
    rt_entry **link = &t->buckets[hash & t->mask];
    for (; *link; link = &(*link)->next) {
        rt_entry *e = *link;
        if (e->hash == hash && e->key_len == len &&
            memcmp(rt_key(t, e), key, len) == 0)
            break;
    }
    return link;
}

/* Unlinks e from everything; the caller frees it. */
static void detach(rt_table *t, rt_entry *e)
{
    rt_entry **link = &t->buckets[e->hash & t->mask];
    while (*link != e)
        link = &(*link)->next;
    *link = e->next;
    owner_remove(t, e);
    heap_remove(t, e);
}

rt_result rt_insert(rt_table *t, const void *key, size_t len, uint64_t owner,
                    int64_t deadline, rt_entry **out, void **new_owner)
{
    if (len > RT_MAX_KEY)
        return RT_TOO_BIG;
    return rt_insert_hashed(t, key, len, rt_hash(t, key, len), owner,
                            deadline, NULL, NULL, out, new_owner);
}

rt_result rt_insert_hashed(rt_table *t, const void *key, size_t len,
                           uint64_t hash, uint64_t owner, int64_t deadline,
                           int (*admit)(void *), void *admit_ctx,
                           rt_entry **out, void **new_owner)
{
    if (len > RT_MAX_KEY)
        return RT_TOO_BIG;
    rt_entry **link = find_key(t, key, len, hash);
    if (*link)
        return RT_EXISTS;
    if (t->count == t->capacity)
        return RT_FULL;
    if (!heap_reserve(t))
        return RT_NO_MEMORY;
    if (admit && !admit(admit_ctx))
        return RT_FULL;
    rt_entry *e = table_alloc(t, entry_bytes(t, len));
    if (!e)
        return RT_NO_MEMORY;
    memset(e, 0, sizeof *e + t->payload_size);
    e->hash = hash;
    e->deadline = deadline;
    e->owner = owner;
    e->key_len = (uint32_t)len;
    memcpy(e->data + t->payload_size, key, len);
    if (!owner_add(t, e, new_owner)) {
        rt_entry_free(t, e);
        return RT_NO_MEMORY;
    }
    e->next = NULL;
    *link = e;
    heap_set(t, t->count, e);
    t->count++;
    sift_up(t, e->heap_index);
    *out = e;
    return RT_OK;
}

rt_entry *rt_take(rt_table *t, const void *key, size_t len)
{
    if (len > RT_MAX_KEY)
        return NULL;
    return rt_take_hashed(t, key, len, rt_hash(t, key, len));
}

rt_entry *rt_take_hashed(rt_table *t, const void *key, size_t len,
                         uint64_t hash)
{
    if (len > RT_MAX_KEY)
        return NULL;
    rt_entry *e = *find_key(t, key, len, hash);
    if (e)
        detach(t, e);
    return e;
}

rt_entry *rt_pop_expired(rt_table *t, int64_t now)
{
    if (t->count == 0 || t->heap[0]->deadline > now)
        return NULL;
    rt_entry *e = t->heap[0];
    detach(t, e);
    return e;
}

rt_entry *rt_pop_owner(rt_table *t, uint64_t owner)
{
    owner_node *o = *find_owner(t, owner);
    if (!o || !o->entries) /* unknown, or idle */
        return NULL;
    rt_entry *e = o->entries;
    detach(t, e);
    return e;
}

int64_t rt_next_deadline(const rt_table *t)
{
    return t->count ? t->heap[0]->deadline : INT64_MAX;
}

uint32_t rt_size(const rt_table *t)
{
    return t->count;
}

uint32_t rt_capacity(const rt_table *t)
{
    return t->capacity;
}

size_t rt_memory(const rt_table *t)
{
    return t->memory;
}

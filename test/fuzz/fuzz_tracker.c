/*
 * fuzz_tracker: libFuzzer harness for the request tracker
 * (request_tracker.c, siphash.c).
 *
 * The input sets the capacity, the heap's first size, the idle-owner
 * limit and the payload sizes, then is read as operations: insert (plain
 * or hashed, with a bound kept outside the table as the NIF keeps one
 * across shards), take (plain or hashed), expire, pop an owner's entries,
 * forget an owner, pop idle owners, change the idle limit, fail the next
 * allocation. A plain model follows: a list of live entries (key,
 * owner, deadline, payload tag) and of known owners (entry count, idle
 * order, payload tag). Oracles:
 *   - every result as the model predicts: RT_OK / RT_EXISTS / RT_FULL /
 *     RT_TOO_BIG, new_owner exactly for an owner not known, the entry
 *     taken being the one with that key, owner and payload, expiry
 *     earliest first and only at or before now, rt_pop_owner only that
 *     owner's entries, rt_pop_idle_owner the owner idle longest with its
 *     payload, and only beyond the idle limit;
 *   - counts exact: rt_size, rt_owners, rt_next_deadline, the capacity
 *     (the table and the outside bound both);
 *   - memory: rt_memory equals the bytes the table holds from the
 *     allocator at every step; a failed allocation changes nothing the
 *     model can see; zero blocks after rt_free.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c_src/request_tracker.h"
#include "../../c_src/siphash.h"
#include "fuzz_support.h"

#define MAX_OPS 2048
#define MAX_KEY 48
#define MAX_OWNERS 8

/* One key just past the limit, for RT_TOO_BIG (static: 1 MB, zeros). */
static const unsigned char too_big_key[RT_MAX_KEY + 1];

/* Owner values as the NIF passes them (pid terms, low bits a tag) and
 * edges; 8 of them, so owners come back often. */
static const uint64_t owner_ids[MAX_OWNERS] = {
    0x3, 0x13, 0x23, 0, UINT64_MAX, 0x9e3779b97f4a7c15ULL, 1ULL << 32,
    0x100000003ULL};

typedef struct model_entry {
    unsigned char key[MAX_KEY];
    size_t len;
    int owner; /* index into owner_ids */
    int64_t deadline;
    uint64_t tag; /* written into the entry's payload */
} model_entry;

typedef struct model_owner {
    int known;
    int entries;
    uint64_t idle_since; /* order in which it became idle */
    uint64_t tag;        /* written into the owner's payload */
} model_owner;

typedef struct model {
    model_entry entries[MAX_OPS];
    size_t count;
    model_owner owners[MAX_OWNERS];
    uint64_t clock; /* for idle order and tags */
    uint32_t capacity, idle_max;
    size_t payload, owner_payload;
} model;

/* The bound outside the table (the NIF's across shards). */
typedef struct bound {
    uint32_t count, max;
    int reserved;
} bound;

static int admit(void *ctx)
{
    bound *b = ctx;
    b->reserved = b->count < b->max;
    if (b->reserved)
        b->count++;
    return b->reserved;
}

static long find_entry(const model *m, const unsigned char *key, size_t len)
{
    for (size_t i = 0; i < m->count; i++)
        if (m->entries[i].len == len && memcmp(m->entries[i].key, key, len) == 0)
            return (long)i;
    return -1;
}

static uint32_t known_owners(const model *m)
{
    uint32_t n = 0;
    for (int i = 0; i < MAX_OWNERS; i++)
        n += m->owners[i].known;
    return n;
}

static uint32_t idle_owners(const model *m)
{
    uint32_t n = 0;
    for (int i = 0; i < MAX_OWNERS; i++)
        n += m->owners[i].known && m->owners[i].entries == 0;
    return n;
}

/* The payloads hold tags: the first 8 bytes (or fewer) of one. */
static void put_tag(void *payload, size_t size, uint64_t tag)
{
    memcpy(payload, &tag, size < sizeof tag ? size : sizeof tag);
}

static int tag_is(const void *payload, size_t size, uint64_t tag)
{
    return memcmp(payload, &tag, size < sizeof tag ? size : sizeof tag) == 0;
}

/* An entry came out of the table: it must be the model's entry i; both
 * go. */
static void check_removed(rt_table *t, model *m, rt_entry *e, long i,
                          const char *how)
{
    FUZZ_CHECK(i >= 0, "%s gave an entry the model does not hold", how);
    model_entry *me = &m->entries[i];
    FUZZ_CHECK(e->key_len == me->len &&
                   memcmp(rt_key(t, e), me->key, me->len) == 0,
               "%s: key differs", how);
    FUZZ_CHECK(e->owner == owner_ids[me->owner], "%s: owner differs", how);
    FUZZ_CHECK(e->deadline == me->deadline, "%s: deadline differs", how);
    FUZZ_CHECK(tag_is(rt_payload(e), m->payload, me->tag),
               "%s: payload differs", how);
    model_owner *o = &m->owners[me->owner];
    if (--o->entries == 0)
        o->idle_since = m->clock++;
    *me = m->entries[--m->count];
    rt_entry_free(t, e);
}

static void check_counts(rt_table *t, const model *m, const bound *b,
                         int hashed_mode)
{
    FUZZ_CHECK(rt_size(t) == m->count, "size %u, model %zu", rt_size(t),
               m->count);
    FUZZ_CHECK(rt_owners(t) == known_owners(m), "owners %u, model %u",
               rt_owners(t), known_owners(m));
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < m->count; i++)
        if (m->entries[i].deadline < next)
            next = m->entries[i].deadline;
    FUZZ_CHECK(rt_next_deadline(t) == next, "next deadline %lld, model %lld",
               (long long)rt_next_deadline(t), (long long)next);
    FUZZ_CHECK(rt_memory(t) == fuzz_mem.bytes, "rt_memory %zu, allocated %zu",
               rt_memory(t), fuzz_mem.bytes);
    if (hashed_mode)
        FUZZ_CHECK(b->count == m->count, "bound %u, model %zu", b->count,
                   m->count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    model *m = calloc(1, sizeof *m); /* large for the stack */
    FUZZ_CHECK(m != NULL, "harness out of memory");
    fuzz_in in = {data, size};
    uint8_t shape = fuzz_u8(&in);
    m->capacity = shape & 0x80 ? 1 + fuzz_u16(&in) % 600 : 1 + fuzz_u8(&in) % 12;
    uint32_t initial = 1 + fuzz_u16(&in) % m->capacity;
    m->payload = (size_t[]){0, 1, 8, 13}[shape & 3];
    m->owner_payload = (size_t[]){1, 8, 16, 3}[(shape >> 2) & 3];
    m->idle_max = m->capacity;
    /* hashed mode: inserts go through rt_insert_hashed with a bound
     * smaller than or equal to the capacity; takes through the hash */
    int hashed_mode = (shape >> 4) & 1;
    bound b = {0, hashed_mode ? 1 + fuzz_u8(&in) % m->capacity : 0, 0};
    siphash_key key = {fuzz_u64(&in), fuzz_u64(&in)};

    fuzz_mem_reset(fuzz_u8(&in) % 8); /* 1..3 fail inside rt_new */
    rt_table *t = rt_new(&(rt_alloc){fuzz_alloc, fuzz_free}, m->capacity,
                         initial, m->payload, m->owner_payload, &key);
    if (!t) {
        FUZZ_CHECK(fuzz_mem.failed, "rt_new failed on its own");
        FUZZ_CHECK(fuzz_mem.blocks == 0, "a failed rt_new leaked");
        free(m);
        return 0;
    }
    FUZZ_CHECK(rt_capacity(t) == m->capacity, "capacity %u, asked %u",
               rt_capacity(t), m->capacity);
    FUZZ_CHECK(rt_new(&(rt_alloc){fuzz_alloc, fuzz_free}, 0, 1, 8, 8, &key) ==
                       NULL &&
                   rt_new(&(rt_alloc){fuzz_alloc, fuzz_free}, 4, 5, 8, 8,
                          &key) == NULL,
               "rt_new took bad arguments");
    fuzz_mem.fail_at = 0;
    check_counts(t, m, &b, hashed_mode);

    int64_t now = (int64_t)(fuzz_u32(&in)) - 1000;
    for (int op = 0; op < MAX_OPS && in.left > 0; op++) {
        uint8_t code = fuzz_u8(&in);
        /* the key: one of 16 short ones, or bytes from the input */
        unsigned char kb[MAX_KEY];
        size_t klen;
        uint8_t kc = fuzz_u8(&in);
        if (kc < 0xE0) {
            klen = (size_t)snprintf((char *)kb, sizeof kb, "k%u", kc & 15u);
            if (kc & 0x10)
                klen = 0; /* the empty key is a key too */
        } else {
            const uint8_t *p;
            klen = fuzz_bytes(&in, kc & 31, &p);
            memcpy(kb, p, klen);
        }
        int oi = fuzz_u8(&in) % MAX_OWNERS;
        uint64_t owner = owner_ids[oi];
        rt_entry *e;
        void *fresh;

        switch (code % 10) {
        case 0:
        case 1:
        case 2: { /* insert */
            int64_t deadline = now + (int64_t)(fuzz_u8(&in) % 64) - 8;
            long at = find_entry(m, kb, klen);
            uint32_t full_at = hashed_mode ? b.max : m->capacity;
            rt_result want = at >= 0 ? RT_EXISTS
                             : m->count >= full_at ? RT_FULL
                                                  : RT_OK;
            rt_result r;
            if (hashed_mode) {
                b.reserved = 0;
                r = rt_insert_hashed(t, kb, klen, rt_hash(t, kb, klen), owner,
                                     deadline, admit, &b, &e, &fresh);
                if (r == RT_NO_MEMORY && b.reserved)
                    b.count--; /* the caller gives the reservation back */
            } else {
                r = rt_insert(t, kb, klen, owner, deadline, &e, &fresh);
            }
            if (r == RT_NO_MEMORY) {
                /* The heap grows before the outside bound is asked, so
                 * a failed growth can come before the bound's RT_FULL. */
                FUZZ_CHECK(fuzz_mem.failed &&
                               (want == RT_OK ||
                                (hashed_mode && want == RT_FULL &&
                                 m->count < m->capacity)),
                           "RT_NO_MEMORY (model %d) without a failed "
                           "allocation", want);
                break;
            }
            FUZZ_CHECK(r == want, "op %d: insert gave %d, model %d", op, r,
                       want);
            if (r != RT_OK)
                break;
            model_owner *o = &m->owners[oi];
            FUZZ_CHECK((fresh != NULL) == !o->known,
                       "new_owner %p for an owner %s", fresh,
                       o->known ? "known" : "not known");
            if (fresh) {
                o->known = 1;
                o->tag = m->clock++ * 1000 + (uint64_t)oi;
                put_tag(fresh, m->owner_payload, o->tag);
            }
            o->entries++;
            model_entry *me = &m->entries[m->count++];
            memcpy(me->key, kb, klen);
            me->len = klen;
            me->owner = oi;
            me->deadline = deadline;
            me->tag = m->clock++;
            put_tag(rt_payload(e), m->payload, me->tag);
            break;
        }
        case 3:
        case 4: /* take */
            e = hashed_mode ? rt_take_hashed(t, kb, klen, rt_hash(t, kb, klen))
                            : rt_take(t, kb, klen);
            if (e) {
                check_removed(t, m, e, find_entry(m, kb, klen), "take");
                if (hashed_mode)
                    b.count--;
            } else {
                FUZZ_CHECK(find_entry(m, kb, klen) < 0,
                           "take missed a key the model holds");
            }
            break;
        case 5: { /* time passes: expire, earliest first */
            now += fuzz_u8(&in) % 40;
            int64_t last = INT64_MIN;
            while ((e = rt_pop_expired(t, now))) {
                FUZZ_CHECK(e->deadline <= now && e->deadline >= last,
                           "expired out of order or early");
                last = e->deadline;
                for (size_t i = 0; i < m->count; i++)
                    FUZZ_CHECK(m->entries[i].deadline >= e->deadline,
                               "an earlier deadline is still in");
                check_removed(t, m, e,
                              find_entry(m, rt_key(t, e), e->key_len),
                              "expire");
                if (hashed_mode)
                    b.count--;
            }
            for (size_t i = 0; i < m->count; i++)
                FUZZ_CHECK(m->entries[i].deadline > now, "an expired entry stayed");
            break;
        }
        case 6: /* the owner dies: all its entries, then forget it */
            while ((e = rt_pop_owner(t, owner))) {
                FUZZ_CHECK(e->owner == owner, "another owner's entry");
                check_removed(t, m, e,
                              find_entry(m, rt_key(t, e), e->key_len),
                              "pop_owner");
                if (hashed_mode)
                    b.count--;
            }
            FUZZ_CHECK(m->owners[oi].entries == 0, "pop_owner left entries");
            FUZZ_CHECK(rt_forget_owner(t, owner) == m->owners[oi].known,
                       "forget_owner disagrees on a known owner");
            m->owners[oi].known = 0;
            break;
        case 7: /* forget an owner that may still have entries */
            FUZZ_CHECK(rt_forget_owner(t, owner) ==
                           (m->owners[oi].known && m->owners[oi].entries == 0),
                       "forget_owner of an owner with entries or unknown");
            if (m->owners[oi].entries == 0)
                m->owners[oi].known = 0;
            break;
        case 8: { /* the idle limit, and popping beyond it */
            if (kc & 1) {
                m->idle_max = kc % 4;
                rt_set_idle_max(t, m->idle_max);
            }
            unsigned char payload[16];
            while (rt_pop_idle_owner(t, payload)) {
                FUZZ_CHECK(idle_owners(m) > m->idle_max,
                           "an idle owner popped within the limit");
                int oldest = -1;
                for (int i = 0; i < MAX_OWNERS; i++) {
                    model_owner *o = &m->owners[i];
                    if (o->known && o->entries == 0 &&
                        (oldest < 0 || o->idle_since < m->owners[oldest].idle_since))
                        oldest = i;
                }
                FUZZ_CHECK(tag_is(payload, m->owner_payload, m->owners[oldest].tag),
                           "popped an owner other than the one idle longest");
                m->owners[oldest].known = 0;
            }
            FUZZ_CHECK(idle_owners(m) <= m->idle_max,
                       "idle owners beyond the limit stayed");
            break;
        }
        default: /* the next allocation fails; a key too big */
            fuzz_mem.calls = 0;
            fuzz_mem.fail_at = 1 + (kc & 1);
            fuzz_mem.failed = 0;
            FUZZ_CHECK(rt_insert(t, too_big_key, sizeof too_big_key, owner, 0,
                                 &e, &fresh) == RT_TOO_BIG &&
                           rt_take(t, too_big_key, sizeof too_big_key) == NULL,
                       "a key past RT_MAX_KEY was taken");
        }
        if (fuzz_mem.failed)
            fuzz_mem.fail_at = 0;
        check_counts(t, m, &b, hashed_mode);
    }
    rt_free(t);
    FUZZ_CHECK(fuzz_mem.blocks == 0 && fuzz_mem.bytes == 0,
               "%ld blocks, %zu bytes left after rt_free", fuzz_mem.blocks,
               fuzz_mem.bytes);
    free(m);
    return 0;
}

/*
 * ids_test: the BEAM-free parts of stanza_ids_nif (SipHash, id encoding,
 * the duplicate table, the request tracker), built with ASan and UBSan
 * and run under valgrind by `make check-c` (part of `make test`).
 *
 * SipHash is checked against OpenSSL's SIPHASH MAC; the two tables
 * against simple models on random operation sequences. Allocation counts
 * must balance.
 */
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c_src/dedup_table.h"
#include "../../c_src/id_gen.h"
#include "../../c_src/request_tracker.h"
#include "../../c_src/siphash.h"
#include "test_support.h"

/* Fails the nth allocation from now (0: none). */
static long fail_countdown;

static void *failing_alloc(size_t n)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return NULL;
    return counted_alloc(n);
}

static const dedup_alloc dedup_counted = {failing_alloc, counted_free};
static const rt_alloc rt_counted = {failing_alloc, counted_free};

/* A fixed generator, so every run tests the same cases. */
static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---------------------------------------------------------------------- */
/* SipHash                                                                 */

static void openssl_siphash(const unsigned char key[16],
                            const unsigned char *data, size_t len,
                            unsigned char out[16])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    size_t size = 16, outlen = 0;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t("size", &size),
                           OSSL_PARAM_construct_end()};
    int ok = ctx && EVP_MAC_init(ctx, key, 16, params) &&
             EVP_MAC_update(ctx, data, len) &&
             EVP_MAC_final(ctx, out, &outlen, 16) && outlen == 16;
    CHECK(ok);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}

static void test_siphash(void)
{
    unsigned char key[16], data[200], expected[16], got[16];
    for (int i = 0; i < 16; i++)
        key[i] = (unsigned char)i;
    /* The paper's key with the empty message. */
    static const unsigned char empty_vector[16] = {
        0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6,
        0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93};
    siphash_key k = siphash_key_from_bytes(key);
    uint64_t h[2];
    siphash128(&k, "", 0, h);
    for (int i = 0; i < 16; i++)
        got[i] = (unsigned char)(h[i / 8] >> (8 * (i % 8)));
    CHECK(memcmp(got, empty_vector, 16) == 0);

    for (size_t len = 0; len <= sizeof data; len++) {
        for (int i = 0; i < 16; i++)
            key[i] = (unsigned char)next_random();
        for (size_t i = 0; i < len; i++)
            data[i] = (unsigned char)next_random();
        k = siphash_key_from_bytes(key);
        siphash128(&k, data, len, h);
        for (int i = 0; i < 16; i++)
            got[i] = (unsigned char)(h[i / 8] >> (8 * (i % 8)));
        openssl_siphash(key, data, len, expected);
        CHECK(memcmp(got, expected, 16) == 0);
    }
}

/* ---------------------------------------------------------------------- */
/* Ids                                                                     */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Bit by bit: a different way to the same text. */
static void reference_encode(const unsigned char *bytes, char *out)
{
    for (int c = 0; c < ID_CHARS; c++) {
        int v = 0;
        for (int b = 0; b < 6; b++) {
            int bit = c * 6 + b;
            int set = bit < ID_BYTES * 8 &&
                      (bytes[bit / 8] >> (7 - bit % 8)) & 1;
            v = v << 1 | set;
        }
        out[c] = b64url[v];
    }
}

static void test_ids(void)
{
    unsigned char bytes[ID_BYTES];
    char got[ID_CHARS], expected[ID_CHARS];
    memset(bytes, 0, sizeof bytes);
    id_encode(bytes, got);
    CHECK(memcmp(got, "AAAAAAAAAAAAAAAAAAAAAA", ID_CHARS) == 0);
    memset(bytes, 0xff, sizeof bytes);
    id_encode(bytes, got);
    CHECK(memcmp(got, "_____________________w", ID_CHARS) == 0);
    for (int n = 0; n < 10000; n++) {
        for (int i = 0; i < ID_BYTES; i++)
            bytes[i] = (unsigned char)next_random();
        id_encode(bytes, got);
        reference_encode(bytes, expected);
        CHECK(memcmp(got, expected, ID_CHARS) == 0);
    }

    /* The counter lands in the last bytes, the prefix stays whole. */
    unsigned char prefix[ID_PREFIX_BYTES];
    memset(prefix, 0xab, sizeof prefix);
    id_compose(prefix, 0x01020304050607ULL, bytes);
    CHECK(memcmp(bytes, prefix, ID_PREFIX_BYTES) == 0);
    for (int i = 0; i < ID_COUNTER_BYTES; i++)
        CHECK(bytes[ID_PREFIX_BYTES + i] == i + 1);
}

/* ---------------------------------------------------------------------- */
/* Duplicate table                                                         */

static void test_dedup_basics(void)
{
    dedup_table *t = dedup_new(&dedup_counted, 3, 100);
    CHECK(t != NULL);
    CHECK(dedup_check(t, 1, 1, 0) == 0);
    CHECK(dedup_check(t, 1, 1, 10) == 1);
    CHECK(dedup_check(t, 1, 2, 10) == 0); /* same h0, other h1 */
    CHECK(dedup_check(t, 2, 1, 20) == 0);
    CHECK(dedup_check(t, 3, 1, 30) == 0); /* evicts (1, 1), the oldest */
    CHECK(dedup_size(t) == 3);
    CHECK(dedup_check(t, 1, 2, 40) == 1);
    CHECK(dedup_check(t, 1, 1, 40) == 0);
    /* Age: (3, 1) recorded at 30 is gone at 130, not at 129. */
    CHECK(dedup_check(t, 3, 1, 129) == 1);
    CHECK(dedup_check(t, 3, 1, 130) == 0);
    /* A clock that goes back counts as the latest time seen. */
    CHECK(dedup_check(t, 3, 1, 0) == 1);
    dedup_free(t);

    CHECK(dedup_new(&dedup_counted, 0, 1) == NULL);
    CHECK(dedup_new(&dedup_counted, DEDUP_MAX_CAPACITY + 1, 1) == NULL);
    CHECK(dedup_new(&dedup_counted, 1, 0) == NULL);
    for (long n = 1; n <= 3; n++) {
        fail_countdown = n;
        CHECK(dedup_new(&dedup_counted, 10, 1) == NULL);
    }
    fail_countdown = 0;
    CHECK(live_allocations == 0);
}

/*
 * The model: every recording in order. A key is seen when its latest
 * recording is among the last capacity recordings and younger than ttl.
 */
typedef struct record {
    uint64_t key;
    int64_t at;
} record;

static void test_dedup_model(uint32_t capacity, int64_t ttl, uint64_t keys,
                             int steps)
{
    dedup_table *t = dedup_new(&dedup_counted, capacity, ttl);
    record *log = malloc((size_t)steps * sizeof *log);
    CHECK(t != NULL && log != NULL);
    if (!t || !log)
        return;
    size_t n = 0;
    int64_t now = 0;
    for (int i = 0; i < steps; i++) {
        now += (int64_t)(next_random() % 4);
        uint64_t key = next_random() % keys;
        int expected = 0;
        for (size_t j = n; j-- > 0;) {
            if (log[j].key != key)
                continue;
            expected = n - j <= capacity && now - log[j].at < ttl;
            break;
        }
        /* Keys differ in both halves or only in h1: both must count. */
        int got = dedup_check(t, key / 2, key, now);
        CHECK(got == expected);
        if (got != expected)
            break;
        if (!got)
            log[n++] = (record){key, now};
        CHECK(dedup_size(t) <= capacity);
    }
    free(log);
    dedup_free(t);
    CHECK(live_allocations == 0);
}

/* ---------------------------------------------------------------------- */
/* Request tracker                                                         */

typedef struct payload {
    int tag;
} payload;

static rt_table *new_tracker(uint32_t capacity, uint32_t initial)
{
    siphash_key key = {next_random(), next_random()};
    return rt_new(&rt_counted, capacity, initial, sizeof(payload), sizeof(payload),
                  &key);
}

static void test_tracker_basics(void)
{
    rt_table *t = new_tracker(3, 3);
    CHECK(t != NULL);
    size_t empty = rt_memory(t);
    rt_entry *e;
    void *fresh;
    CHECK(rt_insert(t, "a", 1, 7, 300, &e, &fresh) == RT_OK);
    ((payload *)rt_payload(e))->tag = 1;
    CHECK(rt_insert(t, "a", 1, 8, 100, &e, &fresh) == RT_EXISTS);
    CHECK(rt_insert(t, "ab", 2, 7, 100, &e, &fresh) == RT_OK);
    CHECK(rt_insert(t, "", 0, 8, 200, &e, &fresh) == RT_OK);
    CHECK(rt_insert(t, "c", 1, 8, 200, &e, &fresh) == RT_FULL);
    CHECK(rt_size(t) == 3);
    CHECK(rt_next_deadline(t) == 100);

    e = rt_take(t, "a", 1);
    CHECK(e && e->owner == 7 && ((payload *)rt_payload(e))->tag == 1);
    rt_entry_free(t, e);
    CHECK(rt_take(t, "a", 1) == NULL); /* exactly once */

    CHECK(rt_pop_expired(t, 99) == NULL);
    e = rt_pop_expired(t, 250);
    CHECK(e && e->deadline == 100 && e->key_len == 2);
    rt_entry_free(t, e);
    e = rt_pop_expired(t, 250);
    CHECK(e && e->deadline == 200 && e->key_len == 0);
    rt_entry_free(t, e);
    CHECK(rt_pop_expired(t, 250) == NULL);
    CHECK(rt_next_deadline(t) == INT64_MAX);
    /* Owners 7 and 8 stay known, idle, until forgotten. */
    CHECK(rt_owners(t) == 2);
    CHECK(rt_forget_owner(t, 7) == 1 && rt_forget_owner(t, 8) == 1);
    CHECK(rt_forget_owner(t, 8) == 0);
    CHECK(rt_memory(t) == empty);

    /* Owners: all of one owner's entries, none of another's. */
    for (int i = 0; i < 3; i++) {
        char k = (char)('x' + i);
        CHECK(rt_insert(t, &k, 1, i == 1 ? 5 : 6, 10 + i, &e, &fresh) == RT_OK);
    }
    int dropped = 0;
    while ((e = rt_pop_owner(t, 6))) {
        CHECK(e->owner == 6);
        rt_entry_free(t, e);
        dropped++;
    }
    CHECK(dropped == 2 && rt_size(t) == 1);
    CHECK(rt_pop_owner(t, 99) == NULL);
    rt_free(t); /* frees the entry and the owners left */

    /* One owner payload per owner, kept while the owner is idle; beyond
     * the idle limit the owner idle longest goes first. */
    t = new_tracker(10, 10);
    rt_set_idle_max(t, 1);
    payload out;
    CHECK(rt_insert(t, "a", 1, 1, 5, &e, &fresh) == RT_OK && fresh != NULL);
    ((payload *)fresh)->tag = 11;
    CHECK(rt_insert(t, "b", 1, 1, 5, &e, &fresh) == RT_OK && fresh == NULL);
    CHECK(rt_insert(t, "c", 1, 2, 5, &e, &fresh) == RT_OK && fresh != NULL);
    ((payload *)fresh)->tag = 22;
    rt_entry_free(t, rt_take(t, "a", 1));
    CHECK(rt_pop_idle_owner(t, &out) == 0); /* owner 1 still has "b" */
    rt_entry_free(t, rt_take(t, "b", 1));
    CHECK(rt_pop_idle_owner(t, &out) == 0); /* one idle: the limit */
    rt_entry_free(t, rt_take(t, "c", 1));
    CHECK(rt_pop_idle_owner(t, &out) == 1 && out.tag == 11);
    CHECK(rt_pop_idle_owner(t, &out) == 0);
    CHECK(rt_insert(t, "d", 1, 2, 5, &e, &fresh) == RT_OK && fresh == NULL);
    CHECK(rt_owners(t) == 1);
    rt_free(t);

    for (long n = 1; n <= 4; n++) {
        fail_countdown = n;
        CHECK(new_tracker(10, 10) == NULL);
    }
    t = new_tracker(10, 10);
    empty = rt_memory(t);
    fail_countdown = 1;
    CHECK(rt_insert(t, "a", 1, 1, 1, &e, &fresh) == RT_NO_MEMORY);
    fail_countdown = 2; /* the owner node */
    CHECK(rt_insert(t, "a", 1, 1, 1, &e, &fresh) == RT_NO_MEMORY);
    fail_countdown = 0;
    CHECK(rt_size(t) == 0 && rt_memory(t) == empty);
    rt_free(t);
    CHECK(live_allocations == 0);
}

/* The number in a key "k<n>" (keys are not NUL-terminated). */
static int key_number(const rt_table *t, const rt_entry *e)
{
    const unsigned char *k = rt_key(t, e);
    int n = 0;
    for (uint32_t i = 1; i < e->key_len; i++)
        n = n * 10 + (k[i] - '0');
    return n;
}

/* The model: an array of live keys with their owners and deadlines. */
typedef struct live_key {
    int present;
    uint64_t owner;
    int64_t deadline;
} live_key;

static void test_tracker_model(uint32_t capacity, uint32_t initial, int keys,
                               int steps)
{
    rt_table *t = new_tracker(capacity, initial);
    live_key *model = calloc((size_t)keys, sizeof *model);
    CHECK(t != NULL && model != NULL);
    if (!t || !model)
        return;
    uint32_t count = 0;
    int64_t now = 0;
    for (int i = 0; i < steps; i++) {
        int k = (int)(next_random() % (uint64_t)keys);
        char key[16];
        int len = snprintf(key, sizeof key, "k%d", k);
        rt_entry *e;
        void *fresh;
        switch (next_random() % 5) {
        case 0:
        case 1: { /* track */
            uint64_t owner = next_random() % 4;
            int64_t deadline = now + (int64_t)(next_random() % 50);
            rt_result r = rt_insert(t, key, (size_t)len, owner, deadline, &e, &fresh);
            rt_result want = model[k].present ? RT_EXISTS
                             : count == capacity ? RT_FULL
                                                 : RT_OK;
            CHECK(r == want);
            if (r == RT_OK) {
                model[k] = (live_key){1, owner, deadline};
                count++;
            }
            break;
        }
        case 2: /* take */
            e = rt_take(t, key, (size_t)len);
            CHECK((e != NULL) == model[k].present);
            if (e) {
                CHECK(e->owner == model[k].owner);
                rt_entry_free(t, e);
                model[k].present = 0;
                count--;
            }
            break;
        case 3: { /* time passes: expire, earliest first */
            now += (int64_t)(next_random() % 20);
            int64_t last = INT64_MIN;
            while ((e = rt_pop_expired(t, now))) {
                CHECK(e->deadline <= now && e->deadline >= last);
                last = e->deadline;
                int j = key_number(t, e);
                CHECK(model[j].present && model[j].deadline == e->deadline);
                model[j].present = 0;
                count--;
                rt_entry_free(t, e);
            }
            for (int j = 0; j < keys; j++)
                CHECK(!model[j].present || model[j].deadline > now);
            break;
        }
        default: { /* an owner dies */
            uint64_t owner = next_random() % 4;
            while ((e = rt_pop_owner(t, owner))) {
                int j = key_number(t, e);
                CHECK(model[j].present && model[j].owner == owner);
                model[j].present = 0;
                count--;
                rt_entry_free(t, e);
            }
            for (int j = 0; j < keys; j++)
                CHECK(!model[j].present || model[j].owner != owner);
        }
        }
        CHECK(rt_size(t) == count);
    }
    CHECK(rt_owners(t) <= 4);
    free(model);
    rt_free(t);
    CHECK(live_allocations == 0);
}

/* A bound kept outside the table, as the NIF keeps one across shards. */
typedef struct bound {
    uint32_t count, max;
    int calls, reserved;
} bound;

static int admit_bound(void *ctx)
{
    bound *b = ctx;
    b->calls++;
    b->reserved = b->count < b->max;
    if (b->reserved)
        b->count++;
    return b->reserved;
}

static void test_tracker_hashed(void)
{
    rt_table *t = new_tracker(10, 10);
    siphash_key key = {next_random(), next_random()};
    rt_table *u = rt_new(&rt_counted, 10, 10, 8, 8, &key);
    rt_table *v = rt_new(&rt_counted, 10, 1, 8, 8, &key);
    CHECK(t && u && v);
    if (!t || !u || !v)
        return;
    /* Tables with one SipHash key hash alike: the caller picks a shard. */
    CHECK(rt_hash(u, "k1", 2) == rt_hash(v, "k1", 2));
    CHECK(rt_hash(u, "k1", 2) != rt_hash(u, "k2", 2));

    bound b = {0, 1, 0, 0};
    rt_entry *e;
    void *fresh;
    uint64_t h = rt_hash(t, "a", 1);
    CHECK(rt_insert_hashed(t, "a", 1, h, 1, 5, admit_bound, &b, &e, &fresh) ==
          RT_OK);
    CHECK(b.calls == 1 && b.count == 1);
    /* A duplicate is refused before the bound is asked. */
    CHECK(rt_insert_hashed(t, "a", 1, h, 1, 5, admit_bound, &b, &e, &fresh) ==
          RT_EXISTS);
    CHECK(b.calls == 1);
    /* The bound refuses: full, nothing inserted. */
    CHECK(rt_insert(t, "b", 1, 1, 5, &e, &fresh) == RT_OK);
    rt_entry_free(t, rt_take(t, "b", 1));
    CHECK(rt_insert_hashed(t, "b", 1, rt_hash(t, "b", 1), 1, 5, admit_bound,
                           &b, &e, &fresh) == RT_FULL);
    CHECK(b.calls == 2 && !b.reserved && rt_size(t) == 1);
    /* The entry allocation fails after the reservation: the caller sees
     * it in its context and gives it back. */
    b.max = 2;
    fail_countdown = 1;
    CHECK(rt_insert_hashed(t, "c", 1, rt_hash(t, "c", 1), 1, 5, admit_bound,
                           &b, &e, &fresh) == RT_NO_MEMORY);
    fail_countdown = 0;
    CHECK(b.reserved && rt_size(t) == 1);
    e = rt_take_hashed(t, "a", 1, h);
    CHECK(e && e->owner == 1);
    rt_entry_free(t, e);
    CHECK(rt_take_hashed(t, "a", 1, h) == NULL);
    rt_free(t);
    rt_free(u);
    rt_free(v);
    CHECK(live_allocations == 0);
}

/* The NIF's layout without the BEAM: 16 tables sharing a SipHash key, a
 * key's shard from its hash's top bits, one bound across them through
 * admit, expiry from every shard at one instant (each shard earliest
 * first), an owner's death visiting every shard. Checked against the
 * same model as one table. */
#define TEST_SHARDS 16

static void test_tracker_shards(uint32_t capacity, int keys, int steps)
{
    siphash_key key = {next_random(), next_random()};
    rt_table *shard[TEST_SHARDS];
    uint32_t share = (capacity + TEST_SHARDS - 1) / TEST_SHARDS;
    live_key *model = calloc((size_t)keys, sizeof *model);
    int ok = model != NULL;
    for (int s = 0; s < TEST_SHARDS; s++) {
        shard[s] = rt_new(&rt_counted, capacity, share, sizeof(payload),
                          sizeof(payload), &key);
        ok = ok && shard[s];
    }
    CHECK(ok);
    if (!ok)
        return;
    bound b = {0, capacity, 0, 0};
    int64_t now = 0;
    for (int i = 0; i < steps; i++) {
        int k = (int)(next_random() % (uint64_t)keys);
        char kb[16];
        int len = snprintf(kb, sizeof kb, "k%d", k);
        uint64_t h = rt_hash(shard[0], kb, (size_t)len);
        rt_table *t = shard[h >> 60];
        rt_entry *e;
        void *fresh;
        switch (next_random() % 5) {
        case 0:
        case 1: {
            uint64_t owner = next_random() % 4;
            int64_t deadline = now + (int64_t)(next_random() % 50);
            rt_result want = model[k].present ? RT_EXISTS
                             : b.count == capacity ? RT_FULL
                                                   : RT_OK;
            CHECK(rt_insert_hashed(t, kb, (size_t)len, h, owner, deadline,
                                   admit_bound, &b, &e, &fresh) == want);
            if (want == RT_OK)
                model[k] = (live_key){1, owner, deadline};
            break;
        }
        case 2:
            e = rt_take_hashed(t, kb, (size_t)len, h);
            CHECK((e != NULL) == model[k].present);
            if (e) {
                CHECK(e->owner == model[k].owner);
                rt_entry_free(t, e);
                model[k].present = 0;
                b.count--;
            }
            break;
        case 3:
            now += (int64_t)(next_random() % 20);
            for (int s = 0; s < TEST_SHARDS; s++) {
                int64_t last = INT64_MIN;
                while ((e = rt_pop_expired(shard[s], now))) {
                    CHECK(e->deadline <= now && e->deadline >= last);
                    last = e->deadline;
                    int j = key_number(shard[s], e);
                    CHECK(model[j].present && model[j].deadline == e->deadline);
                    model[j].present = 0;
                    b.count--;
                    rt_entry_free(shard[s], e);
                }
            }
            for (int j = 0; j < keys; j++)
                CHECK(!model[j].present || model[j].deadline > now);
            break;
        default: {
            uint64_t owner = next_random() % 4;
            for (int s = 0; s < TEST_SHARDS; s++) {
                while ((e = rt_pop_owner(shard[s], owner))) {
                    int j = key_number(shard[s], e);
                    CHECK(model[j].present && model[j].owner == owner);
                    model[j].present = 0;
                    b.count--;
                    rt_entry_free(shard[s], e);
                }
                (void)rt_forget_owner(shard[s], owner);
            }
        }
        }
        uint32_t sum = 0;
        for (int s = 0; s < TEST_SHARDS; s++)
            sum += rt_size(shard[s]);
        CHECK(sum == b.count && b.count <= capacity);
    }
    free(model);
    for (int s = 0; s < TEST_SHARDS; s++)
        rt_free(shard[s]);
    CHECK(live_allocations == 0);
}

int main(void)
{
    test_siphash();
    test_ids();
    test_dedup_basics();
    test_dedup_model(1, 10, 2, 2000);
    test_dedup_model(16, 1000000, 40, 20000);
    test_dedup_model(16, 30, 40, 20000);
    test_dedup_model(1000, 200, 3000, 50000);
    test_tracker_basics();
    test_tracker_model(8, 8, 20, 20000);
    test_tracker_model(1000, 1000, 3000, 100000);
    /* Heaps that start at one slot and double (8: 1, 2, 4, 8; 1000: up
     * to 512, then the capacity). */
    test_tracker_model(8, 1, 20, 20000);
    test_tracker_model(1000, 1, 3000, 100000);
    test_tracker_hashed();
    test_tracker_shards(1, 2000, 100000);
    test_tracker_shards(100, 3000, 100000);
    if (failures) {
        fprintf(stderr, "ids_test: %d failure(s)\n", failures);
        return 1;
    }
    printf("ids_test: all checks passed\n");
    return 0;
}

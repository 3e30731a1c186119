/*
 * fuzz_dedup: libFuzzer harness for the duplicate table (dedup_table.c).
 *
 * The input sets the capacity, the ttl, the starting clock and an
 * allocation to fail, then is read as a sequence of dedup_check calls
 * (which key, how far the clock moves, sometimes backwards). Oracles:
 *   - seen or not: the log model of test/c/ids_test.c, written without
 *     the table's structure: a key is seen when its latest recording is
 *     among the last `capacity' recordings and younger than ttl (the
 *     clock never goes back: an earlier now counts as the latest seen);
 *   - size exact: a plain ring of recordings, swept as the header says
 *     (oldest first, at most SWEEP_PER_CALL expired ones per call), gives
 *     the count dedup_size must report, never above the capacity;
 *   - memory: dedup_memory equals the bytes the table holds from the
 *     allocator at every step, and zero blocks remain after dedup_free;
 *     a failed allocation in dedup_new gives NULL and leaks nothing;
 *     bad arguments give NULL.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c_src/dedup_table.h"
#include "fuzz_support.h"

/* dedup_table.c sweeps this many expired entries per call at most; the
 * size model follows it. Keep in step. */
#define TABLE_SWEEP_PER_CALL 4

#define MAX_OPS 4096

typedef struct recording {
    uint64_t h0, h1;
    int64_t at;
} recording;

/* Clocks as the NIF sees them (erlang:monotonic_time is often a large
 * negative number) and the edges; moves stay far from overflow, since
 * the table's arithmetic assumes a real clock. */
static const int64_t clock_starts[8] = {
    0, 1, -576460751000000000LL, 1700000000000000LL,
    INT64_MIN / 4, INT64_MAX / 4, -1, 123456789};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint8_t shape = fuzz_u8(&in);
    uint32_t capacity;
    switch (shape & 7) {
    case 0: capacity = 1; break;
    case 1: capacity = 0; break;                      /* refused */
    case 2: capacity = DEDUP_MAX_CAPACITY + 1; break; /* refused */
    default: capacity = 1 + fuzz_u16(&in) % 300;
    }
    int64_t ttl;
    switch ((shape >> 3) & 3) {
    case 0: ttl = 1 + fuzz_u8(&in); break;
    case 1: ttl = 1 + fuzz_u16(&in); break;
    case 2: ttl = INT64_MAX / 2; break; /* never expires in a run */
    default: ttl = (int64_t)(fuzz_u64(&in) >> 1); /* 0 is refused */
    }
    int64_t now = clock_starts[(shape >> 5) & 7];
    unsigned long fail_at = fuzz_u8(&in) % 8; /* 1..3 hit dedup_new */

    fuzz_mem_reset(fail_at);
    dedup_table *t = dedup_new(&(dedup_alloc){fuzz_alloc, fuzz_free},
                               capacity, ttl);
    if (!t) {
        FUZZ_CHECK(capacity == 0 || capacity > DEDUP_MAX_CAPACITY ||
                       ttl <= 0 || fuzz_mem.failed,
                   "dedup_new(%u, %lld) failed on its own", capacity,
                   (long long)ttl);
        FUZZ_CHECK(fuzz_mem.blocks == 0, "a failed dedup_new leaked");
        return 0;
    }
    FUZZ_CHECK(capacity >= 1 && capacity <= DEDUP_MAX_CAPACITY && ttl > 0,
               "dedup_new took bad arguments");
    FUZZ_CHECK(dedup_capacity(t) == capacity, "capacity %u, asked %u",
               dedup_capacity(t), capacity);
    FUZZ_CHECK(dedup_memory(t) == fuzz_mem.bytes,
               "dedup_memory %zu, allocated %zu", dedup_memory(t),
               fuzz_mem.bytes);

    recording *log = malloc(MAX_OPS * sizeof *log);  /* every recording */
    recording *ring = malloc(MAX_OPS * sizeof *ring); /* the size model */
    FUZZ_CHECK(log && ring, "harness out of memory");
    size_t nlog = 0, ring_head = 0, ring_len = 0;
    int64_t last = INT64_MIN;

    for (int op = 0; op < MAX_OPS && in.left > 0; op++) {
        uint8_t k = fuzz_u8(&in);
        uint64_t h0, h1;
        if (k == 0xFF) { /* any value at all */
            h0 = fuzz_u64(&in);
            h1 = fuzz_u64(&in);
        } else {
            /* Pairs of keys share h0 and differ in h1 only, and h0
             * values share low bits, so chains hold several keys. */
            k &= 63;
            h0 = (uint64_t)(k / 2) << 20;
            h1 = k;
        }
        uint8_t step = fuzz_u8(&in);
        if (step & 0x80) /* back in time: counts as the latest seen */
            now -= step & 0x7F;
        else if (step < 0x70 || ttl > ((int64_t)1 << 40))
            now += step;
        else /* jumps of quarter ttls, to cross it often */
            now += (int64_t)(step - 0x6F) * (ttl / 4) + 1;

        int64_t eff = now < last ? last : now;
        last = eff;
        /* the log model: the latest recording of this key decides */
        int expected = 0;
        for (size_t j = nlog; j-- > 0;) {
            if (log[j].h0 != h0 || log[j].h1 != h1)
                continue;
            expected = nlog - j <= capacity && eff - log[j].at < ttl;
            break;
        }
        int got = dedup_check(t, h0, h1, now);
        FUZZ_CHECK(got == expected, "op %d: check gave %d, model %d", op, got,
                   expected);
        if (!got)
            log[nlog++] = (recording){h0, h1, eff};

        /* the size model: sweep, then record (evicting when full) */
        for (int i = 0; i < TABLE_SWEEP_PER_CALL && ring_len > 0 &&
                        eff - ring[ring_head].at >= ttl;
             i++)
            ring_head++, ring_len--;
        if (!got) {
            if (ring_len == capacity)
                ring_head++, ring_len--;
            ring[ring_head + ring_len++] = (recording){h0, h1, eff};
        }
        FUZZ_CHECK(dedup_size(t) == ring_len && ring_len <= capacity,
                   "op %d: size %u, model %zu, capacity %u", op,
                   dedup_size(t), ring_len, capacity);
        FUZZ_CHECK(dedup_memory(t) == fuzz_mem.bytes,
                   "dedup_memory moved: %zu, allocated %zu", dedup_memory(t),
                   fuzz_mem.bytes);
    }
    dedup_free(t);
    FUZZ_CHECK(fuzz_mem.blocks == 0 && fuzz_mem.bytes == 0,
               "%ld blocks, %zu bytes left after dedup_free", fuzz_mem.blocks,
               fuzz_mem.bytes);
    free(log);
    free(ring);
    return 0;
}

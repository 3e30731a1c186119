/*
 * fuzz_arena: libFuzzer harness for the port driver's block arena
 * (block_arena.c).
 *
 * The input is read as operations: copy some bytes (short, around the
 * block size, or bigger than a block), take a mark, release before one
 * of the marks still valid, free everything, fail the next allocation.
 * Oracles, the three properties the driver relies on (block_arena.h):
 *   - bytes never move: every copy still reachable reads back as written
 *     after every operation (and ASan would see a read of freed memory);
 *   - releasing before a mark keeps everything copied since the mark;
 *   - memory: a.bytes equals the bytes held from the allocator at every
 *     step, a failed copy changes nothing, and freeing gives back every
 *     block.
 * A mark taken before one that was released to, or before a free, is
 * dropped: the header does not promise anything for such marks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c_src/block_arena.h"
#include "fuzz_support.h"

#define MAX_OPS 512
#define MAX_MARKS 8

typedef struct copy {
    const char *at;
    size_t len;
    uint8_t fill; /* the bytes are fill, fill + 1, ... */
} copy;

typedef struct mark {
    arena_mark m;
    size_t first_copy; /* copies from this index on were made after it */
} mark;

static void fill_bytes(char *buf, size_t len, uint8_t fill)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)(uint8_t)(fill + i);
}

static void check_copies(const copy *copies, size_t from, size_t n)
{
    for (size_t i = from; i < n; i++)
        for (size_t j = 0; j < copies[i].len; j++)
            FUZZ_CHECK((uint8_t)copies[i].at[j] == (uint8_t)(copies[i].fill + j),
                       "copy %zu moved or was overwritten at byte %zu", i, j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    copy *copies = malloc(MAX_OPS * sizeof *copies);
    char *buf = malloc(3 * 4096 + 256);
    FUZZ_CHECK(copies && buf, "harness out of memory");
    mark marks[MAX_MARKS];
    size_t ncopies = 0, nmarks = 0;
    /* copies below this index may have been freed: never read again */
    size_t live_from = 0;

    fuzz_mem_reset(0);
    stz_allocator allocator = {fuzz_alloc, fuzz_realloc, fuzz_free};
    block_arena a;
    block_arena_init(&a, &allocator);

    for (int op = 0; op < MAX_OPS && in.left > 0; op++) {
        uint8_t code = fuzz_u8(&in);
        switch (code % 8) {
        case 0:
        case 1:
        case 2: { /* copy: small, near the block size, or past it */
            uint8_t l = fuzz_u8(&in);
            size_t len = code & 0x80 ? 4096 - 64 + (size_t)l * 48 % 8300
                                     : (size_t)l % 96;
            uint8_t fill = fuzz_u8(&in);
            fill_bytes(buf, len, fill);
            size_t before = a.bytes;
            const char *p = block_arena_copy(&a, buf, len);
            if (!p) {
                FUZZ_CHECK(fuzz_mem.failed, "copy failed on its own");
                FUZZ_CHECK(a.bytes == before, "a failed copy changed bytes");
                break;
            }
            copies[ncopies++] = (copy){p, len, fill};
            break;
        }
        case 3: /* mark */
            if (nmarks < MAX_MARKS)
                marks[nmarks++] = (mark){block_arena_mark(&a), ncopies};
            break;
        case 4: { /* release before a mark: older marks become stale */
            if (nmarks == 0)
                break;
            size_t k = fuzz_u8(&in) % nmarks;
            block_arena_release_before(&a, marks[k].m);
            if (marks[k].m && marks[k].first_copy > live_from)
                live_from = marks[k].first_copy;
            memmove(marks, marks + k, (nmarks - k) * sizeof *marks);
            nmarks -= k;
            break;
        }
        case 5: /* free everything; the arena stays usable */
            block_arena_free(&a);
            FUZZ_CHECK(a.bytes == 0, "bytes %zu after free", a.bytes);
            live_from = ncopies;
            nmarks = 0;
            break;
        case 6: /* the next allocation fails */
            fuzz_mem.calls = 0;
            fuzz_mem.fail_at = 1;
            fuzz_mem.failed = 0;
            break;
        default: /* an empty copy is a valid pointer */
            FUZZ_CHECK(block_arena_copy(&a, buf, 0) != NULL || fuzz_mem.failed,
                       "an empty copy failed");
        }
        if (fuzz_mem.failed)
            fuzz_mem.fail_at = 0;
        check_copies(copies, live_from, ncopies);
        FUZZ_CHECK(a.bytes == fuzz_mem.bytes, "a.bytes %zu, allocated %zu",
                   a.bytes, fuzz_mem.bytes);
    }
    block_arena_free(&a);
    FUZZ_CHECK(fuzz_mem.blocks == 0 && fuzz_mem.bytes == 0,
               "%ld blocks, %zu bytes left after block_arena_free",
               fuzz_mem.blocks, fuzz_mem.bytes);
    free(copies);
    free(buf);
    return 0;
}

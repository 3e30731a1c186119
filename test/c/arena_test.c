/*
 * arena_test: block_arena without the BEAM, built with ASan and UBSan and
 * run under valgrind by `make check-c`.
 *
 * The port driver relies on three properties: bytes never move once
 * copied, releasing before a mark keeps everything from the mark on, and
 * freeing gives every byte back.
 */
#include <string.h>

#include "../../c_src/block_arena.h"
#include "test_support.h"

/* Many strings, some bigger than a block: each still reads back as
 * written after all the others were added. */
static void test_bytes_never_move(void)
{
    block_arena a;
    block_arena_init(&a, &counting_allocator);
    enum { N = 2000 };
    const char *kept[N];
    size_t lens[N];
    char buf[20000];
    for (size_t i = 0; i < N; i++) {
        lens[i] = (i * 37) % 97 + (i % 100 == 0 ? 9000 : 0);
        memset(buf, (int)('a' + i % 26), lens[i]);
        kept[i] = block_arena_copy(&a, buf, lens[i]);
        CHECK(kept[i] != NULL);
    }
    for (size_t i = 0; i < N; i++) {
        int same = 1;
        for (size_t j = 0; j < lens[i]; j++)
            same &= kept[i][j] == (char)('a' + i % 26);
        CHECK(same);
    }
    CHECK(a.bytes > 0);
    block_arena_free(&a);
    CHECK(a.bytes == 0);
    CHECK(live_allocations == 0);
}

/* What was copied from the mark on survives a release; what came before
 * is freed, except what shares the mark's block. */
static void test_release_before_mark(void)
{
    block_arena a;
    block_arena_init(&a, &counting_allocator);
    char big[10000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 10; i++)
        CHECK(block_arena_copy(&a, big, sizeof big) != NULL);
    size_t before = a.bytes;
    arena_mark mark = block_arena_mark(&a);
    const char *after = block_arena_copy(&a, "after the mark", 14);
    CHECK(after != NULL);
    block_arena_release_before(&a, mark);
    CHECK(a.bytes < before);
    CHECK(memcmp(after, "after the mark", 14) == 0);
    /* A mark taken on an empty arena releases nothing. */
    block_arena_free(&a);
    arena_mark empty = block_arena_mark(&a);
    const char *s = block_arena_copy(&a, "kept", 4);
    block_arena_release_before(&a, empty);
    CHECK(s != NULL && memcmp(s, "kept", 4) == 0);
    block_arena_free(&a);
    CHECK(live_allocations == 0);
}

static void test_empty_copy(void)
{
    block_arena a;
    block_arena_init(&a, &counting_allocator);
    CHECK(block_arena_copy(&a, "", 0) != NULL);
    block_arena_free(&a);
    CHECK(live_allocations == 0);
}

int main(void)
{
    test_bytes_never_move();
    test_release_before_mark();
    test_empty_copy();
    if (failures) {
        fprintf(stderr, "arena_test: %d failure(s)\n", failures);
        return 1;
    }
    printf("arena_test: all checks passed\n");
    return 0;
}

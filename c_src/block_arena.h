/*
 * block_arena: bytes that stay where they are until released in bulk.
 *
 * The port driver describes terms as specs that point at their bytes, and
 * erl_drv_output_term reads them only when the message is sent, which for
 * a stanza spanning many parse calls is long after expat's buffers are
 * gone. A growing buffer would move on realloc and break those pointers;
 * a chain of fixed blocks never moves what it holds.
 *
 * Blocks are chained in allocation order, so "everything allocated before
 * this mark" is a prefix of the chain and can be freed in one walk.
 */
#ifndef STANZA_BLOCK_ARENA_H
#define STANZA_BLOCK_ARENA_H

#include <stddef.h>

#include "stz_alloc.h"

typedef struct arena_block arena_block;

typedef struct block_arena {
    const stz_allocator *allocator;
    arena_block *first; /* the oldest block */
    arena_block *last;  /* where the next bytes go */
    size_t bytes;       /* held in blocks, headers included */
} block_arena;

/* A position in the arena: the block that was last when it was taken. */
typedef const arena_block *arena_mark;

void block_arena_init(block_arena *a, const stz_allocator *allocator);

/* A copy of len bytes that stays put until released; NULL when out of
 * memory (len 0 gives a valid pointer). */
const char *block_arena_copy(block_arena *a, const char *bytes, size_t len);

arena_mark block_arena_mark(const block_arena *a);

/* Frees every block allocated wholly before mark's block. */
void block_arena_release_before(block_arena *a, arena_mark mark);

/* Frees every block; the arena stays usable. An idle stream holds
 * nothing: a block costs one allocation per message, not measurable. */
void block_arena_free(block_arena *a);

#endif

/*
 * block_arena: see block_arena.h.
 */
#include "block_arena.h"

#include <stdint.h>
#include <string.h>

/* A typical stanza's names and text fit in one block; bigger stanzas
 * chain more, and a string bigger than this gets a block of its own. */
#define BLOCK_PAYLOAD 4096

struct arena_block {
    arena_block *next;
    size_t used;
    size_t size;
    char data[];
};

void block_arena_init(block_arena *a, const stz_allocator *allocator)
{
    memset(a, 0, sizeof *a);
    a->allocator = allocator;
}

static arena_block *new_block(block_arena *a, size_t payload)
{
    if (payload > SIZE_MAX - sizeof(arena_block))
        return NULL;
    arena_block *b = a->allocator->alloc(sizeof *b + payload);
    if (!b)
        return NULL;
    b->next = NULL;
    b->used = 0;
    b->size = payload;
    if (a->last)
        a->last->next = b;
    else
        a->first = b;
    a->last = b;
    a->bytes += sizeof *b + payload;
    return b;
}

const char *block_arena_copy(block_arena *a, const char *bytes, size_t len)
{
    arena_block *b = a->last;
    if (!b || b->size - b->used < len) {
        /* A string too big for a block gets a block of its own; the rest
         * of the current block is wasted, at most one string's worth. */
        b = new_block(a, len > BLOCK_PAYLOAD ? len : BLOCK_PAYLOAD);
        if (!b)
            return NULL;
    }
    char *dst = b->data + b->used;
    if (len)
        memcpy(dst, bytes, len);
    b->used += len;
    return dst;
}

arena_mark block_arena_mark(const block_arena *a)
{
    return a->last;
}

static void free_block(block_arena *a, arena_block *b)
{
    a->bytes -= sizeof *b + b->size;
    a->allocator->free(b);
}

void block_arena_release_before(block_arena *a, arena_mark mark)
{
    if (!mark)
        return;
    while (a->first && a->first != mark) {
        arena_block *b = a->first;
        a->first = b->next;
        free_block(a, b);
    }
    if (!a->first)
        a->last = NULL; /* the mark was not in this arena */
}

void block_arena_free(block_arena *a)
{
    arena_block *b = a->first;
    while (b) {
        arena_block *next = b->next;
        free_block(a, b);
        b = next;
    }
    a->first = a->last = NULL;
}

/*
 * term_cache: see term_cache.h.
 */
#include "term_cache.h"

#include <string.h>

#define TERM_CACHE_EMPTY 0xFF

void term_cache_reset(term_cache *cache, ErlNifEnv *env)
{
    cache->env = env;
    for (size_t i = 0; i < TERM_CACHE_SLOTS; i++)
        cache->slots[i].len = TERM_CACHE_EMPTY;
}

/* FNV-1a: names are short, so a byte loop beats anything cleverer. */
static unsigned hash_bytes(const char *s, size_t len)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

term_cache_slot *term_cache_slot_for(term_cache *cache, const char *s,
                                     size_t len)
{
    return &cache->slots[hash_bytes(s, len) & (TERM_CACHE_SLOTS - 1)];
}

int term_cache_hit(const term_cache_slot *slot, const char *s, size_t len)
{
    return slot->len == len && memcmp(slot->bytes, s, len) == 0;
}

void term_cache_store(term_cache_slot *slot, const char *s, size_t len,
                      ERL_NIF_TERM term)
{
    slot->term = term;
    slot->len = (unsigned char)len;
    memcpy(slot->bytes, s, len);
}

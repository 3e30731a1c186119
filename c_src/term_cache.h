/*
 * term_cache: reuse of small name and value terms within one NIF call.
 *
 * XMPP repeats itself: "to", "from", "id", "type", "xmlns" and a handful of
 * namespace URIs make up most names and many values. The legacy format
 * makes them lists, two words a byte, which is worth sharing. Terms are immutable,
 * so within one environment the same term can stand in every place the same
 * string occurs; the cache turns a heap allocation and a copy into a hash and
 * a compare. It lives on the C stack of one NIF invocation and remembers
 * one environment: it never outlives the terms it points to.
 */
#ifndef STANZA_TERM_CACHE_H
#define STANZA_TERM_CACHE_H

#include <erl_nif.h>
#include <stddef.h>

#define TERM_CACHE_SLOTS 128   /* a power of two */
#define TERM_CACHE_MAX_LEN 48  /* longer strings are rarely repeated */

typedef struct term_cache_slot {
    ERL_NIF_TERM term;
    unsigned char len; /* TERM_CACHE_EMPTY when unused */
    char bytes[TERM_CACHE_MAX_LEN];
} term_cache_slot;

typedef struct term_cache {
    ErlNifEnv *env; /* the environment every cached term belongs to */
    term_cache_slot slots[TERM_CACHE_SLOTS];
} term_cache;

/* Empties the cache and ties it to env (NULL: unusable until the next). */
void term_cache_reset(term_cache *cache, ErlNifEnv *env);

/* The slot for s: a hit when slot->len == len and the bytes match. */
term_cache_slot *term_cache_slot_for(term_cache *cache, const char *s,
                                     size_t len);

/* Remembers term as the value of s in slot. */
void term_cache_store(term_cache_slot *slot, const char *s, size_t len,
                      ERL_NIF_TERM term);

int term_cache_hit(const term_cache_slot *slot, const char *s, size_t len);

#endif

/*
 * term_key: an Erlang term as the bytes a tracker compares keys by.
 *
 * The usual keys ({PeerJid, Id}: tuples of binaries, integers and atoms)
 * are written in a compact form into a buffer on the caller's stack; any
 * other term falls back to the external term format from
 * enif_term_to_binary, which costs a binary allocation per call. The two
 * forms cannot meet: the compact form starts with byte 1, the external
 * format with 131. Both are injective, and a term always takes the same
 * form, so equal bytes mean equal terms (=:=) and the other way round.
 */
#ifndef STANZA_TERM_KEY_H
#define STANZA_TERM_KEY_H

#include <erl_nif.h>
#include <stddef.h>

#define TERM_KEY_INLINE 256

typedef struct term_key {
    const unsigned char *data;
    size_t size;
    int external; /* bin holds the external format: release it */
    ErlNifBinary bin;
    unsigned char buf[TERM_KEY_INLINE];
} term_key;

/* Encodes term into k: 1, or 0 if it is longer than max_size bytes or
 * cannot be encoded. Release k with term_key_release. */
int term_key_encode(ErlNifEnv *env, ERL_NIF_TERM term, size_t max_size,
                    term_key *k);
void term_key_release(term_key *k);

/* The term back from its bytes, in env: 1, or 0 on bytes that are not a
 * key. */
int term_key_decode(ErlNifEnv *env, const unsigned char *data, size_t size,
                    ERL_NIF_TERM *out);

#endif

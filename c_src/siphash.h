/*
 * siphash: SipHash-2-4 with a 128-bit output (Aumasson and Bernstein), the
 * keyed hash behind stanza's duplicate table and request tracker.
 *
 * A keyed hash with a secret random key, rather than a fast unkeyed one,
 * because the hashed data (stanza ids, JIDs) comes from the network: an
 * attacker who cannot compute the hash cannot aim collisions at one bucket
 * or at one 128-bit value.
 */
#ifndef STANZA_SIPHASH_H
#define STANZA_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct siphash_key {
    uint64_t k0, k1;
} siphash_key;

/* Reads a key from 16 bytes, little-endian words as the reference does. */
siphash_key siphash_key_from_bytes(const unsigned char bytes[16]);

/* SipHash-2-4-128 of data. out[0] is the first 8 output bytes read as a
 * little-endian word, out[1] the next 8. */
void siphash128(const siphash_key *key, const void *data, size_t len,
                uint64_t out[2]);

#endif

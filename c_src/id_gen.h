/*
 * id_gen: the text form of stanza's packet ids.
 *
 * An id is 16 bytes written as 22 characters of base64url without padding
 * (RFC 4648 section 5: A-Z a-z 0-9 - _), safe in XML attributes and URLs
 * with no escaping.
 */
#ifndef STANZA_ID_GEN_H
#define STANZA_ID_GEN_H

#include <stdint.h>

#define ID_BYTES 16
#define ID_CHARS 22

/* Random bytes that start every id of one load of the NIF. */
#define ID_PREFIX_BYTES 9
/* The counter that follows them: 2^56 ids per load, more than 20 years
 * at 100 million ids a second. */
#define ID_COUNTER_BYTES 7

/* Writes the ID_CHARS characters of bytes to out (not NUL-terminated). */
void id_encode(const unsigned char bytes[ID_BYTES], char out[ID_CHARS]);

/* The bytes of the id number counter under prefix. */
void id_compose(const unsigned char prefix[ID_PREFIX_BYTES], uint64_t counter,
                unsigned char bytes[ID_BYTES]);

#endif

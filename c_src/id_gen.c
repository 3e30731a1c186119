#include "id_gen.h"

#include <stddef.h>

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void id_encode(const unsigned char bytes[ID_BYTES], char out[ID_CHARS])
{
    size_t o = 0;
    size_t i = 0;
    for (; i + 3 <= ID_BYTES; i += 3) {
        uint32_t v = (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8 |
                     bytes[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    /* 16 = 5 * 3 + 1: one byte left, two characters. */
    uint32_t v = (uint32_t)bytes[i] << 16;
    out[o++] = alphabet[(v >> 18) & 63];
    out[o++] = alphabet[(v >> 12) & 63];
}

/* The counter goes last, big-endian: ids of one load share their first
 * characters, which makes them easy to tell apart by origin in logs. */
void id_compose(const unsigned char prefix[ID_PREFIX_BYTES], uint64_t counter,
                unsigned char bytes[ID_BYTES])
{
    for (int i = 0; i < ID_PREFIX_BYTES; i++)
        bytes[i] = prefix[i];
    for (int i = ID_BYTES - 1; i >= ID_PREFIX_BYTES; i--) {
        bytes[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
}

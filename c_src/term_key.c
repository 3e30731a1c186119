#include "term_key.h"

#include <stdint.h>
#include <string.h>

/* Compact form: byte 1, then one value:
 *   'B' len:32 bytes      binary
 *   'I' value:64          integer that fits 64 bits
 *   'A' len:8 latin1      atom
 *   'T' arity:8 values    tuple
 * Integers are big-endian two's complement. */
#define COMPACT 1
/* Nesting bound: keeps the recursion shallow; deeper keys use the
 * external format. */
#define MAX_DEPTH 8

typedef struct writer {
    unsigned char *p;
    size_t len, cap;
} writer;

static int put(writer *w, const void *data, size_t n)
{
    if (n > w->cap - w->len)
        return 0;
    memcpy(w->p + w->len, data, n);
    w->len += n;
    return 1;
}

static int put_be(writer *w, unsigned char tag, uint64_t v, int bytes)
{
    unsigned char b[9];
    b[0] = tag;
    for (int i = bytes; i >= 1; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
    return put(w, b, (size_t)bytes + 1);
}

static int compact(ErlNifEnv *env, ERL_NIF_TERM t, writer *w, int depth)
{
    ErlNifBinary bin;
    ErlNifSInt64 i;
    const ERL_NIF_TERM *elems;
    int arity;
    unsigned len;
    if (enif_is_binary(env, t) && enif_inspect_binary(env, t, &bin))
        return bin.size <= UINT32_MAX &&
               put_be(w, 'B', bin.size, 4) && put(w, bin.data, bin.size);
    if (enif_get_int64(env, t, &i))
        return put_be(w, 'I', (uint64_t)i, 8);
    if (enif_get_atom_length(env, t, &len, ERL_NIF_LATIN1)) {
        char name[256];
        if (len > 255 ||
            enif_get_atom(env, t, name, sizeof name, ERL_NIF_LATIN1) <= 0)
            return 0;
        return put_be(w, 'A', len, 1) && put(w, name, len);
    }
    if (depth < MAX_DEPTH && enif_get_tuple(env, t, &arity, &elems) &&
        arity <= 255) {
        if (!put_be(w, 'T', (uint64_t)arity, 1))
            return 0;
        for (int k = 0; k < arity; k++)
            if (!compact(env, elems[k], w, depth + 1))
                return 0;
        return 1;
    }
    return 0;
}

int term_key_encode(ErlNifEnv *env, ERL_NIF_TERM term, size_t max_size,
                    term_key *k)
{
    writer w = {k->buf, 0, sizeof k->buf};
    k->external = 0;
    k->buf[0] = COMPACT;
    w.len = 1;
    if (compact(env, term, &w, 0)) {
        k->data = k->buf;
        k->size = w.len;
        return k->size <= max_size;
    }
    if (!enif_term_to_binary(env, term, &k->bin))
        return 0;
    k->external = 1;
    k->data = k->bin.data;
    k->size = k->bin.size;
    if (k->size > max_size) {
        term_key_release(k);
        return 0;
    }
    return 1;
}

void term_key_release(term_key *k)
{
    if (k->external)
        enif_release_binary(&k->bin);
    k->external = 0;
}

typedef struct reader {
    const unsigned char *p;
    size_t pos, size;
} reader;

static int get_be(reader *r, int bytes, uint64_t *v)
{
    if ((size_t)bytes > r->size - r->pos)
        return 0;
    uint64_t x = 0;
    for (int i = 0; i < bytes; i++)
        x = (x << 8) | r->p[r->pos++];
    *v = x;
    return 1;
}

static int decode(ErlNifEnv *env, reader *r, int depth, ERL_NIF_TERM *out)
{
    uint64_t n;
    if (r->pos >= r->size)
        return 0;
    unsigned char tag = r->p[r->pos++];
    switch (tag) {
    case 'B': {
        if (!get_be(r, 4, &n) || n > r->size - r->pos)
            return 0;
        unsigned char *d = enif_make_new_binary(env, n, out);
        if (!d)
            return 0;
        memcpy(d, r->p + r->pos, n);
        r->pos += n;
        return 1;
    }
    case 'I':
        if (!get_be(r, 8, &n))
            return 0;
        *out = enif_make_int64(env, (ErlNifSInt64)n);
        return 1;
    case 'A':
        if (!get_be(r, 1, &n) || n > r->size - r->pos)
            return 0;
        *out = enif_make_atom_len(env, (const char *)r->p + r->pos, n);
        r->pos += n;
        return 1;
    case 'T': {
        ERL_NIF_TERM elems[255];
        if (depth >= MAX_DEPTH || !get_be(r, 1, &n))
            return 0;
        for (uint64_t k = 0; k < n; k++)
            if (!decode(env, r, depth + 1, &elems[k]))
                return 0;
        *out = enif_make_tuple_from_array(env, elems, (unsigned)n);
        return 1;
    }
    default:
        return 0;
    }
}

int term_key_decode(ErlNifEnv *env, const unsigned char *data, size_t size,
                    ERL_NIF_TERM *out)
{
    if (size > 0 && data[0] == COMPACT) {
        reader r = {data, 1, size};
        return decode(env, &r, 0, out) && r.pos == size;
    }
    return enif_binary_to_term(env, data, size, out, 0) > 0;
}

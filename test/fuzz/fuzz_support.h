/*
 * fuzz_support: what the libFuzzer harnesses share. Each harness is one
 * translation unit, so everything here is static.
 *
 * The allocator counts bytes, not just blocks, so a harness can assert
 * that the code under test gives back exactly what it took; it can also
 * fail one chosen allocation, so the out-of-memory paths are fuzzed like
 * any other. The C cores take plain function pointers without a context
 * (stz_allocator, dedup_alloc, rt_alloc), so its state has to live at file
 * scope; every harness resets it at the start of each input.
 */
#ifndef STANZA_FUZZ_SUPPORT_H
#define STANZA_FUZZ_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An oracle failure: libFuzzer treats abort() as a crash and saves the
 * input, which is all we need; the message says which promise broke. */
#define FUZZ_CHECK(cond, ...)                                               \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: oracle failed: %s: ", __FILE__,         \
                    __LINE__, #cond);                                       \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* ---------------------------------------------------------------------- */
/* Counting, failing allocator                                             */

/* Each block carries its size in front, kept at max_align_t alignment so
 * the code under test gets the alignment malloc would give it. */
typedef union fuzz_header {
    size_t size;
    max_align_t align;
} fuzz_header;

static struct {
    long blocks;        /* live blocks */
    size_t bytes;       /* live bytes, as requested */
    unsigned long calls; /* alloc and realloc calls so far */
    unsigned long fail_at; /* that call fails (1-based); 0: none */
    int failed;         /* the chosen call has failed */
} fuzz_mem;

static inline void fuzz_mem_reset(unsigned long fail_at)
{
    fuzz_mem.blocks = 0;
    fuzz_mem.bytes = 0;
    fuzz_mem.calls = 0;
    fuzz_mem.fail_at = fail_at;
    fuzz_mem.failed = 0;
}

static inline int fuzz_mem_should_fail(void)
{
    fuzz_mem.calls++;
    if (fuzz_mem.fail_at && fuzz_mem.calls == fuzz_mem.fail_at) {
        fuzz_mem.failed = 1;
        return 1;
    }
    return 0;
}

static inline void *fuzz_alloc(size_t n)
{
    if (fuzz_mem_should_fail() || n > SIZE_MAX - sizeof(fuzz_header))
        return NULL;
    fuzz_header *h = malloc(sizeof *h + n);
    if (!h)
        return NULL;
    h->size = n;
    fuzz_mem.blocks++;
    fuzz_mem.bytes += n;
    return h + 1;
}

static inline void fuzz_free(void *p)
{
    if (!p)
        return;
    fuzz_header *h = (fuzz_header *)p - 1;
    fuzz_mem.blocks--;
    fuzz_mem.bytes -= h->size;
    free(h);
}

static inline void *fuzz_realloc(void *p, size_t n)
{
    if (!p)
        return fuzz_alloc(n);
    if (fuzz_mem_should_fail() || n > SIZE_MAX - sizeof(fuzz_header))
        return NULL;
    fuzz_header *old = (fuzz_header *)p - 1;
    size_t old_size = old->size;
    fuzz_header *h = realloc(old, sizeof *h + n);
    if (!h)
        return NULL;
    h->size = n;
    fuzz_mem.bytes = fuzz_mem.bytes - old_size + n;
    return h + 1;
}

/* ---------------------------------------------------------------------- */
/* Reading the fuzz input                                                  */

/* A cursor over the input; reads past the end give zeros, so every input
 * decodes to something and short inputs are not wasted. */
typedef struct fuzz_in {
    const uint8_t *p;
    size_t left;
} fuzz_in;

static inline uint8_t fuzz_u8(fuzz_in *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(fuzz_in *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(fuzz_in *in)
{
    uint32_t hi = fuzz_u16(in);
    return hi << 16 | fuzz_u16(in);
}

static inline uint64_t fuzz_u64(fuzz_in *in)
{
    uint64_t hi = fuzz_u32(in);
    return hi << 32 | fuzz_u32(in);
}

/* Up to max bytes of the input (fewer when it ends). */
static inline size_t fuzz_bytes(fuzz_in *in, size_t max, const uint8_t **out)
{
    size_t n = in->left < max ? in->left : max;
    *out = in->p;
    in->p += n;
    in->left -= n;
    return n;
}

/* ---------------------------------------------------------------------- */
/* Byte strings                                                            */

/* A growable byte string owned by the harness (plain malloc: the
 * counting allocator measures the code under test alone). */
typedef struct bytes {
    unsigned char *data;
    size_t len, cap;
} bytes;

static inline void bytes_add(bytes *b, const void *s, size_t n)
{
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            FUZZ_CHECK(cap <= SIZE_MAX / 2, "trace too long");
            cap *= 2;
        }
        unsigned char *d = realloc(b->data, cap);
        FUZZ_CHECK(d != NULL, "harness out of memory");
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* Records are tag, 32-bit length, bytes: unambiguous whatever the bytes
 * (names and text may hold anything the core let through). */
static inline void bytes_record(bytes *b, char tag, const char *s, size_t n)
{
    uint32_t n32 = (uint32_t)n;
    bytes_add(b, &tag, 1);
    bytes_add(b, &n32, sizeof n32);
    bytes_add(b, s, n);
}

static inline int bytes_is_prefix(const bytes *prefix, const bytes *of)
{
    return prefix->len <= of->len &&
           (prefix->len == 0 || memcmp(prefix->data, of->data, prefix->len) == 0);
}

static inline int bytes_equal(const bytes *a, const bytes *b)
{
    return a->len == b->len && bytes_is_prefix(a, b);
}

#endif

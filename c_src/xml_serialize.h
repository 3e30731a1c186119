/*
 * xml_serialize: the checks and the escaping behind stanza's serializer.
 *
 * It knows nothing of the BEAM: it writes bytes into an output buffer that
 * the caller grows (the NIF backs it with an ErlNifBinary, the C test with
 * malloc), so the test in test/c/ can run it under ASan, UBSan and valgrind.
 * The walk over the element term, the stack and the scheduling live in the
 * NIF (stanza_xml_nif.c); this file decides what is legal XML and how it is
 * written.
 */
#ifndef STANZA_XML_SERIALIZE_H
#define STANZA_XML_SERIALIZE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct stz_out stz_out;

/*
 * The output buffer. reserve makes room for at least need more bytes past
 * len (cap - len >= need afterwards) and returns 0 when it cannot, leaving
 * the buffer as it was.
 */
struct stz_out {
    unsigned char *data;
    size_t len;
    size_t cap;
    int (*reserve)(stz_out *out, size_t need);
    void *ctx;
};

typedef enum stz_ser_status {
    STZ_SER_OK = 0,
    STZ_SER_NO_MEMORY,
    STZ_SER_INVALID_UTF8,   /* not UTF-8 at all (overlong, truncated, ...) */
    STZ_SER_FORBIDDEN_CHAR, /* UTF-8, but not an XML 1.0 Char */
    STZ_SER_NOT_A_NAME      /* valid text, but not an XML Name */
} stz_ser_status;

/* Where the text goes: escaping differs (see stz_ser_escape). The
 * FAST_XML contexts write what fast_xml's serializer writes, for the
 * fast_xml compat: '>' plain in attribute values, CR plain in text. */
typedef enum stz_ser_context {
    STZ_SER_TEXT,
    STZ_SER_ATTR,
    STZ_SER_TEXT_FAST_XML,
    STZ_SER_ATTR_FAST_XML
} stz_ser_context;

/*
 * memcpy for the short strings most of a stanza is made of (names, values,
 * end tags): up to 32 bytes without a call, as two fixed-size copies that
 * overlap in the middle. The two areas must not overlap.
 */
static inline void stz_copy(unsigned char *d, const unsigned char *s, size_t n)
{
    if (n > 32) {
        memcpy(d, s, n);
    } else if (n >= 16) {
        unsigned char a[16], b[16];
        memcpy(a, s, 16);
        memcpy(b, s + n - 16, 16);
        memcpy(d, a, 16);
        memcpy(d + n - 16, b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0) {
        unsigned char a = s[0], b = s[n / 2], c = s[n - 1];
        d[0] = a;
        d[n / 2] = b;
        d[n - 1] = c;
    }
}

/* Makes room for need more bytes; the fast path stays inline. */
static inline int stz_out_reserve(stz_out *out, size_t need)
{
    if (out->cap - out->len >= need)
        return 1;
    return out->reserve(out, need);
}

static inline stz_ser_status stz_ser_raw(stz_out *out, const void *s,
                                         size_t len)
{
    if (!stz_out_reserve(out, len))
        return STZ_SER_NO_MEMORY;
    stz_copy(out->data + out->len, s, len);
    out->len += len;
    return STZ_SER_OK;
}

/*
 * Checks that s[0..len) is an XML 1.0 (fifth edition) Name, prefix and
 * colon included, and appends it. On failure nothing is appended and the
 * status says why (STZ_SER_INVALID_UTF8 or STZ_SER_NOT_A_NAME).
 */
stz_ser_status stz_ser_name(stz_out *out, const unsigned char *s, size_t len);

/* The same check alone, for callers that write the name themselves. */
stz_ser_status stz_ser_check_name(const unsigned char *s, size_t len);

/*
 * Appends s[0..len) escaped: & < > " ' as the five predefined entities,
 * CR as &#xD; (a parser would read a raw CR back as LF), and in attribute
 * values also tab and LF as &#x9; and &#xA; (attribute-value normalization
 * would turn them into spaces). Fails on invalid UTF-8 and on characters
 * XML 1.0 forbids (C0 controls but tab, LF, CR; surrogates; U+FFFE and
 * U+FFFF), setting *bad to the offending code point for
 * STZ_SER_FORBIDDEN_CHAR. On failure out->len is back where it was.
 */
stz_ser_status stz_ser_escape(stz_out *out, const unsigned char *s,
                              size_t len, stz_ser_context ctx, uint32_t *bad);

/*
 * The largest n <= limit such that s[0..n) ends on a character boundary
 * of s[0..len) (for cutting long text into slices). Never splits a valid
 * UTF-8 sequence when limit >= 4; returns limit when limit >= len, and
 * when the first character is longer than limit (so with limit < 4 it
 * can split that one).
 */
size_t stz_ser_cut(const unsigned char *s, size_t len, size_t limit);

#endif

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

/* Where the text goes: escaping differs (see stz_ser_escape). */
typedef enum stz_ser_context {
    STZ_SER_TEXT,
    STZ_SER_ATTR
} stz_ser_context;

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
    if (len)
        memcpy(out->data + out->len, s, len);
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
 * UTF-8 sequence; returns limit when limit >= len.
 */
size_t stz_ser_cut(const unsigned char *s, size_t len, size_t limit);

#endif

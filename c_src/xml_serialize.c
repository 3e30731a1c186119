/*
 * xml_serialize: XML Name checks, UTF-8 and XML 1.0 character checks, and
 * escaping, for the serializer. See xml_serialize.h.
 *
 * The escaping loop finds runs of ordinary ASCII sixteen bytes at a time
 * (SSE2 on x86-64; a 256-entry table elsewhere and for what the fast scan
 * stops at) and copies each run with one memcpy, so text that needs no
 * escaping costs about as much as a copy. Where the CPU has SSSE3, runs
 * that mix ASCII and multi-byte characters are validated sixteen bytes at
 * a time too (utf8_run_ssse3: long multilingual text went from 1.2x to
 * about 1.8x fast_xml's serializer); elsewhere non-ASCII is decoded
 * character by character (to check it) and copied as it is. test/c/serialize_test.c
 * checks every path against a plain reference implementation.
 */
#include "xml_serialize.h"

#if defined(__SSE2__) && !defined(STZ_SER_NO_SIMD)
#include <emmintrin.h>
#define STZ_SER_SSE2 1
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <stdatomic.h>
#include <tmmintrin.h>
#define STZ_SER_SSSE3 1 /* compiled in, used when the CPU has it */
#endif
#endif

/* What a byte needs. One table lookup per byte decides, so the common
 * case, a run of ordinary ASCII, costs one load and one compare a byte. */
enum {
    PLAIN = 0,     /* copied */
    ESCAPE = 1,    /* written as a reference */
    FORBIDDEN = 2, /* not an XML 1.0 Char */
    MULTI = 3,     /* starts (or continues) a multi-byte sequence */
};

#define F FORBIDDEN
#define E ESCAPE
#define M MULTI
/* Text: tab and LF are plain, CR is escaped (a parser turns it into LF). */
static const unsigned char text_class[256] = {
    F, F, F, F, F, F, F, F, F, 0, 0, F, F, E, F, F, /* 0x00 */
    F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, /* 0x10 */
    0, 0, E, 0, 0, 0, E, E, 0, 0, 0, 0, 0, 0, 0, 0, /* " & ' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, E, 0, E, 0, /* < > */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};
/* Attribute values: tab, LF and CR are escaped too (attribute-value
 * normalization would turn them into spaces). */
static const unsigned char attr_class[256] = {
    F, F, F, F, F, F, F, F, F, E, E, F, F, E, F, F, /* 0x00 */
    F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, /* 0x10 */
    0, 0, E, 0, 0, 0, E, E, 0, 0, 0, 0, 0, 0, 0, 0, /* " & ' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, E, 0, E, 0, /* < > */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};
/* fast_xml's text: CR is written as it is (a parser reads it back as
 * LF: what fast_xml does, kept for byte-identical output). */
static const unsigned char text_class_fast_xml[256] = {
    F, F, F, F, F, F, F, F, F, 0, 0, F, F, 0, F, F, /* 0x00 */
    F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, /* 0x10 */
    0, 0, E, 0, 0, 0, E, E, 0, 0, 0, 0, 0, 0, 0, 0, /* " & ' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, E, 0, E, 0, /* < > */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};
/* fast_xml's attribute values: '>' is written as it is (legal there). */
static const unsigned char attr_class_fast_xml[256] = {
    F, F, F, F, F, F, F, F, F, E, E, F, F, E, F, F, /* 0x00 */
    F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, /* 0x10 */
    0, 0, E, 0, 0, 0, E, E, 0, 0, 0, 0, 0, 0, 0, 0, /* " & ' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, E, 0, 0, 0, /* < */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};
#undef F
#undef E
#undef M

static const unsigned char *const context_class[] = {
    [STZ_SER_TEXT] = text_class,
    [STZ_SER_ATTR] = attr_class,
    [STZ_SER_TEXT_FAST_XML] = text_class_fast_xml,
    [STZ_SER_ATTR_FAST_XML] = attr_class_fast_xml,
};

/* The references, by byte (all below 0x40), padded to eight bytes so that
 * one fixed-size copy writes any of them; a zero length marks the bytes
 * that have none. */
#define REF_ROOM 8
static const struct {
    char s[REF_ROOM];
    unsigned char len;
} references[0x40] = {
    ['\t'] = {"&#x9;", 5}, ['\n'] = {"&#xA;", 5}, ['\r'] = {"&#xD;", 5},
    ['"'] = {"&quot;", 6}, ['&'] = {"&amp;", 5},   ['\''] = {"&apos;", 6},
    ['<'] = {"&lt;", 4},   ['>'] = {"&gt;", 4},
};

/*
 * Decodes the UTF-8 sequence at s (n >= 1 bytes available) into *cp and
 * returns its length, or 0 when it is not UTF-8: a stray continuation
 * byte, a truncated sequence, an overlong form or a value past U+10FFFF.
 * Encoded surrogates decode, so that they are reported as the forbidden
 * characters they are rather than as garbage.
 */
static inline size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2) /* continuation byte, or overlong 2-byte lead */
        return 0;
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80)
            return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) |
              (s[2] & 0x3F);
        return *cp < 0x800 ? 0 : 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return (*cp < 0x10000 || *cp > 0x10FFFF) ? 0 : 4;
    }
    return 0;
}

/* XML 1.0's Char production, for code points >= 0x80. */
static inline int is_char(uint32_t c)
{
    return c <= 0xD7FF || (c >= 0xE000 && c <= 0xFFFD) ||
           (c >= 0x10000 && c <= 0x10FFFF);
}

/*
 * The length of the leading run of s[0..len) made of printable ASCII
 * (0x20-0x7F) other than the five escaped characters: the bytes that are
 * plain in both contexts. Sixteen bytes at a time with SSE2 (part of
 * x86-64); elsewhere, and for the tail, one table lookup a byte. The
 * callers finish the run with their own table (tab and LF in text,
 * multi-byte characters), so stopping early is never wrong, only slower.
 */
#ifdef STZ_SER_SSE2
/* Bit k set when byte k of v is plain printable ASCII. */
static inline unsigned plain_mask(__m128i v)
{
    /* Signed compare: 0x20-0x7F are > 0x1F, controls and bytes >= 0x80
     * (negative) are not. */
    __m128i ok = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1F));
    __m128i special = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('&'))),
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\'')),
                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('<'))),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('>'))));
    return (unsigned)_mm_movemask_epi8(_mm_andnot_si128(special, ok));
}

/* Eight (four) bytes at s, without alignment assumptions. */
static inline __m128i load8(const unsigned char *s)
{
    int64_t x;
    memcpy(&x, s, 8);
    return _mm_cvtsi64_si128(x);
}

static inline __m128i load4(const unsigned char *s)
{
    int32_t x;
    memcpy(&x, s, 4);
    return _mm_cvtsi32_si128(x);
}
#endif

static inline size_t ascii_run(const unsigned char *s, size_t len)
{
    size_t i = 0;
#ifdef STZ_SER_SSE2
    while (len - i >= 16) {
        unsigned m = plain_mask(
            _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
        if (m != 0xFFFF)
            return i + (size_t)__builtin_ctz(~m);
        i += 16;
    }
    /* The tail, never reading outside s[0..len): the last sixteen bytes
     * again when there are that many (the first 16 - r of them are known
     * to be plain), else two overlapping halves of eight or four. */
    size_t r = len - i;
    if (r == 0)
        return len;
    if (len >= 16) {
        unsigned m = plain_mask(_mm_loadu_si128(
            (const __m128i *)(const void *)(s + len - 16)));
        if (m == 0xFFFF)
            return len;
        return i + (size_t)__builtin_ctz((~m & 0xFFFF) >> (16 - r));
    }
    if (len >= 8) {
        unsigned m = plain_mask(_mm_unpacklo_epi64(load8(s), load8(s + len - 8)));
        if (m == 0xFFFF)
            return len;
        if ((m & 0xFF) != 0xFF)
            return (size_t)__builtin_ctz(~m & 0xFF);
        return len - 8 + (size_t)__builtin_ctz(~(m >> 8) & 0xFF);
    }
    if (len >= 4) {
        unsigned m =
            plain_mask(_mm_unpacklo_epi32(load4(s), load4(s + len - 4)));
        if ((m & 0xFF) == 0xFF)
            return len;
        if ((m & 0xF) != 0xF)
            return (size_t)__builtin_ctz(~m & 0xF);
        return len - 4 + (size_t)__builtin_ctz(~(m >> 4) & 0xF);
    }
#endif
    while (i < len && text_class[s[i]] == PLAIN && s[i] >= 0x20)
        i++;
    return i;
}

#ifdef STZ_SER_SSSE3
/*
 * Runs of text mixing ASCII and multi-byte characters (CJK, Arabic,
 * Cyrillic, emoji) are validated sixteen bytes at a time with the lookup
 * algorithm of Keiser and Lemire ("Validating UTF-8 in less than one
 * instruction per byte", 2021): three table lookups (pshufb, SSSE3) on the
 * nibbles of each byte and of the one before classify every two-byte
 * pattern that cannot occur in UTF-8 (too short, too long, overlong,
 * surrogate, past U+10FFFF); a saturating subtract checks that the second
 * and third bytes after a 3- or 4-byte lead are continuation bytes. On top
 * of UTF-8 XML forbids U+FFFE and U+FFFF (EF BF BE, EF BF BF), checked with
 * three compares. A bad byte, or an ASCII byte that needs a reference or is
 * forbidden, ends the run before its character; the byte-by-byte loop of
 * stz_ser_escape then decides what it is and reports it exactly.
 */
#define U8_TOO_SHORT (1 << 0)
#define U8_TOO_LONG (1 << 1)
#define U8_OVERLONG_3 (1 << 2)
#define U8_TOO_LARGE (1 << 3)
#define U8_SURROGATE (1 << 4)
#define U8_OVERLONG_2 (1 << 5)
#define U8_TOO_LARGE_1000 (1 << 6)
#define U8_OVERLONG_4 (1 << 6)
#define U8_TWO_CONTS (-0x80) /* bit 7, as a char: the tables are signed */
#define U8_CARRY (U8_TOO_SHORT | U8_TOO_LONG | U8_TWO_CONTS)

/* Bit k set when byte k of v is an error, judged with prev, the sixteen
 * bytes before v. */
__attribute__((target("ssse3"))) static inline unsigned
utf8_error_mask(__m128i v, __m128i prev)
{
    const __m128i nibble = _mm_set1_epi8(0x0F);
    /* Table of the first byte of a pair by its high nibble. */
    const __m128i byte_1_high = _mm_setr_epi8(
        U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG,
        U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TWO_CONTS, U8_TWO_CONTS,
        U8_TWO_CONTS, U8_TWO_CONTS, U8_TOO_SHORT | U8_OVERLONG_2,
        U8_TOO_SHORT, U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE,
        U8_TOO_SHORT | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_OVERLONG_4);
    /* ... by its low nibble. */
    const __m128i byte_1_low = _mm_setr_epi8(
        U8_CARRY | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4,
        U8_CARRY | U8_OVERLONG_2, U8_CARRY, U8_CARRY,
        U8_CARRY | U8_TOO_LARGE, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_SURROGATE,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
        U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000);
    /* Table of the second byte by its high nibble. */
    const __m128i byte_2_high = _mm_setr_epi8(
        U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
        U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
        U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 |
            U8_TOO_LARGE_1000 | U8_OVERLONG_4,
        U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 |
            U8_TOO_LARGE,
        U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE |
            U8_TOO_LARGE,
        U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE |
            U8_TOO_LARGE,
        U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT);
    __m128i prev1 = _mm_alignr_epi8(v, prev, 15);
    __m128i prev2 = _mm_alignr_epi8(v, prev, 14);
    __m128i prev3 = _mm_alignr_epi8(v, prev, 13);
    __m128i special = _mm_and_si128(
        _mm_and_si128(
            _mm_shuffle_epi8(byte_1_high,
                             _mm_and_si128(_mm_srli_epi16(prev1, 4), nibble)),
            _mm_shuffle_epi8(byte_1_low, _mm_and_si128(prev1, nibble))),
        _mm_shuffle_epi8(byte_2_high,
                         _mm_and_si128(_mm_srli_epi16(v, 4), nibble)));
    /* 0x80 where the byte must be a continuation: two after a lead
     * 111xxxxx, three after a lead 1111xxxx. */
    __m128i must23 = _mm_or_si128(
        _mm_subs_epu8(prev2, _mm_set1_epi8((char)(0xE0 - 0x80))),
        _mm_subs_epu8(prev3, _mm_set1_epi8((char)(0xF0 - 0x80))));
    __m128i must23_80 = _mm_and_si128(must23, _mm_set1_epi8((char)0x80));
    __m128i error = _mm_xor_si128(must23_80, special);
    /* U+FFFE, U+FFFF: EF BF BE, EF BF BF. */
    __m128i nonchar = _mm_and_si128(
        _mm_and_si128(_mm_cmpeq_epi8(prev2, _mm_set1_epi8((char)0xEF)),
                      _mm_cmpeq_epi8(prev1, _mm_set1_epi8((char)0xBF))),
        _mm_cmpeq_epi8(_mm_or_si128(v, _mm_set1_epi8(1)),
                       _mm_set1_epi8((char)0xBF)));
    __m128i bad = _mm_or_si128(
        _mm_xor_si128(_mm_cmpeq_epi8(error, _mm_setzero_si128()),
                      _mm_set1_epi8((char)0xFF)),
        nonchar);
    return (unsigned)_mm_movemask_epi8(bad);
}

/* Bit k set when byte k of v is ASCII other than plain printable: a
 * control, or one of the five escaped characters. */
static inline unsigned ascii_stop_mask(__m128i v)
{
    __m128i ascii = _mm_cmpgt_epi8(v, _mm_set1_epi8(-1)); /* < 0x80 */
    __m128i printable = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1F));
    __m128i special = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('&'))),
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\'')),
                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('<'))),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('>'))));
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_andnot_si128(printable, ascii), special));
}

/*
 * The length of the leading part of s[0..len) (which starts on a
 * character boundary) made of valid characters copied as they are:
 * printable ASCII but the five escaped, and valid non-ASCII XML Chars;
 * it ends on a character boundary. Whole blocks of sixteen only: the
 * caller's loops take the rest.
 */
__attribute__((target("ssse3"))) static size_t
utf8_run_ssse3(const unsigned char *s, size_t len)
{
    __m128i prev = _mm_setzero_si128();
    size_t i = 0;
    while (len - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned stop = ascii_stop_mask(v) | utf8_error_mask(v, prev);
        if (stop) {
            i += (size_t)__builtin_ctz(stop);
            break;
        }
        prev = v;
        i += 16;
    }
    /* Every pair and triple before i is valid; the last character may be
     * cut: step back over it unless it is whole. */
    size_t j = i, conts = 0;
    while (conts < 3 && j > 0 && (s[j - 1] & 0xC0) == 0x80) {
        j--;
        conts++;
    }
    if (j > 0 && s[j - 1] >= 0xC0) {
        unsigned char lead = s[j - 1];
        size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (conts + 1 < need)
            return j - 1;
    }
    return i;
}

/* Asked once; every thread computes the same answer, so a relaxed atomic
 * suffices for the cache. */
static int have_ssse3(void)
{
    static atomic_int known = -1;
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k < 0) {
        k = __builtin_cpu_supports("ssse3") ? 1 : 0;
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k;
}
#endif

/* The plain run at s: with SSSE3, ASCII and multi-byte characters
 * together; otherwise ASCII only. */
static inline size_t plain_run(const unsigned char *s, size_t len)
{
#ifdef STZ_SER_SSSE3
    if (len >= 32 && have_ssse3())
        return utf8_run_ssse3(s, len);
#endif
    return ascii_run(s, len);
}

stz_ser_status stz_ser_escape(stz_out *out, const unsigned char *s,
                              size_t len, stz_ser_context ctx, uint32_t *bad)
{
    const unsigned char *cls = context_class[ctx];
    size_t start_len = out->len;
    stz_ser_status status = STZ_SER_OK;
    /* Room for the rest of the input as it is: plain runs are then copied
     * without a check, and each reference makes room for itself plus what
     * is left (so the invariant holds again after it). */
    if (!stz_out_reserve(out, len))
        return STZ_SER_NO_MEMORY;
    size_t i = 0;
    while (i < len) {
        /* A run of bytes copied as they are: plain ASCII, and non-ASCII
         * once its sequence has been checked. */
        size_t run = i;
        for (;;) {
            i += plain_run(s + i, len - i);
            /* Byte by byte from here: tab and LF in text, and multi-byte
             * characters, back to the fast scan after a character when
             * ASCII follows (mostly-ASCII text with accents), staying here
             * while they follow one another (CJK, Cyrillic...). */
            while (i < len) {
                unsigned char k = cls[s[i]];
                if (k == PLAIN) {
                    i++;
                    continue;
                }
                if (k != MULTI)
                    goto run_end;
                uint32_t cp;
                size_t n = decode(s + i, len - i, &cp);
                if (n == 0) {
                    status = STZ_SER_INVALID_UTF8;
                    goto fail;
                }
                if (!is_char(cp)) {
                    *bad = cp;
                    status = STZ_SER_FORBIDDEN_CHAR;
                    goto fail;
                }
                i += n;
                if (i < len && s[i] < 0x80)
                    break;
            }
            if (i == len)
                break;
        }
    run_end:
        if (i > run) {
            stz_copy(out->data + out->len, s + run, i - run);
            out->len += i - run;
        }
        if (i == len)
            break;
        if (cls[s[i]] == FORBIDDEN) {
            *bad = s[i];
            status = STZ_SER_FORBIDDEN_CHAR;
            goto fail;
        }
        unsigned char c = s[i++];
        if (!stz_out_reserve(out, REF_ROOM + (len - i))) {
            status = STZ_SER_NO_MEMORY;
            goto fail;
        }
        memcpy(out->data + out->len, references[c & 0x3F].s, REF_ROOM);
        out->len += references[c & 0x3F].len;
    }
    return STZ_SER_OK;
fail:
    out->len = start_len;
    return status;
}

/* NameStartChar and NameChar for ASCII: S may start a name, C may
 * follow, 0 neither; bytes >= 0x80 (M) are decoded and looked up below. */
#define S 1
#define C 2
#define M 3
static const unsigned char name_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, C, C, 0, /* - . */
    C, C, C, C, C, C, C, C, C, C, S, 0, 0, 0, 0, 0, /* 0-9 : */
    0, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, /* A-O */
    S, S, S, S, S, S, S, S, S, S, S, 0, 0, 0, 0, S, /* P-Z _ */
    0, S, S, S, S, S, S, S, S, S, S, S, S, S, S, S, /* a-o */
    S, S, S, S, S, S, S, S, S, S, S, 0, 0, 0, 0, 0, /* p-z */
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};
#undef S
#undef C
#undef M

/* NameStartChar of XML 1.0 fifth edition, for code points >= 0x80. */
static int is_name_start(uint32_t c)
{
    return (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) ||
           (c >= 0xF8 && c <= 0x2FF) || (c >= 0x370 && c <= 0x37D) ||
           (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) ||
           (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) ||
           (c >= 0x3001 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDCF) ||
           (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

static int is_name_char(uint32_t c)
{
    return is_name_start(c) || c == 0xB7 || (c >= 0x300 && c <= 0x36F) ||
           (c >= 0x203F && c <= 0x2040);
}

#ifdef STZ_SER_SSE2
/* Bit k set when byte k of v is an ASCII NameChar: a letter, a digit,
 * '_', ':', '-' or '.'. Bytes >= 0x80 are negative in the signed compares
 * and never match. */
static inline unsigned name_mask(__m128i v)
{
    __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i letter =
        _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                      _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
    __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                  _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    __m128i punct = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8(':'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('.'))));
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(letter, digit), punct));
}
#endif

/* True when every byte of s[0..len) is an ASCII NameChar (the common case,
 * decided without a loop for names up to 16 bytes); false says only that
 * the byte-by-byte check must decide. */
static inline int all_ascii_name_chars(const unsigned char *s, size_t len)
{
#ifdef STZ_SER_SSE2
    if (len >= 16) {
        size_t i = 0;
        for (; len - i > 16; i += 16)
            if (name_mask(_mm_loadu_si128(
                    (const __m128i *)(const void *)(s + i))) != 0xFFFF)
                return 0;
        return name_mask(_mm_loadu_si128(
                   (const __m128i *)(const void *)(s + len - 16))) == 0xFFFF;
    }
    if (len >= 8)
        return name_mask(_mm_unpacklo_epi64(load8(s), load8(s + len - 8))) ==
               0xFFFF;
    if (len >= 4)
        return (name_mask(_mm_unpacklo_epi32(load4(s), load4(s + len - 4))) &
                0xFF) == 0xFF;
#endif
    for (size_t i = 0; i < len; i++)
        if (name_class[s[i]] != 1 && name_class[s[i]] != 2)
            return 0;
    return 1;
}

stz_ser_status stz_ser_check_name(const unsigned char *s, size_t len)
{
    if (len == 0)
        return STZ_SER_NOT_A_NAME;
    if (name_class[s[0]] != 1 && name_class[s[0]] != 3)
        return STZ_SER_NOT_A_NAME;
    if (all_ascii_name_chars(s, len))
        return STZ_SER_OK;
    size_t i = 0;
    while (i < len) {
        unsigned char k = name_class[s[i]];
        if (k == 1 || k == 2) {
            i++;
            continue;
        }
        if (k == 0)
            return STZ_SER_NOT_A_NAME;
        uint32_t cp;
        size_t n = decode(s + i, len - i, &cp);
        if (n == 0)
            return STZ_SER_INVALID_UTF8;
        if (!(i == 0 ? is_name_start(cp) : is_name_char(cp)))
            return STZ_SER_NOT_A_NAME;
        i += n;
    }
    return STZ_SER_OK;
}

stz_ser_status stz_ser_name(stz_out *out, const unsigned char *s, size_t len)
{
    stz_ser_status st = stz_ser_check_name(s, len);
    return st ? st : stz_ser_raw(out, s, len);
}

size_t stz_ser_cut(const unsigned char *s, size_t len, size_t limit)
{
    if (limit >= len)
        return limit;
    /* Back off over at most three continuation bytes: a valid sequence
     * is at most four bytes long, so a longer run is invalid anyway and
     * the checks will say so whichever slice it lands in. */
    size_t n = limit;
    for (int k = 0; k < 3 && n > 0 && (s[n] & 0xC0) == 0x80; k++)
        n--;
    return n > 0 ? n : limit;
}

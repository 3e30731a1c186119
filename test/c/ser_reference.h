/*
 * ser_reference: the serializer's rules written plainly, one code point
 * at a time, independently of xml_serialize.c (no tables, no fast paths).
 * The reference that test/c/serialize_test.c and the fuzz harness
 * test/fuzz/fuzz_serialize.c hold the real implementation to.
 */
#ifndef STANZA_SER_REFERENCE_H
#define STANZA_SER_REFERENCE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../c_src/xml_serialize.h"

static inline size_t ref_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, min = 0x80, *cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, min = 0x800, *cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, *cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[k] & 0x3F);
    }
    return *cp < min || *cp > 0x10FFFF ? 0 : len;
}

static inline stz_ser_status ref_escape(const unsigned char *s, size_t len,
                                        stz_ser_context ctx, char *out,
                                        size_t *out_len, uint32_t *bad)
{
    int attr = ctx == STZ_SER_ATTR || ctx == STZ_SER_ATTR_FAST_XML;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = ref_decode(s + i, len - i, &cp);
        if (n == 0)
            return STZ_SER_INVALID_UTF8;
        int is_char = cp == 0x9 || cp == 0xA || cp == 0xD ||
                      (cp >= 0x20 && cp <= 0xD7FF) ||
                      (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
        if (!is_char) {
            *bad = cp;
            return STZ_SER_FORBIDDEN_CHAR;
        }
        const char *ref = NULL;
        switch (cp) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = ctx == STZ_SER_ATTR_FAST_XML ? NULL : "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&apos;"; break;
        case '\r': ref = ctx == STZ_SER_TEXT_FAST_XML ? NULL : "&#xD;"; break;
        case '\t': ref = attr ? "&#x9;" : NULL; break;
        case '\n': ref = attr ? "&#xA;" : NULL; break;
        }
        if (ref) {
            memcpy(out + o, ref, strlen(ref));
            o += strlen(ref);
        } else {
            memcpy(out + o, s + i, n);
            o += n;
        }
        i += n;
    }
    *out_len = o;
    return STZ_SER_OK;
}

/* XML 1.0 fifth edition, productions [4] and [4a], typed from the spec. */
static inline int ref_name_start(uint32_t c)
{
    return c == ':' || (c >= 'A' && c <= 'Z') || c == '_' ||
           (c >= 'a' && c <= 'z') || (c >= 0xC0 && c <= 0xD6) ||
           (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
           (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) ||
           (c >= 0x200C && c <= 0x200D) || (c >= 0x2070 && c <= 0x218F) ||
           (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
           (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) ||
           (c >= 0x10000 && c <= 0xEFFFF);
}

static inline int ref_name_char(uint32_t c)
{
    return ref_name_start(c) || c == '-' || c == '.' ||
           (c >= '0' && c <= '9') || c == 0xB7 ||
           (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

static inline stz_ser_status ref_check_name(const unsigned char *s,
                                            size_t len)
{
    if (len == 0)
        return STZ_SER_NOT_A_NAME;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = ref_decode(s + i, len - i, &cp);
        if (n == 0)
            return STZ_SER_INVALID_UTF8;
        if (!(i == 0 ? ref_name_start(cp) : ref_name_char(cp)))
            return STZ_SER_NOT_A_NAME;
        i += n;
    }
    return STZ_SER_OK;
}

#endif

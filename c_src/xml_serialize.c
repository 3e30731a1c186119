/*
 * xml_serialize: XML Name checks, UTF-8 and XML 1.0 character checks, and
 * escaping, for the serializer. See xml_serialize.h.
 *
 * The escaping loop copies runs of ordinary ASCII with one memcpy and looks
 * at each byte through a 128-entry table, so text that needs no escaping
 * costs about as much as a copy; non-ASCII is decoded (to check it) and
 * copied as it is.
 */
#include "xml_serialize.h"

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
#undef F
#undef E
#undef M

/* The longest reference written for one byte ("&quot;", "&apos;"). */
#define MAX_REF 6

static const char *reference(unsigned char c, size_t *len)
{
    switch (c) {
    case '&': *len = 5; return "&amp;";
    case '<': *len = 4; return "&lt;";
    case '>': *len = 4; return "&gt;";
    case '"': *len = 6; return "&quot;";
    case '\'': *len = 6; return "&apos;";
    case '\t': *len = 5; return "&#x9;";
    case '\n': *len = 5; return "&#xA;";
    default: *len = 5; return "&#xD;"; /* '\r', the only one left */
    }
}

/*
 * Decodes the UTF-8 sequence at s (n >= 1 bytes available) into *cp and
 * returns its length, or 0 when it is not UTF-8: a stray continuation
 * byte, a truncated sequence, an overlong form or a value past U+10FFFF.
 * Encoded surrogates decode, so that they are reported as the forbidden
 * characters they are rather than as garbage.
 */
static size_t decode(const unsigned char *s, size_t n, uint32_t *cp)
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
static int is_char(uint32_t c)
{
    return c <= 0xD7FF || (c >= 0xE000 && c <= 0xFFFD) ||
           (c >= 0x10000 && c <= 0x10FFFF);
}

stz_ser_status stz_ser_escape(stz_out *out, const unsigned char *s,
                              size_t len, stz_ser_context ctx, uint32_t *bad)
{
    const unsigned char *cls = ctx == STZ_SER_ATTR ? attr_class : text_class;
    size_t start_len = out->len;
    size_t i = 0;
    stz_ser_status status = STZ_SER_OK;
    while (i < len) {
        /* A run of bytes copied as they are: plain ASCII, and non-ASCII
         * once its sequence has been checked. */
        size_t run = i;
        for (;;) {
            while (i < len && cls[s[i]] == PLAIN)
                i++;
            if (i == len || cls[s[i]] != MULTI)
                break;
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
        }
        if (i > run && (status = stz_ser_raw(out, s + run, i - run)))
            goto fail;
        if (i == len)
            break;
        if (cls[s[i]] == FORBIDDEN) {
            *bad = s[i];
            status = STZ_SER_FORBIDDEN_CHAR;
            goto fail;
        }
        size_t ref_len;
        const char *ref = reference(s[i], &ref_len);
        if (!stz_out_reserve(out, MAX_REF)) {
            status = STZ_SER_NO_MEMORY;
            goto fail;
        }
        memcpy(out->data + out->len, ref, ref_len);
        out->len += ref_len;
        i++;
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

stz_ser_status stz_ser_name(stz_out *out, const unsigned char *s, size_t len)
{
    if (len == 0)
        return STZ_SER_NOT_A_NAME;
    if (name_class[s[0]] != 1 && name_class[s[0]] != 3)
        return STZ_SER_NOT_A_NAME;
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
    return stz_ser_raw(out, s, len);
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

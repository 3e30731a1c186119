/*
 * jid: see jid.h.
 *
 * Splitting follows RFC 6122 section 2.1: the resourcepart is everything
 * after the first '/', the localpart everything before the first '@'
 * that comes before that '/'. Each part is then prepared alone.
 *
 * The domainpart (section 2.2): one trailing label separator is dropped;
 * an IP literal ("[" IPv6 "]") is nameprepped whole and must parse
 * (a dotted IPv4 address passes as labels); otherwise the domain is
 * split at IDNA's label separators (U+002E, U+3002, U+FF0E, U+FF61),
 * each label nameprepped (so the bidi rule holds per label, as in IDNA)
 * and checked as IDNA2003's ToASCII with UseSTD3ASCIIRules does:
 * non-empty; ASCII characters letters, digits and '-' only; no leading
 * or trailing '-'; at most 63 bytes in ASCII form (Punycode with its
 * "xn--" prefix for a label with non-ASCII characters, which must not
 * already start with "xn--"). Labels are joined with '.'.
 */
#include "jid.h"

#include <arpa/inet.h>
#include <string.h>

static stzjid_result from_prep(stzprep_result r)
{
    switch (r) {
    case STZPREP_OK: return STZJID_OK;
    case STZPREP_INVALID_UTF8: return STZJID_INVALID_UTF8;
    case STZPREP_TOO_LONG: return STZJID_TOO_LONG;
    case STZPREP_PROHIBITED: return STZJID_PROHIBITED;
    case STZPREP_UNASSIGNED: return STZJID_UNASSIGNED;
    case STZPREP_BIDI: return STZJID_BIDI;
    }
    return STZJID_PROHIBITED;
}

static stzjid_result prep_into(stzprep_profile profile, const uint8_t *in,
                               size_t len, stzjid_part *out, stzprep_work *w)
{
    if (len > STZJID_MAX_PART)
        return STZJID_TOO_LONG;
    stzprep_result r = stzprep(profile, in, len, out->data, STZJID_MAX_PART,
                               &out->len, w);
    if (r != STZPREP_OK)
        return from_prep(r);
    out->present = 1;
    out->same = out->len == len && memcmp(out->data, in, len) == 0;
    return STZJID_OK;
}

stzjid_result stzjid_prep_part(stzprep_profile profile, const uint8_t *in,
                               size_t len, stzjid_part *out,
                               stzprep_work *w)
{
    out->in_off = 0;
    out->in_len = len;
    out->present = 0;
    out->len = 0;
    if (len == 0) /* refused before the bytes are looked at */
        return profile == STZPREP_NODEPREP ? STZJID_BAD_LOCALPART
                                           : STZJID_BAD_RESOURCE;
    stzjid_result r = prep_into(profile, in, len, out, w);
    if (r == STZJID_OK && out->len == 0) /* only mapped-out characters */
        return profile == STZPREP_NODEPREP ? STZJID_BAD_LOCALPART
                                           : STZJID_BAD_RESOURCE;
    return r;
}

/* ---------------------------------------------------------------------- */
/* Domain labels                                                           */

/* RFC 3492's encoder, counting output characters only. Returns the
 * length of the Punycode form of cps[0..n), or SIZE_MAX beyond limit. */
#define PUNY_BASE 36u
#define PUNY_TMIN 1u
#define PUNY_TMAX 26u
#define PUNY_SKEW 38u
#define PUNY_DAMP 700u

static uint32_t puny_adapt(uint32_t delta, uint32_t points, int first)
{
    delta = first ? delta / PUNY_DAMP : delta / 2;
    delta += delta / points;
    uint32_t k = 0;
    while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
        delta /= PUNY_BASE - PUNY_TMIN;
        k += PUNY_BASE;
    }
    return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

size_t stzjid_punycode_length(const uint32_t *cps, size_t n, size_t limit)
{
    size_t out = 0, basic = 0;
    for (size_t i = 0; i < n; i++)
        basic += cps[i] < 0x80;
    out = basic + (basic > 0); /* the basic code points and a '-' */
    uint32_t code = 0x80, bias = 72;
    uint64_t delta = 0;
    size_t h = basic;
    while (h < n) {
        uint32_t m = UINT32_MAX;
        for (size_t i = 0; i < n; i++)
            if (cps[i] >= code && cps[i] < m)
                m = cps[i];
        delta += (uint64_t)(m - code) * (h + 1);
        if (delta > UINT32_MAX)
            return SIZE_MAX;
        code = m;
        for (size_t i = 0; i < n; i++) {
            if (cps[i] < code) {
                delta++;
            } else if (cps[i] == code) {
                uint64_t q = delta;
                for (uint32_t k = PUNY_BASE;; k += PUNY_BASE) {
                    uint32_t t = k <= bias ? PUNY_TMIN
                               : k >= bias + PUNY_TMAX ? PUNY_TMAX
                                                       : k - bias;
                    if (q < t)
                        break;
                    out++;
                    q = (q - t) / (PUNY_BASE - t);
                }
                out++;
                if (out > limit)
                    return SIZE_MAX;
                bias = puny_adapt((uint32_t)delta, (uint32_t)h + 1,
                                  h == basic);
                delta = 0;
                h++;
            }
        }
        delta++;
        code++;
    }
    return out;
}

static int ldh(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           (c >= 'A' && c <= 'Z');
}

/* One nameprepped label: ToASCII's checks with UseSTD3ASCIIRules. */
static int label_valid(const uint8_t *l, size_t len)
{
    if (len == 0 || l[0] == '-' || l[len - 1] == '-')
        return 0;
    uint32_t cps[STZJID_MAX_PART];
    size_t n = 0, pos = 0;
    int ascii = 1;
    while (pos < len) {
        int32_t c = stzprep_utf8_next(l, len, &pos);
        if (c < 0)
            return 0;
        if (c < 0x80 && !ldh((uint8_t)c))
            return 0; /* also a '.' that NFKC made (U+2024) */
        ascii &= c < 0x80;
        cps[n++] = (uint32_t)c;
    }
    if (ascii)
        return len <= 63;
    if (len >= 4 && (l[0] | 32) == 'x' && (l[1] | 32) == 'n' && l[2] == '-' &&
        l[3] == '-')
        return 0;
    return stzjid_punycode_length(cps, n, 59) <= 59;
}

static int ip_literal_valid(const uint8_t *d, size_t len)
{
    char addr[INET6_ADDRSTRLEN + 1];
    unsigned char bin[16];
    if (len < 3 || d[0] != '[' || d[len - 1] != ']' ||
        len - 2 > INET6_ADDRSTRLEN)
        return 0;
    memcpy(addr, d + 1, len - 2);
    addr[len - 2] = 0;
    return inet_pton(AF_INET6, addr, bin) == 1;
}

int stzjid_domain_valid(const uint8_t *d, size_t len)
{
    if (len == 0)
        return 0;
    if (d[0] == '[')
        return ip_literal_valid(d, len);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || d[i] == '.') {
            if (!label_valid(d + start, i - start))
                return 0;
            start = i + 1;
        }
    }
    return 1;
}

/* The length of the label separator at in[i] (IDNA: U+002E, U+3002,
 * U+FF0E, U+FF61), or 0. */
static size_t dot_at(const uint8_t *in, size_t len, size_t i)
{
    if (in[i] == '.')
        return 1;
    if (len - i < 3)
        return 0;
    if (in[i] == 0xE3 && in[i + 1] == 0x80 && in[i + 2] == 0x82)
        return 3;
    if (in[i] == 0xEF && in[i + 1] == 0xBC && in[i + 2] == 0x8E)
        return 3;
    if (in[i] == 0xEF && in[i + 1] == 0xBD && in[i + 2] == 0xA1)
        return 3;
    return 0;
}

/* Nameprep is applied label by label, as IDNA does (so the bidi rule
 * holds per label: U+05D0 ".com" is fine), and each label checked. */
static stzjid_result domain_labels(const uint8_t *in, size_t len,
                                   stzjid_part *out, stzprep_work *w)
{
    size_t o = 0, start = 0;
    for (size_t i = 0; i <= len;) {
        size_t dot = i < len ? dot_at(in, len, i) : 1;
        if (!dot) {
            i++;
            continue;
        }
        if (o > 0) {
            if (o == STZJID_MAX_PART)
                return STZJID_TOO_LONG;
            out->data[o++] = '.';
        }
        size_t l;
        stzprep_result r = stzprep(STZPREP_NAMEPREP, in + start, i - start,
                                   out->data + o, STZJID_MAX_PART - o, &l, w);
        if (r != STZPREP_OK)
            return from_prep(r);
        if (!label_valid(out->data + o, l))
            return STZJID_BAD_DOMAIN;
        o += l;
        i += dot;
        start = i;
    }
    out->len = o;
    return STZJID_OK;
}

stzjid_result stzjid_domain(const uint8_t *in, size_t len, stzjid_part *out,
                            stzprep_work *w)
{
    out->in_off = 0;
    out->present = 0;
    out->len = 0;
    if (len > STZJID_MAX_PART)
        return STZJID_TOO_LONG;
    /* one trailing label separator is dropped (RFC 6122 section 2.2) */
    size_t trimmed = len;
    for (size_t k = 1; k <= 3 && k < len; k += 2)
        if (dot_at(in, len, len - k) == k) {
            trimmed = len - k;
            break;
        }
    out->in_len = trimmed;
    stzjid_result r;
    if (trimmed > 0 && in[0] == '[') {
        r = prep_into(STZPREP_NAMEPREP, in, trimmed, out, w);
        if (r == STZJID_OK && !ip_literal_valid(out->data, out->len))
            r = STZJID_BAD_DOMAIN;
    } else if (trimmed == 0) {
        r = STZJID_BAD_DOMAIN;
    } else {
        r = domain_labels(in, trimmed, out, w);
    }
    if (r != STZJID_OK)
        return r;
    out->present = 1;
    out->same = out->len == trimmed && memcmp(out->data, in, trimmed) == 0;
    return STZJID_OK;
}

/* ---------------------------------------------------------------------- */
/* Whole JIDs                                                              */

stzjid_result stzjid_parse(const uint8_t *in, size_t len, stzjid *jid,
                           stzprep_work *w)
{
    jid->local.present = jid->domain.present = jid->resource.present = 0;
    jid->local.len = jid->domain.len = jid->resource.len = 0;
    if (len > STZJID_MAX_JID)
        return STZJID_TOO_LONG;
    const uint8_t *slash = memchr(in, '/', len);
    size_t bare_len = slash ? (size_t)(slash - in) : len;
    const uint8_t *at = memchr(in, '@', bare_len);
    size_t dom_off = at ? (size_t)(at - in) + 1 : 0;
    size_t dom_len = bare_len - dom_off;
    /* Lengths first, so an oversized part costs nothing. */
    if ((at && (size_t)(at - in) > STZJID_MAX_PART) ||
        dom_len > STZJID_MAX_PART ||
        (slash && len - bare_len - 1 > STZJID_MAX_PART))
        return STZJID_TOO_LONG;
    stzjid_result r;
    if (at) {
        r = stzjid_prep_part(STZPREP_NODEPREP, in, (size_t)(at - in),
                             &jid->local, w);
        if (r != STZJID_OK)
            return r;
    }
    r = stzjid_domain(in + dom_off, dom_len, &jid->domain, w);
    if (r != STZJID_OK)
        return r;
    jid->domain.in_off = dom_off;
    if (slash) {
        r = stzjid_prep_part(STZPREP_RESOURCEPREP, slash + 1,
                             len - bare_len - 1, &jid->resource, w);
        if (r != STZJID_OK)
            return r;
        jid->resource.in_off = bare_len + 1;
    }
    return STZJID_OK;
}

const char *stzjid_result_name(stzjid_result r)
{
    switch (r) {
    case STZJID_OK: return "ok";
    case STZJID_INVALID_UTF8: return "invalid_utf8";
    case STZJID_TOO_LONG: return "too_long";
    case STZJID_PROHIBITED: return "prohibited";
    case STZJID_UNASSIGNED: return "unassigned";
    case STZJID_BIDI: return "bidi";
    case STZJID_BAD_LOCALPART: return "bad_localpart";
    case STZJID_BAD_DOMAIN: return "bad_domain";
    case STZJID_BAD_RESOURCE: return "bad_resource";
    }
    return "unknown";
}

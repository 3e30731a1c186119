/*
 * stringprep: see stringprep.h. The Unicode 3.2 data and the RFC 3454
 * tables come from stringprep_tables.h, generated from Python's standard
 * library by gen/stringprep_tables.py (never typed by hand).
 *
 * The steps follow RFC 3454 section 3 in order: map (B.1 to nothing, B.2
 * case folding where the profile asks), normalize (NFKC, Unicode 3.2),
 * refuse prohibited output, check bidi (section 6), refuse unassigned
 * code points (A.1). Mapping and NFKD are one table lookup per code
 * point: the generator stores NFKD(B.2(c)) next to NFKD(c).
 *
 * Three shortcuts, each exact:
 *   - all-ASCII input never reaches the tables (stzprep_ascii);
 *   - when every code point is "quick" (its mapping, if any, is one code
 *     point, which NFKC's quick check answers Yes for and which has
 *     combining class 0), the mapped string is already NFKC (UAX #15's
 *     quick check) and normalization is skipped: precomposed Latin, CJK,
 *     Cyrillic, Greek... names go this way;
 *   - composition looks a pair up only when the second character can be
 *     the second of some composition (a table flag).
 *
 * NFKC lives in this file rather than its own because it shares the
 * generated tables (a 2-stage lookup per code point), which are static
 * and should be compiled once.
 */
#include "stringprep.h"

#include <string.h>

#include "stringprep_tables.h"

_Static_assert(SP_MAX_EXPANSION <= STZPREP_MAX_EXPANSION,
               "generated tables expand more than STZPREP_MAX_EXPANSION");

#define HANGUL_S_BASE 0xAC00u
#define HANGUL_L_BASE 0x1100u
#define HANGUL_V_BASE 0x1161u
#define HANGUL_T_BASE 0x11A7u
#define HANGUL_L_COUNT 19u
#define HANGUL_V_COUNT 21u
#define HANGUL_T_COUNT 28u
#define HANGUL_N_COUNT (HANGUL_V_COUNT * HANGUL_T_COUNT)
#define HANGUL_S_COUNT (HANGUL_L_COUNT * HANGUL_N_COUNT)

/* What each profile does. */
typedef struct profile_rules {
    int map_b2;         /* case folding (B.2); B.1 is always mapped */
    uint16_t prohibit;  /* SP_ flags refused in the output */
    int bidi;           /* RFC 3454 section 6 */
    int unassigned;     /* A.1 refused */
} profile_rules;

static const profile_rules rules[STZPREP_PROFILES] = {
    [STZPREP_NODEPREP] = {1, SP_C11 | SP_C12 | SP_C21 | SP_C22 | SP_C39 |
                                 SP_NODE, 1, 1},
    [STZPREP_NAMEPREP] = {1, SP_C12 | SP_C22 | SP_C39, 1, 1},
    [STZPREP_RESOURCEPREP] = {0, SP_C12 | SP_C21 | SP_C22 | SP_C39, 1, 1},
    [STZPREP_CASEFOLD] = {1, 0, 0, 0},
    [STZPREP_CASEFOLD_BIDI] = {1, 0, 1, 0},
};

static inline const sp_record *lookup(uint32_t cp)
{
    unsigned block = sp_stage1[cp >> SP_BLOCK_SHIFT];
    return &sp_records[sp_stage2[(block << SP_BLOCK_SHIFT) |
                                 (cp & SP_BLOCK_MASK)]];
}

/* ---------------------------------------------------------------------- */
/* UTF-8                                                                   */

int32_t stzprep_utf8_next(const uint8_t *in, size_t len, size_t *pos)
{
    size_t i = *pos;
    uint32_t c = in[i];
    uint32_t min;
    size_t need;
    if (c < 0x80) {
        *pos = i + 1;
        return (int32_t)c;
    } else if (c >= 0xC2 && c <= 0xDF) { /* C0, C1: always overlong */
        need = 1, min = 0x80, c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, min = 0x800, c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, min = 0x10000, c &= 0x07;
    } else {
        return -1;
    }
    if (len - i - 1 < need)
        return -1;
    for (size_t k = 1; k <= need; k++) {
        uint8_t b = in[i + k];
        if ((b & 0xC0) != 0x80)
            return -1;
        c = c << 6 | (b & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *pos = i + 1 + need;
    return (int32_t)c;
}

static size_t utf8_put(uint8_t *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (uint8_t)c;
        return 1;
    } else if (c < 0x800) {
        out[0] = (uint8_t)(0xC0 | c >> 6);
        out[1] = (uint8_t)(0x80 | (c & 0x3F));
        return 2;
    } else if (c < 0x10000) {
        out[0] = (uint8_t)(0xE0 | c >> 12);
        out[1] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | c >> 18);
    out[1] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
    out[2] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
    out[3] = (uint8_t)(0x80 | (c & 0x3F));
    return 4;
}

/* ---------------------------------------------------------------------- */
/* ASCII fast path                                                         */

/* The RFC 3454 tables restricted to ASCII: B.2 maps A-Z to a-z; C.1.1 is
 * the space; C.2.1 the controls 00-1F and 7F; Nodeprep adds " & ' / : <
 * > @. No ASCII character is in B.1, A.1 or D.1, so no bidi rule fires.
 * test/c/stringprep_diff.c checks each against libidn. */
static inline int ascii_prohibited(stzprep_profile p, uint8_t c)
{
    switch (p) {
    case STZPREP_NODEPREP:
        return c <= 0x20 || c == 0x7F || c == '"' || c == '&' ||
               c == '\'' || c == '/' || c == ':' || c == '<' || c == '>' ||
               c == '@';
    case STZPREP_RESOURCEPREP:
        return c < 0x20 || c == 0x7F;
    default:
        return 0;
    }
}

int stzprep_ascii(stzprep_profile p, const uint8_t *in, size_t len,
                  uint8_t *out, stzprep_result *result)
{
    int fold = rules[p].map_b2;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c >= 0x80)
            return 0;
        if (ascii_prohibited(p, c)) {
            /* finish the scan: a later non-ASCII byte may be invalid
             * UTF-8, which takes precedence (as in the general path) */
            for (size_t k = i + 1; k < len; k++)
                if (in[k] >= 0x80)
                    return 0;
            *result = STZPREP_PROHIBITED;
            return 1;
        }
        out[i] = (fold && c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
    }
    *result = STZPREP_OK;
    return 1;
}

/* ---------------------------------------------------------------------- */
/* NFKC                                                                    */

/* Stable sort of each run of non-starters by combining class (canonical
 * ordering). Runs are short in real text; a long run (crafted input) is
 * counting-sorted so the worst case stays linear. */
static void canonical_order(uint32_t *cps, uint8_t *ccc, size_t n,
                            uint32_t *tmp)
{
    size_t i = 0;
    while (i < n) {
        if (ccc[i] == 0) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < n && ccc[i] != 0)
            i++;
        size_t run = i - start;
        if (run < 2)
            continue;
        uint32_t *c = cps + start;
        uint8_t *k = ccc + start;
        if (run <= 16) {
            for (size_t a = 1; a < run; a++) {
                uint32_t cv = c[a];
                uint8_t kv = k[a];
                size_t b = a;
                for (; b > 0 && k[b - 1] > kv; b--) {
                    c[b] = c[b - 1];
                    k[b] = k[b - 1];
                }
                c[b] = cv;
                k[b] = kv;
            }
        } else {
            size_t count[257] = {0};
            for (size_t a = 0; a < run; a++)
                count[k[a] + 1]++;
            for (size_t v = 1; v < 257; v++)
                count[v] += count[v - 1];
            for (size_t a = 0; a < run; a++)
                tmp[count[k[a]]++] = c[a];
            for (size_t a = 0; a < run; a++) {
                c[a] = tmp[a];
                k[a] = (uint8_t)lookup(c[a])->ccc;
            }
        }
    }
}

/* The canonical composition of a pair, or 0. */
static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= HANGUL_L_BASE && a < HANGUL_L_BASE + HANGUL_L_COUNT &&
        b >= HANGUL_V_BASE && b < HANGUL_V_BASE + HANGUL_V_COUNT)
        return HANGUL_S_BASE +
               ((a - HANGUL_L_BASE) * HANGUL_V_COUNT + (b - HANGUL_V_BASE)) *
                   HANGUL_T_COUNT;
    if (a >= HANGUL_S_BASE && a < HANGUL_S_BASE + HANGUL_S_COUNT &&
        (a - HANGUL_S_BASE) % HANGUL_T_COUNT == 0 && b > HANGUL_T_BASE &&
        b < HANGUL_T_BASE + HANGUL_T_COUNT)
        return a + (b - HANGUL_T_BASE);
    uint64_t key = (uint64_t)a << 21 | b;
    size_t lo = 0, hi = SP_COMPOSITIONS;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sp_comp_keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < SP_COMPOSITIONS && sp_comp_keys[lo] == key ? sp_comp_values[lo]
                                                            : 0;
}

/* Canonical composition (UAX #15): a character joins the last starter
 * when nothing between them is blocking it, i.e. it is adjacent or the
 * last character kept has a lower, non-zero combining class. */
#ifndef STZPREP_LIBIDN_COMPOSITION
#define BLOCKED(last_cc, cc) ((last_cc) == 0 || (last_cc) >= (cc))
#define FIRST_STARTER SIZE_MAX
#else
/* libidn's rule (test builds only: test/c/stringprep_diff.c links a copy
 * of this file built with it, and shows that libidn differs from us only
 * where the rules do): a character with
 * combining class 0 joins the last starter across marks, and the first
 * character counts as a starter whatever its class. Unicode 3.2's UAX
 * #15, which Python follows, blocks it. */
#define BLOCKED(last_cc, cc) ((last_cc) != 0 && (last_cc) == (cc))
#define FIRST_STARTER 0
#endif

static size_t compose(uint32_t *cps, uint8_t *ccc, size_t n)
{
    size_t out = 0, starter = FIRST_STARTER;
    unsigned last_cc = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cps[i];
        unsigned cc = ccc[i];
        if (starter != SIZE_MAX && i > 0 &&
            (lookup(c)->flags & SP_SECOND) &&
            (out == starter + 1 || !BLOCKED(last_cc, cc))) {
            uint32_t composite = compose_pair(cps[starter], c);
            if (composite) {
                cps[starter] = composite;
                continue;
            }
        }
        cps[out] = c;
        ccc[out] = (uint8_t)cc;
        if (cc == 0)
            starter = out;
        last_cc = cc;
        out++;
    }
    return out;
}

/* Appends the NFKD of c (after B.2 when fold) to cps at *n. Returns 0 if
 * it does not fit. */
static int decompose(uint32_t c, const sp_record *r, int fold, uint32_t *cps,
                     uint8_t *ccc, size_t *n, size_t cap)
{
    size_t at = *n;
    if (c >= HANGUL_S_BASE && c < HANGUL_S_BASE + HANGUL_S_COUNT) {
        uint32_t s = c - HANGUL_S_BASE;
        uint32_t t = s % HANGUL_T_COUNT;
        if (cap - at < 3)
            return 0;
        cps[at] = HANGUL_L_BASE + s / HANGUL_N_COUNT;
        ccc[at++] = 0;
        cps[at] = HANGUL_V_BASE + (s % HANGUL_N_COUNT) / HANGUL_T_COUNT;
        ccc[at++] = 0;
        if (t) {
            cps[at] = HANGUL_T_BASE + t;
            ccc[at++] = 0;
        }
        *n = at;
        return 1;
    }
    uint16_t has = fold ? SP_HAS_B2DEC : SP_HAS_DEC;
    if (!(r->flags & has)) {
        if (at == cap)
            return 0;
        cps[at] = c;
        ccc[at] = r->ccc;
        *n = at + 1;
        return 1;
    }
    size_t off = fold ? r->b2dec_off : r->dec_off;
    size_t len = fold ? r->b2dec_len : r->dec_len;
    if (cap - at < len)
        return 0;
    for (size_t k = 0; k < len; k++) {
        uint32_t d = sp_pool[off + k];
        cps[at + k] = d;
        ccc[at + k] = lookup(d)->ccc;
    }
    *n = at + len;
    return 1;
}

void stzprep_work_init(stzprep_work *w, void *mem, size_t in_len)
{
    size_t cap = in_len * STZPREP_MAX_EXPANSION;
    w->cps = mem;
    w->sort_tmp = w->cps + cap;
    w->ccc = (uint8_t *)(w->sort_tmp + cap);
    w->cap = cap;
}

size_t stzprep_nfkc(const uint32_t *in, size_t n, stzprep_work *w)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!decompose(in[i], lookup(in[i]), 0, w->cps, w->ccc, &m, w->cap))
            return (size_t)-1;
    canonical_order(w->cps, w->ccc, m, w->sort_tmp);
    return compose(w->cps, w->ccc, m);
}

/* ---------------------------------------------------------------------- */
/* The profiles                                                            */

/* Decodes, maps and decomposes into w->cps. Sets *quick when every code
 * point was quick (the result is then already NFKC). The decoded input
 * waits in w->sort_tmp, which is free until canonical ordering. */
static stzprep_result map_decompose(const profile_rules *pr, const uint8_t *in,
                                    size_t len, stzprep_work *w, size_t *n,
                                    int *quick)
{
    uint16_t quick_flag = pr->map_b2 ? SP_QUICK_B2 : SP_QUICK;
    uint32_t *src = w->sort_tmp;
    size_t pos = 0, n_in = 0, m = 0;
    int all_quick = 1;
    while (pos < len) {
        int32_t c = stzprep_utf8_next(in, len, &pos);
        if (c < 0)
            return STZPREP_INVALID_UTF8;
        if (n_in == w->cap)
            return STZPREP_TOO_LONG; /* a work area too small for len */
        all_quick &= (lookup((uint32_t)c)->flags & quick_flag) != 0;
        src[n_in++] = (uint32_t)c;
    }
    if (all_quick) {
        for (size_t i = 0; i < n_in; i++) {
            const sp_record *r = lookup(src[i]);
            w->cps[i] = pr->map_b2 && r->lower ? r->lower : src[i];
            w->ccc[i] = 0;
        }
        *n = n_in;
        *quick = 1;
        return STZPREP_OK;
    }
    for (size_t i = 0; i < n_in; i++) {
        const sp_record *r = lookup(src[i]);
        if (r->flags & SP_B1)
            continue;
        /* cannot fail when the work area was sized for the input:
         * STZPREP_MAX_EXPANSION bounds it (checked anyway) */
        if (!decompose(src[i], r, pr->map_b2, w->cps, w->ccc, &m, w->cap))
            return STZPREP_TOO_LONG;
    }
    *n = m;
    *quick = 0;
    return STZPREP_OK;
}

/* Prohibited output, then unassigned code points, then the bidi rule:
 * RandALCat text holds no LCat character and starts and ends with
 * RandALCat (RFC 3454 section 6). */
static stzprep_result check(const profile_rules *pr, const uint32_t *cps,
                            size_t n)
{
    int have_ral = 0, have_l = 0, unassigned = 0;
    for (size_t i = 0; i < n; i++) {
        uint16_t f = lookup(cps[i])->flags;
        if (f & pr->prohibit)
            return STZPREP_PROHIBITED;
        unassigned |= (f & SP_A1) != 0;
        have_ral |= (f & SP_RANDAL) != 0;
        have_l |= (f & SP_L) != 0;
    }
    if (pr->unassigned && unassigned)
        return STZPREP_UNASSIGNED;
    if (pr->bidi && have_ral &&
        (have_l || !(lookup(cps[0])->flags & SP_RANDAL) ||
         !(lookup(cps[n - 1])->flags & SP_RANDAL)))
        return STZPREP_BIDI;
    return STZPREP_OK;
}

static size_t utf8_len(uint32_t c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

stzprep_result stzprep(stzprep_profile p, const uint8_t *in, size_t len,
                       uint8_t *out, size_t out_cap, size_t *out_len,
                       stzprep_work *w)
{
    if ((unsigned)p >= STZPREP_PROFILES) /* a caller's bug: refuse all */
        return STZPREP_PROHIBITED;
    if (len > STZPREP_MAX_IN)
        return STZPREP_TOO_LONG;
    stzprep_result r;
    int ascii = len <= out_cap ? stzprep_ascii(p, in, len, out, &r) : 0;
    if (ascii) {
        *out_len = len;
        return r;
    }
    const profile_rules *pr = &rules[p];
    size_t n;
    int quick;
    r = map_decompose(pr, in, len, w, &n, &quick);
    if (r != STZPREP_OK)
        return r;
    if (!quick) {
        canonical_order(w->cps, w->ccc, n, w->sort_tmp);
        n = compose(w->cps, w->ccc, n);
    }
    r = check(pr, w->cps, n);
    if (r != STZPREP_OK)
        return r;
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        need += utf8_len(w->cps[i]);
    if (need > out_cap)
        return STZPREP_TOO_LONG;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += utf8_put(out + o, w->cps[i]);
    *out_len = o;
    return STZPREP_OK;
}

const char *stzprep_result_name(stzprep_result r)
{
    switch (r) {
    case STZPREP_OK: return "ok";
    case STZPREP_INVALID_UTF8: return "invalid_utf8";
    case STZPREP_TOO_LONG: return "too_long";
    case STZPREP_PROHIBITED: return "prohibited";
    case STZPREP_UNASSIGNED: return "unassigned";
    case STZPREP_BIDI: return "bidi";
    }
    return "unknown";
}

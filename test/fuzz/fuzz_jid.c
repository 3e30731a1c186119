/*
 * fuzz_jid: libFuzzer harness for stringprep.c and jid.c.
 *
 * The first input byte picks a profile and an output capacity; the rest
 * is the string. The work area and the output buffer are malloc'd at
 * exactly the size the API promises is enough (STZPREP_WORK_BYTES of
 * the input, the chosen capacity), so ASan catches any write past them.
 * Oracles:
 *   - an accepted output is valid UTF-8, fits the capacity, and is a
 *     fixed point: preparing it again gives it back (RFC 3454's
 *     profiles are idempotent);
 *   - the three XMPP profiles and nameprep's mapping agree: when
 *     Nodeprep or Nameprep accepts, its output equals the case folding
 *     (B.1, B.2, NFKC) of the input; what Resourceprep accepts keeps its
 *     case (NFKC alone);
 *   - input over 1023 bytes is refused as too long, whatever it holds;
 *   - a JID that parses gives parts that parse again, alone and joined,
 *     to the same parts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c_src/jid.h"
#include "../../c_src/stringprep.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid_utf8(const uint8_t *s, size_t n)
{
    size_t pos = 0;
    while (pos < n)
        if (stzprep_utf8_next(s, n, &pos) < 0)
            return 0;
    return 1;
}

static stzprep_result run(stzprep_profile p, const uint8_t *in, size_t len,
                          uint8_t **out, size_t cap, size_t *out_len)
{
    void *mem = malloc(STZPREP_WORK_BYTES(len) + 1);
    *out = malloc(cap + 1);
    FUZZ_CHECK(mem && *out, "harness out of memory");
    stzprep_work w;
    stzprep_work_init(&w, mem, len);
    stzprep_result r = stzprep(p, in, len, *out, cap, out_len, &w);
    free(mem);
    return r;
}

static void check_profile(stzprep_profile p, const uint8_t *in, size_t len,
                          size_t cap)
{
    uint8_t *out, *again, *fold;
    size_t n, n2, nf;
    stzprep_result r = run(p, in, len, &out, cap, &n);
    if (len > STZPREP_MAX_IN)
        FUZZ_CHECK(r == STZPREP_TOO_LONG, "long input gave %d", r);
    if (r == STZPREP_OK) {
        FUZZ_CHECK(n <= cap, "output %zu past capacity %zu", n, cap);
        FUZZ_CHECK(valid_utf8(out, n), "output is not UTF-8");
        stzprep_result r2 = run(p, out, n, &again, STZPREP_MAX_OUT, &n2);
        FUZZ_CHECK(n > STZPREP_MAX_IN ||
                       (r2 == STZPREP_OK && n2 == n &&
                        memcmp(again, out, n) == 0),
                   "profile %d: not a fixed point (%d)", p, r2);
        free(again);
        if (p != STZPREP_CASEFOLD) {
            stzprep_profile fp = p == STZPREP_RESOURCEPREP ? STZPREP_RESOURCEPREP
                                                           : STZPREP_CASEFOLD;
            stzprep_result rf = run(fp, in, len, &fold, STZPREP_MAX_OUT, &nf);
            FUZZ_CHECK(rf == STZPREP_OK && (n == cap || n < cap) &&
                           (cap < nf || (nf == n && memcmp(fold, out, n) == 0)),
                       "profile %d disagrees with its mapping", p);
            free(fold);
        }
    }
    free(out);
}

static void check_jid(const uint8_t *in, size_t len)
{
    stzjid *j = malloc(sizeof *j), *k = malloc(sizeof *k);
    void *mem = malloc(STZPREP_WORK_BYTES(STZPREP_MAX_IN));
    FUZZ_CHECK(j && k && mem, "harness out of memory");
    stzprep_work w;
    stzprep_work_init(&w, mem, STZPREP_MAX_IN);
    if (stzjid_parse(in, len, j, &w) == STZJID_OK) {
        FUZZ_CHECK(j->domain.present, "no domain");
        uint8_t joined[STZJID_MAX_JID];
        size_t o = 0;
        if (j->local.present) {
            memcpy(joined, j->local.data, j->local.len);
            o = j->local.len;
            joined[o++] = '@';
        }
        memcpy(joined + o, j->domain.data, j->domain.len);
        o += j->domain.len;
        if (j->resource.present) {
            joined[o++] = '/';
            memcpy(joined + o, j->resource.data, j->resource.len);
            o += j->resource.len;
        }
        stzjid_result r = stzjid_parse(joined, o, k, &w);
        FUZZ_CHECK(r == STZJID_OK, "prepared JID refused: %s",
                   stzjid_result_name(r));
        FUZZ_CHECK(k->local.present == j->local.present &&
                       k->local.len == j->local.len &&
                       memcmp(k->local.data, j->local.data, j->local.len) == 0 &&
                       k->domain.len == j->domain.len &&
                       memcmp(k->domain.data, j->domain.data, j->domain.len) == 0 &&
                       k->resource.len == j->resource.len &&
                       memcmp(k->resource.data, j->resource.data,
                              j->resource.len) == 0,
                   "parts changed on a second parse");
        stzjid_part *part = malloc(sizeof *part);
        FUZZ_CHECK(part != NULL, "harness out of memory");
        FUZZ_CHECK(stzjid_domain(j->domain.data, j->domain.len, part, &w) ==
                           STZJID_OK &&
                       part->len == j->domain.len && part->same,
                   "domain not a fixed point");
        free(part);
    }
    free(mem);
    free(j);
    free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t shape = data[0];
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    stzprep_profile p = (stzprep_profile)(shape % STZPREP_PROFILES);
    size_t caps[4] = {STZPREP_MAX_OUT, STZJID_MAX_PART, len, len / 2 + 1};
    check_profile(p, in, len, caps[(shape >> 4) & 3]);
    if (shape & 0x80)
        check_jid(in, len);
    return 0;
}

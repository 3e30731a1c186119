/*
 * stringprep_diff: c_src/stringprep.c against two independent oracles.
 *
 *   - libidn 1.41 (Debian libidn-dev; used here only, never in the
 *     build): stringprep_4i with the XMPP Nodeprep and Resourceprep and
 *     the Nameprep profiles, unassigned code points refused
 *     (STRINGPREP_NO_UNASSIGNED, as ejabberd asks), and its NFKC;
 *   - Python 3's unicodedata.ucd_3_2_0 NFKC and strict UTF-8 decoder,
 *     through the case file written by test/c/stringprep_cases.py.
 *
 * Checks, each counted separately:
 *   1. every case of the file: accepted or refused alike, and the same
 *      output, for the three profiles (libidn), and NFKC equal to
 *      Python's and to libidn's; invalid UTF-8 (per Python) refused;
 *   2. every code point U+0000..U+10FFFF (surrogates aside) alone, for
 *      the three profiles and NFKC, against libidn.
 * Prints the first disagreements of each kind; exits 1 if any.
 *
 * libidn and Unicode 3.2 part ways on one rule of canonical composition:
 * libidn joins a combining-class-0 character to the last starter across
 * intervening marks (U+0B47 U+0323 U+0B56 -> U+0B48 U+0323), which UAX
 * #15 forbids and Python does not do. stanza follows UAX #15. So this
 * program also links a copy of c_src/stringprep.c built with libidn's
 * rule (stringprep_libidn_rule.c): wherever stanza and libidn differ,
 * that copy must give libidn's answer (counted as "explained by the
 * composition rule"); anything else is a disagreement. Python's NFKC
 * must agree with stanza's everywhere.
 *
 * Usage: stringprep_diff CASES_FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stringprep.h>

#include "../../c_src/stringprep.h"

/* The copy with libidn's composition rule (stringprep_libidn_rule.c). */
stzprep_result libidn_rule_stzprep(stzprep_profile profile, const uint8_t *in,
                                   size_t len, uint8_t *out, size_t out_cap,
                                   size_t *out_len, stzprep_work *work);
size_t libidn_rule_stzprep_nfkc(const uint32_t *in, size_t n,
                                stzprep_work *work);

#define MAX_CASE 4096
#define SHOW 8

static stzprep_work work;
static uint32_t work_mem[STZPREP_WORK_BYTES(STZPREP_MAX_IN) / 4 + 1];
static long checks, failures, skipped, explained;
/* disagreements with libidn (kinds 0-7), Python (8), UTF-8 rules (9) */
static long libidn_diffs, python_diffs, utf8_diffs;
static long shown[16];

static const char *const profile_names[3] = {"nodeprep", "nameprep",
                                             "resourceprep"};
static const stzprep_profile profiles[3] = {
    STZPREP_NODEPREP, STZPREP_NAMEPREP, STZPREP_RESOURCEPREP};

static const Stringprep_profile *idn_profile(int i)
{
    return i == 0 ? stringprep_xmpp_nodeprep
         : i == 1 ? stringprep_nameprep
                  : stringprep_xmpp_resourceprep;
}

static void show_cps(const char *label, const uint32_t *cps, long n)
{
    fprintf(stderr, " %s", label);
    if (n < 0) {
        fprintf(stderr, " refused(%ld)", -n);
        return;
    }
    for (long i = 0; i < n; i++)
        fprintf(stderr, " %04X", (unsigned)cps[i]);
}

static void fail(int kind, const char *what, const uint32_t *in, size_t n,
                 const uint32_t *a, long na, const uint32_t *b, long nb)
{
    failures++;
    if (kind < 8)
        libidn_diffs++;
    else if (kind == 8)
        python_diffs++;
    else
        utf8_diffs++;
    if (shown[kind]++ >= SHOW)
        return;
    fprintf(stderr, "DIFF %s: input", what);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %04X", (unsigned)in[i]);
    fprintf(stderr, "\n   ");
    show_cps("ours:", a, na);
    fprintf(stderr, "\n   ");
    show_cps("oracle:", b, nb);
    fprintf(stderr, "\n");
}

/* Our profile on UTF-8 bytes: code points out, or -(result); with
 * libidn's composition rule when libidn_rule. */
static long ours_rule(stzprep_profile p, const uint8_t *in, size_t len,
                      uint32_t *cps, int libidn_rule)
{
    static uint8_t out[STZPREP_MAX_OUT];
    size_t out_len;
    stzprep_result r =
        libidn_rule
            ? libidn_rule_stzprep(p, in, len, out, sizeof out, &out_len, &work)
            : stzprep(p, in, len, out, sizeof out, &out_len, &work);
    if (r != STZPREP_OK)
        return -(long)r;
    long n = 0;
    size_t pos = 0;
    while (pos < out_len) {
        int32_t c = stzprep_utf8_next(out, out_len, &pos);
        if (c < 0) {
            fprintf(stderr, "our output is not UTF-8\n");
            exit(2);
        }
        cps[n++] = (uint32_t)c;
    }
    return n;
}

static long ours(stzprep_profile p, const uint8_t *in, size_t len,
                 uint32_t *cps)
{
    return ours_rule(p, in, len, cps, 0);
}

/* libidn's profile on code points: code points out, or -(error).
 * libidn ends a string at U+0000, so a U+0000 goes in as U+0001 (which
 * has exactly its properties: a C.2.1 control, starter, no mapping, no
 * decomposition, no bidi class of note) and comes back; the caller skips
 * inputs that hold both. */
static long theirs(int i, const uint32_t *in, size_t n, uint32_t *cps,
                   int nul)
{
    size_t len = n;
    for (size_t k = 0; k < n; k++)
        cps[k] = in[k] == 0 ? 1 : in[k];
    int rc = stringprep_4i(cps, &len, STZPREP_MAX_CPS,
                           STRINGPREP_NO_UNASSIGNED, idn_profile(i));
    if (rc != STRINGPREP_OK)
        return -(long)rc;
    for (size_t k = 0; nul && k < len; k++)
        if (cps[k] == 1)
            cps[k] = 0;
    return (long)len;
}

static int same(long na, const uint32_t *a, long nb, const uint32_t *b)
{
    if (na < 0 || nb < 0)
        return na < 0 && nb < 0;
    return na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0;
}

static uint8_t utf8[MAX_CASE * 4];
static uint32_t a_cps[STZPREP_MAX_CPS], b_cps[STZPREP_MAX_CPS * 2],
    c_cps[STZPREP_MAX_CPS];

/* One valid input (code points and their UTF-8) through every check. */
static void check_valid(const uint32_t *cps, size_t n, const uint8_t *bytes,
                        size_t len, const uint32_t *py, long npy, int singles)
{
    int nul = 0, one = 0;
    for (size_t k = 0; k < n; k++)
        nul |= cps[k] == 0, one |= cps[k] == 1;
    if (nul && one) { /* see theirs() */
        skipped++;
        return;
    }
    for (int i = 0; i < 3; i++) {
        long na = ours(profiles[i], bytes, len, a_cps);
        long nb = theirs(i, cps, n, b_cps, nul);
        checks++;
        if (same(na, a_cps, nb, b_cps))
            continue;
        long nc = ours_rule(profiles[i], bytes, len, c_cps, 1);
        if (same(nc, c_cps, nb, b_cps))
            explained++;
        else
            fail(singles * 4 + i, profile_names[i], cps, n, a_cps, na, b_cps,
                 nb);
    }
    size_t nn = stzprep_nfkc(cps, n, &work);
    static uint32_t nfkc_in[MAX_CASE];
    for (size_t k = 0; k < n; k++)
        nfkc_in[k] = cps[k] == 0 ? 1 : cps[k];
    uint32_t *idn = stringprep_ucs4_nfkc_normalize(nfkc_in, (ssize_t)n);
    long ni = 0;
    while (idn && idn[ni]) {
        if (nul && idn[ni] == 1)
            idn[ni] = 0;
        ni++;
    }
    if (py) {
        checks++;
        if (!same((long)nn, work.cps, npy, py))
            fail(8, "nfkc vs python", cps, n, work.cps, (long)nn, py, npy);
    }
    checks++;
    if (!idn || !same((long)nn, work.cps, ni, idn)) {
        size_t nc = libidn_rule_stzprep_nfkc(cps, n, &work);
        if (idn && same((long)nc, work.cps, ni, idn))
            explained++;
        else
            fail(singles * 4 + 3, "nfkc vs libidn", cps, n, work.cps,
                 (long)nc, idn, ni);
    }
    free(idn);
}

static int hexval(int c)
{
    return c <= '9' ? c - '0' : (c | 32) - 'a' + 10;
}

static void run_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    static char line[MAX_CASE * 20];
    static uint8_t bytes[MAX_CASE];
    static uint32_t cps[MAX_CASE], py[MAX_CASE * 18];
    long cases = 0;
    while (fgets(line, sizeof line, f)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        size_t len = (size_t)(sp - line) / 2;
        for (size_t i = 0; i < len; i++)
            bytes[i] = (uint8_t)(hexval(line[2 * i]) << 4 | hexval(line[2 * i + 1]));
        cases++;
        char *rest = sp + 1;
        if (rest[0] == '-') { /* Python's strict decoder refuses it */
            for (int i = 0; i < 3; i++) {
                long na = ours(profiles[i], bytes, len, a_cps);
                checks++;
                if (na != -(long)STZPREP_INVALID_UTF8)
                    fail(9, "invalid UTF-8 accepted", NULL, 0, a_cps, na,
                         NULL, -1);
            }
            continue;
        }
        long npy = 0;
        int python = rest[0] != '?';
        if (rest[0] != '=' && python) {
            char *p = rest;
            while (*p && *p != '\n') {
                py[npy++] = (uint32_t)strtoul(p, &p, 16);
                if (*p == ',')
                    p++;
            }
        }
        size_t n = 0, pos = 0;
        int bad = 0;
        while (pos < len) {
            int32_t c = stzprep_utf8_next(bytes, len, &pos);
            if (c < 0) {
                bad = 1;
                break;
            }
            cps[n++] = (uint32_t)c;
        }
        checks++;
        if (bad) {
            fail(9, "valid UTF-8 refused", NULL, 0, NULL, -1, NULL, 0);
            continue;
        }
        check_valid(cps, n, bytes, len, python ? py : NULL, npy, 0);
    }
    fclose(f);
    printf("stringprep_diff: %ld cases from %s\n", cases, path);
}

static void run_singles(void)
{
    long n = 0;
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        uint8_t b[4];
        size_t len;
        if (c < 0x80) b[0] = (uint8_t)c, len = 1;
        else if (c < 0x800) b[0] = (uint8_t)(0xC0 | c >> 6), b[1] = (uint8_t)(0x80 | (c & 63)), len = 2;
        else if (c < 0x10000) b[0] = (uint8_t)(0xE0 | c >> 12), b[1] = (uint8_t)(0x80 | (c >> 6 & 63)), b[2] = (uint8_t)(0x80 | (c & 63)), len = 3;
        else b[0] = (uint8_t)(0xF0 | c >> 18), b[1] = (uint8_t)(0x80 | (c >> 12 & 63)), b[2] = (uint8_t)(0x80 | (c >> 6 & 63)), b[3] = (uint8_t)(0x80 | (c & 63)), len = 4;
        check_valid(&c, 1, b, len, NULL, 0, 1);
        n++;
    }
    printf("stringprep_diff: %ld single code points\n", n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CASES_FILE\n", argv[0]);
        return 2;
    }
    (void)utf8;
    stzprep_work_init(&work, work_mem, STZPREP_MAX_IN);
    run_file(argv[1]);
    run_singles();
    printf("stringprep_diff: %ld checks; %ld differences from libidn, each "
           "explained by its composition rule; disagreements: %ld with "
           "libidn, %ld with Python's NFKC, %ld on UTF-8 validity; %ld cases "
           "skipped (U+0000 and U+0001 together)\n",
           checks, explained, libidn_diffs, python_diffs, utf8_diffs, skipped);
    return failures ? 1 : 0;
}

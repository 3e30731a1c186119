/*
 * jid_test: c_src/stringprep.c and c_src/jid.c alone (no BEAM), run by
 * `make check-jid` under ASan+UBSan and under valgrind. The profiles'
 * agreement with libidn and Python is test/c/stringprep_diff.c's job;
 * this file checks the edges: strict UTF-8, lengths (1023/1024/1025
 * bytes, 10 MB), the worst expansion, JID splitting, the domain rules
 * and Punycode lengths (RFC 3492's samples, checked with Python's codec).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c_src/jid.h"
#include "../../c_src/stringprep.h"
#include "test_check.h"


static stzprep_work work;
static uint32_t *work_mem;
static uint8_t out[STZPREP_MAX_OUT];

static stzprep_result prep(stzprep_profile p, const char *s, size_t len,
                           size_t *out_len)
{
    return stzprep(p, (const uint8_t *)s, len, out, sizeof out, out_len,
                   &work);
}

static void utf8_cases(void)
{
    static const char *const bad[] = {
        "\xC0\xAF", "\xC0\x80", "\xC1\xBF", "\xE0\x80\xAF", "\xE0\x9F\xBF",
        "\xF0\x80\x80\xAF", "\xF0\x8F\xBF\xBF", "\xED\xA0\x80" /* U+D800 */,
        "\xED\xBF\xBF", "\xF4\x90\x80\x80" /* > U+10FFFF */, "\xF5\x80\x80\x80",
        "\xFF", "\x80", "\xC3", "\xE2\x82", "\xF0\x9F\x98", "a\xC3",
        "User\xC0\xAFX", "A\xC0\x80", "\xF8\x88\x80\x80\x80"};
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        for (int p = 0; p < STZPREP_PROFILES; p++)
            CHECK(prep((stzprep_profile)p, bad[i], strlen(bad[i]), &n) ==
                  STZPREP_INVALID_UTF8);
    /* a prohibited ASCII byte before invalid UTF-8: invalid wins */
    CHECK(prep(STZPREP_NODEPREP, "a b\xC0\xAF", 5, &n) ==
          STZPREP_INVALID_UTF8);
    /* boundaries that are valid */
    CHECK(prep(STZPREP_RESOURCEPREP, "\xC2\x80", 2, &n) == STZPREP_PROHIBITED);
    CHECK(prep(STZPREP_RESOURCEPREP, "\xDF\xBF", 2, &n) == STZPREP_UNASSIGNED);
    CHECK(prep(STZPREP_RESOURCEPREP, "\xE0\xB8\x81", 3, &n) == STZPREP_OK);
    CHECK(prep(STZPREP_RESOURCEPREP, "\xF0\x90\x8C\x80", 4, &n) == STZPREP_OK);
    /* assigned after 3.2: U+0800 (4.0), U+10000 (4.0) */
    CHECK(prep(STZPREP_RESOURCEPREP, "\xE0\xA0\x80", 3, &n) == STZPREP_UNASSIGNED);
    CHECK(prep(STZPREP_RESOURCEPREP, "\xF0\x90\x80\x80", 4, &n) == STZPREP_UNASSIGNED);
    CHECK(prep(STZPREP_RESOURCEPREP, "\xF4\x8F\xBF\xBD", 4, &n) ==
          STZPREP_PROHIBITED); /* private use, plane 16 */
    /* NUL: a C.2.1 control, allowed by Nameprep (RFC 3491) only */
    CHECK(prep(STZPREP_NODEPREP, "a\0", 2, &n) == STZPREP_PROHIBITED);
    CHECK(prep(STZPREP_RESOURCEPREP, "a\0", 2, &n) == STZPREP_PROHIBITED);
    CHECK(prep(STZPREP_NAMEPREP, "A\0", 2, &n) == STZPREP_OK && n == 2 &&
          memcmp(out, "a\0", 2) == 0);
}

static void profile_cases(void)
{
    size_t n;
    CHECK(prep(STZPREP_NODEPREP, "JuLiEt", 6, &n) == STZPREP_OK && n == 6 &&
          memcmp(out, "juliet", 6) == 0);
    CHECK(prep(STZPREP_RESOURCEPREP, "BalCony x", 9, &n) == STZPREP_OK &&
          memcmp(out, "BalCony x", 9) == 0);
    const char *forbidden = "\"&'/:<>@ ";
    for (const char *c = forbidden; *c; c++) {
        char s[3] = {'a', *c, 0};
        CHECK(prep(STZPREP_NODEPREP, s, 2, &n) == STZPREP_PROHIBITED);
        CHECK(prep(STZPREP_RESOURCEPREP, s, 2, &n) == STZPREP_OK);
    }
    /* the issue's example: I, ring, c, U+0344, U+0302, cedilla */
    const char *s = "\x49\xCC\x8A\x63\xCD\x84\xCC\x82\xCC\xA7";
    CHECK(prep(STZPREP_RESOURCEPREP, s, strlen(s), &n) == STZPREP_OK &&
          n == 11 &&
          memcmp(out, "\x49\xCC\x8A\xC3\xA7\xCC\x88\xCC\x81\xCC\x82", 11) == 0);
    /* B.1 characters vanish; soft hyphen alone leaves nothing */
    CHECK(prep(STZPREP_NODEPREP, "a\xC2\xAD" "b", 4, &n) == STZPREP_OK &&
          n == 2 && memcmp(out, "ab", 2) == 0);
    /* bidi: RandAL at both ends is fine, RandAL with L is not */
    CHECK(prep(STZPREP_NODEPREP, "\xD7\x90\xD7\x91", 4, &n) == STZPREP_OK);
    CHECK(prep(STZPREP_NODEPREP, "\xD7\x90" "a", 3, &n) == STZPREP_BIDI);
    CHECK(prep(STZPREP_NODEPREP, "\xD7\x90" "1", 3, &n) == STZPREP_BIDI);
    CHECK(prep(STZPREP_CASEFOLD, "\xD7\x90" "a", 3, &n) == STZPREP_OK);
    CHECK(prep(STZPREP_CASEFOLD_BIDI, "\xD7\x90" "a", 3, &n) == STZPREP_BIDI);
    /* unassigned in Unicode 3.2 (U+0221), refused; fine when folding */
    CHECK(prep(STZPREP_NAMEPREP, "\xC8\xA1", 2, &n) == STZPREP_UNASSIGNED);
    CHECK(prep(STZPREP_CASEFOLD, "\xC8\xA1", 2, &n) == STZPREP_OK);
    /* Hangul: jamo compose, syllables stay */
    CHECK(prep(STZPREP_NODEPREP, "\xE1\x84\x80\xE1\x85\xA1", 6, &n) ==
              STZPREP_OK && n == 3 && memcmp(out, "\xEA\xB0\x80", 3) == 0);
}

static void length_cases(void)
{
    size_t n;
    char *big = malloc(10 * 1024 * 1024);
    CHECK(big != NULL);
    if (!big)
        return;
    memset(big, 'a', 10 * 1024 * 1024);
    CHECK(prep(STZPREP_NODEPREP, big, 1023, &n) == STZPREP_OK && n == 1023);
    CHECK(prep(STZPREP_NODEPREP, big, 1024, &n) == STZPREP_TOO_LONG);
    CHECK(prep(STZPREP_NODEPREP, big, 1025, &n) == STZPREP_TOO_LONG);
    CHECK(prep(STZPREP_NODEPREP, big, 10 * 1024 * 1024, &n) ==
          STZPREP_TOO_LONG);
    /* the largest expansion: 341 x U+FDFA (1023 bytes) */
    for (int i = 0; i < 341; i++)
        memcpy(big + 3 * i, "\xEF\xB7\xBA", 3);
    CHECK(prep(STZPREP_NAMEPREP, big, 1023, &n) == STZPREP_OK && n > 1023);
    CHECK(prep(STZPREP_NODEPREP, big, 1023, &n) == STZPREP_PROHIBITED);
    /* a JID part must fit 1023 bytes after preparation too */
    CHECK(stzprep(STZPREP_NAMEPREP, (uint8_t *)big, 1023, out, 1023, &n,
                  &work) == STZPREP_TOO_LONG);
    /* 1023 combining marks alternating classes: the long-run sort */
    big[0] = 'a';
    for (int i = 0; i < 511; i++)
        memcpy(big + 1 + 2 * i, i % 2 ? "\xCC\x81" : "\xCC\xA3", 2);
    CHECK(prep(STZPREP_RESOURCEPREP, big, 1023, &n) == STZPREP_OK);
    /* a + dot below composes first (class 220 before 230) */
    CHECK(n > 3 && memcmp(out, "\xE1\xBA\xA1", 3) == 0);
    stzjid jid;
    CHECK(stzjid_parse((uint8_t *)big, 10 * 1024 * 1024, &jid, &work) ==
          STZJID_TOO_LONG);
    free(big);
}

static stzjid_result parse(const char *s, stzjid *j)
{
    return stzjid_parse((const uint8_t *)s, strlen(s), j, &work);
}

static int part_is(const stzjid_part *p, const char *s)
{
    return p->present && p->len == strlen(s) && memcmp(p->data, s, p->len) == 0;
}

static void jid_cases(void)
{
    stzjid j;
    CHECK(parse("Juliet@Example.COM/Balcony", &j) == STZJID_OK &&
          part_is(&j.local, "juliet") && part_is(&j.domain, "example.com") &&
          part_is(&j.resource, "Balcony") && j.resource.same &&
          !j.domain.same);
    CHECK(parse("example.com", &j) == STZJID_OK && !j.local.present &&
          !j.resource.present && part_is(&j.domain, "example.com"));
    CHECK(parse("example.com./r/s@t", &j) == STZJID_OK &&
          part_is(&j.domain, "example.com") && part_is(&j.resource, "r/s@t"));
    CHECK(parse("a@b@c", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("@example.com", &j) == STZJID_BAD_LOCALPART);
    CHECK(parse("a@example.com/", &j) == STZJID_BAD_RESOURCE);
    CHECK(parse("a@", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse(".", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a@.", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a@b..c", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a@-b.c", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a@b-.c", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a@b_c.d", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a@b c", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a@b\x01" "c", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a b@c", &j) == STZJID_PROHIBITED);
    CHECK(parse("\xC2\xAD@c", &j) == STZJID_BAD_LOCALPART);
    CHECK(parse("a@[::1]/r", &j) == STZJID_OK && part_is(&j.domain, "[::1]"));
    CHECK(parse("a@[::ffff:1.2.3.4]", &j) == STZJID_OK);
    CHECK(parse("a@[1.2.3.4]", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a@[::1", &j) == STZJID_BAD_DOMAIN);
    CHECK(parse("a@192.168.0.1", &j) == STZJID_OK);
    CHECK(parse("a@B\xC3\x9C" "cher.example", &j) == STZJID_OK &&
          part_is(&j.domain, "b\xC3\xBC" "cher.example"));
    CHECK(parse("a@xn--bcher-kva.example", &j) == STZJID_OK);
    CHECK(parse("a@xn--b\xC3\xBC" "cher.example", &j) == STZJID_BAD_DOMAIN);
    /* U+3002 and U+FF0E separate labels */
    CHECK(parse("a@b\xE3\x80\x82" "c\xEF\xBC\x8E" "d", &j) == STZJID_OK &&
          part_is(&j.domain, "b.c.d"));
    CHECK(parse("a@\xD7\x90.com", &j) == STZJID_OK);
    CHECK(parse("a@\xD7\x90" "a.com", &j) == STZJID_BIDI);
    CHECK(parse("a@x\xE2\x80\xA4y", &j) == STZJID_BAD_DOMAIN); /* U+2024 */
    CHECK(parse("a@example.com\xE3\x80\x82", &j) == STZJID_OK &&
          part_is(&j.domain, "example.com") && j.domain.same);
    char label[80];
    memset(label, 'a', 64);
    label[63] = 0;
    CHECK(parse(label, &j) == STZJID_OK);
    label[63] = 'a', label[64] = 0;
    CHECK(parse(label, &j) == STZJID_BAD_DOMAIN);
    /* 55 x 'a' + u-umlaut: Punycode 59 chars (ok), 56: 60 (too long) */
    memset(label, 'a', 56);
    memcpy(label + 55, "\xC3\xBC", 3);
    CHECK(parse(label, &j) == STZJID_OK);
    label[55] = 'a';
    memcpy(label + 56, "\xC3\xBC", 3);
    CHECK(parse(label, &j) == STZJID_BAD_DOMAIN);
    /* parts of 1023, 1024, 1025 bytes */
    static char big[3200];
    for (size_t k = 1023; k <= 1025; k++) {
        memset(big, 'a', k);
        strcpy(big + k, "@example.com");
        CHECK(parse(big, &j) == (k == 1023 ? STZJID_OK : STZJID_TOO_LONG));
        strcpy(big, "a@example.com/");
        memset(big + 14, 'r', k);
        big[14 + k] = 0;
        CHECK(parse(big, &j) == (k == 1023 ? STZJID_OK : STZJID_TOO_LONG));
    }
    /* a domain of 1023 bytes: labels of 63 and dots */
    for (size_t k = 0; k < 1023; k++)
        big[k] = k % 64 == 63 ? '.' : 'a';
    big[1023] = 0;
    CHECK(parse(big, &j) == STZJID_OK);
    big[1022] = 'a', big[1023] = 'a', big[1024] = 0;
    CHECK(parse(big, &j) == STZJID_TOO_LONG);
}

static void punycode_cases(void)
{
    static const uint32_t bucher[] = {'b', 0xFC, 'c', 'h', 'e', 'r'};
    static const uint32_t chinese[] = {0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48,
                                       0x4E0D, 0x8BF4, 0x4E2D, 0x6587};
    static const uint32_t arabic[] = {0x644, 0x64A, 0x647, 0x645, 0x627, 0x628,
                                      0x62A, 0x643, 0x644, 0x645, 0x648, 0x634,
                                      0x639, 0x631, 0x628, 0x64A, 0x61F};
    CHECK(stzjid_punycode_length(bucher, 6, 100) == 9);
    CHECK(stzjid_punycode_length(chinese, 9, 100) == 24);
    CHECK(stzjid_punycode_length(arabic, 17, 100) == 22);
    CHECK(stzjid_punycode_length(arabic, 17, 10) == SIZE_MAX);
}

int main(void)
{
    work_mem = malloc(STZPREP_WORK_BYTES(STZPREP_MAX_IN));
    if (!work_mem)
        return 2;
    stzprep_work_init(&work, work_mem, STZPREP_MAX_IN);
    utf8_cases();
    profile_cases();
    length_cases();
    jid_cases();
    punycode_cases();
    free(work_mem);
    if (failures) {
        fprintf(stderr, "jid_test: %d checks failed\n", failures);
        return 1;
    }
    printf("jid_test: all checks pass\n");
    return 0;
}

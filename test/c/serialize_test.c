/*
 * serialize_test: xml_serialize without the BEAM, built with ASan and
 * UBSan and run under valgrind by `make check-c` (part of `make test`).
 *
 * Escaping and checks on fixed cases, every byte value and every code
 * point; a buffer that grows one byte at a time and one whose growth
 * fails, to check that a failure leaves the buffer as it was; slicing
 * never splits a character; random strings against a plain reference
 * implementation (the fast paths against the rules).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../c_src/xml_serialize.h"
#include "ser_reference.h"
#include "test_support.h"

/* A malloc'd buffer; grows exactly to what is needed (worst case for the
 * callers' bounds), or refuses once `budget' bytes would be exceeded. */
typedef struct test_buf {
    size_t budget;
} test_buf;

static int reserve_exact(stz_out *out, size_t need)
{
    test_buf *t = out->ctx;
    if (need > SIZE_MAX - out->len || out->len + need > t->budget)
        return 0;
    unsigned char *p = realloc(out->data, out->len + need);
    if (!p)
        return 0;
    out->data = p;
    out->cap = out->len + need;
    return 1;
}

static void out_init(stz_out *out, test_buf *t, size_t budget)
{
    t->budget = budget;
    out->data = NULL;
    out->len = out->cap = 0;
    out->reserve = reserve_exact;
    out->ctx = t;
}

static int out_is(const stz_out *out, const char *expected)
{
    size_t n = strlen(expected);
    return out->len == n && (n == 0 || memcmp(out->data, expected, n) == 0);
}

static stz_ser_status escape(const char *in, size_t len, stz_ser_context ctx,
                             const char *expected, uint32_t *bad)
{
    test_buf t;
    stz_out out;
    out_init(&out, &t, SIZE_MAX);
    uint32_t b = 0;
    stz_ser_status st =
        stz_ser_escape(&out, (const unsigned char *)in, len, ctx, &b);
    if (bad)
        *bad = b;
    if (st == STZ_SER_OK && expected && !out_is(&out, expected)) {
        fprintf(stderr, "escape: got '%.*s', want '%s'\n", (int)out.len,
                (const char *)out.data, expected);
        failures++;
    }
    if (st != STZ_SER_OK)
        CHECK(out.len == 0);
    free(out.data);
    return st;
}

static void test_escaping(void)
{
    const char *all = "a&b<c>d\"e'f\tg\nh\ri";
    CHECK(escape(all, strlen(all), STZ_SER_TEXT,
                 "a&amp;b&lt;c&gt;d&quot;e&apos;f\tg\nh&#xD;i", NULL) == 0);
    CHECK(escape(all, strlen(all), STZ_SER_ATTR,
                 "a&amp;b&lt;c&gt;d&quot;e&apos;f&#x9;g&#xA;h&#xD;i",
                 NULL) == 0);
    CHECK(escape("", 0, STZ_SER_TEXT, "", NULL) == 0);
    CHECK(escape("]]>", 3, STZ_SER_TEXT, "]]&gt;", NULL) == 0);
    CHECK(escape("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", 9, STZ_SER_TEXT,
                 "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", NULL) == 0);
}

/* Every single byte: which are copied, escaped, forbidden or not UTF-8. */
static void test_every_byte(void)
{
    for (int c = 0; c < 256; c++) {
        char in[1] = {(char)c};
        uint32_t bad = 0;
        stz_ser_status text = escape(in, 1, STZ_SER_TEXT, NULL, &bad);
        stz_ser_status attr = escape(in, 1, STZ_SER_ATTR, NULL, NULL);
        if (c >= 0x80) {
            CHECK(text == STZ_SER_INVALID_UTF8 && attr == text);
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            CHECK(text == STZ_SER_FORBIDDEN_CHAR && attr == text);
            CHECK(bad == (uint32_t)c);
        } else {
            CHECK(text == STZ_SER_OK && attr == STZ_SER_OK);
        }
    }
}

/* Encodes cp as UTF-8 (also surrogates, which UTF-8 forbids). */
static size_t encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Every code point from U+0080: allowed ones are copied unchanged,
 * surrogates and U+FFFE/U+FFFF are reported with their value. */
static void test_every_code_point(void)
{
    test_buf t;
    stz_out out;
    out_init(&out, &t, SIZE_MAX);
    long wrong = 0;
    for (uint32_t cp = 0x80; cp <= 0x10FFFF; cp++) {
        char in[4];
        size_t n = encode(cp, in);
        uint32_t bad = 0;
        out.len = 0;
        stz_ser_status st = stz_ser_escape(&out, (const unsigned char *)in, n,
                                           STZ_SER_TEXT, &bad);
        int forbidden = (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
                        cp == 0xFFFF;
        if (forbidden)
            wrong += !(st == STZ_SER_FORBIDDEN_CHAR && bad == cp);
        else
            wrong += !(st == STZ_SER_OK && out.len == n &&
                       memcmp(out.data, in, n) == 0);
    }
    CHECK(wrong == 0);
    free(out.data);
}

/* Every code point again, inside long text of mixed scripts at a
 * varying offset, so that the sixteen-byte validation (SSSE3) meets it in
 * every position of a block, after and before multi-byte characters. */
static void test_every_code_point_in_long_text(void)
{
    static const char filler[] = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80";
    test_buf t;
    stz_out out;
    out_init(&out, &t, SIZE_MAX);
    long wrong = 0;
    for (uint32_t cp = 0x80; cp <= 0x10FFFF; cp++) {
        char in[96];
        size_t n = 0, lead = cp % 23;
        while (n < lead)
            in[n++] = 'b';
        for (size_t k = 0; k < 2; k++) {
            memcpy(in + n, filler, sizeof filler - 1);
            n += sizeof filler - 1;
        }
        n += encode(cp, in + n);
        for (size_t k = 0; k < 3; k++) {
            memcpy(in + n, filler, sizeof filler - 1);
            n += sizeof filler - 1;
        }
        uint32_t bad = 0;
        out.len = 0;
        stz_ser_status st = stz_ser_escape(&out, (const unsigned char *)in, n,
                                           STZ_SER_TEXT, &bad);
        int forbidden = (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
                        cp == 0xFFFF;
        if (forbidden)
            wrong += !(st == STZ_SER_FORBIDDEN_CHAR && bad == cp);
        else
            wrong += !(st == STZ_SER_OK && out.len == n &&
                       memcmp(out.data, in, n) == 0);
    }
    CHECK(wrong == 0);
    free(out.data);
}

/* Each broken sequence at every offset of long multi-byte text, and cut
 * short at its end. */
static void test_invalid_utf8_in_long_text(void)
{
    static const char *cases[] = {
        "\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf",
        "\xe4\xb8", "\xf0\x9f\x98", "\xc3\x28", "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80", "\xed\xa0\x80", "\xfe", "\xff", "\xe4\xb8\xad\xad",
    };
    static const char cjk[] = "\xe4\xb8\xad\xe6\x96\x87";
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t off = 0; off < 48; off++) {
            char in[160];
            size_t n = 0;
            while (n < off)
                in[n++] = 'x';
            memcpy(in + n, cases[c], strlen(cases[c]));
            n += strlen(cases[c]);
            for (int k = 0; k < 8; k++) {
                memcpy(in + n, cjk, sizeof cjk - 1);
                n += sizeof cjk - 1;
            }
            stz_ser_status st = escape(in, n, STZ_SER_TEXT, NULL, NULL);
            CHECK(st == STZ_SER_INVALID_UTF8 || st == STZ_SER_FORBIDDEN_CHAR);
            /* The same sequence as the last bytes of long text. */
            n = 0;
            for (size_t k = 0; k < off / 6 + 6; k++) {
                memcpy(in + n, cjk, sizeof cjk - 1);
                n += sizeof cjk - 1;
            }
            memcpy(in + n, cases[c], strlen(cases[c]));
            n += strlen(cases[c]);
            st = escape(in, n, STZ_SER_ATTR, NULL, NULL);
            CHECK(st == STZ_SER_INVALID_UTF8 || st == STZ_SER_FORBIDDEN_CHAR);
        }
    }
}

static void test_invalid_utf8(void)
{
    static const char *cases[] = {
        "\x80",             /* stray continuation */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xf0\x80\x80\xaf", /* overlong '/' */
        "\xe4\xb8",         /* truncated */
        "\xf0\x9f\x98",     /* truncated */
        "\xc3\x28",         /* bad continuation */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xf5\x80\x80\x80", "\xfe", "\xff",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(escape(cases[i], strlen(cases[i]), STZ_SER_TEXT, NULL, NULL) ==
              STZ_SER_INVALID_UTF8);
        /* After valid text too: the whole call fails, nothing is kept. */
        char in[32];
        int n = snprintf(in, sizeof in, "ok %s", cases[i]);
        CHECK(escape(in, (size_t)n, STZ_SER_ATTR, NULL, NULL) ==
              STZ_SER_INVALID_UTF8);
    }
}

static stz_ser_status name(const char *s)
{
    test_buf t;
    stz_out out;
    out_init(&out, &t, SIZE_MAX);
    stz_ser_status st =
        stz_ser_name(&out, (const unsigned char *)s, strlen(s));
    if (st == STZ_SER_OK)
        CHECK(out_is(&out, s));
    else
        CHECK(out.len == 0);
    free(out.data);
    return st;
}

static void test_names(void)
{
    static const char *good[] = {"a", "A", "_", ":", "stream:stream",
                                 "a-b.c_9", "x\xc2\xb7y", "\xc3\xa9t\xc3\xa9",
                                 "\xe4\xb8\xad", "\xf0\x90\x80\x80"};
    static const char *bad[] = {"", "a><evil/", "a b", "1a", "-a", ".a",
                                "a'", "a\"", "a=", "a/", "a&", "a\t",
                                "\xc2\xb7", /* NameChar, not a start */
                                "a\xc3\x97", /* U+00D7, not a NameChar */
                                "a\xef\xbf\xbe"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(name(good[i]) == STZ_SER_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(name(bad[i]) == STZ_SER_NOT_A_NAME);
    CHECK(name("a\xff") == STZ_SER_INVALID_UTF8);
    CHECK(name("\xc3") == STZ_SER_INVALID_UTF8);
}

/* A growth that fails part-way leaves what was written before. */
static void test_out_of_memory(void)
{
    const char *in = "a&b<c>d";
    for (size_t budget = 0; budget < 40; budget++) {
        test_buf t;
        stz_out out;
        out_init(&out, &t, budget);
        stz_ser_status st = stz_ser_raw(&out, "xy", 2);
        if (st == STZ_SER_OK) {
            uint32_t bad;
            st = stz_ser_escape(&out, (const unsigned char *)in, strlen(in),
                                STZ_SER_TEXT, &bad);
            if (st == STZ_SER_OK)
                CHECK(out_is(&out, "xya&amp;b&lt;c&gt;d"));
            else
                CHECK(st == STZ_SER_NO_MEMORY && out_is(&out, "xy"));
        } else {
            CHECK(st == STZ_SER_NO_MEMORY && out.len == 0);
        }
        free(out.data);
    }
}

static void test_cut(void)
{
    const unsigned char s[] = "ab\xe4\xb8\xad\xf0\x9f\x98\x80z";
    size_t len = sizeof s - 1;
    CHECK(stz_ser_cut(s, len, 100) == 100);
    CHECK(stz_ser_cut(s, len, 2) == 2);
    CHECK(stz_ser_cut(s, len, 3) == 2);
    CHECK(stz_ser_cut(s, len, 4) == 2);
    CHECK(stz_ser_cut(s, len, 5) == 5);
    CHECK(stz_ser_cut(s, len, 6) == 5);
    CHECK(stz_ser_cut(s, len, 8) == 5);
    CHECK(stz_ser_cut(s, len, 9) == 9);
    /* Slices of any size escape to the same bytes as the whole. */
    for (size_t slice = 4; slice < len + 2; slice++) {
        test_buf t;
        stz_out out;
        out_init(&out, &t, SIZE_MAX);
        size_t pos = 0;
        while (pos < len) {
            size_t end = stz_ser_cut(s, len, pos + slice);
            if (end > len)
                end = len;
            uint32_t bad;
            CHECK(stz_ser_escape(&out, s + pos, end - pos, STZ_SER_TEXT,
                                 &bad) == STZ_SER_OK);
            pos = end;
        }
        CHECK(out.len == len && memcmp(out.data, s, len) == 0);
        free(out.data);
    }
}

/* ---- Differential test: random inputs against a plain reference ---- */

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* Random strings of 0 to 99 bytes, mostly plain ASCII (so that the
 * sixteen-byte fast path runs) with the odd special, control, multi-byte,
 * forbidden or broken sequence at every offset; text and attribute
 * values; each against the reference. */
static void test_random_against_reference(void)
{
    static const char *pieces[] = {
        "&", "<", ">", "\"", "'", "\t", "\n", "\r", "\x01", "\x1f", "\x7f",
        " ", "\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
        "\xef\xbf\xbe", "\xef\xbf\xbd", "\xc2\x85", "\x80", "\xc3", "\xe4\xb8",
        "\xc0\xaf", "\xf4\x90\x80\x80", "\xff"};
    size_t npieces = sizeof pieces / sizeof pieces[0];
    unsigned char in[128];
    char want[128 * 6];
    long wrong = 0;
    for (int round = 0; round < 200000; round++) {
        size_t len = next_random() % 100, n = 0;
        int odd = next_random() % 4; /* how often a piece is put in */
        while (n < len) {
            uint32_t r = next_random();
            const char *p = r % 16 < (uint32_t)odd ? pieces[(r >> 8) % npieces]
                                                   : NULL;
            if (p && n + strlen(p) <= len) {
                memcpy(in + n, p, strlen(p));
                n += strlen(p);
            } else {
                in[n++] = (unsigned char)('0' + (r >> 16) % 75);
            }
        }
        for (int c = 0; c < 4; c++) {
            static const stz_ser_context contexts[4] = {
                STZ_SER_TEXT, STZ_SER_ATTR, STZ_SER_TEXT_FAST_XML,
                STZ_SER_ATTR_FAST_XML};
            stz_ser_context ctx = contexts[c];
            size_t want_len = 0;
            uint32_t want_bad = 0, got_bad = 0;
            stz_ser_status want_st =
                ref_escape(in, n, ctx, want, &want_len, &want_bad);
            test_buf t;
            stz_out out;
            out_init(&out, &t, SIZE_MAX);
            CHECK(stz_ser_raw(&out, "x", 1) == STZ_SER_OK);
            stz_ser_status st = stz_ser_escape(&out, in, n, ctx, &got_bad);
            if (st != want_st)
                wrong++;
            else if (st == STZ_SER_OK)
                wrong += !(out.len == want_len + 1 &&
                           memcmp(out.data + 1, want, want_len) == 0);
            else if (st == STZ_SER_FORBIDDEN_CHAR)
                wrong += got_bad != want_bad || out.len != 1;
            else
                wrong += out.len != 1;
            free(out.data);
        }
    }
    CHECK(wrong == 0);
}

/* Random text of 0 to 199 bytes made mostly of multi-byte characters
 * (CJK, Arabic, Cyrillic, emoji), where the sixteen-byte validation runs
 * longest, with the odd special, control, forbidden or broken sequence,
 * against the reference. */
static void test_random_multibyte_against_reference(void)
{
    static const char *fill[] = {"\xe4\xb8\xad", "\xd8\xb9", "\xd0\x96",
                                 "\xf0\x9f\x98\x80", "a", " ", "\xef\xbf\xbd",
                                 "\xf4\x8f\xbf\xbf", "\xc2\x80", "\xee\x80\x80"};
    static const char *pieces[] = {
        "&", "<", "\"", "\t", "\n", "\r", "\x01", "\xed\xa0\x80", "\xef\xbf\xbe",
        "\xef\xbf\xbf", "\x80", "\xc3", "\xe4\xb8", "\xf0\x9f\x98", "\xc0\xaf",
        "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xff"};
    size_t nfill = sizeof fill / sizeof fill[0];
    size_t npieces = sizeof pieces / sizeof pieces[0];
    unsigned char in[208];
    char want[208 * 6];
    long wrong = 0;
    for (int round = 0; round < 200000; round++) {
        size_t len = next_random() % 200, n = 0;
        int odd = next_random() % 3;
        while (n < len) {
            uint32_t r = next_random();
            const char *p = r % 64 < (uint32_t)odd ? pieces[(r >> 8) % npieces]
                                                   : fill[(r >> 16) % nfill];
            if (n + strlen(p) > len)
                break;
            memcpy(in + n, p, strlen(p));
            n += strlen(p);
        }
        for (int c = 0; c < 2; c++) {
            stz_ser_context ctx = c ? STZ_SER_ATTR : STZ_SER_TEXT;
            size_t want_len = 0;
            uint32_t want_bad = 0, got_bad = 0;
            stz_ser_status want_st =
                ref_escape(in, n, ctx, want, &want_len, &want_bad);
            test_buf t;
            stz_out out;
            out_init(&out, &t, SIZE_MAX);
            stz_ser_status st = stz_ser_escape(&out, in, n, ctx, &got_bad);
            if (st != want_st)
                wrong++;
            else if (st == STZ_SER_OK)
                wrong += !(out.len == want_len &&
                           (want_len == 0 ||
                            memcmp(out.data, want, want_len) == 0));
            else if (st == STZ_SER_FORBIDDEN_CHAR)
                wrong += got_bad != want_bad || out.len != 0;
            else
                wrong += out.len != 0;
            free(out.data);
        }
    }
    CHECK(wrong == 0);
}

/* Random names of 1 to 40 bytes, mostly NameChars, sometimes with a byte
 * or a character that is not allowed (or not allowed first), at every
 * offset, against the rules above. */
static void test_random_names(void)
{
    static const char *pieces[] = {
        "a", "Z", "_", ":", "-", ".", "0", "9", "@", "[", "`", "{", "/",
        " ", "'", "\x7f", "\xc3\xa9", "\xc2\xb7", "\xc3\x97", "\xcc\x80",
        "\xe4\xb8\xad", "\xef\xbf\xbe", "\xf0\x90\x80\x80", "\x80", "\xc3"};
    size_t npieces = sizeof pieces / sizeof pieces[0];
    static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:-.";
    unsigned char in[64];
    long wrong = 0;
    for (int round = 0; round < 200000; round++) {
        size_t len = 1 + next_random() % 40, n = 0;
        int odd = next_random() % 3;
        while (n < len) {
            uint32_t r = next_random();
            const char *p = r % 32 < (uint32_t)odd ? pieces[(r >> 8) % npieces]
                                                   : NULL;
            if (p && n + strlen(p) <= len) {
                memcpy(in + n, p, strlen(p));
                n += strlen(p);
            } else {
                in[n++] = (unsigned char)plain[(r >> 16) % (sizeof plain - 1)];
            }
        }
        stz_ser_status want = ref_check_name(in, n);
        stz_ser_status got = stz_ser_check_name(in, n);
        wrong += got != want;
    }
    CHECK(wrong == 0);
}

/* stz_copy at every length around its cases. */
static void test_copy(void)
{
    unsigned char src[80], dst[80];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 7 + 1);
    for (size_t n = 0; n <= 70; n++) {
        memset(dst, 0, sizeof dst);
        stz_copy(dst + 3, src + 5, n);
        int ok = memcmp(dst + 3, src + 5, n) == 0 && dst[0] == 0 &&
                 dst[1] == 0 && dst[2] == 0;
        for (size_t i = 3 + n; i < sizeof dst; i++)
            ok = ok && dst[i] == 0;
        CHECK(ok);
    }
}

int main(void)
{
    test_escaping();
    test_every_byte();
    test_every_code_point();
    test_invalid_utf8();
    test_names();
    test_out_of_memory();
    test_cut();
    test_random_against_reference();
    test_random_multibyte_against_reference();
    test_every_code_point_in_long_text();
    test_invalid_utf8_in_long_text();
    test_random_names();
    test_copy();
    if (failures) {
        fprintf(stderr, "serialize_test: %d failure(s)\n", failures);
        return 1;
    }
    printf("serialize_test: ok\n");
    return 0;
}

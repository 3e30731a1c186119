/*
 * stringprep: RFC 3454 string preparation with the XMPP profiles
 * (Nodeprep and Resourceprep from RFC 3920 / RFC 6122, Nameprep from RFC
 * 3491), Unicode 3.2 NFKC included. No erl_nif dependency: the NIF
 * (stanza_jid_nif.c), the C tests and the libFuzzer harness all link it.
 *
 * Input is UTF-8, decoded strictly (overlong forms, surrogates, code
 * points above U+10FFFF and truncated sequences are refused). Input
 * longer than STZPREP_MAX_IN bytes is refused before any work, so one
 * call does a bounded amount of work (well under a millisecond; see
 * doc/jid.md). Unassigned code points (table A.1) are refused, as
 * ejabberd asks, in the three XMPP profiles.
 *
 * All working memory is in a caller-provided stzprep_work sized by the
 * input; nothing is allocated and nothing global is written.
 */
#ifndef STANZA_STRINGPREP_H
#define STANZA_STRINGPREP_H

#include <stddef.h>
#include <stdint.h>

/* A JID part is at most 1023 bytes (RFC 6122). */
#define STZPREP_MAX_IN 1023
/* Mapping and NFKD produce at most this many code points per input byte
 * (U+FDFA: 3 bytes, 18 code points); stringprep.c checks the generated
 * tables against it at compile time. */
#define STZPREP_MAX_EXPANSION 6
#define STZPREP_MAX_CPS (STZPREP_MAX_IN * STZPREP_MAX_EXPANSION)
/* Output bytes never exceed this many per input byte. */
#define STZPREP_OUT_PER_BYTE (STZPREP_MAX_EXPANSION * 4)
#define STZPREP_MAX_OUT (STZPREP_MAX_IN * STZPREP_OUT_PER_BYTE)

typedef enum stzprep_profile {
    STZPREP_NODEPREP,
    STZPREP_NAMEPREP,
    STZPREP_RESOURCEPREP,
    /* Nameprep's mapping (B.1, B.2) and NFKC, nothing refused but
     * invalid UTF-8: a case- and form-insensitive key. */
    STZPREP_CASEFOLD,
    /* As CASEFOLD plus the bidi rule: fast_stringprep's
     * tolower_nofilter, for the compat application. */
    STZPREP_CASEFOLD_BIDI,
    STZPREP_PROFILES
} stzprep_profile;

typedef enum stzprep_result {
    STZPREP_OK = 0,
    STZPREP_INVALID_UTF8,
    STZPREP_TOO_LONG,
    STZPREP_PROHIBITED,
    STZPREP_UNASSIGNED,
    STZPREP_BIDI
} stzprep_result;

/* Working memory: code points, their combining classes and room to
 * sort, for up to cap code points. stzprep_work_init carves it out of
 * one caller-provided block of STZPREP_WORK_BYTES(input bytes) bytes
 * (aligned for uint32_t): a few KB on the stack for a short name, one
 * allocation for a long one, nothing for ASCII. */
typedef struct stzprep_work {
    uint32_t *cps;
    uint32_t *sort_tmp;
    uint8_t *ccc;
    size_t cap;
} stzprep_work;

#define STZPREP_WORK_BYTES(in_len)                                           \
    ((size_t)(in_len) * STZPREP_MAX_EXPANSION * (2 * sizeof(uint32_t) + 1))

void stzprep_work_init(stzprep_work *work, void *mem, size_t in_len);

/* Prepares in[0..len) with the profile into out, which holds out_cap
 * bytes: STZPREP_TOO_LONG when the output would not fit (a JID part must
 * be at most 1023 bytes after preparation too; STZPREP_MAX_OUT always
 * fits). On STZPREP_OK *out_len is the output length; otherwise out
 * holds nothing useful. When the input is ASCII the output is never
 * longer than the input. */
stzprep_result stzprep(stzprep_profile profile, const uint8_t *in, size_t len,
                       uint8_t *out, size_t out_cap, size_t *out_len,
                       stzprep_work *work);

/* The ASCII fast path alone: returns 1 and fills out (len bytes) when in
 * is all ASCII, 0 when it is not (then nothing is decided), with the
 * result in *result. Exposed so the NIF can skip the work area. */
int stzprep_ascii(stzprep_profile profile, const uint8_t *in, size_t len,
                  uint8_t *out, stzprep_result *result);

/* Decodes one UTF-8 sequence strictly at in[*pos..len): returns the code
 * point and advances *pos, or returns -1 (invalid). */
int32_t stzprep_utf8_next(const uint8_t *in, size_t len, size_t *pos);

/* Unicode 3.2 NFKC of in[0..n) (code points, no mapping, no checks)
 * into work->cps. For the differential tests. Returns the length, or
 * (size_t)-1 if the decomposition would not fit in work->cap. */
size_t stzprep_nfkc(const uint32_t *in, size_t n, stzprep_work *work);

const char *stzprep_result_name(stzprep_result r);

#endif

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
 * All working memory is in a caller-provided stzprep_work (about 50 KB,
 * fine on a scheduler's stack); nothing is allocated and nothing global
 * is written.
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
/* Output bytes can never exceed this. */
#define STZPREP_MAX_OUT (STZPREP_MAX_CPS * 4)

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

typedef struct stzprep_work {
    uint32_t cps[STZPREP_MAX_CPS];
    uint8_t ccc[STZPREP_MAX_CPS];
    uint32_t sort_tmp[STZPREP_MAX_CPS];
} stzprep_work;

/* Prepares in[0..len) with the profile into out, which must hold
 * STZPREP_MAX_OUT bytes (or len bytes when the input is ASCII: then the
 * output is never longer). On STZPREP_OK *out_len is the output length;
 * otherwise out holds nothing useful. */
stzprep_result stzprep(stzprep_profile profile, const uint8_t *in, size_t len,
                       uint8_t *out, size_t *out_len, stzprep_work *work);

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
 * (size_t)-1 if the decomposition would not fit in STZPREP_MAX_CPS. */
size_t stzprep_nfkc(const uint32_t *in, size_t n, stzprep_work *work);

const char *stzprep_result_name(stzprep_result r);

#endif

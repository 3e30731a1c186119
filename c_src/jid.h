/*
 * jid: XMPP addresses (RFC 6122): splitting a JID into its three parts,
 * preparing each with its stringprep profile (stringprep.h), and the
 * domainpart rules (an IP literal, or labels that IDNA2003's ToASCII with
 * UseSTD3ASCIIRules accepts). No erl_nif dependency.
 *
 * Each part is at most STZJID_MAX_PART (1023) bytes before and after
 * preparation; longer input is refused before any work.
 */
#ifndef STANZA_JID_H
#define STANZA_JID_H

#include <stddef.h>
#include <stdint.h>

#include "stringprep.h"

#define STZJID_MAX_PART 1023
/* localpart@domainpart/resourcepart at most */
#define STZJID_MAX_JID (3 * STZJID_MAX_PART + 2)

typedef enum stzjid_result {
    STZJID_OK = 0,
    STZJID_INVALID_UTF8,
    STZJID_TOO_LONG,
    STZJID_PROHIBITED,
    STZJID_UNASSIGNED,
    STZJID_BIDI,
    STZJID_BAD_LOCALPART, /* empty before '@' */
    STZJID_BAD_DOMAIN,    /* empty, or not an IDNA domain or IP literal */
    STZJID_BAD_RESOURCE   /* empty after '/' */
} stzjid_result;

/* One prepared part: its bytes and, when they equal the input's bytes,
 * same = 1 (the NIF then returns a sub-binary of the input). An absent
 * part has present = 0 and len = 0. */
typedef struct stzjid_part {
    uint8_t data[STZJID_MAX_PART];
    size_t len;
    size_t in_off, in_len; /* where the part was in the input */
    int present;
    int same;
} stzjid_part;

typedef struct stzjid {
    stzjid_part local, domain, resource;
} stzjid;

/* Parses and prepares a whole JID. */
stzjid_result stzjid_parse(const uint8_t *in, size_t len, stzjid *jid,
                           stzprep_work *work);

/* Prepares one part alone: profile STZPREP_NODEPREP or
 * STZPREP_RESOURCEPREP, or the domain rules (nameprep and the checks
 * above) with stzjid_domain. Empty parts are refused (bad_*). */
stzjid_result stzjid_prep_part(stzprep_profile profile, const uint8_t *in,
                               size_t len, stzjid_part *out,
                               stzprep_work *work);
stzjid_result stzjid_domain(const uint8_t *in, size_t len, stzjid_part *out,
                            stzprep_work *work);

/* The domain checks alone, on a nameprepped domain (exposed for tests):
 * 1 when valid. */
int stzjid_domain_valid(const uint8_t *d, size_t len);

/* Length of the Punycode (RFC 3492) form of cps[0..n), without "xn--";
 * SIZE_MAX once it passes limit. Exposed for tests. */
size_t stzjid_punycode_length(const uint32_t *cps, size_t n, size_t limit);

const char *stzjid_result_name(stzjid_result r);

#endif

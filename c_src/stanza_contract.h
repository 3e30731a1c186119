/*
 * stanza_contract: what the streaming parser's two front-ends, the NIF
 * (stanza_stream_nif.c, nif_builder) and the port driver (stanza_drv.c,
 * drv_builder), promise to Erlang alike: the element formats they build
 * and the reason term of each parse error. Both build their terms from
 * this one table, so stanza_stream and stanza_port cannot drift apart.
 *
 * Only names and decisions live here, no erl_nif or erl_driver: each
 * front-end makes its atoms from the names at load time and writes the
 * term in its own way (enif_make_* or a driver term spec).
 */
#ifndef STANZA_CONTRACT_H
#define STANZA_CONTRACT_H

#include "xml_core.h"

/* The element format, as stanza_stream.erl and stanza_port.erl number
 * it in new_parser's and the options control's Format argument. */
typedef enum stz_format {
    STZ_FORMAT_BINARY = 0, /* {xmlelement, <<Name>>, ...}       */
    STZ_FORMAT_LEGACY = 1, /* ejabberd 2.x: strings, binary text  */
    STZ_FORMAT_XMLEL = 2   /* {xmlel, <<Name>>, ...}              */
} stz_format;

/* Non-zero when v numbers a format. */
static inline int stz_format_valid(unsigned long long v)
{
    return v <= STZ_FORMAT_XMLEL;
}

/*
 * The shape of Reason in {xmlstreamerror, Reason}.
 *
 * The binary and xmlel formats:
 *   STZ_REASON_ATOM            stanza_too_big | too_deep | out_of_memory
 *                              (stz_reason_atom_name)
 *   STZ_REASON_RESTRICTED      {restricted_xml, What}: What is
 *                              stz_restricted_name(e->restricted)
 *   STZ_REASON_NOT_WELL_FORMED {not_well_formed, #{code => Int,
 *                              message => <<...>>, line, column, offset}}
 *                              (keys: stz_not_well_formed_keys)
 * The legacy format, the only two shapes ejabberd 2.x knew:
 *   STZ_REASON_LEGACY_TOO_BIG  the string STZ_LEGACY_TOO_BIG, which
 *                              callers match to answer policy-violation
 *   STZ_REASON_LEGACY_CODE     {stz_legacy_code(e), "Message"}
 */
typedef enum stz_reason_shape {
    STZ_REASON_ATOM,
    STZ_REASON_RESTRICTED,
    STZ_REASON_NOT_WELL_FORMED,
    STZ_REASON_LEGACY_TOO_BIG,
    STZ_REASON_LEGACY_CODE
} stz_reason_shape;

/* The shape of the reason of e (a failed core's error) in format. */
stz_reason_shape stz_reason_shape_of(stz_format format, const stz_error *e);

/* Error kinds, STZ_ERR_NONE included: the size of a table indexed by
 * stz_error_kind. */
#define STZ_ERROR_KINDS (STZ_ERR_NO_MEMORY + 1)

/* The reason atom of an error kind whose shape is STZ_REASON_ATOM; the
 * tag atom (restricted_xml, not_well_formed) of the others. */
const char *stz_reason_atom_name(stz_error_kind kind);

/* The atom that says what restricted XML was met. */
const char *stz_restricted_name(stz_restricted_kind kind);
#define STZ_RESTRICTED_KINDS 4

/* The keys of the not_well_formed map, in the order code, message, line,
 * column, offset. */
#define STZ_NOT_WELL_FORMED_KEYS 5
extern const char *const stz_not_well_formed_keys[STZ_NOT_WELL_FORMED_KEYS];

/* The legacy reason of a stanza over the size limit. */
#define STZ_LEGACY_TOO_BIG "XML stanza is too big"

/* The code of a legacy {Code, String} reason: expat's, or for the errors
 * ejabberd 2.x had no name for, 35 (XML_ERROR_ABORTED) with a message
 * that says why. */
int stz_legacy_code(const stz_error *e);

#endif

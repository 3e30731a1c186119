/*
 * stanza_contract: see stanza_contract.h.
 */
#include "stanza_contract.h"

stz_reason_shape stz_reason_shape_of(stz_format format, const stz_error *e)
{
    if (format == STZ_FORMAT_LEGACY)
        return e->kind == STZ_ERR_TOO_BIG ? STZ_REASON_LEGACY_TOO_BIG
                                          : STZ_REASON_LEGACY_CODE;
    switch (e->kind) {
    case STZ_ERR_TOO_BIG:
    case STZ_ERR_TOO_DEEP:
    case STZ_ERR_NO_MEMORY:
        return STZ_REASON_ATOM;
    case STZ_ERR_RESTRICTED:
        return STZ_REASON_RESTRICTED;
    default: /* STZ_ERR_NOT_WELL_FORMED; a failed core never has NONE */
        return STZ_REASON_NOT_WELL_FORMED;
    }
}

const char *stz_reason_atom_name(stz_error_kind kind)
{
    switch (kind) {
    case STZ_ERR_TOO_BIG:
        return "stanza_too_big";
    case STZ_ERR_TOO_DEEP:
        return "too_deep";
    case STZ_ERR_RESTRICTED:
        return "restricted_xml";
    case STZ_ERR_NO_MEMORY:
        return "out_of_memory";
    default:
        return "not_well_formed";
    }
}

const char *stz_restricted_name(stz_restricted_kind kind)
{
    switch (kind) {
    case STZ_RESTRICTED_COMMENT:
        return "comment";
    case STZ_RESTRICTED_PI:
        return "processing_instruction";
    case STZ_RESTRICTED_DTD:
        return "dtd";
    default:
        return "entity_reference";
    }
}

const char *const stz_not_well_formed_keys[STZ_NOT_WELL_FORMED_KEYS] = {
    "code", "message", "line", "column", "offset",
};

int stz_legacy_code(const stz_error *e)
{
    return e->code ? e->code : 35;
}

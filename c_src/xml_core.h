/*
 * xml_core: the XMPP streaming XML core shared by every front-end.
 *
 * It owns one expat parser in namespace mode and enforces XMPP's rules on
 * top of it: RFC 6120 section 11 restrictions, the per-stanza byte limit, the
 * depth limit, text merging and the ejabberd 2.x naming conventions (prefixes
 * kept as written, namespace declarations as ordinary attributes, first).
 *
 * It knows nothing of erl_nif or erl_driver: it reports what it sees to a
 * small builder interface, and allocates only through the allocator it is
 * given, so a fuzz harness can link it without the BEAM.
 */
#ifndef STANZA_XML_CORE_H
#define STANZA_XML_CORE_H

#include <stddef.h>

#include "stz_alloc.h"

/* One attribute as the builder sees it; neither string is NUL-terminated. */
typedef struct stz_attr {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} stz_attr;

/*
 * The builder. Every callback returns 0 on success and non-zero when it ran
 * out of memory, which stops the parse with STZ_ERR_NO_MEMORY.
 *
 * Calls arrive in document order. Inside a stanza the builder sees
 * element_start / text / element_end, balanced; element_end's stanza_done is
 * non-zero when the element that ends is the stanza itself. Text is already
 * merged: two text calls never follow each other, unless the options ask
 * for text_pieces. After an error or a reset
 * the core calls discard so the builder can drop a half-built stanza.
 */
typedef struct stz_builder {
    void *ctx;
    int (*stream_start)(void *ctx, const char *name, size_t name_len,
                        const stz_attr *attrs, size_t attr_count);
    int (*element_start)(void *ctx, const char *name, size_t name_len,
                         const stz_attr *attrs, size_t attr_count);
    int (*text)(void *ctx, const char *data, size_t len);
    int (*element_end)(void *ctx, int stanza_done);
    int (*stream_end)(void *ctx, const char *name, size_t name_len);
    void (*discard)(void *ctx);
    /* Only with stz_options.stream_text (may be NULL otherwise): text that
     * is a child of the stream root, between stanzas, in the pieces expat
     * reports it (not merged: the pieces depend on the input's cuts). */
    int (*stream_text)(void *ctx, const char *data, size_t len);
} stz_builder;

typedef enum stz_restricted_policy {
    STZ_RESTRICTED_REJECT = 0, /* RFC 6120: comments and PIs are errors */
    STZ_RESTRICTED_DROP = 1    /* ejabberd 2.x: they vanish silently    */
} stz_restricted_policy;

typedef struct stz_options {
    unsigned long long max_stanza_size; /* 0 means no limit */
    unsigned long max_depth;            /* the stanza element is depth 1 */
    stz_restricted_policy restricted;
    /* 0: a stream (root = stream header, stanzas at depth 2).
     * 1: one element (parse_element: the root is the stanza). */
    int element_mode;
    /* 0: adjacent text is merged into one text call (the default).
     * 1: each run of text expat reports is its own text call (a run of
     * characters, one reference, one line break...): what ejabberd 2.x's
     * parse_element kept. The split then depends on expat and on where
     * the input was cut; the concatenated text does not. */
    int text_pieces;
    /* Non-zero: text between stanzas goes to builder.stream_text rather
     * than being dropped (fast_xml reports it as xmlstreamcdata). */
    int stream_text;
    /* Non-zero: xmlns='' (which undeclares the default namespace) is kept
     * as an attribute with an empty value rather than dropped, so that a
     * caller resolving namespaces from the attributes still can. */
    int keep_default_undeclaration;
} stz_options;

typedef enum stz_error_kind {
    STZ_ERR_NONE = 0,
    STZ_ERR_TOO_BIG,
    STZ_ERR_TOO_DEEP,
    STZ_ERR_RESTRICTED,
    STZ_ERR_NOT_WELL_FORMED,
    STZ_ERR_NO_MEMORY
} stz_error_kind;

typedef enum stz_restricted_kind {
    STZ_RESTRICTED_COMMENT = 0,
    STZ_RESTRICTED_PI,
    STZ_RESTRICTED_DTD,
    STZ_RESTRICTED_ENTITY_REF
} stz_restricted_kind;

typedef struct stz_error {
    stz_error_kind kind;
    stz_restricted_kind restricted; /* when kind == STZ_ERR_RESTRICTED */
    int code;                       /* expat's error code, or 0 */
    const char *message;            /* static string; never NULL once failed */
    unsigned long long line;
    unsigned long long column;
    long long offset;               /* byte offset in the stream */
} stz_error;

typedef struct stz_core stz_core;

/* NULL when out of memory. The builder and options are copied. */
stz_core *stz_core_new(const stz_allocator *allocator,
                       const stz_options *options,
                       const stz_builder *builder);

/*
 * Feeds the next bytes of the stream; final marks the end of the input
 * (parse_element). Returns 0, or -1 once the core has failed: the error is
 * then in stz_core_error and every later feed returns -1 without parsing,
 * until stz_core_reset. Callers slice big inputs themselves to bound the
 * time of one call; the result does not depend on how input is sliced.
 */
int stz_core_feed(stz_core *core, const char *data, size_t len, int final);

/* Back to a pristine stream: a new XML declaration and root are allowed. */
void stz_core_reset(stz_core *core);

const stz_error *stz_core_error(const stz_core *core);

/* Bytes expat has tokenized since the reset, counting the re-reads of
 * unfinished tokens: a measure of work that must stay linear in the input
 * however it is chunked (the tests hold it to a small multiple). */
unsigned long long stz_core_expat_reads(const stz_core *core);

void stz_core_free(stz_core *core);

#endif

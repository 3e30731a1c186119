/*
 * xml_core: expat in namespace mode plus XMPP's rules. See xml_core.h.
 *
 * Offsets. expat tells where every event starts and how many bytes it
 * spans. The core keeps the offset where the current stanza's start tag
 * begins and the end of the last event expat reported; with the count of
 * bytes fed so far this measures a stanza exactly, whatever the chunking,
 * and bounds what expat may buffer for a token it has not finished yet.
 */
#include "xml_core.h"

#include "grow.h"
#include "token_scan.h"

#include <expat.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

/* The namespace separator. 0xFF never occurs in UTF-8, so it cannot
 * collide with a byte of a namespace URI (expat >= 2.4.5 rejects URIs that
 * contain the separator, which '\n' would make of a legal "&#10;"). */
#define NS_SEP ((XML_Char)0xFF)

/* Between stanzas, only the stream's end tag may be held back by expat
 * without being a stanza; allow it this much padding beyond the limit. */
#define END_TAG_SLACK 4096

/* Text between stanzas is no stanza, but expat may hold back its last
 * bytes until the next one decides them: part of a UTF-8 character, a
 * CR (CR LF?) or "]]" ("]]>"?), three bytes at most. A tinier limit
 * would refuse them; no stanza fits in so few bytes anyway. */
#define HELD_TEXT_MIN 3

/* A stream header that never ends is refused like a stanza that never
 * ends, but a tiny stanza limit must not refuse an ordinary header. */
#define MIN_HEADER_LIMIT 65536

/*
 * expat reads an unfinished token again from its start each time it is
 * fed (reparse deferral is off, as prompt delivery needs): a 3 MB attribute
 * fed in 1 KB pieces cost 4 s, quadratic. So while expat holds an
 * unfinished token of DEFER_MIN bytes or more, new bytes wait in the core
 * until a re-read is worth it: at once when token_scan says the token may
 * be complete (no stanza ever waits for more input), otherwise when the
 * waiting bytes are as many as expat holds, so re-reads add up to linear
 * time.
 */
#define DEFER_MIN 4096

/* expat takes an int length: feed larger inputs in pieces of this size. */
#define MAX_EXPAT_FEED (1 << 30)

typedef struct byte_buf {
    char *data;
    size_t len;
    size_t cap;
} byte_buf;

/* A name or value that is either a pointer into expat's strings (valid
 * during the callback) or an offset into the scratch buffer, which may move
 * while it grows; resolved once everything is appended. */
typedef struct str_ref {
    const char *ptr; /* NULL: lives in scratch at off */
    size_t off;
    size_t len;
} str_ref;

typedef struct pending_attr {
    str_ref name;
    str_ref value;
} pending_attr;

struct stz_core {
    stz_allocator mem;
    XML_Memory_Handling_Suite suite;
    stz_options opts;
    stz_builder builder;
    XML_Parser parser; /* created on first feed: idle parsers stay small */
    stz_error error;

    unsigned long depth;        /* document depth, the root is 1 */
    unsigned long stanza_level; /* depth of a stanza element */
    long long fed;              /* bytes given to expat since reset */
    long long stanza_start;     /* offset of the current stanza's '<' */
    long long last_event_end;   /* end of the last event expat reported */

    byte_buf deferred;  /* received, not yet given to expat: see DEFER_MIN */
    unsigned long long expat_reads; /* bytes expat tokenized, re-reads too */
    /* token_scan follows the bytes received since last_event_end; offsets
     * count received bytes (given to expat or deferred). */
    token_scan scan;
    long long scan_from;  /* the last_event_end it started at */
    long long scanned_to;
    int scan_blind;       /* it started on bytes no longer at hand */
    int scan_futile;      /* "may be complete" brought no event: see
                             worth_rereading */

    unsigned char head[2]; /* the stream's first bytes: see refuse_utf16 */
    int head_len;

    byte_buf text;    /* merged character data of the open element */
    byte_buf scratch; /* qualified names built for one start tag */

    pending_attr *attrs_pending; /* namespace declarations, then attributes */
    size_t ns_count;
    size_t attrs_cap;
    stz_attr *attrs; /* resolved view handed to the builder */
    size_t attrs_view_cap;
};

/* ---------------------------------------------------------------------- */
/* Small buffers                                                           */

static int buf_reserve(stz_core *c, byte_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return -1;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    char *data = grow_array(b->data, &b->cap, need, 1, 64, c->mem.realloc);
    if (!data)
        return -1;
    b->data = data;
    return 0;
}

static int buf_append(stz_core *c, byte_buf *b, const char *s, size_t n)
{
    if (buf_reserve(c, b, n))
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

static void buf_free(stz_core *c, byte_buf *b)
{
    c->mem.free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ---------------------------------------------------------------------- */
/* Failure                                                                 */

static void record_error(stz_core *c, stz_error_kind kind,
                         stz_restricted_kind restricted, int code,
                         const char *message, long long offset)
{
    c->error.kind = kind;
    c->error.restricted = restricted;
    c->error.code = code;
    c->error.message = message;
    c->error.offset = offset;
    if (c->parser) {
        c->error.line = XML_GetCurrentLineNumber(c->parser);
        c->error.column = XML_GetCurrentColumnNumber(c->parser);
    } else {
        c->error.line = 1;
        c->error.column = 0;
    }
    c->builder.discard(c->builder.ctx);
    c->text.len = 0;
}

/* From inside an expat callback: record, then make XML_Parse return. */
static void fail_in_callback(stz_core *c, stz_error_kind kind,
                             stz_restricted_kind restricted,
                             const char *message)
{
    if (c->error.kind != STZ_ERR_NONE)
        return;
    record_error(c, kind, restricted, 0, message,
                 (long long)XML_GetCurrentByteIndex(c->parser));
    XML_StopParser(c->parser, XML_FALSE);
}

static void fail_no_memory(stz_core *c)
{
    fail_in_callback(c, STZ_ERR_NO_MEMORY, 0, "out of memory");
}

static int failed(const stz_core *c)
{
    return c->error.kind != STZ_ERR_NONE;
}

static long long event_end(const stz_core *c)
{
    return (long long)XML_GetCurrentByteIndex(c->parser) +
           XML_GetCurrentByteCount(c->parser);
}

static int in_stanza(const stz_core *c)
{
    return c->depth >= c->stanza_level;
}

/* Called at every event inside a stanza: the stanza already spans at least
 * up to the end of that event. */
static int check_stanza_size(stz_core *c, long long end)
{
    unsigned long long max = c->opts.max_stanza_size;
    if (max && (unsigned long long)(end - c->stanza_start) > max) {
        fail_in_callback(c, STZ_ERR_TOO_BIG, 0, "XML stanza is too big");
        return -1;
    }
    return 0;
}

/* What may lie outside stanzas between two events (see check_held_back):
 * before the root, the stream header (never refused below
 * MIN_HEADER_LIMIT); between stanzas, the limit (HELD_TEXT_MIN at
 * least), and END_TAG_SLACK more for the stream's end tag. */
static unsigned long long outside_allowed(const stz_core *c,
                                          unsigned long depth, int end_tag)
{
    unsigned long long max = c->opts.max_stanza_size;
    if (depth == 0)
        return max > MIN_HEADER_LIMIT ? max : MIN_HEADER_LIMIT;
    if (end_tag)
        return max + END_TAG_SLACK;
    return max > HELD_TEXT_MIN ? max : HELD_TEXT_MIN;
}

/*
 * The same bound on an event outside stanzas, from the end of the event
 * before (since) to its end: check_held_back refuses such bytes while
 * expat holds them, so without this an oversized stream header, end tag,
 * XML declaration or dropped comment passed when it came in one piece and
 * was refused when cut: the result depended on the slicing.
 */
static int check_outside_event(stz_core *c, long long since, long long end,
                               unsigned long depth, int end_tag)
{
    if (!c->opts.max_stanza_size || c->opts.element_mode)
        return 0;
    if ((unsigned long long)(end - since) > outside_allowed(c, depth, end_tag)) {
        fail_in_callback(c, STZ_ERR_TOO_BIG, 0, "XML stanza is too big");
        return -1;
    }
    return 0;
}

static int flush_text(stz_core *c)
{
    if (c->text.len == 0)
        return 0;
    int rc = c->builder.text(c->builder.ctx, c->text.data, c->text.len);
    c->text.len = 0;
    if (rc)
        fail_no_memory(c);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Names                                                                   */

/*
 * expat hands names as "local", "uri SEP local" or "uri SEP local SEP
 * prefix". XMPP code expects the name as written ("stream:stream"), so
 * rebuild "prefix:local"; an unprefixed name points straight into expat.
 */
static int qualified_name(stz_core *c, const XML_Char *name, str_ref *out)
{
    const char *first = strchr(name, NS_SEP);
    if (!first) {
        out->ptr = name;
        out->len = strlen(name);
        return 0;
    }
    const char *local = first + 1;
    const char *second = strchr(local, NS_SEP);
    if (!second) {
        out->ptr = local;
        out->len = strlen(local);
        return 0;
    }
    const char *prefix = second + 1;
    size_t prefix_len = strlen(prefix);
    size_t local_len = (size_t)(second - local);
    out->ptr = NULL;
    out->off = c->scratch.len;
    out->len = prefix_len + 1 + local_len;
    if (buf_append(c, &c->scratch, prefix, prefix_len) ||
        buf_append(c, &c->scratch, ":", 1) ||
        buf_append(c, &c->scratch, local, local_len))
        return -1;
    return 0;
}

static const char *resolve(const stz_core *c, const str_ref *r)
{
    return r->ptr ? r->ptr : c->scratch.data + r->off;
}

static int reserve_pending_attrs(stz_core *c, size_t need)
{
    if (need <= c->attrs_cap)
        return 0;
    pending_attr *p = grow_array(c->attrs_pending, &c->attrs_cap, need,
                                 sizeof *p, 4, c->mem.realloc);
    if (!p)
        return -1;
    c->attrs_pending = p;
    return 0;
}

static int reserve_attr_view(stz_core *c, size_t need)
{
    if (need <= c->attrs_view_cap)
        return 0;
    stz_attr *a = grow_array(c->attrs, &c->attrs_view_cap, need, sizeof *a, 4,
                             c->mem.realloc);
    if (!a)
        return -1;
    c->attrs = a;
    return 0;
}

/* Namespace declarations become ordinary attributes, as ejabberd 2.x
 * showed them; expat reports them before the start tag they belong to. */
static void XMLCALL on_namespace_start(void *user, const XML_Char *prefix,
                                       const XML_Char *uri)
{
    stz_core *c = user;
    if (failed(c))
        return;
    if (!uri) { /* xmlns='' undeclares the default namespace */
        if (!c->opts.keep_default_undeclaration)
            return;
        uri = "";
    }
    if (reserve_pending_attrs(c, c->ns_count + 1)) {
        fail_no_memory(c);
        return;
    }
    pending_attr *a = &c->attrs_pending[c->ns_count];
    a->name.ptr = NULL;
    a->name.off = c->scratch.len;
    a->value.ptr = NULL;
    int rc = buf_append(c, &c->scratch, "xmlns", 5);
    if (!rc && prefix) {
        rc = buf_append(c, &c->scratch, ":", 1) ||
             buf_append(c, &c->scratch, prefix, strlen(prefix));
    }
    a->name.len = c->scratch.len - a->name.off;
    a->value.off = c->scratch.len;
    a->value.len = strlen(uri);
    if (rc || buf_append(c, &c->scratch, uri, a->value.len)) {
        fail_no_memory(c);
        return;
    }
    c->ns_count++;
}

/*
 * With namespace processing on, expat consumes every xmlns and xmlns:p
 * attribute as a declaration and never lists it among the attributes;
 * one that is listed anyway means expat ran out of memory making the
 * declaration's prefix (getAttributeId in expat 2.5, Debian 12's, does not
 * check that allocation) and went on without it: the declaration is lost, for
 * this tag and every later one in this parser. We treat it as the
 * allocation failure it is (found by fuzz_core's injected failures).
 */
static int is_lost_declaration(const XML_Char *name)
{
    /* a prefixed attribute arrives as URI, NS_SEP, local name, NS_SEP,
     * prefix: its URI may well start with "xmlns:" */
    return strncmp(name, "xmlns", 5) == 0 &&
           (name[5] == '\0' || name[5] == ':') && !strchr(name, NS_SEP);
}

/* Fills c->attrs with the namespace declarations, then the attributes, in
 * document order; returns the count or -1 (out of memory). */
static long collect_attrs(stz_core *c, const XML_Char **atts)
{
    size_t n = c->ns_count;
    for (const XML_Char **a = atts; *a; a += 2) {
        if (is_lost_declaration(a[0]) || reserve_pending_attrs(c, n + 1))
            return -1;
        pending_attr *p = &c->attrs_pending[n++];
        if (qualified_name(c, a[0], &p->name))
            return -1;
        p->value.ptr = a[1];
        p->value.len = strlen(a[1]);
    }
    if (n > LONG_MAX || reserve_attr_view(c, n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const pending_attr *p = &c->attrs_pending[i];
        c->attrs[i].name = resolve(c, &p->name);
        c->attrs[i].name_len = p->name.len;
        c->attrs[i].value = resolve(c, &p->value);
        c->attrs[i].value_len = p->value.len;
    }
    return (long)n;
}

/* ---------------------------------------------------------------------- */
/* Elements and text                                                       */

static int start_stanza_element(stz_core *c, long long start, long long end)
{
    if (c->depth == c->stanza_level)
        c->stanza_start = start;
    else if (flush_text(c))
        return -1;
    if (c->depth - c->stanza_level + 1 > c->opts.max_depth) {
        fail_in_callback(c, STZ_ERR_TOO_DEEP, 0, "XML stanza is too deep");
        return -1;
    }
    return check_stanza_size(c, end);
}

static void XMLCALL on_start(void *user, const XML_Char *name,
                             const XML_Char **atts)
{
    stz_core *c = user;
    if (failed(c))
        return;
    long long since = c->last_event_end;
    c->depth++;
    long long start = (long long)XML_GetCurrentByteIndex(c->parser);
    long long end = event_end(c);
    c->last_event_end = end;
    if (in_stanza(c) ? start_stanza_element(c, start, end)
                     : check_outside_event(c, since, end, c->depth - 1, 0))
        return;

    str_ref qname;
    long n = -1;
    if (!qualified_name(c, name, &qname))
        n = collect_attrs(c, atts);
    c->ns_count = 0;
    if (n < 0) {
        c->scratch.len = 0;
        fail_no_memory(c);
        return;
    }
    const char *qn = resolve(c, &qname);
    int rc = in_stanza(c)
                 ? c->builder.element_start(c->builder.ctx, qn, qname.len,
                                            c->attrs, (size_t)n)
                 : c->builder.stream_start(c->builder.ctx, qn, qname.len,
                                           c->attrs, (size_t)n);
    c->scratch.len = 0;
    if (rc)
        fail_no_memory(c);
}

static void XMLCALL on_end(void *user, const XML_Char *name)
{
    stz_core *c = user;
    if (failed(c))
        return;
    long long since = c->last_event_end;
    long long end = event_end(c);
    c->last_event_end = end;
    if (in_stanza(c)) {
        if (flush_text(c) || check_stanza_size(c, end))
            return;
        if (c->builder.element_end(c->builder.ctx,
                                   c->depth == c->stanza_level)) {
            fail_no_memory(c);
            return;
        }
    } else {
        if (check_outside_event(c, since, end, c->depth, 1))
            return;
        str_ref qname;
        int rc = qualified_name(c, name, &qname) ||
                 c->builder.stream_end(c->builder.ctx, resolve(c, &qname),
                                       qname.len);
        c->scratch.len = 0;
        if (rc) {
            fail_no_memory(c);
            return;
        }
    }
    c->depth--;
}

/* Text between stanzas is dropped, however long, and expat never holds
 * back a run of plain text; but it holds a reference ("&amp;", "&#x41;",
 * which leading zeros make as long as a peer likes) until its ';', and
 * check_held_back refuses what it holds beyond the outside bound. So a
 * reference between stanzas is held to that bound when it comes whole
 * too, or the outcome would depend on where the input was cut. */
static int is_reference(stz_core *c)
{
    int offset = 0, size = 0;
    const char *context = XML_GetInputContext(c->parser, &offset, &size);
    return context && offset >= 0 && offset < size && context[offset] == '&';
}

static void XMLCALL on_text(void *user, const XML_Char *s, int len)
{
    stz_core *c = user;
    if (failed(c))
        return;
    long long end = event_end(c);
    c->last_event_end = end;
    if (!in_stanza(c)) { /* whitespace keepalives between stanzas */
        if (is_reference(c) &&
            check_outside_event(c, (long long)XML_GetCurrentByteIndex(c->parser),
                                end, c->depth, 0))
            return;
        if (c->opts.stream_text && c->builder.stream_text &&
            c->builder.stream_text(c->builder.ctx, s, (size_t)len))
            fail_no_memory(c);
        return;
    }
    if (check_stanza_size(c, end))
        return;
    if (buf_append(c, &c->text, s, (size_t)len))
        fail_no_memory(c);
    else if (c->opts.text_pieces)
        (void)flush_text(c);
}

/* ---------------------------------------------------------------------- */
/* RFC 6120 section 11                                                     */

static void restricted(stz_core *c, stz_restricted_kind kind,
                       const char *message)
{
    if (failed(c))
        return;
    long long since = c->last_event_end;
    c->last_event_end = event_end(c);
    if (c->opts.restricted == STZ_RESTRICTED_DROP &&
        (kind == STZ_RESTRICTED_COMMENT || kind == STZ_RESTRICTED_PI)) {
        if (in_stanza(c))
            check_stanza_size(c, c->last_event_end);
        else
            check_outside_event(c, since, c->last_event_end, c->depth, 0);
        return;
    }
    fail_in_callback(c, STZ_ERR_RESTRICTED, kind, message);
}

static void XMLCALL on_comment(void *user, const XML_Char *data)
{
    (void)data;
    restricted(user, STZ_RESTRICTED_COMMENT, "comments are not allowed");
}

static void XMLCALL on_pi(void *user, const XML_Char *target,
                          const XML_Char *data)
{
    (void)target;
    (void)data;
    restricted(user, STZ_RESTRICTED_PI,
               "processing instructions are not allowed");
}

/* A DOCTYPE is refused as soon as it starts, so no entity it declares is
 * ever defined, let alone expanded (billion laughs, external entities). */
static void XMLCALL on_doctype(void *user, const XML_Char *name,
                               const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    restricted(user, STZ_RESTRICTED_DTD, "DTDs are not allowed");
}

static void XMLCALL on_entity_decl(void *user, const XML_Char *name,
                                   int is_param, const XML_Char *value,
                                   int value_len, const XML_Char *base,
                                   const XML_Char *sysid,
                                   const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base;
    (void)sysid, (void)pubid, (void)notation;
    restricted(user, STZ_RESTRICTED_DTD, "DTDs are not allowed");
}

static void XMLCALL on_skipped_entity(void *user, const XML_Char *name,
                                      int is_param)
{
    (void)name;
    (void)is_param;
    restricted(user, STZ_RESTRICTED_ENTITY_REF,
               "entity references are not allowed");
}

/* Events that carry nothing for the builder but move the parse position. */
static void XMLCALL on_cdata_boundary(void *user)
{
    stz_core *c = user;
    if (failed(c))
        return;
    c->last_event_end = event_end(c);
    if (in_stanza(c))
        check_stanza_size(c, c->last_event_end);
}

/* ---------------------------------------------------------------------- */
/* The expat parser                                                        */

static void install_handlers(stz_core *c)
{
    XML_Parser p = c->parser;
    XML_SetUserData(p, c);
    XML_SetReturnNSTriplet(p, XML_TRUE);
    XML_SetElementHandler(p, on_start, on_end);
    XML_SetCharacterDataHandler(p, on_text);
    XML_SetNamespaceDeclHandler(p, on_namespace_start, NULL);
    XML_SetCommentHandler(p, on_comment);
    XML_SetProcessingInstructionHandler(p, on_pi);
    XML_SetStartDoctypeDeclHandler(p, on_doctype);
    XML_SetEntityDeclHandler(p, on_entity_decl);
    XML_SetSkippedEntityHandler(p, on_skipped_entity);
    /* No XmlDeclHandler: with one set, expat copies the declaration's
     * strings into a pool whose 1 KB block it keeps for the parser's
     * life, which was 9% of a parser's memory after a stream header. The
     * declaration's bytes are accounted with the stream header instead. */
    XML_SetCdataSectionHandler(p, on_cdata_boundary, on_cdata_boundary);
    XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
#ifdef STZ_HAVE_REPARSE_DEFERRAL
    /* Deferral may hold back a complete stanza until more bytes arrive:
     * fatal for a chat protocol, where the peer waits for our answer. */
    XML_SetReparseDeferralEnabled(p, XML_FALSE);
#endif
}

static int ensure_parser(stz_core *c)
{
    if (c->parser)
        return 0;
    c->parser = XML_ParserCreate_MM("UTF-8", &c->suite, &(XML_Char){NS_SEP});
    if (!c->parser)
        return -1;
    install_handlers(c);
    return 0;
}

static void reset_positions(stz_core *c)
{
    c->depth = 0;
    c->fed = 0;
    c->stanza_start = 0;
    c->last_event_end = 0;
    c->text.len = 0;
    c->scratch.len = 0;
    c->ns_count = 0;
    c->deferred.len = 0;
    c->expat_reads = 0;
    token_scan_reset(&c->scan);
    c->scan_from = 0;
    c->scanned_to = 0;
    c->scan_blind = 0;
    c->scan_futile = 0;
    c->head_len = 0;
}

stz_core *stz_core_new(const stz_allocator *allocator,
                       const stz_options *options, const stz_builder *builder)
{
    stz_core *c = allocator->alloc(sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->mem = *allocator;
    c->suite.malloc_fcn = allocator->alloc;
    c->suite.realloc_fcn = allocator->realloc;
    c->suite.free_fcn = allocator->free;
    c->opts = *options;
    if (c->opts.max_depth == 0)
        c->opts.max_depth = 1;
    c->builder = *builder;
    c->stanza_level = c->opts.element_mode ? 1 : 2;
    reset_positions(c);
    return c;
}

void stz_core_free(stz_core *c)
{
    if (!c)
        return;
    if (c->parser)
        XML_ParserFree(c->parser);
    buf_free(c, &c->text);
    buf_free(c, &c->scratch);
    buf_free(c, &c->deferred);
    c->mem.free(c->attrs_pending);
    c->mem.free(c->attrs);
    c->mem.free(c);
}

void stz_core_reset(stz_core *c)
{
    c->builder.discard(c->builder.ctx);
    if (c->parser) {
        if (XML_ParserReset(c->parser, "UTF-8"))
            install_handlers(c);
        else {
            XML_ParserFree(c->parser);
            c->parser = NULL;
        }
    }
    memset(&c->error, 0, sizeof c->error);
    reset_positions(c);
}

const stz_error *stz_core_error(const stz_core *c)
{
    return &c->error;
}

unsigned long long stz_core_expat_reads(const stz_core *c)
{
    return c->expat_reads;
}

/* Between stanzas only the stream's end tag may be held back beyond the
 * stanza limit (see END_TAG_SLACK). */
static int held_back_is_end_tag(const stz_core *c)
{
    return !c->scan_blind && c->scan.end_tag;
}

/*
 * After a slice: whatever expat has not reported yet belongs to the open
 * stanza, or, between stanzas, to the next one (or to the stream's end tag),
 * or, before the root, to the stream header.
 * Either way it counts against the limit, so a stanza that never finishes
 * is refused as soon as it is provably too big, not when memory runs out.
 */
static void check_held_back(stz_core *c)
{
    unsigned long long max = c->opts.max_stanza_size;
    if (!max)
        return;
    long long received = c->fed + (long long)c->deferred.len;
    if (in_stanza(c)) {
        if ((unsigned long long)(received - c->stanza_start) > max)
            record_error(c, STZ_ERR_TOO_BIG, 0, 0, "XML stanza is too big",
                         c->stanza_start);
        return;
    }
    if (c->opts.element_mode)
        return;
    unsigned long long held = (unsigned long long)(received - c->last_event_end);
    if (held > outside_allowed(c, c->depth, held_back_is_end_tag(c)))
        record_error(c, STZ_ERR_TOO_BIG, 0, 0, "XML stanza is too big",
                     c->last_event_end);
}

/* piece_start: where the bytes of the failed XML_Parse call began, the
 * offset to report when expat knows no position (it failed before
 * parsing anything, out of memory: XML_GetCurrentByteIndex is then -1). */
static void record_expat_error(stz_core *c, long long piece_start)
{
    enum XML_Error code = XML_GetErrorCode(c->parser);
    stz_error_kind kind = STZ_ERR_NOT_WELL_FORMED;
    stz_restricted_kind rkind = 0;
    if (code == XML_ERROR_NO_MEMORY) {
        kind = STZ_ERR_NO_MEMORY;
    } else if (code == XML_ERROR_UNDEFINED_ENTITY) {
        /* Without a DTD every name but the five predefined is undefined. */
        kind = STZ_ERR_RESTRICTED;
        rkind = STZ_RESTRICTED_ENTITY_REF;
    }
    const char *message = XML_ErrorString(code);
    long long offset = (long long)XML_GetCurrentByteIndex(c->parser);
    record_error(c, kind, rkind, (int)code, message ? message : "error",
                 offset >= 0 ? offset : piece_start);
}

static int feed_piece(stz_core *c, const char *data, size_t len, int final)
{
    long long piece_start = c->fed;
    enum XML_Status st = XML_Parse(c->parser, data, (int)len, final);
    c->fed += (long long)len;
    if (st == XML_STATUS_ERROR) {
        if (!failed(c))
            record_expat_error(c, piece_start);
        return -1;
    }
    return 0;
}

/*
 * Shows token_scan the received bytes [start, start + len) that it has not
 * seen. When expat has reported an event since, the unfinished part starts
 * afresh at last_event_end, which lies in bytes just fed (events end where
 * expat stopped reading); should it not, the scanner is blind and says
 * "may be complete" until the next event.
 */
static void scan_received(stz_core *c, const char *data, size_t len,
                          long long start)
{
    if (c->scan_from != c->last_event_end) {
        c->scan_from = c->last_event_end;
        c->scanned_to = c->last_event_end;
        c->scan_blind = c->scan_from < start;
        c->scan_futile = 0;
        token_scan_reset(&c->scan);
    }
    long long end = start + (long long)len;
    if (c->scan_blind || c->scanned_to >= end)
        return;
    long long from = c->scanned_to > start ? c->scanned_to : start;
    token_scan_feed(&c->scan, data + (from - start), (size_t)(end - from));
    c->scanned_to = end;
}

static int feed_expat(stz_core *c, const char *data, size_t len, int final)
{
    long long start = c->fed;
    /* expat starts again from the unfinished token it holds */
    c->expat_reads += (unsigned long long)(c->fed - c->last_event_end) + len;
    const char *p = data;
    size_t left = len;
    do {
        size_t piece = left > MAX_EXPAT_FEED ? MAX_EXPAT_FEED : left;
        int last = final && piece == left;
        if (feed_piece(c, p, piece, last))
            return -1;
        p += piece;
        left -= piece;
    } while (left > 0);
    scan_received(c, data, len, start);
    if (!final)
        check_held_back(c);
    return failed(c) ? -1 : 0;
}

/*
 * The scanner follows bytes from the last event on, but before the root
 * expat also consumes tokens it reports no event for (a DOCTYPE's parts,
 * blanks), so there the scanner can follow the wrong token and say "may
 * be complete" on every feed: quadratic again. A re-read on its word that
 * brings no event marks it futile; until the next event only the waiting
 * bytes decide (deferred >= held, linear). In content every complete
 * token is an event, so a stanza is not held back by this.
 */
static int worth_rereading(const stz_core *c, unsigned long long held)
{
    if (c->deferred.len >= held)
        return 1;
    return !c->scan_futile &&
           (c->scan_blind || token_scan_may_be_complete(&c->scan));
}

/*
 * expat honours a UTF-16 byte order mark, or a NUL, in the first two
 * bytes of a stream even when created for UTF-8, and then decodes the
 * whole stream as UTF-16. XMPP is UTF-8 only (RFC 6120 section 11.6), and
 * what the core measures (the limits, token_scan) is UTF-8 bytes:
 * "\0<aaa..." went unrefused and was re-read on every feed. 0xFE and 0xFF
 * never occur in UTF-8 and a NUL never in XML: refuse them there as expat
 * refuses them anywhere else, with its invalid-token error, at once.
 */
static int refuse_utf16(stz_core *c, const char *data, size_t len)
{
    while (c->head_len < 2 && len > 0) {
        unsigned char b = (unsigned char)*data++;
        len--;
        c->head[c->head_len++] = b;
        if (b == 0 || (c->head_len == 1 && (b == 0xFE || b == 0xFF))) {
            record_error(c, STZ_ERR_NOT_WELL_FORMED, 0,
                         XML_ERROR_INVALID_TOKEN,
                         XML_ErrorString(XML_ERROR_INVALID_TOKEN),
                         c->head_len - 1);
            return 1;
        }
    }
    return 0;
}

int stz_core_feed(stz_core *c, const char *data, size_t len, int final)
{
    if (failed(c))
        return -1;
    if (c->head_len < 2 && refuse_utf16(c, data, len))
        return -1;
    if (len == 0 && !final) /* nothing for expat to do */
        return 0;
    if (ensure_parser(c)) {
        record_error(c, STZ_ERR_NO_MEMORY, 0, 0, "out of memory", c->fed);
        return -1;
    }
    unsigned long long held = (unsigned long long)(c->fed - c->last_event_end);
    /* An empty final feed with nothing deferred goes straight to expat
     * too: the deferred buffer may not be allocated, and NULL + 0 is
     * undefined behaviour. */
    if (c->deferred.len == 0 && (held < DEFER_MIN || len == 0))
        return feed_expat(c, data, len, final);

    long long start = c->fed + (long long)c->deferred.len;
    if (buf_append(c, &c->deferred, data, len)) {
        record_error(c, STZ_ERR_NO_MEMORY, 0, 0, "out of memory", c->fed);
        return -1;
    }
    scan_received(c, data, len, start);
    if (!final && !worth_rereading(c, held)) {
        check_held_back(c);
        return failed(c) ? -1 : 0;
    }
    /* Emptied first: check_held_back counts deferred bytes as received
     * on top of those fed, so while expat reads them they are fed, not
     * deferred (else counted twice: a false "too big"). Nothing appends
     * to the buffer during the call, so its bytes stay put. */
    size_t n = c->deferred.len;
    int on_scanner_word = !final && n < held;
    long long last_event = c->last_event_end;
    c->deferred.len = 0;
    int rc = feed_expat(c, c->deferred.data, n, final);
    if (on_scanner_word && c->last_event_end == last_event)
        c->scan_futile = 1;
    if (c->deferred.cap > 4 * DEFER_MIN) /* do not keep a big buffer idle */
        buf_free(c, &c->deferred);
    return rc;
}

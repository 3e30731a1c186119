/*
 * drv_builder: xml_core events to ErlDrvTermData specs. See drv_builder.h.
 */
#include "drv_builder.h"

#include "grow.h"

#include <limits.h>
#include <string.h>

/* ATOM stanza_port, PORT Port, ATOM Status: the first three elements of
 * every message tuple, always at the front of the array. */
#define HEADER_WORDS 6
/* Room always kept past the end: NIL, LIST n, TUPLE 4 close a message;
 * ATOM, UINT n, TUPLE 2 are a drop marker written on a discard, which
 * cannot fail for want of memory. */
#define SPARE_WORDS 8
/* A buffer this big is kept between stanzas; one a huge stanza needed is
 * given back once it is sent, so a long stream does not hold its peak. */
#define SPEC_KEEP_WORDS 1024
#define SPEC_FIRST_WORDS 256
/* An open stanza with more words than this goes out as a fragment: about
 * half a millisecond of term building (measured: a 10 MB roster is about
 * 6.5M words and 40 ms to build). */
#define FRAGMENT_WORDS 65536

/* Words of one string: BUF2BINARY or STRING, pointer, length. */
#define STRING_WORDS 3

void drv_builder_init(drv_builder *b, const drv_atoms *atoms,
                      stz_format format, const stz_allocator *allocator)
{
    memset(b, 0, sizeof *b);
    b->atoms = atoms;
    b->format = format;
    b->allocator = allocator;
    block_arena_init(&b->arena, allocator);
}

void drv_builder_free(drv_builder *b)
{
    block_arena_free(&b->arena);
    b->allocator->free(b->spec);
    b->allocator->free(b->frames);
    b->allocator->free(b->scratch);
    const drv_atoms *atoms = b->atoms;
    stz_format format = b->format;
    const stz_allocator *allocator = b->allocator;
    drv_builder_init(b, atoms, format, allocator);
}

size_t drv_builder_pending_events(const drv_builder *b)
{
    return b->events;
}

/* Room for n more words and the spare. The message length is an int for
 * erl_drv_output_term: a spec that could pass it is refused. */
static int reserve(drv_builder *b, size_t n)
{
    if (b->len == 0)
        n += HEADER_WORDS;
    size_t need = b->len + n + SPARE_WORDS;
    if (need > (size_t)INT_MAX)
        return -1;
    if (need > b->cap) {
        ErlDrvTermData *spec = grow_array(b->spec, &b->cap, need,
                                          sizeof *spec, SPEC_FIRST_WORDS,
                                          b->allocator->realloc);
        if (!spec)
            return -1;
        b->spec = spec;
    }
    if (b->len == 0)
        b->len = HEADER_WORDS; /* filled in by the send */
    return 0;
}

static inline void put2(drv_builder *b, ErlDrvTermData op, ErlDrvTermData v)
{
    b->spec[b->len++] = op;
    b->spec[b->len++] = v;
}

/* Copies the bytes to the arena and writes their spec: a string (list of
 * bytes) for names and values in the legacy format, else a binary. */
static int put_bytes(drv_builder *b, const char *s, size_t len, int as_list)
{
    const char *kept = block_arena_copy(&b->arena, s, len);
    if (!kept)
        return -1;
    b->spec[b->len++] = as_list ? ERL_DRV_STRING : ERL_DRV_BUF2BINARY;
    b->spec[b->len++] = (ErlDrvTermData)kept;
    b->spec[b->len++] = (ErlDrvTermData)len;
    return 0;
}

static int put_name(drv_builder *b, const char *s, size_t len)
{
    return put_bytes(b, s, len, b->format == STZ_FORMAT_LEGACY);
}

/* NIL, then LIST n + 1 unless the list is empty. */
static void put_list_end(drv_builder *b, size_t n)
{
    b->spec[b->len++] = ERL_DRV_NIL;
    if (n)
        put2(b, ERL_DRV_LIST, (ErlDrvTermData)n + 1);
}

/* [{Name, Value}] with n attributes; the words were reserved. */
static int put_attrs(drv_builder *b, const stz_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (put_name(b, attrs[i].name, attrs[i].name_len) ||
            put_name(b, attrs[i].value, attrs[i].value_len))
            return -1;
        put2(b, ERL_DRV_TUPLE, 2);
    }
    put_list_end(b, n);
    return 0;
}

static size_t attrs_words(size_t n)
{
    return n * (2 * STRING_WORDS + 2) + 3;
}

/* Is the innermost open element one that went out in a fragment? Its
 * children are then items, not counted in a frame. */
static int innermost_fragmented(const drv_builder *b)
{
    return b->depth > 0 && b->depth == b->frag_depth;
}

/* ---------------------------------------------------------------------- */
/* xml_core callbacks                                                      */

static int on_stream_start(void *ctx, const char *name, size_t name_len,
                           const stz_attr *attrs, size_t n)
{
    drv_builder *b = ctx;
    if (reserve(b, 2 + STRING_WORDS + attrs_words(n) + 2))
        return -1;
    put2(b, ERL_DRV_ATOM, b->atoms->xmlstreamstart);
    if (put_name(b, name, name_len) || put_attrs(b, attrs, n))
        return -1;
    put2(b, ERL_DRV_TUPLE, 3);
    b->events++;
    return 0;
}

static int on_stream_end(void *ctx, const char *name, size_t name_len)
{
    drv_builder *b = ctx;
    if (reserve(b, 2 + STRING_WORDS + 2))
        return -1;
    put2(b, ERL_DRV_ATOM, b->atoms->xmlstreamend);
    if (put_name(b, name, name_len))
        return -1;
    put2(b, ERL_DRV_TUPLE, 2);
    b->events++;
    return 0;
}

static int on_element_start(void *ctx, const char *name, size_t name_len,
                            const stz_attr *attrs, size_t n)
{
    drv_builder *b = ctx;
    if (b->depth == b->depth_cap) {
        drv_frame *f = grow_array(b->frames, &b->depth_cap, b->depth + 1,
                                  sizeof *f, 16, b->allocator->realloc);
        if (!f)
            return -1;
        b->frames = f;
    }
    if (reserve(b, 2 + 2 + STRING_WORDS + attrs_words(n)))
        return -1;
    if (b->depth == 0) {
        b->open_start = b->len;
        b->open_mark = block_arena_mark(&b->arena);
        put2(b, ERL_DRV_ATOM, b->atoms->xmlstreamelement);
    } else if (!innermost_fragmented(b)) {
        b->frames[b->depth - 1].children++;
    }
    drv_frame *f = &b->frames[b->depth];
    f->header_start = b->len;
    put2(b, ERL_DRV_ATOM,
         b->format == STZ_FORMAT_XMLEL ? b->atoms->xmlel
                                       : b->atoms->xmlelement);
    if (put_name(b, name, name_len) || put_attrs(b, attrs, n))
        return -1;
    f->header_end = b->len;
    f->children = 0;
    b->depth++;
    return 0;
}

static int on_text(void *ctx, const char *data, size_t len)
{
    drv_builder *b = ctx;
    if (b->depth == 0 || reserve(b, 2 + STRING_WORDS + 2))
        return -1;
    if (innermost_fragmented(b))
        b->frag_items++;
    else
        b->frames[b->depth - 1].children++;
    put2(b, ERL_DRV_ATOM, b->atoms->xmlcdata);
    if (put_bytes(b, data, len, 0))
        return -1;
    put2(b, ERL_DRV_TUPLE, 2);
    return 0;
}

/* The stanza that went out in fragments is complete: its event is
 * {'$stanza_fragments', LastItems, Fragments}; the list's first word,
 * ATOM '$stanza_fragments', was written by the last fragment. */
static void finish_fragmented(drv_builder *b)
{
    put_list_end(b, b->frag_items);
    put2(b, ERL_DRV_UINT, (ErlDrvTermData)b->fragments);
    put2(b, ERL_DRV_TUPLE, 3);
    b->events++;
    b->marked = 1;
    b->frag_depth = b->frag_items = b->fragments = 0;
}

static int on_element_end(void *ctx, int stanza_done)
{
    drv_builder *b = ctx;
    if (b->depth == 0 || reserve(b, 2 + 1 + 2 + 2 + 2))
        return -1;
    size_t d = --b->depth;
    (void)stanza_done; /* depth 0 is the stanza: the two always agree */
    if (d < b->frag_depth) {
        /* Its start and earlier children went out in fragments. */
        put2(b, ERL_DRV_ATOM, b->atoms->close);
        b->frag_items++;
        b->frag_depth = d;
        if (d == 0)
            finish_fragmented(b);
        return 0;
    }
    put_list_end(b, b->frames[d].children);
    put2(b, ERL_DRV_TUPLE, 4);
    if (d == 0) {
        put2(b, ERL_DRV_TUPLE, 2); /* {xmlstreamelement, Element} */
        b->events++;
    } else if (d == b->frag_depth) {
        b->frag_items++; /* a finished child of a fragmented element */
    }
    return 0;
}

/* The open stanza is abandoned. If fragments of it went out, the owner
 * must drop them: a marker event says how many. The spare words after
 * the open stanza's start make room for it without allocating. */
static void on_discard(void *ctx)
{
    drv_builder *b = ctx;
    if (b->depth > 0)
        b->len = b->open_start;
    if (b->fragments > 0) {
        put2(b, ERL_DRV_ATOM, b->atoms->stanza_dropped);
        put2(b, ERL_DRV_UINT, (ErlDrvTermData)b->fragments);
        put2(b, ERL_DRV_TUPLE, 2);
        b->events++;
        b->marked = 1;
    }
    b->depth = 0;
    b->frag_depth = b->frag_items = b->fragments = 0;
}

stz_builder drv_builder_ops(drv_builder *b)
{
    stz_builder ops = {
        .ctx = b,
        .stream_start = on_stream_start,
        .element_start = on_element_start,
        .text = on_text,
        .element_end = on_element_end,
        .stream_end = on_stream_end,
        .discard = on_discard,
    };
    return ops;
}

/* ---------------------------------------------------------------------- */
/* Events from the driver and sending                                      */

int drv_builder_add_event(drv_builder *b, const ErlDrvTermData *words,
                          size_t n)
{
    on_discard(b); /* an event after a failure: no stanza is open */
    if (reserve(b, n))
        return -1;
    memcpy(b->spec + b->len, words, n * sizeof *words);
    b->len += n;
    b->events++;
    return 0;
}

static void put_header(const drv_builder *b, ErlDrvTermData *spec,
                       ErlDrvTermData port_id, ErlDrvTermData status)
{
    spec[0] = ERL_DRV_ATOM;
    spec[1] = b->atoms->stanza_port;
    spec[2] = ERL_DRV_PORT;
    spec[3] = port_id;
    spec[4] = ERL_DRV_ATOM;
    spec[5] = status;
}

/* A big buffer goes back once nothing needs it. */
static void shrink(drv_builder *b)
{
    if (b->cap <= SPEC_KEEP_WORDS)
        return;
    b->allocator->free(b->spec);
    b->spec = NULL;
    b->cap = 0;
    b->len = 0;
}

/* The open stanza's words moved by delta: so did its frames' headers. */
static void shift_frames(drv_builder *b, size_t from, size_t to)
{
    for (size_t i = b->frag_depth; i < b->depth; i++) {
        b->frames[i].header_start = b->frames[i].header_start - from + to;
        b->frames[i].header_end = b->frames[i].header_end - from + to;
    }
}

int drv_builder_send(drv_builder *b, ErlDrvTermData port_id, int done)
{
    const drv_atoms *a = b->atoms;
    ErlDrvTermData status = b->marked ? (done ? a->done_marked : a->more_marked)
                                      : (done ? a->done : a->more);
    if (b->events == 0) {
        ErlDrvTermData empty[HEADER_WORDS + 3];
        put_header(b, empty, port_id, status);
        empty[HEADER_WORDS] = ERL_DRV_NIL;
        empty[HEADER_WORDS + 1] = ERL_DRV_TUPLE;
        empty[HEADER_WORDS + 2] = 4;
        return erl_drv_output_term(port_id, empty, HEADER_WORDS + 3);
    }
    /* The open stanza steps aside for the trailer (reserve always leaves
     * spare words), then moves to the front: once per stanza, as no
     * finished event precedes it after that. */
    size_t open = b->depth ? b->len - b->open_start : 0;
    size_t end = b->depth ? b->open_start : b->len;
    if (open)
        memmove(b->spec + end + SPARE_WORDS, b->spec + end,
                open * sizeof *b->spec);
    put_header(b, b->spec, port_id, status);
    b->len = end;
    put_list_end(b, b->events);
    put2(b, ERL_DRV_TUPLE, 4);
    int rc = erl_drv_output_term(port_id, b->spec, (int)b->len);
    b->events = 0;
    b->marked = 0;
    if (open) {
        memmove(b->spec + HEADER_WORDS, b->spec + end + SPARE_WORDS,
                open * sizeof *b->spec);
        shift_frames(b, end, HEADER_WORDS);
        b->len = HEADER_WORDS + open;
        b->open_start = HEADER_WORDS;
        block_arena_release_before(&b->arena, b->open_mark);
    } else {
        b->len = HEADER_WORDS;
        block_arena_free(&b->arena);
        shrink(b);
    }
    return rc;
}

/* Room for n words in the scratch array. */
static int reserve_scratch(drv_builder *b, size_t n)
{
    if (n > (size_t)INT_MAX)
        return -1;
    if (n <= b->scratch_cap)
        return 0;
    ErlDrvTermData *s = grow_array(b->scratch, &b->scratch_cap, n,
                                   sizeof *s, SPEC_FIRST_WORDS,
                                   b->allocator->realloc);
    if (!s)
        return -1;
    b->scratch = s;
    return 0;
}

static ErlDrvTermData *copy_words(ErlDrvTermData *w, const ErlDrvTermData *from,
                                  size_t n)
{
    memcpy(w, from, n * sizeof *w);
    return w + n;
}

int drv_builder_wants_fragment(const drv_builder *b)
{
    return b->depth > 0 && b->len - b->open_start >= FRAGMENT_WORDS;
}

int drv_builder_fragment(drv_builder *b, ErlDrvTermData port_id)
{
    if (!drv_builder_wants_fragment(b) || b->events > 0)
        return 1;
    size_t region = b->len - b->open_start;
    size_t fresh = b->depth - b->frag_depth; /* open elements not yet sent */
    if (reserve_scratch(b, HEADER_WORDS + region + 4 * fresh + SPARE_WORDS))
        return -2;
    ErlDrvTermData *w = b->scratch;
    put_header(b, w, port_id, b->atoms->fragment);
    w += HEADER_WORDS;
    /* The region's first two words are ATOM xmlstreamelement or ATOM
     * '$stanza_fragments': not part of the items. */
    size_t items_from = b->open_start + 2;
    size_t items_to = fresh ? b->frames[b->frag_depth].header_start : b->len;
    w = copy_words(w, b->spec + items_from, items_to - items_from);
    size_t items = b->frag_items;
    for (size_t i = b->frag_depth; i < b->depth; i++) {
        const drv_frame *f = &b->frames[i];
        int inner_open = i + 1 < b->depth;
        size_t children_to = inner_open ? b->frames[i + 1].header_start
                                        : b->len;
        *w++ = ERL_DRV_ATOM;
        *w++ = b->atoms->open;
        w = copy_words(w, b->spec + f->header_start,
                       f->header_end - f->header_start);
        *w++ = ERL_DRV_TUPLE;
        *w++ = 4;
        w = copy_words(w, b->spec + f->header_end,
                       children_to - f->header_end);
        /* {open, ...} and the finished children; an open child is the
         * next frame, sent as its own {open, ...}. */
        items += 1 + f->children - (inner_open ? 1 : 0);
    }
    *w++ = ERL_DRV_NIL;
    if (items) {
        *w++ = ERL_DRV_LIST;
        *w++ = (ErlDrvTermData)items + 1;
    }
    *w++ = ERL_DRV_TUPLE;
    *w++ = 4;
    int rc = erl_drv_output_term(port_id, b->scratch, (int)(w - b->scratch));
    /* Everything of the stanza so far is sent; what follows are items. */
    b->len = b->open_start;
    put2(b, ERL_DRV_ATOM, b->atoms->stanza_fragments);
    b->frag_depth = b->depth;
    b->frag_items = 0;
    b->fragments++;
    /* No event is pending (checked above), so only the last block can
     * hold bytes still needed: the ones written from now on. */
    b->open_mark = block_arena_mark(&b->arena);
    block_arena_release_before(&b->arena, b->open_mark);
    if (b->scratch_cap > SPEC_KEEP_WORDS) {
        b->allocator->free(b->scratch);
        b->scratch = NULL;
        b->scratch_cap = 0;
    }
    return rc;
}

void drv_builder_clear(drv_builder *b)
{
    b->depth = b->frag_depth = b->frag_items = b->fragments = 0;
    b->events = 0;
    b->marked = 0;
    b->len = b->spec ? HEADER_WORDS : 0;
    block_arena_free(&b->arena);
    shrink(b);
}

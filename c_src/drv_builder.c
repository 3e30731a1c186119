/*
 * drv_builder: xml_core events to ErlDrvTermData specs. See drv_builder.h.
 */
#include "drv_builder.h"

#include "grow.h"

#include <limits.h>
#include <string.h>

/* ATOM stanza_port, PORT Port, ATOM more|done: the first three elements
 * of the message tuple, always at the front of the array. */
#define HEADER_WORDS 6
/* NIL, LIST n, TUPLE 4: what closes the message after the events. */
#define TRAILER_WORDS 5
/* A buffer this big is kept between stanzas; one a huge stanza needed is
 * given back once it is sent, so a long stream does not hold its peak. */
#define SPEC_KEEP_WORDS 1024
#define SPEC_FIRST_WORDS 256

/* Words of one string: BUF2BINARY or STRING, pointer, length. */
#define STRING_WORDS 3

void drv_builder_init(drv_builder *b, const drv_atoms *atoms,
                      drv_format format, const stz_allocator *allocator)
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
    b->allocator->free(b->children);
    b->spec = NULL;
    b->children = NULL;
    b->len = b->cap = b->events = b->depth = b->depth_cap = 0;
}

size_t drv_builder_pending_events(const drv_builder *b)
{
    return b->events;
}

/* Room for n more words. The message length is an int for
 * erl_drv_output_term: a spec that could pass it is refused. */
static int reserve(drv_builder *b, size_t n)
{
    if (b->len == 0)
        n += HEADER_WORDS;
    size_t need = b->len + n + TRAILER_WORDS;
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
    return put_bytes(b, s, len, b->format == DRV_FORMAT_LEGACY);
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
    b->spec[b->len++] = ERL_DRV_NIL;
    if (n)
        put2(b, ERL_DRV_LIST, (ErlDrvTermData)n + 1);
    return 0;
}

static size_t attrs_words(size_t n)
{
    return n * (2 * STRING_WORDS + 2) + 3;
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
        size_t *c = grow_array(b->children, &b->depth_cap, b->depth + 1,
                               sizeof *c, 16, b->allocator->realloc);
        if (!c)
            return -1;
        b->children = c;
    }
    if (reserve(b, 2 + 2 + STRING_WORDS + attrs_words(n)))
        return -1;
    if (b->depth == 0) {
        b->open_start = b->len;
        b->open_mark = block_arena_mark(&b->arena);
        put2(b, ERL_DRV_ATOM, b->atoms->xmlstreamelement);
    } else {
        b->children[b->depth - 1]++;
    }
    put2(b, ERL_DRV_ATOM,
         b->format == DRV_FORMAT_XMLEL ? b->atoms->xmlel
                                       : b->atoms->xmlelement);
    if (put_name(b, name, name_len) || put_attrs(b, attrs, n))
        return -1;
    b->children[b->depth++] = 0;
    return 0;
}

static int on_text(void *ctx, const char *data, size_t len)
{
    drv_builder *b = ctx;
    if (b->depth == 0 || reserve(b, 2 + STRING_WORDS + 2))
        return -1;
    b->children[b->depth - 1]++;
    put2(b, ERL_DRV_ATOM, b->atoms->xmlcdata);
    if (put_bytes(b, data, len, 0))
        return -1;
    put2(b, ERL_DRV_TUPLE, 2);
    return 0;
}

static int on_element_end(void *ctx, int stanza_done)
{
    drv_builder *b = ctx;
    if (b->depth == 0 || reserve(b, 1 + 2 + 2 + 2))
        return -1;
    size_t children = b->children[--b->depth];
    b->spec[b->len++] = ERL_DRV_NIL;
    if (children)
        put2(b, ERL_DRV_LIST, (ErlDrvTermData)children + 1);
    put2(b, ERL_DRV_TUPLE, 4);
    if (b->depth == 0) {
        put2(b, ERL_DRV_TUPLE, 2); /* {xmlstreamelement, Element} */
        b->events++;
    }
    (void)stanza_done; /* depth 0 is the stanza: the two always agree */
    return 0;
}

static void on_discard(void *ctx)
{
    drv_builder *b = ctx;
    if (b->depth > 0)
        b->len = b->open_start;
    b->depth = 0;
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
                       ErlDrvTermData port_id, int done)
{
    spec[0] = ERL_DRV_ATOM;
    spec[1] = b->atoms->stanza_port;
    spec[2] = ERL_DRV_PORT;
    spec[3] = port_id;
    spec[4] = ERL_DRV_ATOM;
    spec[5] = done ? b->atoms->done : b->atoms->more;
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

int drv_builder_send(drv_builder *b, ErlDrvTermData port_id, int done)
{
    if (b->events == 0) {
        ErlDrvTermData empty[HEADER_WORDS + 3];
        put_header(b, empty, port_id, done);
        empty[HEADER_WORDS] = ERL_DRV_NIL;
        empty[HEADER_WORDS + 1] = ERL_DRV_TUPLE;
        empty[HEADER_WORDS + 2] = 4;
        return erl_drv_output_term(port_id, empty, HEADER_WORDS + 3);
    }
    /* The open stanza steps aside for the trailer (reserve always leaves
     * TRAILER_WORDS spare), then moves to the front: once per stanza, as
     * no finished event precedes it after that. */
    size_t open = b->depth ? b->len - b->open_start : 0;
    size_t end = b->depth ? b->open_start : b->len;
    if (open)
        memmove(b->spec + end + TRAILER_WORDS, b->spec + end,
                open * sizeof *b->spec);
    put_header(b, b->spec, port_id, done);
    ErlDrvTermData *t = b->spec + end;
    t[0] = ERL_DRV_NIL;
    t[1] = ERL_DRV_LIST;
    t[2] = (ErlDrvTermData)b->events + 1;
    t[3] = ERL_DRV_TUPLE;
    t[4] = 4;
    int rc = erl_drv_output_term(port_id, b->spec, (int)(end + TRAILER_WORDS));
    b->events = 0;
    if (open) {
        memmove(b->spec + HEADER_WORDS, b->spec + end + TRAILER_WORDS,
                open * sizeof *b->spec);
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

void drv_builder_clear(drv_builder *b)
{
    on_discard(b);
    b->events = 0;
    b->len = b->spec ? HEADER_WORDS : 0;
    block_arena_free(&b->arena);
    shrink(b);
}

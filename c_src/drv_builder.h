/*
 * drv_builder: the xml_core builder of the port driver.
 *
 * It writes each event as a postfix ErlDrvTermData spec (the format
 * erl_drv_output_term takes) into one array, so whole stanzas are built in
 * C and reach the owner as terms: no binary_to_term, no tree building in
 * Erlang as ejabberd 2.x's expat_erl needed. Names and text are copied
 * into a block arena whose bytes never move, because a spec points at its
 * bytes and is read only when the message is sent.
 *
 * The owner gets one message per send:
 *     {stanza_port, Port, more | done, [Event]}
 * with the events finished since the last send, in document order. A
 * stanza still open at a send stays behind and is finished later; its
 * words move to the front of the array at most once, so the work stays
 * linear however a big stanza is chunked.
 */
#ifndef STANZA_DRV_BUILDER_H
#define STANZA_DRV_BUILDER_H

#include <erl_driver.h>

#include "block_arena.h"
#include "xml_core.h"

typedef enum drv_format {
    DRV_FORMAT_BINARY = 0, /* {xmlelement, <<Name>>, ...}       */
    DRV_FORMAT_LEGACY = 1, /* ejabberd 2.x: strings, binary text  */
    DRV_FORMAT_XMLEL = 2   /* {xmlel, <<Name>>, ...}              */
} drv_format;

typedef struct drv_atoms {
    ErlDrvTermData xmlelement, xmlel, xmlcdata;
    ErlDrvTermData xmlstreamstart, xmlstreamelement, xmlstreamend,
        xmlstreamerror;
    ErlDrvTermData stanza_port, more, done;
} drv_atoms;

typedef struct drv_builder {
    const drv_atoms *atoms;
    drv_format format;
    const stz_allocator *allocator;
    block_arena arena;

    /* The message header, the finished events, then the open stanza. */
    ErlDrvTermData *spec;
    size_t len;
    size_t cap;
    size_t events;       /* finished events in spec                  */
    size_t open_start;   /* first word of the open stanza, if depth   */
    arena_mark open_mark;

    size_t *children; /* finished children of each open element */
    size_t depth;
    size_t depth_cap;
} drv_builder;

void drv_builder_init(drv_builder *b, const drv_atoms *atoms,
                      drv_format format, const stz_allocator *allocator);

/* The xml_core callbacks over this builder. */
stz_builder drv_builder_ops(drv_builder *b);

/* Appends a finished event given as n spec words; any pointer in them
 * must stay valid until the next send. 0, or -1 when out of memory. */
int drv_builder_add_event(drv_builder *b, const ErlDrvTermData *words,
                          size_t n);

size_t drv_builder_pending_events(const drv_builder *b);

/*
 * Sends the finished events to the port's owner, tagged more or done
 * (done: the parse call is complete). Returns erl_drv_output_term's
 * result: > 0 sent, 0 the owner is gone, < 0 a bad spec.
 */
int drv_builder_send(drv_builder *b, ErlDrvTermData port_id, int done);

/* Drops every event and the open stanza. */
void drv_builder_clear(drv_builder *b);

void drv_builder_free(drv_builder *b);

#endif

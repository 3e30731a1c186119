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
 *     {stanza_port, Port, Status, [Event]}
 * with the events finished since the last send, in document order; Status
 * is more or done (the parse call is complete), or more_marked or
 * done_marked when the list holds the markers described below. A stanza
 * still open at a send stays behind and is finished later; its words move
 * to the front of the array at most once, so the work stays linear however
 * a big stanza is chunked.
 *
 * Fragments. Building a stanza's term costs time in proportion to its
 * size, all at once when it is sent: about 4 ms per MB, too long for one
 * scheduler slot. So an open stanza whose spec passes FRAGMENT_WORDS is
 * sent in pieces, as messages
 *     {stanza_port, Port, fragment, [Item]}
 * where an Item is {open, Tag, Name, Attrs} (an element starts), a
 * finished child of the innermost open element, or close (it ends). The
 * events list then carries {'$stanza_fragments', LastItems, N} in place
 * of {xmlstreamelement, Element}: stanza_port assembles the element from
 * the N fragment messages and the last items. The subtrees come built from
 * C; Erlang only puts the outer elements' children lists together. When
 * such a stanza is abandoned (an error, a reset), the events list carries
 * {'$stanza_dropped', N} so that the N fragments are discarded.
 */
#ifndef STANZA_DRV_BUILDER_H
#define STANZA_DRV_BUILDER_H

#include <erl_driver.h>

#include "block_arena.h"
#include "stanza_contract.h"
#include "xml_core.h"

typedef struct drv_atoms {
    ErlDrvTermData xmlelement, xmlel, xmlcdata;
    ErlDrvTermData xmlstreamstart, xmlstreamelement, xmlstreamend,
        xmlstreamerror;
    ErlDrvTermData stanza_port, more, done, more_marked, done_marked;
    ErlDrvTermData fragment, open, close, stanza_fragments, stanza_dropped;
} drv_atoms;

/* An open element whose header (tag, name, attributes) is in the spec. */
typedef struct drv_frame {
    size_t header_start; /* its ATOM tag word      */
    size_t header_end;   /* the word after its attributes */
    size_t children;     /* children started so far */
} drv_frame;

typedef struct drv_builder {
    const drv_atoms *atoms;
    stz_format format;
    const stz_allocator *allocator;
    block_arena arena;

    /* The message header, the finished events, then the open stanza. */
    ErlDrvTermData *spec;
    size_t len;
    size_t cap;
    size_t events;     /* finished events in spec                  */
    int marked;        /* one of them is a fragments or drop marker */
    size_t open_start; /* first word of the open stanza, if depth   */
    arena_mark open_mark;

    drv_frame *frames; /* the open elements of the stanza, outermost first */
    size_t depth;
    size_t depth_cap;

    /* A stanza sent in fragments: its outer frag_depth elements went out
     * already; what follows them is a list of items (see above). */
    size_t frag_depth;
    size_t frag_items; /* items in the spec since the last fragment */
    size_t fragments;  /* fragment messages sent for this stanza    */

    ErlDrvTermData *scratch; /* where a fragment message is put together */
    size_t scratch_cap;
} drv_builder;

void drv_builder_init(drv_builder *b, const drv_atoms *atoms,
                      stz_format format, const stz_allocator *allocator);

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

/* Has the open stanza grown past FRAGMENT_WORDS? */
int drv_builder_wants_fragment(const drv_builder *b);

/*
 * Sends the open stanza's parts as a fragment message when it has grown
 * past FRAGMENT_WORDS, so that no single message is long to build. Only
 * when no finished event is pending (send them first): the owner must get
 * a stanza's fragments after the events before it. Returns as
 * drv_builder_send does, or 1 when there was nothing to send; -2 when out
 * of memory (the stanza then goes out whole when it ends).
 */
int drv_builder_fragment(drv_builder *b, ErlDrvTermData port_id);

/* Drops every event and the open stanza. */
void drv_builder_clear(drv_builder *b);

void drv_builder_free(drv_builder *b);

#endif

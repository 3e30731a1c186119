/*
 * nif_builder: the xml_core builder that makes Erlang terms with enif_make_*.
 *
 * A stanza is built in the calling process' environment while it fits in
 * one call (no copy at all). If a call ends with a stanza still open, the
 * half-built stanza moves once into a process-independent environment owned
 * by the parser and is finished there, then copied out once when it ends:
 * a 10 MB stanza fed in 1 KB chunks is never copied again per chunk.
 * Push mode builds the same way; enif_send copies a stanza built on the
 * caller's heap (cheaper than building in a process-independent
 * environment, measured) and moves one finished in that environment.
 */
#ifndef STANZA_NIF_BUILDER_H
#define STANZA_NIF_BUILDER_H

#include <erl_nif.h>

#include "term_cache.h"
#include "xml_core.h"

typedef enum nif_format {
    NIF_FORMAT_BINARY = 0, /* {xmlelement, <<Name>>, ...}       */
    NIF_FORMAT_LEGACY = 1, /* ejabberd 2.x: strings, binary text  */
    NIF_FORMAT_XMLEL = 2   /* {xmlel, <<Name>>, ...}              */
} nif_format;

typedef struct nif_atoms {
    ERL_NIF_TERM xmlelement, xmlel, xmlcdata;
    ERL_NIF_TERM xmlstreamstart, xmlstreamelement, xmlstreamend,
        xmlstreamerror, xmlstreamcdata;
    ERL_NIF_TERM gen_event;
} nif_atoms;

typedef struct nif_frame {
    ERL_NIF_TERM name;
    ERL_NIF_TERM attrs;
    ERL_NIF_TERM earlier; /* children folded at a yield, newest first */
    size_t first_child;   /* its later children in nif_builder.children */
} nif_frame;

typedef struct nif_builder {
    const nif_atoms *atoms;
    nif_format format;
    int push;
    ErlNifPid callback;

    ErlNifEnv *env;       /* the caller's, during a call; NULL otherwise */
    ErlNifEnv *build_env; /* where the open stanza lives                */
    ErlNifEnv *keep_env;  /* process independent, created on demand     */
    ERL_NIF_TERM events;  /* pull mode: newest first, in env            */
    term_cache *cache;    /* during a call; see term_cache.h            */

    nif_frame *frames; /* the open elements of the stanza, outermost first */
    size_t depth;
    size_t cap;
    /* The finished children of every open element, in document order:
     * a list is made once per element, when it ends, with no reversal. */
    ERL_NIF_TERM *children;
    size_t child_count;
    size_t child_cap;
} nif_builder;

void nif_builder_init(nif_builder *b, const nif_atoms *atoms,
                      nif_format format, const ErlNifPid *callback);

/*
 * Brackets the work of one NIF invocation. events is the list gathered so
 * far (newest first) and open the term nif_builder_yield returned (or []),
 * both passed through enif_schedule_nif between slices: terms on the
 * process heap survive a yield only if the next invocation receives them.
 */
void nif_builder_begin(nif_builder *b, ErlNifEnv *env, ERL_NIF_TERM events,
                       ERL_NIF_TERM open, term_cache *cache);
/* The call returns to Erlang: returns the events (newest first). */
ERL_NIF_TERM nif_builder_end(nif_builder *b);
/* The call yields: returns the events; *open gets the open stanza. */
ERL_NIF_TERM nif_builder_yield(nif_builder *b, ERL_NIF_TERM *open);

/* Delivers an event built in the caller's environment (b->env). */
int nif_builder_emit(nif_builder *b, ERL_NIF_TERM event);

/* The xml_core callbacks over this builder. */
stz_builder nif_builder_ops(nif_builder *b);

void nif_builder_free(nif_builder *b);

#endif

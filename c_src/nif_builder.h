/*
 * nif_builder: the xml_core builder that makes Erlang terms with enif_make_*.
 *
 * Terms are always built in the calling process' environment: on its heap,
 * the fastest place. A stanza that ends in the invocation that began it
 * is never copied. When an invocation yields or returns with a stanza
 * still open, what it built of that stanza is copied, in one batch, into
 * a process-independent environment owned by the parser (keep_env); the
 * invocation's terms on the caller's heap are then garbage, so no garbage
 * collection between two slices ever copies a growing stanza again (that
 * made pull mode superlinear in the stanza's size). One batch is one heap
 * fragment: a 10 MB stanza lives in a few hundred fragments, not the tens
 * of thousands that building term by term in keep_env made, and ERTS walks
 * that chain when the message that carries it is received (measured: 2.5
 * to 5 ms with term-by-term building, 1 us with one fragment).
 *
 * A stanza finished in keep_env reaches the caller without a copy when it
 * is big: enif_send moves the environment's memory into a message. Push
 * mode sends it to the callback. Pull mode sends it to the caller itself
 * as {'$stanza_moved', Event} and puts the atom '$stanza_moved' in its
 * place in the event list; stanza_stream takes the message from the
 * mailbox (see nif_builder_moved). A small stanza that spanned two calls
 * is copied out instead: a copy of a few KB costs less than a message.
 *
 * What still holds a scheduler: the list of an element's children is made
 * in one step when the element ends (enif_make_list_from_array): about
 * 0.5 ms for 640,000 children in warm memory, about 5 ms in fresh pages
 * (measured, bench/perf_issue15.escript holds). Slicing it would need the
 * core to suspend expat inside an end-tag callback.
 */
#ifndef STANZA_NIF_BUILDER_H
#define STANZA_NIF_BUILDER_H

#include <erl_nif.h>

#include "env_reaper.h"
#include "term_cache.h"
#include "stanza_contract.h"
#include "xml_core.h"

typedef struct nif_atoms {
    ERL_NIF_TERM xmlelement, xmlel, xmlcdata;
    ERL_NIF_TERM xmlstreamstart, xmlstreamelement, xmlstreamend,
        xmlstreamerror, xmlstreamcdata;
    ERL_NIF_TERM gen_event;
    ERL_NIF_TERM stanza_moved; /* '$stanza_moved' */
} nif_atoms;

/* A stanza finished in keep_env whose input was at least this many bytes
 * is moved to the caller by a message rather than copied: a copy of its
 * terms would hold the scheduler for long. */
#define NIF_MOVE_BYTES 32768
/* A keep environment dropped with a half-built stanza of at least this
 * many bytes is freed by the reaper thread (env_reaper.h). */
#define NIF_REAP_BYTES 65536

typedef struct nif_frame {
    ERL_NIF_TERM name;
    ERL_NIF_TERM attrs;
    size_t first_child; /* its children in nif_builder.children */
} nif_frame;

typedef struct nif_builder {
    const nif_atoms *atoms;
    stz_format format;
    int push;
    ErlNifPid callback;
    env_reaper *reaper; /* may be NULL: big frees then happen in place */

    ErlNifEnv *env;       /* the caller's, during a call; NULL otherwise */
    ErlNifEnv *keep_env;  /* process independent, created on demand     */
    ERL_NIF_TERM events;  /* pull mode: newest first, in env            */
    term_cache *cache;    /* during a call; see term_cache.h            */
    int moved;            /* pull mode: this call sent a stanza to self  */
    size_t stanza_bytes;  /* names, values and text of the open stanza  */

    nif_frame *frames; /* the open elements of the stanza, outermost first */
    size_t depth;
    size_t cap;
    /* The finished children of every open element, in document order:
     * a list is made once per element, when it ends, with no reversal. */
    ERL_NIF_TERM *children;
    size_t child_count;
    size_t child_cap;
    /* frames[0, kept_depth) and children[0, kept_children) live in
     * keep_env (made by earlier invocations); the rest in env. */
    size_t kept_depth;
    size_t kept_children;
    ERL_NIF_TERM *batch; /* scratch for the copies into keep_env */
    size_t batch_cap;
    int lost; /* a half-built stanza was dropped: fail until discard */
} nif_builder;

void nif_builder_init(nif_builder *b, const nif_atoms *atoms,
                      stz_format format, const ErlNifPid *callback,
                      env_reaper *reaper);

/*
 * Brackets the work of one NIF invocation. events is the list gathered so
 * far (newest first), passed through enif_schedule_nif between slices:
 * terms on the process heap survive a yield only if the next invocation
 * receives them. moved says whether an earlier slice of the same call
 * sent a stanza to self.
 */
void nif_builder_begin(nif_builder *b, ErlNifEnv *env, ERL_NIF_TERM events,
                       int moved, term_cache *cache);
/* The call returns to Erlang or yields: returns the events (newest
 * first); an open stanza moves to keep_env. */
ERL_NIF_TERM nif_builder_end(nif_builder *b);
/* Non-zero when an event of this call was sent to the caller itself
 * (pull mode): the caller must take each '$stanza_moved' from its
 * mailbox. */
int nif_builder_moved(const nif_builder *b);

/* Delivers an event built in the caller's environment (b->env). */
int nif_builder_emit(nif_builder *b, ERL_NIF_TERM event);

/* The xml_core callbacks over this builder. */
stz_builder nif_builder_ops(nif_builder *b);

void nif_builder_free(nif_builder *b);

#endif

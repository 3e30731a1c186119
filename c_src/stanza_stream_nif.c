/*
 * stanza_stream_nif: the streaming parser as a NIF (module stanza_stream_nif,
 * wrapped by stanza_stream.erl).
 *
 * A parser is a resource owned by one process: only the owner may use it
 * (others get {error, not_owner}), and a mutex guards the state so that a
 * foreign caller, the owner and the garbage collector never race.
 *
 * Scheduling. Input is fed to the core in slices; after each slice the NIF
 * reports the time used with enif_consume_timeslice and, when the slice of
 * the scheduler is spent (or about 1 ms has passed), it reschedules itself
 * with enif_schedule_nif, carrying the offset and the events so far. So a
 * 10 MB chunk is parsed in many short steps, as jiffy does for JSON.
 */
#include <erl_nif.h>
#include <stdatomic.h>
#include <string.h>

#include "nif_alloc.h"
#include "nif_builder.h"
#include "stanza_contract.h"
#include "time_budget.h"
#include "xml_core.h"

/* Bytes per core feed: small enough that one slice stays far below the
 * time budget, large enough that the per-slice overhead does not show. */
#define SLICE_BYTES 8192
/* Wall-clock budget of one invocation before it yields: well under the
 * 1 ms a NIF may hold a scheduler, because a yield with a stanza still
 * open then copies what the invocation built into the parser's
 * environment (nif_builder.h; measured 0.1-0.25 ms per 1 ms of building),
 * and the garbage collection between two invocations takes its share too.
 * Measured (CPU time per schedule, bench/perf_issue15.escript holds):
 * with 1 ms, schedules of 1.2-2.3 ms; with 0.5 ms, 1.2-1.5 ms; with
 * 0.3 ms, under 1 ms but for the end of a huge element (nif_builder.h). */
#define BUDGET_NS 300000LL

typedef struct module_state {
    ErlNifResourceType *parser_type;
    atomic_long live_parsers;
    int refs; /* loads sharing it: an upgrade keeps the old one */
    env_reaper *reaper; /* frees big environments off the schedulers */
} module_state;

typedef struct parser_res {
    ErlNifMutex *lock;
    module_state *module;
    int closed;
    ErlNifPid owner;
    stz_format format;
    stz_core *core;
    nif_builder builder;
} parser_res;

static nif_atoms atoms;
static ERL_NIF_TERM atom_ok, atom_moved, atom_error, atom_closed, atom_not_owner,
    atom_undefined, atom_out_of_memory;
/* The names of stanza_contract.h as atoms. */
static ERL_NIF_TERM reason_atoms[STZ_ERROR_KINDS];
static ERL_NIF_TERM restricted_atoms[STZ_RESTRICTED_KINDS];
static ERL_NIF_TERM not_well_formed_keys[STZ_NOT_WELL_FORMED_KEYS];

/* ---------------------------------------------------------------------- */
/* Error reasons                                                           */

static ERL_NIF_TERM make_text(ErlNifEnv *env, const char *s, int as_string)
{
    size_t len = strlen(s);
    if (as_string)
        return enif_make_string_len(env, s, len, ERL_NIF_LATIN1);
    ERL_NIF_TERM bin;
    unsigned char *p = enif_make_new_binary(env, len, &bin);
    if (p)
        memcpy(p, s, len);
    return p ? bin : enif_make_list(env, 0);
}

/* {xmlstreamerror, Reason}'s Reason, as stanza_contract.h says. */
static ERL_NIF_TERM error_reason(ErlNifEnv *env, stz_format format,
                                 const stz_error *e)
{
    switch (stz_reason_shape_of(format, e)) {
    case STZ_REASON_LEGACY_TOO_BIG:
        return make_text(env, STZ_LEGACY_TOO_BIG, 1);
    case STZ_REASON_LEGACY_CODE:
        return enif_make_tuple2(env, enif_make_int(env, stz_legacy_code(e)),
                                make_text(env, e->message, 1));
    case STZ_REASON_ATOM:
        return reason_atoms[e->kind];
    case STZ_REASON_RESTRICTED:
        return enif_make_tuple2(env, reason_atoms[STZ_ERR_RESTRICTED],
                                restricted_atoms[e->restricted]);
    case STZ_REASON_NOT_WELL_FORMED:
        break;
    }
    ERL_NIF_TERM values[STZ_NOT_WELL_FORMED_KEYS] = {
        enif_make_int(env, e->code),
        make_text(env, e->message, 0),
        enif_make_uint64(env, e->line),
        enif_make_uint64(env, e->column),
        enif_make_int64(env, e->offset),
    };
    ERL_NIF_TERM map;
    if (!enif_make_map_from_arrays(env, not_well_formed_keys, values,
                                   STZ_NOT_WELL_FORMED_KEYS, &map))
        map = enif_make_new_map(env);
    return enif_make_tuple2(env, reason_atoms[STZ_ERR_NOT_WELL_FORMED], map);
}

static void emit_error(nif_builder *b, stz_format format, const stz_core *core)
{
    ErlNifEnv *env = b->env;
    ERL_NIF_TERM reason = error_reason(env, format, stz_core_error(core));
    nif_builder_emit(b, enif_make_tuple2(env, atoms.xmlstreamerror, reason));
}

/* Feeds the core; a failure becomes the last event of the call. */
static int feed(nif_builder *b, stz_format format, stz_core *core,
                const unsigned char *data, size_t len, int final)
{
    int rc = stz_core_feed(core, (const char *)data, len, final);
    if (rc)
        emit_error(b, format, core);
    return rc;
}

/* ---------------------------------------------------------------------- */
/* Resource                                                                */

static void parser_free_state(parser_res *p)
{
    stz_core_free(p->core);
    p->core = NULL;
    nif_builder_free(&p->builder);
}

static void parser_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    parser_res *p = obj;
    if (!p->closed)
        parser_free_state(p);
    if (p->lock)
        enif_mutex_destroy(p->lock);
    atomic_fetch_sub(&p->module->live_parsers, 1);
}

typedef enum access {
    ACCESS_BADARG, /* not a parser */
    ACCESS_CLOSED,
    ACCESS_NOT_OWNER,
    ACCESS_GRANTED /* *out is locked: unlock it when done */
} access;

/* Finds the parser behind term and checks the caller may use it. */
static access acquire(ErlNifEnv *env, ERL_NIF_TERM term, parser_res **out)
{
    module_state *m = enif_priv_data(env);
    parser_res *p;
    if (!enif_get_resource(env, term, m->parser_type, (void **)&p))
        return ACCESS_BADARG;
    enif_mutex_lock(p->lock);
    ErlNifPid self;
    access result = ACCESS_GRANTED;
    if (p->closed)
        result = ACCESS_CLOSED;
    else if (!enif_self(env, &self) || enif_compare_pids(&self, &p->owner))
        result = ACCESS_NOT_OWNER;
    if (result != ACCESS_GRANTED) {
        enif_mutex_unlock(p->lock);
        return result;
    }
    *out = p;
    return ACCESS_GRANTED;
}

/* The reply to a refused call: badarg, {error, closed} or
 * {error, not_owner}. */
static ERL_NIF_TERM refusal(ErlNifEnv *env, access a)
{
    if (a == ACCESS_BADARG)
        return enif_make_badarg(env);
    return enif_make_tuple2(env, atom_error,
                            a == ACCESS_CLOSED ? atom_closed : atom_not_owner);
}

/* Format, MaxStanzaSize, MaxDepth, Flags from argv[0..3]. Flags: bit 0
 * drops comments and PIs, bit 1 keeps expat's text pieces (element mode,
 * for ejabberd 2.x's parse_element). */
static int get_options(ErlNifEnv *env, const ERL_NIF_TERM argv[],
                       stz_format *format, stz_options *opts)
{
    unsigned fmt, drop;
    ErlNifUInt64 max_size;
    unsigned long max_depth;
    if (!enif_get_uint(env, argv[0], &fmt) || !stz_format_valid(fmt) ||
        !enif_get_uint64(env, argv[1], &max_size) ||
        !enif_get_ulong(env, argv[2], &max_depth) || max_depth == 0 ||
        !enif_get_uint(env, argv[3], &drop) || drop > 3)
        return 0;
    *format = (stz_format)fmt;
    memset(opts, 0, sizeof *opts);
    opts->max_stanza_size = max_size;
    opts->max_depth = max_depth;
    opts->restricted = drop & 1 ? STZ_RESTRICTED_DROP : STZ_RESTRICTED_REJECT;
    opts->text_pieces = (drop & 2) != 0;
    return 1;
}

/* Bits of new_parser's Flags: the stz_options a stream may add. */
#define FLAG_STREAM_TEXT 1
#define FLAG_KEEP_DEFAULT_UNDECLARATION 2

/* new_parser(Format, MaxStanzaSize, MaxDepth, Drop, ElementMode, Callback,
 *            Flags) */
static ERL_NIF_TERM new_parser_nif(ErlNifEnv *env, int argc,
                                   const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    stz_format format;
    stz_options opts;
    unsigned element_mode, flags;
    ErlNifPid callback;
    int push = 0;
    if (!get_options(env, argv, &format, &opts) ||
        !enif_get_uint(env, argv[4], &element_mode) || element_mode > 1 ||
        !enif_get_uint(env, argv[6], &flags) || flags > 3)
        return enif_make_badarg(env);
    opts.element_mode = (int)element_mode;
    opts.stream_text = (flags & FLAG_STREAM_TEXT) != 0;
    opts.keep_default_undeclaration =
        (flags & FLAG_KEEP_DEFAULT_UNDECLARATION) != 0;
    if (enif_get_local_pid(env, argv[5], &callback))
        push = 1;
    else if (enif_compare(argv[5], atom_undefined) != 0)
        return enif_make_badarg(env);

    parser_res *p = enif_alloc_resource(m->parser_type, sizeof *p);
    if (!p)
        return enif_raise_exception(env, atom_out_of_memory);
    memset(p, 0, sizeof *p);
    p->module = m;
    atomic_fetch_add(&m->live_parsers, 1);
    p->format = format;
    enif_self(env, &p->owner);
    p->lock = enif_mutex_create("stanza_parser");
    nif_builder_init(&p->builder, &atoms, format, push ? &callback : NULL,
                     m->reaper);
    stz_builder ops = nif_builder_ops(&p->builder);
    p->core = stz_core_new(&nif_allocator, &opts, &ops);
    if (!p->lock || !p->core) {
        p->closed = !p->core; /* nothing left for the destructor to free */
        nif_builder_free(&p->builder);
        enif_release_resource(p);
        return enif_raise_exception(env, atom_out_of_memory);
    }
    ERL_NIF_TERM term = enif_make_resource(env, p);
    enif_release_resource(p);
    return term;
}

/* ---------------------------------------------------------------------- */
/* Parsing                                                                 */

static ERL_NIF_TERM parse_step(ErlNifEnv *env, int argc,
                               const ERL_NIF_TERM argv[]);

/* {ok, Events}, or {moved, Events} when some of the events were sent to
 * the caller itself (see nif_builder.h) and stanza_stream must take them
 * from its mailbox. Events are newest first: stanza_stream reverses them
 * with lists:reverse/1, which yields on a long list, where a reversal
 * here held the scheduler 2.3 ms for the 100,000 events of 10 MB of
 * small stanzas (measured). */
static ERL_NIF_TERM finish(ErlNifEnv *env, parser_res *p)
{
    ERL_NIF_TERM events = nif_builder_end(&p->builder);
    int moved = nif_builder_moved(&p->builder);
    enif_mutex_unlock(p->lock);
    return enif_make_tuple2(env, moved ? atom_moved : atom_ok, events);
}

static long long now_ns(void)
{
    return enif_monotonic_time(ERL_NIF_NSEC);
}

/* time_budget's report, ctx being the call's environment. */
static int consume_timeslice(void *env, int percent)
{
    return enif_consume_timeslice(env, percent);
}

/*
 * parse_step(Parser, Binary, Offset, Final, EventsSoFar, Moved): the body
 * of parse/2 and parse_final/2, continued through enif_schedule_nif.
 */
static ERL_NIF_TERM parse_step(ErlNifEnv *env, int argc,
                               const ERL_NIF_TERM argv[])
{
    (void)argc;
    parser_res *p;
    ErlNifBinary data;
    ErlNifUInt64 offset;
    int final, moved;
    if (!enif_inspect_binary(env, argv[1], &data) ||
        !enif_get_uint64(env, argv[2], &offset) || offset > data.size ||
        !enif_get_int(env, argv[3], &final) ||
        !enif_get_int(env, argv[5], &moved))
        return enif_make_badarg(env);
    access a = acquire(env, argv[0], &p);
    if (a != ACCESS_GRANTED)
        return refusal(env, a);

    term_cache cache;
    nif_builder_begin(&p->builder, env, argv[4], moved,
                      p->format == STZ_FORMAT_LEGACY ? &cache : NULL);
    if (stz_core_error(p->core)->kind != STZ_ERR_NONE) {
        emit_error(&p->builder, p->format, p->core); /* repeated until reset */
        return finish(env, p);
    }
    if (data.size - offset <= SLICE_BYTES) {
        /* One slice: nothing to yield between. The timeslice is charged
         * by the time the call took (two clock reads, about 50 ns), so a
         * loop of such calls is preempted after about BUDGET_NS of them.
         * Charging by size undercounted: a 1 KB call that ends inside a
         * big stanza also copies what it built (nif_builder.h), and a loop
         * of them held the scheduler 5-6 ms (measured). */
        long long started = now_ns();
        size_t n = data.size - offset;
        (void)feed(&p->builder, p->format, p->core, data.data + offset, n,
                   final);
        ERL_NIF_TERM result = finish(env, p);
        (void)enif_consume_timeslice(
            env, time_budget_charge(now_ns() - started, BUDGET_NS));
        return result;
    }
    time_budget budget;
    time_budget_start(&budget, BUDGET_NS, now_ns());
    do {
        size_t n = data.size - offset;
        if (n > SLICE_BYTES)
            n = SLICE_BYTES;
        int last = final && offset + n == data.size;
        int rc = feed(&p->builder, p->format, p->core, data.data + offset, n,
                      last);
        offset += n;
        if (rc)
            return finish(env, p);
        int up = time_budget_check(&budget, now_ns(), consume_timeslice, env);
        if (offset < data.size && up) {
            ERL_NIF_TERM events = nif_builder_end(&p->builder);
            moved = nif_builder_moved(&p->builder);
            enif_mutex_unlock(p->lock);
            ERL_NIF_TERM next[6] = {argv[0], argv[1],
                                    enif_make_uint64(env, offset), argv[3],
                                    events, enif_make_int(env, moved)};
            return enif_schedule_nif(env, "parse", 0, parse_step, 6, next);
        }
    } while (offset < data.size);
    return finish(env, p);
}

static ERL_NIF_TERM start_parse(ErlNifEnv *env, const ERL_NIF_TERM argv[],
                                int final)
{
    if (!enif_is_binary(env, argv[1]))
        return enif_make_badarg(env);
    ERL_NIF_TERM args[6] = {argv[0], argv[1], enif_make_uint64(env, 0),
                            enif_make_int(env, final),
                            enif_make_list(env, 0), enif_make_int(env, 0)};
    return parse_step(env, 6, args);
}

static ERL_NIF_TERM parse_nif(ErlNifEnv *env, int argc,
                              const ERL_NIF_TERM argv[])
{
    (void)argc;
    return start_parse(env, argv, 0);
}

static ERL_NIF_TERM parse_final_nif(ErlNifEnv *env, int argc,
                                    const ERL_NIF_TERM argv[])
{
    (void)argc;
    return start_parse(env, argv, 1);
}

/*
 * parse_small_element(Binary, Format, MaxStanzaSize, MaxDepth, Drop): the
 * events of parsing Binary as one element, in one call with no resource,
 * for inputs small enough to parse well within the time budget
 * (stanza_stream decides). ejabberd calls parse_element per stanza, where
 * a resource, a mutex and a garbage-collected destructor cost more than
 * the parse itself.
 */
static ERL_NIF_TERM parse_small_element_nif(ErlNifEnv *env, int argc,
                                            const ERL_NIF_TERM argv[])
{
    (void)argc;
    ErlNifBinary data;
    stz_format format;
    stz_options opts;
    if (!enif_inspect_binary(env, argv[0], &data) ||
        !get_options(env, argv + 1, &format, &opts))
        return enif_make_badarg(env);
    opts.element_mode = 1;
    nif_builder b;
    nif_builder_init(&b, &atoms, format, NULL, NULL);
    stz_builder ops = nif_builder_ops(&b);
    stz_core *core = stz_core_new(&nif_allocator, &opts, &ops);
    if (!core)
        return enif_raise_exception(env, atom_out_of_memory);
    term_cache cache;
    nif_builder_begin(&b, env, enif_make_list(env, 0), 0,
                      format == STZ_FORMAT_LEGACY ? &cache : NULL);
    (void)feed(&b, format, core, data.data, data.size, 1);
    ERL_NIF_TERM events = nif_builder_end(&b);
    stz_core_free(core);
    nif_builder_free(&b);
    ERL_NIF_TERM ordered;
    if (!enif_make_reverse_list(env, events, &ordered))
        ordered = enif_make_list(env, 0);
    return ordered;
}

/* ---------------------------------------------------------------------- */
/* Lifecycle                                                               */

static ERL_NIF_TERM reset_nif(ErlNifEnv *env, int argc,
                              const ERL_NIF_TERM argv[])
{
    (void)argc;
    parser_res *p;
    access a = acquire(env, argv[0], &p);
    if (a != ACCESS_GRANTED)
        return refusal(env, a);
    stz_core_reset(p->core);
    enif_mutex_unlock(p->lock);
    return atom_ok;
}

/* Closing twice is fine; closing someone else's parser is not. */
static ERL_NIF_TERM close_nif(ErlNifEnv *env, int argc,
                              const ERL_NIF_TERM argv[])
{
    (void)argc;
    parser_res *p;
    access a = acquire(env, argv[0], &p);
    if (a == ACCESS_CLOSED)
        return atom_ok;
    if (a != ACCESS_GRANTED)
        return refusal(env, a);
    parser_free_state(p);
    p->closed = 1;
    enif_mutex_unlock(p->lock);
    return atom_ok;
}

static ERL_NIF_TERM controlling_process_nif(ErlNifEnv *env, int argc,
                                            const ERL_NIF_TERM argv[])
{
    (void)argc;
    parser_res *p;
    ErlNifPid pid;
    if (!enif_get_local_pid(env, argv[1], &pid))
        return enif_make_badarg(env);
    access a = acquire(env, argv[0], &p);
    if (a != ACCESS_GRANTED)
        return refusal(env, a);
    p->owner = pid;
    enif_mutex_unlock(p->lock);
    return atom_ok;
}

/* How many environments the reaper was given: lets a test see that
 * closing a parser in the middle of a big stanza did not free it in
 * place. */
static ERL_NIF_TERM reaped_envs_nif(ErlNifEnv *env, int argc,
                                    const ERL_NIF_TERM argv[])
{
    (void)argc;
    (void)argv;
    module_state *m = enif_priv_data(env);
    return enif_make_ulong(env, env_reaper_given(m->reaper));
}

static ERL_NIF_TERM live_parsers_nif(ErlNifEnv *env, int argc,
                                     const ERL_NIF_TERM argv[])
{
    (void)argc;
    (void)argv;
    module_state *m = enif_priv_data(env);
    return enif_make_long(env, atomic_load(&m->live_parsers));
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

static ERL_NIF_TERM atom(ErlNifEnv *env, const char *name)
{
    return enif_make_atom(env, name);
}

static void make_atoms(ErlNifEnv *env)
{
    atoms.xmlelement = atom(env, "xmlelement");
    atoms.xmlel = atom(env, "xmlel");
    atoms.xmlcdata = atom(env, "xmlcdata");
    atoms.xmlstreamstart = atom(env, "xmlstreamstart");
    atoms.xmlstreamelement = atom(env, "xmlstreamelement");
    atoms.xmlstreamend = atom(env, "xmlstreamend");
    atoms.xmlstreamerror = atom(env, "xmlstreamerror");
    atoms.xmlstreamcdata = atom(env, "xmlstreamcdata");
    atoms.gen_event = atom(env, "$gen_event");
    atom_ok = atom(env, "ok");
    atom_moved = atom(env, "moved");
    atoms.stanza_moved = atom(env, "$stanza_moved");
    atom_error = atom(env, "error");
    atom_closed = atom(env, "closed");
    atom_not_owner = atom(env, "not_owner");
    atom_undefined = atom(env, "undefined");
    atom_out_of_memory = atom(env, "out_of_memory");
    for (int k = 0; k < STZ_ERROR_KINDS; k++)
        reason_atoms[k] = atom(env, stz_reason_atom_name((stz_error_kind)k));
    for (int k = 0; k < STZ_RESTRICTED_KINDS; k++)
        restricted_atoms[k] =
            atom(env, stz_restricted_name((stz_restricted_kind)k));
    for (int k = 0; k < STZ_NOT_WELL_FORMED_KEYS; k++)
        not_well_formed_keys[k] = atom(env, stz_not_well_formed_keys[k]);
}

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)info;
    module_state *m = enif_alloc(sizeof *m);
    if (!m)
        return 1;
    m->parser_type = enif_open_resource_type(
        env, NULL, "stanza_parser", parser_dtor, ERL_NIF_RT_CREATE, NULL);
    if (!m->parser_type) {
        enif_free(m);
        return 1;
    }
    atomic_init(&m->live_parsers, 0);
    m->refs = 1;
    m->reaper = env_reaper_start(); /* NULL: big frees happen in place */
    make_atoms(env);
    *priv = m;
    return 0;
}

/* A hot upgrade: the new code shares the old private data (parsers point
 * to it) and takes the parser type over, so parsers made before keep
 * working and are freed by the new destructor. Loads and unloads of a
 * module are serialized by the VM: refs needs no lock. The reaper's
 * thread runs the old library's code, which may be unloaded once the old
 * module is purged: it is stopped (its queue freed) and a new one is
 * started from this library. */
static int upgrade(ErlNifEnv *env, void **priv, void **old_priv,
                   ERL_NIF_TERM info)
{
    (void)info;
    module_state *m = *old_priv;
    m->parser_type = enif_open_resource_type(
        env, NULL, "stanza_parser", parser_dtor, ERL_NIF_RT_TAKEOVER, NULL);
    if (!m->parser_type)
        return 1;
    m->refs++;
    env_reaper_stop(m->reaper);
    m->reaper = env_reaper_start();
    make_atoms(env);
    *priv = m;
    return 0;
}

static void unload(ErlNifEnv *env, void *priv)
{
    (void)env;
    module_state *m = priv;
    if (--m->refs == 0) {
        env_reaper_stop(m->reaper);
        enif_free(m);
    }
}

static ErlNifFunc nif_funcs[] = {
    {"new_parser", 7, new_parser_nif, 0},
    {"parse", 2, parse_nif, 0},
    {"parse_final", 2, parse_final_nif, 0},
    {"parse_small_element", 5, parse_small_element_nif, 0},
    {"reset", 1, reset_nif, 0},
    {"close", 1, close_nif, 0},
    {"controlling_process", 2, controlling_process_nif, 0},
    {"live_parsers", 0, live_parsers_nif, 0},
    {"reaped_envs", 0, reaped_envs_nif, 0},
};

ERL_NIF_INIT(stanza_stream_nif, nif_funcs, load, NULL, upgrade, unload)

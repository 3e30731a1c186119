/*
 * nif_builder: xml_core events to Erlang terms. See nif_builder.h.
 */
#include "nif_builder.h"

#include "grow.h"

#include <stdint.h>
#include <string.h>

void nif_builder_init(nif_builder *b, const nif_atoms *atoms,
                      stz_format format, const ErlNifPid *callback,
                      env_reaper *reaper)
{
    memset(b, 0, sizeof *b);
    b->atoms = atoms;
    b->reaper = reaper;
    b->format = format;
    if (callback) {
        b->push = 1;
        b->callback = *callback;
    }
}

/* Non-zero when keep_env holds a half-built stanza too big to free on a
 * scheduler. */
static int keeps_big_stanza(const nif_builder *b)
{
    return b->keep_env && b->kept_depth > 0 &&
           b->stanza_bytes >= NIF_REAP_BYTES;
}

void nif_builder_free(nif_builder *b)
{
    if (keeps_big_stanza(b))
        env_reaper_give(b->reaper, b->keep_env);
    else if (b->keep_env)
        enif_free_env(b->keep_env);
    enif_free(b->frames);
    enif_free(b->children);
    enif_free(b->batch);
    b->keep_env = NULL;
    b->frames = NULL;
    b->children = NULL;
    b->batch = NULL;
    b->depth = b->cap = 0;
    b->child_count = b->child_cap = 0;
    b->kept_depth = b->kept_children = 0;
    b->batch_cap = 0;
}

/* enif_alloc_env never returns NULL: ERTS aborts the VM when it cannot
 * allocate, as for every term. */
static ErlNifEnv *keep_env(nif_builder *b)
{
    if (!b->keep_env)
        b->keep_env = enif_alloc_env();
    return b->keep_env;
}

void nif_builder_begin(nif_builder *b, ErlNifEnv *env, ERL_NIF_TERM events,
                       int moved, term_cache *cache)
{
    b->env = env;
    b->events = events;
    b->moved = moved;
    b->cache = cache;
    if (cache)
        term_cache_reset(cache, NULL);
    /* An open stanza is in keep_env: it is never left in a caller's
     * environment between invocations (nif_builder_end). */
}

/* Terms of a cleared or sent environment are gone: so are their copies. */
static void clear_keep_env(nif_builder *b)
{
    enif_clear_env(b->keep_env);
    if (b->cache && b->cache->env == b->keep_env)
        term_cache_reset(b->cache, NULL);
}

static void on_discard(void *ctx);

/* Tuples carry a batch; their arity has a bound (2^24 - 1). */
#define BATCH_MAX (1u << 20)

/* Copies b->batch[0..n), terms of the caller's environment, into keep_env
 * in place: one tuple and one enif_make_copy per BATCH_MAX terms, so each
 * batch is a single heap fragment of keep_env. */
static int copy_batch(nif_builder *b, size_t n)
{
    ErlNifEnv *keep = keep_env(b);
    for (size_t done = 0; done < n;) {
        size_t k = n - done < BATCH_MAX ? n - done : BATCH_MAX;
        ERL_NIF_TERM tuple = enif_make_copy(
            keep, enif_make_tuple_from_array(b->env, b->batch + done,
                                             (unsigned)k));
        const ERL_NIF_TERM *copied;
        int arity;
        if (!enif_get_tuple(keep, tuple, &arity, &copied) ||
            (size_t)arity != k)
            return -1;
        memcpy(b->batch + done, copied, k * sizeof *copied);
        done += k;
    }
    return 0;
}

/* Moves to keep_env the name and attributes of the frames from index
 * from_depth on and the children from index from_child on: gathered into
 * b->batch, copied, scattered back in the same order. */
static int keep_from(nif_builder *b, size_t from_depth, size_t from_child)
{
    size_t frames = from_depth < b->depth ? b->depth - from_depth : 0;
    size_t children = b->child_count - from_child;
    size_t n = 2 * frames + children;
    if (n == 0)
        return 0;
    if (n > b->batch_cap) {
        ERL_NIF_TERM *grown = grow_array(b->batch, &b->batch_cap, n,
                                         sizeof *grown, 64, enif_realloc);
        if (!grown)
            return -1;
        b->batch = grown;
    }
    ERL_NIF_TERM *t = b->batch;
    for (size_t i = from_depth; i < b->depth; i++) {
        *t++ = b->frames[i].name;
        *t++ = b->frames[i].attrs;
    }
    if (children) /* the array may not exist yet: no NULL to memcpy */
        memcpy(t, b->children + from_child, children * sizeof *t);
    if (copy_batch(b, n))
        return -1;
    t = b->batch;
    for (size_t i = from_depth; i < b->depth; i++) {
        b->frames[i].name = *t++;
        b->frames[i].attrs = *t++;
    }
    if (children)
        memcpy(b->children + from_child, t, children * sizeof *t);
    return 0;
}

/* A stanza still open when the invocation ends: what this invocation built
 * of it moves to keep_env in one batch, at most one invocation's worth of
 * building (0.3 ms), and copying is cheaper than building was. Should the
 * batch scratch not be allocated, the half-built stanza cannot outlive
 * the call (its terms die with the caller's environment): it is dropped,
 * and the next callback of the core fails, so the parse ends with
 * out_of_memory rather than with a stanza missing its first part. */
static void keep_open_stanza(nif_builder *b)
{
    if (b->depth == 0)
        return;
    if (keep_from(b, b->kept_depth, b->kept_children) == 0) {
        b->kept_depth = b->depth;
        b->kept_children = b->child_count;
        return;
    }
    on_discard(b);
    b->lost = 1;
}

ERL_NIF_TERM nif_builder_end(nif_builder *b)
{
    keep_open_stanza(b);
    ERL_NIF_TERM events = b->events;
    b->env = NULL;
    b->cache = NULL;
    return events;
}

int nif_builder_moved(const nif_builder *b)
{
    return b->moved;
}

/* Pull mode, a big stanza finished in keep_env: the environment moves to
 * the caller's mailbox as {'$stanza_moved', Event}, no term is copied. */
static int move_to_self(nif_builder *b, ErlNifEnv *env, ERL_NIF_TERM event)
{
    ErlNifPid self;
    if (!enif_self(b->env, &self))
        return -1;
    ERL_NIF_TERM msg = enif_make_tuple2(env, b->atoms->stanza_moved, event);
    if (!enif_send(b->env, &self, env, msg)) {
        clear_keep_env(b);
        return -1;
    }
    clear_keep_env(b);
    b->events = enif_make_list_cell(b->env, b->atoms->stanza_moved, b->events);
    b->moved = 1;
    return 0;
}

/* Delivers an event built in env: the caller's environment, or keep_env
 * for a stanza that spanned calls. */
static int deliver(nif_builder *b, ErlNifEnv *env, ERL_NIF_TERM event)
{
    if (!b->push) {
        if (env != b->env && b->stanza_bytes >= NIF_MOVE_BYTES)
            return move_to_self(b, env, event);
        if (env != b->env) {
            event = enif_make_copy(b->env, event);
            clear_keep_env(b);
        }
        b->events = enif_make_list_cell(b->env, event, b->events);
        return 0;
    }
    ERL_NIF_TERM msg = enif_make_tuple2(env, b->atoms->gen_event, event);
    /* A dead callback is not the parser's failure: the event is lost as
     * gen_fsm:send_event loses it, so the result of enif_send is moot. */
    if (env == b->env) {
        /* enif_send copies a term of the caller's environment. */
        (void)enif_send(b->env, &b->callback, NULL, msg);
        return 0;
    }
    /* From keep_env the message moves without a copy. Sent or not, the
     * environment must be cleared before it is built in again: after a
     * successful send its memory belongs to the message. */
    (void)enif_send(b->env, &b->callback, env, msg);
    clear_keep_env(b);
    return 0;
}

int nif_builder_emit(nif_builder *b, ERL_NIF_TERM event)
{
    return deliver(b, b->env, event);
}

/* ---------------------------------------------------------------------- */
/* Terms                                                                   */

static int make_bytes(ErlNifEnv *env, const char *s, size_t len,
                      ERL_NIF_TERM *out)
{
    unsigned char *p = enif_make_new_binary(env, len, out);
    if (!p)
        return -1;
    if (len)
        memcpy(p, s, len);
    return 0;
}

/* Names, attribute names and values: strings (UTF-8 byte lists) in the
 * legacy format, as ejabberd 2.x produced them; binaries otherwise. */
static int make_fresh_string(nif_builder *b, ErlNifEnv *env, const char *s,
                             size_t len, ERL_NIF_TERM *out)
{
    if (b->format == STZ_FORMAT_LEGACY) {
        *out = enif_make_string_len(env, s, len, ERL_NIF_LATIN1);
        return 0;
    }
    return make_bytes(env, s, len, out);
}

/* Strings of the legacy format cost two words a byte, so repeated names
 * and values share one term (measured: 56 -> 61 MB/s on the bench corpus).
 * A small binary costs about what the lookup does: no cache there. */
static int make_string(nif_builder *b, ErlNifEnv *env, const char *s,
                       size_t len, ERL_NIF_TERM *out)
{
    term_cache *cache = b->cache;
    if (!cache || b->format != STZ_FORMAT_LEGACY || len > TERM_CACHE_MAX_LEN)
        return make_fresh_string(b, env, s, len, out);
    if (cache->env != env)
        term_cache_reset(cache, env);
    term_cache_slot *slot = term_cache_slot_for(cache, s, len);
    if (term_cache_hit(slot, s, len)) {
        *out = slot->term;
        return 0;
    }
    if (make_fresh_string(b, env, s, len, out))
        return -1;
    term_cache_store(slot, s, len, *out);
    return 0;
}

static int make_attrs(nif_builder *b, ErlNifEnv *env, const stz_attr *attrs,
                      size_t n, ERL_NIF_TERM *out)
{
    ERL_NIF_TERM list = enif_make_list(env, 0);
    for (size_t i = n; i-- > 0;) {
        ERL_NIF_TERM k, v;
        if (make_string(b, env, attrs[i].name, attrs[i].name_len, &k) ||
            make_string(b, env, attrs[i].value, attrs[i].value_len, &v))
            return -1;
        list = enif_make_list_cell(env, enif_make_tuple2(env, k, v), list);
    }
    *out = list;
    return 0;
}

static ERL_NIF_TERM element_tag(const nif_builder *b)
{
    return b->format == STZ_FORMAT_XMLEL ? b->atoms->xmlel
                                         : b->atoms->xmlelement;
}

/* ---------------------------------------------------------------------- */
/* xml_core callbacks                                                      */

static int on_stream_start(void *ctx, const char *name, size_t name_len,
                           const stz_attr *attrs, size_t n)
{
    nif_builder *b = ctx;
    ErlNifEnv *env = b->env;
    ERL_NIF_TERM name_t, attrs_t;
    if (!env || make_string(b, env, name, name_len, &name_t) ||
        make_attrs(b, env, attrs, n, &attrs_t))
        return -1;
    return nif_builder_emit(
        b, enif_make_tuple3(env, b->atoms->xmlstreamstart, name_t, attrs_t));
}

static int on_stream_end(void *ctx, const char *name, size_t name_len)
{
    nif_builder *b = ctx;
    ErlNifEnv *env = b->env;
    ERL_NIF_TERM name_t;
    if (!env || make_string(b, env, name, name_len, &name_t))
        return -1;
    return nif_builder_emit(
        b, enif_make_tuple2(env, b->atoms->xmlstreamend, name_t));
}

/* Text between stanzas (stz_options.stream_text): {xmlstreamcdata, Bin}. */
static int on_stream_text(void *ctx, const char *data, size_t len)
{
    nif_builder *b = ctx;
    ErlNifEnv *env = b->env;
    ERL_NIF_TERM bin;
    if (!env || make_bytes(env, data, len, &bin))
        return -1;
    return nif_builder_emit(
        b, enif_make_tuple2(env, b->atoms->xmlstreamcdata, bin));
}

static int push_frame(nif_builder *b)
{
    if (b->depth < b->cap)
        return 0;
    nif_frame *frames = grow_array(b->frames, &b->cap, b->depth + 1,
                                   sizeof *frames, 16, enif_realloc);
    if (!frames)
        return -1;
    b->frames = frames;
    return 0;
}

static int push_child(nif_builder *b, ERL_NIF_TERM child)
{
    if (b->child_count == b->child_cap) {
        ERL_NIF_TERM *c = grow_array(b->children, &b->child_cap,
                                     b->child_count + 1, sizeof *c, 64,
                                     enif_realloc);
        if (!c)
            return -1;
        b->children = c;
    }
    b->children[b->child_count++] = child;
    return 0;
}

static int on_element_start(void *ctx, const char *name, size_t name_len,
                            const stz_attr *attrs, size_t n)
{
    nif_builder *b = ctx;
    ErlNifEnv *env = b->env;
    if (!env || b->lost || push_frame(b))
        return -1;
    nif_frame *f = &b->frames[b->depth];
    if (make_string(b, env, name, name_len, &f->name) ||
        make_attrs(b, env, attrs, n, &f->attrs))
        return -1;
    if (b->depth == 0)
        b->stanza_bytes = 0;
    b->stanza_bytes += name_len;
    for (size_t i = 0; i < n; i++)
        b->stanza_bytes += attrs[i].name_len + attrs[i].value_len;
    f->first_child = b->child_count;
    b->depth++;
    return 0;
}

static int on_text(void *ctx, const char *data, size_t len)
{
    nif_builder *b = ctx;
    ErlNifEnv *env = b->env;
    ERL_NIF_TERM bin;
    if (b->depth == 0 || !env || b->lost || make_bytes(env, data, len, &bin))
        return -1;
    b->stanza_bytes += len;
    return push_child(b, enif_make_tuple2(env, b->atoms->xmlcdata, bin));
}

static int emit_stanza(nif_builder *b, ErlNifEnv *env, ERL_NIF_TERM element)
{
    b->kept_depth = b->kept_children = 0;
    return deliver(
        b, env, enif_make_tuple2(env, b->atoms->xmlstreamelement, element));
}

static int on_element_end(void *ctx, int stanza_done)
{
    nif_builder *b = ctx;
    if (b->depth == 0 || !b->env || b->lost)
        return -1;
    nif_frame *f = &b->frames[--b->depth];
    size_t first = f->first_child;
    ErlNifEnv *env = b->env;
    if (b->depth < b->kept_depth) {
        /* Opened by an earlier invocation: finished in keep_env, with the
         * children this invocation added copied there in one batch. */
        size_t from = b->kept_children > first ? b->kept_children : first;
        if (keep_from(b, b->depth, from))
            return -1;
        env = b->keep_env;
        b->kept_depth = b->depth;
    }
    ERL_NIF_TERM children = enif_make_list_from_array(
        env, b->children + first, (unsigned)(b->child_count - first));
    ERL_NIF_TERM el =
        enif_make_tuple4(env, element_tag(b), f->name, f->attrs, children);
    b->child_count = first;
    if (b->kept_children > first)
        b->kept_children = first;
    (void)stanza_done; /* depth 0 is the stanza: the two always agree */
    if (b->depth == 0)
        return emit_stanza(b, env, el);
    if (push_child(b, el))
        return -1;
    /* An element finished in keep_env is kept; so is everything before it
     * (its elder siblings came from earlier invocations too). */
    if (env != b->env)
        b->kept_children = b->child_count;
    return 0;
}

static void on_discard(void *ctx)
{
    nif_builder *b = ctx;
    if (keeps_big_stanza(b)) {
        /* A fresh keep_env is made on demand (keep_env()). */
        if (b->cache && b->cache->env == b->keep_env)
            term_cache_reset(b->cache, NULL);
        env_reaper_give(b->reaper, b->keep_env);
        b->keep_env = NULL;
    } else if (b->kept_depth > 0)
        clear_keep_env(b);
    b->depth = 0;
    b->child_count = 0;
    b->kept_depth = b->kept_children = 0;
    b->lost = 0;
}

stz_builder nif_builder_ops(nif_builder *b)
{
    stz_builder ops = {
        .ctx = b,
        .stream_start = on_stream_start,
        .element_start = on_element_start,
        .text = on_text,
        .element_end = on_element_end,
        .stream_end = on_stream_end,
        .discard = on_discard,
        .stream_text = on_stream_text,
    };
    return ops;
}

/*
 * stanza_ids_nif: packet ids, the duplicate table and the request tracker
 * as a NIF (module stanza_ids_nif, wrapped by stanza_ids, stanza_dedup
 * and stanza_tracker). This file: the ids, the library's loading and
 * upgrade; the duplicate table is in dedup_nif.c, the tracker in
 * tracker_nif.c, what they share in ids_nif.h.
 *
 * Ids. Each load of the library draws a random prefix from OpenSSL's
 * CSPRNG and keeps an atomic counter, both in the module's private data:
 * they are per-load by design (a reload draws a new prefix, which keeps
 * ids unique), so they live with the load, not in a global. An upgrade
 * keeps the old load's prefix and counter, which stay unique.
 */
#define _GNU_SOURCE /* dladdr, RTLD_NODELETE */
#include <dlfcn.h>
#include <erl_nif.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <string.h>

#include "id_gen.h"
#include "ids_nif.h"
#include "siphash.h"

ids_atoms ids_atom;

ERL_NIF_TERM ids_out_of_memory(ErlNifEnv *env)
{
    return enif_raise_exception(env, ids_atom.out_of_memory);
}

int ids_random_key(siphash_key *key)
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return 0;
    *key = siphash_key_from_bytes(bytes);
    return 1;
}

ERL_NIF_TERM ids_stats_map(ErlNifEnv *env, uint64_t size, uint64_t capacity,
                           uint64_t memory)
{
    ERL_NIF_TERM keys[3] = {ids_atom.size, ids_atom.capacity, ids_atom.memory};
    ERL_NIF_TERM values[3] = {enif_make_uint64(env, size),
                              enif_make_uint64(env, capacity),
                              enif_make_uint64(env, memory)};
    ERL_NIF_TERM map;
    if (!enif_make_map_from_arrays(env, keys, values, 3, &map))
        return ids_out_of_memory(env);
    return map;
}

/* ---------------------------------------------------------------------- */
/* Ids                                                                     */

static ERL_NIF_TERM make_id(ErlNifEnv *env, const unsigned char *bytes)
{
    ERL_NIF_TERM bin;
    unsigned char *p = enif_make_new_binary(env, ID_CHARS, &bin);
    if (!p)
        return ids_out_of_memory(env);
    id_encode(bytes, (char *)p);
    return bin;
}

static ERL_NIF_TERM new_id_nif(ErlNifEnv *env, int argc,
                               const ERL_NIF_TERM argv[])
{
    (void)argc;
    (void)argv;
    module_state *m = enif_priv_data(env);
    uint64_t n = atomic_fetch_add_explicit(&m->id_counter, 1,
                                           memory_order_relaxed);
    unsigned char bytes[ID_BYTES];
    id_compose(m->id_prefix, n, bytes);
    return make_id(env, bytes);
}

static ERL_NIF_TERM random_id_nif(ErlNifEnv *env, int argc,
                                  const ERL_NIF_TERM argv[])
{
    (void)argc;
    (void)argv;
    unsigned char bytes[ID_BYTES];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return enif_raise_exception(env, enif_make_atom(env, "rand_failed"));
    return make_id(env, bytes);
}


static ERL_NIF_TERM live_nif(ErlNifEnv *env, int argc,
                             const ERL_NIF_TERM argv[])
{
    (void)argc;
    (void)argv;
    module_state *m = enif_priv_data(env);
    return enif_make_tuple2(env,
                            enif_make_long(env, atomic_load(&m->live_dedup_tables)),
                            enif_make_long(env, atomic_load(&m->live_trackers)));
}

/* ---------------------------------------------------------------------- */
/* Loading and upgrade                                                     */

static void make_atoms(ErlNifEnv *env)
{
    ids_atom.ok = enif_make_atom(env, "ok");
    ids_atom.error = enif_make_atom(env, "error");
    ids_atom.true_ = enif_make_atom(env, "true");
    ids_atom.false_ = enif_make_atom(env, "false");
    ids_atom.closed = enif_make_atom(env, "closed");
    ids_atom.full = enif_make_atom(env, "full");
    ids_atom.exists = enif_make_atom(env, "exists");
    ids_atom.noproc = enif_make_atom(env, "noproc");
    ids_atom.out_of_memory = enif_make_atom(env, "out_of_memory");
    ids_atom.stanza_timeout = enif_make_atom(env, "stanza_timeout");
    ids_atom.capacity = enif_make_atom(env, "capacity");
    ids_atom.size = enif_make_atom(env, "size");
    ids_atom.memory = enif_make_atom(env, "memory");
    ids_atom.undefined = enif_make_atom(env, "undefined");
}

static int open_types(ErlNifEnv *env, module_state *m,
                      ErlNifResourceFlags flags)
{
    return dedup_nif_open_type(env, m, flags) &&
           tracker_nif_open_types(env, m, flags);
}

/* A tracker's timer thread runs this library's code for as long as the
 * tracker lives, and an upgrade from another file would let the VM unmap
 * the old library once the old module is purged: so the library is
 * never unmapped. Best effort; without it only a hot upgrade that
 * changes the file's path while trackers live is unsafe. */
static void keep_mapped(void)
{
    Dl_info info;
    if (dladdr((void *)&keep_mapped, &info) && info.dli_fname)
        (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)info;
    module_state *m = enif_alloc(sizeof *m);
    if (!m)
        return 1;
    memset(m, 0, sizeof *m);
    if (!open_types(env, m, ERL_NIF_RT_CREATE) ||
        RAND_bytes(m->id_prefix, sizeof m->id_prefix) != 1) {
        enif_free(m);
        return 1;
    }
    atomic_init(&m->id_counter, 0);
    atomic_init(&m->live_dedup_tables, 0);
    atomic_init(&m->live_trackers, 0);
    m->refs = 1;
    make_atoms(env);
    keep_mapped();
    *priv = m;
    return 0;
}

/* A hot upgrade (the module loaded again while its old code still has
 * this library): the new code shares the old private data and takes the
 * resource types over, so that tables and trackers made before keep
 * working with the new code and are freed by its destructors. The VM
 * serializes loads and unloads of a module: refs needs no lock. */
static int upgrade(ErlNifEnv *env, void **priv, void **old_priv,
                   ERL_NIF_TERM info)
{
    (void)info;
    module_state *m = *old_priv;
    if (!open_types(env, m, ERL_NIF_RT_TAKEOVER))
        return 1;
    m->refs++;
    make_atoms(env);
    *priv = m;
    return 0;
}

static void unload(ErlNifEnv *env, void *priv)
{
    (void)env;
    module_state *m = priv;
    if (--m->refs == 0)
        enif_free(m);
}

static ErlNifFunc nif_funcs[] = {
    {"new_id", 0, new_id_nif, 0},
    {"random_id", 0, random_id_nif, 0},
    {"dedup_new", 2, dedup_new_nif, 0},
    {"dedup_seen", 2, dedup_seen_nif, 0},
    {"dedup_stats", 1, dedup_stats_nif, 0},
    {"dedup_close", 1, dedup_close_nif, 0},
    {"tracker_new", 2, tracker_new_nif, 0},
    {"tracker_track", 5, tracker_track_nif, 0},
    {"tracker_take", 2, tracker_take_nif, 0},
    {"tracker_stats", 1, tracker_stats_nif, 0},
    /* Freeing a full tracker's entries takes far more than a
     * millisecond: on a dirty scheduler. */
    {"tracker_close", 1, tracker_close_nif, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"tracker_id", 1, tracker_id_nif, 0},
    {"live", 0, live_nif, 0},
};

ERL_NIF_INIT(stanza_ids_nif, nif_funcs, load, NULL, upgrade, unload)

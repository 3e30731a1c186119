/*
 * ids_nif.h: what the three areas of the stanza_ids_nif library share
 * (stanza_ids_nif.c: ids, loading; dedup_nif.c: the duplicate table;
 * tracker_nif.c: the request tracker): the module's private data, the
 * atoms, a few helpers, and each area's NIFs and resource types.
 * Everything here is hidden inside the shared object.
 */
#ifndef STANZA_IDS_NIF_H
#define STANZA_IDS_NIF_H

#include <erl_nif.h>
#include <stdatomic.h>
#include <stdint.h>

#include "id_gen.h"
#include "siphash.h"

#define IDS_HIDDEN __attribute__((visibility("hidden")))

/* The library's private data. One per load; an upgrade keeps the old
 * one (the ids' prefix and counter, the live counts, which resources
 * point to) and takes its resource types over, so refs counts the loads
 * that use it. */
typedef struct module_state {
    ErlNifResourceType *dedup_type;
    ErlNifResourceType *tracker_type;
    ErlNifResourceType *handle_type;
    unsigned char id_prefix[ID_PREFIX_BYTES];
    atomic_uint_fast64_t id_counter;
    atomic_long live_dedup_tables;
    atomic_long live_trackers;
    int refs;
} module_state;

typedef struct ids_atoms {
    ERL_NIF_TERM ok, error, true_, false_, closed, full, exists, noproc,
        out_of_memory, stanza_timeout, capacity, size, memory, undefined;
} ids_atoms;

IDS_HIDDEN extern ids_atoms ids_atom;

/* Raises out_of_memory. */
IDS_HIDDEN ERL_NIF_TERM ids_out_of_memory(ErlNifEnv *env);
/* A SipHash key from OpenSSL's CSPRNG; 0 when it fails. */
IDS_HIDDEN int ids_random_key(siphash_key *key);
/* #{size, capacity, memory}: what the stats calls of both tables give. */
IDS_HIDDEN ERL_NIF_TERM ids_stats_map(ErlNifEnv *env, uint64_t size,
                                      uint64_t capacity, uint64_t memory);

/* dedup_nif.c. flags: ERL_NIF_RT_CREATE, or ERL_NIF_RT_TAKEOVER on an
 * upgrade. 0 when the type cannot be opened. */
IDS_HIDDEN int dedup_nif_open_type(ErlNifEnv *env, module_state *m,
                                   ErlNifResourceFlags flags);
IDS_HIDDEN ERL_NIF_TERM dedup_new_nif(ErlNifEnv *env, int argc,
                                      const ERL_NIF_TERM argv[]);
IDS_HIDDEN ERL_NIF_TERM dedup_seen_nif(ErlNifEnv *env, int argc,
                                       const ERL_NIF_TERM argv[]);
IDS_HIDDEN ERL_NIF_TERM dedup_stats_nif(ErlNifEnv *env, int argc,
                                        const ERL_NIF_TERM argv[]);
IDS_HIDDEN ERL_NIF_TERM dedup_close_nif(ErlNifEnv *env, int argc,
                                        const ERL_NIF_TERM argv[]);

/* tracker_nif.c */
IDS_HIDDEN int tracker_nif_open_types(ErlNifEnv *env, module_state *m,
                                      ErlNifResourceFlags flags);
IDS_HIDDEN ERL_NIF_TERM tracker_new_nif(ErlNifEnv *env, int argc,
                                        const ERL_NIF_TERM argv[]);
IDS_HIDDEN ERL_NIF_TERM tracker_track_nif(ErlNifEnv *env, int argc,
                                          const ERL_NIF_TERM argv[]);
IDS_HIDDEN ERL_NIF_TERM tracker_take_nif(ErlNifEnv *env, int argc,
                                         const ERL_NIF_TERM argv[]);
IDS_HIDDEN ERL_NIF_TERM tracker_stats_nif(ErlNifEnv *env, int argc,
                                          const ERL_NIF_TERM argv[]);
IDS_HIDDEN ERL_NIF_TERM tracker_close_nif(ErlNifEnv *env, int argc,
                                          const ERL_NIF_TERM argv[]);
IDS_HIDDEN ERL_NIF_TERM tracker_id_nif(ErlNifEnv *env, int argc,
                                       const ERL_NIF_TERM argv[]);

#endif

/*
 * dedup_nif.c: the duplicate table of stanza_ids_nif (stanza_dedup). A
 * resource with a mutex around a dedup_table; the key is hashed before
 * the lock is taken, so the lock covers O(1) work.
 */
#include <erl_nif.h>
#include <stdatomic.h>
#include <string.h>

#include "dedup_table.h"
#include "ids_nif.h"
#include "siphash.h"

/* A duplicate table bigger than this is created on a dirty scheduler:
 * initialising its index takes more than a fraction of a millisecond. */
#define DIRTY_CAPACITY 65536
/* Keys longer than this are refused (badarg): ids, not documents. */
#define MAX_KEY_BYTES (1u << 20)

typedef struct dedup_res {
    ErlNifMutex *lock;
    module_state *module;
    dedup_table *table; /* NULL once closed */
    siphash_key key;
} dedup_res;

static const dedup_alloc dedup_allocator = {enif_alloc, enif_free};

static void dedup_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    dedup_res *d = obj;
    dedup_free(d->table);
    if (d->lock)
        enif_mutex_destroy(d->lock);
    atomic_fetch_sub(&d->module->live_dedup_tables, 1);
}

static ERL_NIF_TERM dedup_create(ErlNifEnv *env, int argc,
                                 const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    unsigned capacity;
    ErlNifSInt64 ttl;
    if (!enif_get_uint(env, argv[0], &capacity) || capacity == 0 ||
        capacity > DEDUP_MAX_CAPACITY || !enif_get_int64(env, argv[1], &ttl) ||
        ttl <= 0)
        return enif_make_badarg(env);
    dedup_res *d = enif_alloc_resource(m->dedup_type, sizeof *d);
    if (!d)
        return ids_out_of_memory(env);
    memset(d, 0, sizeof *d);
    d->module = m;
    atomic_fetch_add(&m->live_dedup_tables, 1);
    d->lock = enif_mutex_create("stanza_dedup");
    d->table = dedup_new(&dedup_allocator, capacity, ttl);
    if (!d->lock || !d->table || !ids_random_key(&d->key)) {
        enif_release_resource(d);
        return ids_out_of_memory(env);
    }
    ERL_NIF_TERM term = enif_make_resource(env, d);
    enif_release_resource(d);
    return term;
}

/* dedup_new(Capacity, TtlMs) */
ERL_NIF_TERM dedup_new_nif(ErlNifEnv *env, int argc,
                                  const ERL_NIF_TERM argv[])
{
    unsigned capacity;
    if (enif_get_uint(env, argv[0], &capacity) && capacity > DIRTY_CAPACITY)
        return enif_schedule_nif(env, "dedup_new",
                                 ERL_NIF_DIRTY_JOB_CPU_BOUND, dedup_create,
                                 argc, argv);
    return dedup_create(env, argc, argv);
}

/* Hashing a long key costs about a microsecond per KB: charge it. */
static void charge(ErlNifEnv *env, size_t len)
{
    if (len >= 16384) {
        size_t percent = len / 16384;
        (void)enif_consume_timeslice(env, percent > 100 ? 100 : (int)percent);
    }
}

/* dedup_seen(Table, Key): true | false | closed */
ERL_NIF_TERM dedup_seen_nif(ErlNifEnv *env, int argc,
                                   const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    dedup_res *d;
    ErlNifBinary key;
    if (!enif_get_resource(env, argv[0], m->dedup_type, (void **)&d) ||
        !enif_inspect_iolist_as_binary(env, argv[1], &key) ||
        key.size > MAX_KEY_BYTES)
        return enif_make_badarg(env);
    uint64_t h[2];
    siphash128(&d->key, key.data, key.size, h);
    charge(env, key.size);
    enif_mutex_lock(d->lock);
    int seen = -1;
    if (d->table)
        seen = dedup_check(d->table, h[0], h[1],
                           enif_monotonic_time(ERL_NIF_MSEC));
    enif_mutex_unlock(d->lock);
    if (seen < 0)
        return ids_atom.closed;
    return seen ? ids_atom.true_ : ids_atom.false_;
}
ERL_NIF_TERM dedup_stats_nif(ErlNifEnv *env, int argc,
                                    const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    dedup_res *d;
    if (!enif_get_resource(env, argv[0], m->dedup_type, (void **)&d))
        return enif_make_badarg(env);
    size_t size = 0, capacity = 0, memory = 0;
    enif_mutex_lock(d->lock);
    if (d->table) {
        size = dedup_size(d->table);
        capacity = dedup_capacity(d->table);
        memory = dedup_memory(d->table);
    }
    int closed = !d->table;
    enif_mutex_unlock(d->lock);
    if (closed)
        return ids_atom.closed;
    return ids_stats_map(env, size, capacity, memory);
}

/* Frees the table now rather than at garbage collection. */
ERL_NIF_TERM dedup_close_nif(ErlNifEnv *env, int argc,
                                    const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    dedup_res *d;
    if (!enif_get_resource(env, argv[0], m->dedup_type, (void **)&d))
        return enif_make_badarg(env);
    enif_mutex_lock(d->lock);
    dedup_table *t = d->table;
    d->table = NULL;
    enif_mutex_unlock(d->lock);
    dedup_free(t);
    return ids_atom.ok;
}

int dedup_nif_open_type(ErlNifEnv *env, module_state *m,
                        ErlNifResourceFlags flags)
{
    m->dedup_type = enif_open_resource_type(env, NULL, "stanza_dedup",
                                            dedup_dtor, flags, NULL);
    return m->dedup_type != NULL;
}

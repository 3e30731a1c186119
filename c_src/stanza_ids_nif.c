/*
 * stanza_ids_nif: packet ids, the duplicate table and the request tracker
 * as a NIF (module stanza_ids_nif, wrapped by stanza_ids, stanza_dedup
 * and stanza_tracker).
 *
 * Ids. Each load of the library draws a random prefix from OpenSSL's
 * CSPRNG and keeps an atomic counter, both in the module's private data:
 * they are per-load by design (a reload draws a new prefix, which keeps
 * ids unique), so they live with the load, not in a global.
 *
 * Duplicate table. A resource with a mutex around a dedup_table; the key
 * is hashed before the lock is taken, so the lock covers O(1) work.
 *
 * Tracker. Two resources. The user holds a handle; the handle and the
 * tracker's timer thread each hold a reference to the tracker proper,
 * which carries the monitors on owners. So the thread may demonitor and
 * send while the user's handle is being garbage-collected, and the
 * tracker's memory goes when the last of the two lets go. The thread is
 * started by the first track/4 and sleeps on a condition variable until
 * the earliest deadline (pthreads: enif's condition variables have no
 * timed wait). Owners are monitored once each, and stay monitored while
 * idle up to a limit: monitoring per request would send two signals to
 * the owner per request, which made track+take ten times slower.
 */
#include <erl_nif.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "dedup_table.h"
#include "id_gen.h"
#include "request_tracker.h"
#include "siphash.h"
#include "term_key.h"

/* A duplicate table bigger than this is created on a dirty scheduler:
 * initialising its index takes more than a fraction of a millisecond. */
#define DIRTY_CAPACITY 65536
/* Keys longer than this are refused (badarg): ids, not documents. */
#define MAX_KEY_BYTES (1u << 20)
/* Timeouts are capped at 2^40 ms (about 35 years) so that a deadline in
 * nanoseconds never overflows. */
#define MAX_TIMEOUT_MS (1LL << 40)
/* An idle timer thread still wakes this often: then track/4 need not
 * wake it for any request whose timeout is longer (the common case). */
#define IDLE_NS 10000000000LL
/* Expired entries the timer thread takes from the table per lock. */
#define EXPIRY_BATCH 64

typedef struct module_state {
    ErlNifResourceType *dedup_type;
    ErlNifResourceType *tracker_type;
    ErlNifResourceType *handle_type;
    unsigned char id_prefix[ID_PREFIX_BYTES];
    atomic_uint_fast64_t id_counter;
    atomic_long live_dedup_tables;
    atomic_long live_trackers;
} module_state;

typedef struct dedup_res {
    ErlNifMutex *lock;
    module_state *module;
    dedup_table *table; /* NULL once closed */
    siphash_key key;
} dedup_res;

typedef struct tracker {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int sync_ready;
    module_state *module;
    rt_table *rt;
    pthread_t thread;
    int thread_started;
    /* The deadline the thread sleeps until, so that track/4 wakes it only
     * for an earlier one: a steady flow of requests with equal timeouts
     * then costs no wake-ups. */
    int64_t sleeping_until;
    atomic_int stopping;
} tracker;

typedef struct tracker_handle {
    tracker *t;
} tracker_handle;

/* What the NIF keeps in each tracker entry; per owner, it keeps the
 * owner's monitor (one per owner, not per request: an owner that tracks
 * request after request is monitored once). */
typedef struct entry_payload {
    ErlNifPid owner;
} entry_payload;

static ERL_NIF_TERM atom_ok, atom_error, atom_true, atom_false, atom_closed,
    atom_full, atom_exists, atom_noproc, atom_out_of_memory,
    atom_stanza_timeout, atom_capacity, atom_size, atom_memory;

static const dedup_alloc dedup_allocator = {enif_alloc, enif_free};
static const rt_alloc rt_allocator = {enif_alloc, enif_free};

static ERL_NIF_TERM out_of_memory(ErlNifEnv *env)
{
    return enif_raise_exception(env, atom_out_of_memory);
}

static int random_key(siphash_key *key)
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return 0;
    *key = siphash_key_from_bytes(bytes);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Ids                                                                     */

static ERL_NIF_TERM make_id(ErlNifEnv *env, const unsigned char *bytes)
{
    ERL_NIF_TERM bin;
    unsigned char *p = enif_make_new_binary(env, ID_CHARS, &bin);
    if (!p)
        return out_of_memory(env);
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

/* ---------------------------------------------------------------------- */
/* Duplicate table                                                         */

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
        return out_of_memory(env);
    memset(d, 0, sizeof *d);
    d->module = m;
    atomic_fetch_add(&m->live_dedup_tables, 1);
    d->lock = enif_mutex_create("stanza_dedup");
    d->table = dedup_new(&dedup_allocator, capacity, ttl);
    if (!d->lock || !d->table || !random_key(&d->key)) {
        enif_release_resource(d);
        return out_of_memory(env);
    }
    ERL_NIF_TERM term = enif_make_resource(env, d);
    enif_release_resource(d);
    return term;
}

/* dedup_new(Capacity, TtlMs) */
static ERL_NIF_TERM dedup_new_nif(ErlNifEnv *env, int argc,
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
static ERL_NIF_TERM dedup_seen_nif(ErlNifEnv *env, int argc,
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
        return atom_closed;
    return seen ? atom_true : atom_false;
}

static ERL_NIF_TERM dedup_stats_nif(ErlNifEnv *env, int argc,
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
        return atom_closed;
    ERL_NIF_TERM keys[3] = {atom_size, atom_capacity, atom_memory};
    ERL_NIF_TERM values[3] = {enif_make_uint64(env, size),
                              enif_make_uint64(env, capacity),
                              enif_make_uint64(env, memory)};
    ERL_NIF_TERM map;
    if (!enif_make_map_from_arrays(env, keys, values, 3, &map))
        return out_of_memory(env);
    return map;
}

/* Frees the table now rather than at garbage collection. */
static ERL_NIF_TERM dedup_close_nif(ErlNifEnv *env, int argc,
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
    return atom_ok;
}

/* ---------------------------------------------------------------------- */
/* Tracker: the timer thread                                               */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sends {stanza_timeout, Key} to each entry's owner, outside the lock. */
static void deliver(tracker *t, ErlNifEnv *msg_env, rt_entry **batch, int n)
{
    for (int i = 0; i < n; i++) {
        entry_payload *p = rt_payload(batch[i]);
        ERL_NIF_TERM key;
        if (term_key_decode(msg_env, rt_key(t->rt, batch[i]),
                            batch[i]->key_len, &key)) {
            ERL_NIF_TERM msg =
                enif_make_tuple2(msg_env, atom_stanza_timeout, key);
            (void)enif_send(NULL, &p->owner, msg_env, msg);
        }
        enif_clear_env(msg_env);
    }
}

/* Stops monitoring the owners idle longest, beyond the tracker's limit.
 * Called with t->lock held (ERTS never calls into the tracker holding
 * the monitor lock, so the order is safe). env is NULL on the timer
 * thread, which holds a reference to t. */
static void drop_idle_owners(ErlNifEnv *env, tracker *t)
{
    ErlNifMonitor mon;
    while (rt_pop_idle_owner(t->rt, &mon))
        (void)enif_demonitor_process(env, t, &mon);
}

static void *timer_main(void *arg)
{
    tracker *t = arg;
    ErlNifEnv *msg_env = enif_alloc_env();
    rt_entry *batch[EXPIRY_BATCH];
    pthread_mutex_lock(&t->lock);
    while (!atomic_load(&t->stopping)) {
        int n = 0;
        int64_t now = now_ns();
        rt_entry *e;
        while (n < EXPIRY_BATCH && (e = rt_pop_expired(t->rt, now)))
            batch[n++] = e;
        if (n > 0) {
            pthread_mutex_unlock(&t->lock);
            if (msg_env)
                deliver(t, msg_env, batch, n);
            pthread_mutex_lock(&t->lock);
            for (int i = 0; i < n; i++)
                rt_entry_free(t->rt, batch[i]);
            drop_idle_owners(NULL, t);
            continue;
        }
        int64_t next = rt_next_deadline(t->rt);
        if (next == INT64_MAX)
            next = now + IDLE_NS;
        t->sleeping_until = next;
        {
            struct timespec ts = {(time_t)(next / 1000000000LL),
                                  (long)(next % 1000000000LL)};
            pthread_cond_timedwait(&t->wake, &t->lock, &ts);
        }
    }
    pthread_mutex_unlock(&t->lock);
    if (msg_env)
        enif_free_env(msg_env);
    /* The thread's reference: the tracker may go now. */
    enif_release_resource(t);
    return NULL;
}

/* Called with t->lock held. */
static int start_timer(tracker *t)
{
    if (t->thread_started)
        return 1;
    enif_keep_resource(t);
    if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
        enif_release_resource(t);
        return 0;
    }
    t->thread_started = 1;
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Tracker: resources                                                      */

static void tracker_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    tracker *t = obj;
    rt_free(t->rt);
    if (t->sync_ready) {
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->wake);
    }
    atomic_fetch_sub(&t->module->live_trackers, 1);
}

/* An owner died: drop its entries and forget it. */
static void tracker_down(ErlNifEnv *env, void *obj, ErlNifPid *pid,
                         ErlNifMonitor *mon)
{
    (void)env;
    (void)mon;
    tracker *t = obj;
    pthread_mutex_lock(&t->lock);
    rt_entry *e;
    while ((e = rt_pop_owner(t->rt, (uint64_t)pid->pid)))
        rt_entry_free(t->rt, e);
    (void)rt_forget_owner(t->rt, (uint64_t)pid->pid);
    pthread_mutex_unlock(&t->lock);
}

/* The user's handle went: stop the thread, which then lets go of the
 * tracker. The join waits for at most one batch of deliveries. ERTS runs
 * destructors on a scheduler, never on our thread; should that change,
 * a thread cannot join itself, so it is detached and finishes alone. */
static void handle_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    tracker_handle *h = obj;
    tracker *t = h->t;
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    atomic_store(&t->stopping, 1);
    int started = t->thread_started;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    if (started) {
        if (pthread_equal(pthread_self(), t->thread))
            pthread_detach(t->thread);
        else
            pthread_join(t->thread, NULL);
    }
    enif_release_resource(t);
}

static int init_sync(tracker *t)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return 0;
    int ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&t->wake, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ok)
        return 0;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        pthread_cond_destroy(&t->wake);
        return 0;
    }
    return 1;
}

/* tracker_new(Capacity) */
static ERL_NIF_TERM tracker_new_nif(ErlNifEnv *env, int argc,
                                    const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    unsigned capacity;
    if (!enif_get_uint(env, argv[0], &capacity) || capacity == 0 ||
        capacity > RT_MAX_CAPACITY)
        return enif_make_badarg(env);
    tracker *t = enif_alloc_resource(m->tracker_type, sizeof *t);
    if (!t)
        return out_of_memory(env);
    memset(t, 0, sizeof *t);
    t->module = m;
    t->sleeping_until = INT64_MAX;
    atomic_init(&t->stopping, 0);
    atomic_fetch_add(&m->live_trackers, 1);
    siphash_key key;
    t->sync_ready = init_sync(t);
    if (t->sync_ready && random_key(&key))
        t->rt = rt_new(&rt_allocator, capacity, capacity, sizeof(entry_payload),
                       sizeof(ErlNifMonitor), &key);
    tracker_handle *h =
        t->rt ? enif_alloc_resource(m->handle_type, sizeof *h) : NULL;
    if (!h) {
        enif_release_resource(t);
        return out_of_memory(env);
    }
    h->t = t; /* the handle's reference is the one from alloc */
    ERL_NIF_TERM term = enif_make_resource(env, h);
    enif_release_resource(h);
    return term;
}

static int get_tracker(ErlNifEnv *env, ERL_NIF_TERM term, tracker **out)
{
    module_state *m = enif_priv_data(env);
    tracker_handle *h;
    if (!enif_get_resource(env, term, m->handle_type, (void **)&h) || !h->t)
        return 0;
    *out = h->t;
    return 1;
}

static ERL_NIF_TERM error_tuple(ErlNifEnv *env, ERL_NIF_TERM reason)
{
    return enif_make_tuple2(env, atom_error, reason);
}

/* tracker_track(Tracker, Key, Owner, TimeoutMs): TimeoutMs -1 is
 * infinity. */
static ERL_NIF_TERM tracker_track_nif(ErlNifEnv *env, int argc,
                                      const ERL_NIF_TERM argv[])
{
    (void)argc;
    tracker *t;
    ErlNifPid owner;
    ErlNifSInt64 timeout;
    term_key key;
    if (!get_tracker(env, argv[0], &t) ||
        !enif_get_local_pid(env, argv[2], &owner) ||
        !enif_get_int64(env, argv[3], &timeout) || timeout < -1 ||
        timeout > MAX_TIMEOUT_MS ||
        !term_key_encode(env, argv[1], RT_MAX_KEY, &key))
        return enif_make_badarg(env);
    int64_t deadline =
        timeout < 0 ? INT64_MAX : now_ns() + timeout * 1000000LL;
    ERL_NIF_TERM reply = atom_ok;
    pthread_mutex_lock(&t->lock);
    rt_entry *e = NULL;
    void *new_owner = NULL;
    rt_result r = start_timer(t)
                      ? rt_insert(t->rt, key.data, key.size,
                                  (uint64_t)owner.pid, deadline, &e,
                                  &new_owner)
                      : RT_NO_MEMORY;
    if (r == RT_OK) {
        ((entry_payload *)rt_payload(e))->owner = owner;
        /* Monitoring under the lock: the down callback for this owner
         * then cannot run before its entry is complete. */
        if (new_owner &&
            enif_monitor_process(env, t, &owner, new_owner) != 0) {
            rt_entry *gone = rt_take(t->rt, key.data, key.size);
            rt_entry_free(t->rt, gone);
            (void)rt_forget_owner(t->rt, (uint64_t)owner.pid);
            reply = error_tuple(env, atom_noproc);
        } else if (deadline < t->sleeping_until) {
            t->sleeping_until = deadline;
            pthread_cond_signal(&t->wake);
        }
    } else if (r == RT_FULL) {
        reply = error_tuple(env, atom_full);
    } else if (r == RT_EXISTS) {
        reply = error_tuple(env, atom_exists);
    }
    pthread_mutex_unlock(&t->lock);
    term_key_release(&key);
    if (r == RT_NO_MEMORY || r == RT_TOO_BIG)
        return out_of_memory(env);
    return reply;
}

/* tracker_take(Tracker, Key): {ok, Owner} | error */
static ERL_NIF_TERM tracker_take_nif(ErlNifEnv *env, int argc,
                                     const ERL_NIF_TERM argv[])
{
    (void)argc;
    tracker *t;
    term_key key;
    if (!get_tracker(env, argv[0], &t) ||
        !term_key_encode(env, argv[1], RT_MAX_KEY, &key))
        return enif_make_badarg(env);
    pthread_mutex_lock(&t->lock);
    rt_entry *e = rt_take(t->rt, key.data, key.size);
    ErlNifPid owner;
    if (e) {
        owner = ((entry_payload *)rt_payload(e))->owner;
        rt_entry_free(t->rt, e);
        drop_idle_owners(env, t);
    }
    pthread_mutex_unlock(&t->lock);
    term_key_release(&key);
    if (!e)
        return atom_error;
    return enif_make_tuple2(env, atom_ok, enif_make_pid(env, &owner));
}

static ERL_NIF_TERM tracker_stats_nif(ErlNifEnv *env, int argc,
                                      const ERL_NIF_TERM argv[])
{
    (void)argc;
    tracker *t;
    if (!get_tracker(env, argv[0], &t))
        return enif_make_badarg(env);
    pthread_mutex_lock(&t->lock);
    size_t size = rt_size(t->rt), capacity = rt_capacity(t->rt),
           memory = rt_memory(t->rt);
    pthread_mutex_unlock(&t->lock);
    ERL_NIF_TERM keys[3] = {atom_size, atom_capacity, atom_memory};
    ERL_NIF_TERM values[3] = {enif_make_uint64(env, size),
                              enif_make_uint64(env, capacity),
                              enif_make_uint64(env, memory)};
    ERL_NIF_TERM map;
    if (!enif_make_map_from_arrays(env, keys, values, 3, &map))
        return out_of_memory(env);
    return map;
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
/* Loading                                                                 */

static void make_atoms(ErlNifEnv *env)
{
    atom_ok = enif_make_atom(env, "ok");
    atom_error = enif_make_atom(env, "error");
    atom_true = enif_make_atom(env, "true");
    atom_false = enif_make_atom(env, "false");
    atom_closed = enif_make_atom(env, "closed");
    atom_full = enif_make_atom(env, "full");
    atom_exists = enif_make_atom(env, "exists");
    atom_noproc = enif_make_atom(env, "noproc");
    atom_out_of_memory = enif_make_atom(env, "out_of_memory");
    atom_stanza_timeout = enif_make_atom(env, "stanza_timeout");
    atom_capacity = enif_make_atom(env, "capacity");
    atom_size = enif_make_atom(env, "size");
    atom_memory = enif_make_atom(env, "memory");
}

static int open_types(ErlNifEnv *env, module_state *m)
{
    ErlNifResourceTypeInit tracker_init = {
        .dtor = tracker_dtor, .stop = NULL, .down = tracker_down};
    m->dedup_type = enif_open_resource_type(
        env, NULL, "stanza_dedup", dedup_dtor, ERL_NIF_RT_CREATE, NULL);
    m->tracker_type = enif_open_resource_type_x(
        env, "stanza_tracker", &tracker_init, ERL_NIF_RT_CREATE, NULL);
    m->handle_type = enif_open_resource_type(
        env, NULL, "stanza_tracker_handle", handle_dtor, ERL_NIF_RT_CREATE,
        NULL);
    return m->dedup_type && m->tracker_type && m->handle_type;
}

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    (void)info;
    module_state *m = enif_alloc(sizeof *m);
    if (!m)
        return 1;
    memset(m, 0, sizeof *m);
    if (!open_types(env, m) ||
        RAND_bytes(m->id_prefix, sizeof m->id_prefix) != 1) {
        enif_free(m);
        return 1;
    }
    atomic_init(&m->id_counter, 0);
    atomic_init(&m->live_dedup_tables, 0);
    atomic_init(&m->live_trackers, 0);
    make_atoms(env);
    *priv = m;
    return 0;
}

static void unload(ErlNifEnv *env, void *priv)
{
    (void)env;
    enif_free(priv);
}

static ErlNifFunc nif_funcs[] = {
    {"new_id", 0, new_id_nif, 0},
    {"random_id", 0, random_id_nif, 0},
    {"dedup_new", 2, dedup_new_nif, 0},
    {"dedup_seen", 2, dedup_seen_nif, 0},
    {"dedup_stats", 1, dedup_stats_nif, 0},
    {"dedup_close", 1, dedup_close_nif, 0},
    {"tracker_new", 1, tracker_new_nif, 0},
    {"tracker_track", 4, tracker_track_nif, 0},
    {"tracker_take", 2, tracker_take_nif, 0},
    {"tracker_stats", 1, tracker_stats_nif, 0},
    {"live", 0, live_nif, 0},
};

ERL_NIF_INIT(stanza_ids_nif, nif_funcs, load, NULL, NULL, unload)

/*
 * tracker_nif.c: the request tracker of stanza_ids_nif (stanza_tracker).
 *
 * Tracker. Two resources. The user holds a handle; the handle and the
 * tracker's timer thread each hold a reference to the tracker proper,
 * which carries the monitors on owners. So the thread may demonitor and
 * send while the user's handle is being garbage-collected, and the
 * tracker's memory goes when the last of the two lets go. The thread is
 * started by the first track/4 and sleeps on a condition variable until
 * the earliest deadline (pthreads: enif's condition variables have no
 * timed wait).
 *
 * The tracker is 16 shards, each a lock and a request_tracker core; a
 * key's shard is the top bits of its SipHash, computed before any lock,
 * so concurrent callers mostly take different locks (one lock made two
 * schedulers slower than one). What spans shards: the capacity, an
 * atomic count of slots that shards take in chunks and hold as credit,
 * with a slow path over all shards when it runs out, so the bound stays
 * exact (see reserve_slot); the timer thread, which scans all shards at
 * one instant; and owner death, which visits all shards.
 * Owners are monitored once per shard they use (at most 16 monitors),
 * and stay monitored there while idle up to ceil(capacity / 16) idle
 * owners per shard: monitoring per request would send two signals to
 * the owner per request, which made track+take ten times slower.
 */
#include <erl_nif.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "ids_nif.h"
#include "request_tracker.h"
#include "siphash.h"
#include "term_key.h"

/* Timeouts are capped at 2^40 ms (about 35 years) so that a deadline in
 * nanoseconds never overflows. */
#define MAX_TIMEOUT_MS (1LL << 40)
/* A value stored with a request is data for the reply, not a document. */
#define MAX_VALUE_BYTES (1u << 20)
/* An idle timer thread still wakes this often: then track/4 need not
 * wake it for any request whose timeout is longer (the common case). */
#define IDLE_NS 10000000000LL
/* Expired entries the timer thread takes from each shard per pass. */
#define EXPIRY_BATCH 64

/* Shards of a tracker: a key's shard is the top bits of its hash, so
 * callers with different keys mostly take different locks. A power of
 * two; 16 is well above the scheduler counts this runs on and costs
 * 16 small locks and tables per tracker. */
#define SHARD_BITS 4
#define SHARDS (1 << SHARD_BITS)
/* Bytes per shard, so that two shards' locks never share a cache line
 * (resource memory is only 8- or 16-byte aligned: padding, not
 * _Alignas). */
#define SHARD_BYTES 128

/* Slots of the capacity a shard takes from the tracker's count at once,
 * and keeps (as credit) while it has no entry for them, up to twice
 * this: see reserve_slot. */
#define CREDIT_CHUNK 8

typedef struct shard {
    pthread_mutex_t lock;
    rt_table *rt;
    uint32_t credit; /* slots taken from the count, not used by entries */
    char pad[SHARD_BYTES - sizeof(pthread_mutex_t) - sizeof(rt_table *) -
             sizeof(uint32_t)];
} shard;
_Static_assert(sizeof(shard) == SHARD_BYTES, "a shard fills its padding");

/* A counter alone on its cache lines: written whenever a shard's credit
 * runs out or overflows (from any core), and the fields read by every
 * call should not move with it. */
typedef struct padded_count {
    char before[64];
    atomic_uint value;
    char after[64 - sizeof(atomic_uint)];
} padded_count;

typedef struct tracker {
    shard shards[SHARDS];
    int shards_ready; /* initialised shards, for the destructor */
    /* Entries in all shards plus the shards' credit: reserved (never
     * past capacity) before an entry goes in, given back when the
     * shards' credit grows, so the capacity holds for the whole
     * tracker. */
    padded_count count;
    uint32_t capacity;
    module_state *module;
    /* The timer thread's lock and condition variable; they cover
     * thread_started, stopping and the thread's sleep. */
    pthread_mutex_t timer_lock;
    pthread_cond_t wake;
    int sync_ready;
    pthread_t thread;
    atomic_int thread_started;
    atomic_int stopping;
    /* The deadline the thread sleeps until (INT64_MAX while it scans the
     * shards), so that track/4 takes timer_lock only for an earlier
     * one: a steady flow of requests with equal timeouts then costs one
     * atomic load each. Written under timer_lock. */
    atomic_int_fast64_t sleeping_until;
    struct expiry_pass *pass; /* the timer thread's, made with it */
    /* The tracker's id (a reference made by stanza_tracker:new/1), in
     * its own environment: every timeout message carries it, so that an
     * owner using several trackers knows which one a message is from. */
    ErlNifEnv *id_env;
    ERL_NIF_TERM id;
    /* Set by close/1: no entry comes in any more (checked under the
     * shard's lock), and the timer thread is stopped. */
    atomic_int closed;
    int thread_joined; /* under timer_lock */
} tracker;

typedef struct tracker_handle {
    tracker *t;
} tracker_handle;

/* What the NIF keeps in each tracker entry; per owner, it keeps the
 * owner's monitor (one per owner, not per request: an owner that tracks
 * request after request is monitored once). */
typedef struct entry_payload {
    ErlNifPid owner;
    /* The value stored with the request (external term format), when it
     * is not the atom undefined: released whenever the entry goes. */
    int has_value;
    ErlNifBinary value;
} entry_payload;

/* Frees an entry and the value it holds. */
static void entry_free(rt_table *rt, rt_entry *e)
{
    entry_payload *p = rt_payload(e);
    if (p->has_value)
        enif_release_binary(&p->value);
    rt_entry_free(rt, e);
}

static const rt_alloc rt_allocator = {enif_alloc, enif_free};

/* ---------------------------------------------------------------------- */
/* Tracker: shards and the capacity                                        */

static shard *shard_of(tracker *t, uint64_t hash)
{
    return &t->shards[hash >> (64 - SHARD_BITS)];
}

/* A shard's lock is held for a fraction of a microsecond, but a
 * contended pthread_mutex_lock sleeps in the kernel and the holder then
 * pays a futex wake: measured with 8 processes on 2 schedulers, those
 * two took a sixth of the time. So a caller first retries for about a
 * microsecond or two, then blocks (bounded spinning: a holder descheduled
 * by the OS costs at most that). */
#define SPIN_TRIES 64

static void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void shard_lock(shard *s)
{
    for (int i = 0; i < SPIN_TRIES; i++) {
        if (pthread_mutex_trylock(&s->lock) == 0)
            return;
        cpu_pause();
    }
    pthread_mutex_lock(&s->lock);
}

/* The capacity. Every entry holds one slot of it; a shard also holds
 * slots no entry uses (its credit), so that a caller usually reserves
 * and releases under its shard's lock alone: one shared counter written
 * by every call made the cores pass its cache line back and forth. The
 * tracker's count is entries plus credit of all shards, never past the
 * capacity. A shard without credit takes up to CREDIT_CHUNK slots at
 * once (compare-and-swap, never past the capacity); a shard whose credit
 * passes 2 * CREDIT_CHUNK gives all but CREDIT_CHUNK back. When the
 * count is at the capacity, credit may still sit in other shards: the
 * caller then takes every shard's lock (in index order), gives all
 * credit back and tries once more, so {error, full} means the entries
 * alone fill the capacity (with every lock held, no insert or removal is
 * under way). All of it under the shard's lock; the count is a bound
 * only (the locks order the entries): relaxed order suffices. */
typedef struct reservation {
    tracker *t;
    shard *s;
    int made;
} reservation;

/* The admit callback of rt_insert_hashed (the key is new): one slot
 * from the shard's credit, else a chunk from the count. */
static int reserve_slot(void *ctx)
{
    reservation *r = ctx;
    if (r->s->credit > 0) {
        r->s->credit--;
        r->made = 1;
        return 1;
    }
    atomic_uint *count = &r->t->count.value;
    uint32_t capacity = r->t->capacity;
    unsigned n = atomic_load_explicit(count, memory_order_relaxed), k;
    do {
        if (n >= capacity)
            return 0;
        k = capacity - n < CREDIT_CHUNK ? capacity - n : CREDIT_CHUNK;
    } while (!atomic_compare_exchange_weak_explicit(
        count, &n, n + k, memory_order_relaxed, memory_order_relaxed));
    r->s->credit += k - 1;
    r->made = 1;
    return 1;
}

/* n entries left shard s (take, expiry, owner death, a failed insert):
 * their slots become its credit, the excess goes back to the count.
 * Called with s->lock held. */
static void release_slots(tracker *t, shard *s, unsigned n)
{
    s->credit += n;
    if (s->credit > 2 * CREDIT_CHUNK) {
        unsigned give = s->credit - CREDIT_CHUNK;
        s->credit = CREDIT_CHUNK;
        atomic_fetch_sub_explicit(&t->count.value, give,
                                  memory_order_relaxed);
    }
}

/* Takes every shard's lock, in index order (the only place that holds
 * more than one), and gives all credit back to the count. */
static void lock_all_and_drain(tracker *t)
{
    unsigned credit = 0;
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &t->shards[i];
        shard_lock(s);
        credit += s->credit;
        s->credit = 0;
    }
    if (credit)
        atomic_fetch_sub_explicit(&t->count.value, credit,
                                  memory_order_relaxed);
}

static void unlock_all(tracker *t)
{
    for (int i = SHARDS - 1; i >= 0; i--)
        pthread_mutex_unlock(&t->shards[i].lock);
}

/* ---------------------------------------------------------------------- */
/* Tracker: the timer thread                                               */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sends {stanza_timeout, TrackerId, Key} to e's owner. */
static void deliver(tracker *t, rt_table *rt, ErlNifEnv *msg_env,
                    rt_entry *e)
{
    entry_payload *p = rt_payload(e);
    ERL_NIF_TERM key;
    if (term_key_decode(msg_env, rt_key(rt, e), e->key_len, &key)) {
        ERL_NIF_TERM msg =
            enif_make_tuple3(msg_env, ids_atom.stanza_timeout,
                             enif_make_copy(msg_env, t->id), key);
        (void)enif_send(NULL, &p->owner, msg_env, msg);
    }
    enif_clear_env(msg_env);
}

/* The expired entries of one pass, per shard, each shard's earliest
 * first: delivered merged by deadline, so that all entries expired at
 * the pass's instant go out earliest first across shards (unless a
 * shard has more than EXPIRY_BATCH of them: then per shard only). */
struct expiry_pass {
    rt_entry *batch[SHARDS][EXPIRY_BATCH];
    int n[SHARDS];
};
typedef struct expiry_pass expiry_pass;

static void deliver_merged(tracker *t, ErlNifEnv *msg_env, expiry_pass *x)
{
    int pos[SHARDS] = {0};
    for (;;) {
        int best = -1;
        for (int s = 0; s < SHARDS; s++)
            if (pos[s] < x->n[s] &&
                (best < 0 || x->batch[s][pos[s]]->deadline <
                                 x->batch[best][pos[best]]->deadline))
                best = s;
        if (best < 0)
            return;
        deliver(t, t->shards[best].rt, msg_env, x->batch[best][pos[best]++]);
    }
}

/* Stops monitoring the owners idle longest in shard s, beyond its limit.
 * Called with s->lock held (ERTS never calls into the tracker holding
 * the monitor lock, so the order is safe). env is NULL on the timer
 * thread, which holds a reference to t. */
static void drop_idle_owners(ErlNifEnv *env, tracker *t, shard *s)
{
    ErlNifMonitor mon;
    while (rt_pop_idle_owner(s->rt, &mon))
        (void)enif_demonitor_process(env, t, &mon);
}

/* One pass over the shards at one instant: takes what expired (up to
 * EXPIRY_BATCH per shard), delivers it outside the locks, then frees it
 * under them (the entries' bytes are counted per shard). Returns the
 * entries handled; *next is the earliest deadline left. */
static int expire_pass(tracker *t, ErlNifEnv *msg_env, expiry_pass *x,
                       int64_t *next)
{
    int64_t now = now_ns();
    int total = 0;
    *next = INT64_MAX;
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &t->shards[i];
        rt_entry *e;
        x->n[i] = 0;
        shard_lock(s);
        while (x->n[i] < EXPIRY_BATCH && (e = rt_pop_expired(s->rt, now)))
            x->batch[i][x->n[i]++] = e;
        release_slots(t, s, (unsigned)x->n[i]);
        int64_t d = rt_next_deadline(s->rt);
        pthread_mutex_unlock(&s->lock);
        total += x->n[i];
        if (d < *next)
            *next = d;
    }
    if (total == 0)
        return 0;
    if (msg_env)
        deliver_merged(t, msg_env, x);
    for (int i = 0; i < SHARDS; i++) {
        if (x->n[i] == 0)
            continue;
        shard *s = &t->shards[i];
        shard_lock(s);
        for (int j = 0; j < x->n[i]; j++)
            entry_free(s->rt, x->batch[i][j]);
        drop_idle_owners(NULL, t, s);
        pthread_mutex_unlock(&s->lock);
    }
    return total;
}

/* The thread scans the shards with sleeping_until at INT64_MAX, so that
 * a track/4 whose shard was already scanned announces its deadline
 * (under timer_lock); it then sleeps until the earliest of what it saw
 * and what was announced. A track/4 inserts under its shard's lock and
 * reads sleeping_until after: either the scan saw the entry, or the
 * scan's lock of that shard came first and the track sees INT64_MAX
 * (or an announced deadline no later than its own), so no deadline is
 * missed. */
static void *timer_main(void *arg)
{
    tracker *t = arg;
    ErlNifEnv *msg_env = enif_alloc_env();
    expiry_pass *x = t->pass;
    pthread_mutex_lock(&t->timer_lock);
    while (!atomic_load(&t->stopping)) {
        atomic_store(&t->sleeping_until, INT64_MAX);
        pthread_mutex_unlock(&t->timer_lock);
        int64_t next;
        int handled = expire_pass(t, msg_env, x, &next);
        pthread_mutex_lock(&t->timer_lock);
        if (handled > 0)
            continue;
        int64_t announced = atomic_load(&t->sleeping_until);
        if (announced < next)
            next = announced;
        if (next == INT64_MAX)
            next = now_ns() + IDLE_NS;
        atomic_store(&t->sleeping_until, next);
        if (atomic_load(&t->stopping))
            break;
        struct timespec ts = {(time_t)(next / 1000000000LL),
                              (long)(next % 1000000000LL)};
        pthread_cond_timedwait(&t->wake, &t->timer_lock, &ts);
    }
    pthread_mutex_unlock(&t->timer_lock);
    if (msg_env)
        enif_free_env(msg_env);
    /* The thread's reference: the tracker may go now. */
    enif_release_resource(t);
    return NULL;
}

/* Starts the thread once; the flag is read without the lock first, so
 * that only the first track/4 takes timer_lock for this. */
static int start_timer(tracker *t)
{
    if (atomic_load_explicit(&t->thread_started, memory_order_acquire))
        return 1;
    int ok = 1;
    pthread_mutex_lock(&t->timer_lock);
    /* After stop_timer (close/1, or the handle's end) no thread starts. */
    if (!atomic_load_explicit(&t->thread_started, memory_order_relaxed) &&
        !atomic_load(&t->stopping)) {
        /* The thread's pass buffer (8 KB), allocated here so that a
         * failure is the caller's out_of_memory; the tracker frees it. */
        if (!t->pass)
            t->pass = enif_alloc(sizeof *t->pass);
        if (!t->pass) {
            pthread_mutex_unlock(&t->timer_lock);
            return 0;
        }
        enif_keep_resource(t);
        if (pthread_create(&t->thread, NULL, timer_main, t) == 0) {
            atomic_store_explicit(&t->thread_started, 1,
                                  memory_order_release);
        } else {
            enif_release_resource(t);
            ok = 0;
        }
    }
    pthread_mutex_unlock(&t->timer_lock);
    return ok;
}

/* Wakes the thread if deadline is earlier than what it sleeps until. */
static void announce_deadline(tracker *t, int64_t deadline)
{
    if (deadline >= atomic_load(&t->sleeping_until))
        return;
    pthread_mutex_lock(&t->timer_lock);
    if (deadline < atomic_load(&t->sleeping_until)) {
        atomic_store(&t->sleeping_until, deadline);
        pthread_cond_signal(&t->wake);
    }
    pthread_mutex_unlock(&t->timer_lock);
}

/* ---------------------------------------------------------------------- */
/* Tracker: resources                                                      */

/* Frees every entry of shard s (and the values they hold), gives their
 * slots back and stops monitoring its owners. With s->lock held, or from
 * the destructor (env NULL: nothing else can reach the tracker then). */
static void drain_shard(ErlNifEnv *env, tracker *t, shard *s, int demonitor)
{
    unsigned dropped = 0;
    rt_entry *e;
    while ((e = rt_pop_expired(s->rt, INT64_MAX))) {
        entry_free(s->rt, e);
        dropped++;
    }
    release_slots(t, s, dropped);
    if (demonitor) {
        rt_set_idle_max(s->rt, 0);
        drop_idle_owners(env, t, s);
    }
}

static void tracker_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    tracker *t = obj;
    for (int i = 0; i < t->shards_ready; i++) {
        drain_shard(NULL, t, &t->shards[i], 0);
        rt_free(t->shards[i].rt);
        pthread_mutex_destroy(&t->shards[i].lock);
    }
    if (t->sync_ready) {
        pthread_mutex_destroy(&t->timer_lock);
        pthread_cond_destroy(&t->wake);
    }
    enif_free(t->pass);
    if (t->id_env)
        enif_free_env(t->id_env);
    atomic_fetch_sub(&t->module->live_trackers, 1);
}

/* An owner died: drop its entries and forget it, in every shard. An
 * owner is monitored once per shard it used, and this cannot tell which
 * monitor fired, so each call visits all shards; the later calls for
 * the same owner find nothing (idempotent). */
static void tracker_down(ErlNifEnv *env, void *obj, ErlNifPid *pid,
                         ErlNifMonitor *mon)
{
    (void)env;
    (void)mon;
    tracker *t = obj;
    for (int i = 0; i < t->shards_ready; i++) {
        shard *s = &t->shards[i];
        unsigned dropped = 0;
        rt_entry *e;
        shard_lock(s);
        while ((e = rt_pop_owner(s->rt, (uint64_t)pid->pid))) {
            entry_free(s->rt, e);
            dropped++;
        }
        (void)rt_forget_owner(s->rt, (uint64_t)pid->pid);
        release_slots(t, s, dropped);
        pthread_mutex_unlock(&s->lock);
    }
}

/* Stops the timer thread and waits for it; once: later calls, and a
 * start_timer after it, do nothing. The join waits for at most one pass
 * of deliveries. ERTS runs destructors and NIFs on schedulers, never on
 * our thread; should that change, a thread cannot join itself, so it is
 * detached and finishes alone. */
static void stop_timer(tracker *t)
{
    pthread_mutex_lock(&t->timer_lock);
    atomic_store(&t->stopping, 1);
    int join = atomic_load(&t->thread_started) && !t->thread_joined;
    t->thread_joined = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->timer_lock);
    if (join) {
        if (pthread_equal(pthread_self(), t->thread))
            pthread_detach(t->thread);
        else
            pthread_join(t->thread, NULL);
    }
}

/* The user's handle went: stop the thread, which then lets go of the
 * tracker, and let go of it too. */
static void handle_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    tracker_handle *h = obj;
    tracker *t = h->t;
    if (!t)
        return;
    stop_timer(t);
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
    if (pthread_mutex_init(&t->timer_lock, NULL) != 0) {
        pthread_cond_destroy(&t->wake);
        return 0;
    }
    return 1;
}

/* Makes the shards, each with its lock and a core sized for its share of
 * the capacity plus a margin (the heap then practically never grows: a
 * shard would need its share plus an eighth plus 64 entries), each
 * bounded by the whole capacity (all keys could land in one shard). The
 * idle-owner limit is per shard, the share: about capacity in total. */
static int init_shards(tracker *t, uint32_t capacity)
{
    siphash_key key;
    if (!ids_random_key(&key))
        return 0;
    uint32_t share = (capacity + SHARDS - 1) / SHARDS;
    uint64_t initial = (uint64_t)share + share / 8 + 64;
    if (initial > capacity)
        initial = capacity;
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &t->shards[i];
        if (pthread_mutex_init(&s->lock, NULL) != 0)
            return 0;
        s->rt = rt_new(&rt_allocator, capacity, (uint32_t)initial,
                       sizeof(entry_payload), sizeof(ErlNifMonitor), &key);
        if (!s->rt) {
            pthread_mutex_destroy(&s->lock);
            return 0;
        }
        rt_set_idle_max(s->rt, share);
        t->shards_ready++;
    }
    return 1;
}

/* tracker_new(Capacity, Id): Id is a reference, put in timeout messages. */
ERL_NIF_TERM tracker_new_nif(ErlNifEnv *env, int argc,
                                    const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    unsigned capacity;
    if (!enif_get_uint(env, argv[0], &capacity) || capacity == 0 ||
        capacity > RT_MAX_CAPACITY || !enif_is_ref(env, argv[1]))
        return enif_make_badarg(env);
    tracker *t = enif_alloc_resource(m->tracker_type, sizeof *t);
    if (!t)
        return ids_out_of_memory(env);
    memset(t, 0, sizeof *t);
    t->module = m;
    t->capacity = capacity;
    atomic_init(&t->count.value, 0);
    atomic_init(&t->sleeping_until, INT64_MAX);
    atomic_init(&t->thread_started, 0);
    atomic_init(&t->stopping, 0);
    atomic_init(&t->closed, 0);
    atomic_fetch_add(&m->live_trackers, 1);
    t->id_env = enif_alloc_env();
    if (t->id_env)
        t->id = enif_make_copy(t->id_env, argv[1]);
    t->sync_ready = init_sync(t);
    int ready = t->id_env && t->sync_ready && init_shards(t, capacity);
    tracker_handle *h =
        ready ? enif_alloc_resource(m->handle_type, sizeof *h) : NULL;
    if (!h) {
        enif_release_resource(t);
        return ids_out_of_memory(env);
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
    return enif_make_tuple2(env, ids_atom.error, reason);
}

/* One track/4 in shard s, whose lock the caller holds: the entry, its
 * owner's monitor when the owner is new to the shard. *reply is set when
 * the result is RT_OK (ok or noproc), RT_EXISTS or RT_FULL; *tracked
 * when the entry stays. */
static rt_result insert_locked(ErlNifEnv *env, tracker *t, shard *s,
                               const term_key *key, uint64_t hash,
                               ErlNifPid *owner, int64_t deadline,
                               ErlNifBinary *value,
                               ERL_NIF_TERM *reply, int *tracked)
{
    reservation res = {t, s, 0};
    *tracked = 0;
    if (atomic_load(&t->closed)) {
        *reply = error_tuple(env, ids_atom.closed);
        return RT_OK;
    }
    rt_entry *e = NULL;
    void *new_owner = NULL;
    rt_result r = rt_insert_hashed(s->rt, key->data, key->size, hash,
                                   (uint64_t)owner->pid, deadline,
                                   reserve_slot, &res, &e, &new_owner);
    if (r == RT_OK) {
        entry_payload *p = rt_payload(e);
        p->owner = *owner;
        p->has_value = 0;
        /* Monitoring under the lock: the down callback for this owner
         * then cannot run before its entry is complete. */
        if (new_owner &&
            enif_monitor_process(env, t, owner, new_owner) != 0) {
            rt_entry *gone =
                rt_take_hashed(s->rt, key->data, key->size, hash);
            entry_free(s->rt, gone);
            (void)rt_forget_owner(s->rt, (uint64_t)owner->pid);
            release_slots(t, s, 1);
            *reply = error_tuple(env, ids_atom.noproc);
        } else {
            /* The entry owns the value from here on. */
            if (value->size) {
                p->value = *value;
                p->has_value = 1;
                value->size = 0;
            }
            *reply = ids_atom.ok;
            *tracked = 1;
        }
    } else {
        if (res.made) /* reserved, then out of memory */
            release_slots(t, s, 1);
        if (r == RT_FULL)
            *reply = error_tuple(env, ids_atom.full);
        else if (r == RT_EXISTS)
            *reply = error_tuple(env, ids_atom.exists);
    }
    return r;
}

/* The value to store with a request, encoded before any lock: none
 * (size 0) for the atom undefined. 0 when it is too big or memory ran
 * out. */
static int encode_value(ErlNifEnv *env, ERL_NIF_TERM term, ErlNifBinary *out)
{
    out->size = 0;
    if (enif_is_identical(term, ids_atom.undefined))
        return 1;
    if (!enif_term_to_binary(env, term, out))
        return 0;
    if (out->size == 0 || out->size > MAX_VALUE_BYTES) {
        enif_release_binary(out);
        out->size = 0;
        return 0;
    }
    return 1;
}

/* tracker_track(Tracker, Key, Owner, TimeoutMs, Value): TimeoutMs -1 is
 * infinity, Value undefined stores nothing. The key is hashed before any
 * lock; only its shard's lock is taken, unless the tracker looks full
 * (see reserve_slot). {error, closed} after close/1. */
ERL_NIF_TERM tracker_track_nif(ErlNifEnv *env, int argc,
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
    ErlNifBinary value;
    if (!encode_value(env, argv[4], &value)) {
        term_key_release(&key);
        return enif_make_badarg(env);
    }
    if (!start_timer(t)) {
        term_key_release(&key);
        if (value.size)
            enif_release_binary(&value);
        return ids_out_of_memory(env);
    }
    int64_t deadline =
        timeout < 0 ? INT64_MAX : now_ns() + timeout * 1000000LL;
    uint64_t hash = rt_hash(t->shards[0].rt, key.data, key.size);
    shard *s = shard_of(t, hash);
    ERL_NIF_TERM reply = ids_atom.ok;
    int tracked;
    shard_lock(s);
    rt_result r = insert_locked(env, t, s, &key, hash, &owner, deadline,
                                &value, &reply, &tracked);
    pthread_mutex_unlock(&s->lock);
    if (r == RT_FULL) {
        /* Full, or credit left in other shards: decide with every lock
         * held and all credit given back. The key may have come in
         * meanwhile: the insert checks again. */
        lock_all_and_drain(t);
        r = insert_locked(env, t, s, &key, hash, &owner, deadline, &value,
                          &reply, &tracked);
        unlock_all(t);
    }
    term_key_release(&key);
    if (value.size) /* not taken by an entry */
        enif_release_binary(&value);
    if (tracked)
        announce_deadline(t, deadline);
    if (r == RT_NO_MEMORY || r == RT_TOO_BIG)
        return ids_out_of_memory(env);
    return reply;
}

/* tracker_take(Tracker, Key): {ok, Owner, Value} | error. The value is
 * moved out of the entry under the lock and decoded after it. */
ERL_NIF_TERM tracker_take_nif(ErlNifEnv *env, int argc,
                              const ERL_NIF_TERM argv[])
{
    (void)argc;
    tracker *t;
    term_key key;
    if (!get_tracker(env, argv[0], &t) ||
        !term_key_encode(env, argv[1], RT_MAX_KEY, &key))
        return enif_make_badarg(env);
    uint64_t hash = rt_hash(t->shards[0].rt, key.data, key.size);
    shard *s = shard_of(t, hash);
    shard_lock(s);
    rt_entry *e = rt_take_hashed(s->rt, key.data, key.size, hash);
    entry_payload p;
    if (e) {
        p = *(entry_payload *)rt_payload(e);
        rt_entry_free(s->rt, e); /* the value is p's now */
        release_slots(t, s, 1);
        drop_idle_owners(env, t, s);
    }
    pthread_mutex_unlock(&s->lock);
    term_key_release(&key);
    if (!e)
        return ids_atom.error;
    ERL_NIF_TERM value = ids_atom.undefined;
    if (p.has_value) {
        if (!enif_binary_to_term(env, p.value.data, p.value.size, &value, 0))
            value = ids_atom.undefined; /* our own encoding: cannot fail */
        enif_release_binary(&p.value);
    }
    return enif_make_tuple3(env, ids_atom.ok, enif_make_pid(env, &p.owner),
                            value);
}

/* tracker_close(Tracker): no request comes in any more, those pending are
 * dropped without a message (with their values), owners are no longer
 * monitored and the timer thread stops. The memory goes with the handle.
 * Closing twice is fine. */
ERL_NIF_TERM tracker_close_nif(ErlNifEnv *env, int argc,
                               const ERL_NIF_TERM argv[])
{
    (void)argc;
    tracker *t;
    if (!get_tracker(env, argv[0], &t))
        return enif_make_badarg(env);
    atomic_store(&t->closed, 1);
    stop_timer(t);
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &t->shards[i];
        shard_lock(s);
        drain_shard(env, t, s, 1);
        pthread_mutex_unlock(&s->lock);
    }
    return ids_atom.ok;
}

/* tracker_id(Tracker): the reference in its timeout messages. */
ERL_NIF_TERM tracker_id_nif(ErlNifEnv *env, int argc,
                            const ERL_NIF_TERM argv[])
{
    (void)argc;
    tracker *t;
    if (!get_tracker(env, argv[0], &t))
        return enif_make_badarg(env);
    return enif_make_copy(env, t->id);
}

/* Size and memory summed over the shards, each read under its lock. */
ERL_NIF_TERM tracker_stats_nif(ErlNifEnv *env, int argc,
                                      const ERL_NIF_TERM argv[])
{
    (void)argc;
    tracker *t;
    if (!get_tracker(env, argv[0], &t))
        return enif_make_badarg(env);
    size_t size = 0, memory = sizeof *t;
    pthread_mutex_lock(&t->timer_lock); /* start_timer sets t->pass */
    if (t->pass)
        memory += sizeof *t->pass;
    pthread_mutex_unlock(&t->timer_lock);
    for (int i = 0; i < SHARDS; i++) {
        shard *s = &t->shards[i];
        shard_lock(s);
        size += rt_size(s->rt);
        memory += rt_memory(s->rt);
        pthread_mutex_unlock(&s->lock);
    }
    return ids_stats_map(env, size, t->capacity, memory);
}

int tracker_nif_open_types(ErlNifEnv *env, module_state *m,
                           ErlNifResourceFlags flags)
{
    ErlNifResourceTypeInit tracker_init = {
        .dtor = tracker_dtor, .stop = NULL, .down = tracker_down};
    m->tracker_type = enif_open_resource_type_x(env, "stanza_tracker",
                                                &tracker_init, flags, NULL);
    m->handle_type = enif_open_resource_type(
        env, NULL, "stanza_tracker_handle", handle_dtor, flags, NULL);
    return m->tracker_type && m->handle_type;
}

/*
 * stanza_tls_nif: TLS connections as a NIF (module stanza_tls_nif,
 * wrapped by stanza_tls and by the fast_tls compat application).
 *
 * Two resource types: a context (one SSL_CTX, built on a dirty I/O
 * scheduler since it reads files and parses the CA store) and a
 * connection (a mutex and a tls_conn). The Erlang side owns the socket:
 * every call takes the bytes the peer sent and returns the bytes to send.
 *
 * Scheduling. The handshake steps that sign, verify a chain or agree on
 * keys run on a dirty CPU scheduler (see handshake/2): they take up to
 * about a millisecond of CPU here (RSA-2048 signing, OpenSSL 3's
 * certificate decoding). The others stay on the normal scheduler. Data calls run on
 * normal schedulers and are bounded: recv decrypts at most READ_BUDGET
 * bytes of plaintext per call (it says `more' when there is more), and
 * the Erlang side hands send at most MAX_SEND bytes per call. Each call's
 * duration is measured (two clock reads) and the longest kept, per kind,
 * for the benchmark to report (timing/1, max_call_ns/1).
 *
 * Memory. At load, before OpenSSL has allocated anything in this process,
 * CRYPTO_set_mem_functions routes all of OpenSSL's memory through
 * enif_alloc, so erlang:memory sees it. That is only possible when
 * nothing else in the VM (OTP crypto, ssl, another NIF) has touched
 * libcrypto first; memory_routed/0 says which happened (doc/tls.md).
 */
#define _GNU_SOURCE /* dladdr, RTLD_NODELETE */
#include <erl_nif.h>

#include <dlfcn.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_conn.h"
#include "tls_ctx.h"

/* Plaintext decrypted per recv call at most (about 0.1 ms of AES-GCM). */
#define READ_BUDGET (128 * 1024)
/* Plaintext encrypted per send call at most; stanza_tls splits. */
#define MAX_SEND (256 * 1024)
/* Longest file name, host name or cipher string accepted. */
#define MAX_STRING 4096

enum call_kind { CALL_HANDSHAKE, CALL_HANDSHAKE_DIRTY, CALL_DATA, CALL_OTHER, CALL_KINDS };
/* Each kind's longest call by the wall clock and by the calling
 * thread's CPU clock (which leaves out time the OS gave to others). */
enum { WALL = 0, CPU = 1 };

typedef struct module_state {
    ErlNifResourceType *ctx_type;
    ErlNifResourceType *conn_type;
    atomic_long live_conns;
    atomic_long live_ctxs;
    atomic_int timing; /* measure calls (timing/1): off by default */
    atomic_llong max_ns[CALL_KINDS][2];
    int memory_routed;
} module_state;

typedef struct ctx_res {
    SSL_CTX *ctx;
} ctx_res;

typedef struct conn_res {
    ErlNifMutex *lock;
    module_state *module;
    int live;           /* tls_conn initialised and not yet released */
    int server;
    unsigned char *stash; /* plaintext given back by unread/2 */
    size_t stash_len;
    unsigned char *outq;  /* plaintext queued before the handshake ended */
    size_t outq_len;
    tls_conn *conn;     /* the tls_conn_size() bytes right after this */
} conn_res;

static ERL_NIF_TERM am_ok, am_error, am_more, am_closed, am_continue, am_true,
    am_false, am_undefined, am_enomem, am_tls_alert, am_verify_failed,
    am_hostname_mismatch, am_tls_error, am_not_established, am_version,
    am_cipher, am_alpn, am_tlsv12, am_tlsv13, am_none, am_peer, am_report,
    am_server, am_verify, am_certfile, am_keyfile, am_cafile, am_ciphers,
    am_ciphersuites, am_min_version, am_max_version, am_tickets, am_handshake, am_handshake_dirty,
    am_data, am_other, am_self, am_no_peercert, am_enif, am_malloc;

/* ---------------------------------------------------------------------- */
/* Timing                                                                  */

static long long clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

typedef struct call_clock {
    int on;
    long long wall, cpu;
} call_clock;

static call_clock start_call(module_state *m)
{
    call_clock t = {0, 0, 0};
    if (atomic_load_explicit(&m->timing, memory_order_relaxed)) {
        t.on = 1;
        t.wall = clock_ns(CLOCK_MONOTONIC);
        t.cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    }
    return t;
}

static void raise_max(atomic_llong *max, long long d)
{
    long long old = atomic_load(max);
    while (d > old && !atomic_compare_exchange_weak(max, &old, d))
        ;
}

static void note_call(module_state *m, enum call_kind kind, call_clock t)
{
    if (!t.on)
        return;
    raise_max(&m->max_ns[kind][WALL], clock_ns(CLOCK_MONOTONIC) - t.wall);
    raise_max(&m->max_ns[kind][CPU], clock_ns(CLOCK_THREAD_CPUTIME_ID) - t.cpu);
}

/* ---------------------------------------------------------------------- */
/* Binaries as sinks                                                       */

typedef struct bin_sink {
    tls_sink base;
    ErlNifBinary bin;
    size_t len;
    int allocated;
    size_t hint;
} bin_sink;

static int bin_append(tls_sink *s, const unsigned char *bytes, size_t n)
{
    bin_sink *b = (bin_sink *)s;
    if (!b->allocated) {
        size_t cap = n > b->hint ? n : b->hint;
        if (!enif_alloc_binary(cap, &b->bin))
            return 0;
        b->allocated = 1;
    } else if (b->len + n > b->bin.size) {
        size_t cap = b->bin.size * 2;
        if (cap < b->len + n)
            cap = b->len + n;
        if (!enif_realloc_binary(&b->bin, cap))
            return 0;
    }
    memcpy(b->bin.data + b->len, bytes, n);
    b->len += n;
    return 1;
}

static void sink_init(bin_sink *b, size_t hint)
{
    b->base.append = bin_append;
    b->len = 0;
    b->allocated = 0;
    b->hint = hint;
}

/* The sink's bytes as a term; the binary is handed over or released. */
static ERL_NIF_TERM sink_term(ErlNifEnv *env, bin_sink *b)
{
    ERL_NIF_TERM t;
    if (!b->allocated || b->len == 0) {
        if (b->allocated)
            enif_release_binary(&b->bin);
        enif_make_new_binary(env, 0, &t);
        return t;
    }
    /* Shrink only when much is wasted: a shrinking realloc may copy. */
    if (b->len < b->bin.size - b->bin.size / 4)
        enif_realloc_binary(&b->bin, b->len);
    t = enif_make_binary(env, &b->bin);
    if (b->len < b->bin.size)
        t = enif_make_sub_binary(env, t, 0, b->len);
    b->allocated = 0;
    return t;
}

static void sink_drop(bin_sink *b)
{
    if (b->allocated)
        enif_release_binary(&b->bin);
    b->allocated = 0;
}

/* ---------------------------------------------------------------------- */
/* Errors as terms                                                         */

static ERL_NIF_TERM make_string(ErlNifEnv *env, const char *s)
{
    ERL_NIF_TERM t;
    size_t n = s ? strlen(s) : 0;
    unsigned char *p = enif_make_new_binary(env, n, &t);
    if (p && n)
        memcpy(p, s, n);
    return t;
}

/* A fixed table, so no atom is made from what a peer sends. */
static ERL_NIF_TERM alert_term(ErlNifEnv *env, int code)
{
    static const struct { int code; const char *name; } alerts[] = {
        {0, "close_notify"}, {10, "unexpected_message"}, {20, "bad_record_mac"},
        {21, "decryption_failed"}, {22, "record_overflow"},
        {30, "decompression_failure"}, {40, "handshake_failure"},
        {41, "no_certificate"}, {42, "bad_certificate"},
        {43, "unsupported_certificate"}, {44, "certificate_revoked"},
        {45, "certificate_expired"}, {46, "certificate_unknown"},
        {47, "illegal_parameter"}, {48, "unknown_ca"}, {49, "access_denied"},
        {50, "decode_error"}, {51, "decrypt_error"}, {70, "protocol_version"},
        {71, "insufficient_security"}, {80, "internal_error"},
        {86, "inappropriate_fallback"}, {90, "user_canceled"},
        {100, "no_renegotiation"}, {109, "missing_extension"},
        {110, "unsupported_extension"}, {112, "unrecognized_name"},
        {113, "bad_certificate_status_response"}, {115, "unknown_psk_identity"},
        {116, "certificate_required"}, {120, "no_application_protocol"}};
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++)
        if (alerts[i].code == code)
            return enif_make_atom(env, alerts[i].name);
    return enif_make_int(env, code);
}

static ERL_NIF_TERM failure_term(ErlNifEnv *env, conn_res *r)
{
    if (!r->live)
        return am_closed;
    const tls_failure *f = tls_conn_failure(r->conn);
    switch (f->kind) {
    case TLS_F_ALERT:
        return enif_make_tuple2(env, am_tls_alert, alert_term(env, f->alert));
    case TLS_F_VERIFY:
        return enif_make_tuple2(env, am_verify_failed,
                                make_string(env, X509_verify_cert_error_string(f->verify)));
    case TLS_F_HOSTNAME: {
        const char *host = X509_VERIFY_PARAM_get0_host(SSL_get0_param(tls_conn_ssl(r->conn)), 0);
        return enif_make_tuple2(env, am_hostname_mismatch, make_string(env, host));
    }
    case TLS_F_PROTOCOL:
        return enif_make_tuple2(env, am_tls_error, make_string(env, f->reason));
    case TLS_F_NOMEM:
        return am_enomem;
    default:
        return am_not_established;
    }
}

/* ---------------------------------------------------------------------- */
/* Argument helpers                                                        */

/* A binary option as a NUL-terminated string in buf; absent = NULL.
 * Returns 0 for a bad value (embedded NUL, too long, not a binary). */
static int get_string_opt(ErlNifEnv *env, ERL_NIF_TERM map, ERL_NIF_TERM key,
                          char *buf, size_t cap, const char **out)
{
    ERL_NIF_TERM v;
    ErlNifBinary b;
    *out = NULL;
    if (!enif_get_map_value(env, map, key, &v))
        return 1;
    if (!enif_inspect_binary(env, v, &b) || b.size == 0 || b.size >= cap ||
        memchr(b.data, 0, b.size))
        return 0;
    memcpy(buf, b.data, b.size);
    buf[b.size] = 0;
    *out = buf;
    return 1;
}

static int get_int_opt(ErlNifEnv *env, ERL_NIF_TERM map, ERL_NIF_TERM key, int *out)
{
    ERL_NIF_TERM v;
    if (!enif_get_map_value(env, map, key, &v))
        return 1;
    return enif_get_int(env, v, out);
}

static int get_conn(ErlNifEnv *env, ERL_NIF_TERM t, conn_res **r)
{
    module_state *m = enif_priv_data(env);
    return enif_get_resource(env, t, m->conn_type, (void **)r);
}

/* ---------------------------------------------------------------------- */
/* Contexts                                                                */

static void ctx_dtor(ErlNifEnv *env, void *obj)
{
    module_state *m = enif_priv_data(env);
    ctx_res *c = obj;
    if (c->ctx) {
        SSL_CTX_free(c->ctx);
        atomic_fetch_sub(&m->live_ctxs, 1);
    }
}

/* ctx_new(#{server, verify, certfile, keyfile, cafile, ciphers,
 * ciphersuites, min_version, max_version, alpn, tickets}) -> {ok, Ctx} |
 * {error, Reason}. Dirty I/O: reads files. */
static ERL_NIF_TERM ctx_new(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    if (!enif_is_map(env, argv[0]))
        return enif_make_badarg(env);
    char certfile[MAX_STRING], keyfile[MAX_STRING], cafile[MAX_STRING],
        ciphers[MAX_STRING], suites[MAX_STRING];
    tls_ctx_config cfg;
    memset(&cfg, 0, sizeof cfg);
    ERL_NIF_TERM v;
    cfg.server = enif_get_map_value(env, argv[0], am_server, &v) && v == am_true;
    cfg.tickets = enif_get_map_value(env, argv[0], am_tickets, &v) && v == am_true;
    if (enif_get_map_value(env, argv[0], am_verify, &v)) {
        if (v == am_none)
            cfg.verify = TLS_VERIFY_NONE;
        else if (v == am_peer)
            cfg.verify = TLS_VERIFY_PEER;
        else if (v == am_report)
            cfg.verify = TLS_VERIFY_REPORT;
        else
            return enif_make_badarg(env);
    }
    ErlNifBinary alpn;
    if (enif_get_map_value(env, argv[0], am_alpn, &v)) {
        if (!enif_inspect_binary(env, v, &alpn) || alpn.size > 65535)
            return enif_make_badarg(env);
        cfg.alpn = alpn.data;
        cfg.alpn_len = alpn.size;
    }
    if (!get_string_opt(env, argv[0], am_certfile, certfile, sizeof certfile, &cfg.certfile) ||
        !get_string_opt(env, argv[0], am_keyfile, keyfile, sizeof keyfile, &cfg.keyfile) ||
        !get_string_opt(env, argv[0], am_cafile, cafile, sizeof cafile, &cfg.cafile) ||
        !get_string_opt(env, argv[0], am_ciphers, ciphers, sizeof ciphers, &cfg.ciphers) ||
        !get_string_opt(env, argv[0], am_ciphersuites, suites, sizeof suites, &cfg.ciphersuites) ||
        !get_int_opt(env, argv[0], am_min_version, &cfg.min_version) ||
        !get_int_opt(env, argv[0], am_max_version, &cfg.max_version))
        return enif_make_badarg(env);
    char err[256];
    SSL_CTX *ctx = tls_ctx_new(&cfg, err, sizeof err);
    if (!ctx)
        return enif_make_tuple2(env, am_error, make_string(env, err));
    ctx_res *c = enif_alloc_resource(m->ctx_type, sizeof *c);
    if (!c) {
        SSL_CTX_free(ctx);
        return enif_make_tuple2(env, am_error, am_enomem);
    }
    c->ctx = ctx;
    atomic_fetch_add(&m->live_ctxs, 1);
    ERL_NIF_TERM t = enif_make_resource(env, c);
    enif_release_resource(c);
    return enif_make_tuple2(env, am_ok, t);
}

/* ctx_add_sni(Base, Name, Named) -> ok | {error, enomem}. */
static ERL_NIF_TERM ctx_add_sni(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    ctx_res *base, *named;
    ErlNifBinary name;
    char buf[256];
    if (!enif_get_resource(env, argv[0], m->ctx_type, (void **)&base) ||
        !enif_get_resource(env, argv[2], m->ctx_type, (void **)&named) ||
        !enif_inspect_binary(env, argv[1], &name) || name.size == 0 ||
        name.size >= sizeof buf || memchr(name.data, 0, name.size))
        return enif_make_badarg(env);
    memcpy(buf, name.data, name.size);
    buf[name.size] = 0;
    if (!tls_ctx_add_sni(base->ctx, buf, named->ctx))
        return enif_make_tuple2(env, am_error, am_enomem);
    return am_ok;
}

/* ---------------------------------------------------------------------- */
/* Connections                                                             */

static void *alloc_fn(size_t n) { return enif_alloc(n); }
static void *realloc_fn(void *p, size_t n) { return enif_realloc(p, n); }
static void free_fn(void *p) { enif_free(p); }
static const tls_alloc nif_alloc = {alloc_fn, realloc_fn, free_fn};

/* Caller holds the lock (or is the destructor). */
static void conn_release(conn_res *r)
{
    if (!r->live)
        return;
    tls_conn_release(r->conn);
    enif_free(r->stash);
    r->stash = NULL;
    r->stash_len = 0;
    enif_free(r->outq);
    r->outq = NULL;
    r->outq_len = 0;
    r->live = 0;
    atomic_fetch_sub(&r->module->live_conns, 1);
}

static void conn_dtor(ErlNifEnv *env, void *obj)
{
    (void)env;
    conn_res *r = obj;
    conn_release(r);
    if (r->lock)
        enif_mutex_destroy(r->lock);
}

/* conn_new(Ctx, server | client, Host, CheckHost, Session) -> Conn |
 * {error, Reason}. Host <<>>: no SNI, no name check. Session <<>>: none. */
static ERL_NIF_TERM conn_new(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    ctx_res *c;
    ErlNifBinary host, session;
    char hostbuf[256];
    if (!enif_get_resource(env, argv[0], m->ctx_type, (void **)&c) ||
        !enif_inspect_binary(env, argv[2], &host) || host.size >= sizeof hostbuf ||
        memchr(host.data, 0, host.size) ||
        !enif_inspect_binary(env, argv[4], &session))
        return enif_make_badarg(env);
    int server = argv[1] == am_server;
    int check = argv[3] == am_true;
    memcpy(hostbuf, host.data, host.size);
    hostbuf[host.size] = 0;
    conn_res *r = enif_alloc_resource(m->conn_type, sizeof *r + tls_conn_size());
    if (!r)
        return enif_make_tuple2(env, am_error, am_enomem);
    r->module = m;
    r->conn = (tls_conn *)(void *)(r + 1); /* r + 1 keeps pointer alignment */
    r->live = 0;
    r->stash = NULL;
    r->stash_len = 0;
    r->outq = NULL;
    r->outq_len = 0;
    r->server = server;
    r->lock = enif_mutex_create("stanza_tls_conn");
    int ok = r->lock && tls_conn_init(r->conn, c->ctx, server, host.size ? hostbuf : NULL,
                                      check, &nif_alloc);
    if (!ok) {
        ERR_clear_error();
        enif_release_resource(r);
        return enif_make_tuple2(env, am_error, am_enomem);
    }
    r->live = 1;
    atomic_fetch_add(&m->live_conns, 1);
    if (!server && session.size) {
        const unsigned char *p = session.data;
        SSL_SESSION *s = d2i_SSL_SESSION(NULL, &p, (long)session.size);
        if (s) {
            SSL_set_session(tls_conn_ssl(r->conn), s);
            SSL_SESSION_free(s);
        }
        ERR_clear_error();
    }
    ERL_NIF_TERM t = enif_make_resource(env, r);
    enif_release_resource(r);
    return t;
}

static ERL_NIF_TERM handshake_step(ErlNifEnv *env, const ERL_NIF_TERM argv[],
                                   enum call_kind kind);

static ERL_NIF_TERM handshake_dirty(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    return handshake_step(env, argv, CALL_HANDSHAKE_DIRTY);
}

/* handshake(Conn, In) -> {ok, Out} | {continue, Out} | {error, Reason,
 * Out}. The steps that do the costly work (measured at 0.3-1.3 ms of CPU
 * here) are rescheduled on a dirty CPU scheduler: a server's steps until
 * it has signed (CertificateVerify / ServerKeyExchange), a client's steps
 * that take the server's flight (chain verification, key agreement).
 * The rest (a ClientHello, a client's Finished) stay on this scheduler,
 * which spares two thread switches each. */
static ERL_NIF_TERM handshake(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    conn_res *r;
    ErlNifBinary in;
    if (argc == 2 && get_conn(env, argv[0], &r) && enif_inspect_binary(env, argv[1], &in)) {
        enif_mutex_lock(r->lock);
        int costly = r->live && (r->server ? !tls_conn_signed(r->conn)
                                           : in.size > 0 && !tls_conn_established(r->conn));
        enif_mutex_unlock(r->lock);
        if (costly)
            return enif_schedule_nif(env, "handshake", ERL_NIF_DIRTY_JOB_CPU_BOUND,
                                     handshake_dirty, argc, argv);
    }
    return handshake_step(env, argv, CALL_HANDSHAKE);
}

static ERL_NIF_TERM handshake_step(ErlNifEnv *env, const ERL_NIF_TERM argv[],
                                   enum call_kind kind)
{
    call_clock start = start_call(enif_priv_data(env));
    conn_res *r;
    ErlNifBinary in;
    if (!get_conn(env, argv[0], &r) || !enif_inspect_binary(env, argv[1], &in))
        return enif_make_badarg(env);
    bin_sink out;
    sink_init(&out, 4096);
    enif_mutex_lock(r->lock);
    ERL_NIF_TERM result;
    if (!r->live) {
        result = enif_make_tuple3(env, am_error, am_closed, sink_term(env, &out));
    } else {
        tls_status st = tls_conn_handshake(r->conn, in.data, in.size, &out.base);
        if (st == TLS_DONE && r->outq) {
            /* What fast_tls code sent before the handshake ended. */
            st = tls_conn_write(r->conn, r->outq, r->outq_len, &out.base);
            enif_free(r->outq);
            r->outq = NULL;
            r->outq_len = 0;
        }
        ERL_NIF_TERM o = sink_term(env, &out);
        if (st == TLS_DONE)
            result = enif_make_tuple2(env, am_ok, o);
        else if (st == TLS_WANT)
            result = enif_make_tuple2(env, am_continue, o);
        else
            result = enif_make_tuple3(env, am_error, failure_term(env, r), o);
    }
    enif_mutex_unlock(r->lock);
    note_call(r->module, kind, start);
    return result;
}

/* recv(Conn, In) -> {ok | closed, Plain, Out} | {more, Plain, Out, Rest}
 * | {error, Reason, Out}. more: call again with Rest (the input not yet
 * taken, a sub-binary: no copy). */
static ERL_NIF_TERM recv(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    call_clock start = start_call(enif_priv_data(env));
    conn_res *r;
    ErlNifBinary in;
    if (!get_conn(env, argv[0], &r) || !enif_inspect_binary(env, argv[1], &in))
        return enif_make_badarg(env);
    bin_sink plain, out;
    /* Plaintext is at most the input, and at most about the budget. */
    size_t hint = in.size < READ_BUDGET ? in.size : READ_BUDGET + 16384;
    sink_init(&plain, hint ? hint : 1024);
    sink_init(&out, 64);
    enif_mutex_lock(r->lock);
    ERL_NIF_TERM result;
    if (!r->live) {
        result = enif_make_tuple3(env, am_error, am_closed, sink_term(env, &out));
    } else if (r->stash && !plain.base.append(&plain.base, r->stash, r->stash_len)) {
        result = enif_make_tuple3(env, am_error, am_enomem, sink_term(env, &out));
    } else {
        if (r->stash) {
            enif_free(r->stash);
            r->stash = NULL;
            r->stash_len = 0;
        }
        size_t used = 0;
        tls_status st = tls_conn_read(r->conn, in.data, in.size, &plain.base, &out.base,
                                      READ_BUDGET, &used);
        ERL_NIF_TERM o = sink_term(env, &out);
        if (st == TLS_FAILED) {
            sink_drop(&plain);
            result = enif_make_tuple3(env, am_error, failure_term(env, r), o);
        } else if (st == TLS_MORE) {
            ERL_NIF_TERM rest = enif_make_sub_binary(env, argv[1], used, in.size - used);
            result = enif_make_tuple4(env, am_more, sink_term(env, &plain), o, rest);
        } else {
            ERL_NIF_TERM tag = st == TLS_MORE ? am_more : st == TLS_CLOSED ? am_closed : am_ok;
            result = enif_make_tuple3(env, tag, sink_term(env, &plain), o);
        }
    }
    enif_mutex_unlock(r->lock);
    note_call(r->module, CALL_DATA, start);
    return result;
}

/* send(Conn, IoData) -> {ok, Out} | {error, Reason}. */
static ERL_NIF_TERM send_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    call_clock start = start_call(enif_priv_data(env));
    conn_res *r;
    ErlNifBinary plain;
    if (!get_conn(env, argv[0], &r) || !enif_inspect_iolist_as_binary(env, argv[1], &plain) ||
        plain.size > MAX_SEND)
        return enif_make_badarg(env);
    bin_sink out;
    /* Room for the records' headers and tags, so one allocation does. */
    sink_init(&out, plain.size + 64 * (plain.size / 16384 + 1));
    enif_mutex_lock(r->lock);
    ERL_NIF_TERM result;
    if (!r->live) {
        result = enif_make_tuple2(env, am_error, am_closed);
    } else if (tls_conn_write(r->conn, plain.data, plain.size, &out.base) == TLS_DONE) {
        result = enif_make_tuple2(env, am_ok, sink_term(env, &out));
    } else {
        sink_drop(&out);
        result = enif_make_tuple2(env, am_error, failure_term(env, r));
    }
    enif_mutex_unlock(r->lock);
    note_call(r->module, CALL_DATA, start);
    return result;
}

/* close(Conn) -> Out: close_notify if the handshake is done; frees the
 * connection's OpenSSL state now rather than at garbage collection. */
static ERL_NIF_TERM close_nif(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    call_clock start = start_call(enif_priv_data(env));
    conn_res *r;
    if (!get_conn(env, argv[0], &r))
        return enif_make_badarg(env);
    bin_sink out;
    sink_init(&out, 64);
    enif_mutex_lock(r->lock);
    if (r->live) {
        tls_conn_shutdown(r->conn, &out.base);
        conn_release(r);
    }
    enif_mutex_unlock(r->lock);
    ERL_NIF_TERM o = sink_term(env, &out);
    note_call(r->module, CALL_OTHER, start);
    return o;
}

/* info(Conn) -> #{version, cipher, alpn} | {error, not_established}. */
static ERL_NIF_TERM info(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    if (!get_conn(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    ERL_NIF_TERM result;
    if (!r->live || !tls_conn_established(r->conn)) {
        result = enif_make_tuple2(env, am_error, r->live ? am_not_established : am_closed);
    } else {
        SSL *ssl = tls_conn_ssl(r->conn);
        int v = SSL_version(ssl);
        ERL_NIF_TERM version = v == TLS1_3_VERSION ? am_tlsv13
                               : v == TLS1_2_VERSION ? am_tlsv12 : enif_make_int(env, v);
        const unsigned char *alpn = NULL;
        unsigned int alpn_len = 0;
        SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
        ERL_NIF_TERM alpn_t = am_undefined;
        if (alpn_len) {
            unsigned char *p = enif_make_new_binary(env, alpn_len, &alpn_t);
            memcpy(p, alpn, alpn_len);
        }
        ERL_NIF_TERM keys[3] = {am_version, am_cipher, am_alpn};
        ERL_NIF_TERM vals[3] = {version, make_string(env, SSL_get_cipher_name(ssl)), alpn_t};
        enif_make_map_from_arrays(env, keys, vals, 3, &result);
    }
    enif_mutex_unlock(r->lock);
    return result;
}

/* peercert(Conn) -> {ok, Der} | {error, no_peercert | closed}. */
static ERL_NIF_TERM peercert(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    if (!get_conn(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    ERL_NIF_TERM result = enif_make_tuple2(env, am_error, r->live ? am_no_peercert : am_closed);
    X509 *cert = r->live ? SSL_get0_peer_certificate(tls_conn_ssl(r->conn)) : NULL;
    int len = cert ? i2d_X509(cert, NULL) : -1;
    if (len > 0) {
        ERL_NIF_TERM der;
        unsigned char *p = enif_make_new_binary(env, (size_t)len, &der);
        if (p && i2d_X509(cert, &p) == len)
            result = enif_make_tuple2(env, am_ok, der);
    }
    ERR_clear_error();
    enif_mutex_unlock(r->lock);
    return result;
}

/* verify_result(Conn) -> X509_V_ERR_* code (0: verified). */
static ERL_NIF_TERM verify_result(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    if (!get_conn(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    long v = r->live ? tls_conn_verify_result(r->conn) : X509_V_ERR_UNSPECIFIED;
    enif_mutex_unlock(r->lock);
    return enif_make_long(env, v);
}

/* verify_string(Code) -> OpenSSL's text for an X509_V_ERR_* code. */
static ERL_NIF_TERM verify_string(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    long v;
    if (!enif_get_long(env, argv[0], &v))
        return enif_make_badarg(env);
    return make_string(env, X509_verify_cert_error_string(v));
}

/* binding(Conn, tls_exporter | tls_unique | self | peer) -> {ok, Bin} |
 * {error, Reason}. self/peer: our / the peer's last Finished message. */
static ERL_NIF_TERM binding(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    if (!get_conn(env, argv[0], &r))
        return enif_make_badarg(env);
    unsigned char buf[EVP_MAX_MD_SIZE];
    size_t len = 0;
    enif_mutex_lock(r->lock);
    int live = r->live && tls_conn_established(r->conn);
    if (live) {
        SSL *ssl = tls_conn_ssl(r->conn);
        char kind[16];
        if (!enif_get_atom(env, argv[1], kind, sizeof kind, ERL_NIF_LATIN1))
            kind[0] = 0;
        if (!strcmp(kind, "tls_exporter"))
            len = tls_conn_exporter(r->conn, buf) ? 32 : 0;
        else if (!strcmp(kind, "tls_unique"))
            len = tls_conn_unique(r->conn, buf, sizeof buf);
        else if (!strcmp(kind, "self"))
            len = SSL_get_finished(ssl, buf, sizeof buf);
        else if (!strcmp(kind, "peer"))
            len = SSL_get_peer_finished(ssl, buf, sizeof buf);
        else
            live = -1;
    }
    enif_mutex_unlock(r->lock);
    if (live < 0)
        return enif_make_badarg(env);
    if (!live)
        return enif_make_tuple2(env, am_error, am_not_established);
    if (len == 0 || len > sizeof buf)
        return enif_make_tuple2(env, am_error, am_undefined);
    ERL_NIF_TERM t;
    memcpy(enif_make_new_binary(env, len, &t), buf, len);
    return enif_make_tuple2(env, am_ok, t);
}

/* session(Conn) -> {ok, Der} | none: a client's resumable session. */
static ERL_NIF_TERM session(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    if (!get_conn(env, argv[0], &r))
        return enif_make_badarg(env);
    ERL_NIF_TERM result = am_none;
    enif_mutex_lock(r->lock);
    SSL_SESSION *s = r->live ? SSL_get1_session(tls_conn_ssl(r->conn)) : NULL;
    if (s && SSL_SESSION_is_resumable(s)) {
        int len = i2d_SSL_SESSION(s, NULL);
        if (len > 0) {
            ERL_NIF_TERM der;
            unsigned char *p = enif_make_new_binary(env, (size_t)len, &der);
            if (p && i2d_SSL_SESSION(s, &p) == len)
                result = enif_make_tuple2(env, am_ok, der);
        }
    }
    SSL_SESSION_free(s);
    ERR_clear_error();
    enif_mutex_unlock(r->lock);
    return result;
}

/* established(Conn) -> boolean(): the handshake is done, no failure. */
static ERL_NIF_TERM established(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    if (!get_conn(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    int yes = r->live && tls_conn_established(r->conn);
    enif_mutex_unlock(r->lock);
    return yes ? am_true : am_false;
}

/* reused(Conn) -> boolean(). */
static ERL_NIF_TERM reused(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    if (!get_conn(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    int yes = r->live && SSL_session_reused(tls_conn_ssl(r->conn));
    enif_mutex_unlock(r->lock);
    return yes ? am_true : am_false;
}

/* buffered(Conn) -> bytes held back that a recv with no input can use. */
static ERL_NIF_TERM buffered(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    if (!get_conn(env, argv[0], &r))
        return enif_make_badarg(env);
    enif_mutex_lock(r->lock);
    size_t n = r->live ? tls_conn_buffered(r->conn) + r->stash_len : 0;
    enif_mutex_unlock(r->lock);
    return enif_make_uint64(env, n);
}

/* unread(Conn, Plain) -> ok: plaintext the next recv returns first
 * (recv/3 with a length keeps what it read beyond it). */
static ERL_NIF_TERM unread(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    ErlNifBinary b;
    if (!get_conn(env, argv[0], &r) || !enif_inspect_binary(env, argv[1], &b))
        return enif_make_badarg(env);
    ERL_NIF_TERM result = am_ok;
    enif_mutex_lock(r->lock);
    if (!r->live) {
        result = enif_make_tuple2(env, am_error, am_closed);
    } else if (b.size) {
        unsigned char *p = r->stash ? enif_realloc(r->stash, r->stash_len + b.size)
                                    : enif_alloc(b.size);
        if (!p) {
            result = enif_make_tuple2(env, am_error, am_enomem);
        } else {
            /* New bytes go in front: they were read before the stash. */
            memmove(p + b.size, p, r->stash_len);
            memcpy(p, b.data, b.size);
            r->stash = p;
            r->stash_len += b.size;
        }
    }
    enif_mutex_unlock(r->lock);
    return result;
}

/* queue(Conn, IoData) -> ok | {error, Reason}: plaintext to send once
 * the handshake ends (fast_tls accepts a send before it has). */
static ERL_NIF_TERM queue(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    conn_res *r;
    ErlNifBinary b;
    if (!get_conn(env, argv[0], &r) || !enif_inspect_iolist_as_binary(env, argv[1], &b) ||
        b.size > MAX_SEND)
        return enif_make_badarg(env);
    ERL_NIF_TERM result = am_ok;
    enif_mutex_lock(r->lock);
    if (!r->live) {
        result = enif_make_tuple2(env, am_error, am_closed);
    } else if (r->outq_len + b.size > MAX_SEND) {
        result = enif_make_tuple2(env, am_error, am_enomem);
    } else if (b.size) {
        unsigned char *p = r->outq ? enif_realloc(r->outq, r->outq_len + b.size)
                                   : enif_alloc(b.size);
        if (!p) {
            result = enif_make_tuple2(env, am_error, am_enomem);
        } else {
            memcpy(p + r->outq_len, b.data, b.size);
            r->outq = p;
            r->outq_len += b.size;
        }
    }
    enif_mutex_unlock(r->lock);
    return result;
}

/* live() -> {Connections, Contexts} not yet released. */
static ERL_NIF_TERM live(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc, (void)argv;
    module_state *m = enif_priv_data(env);
    return enif_make_tuple2(env, enif_make_long(env, atomic_load(&m->live_conns)),
                            enif_make_long(env, atomic_load(&m->live_ctxs)));
}

/* timing(Bool) -> ok: measure every call from now on (or stop). */
static ERL_NIF_TERM timing(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    atomic_store(&m->timing, argv[0] == am_true);
    return am_ok;
}

/* max_call_ns(handshake | handshake_dirty | data | other) -> {Wall, Cpu}: the longest call
 * so far by each clock, in ns; reset to 0 by the same call. */
static ERL_NIF_TERM max_call_ns(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc;
    module_state *m = enif_priv_data(env);
    enum call_kind k;
    if (argv[0] == am_handshake)
        k = CALL_HANDSHAKE;
    else if (argv[0] == am_handshake_dirty)
        k = CALL_HANDSHAKE_DIRTY;
    else if (argv[0] == am_data)
        k = CALL_DATA;
    else if (argv[0] == am_other)
        k = CALL_OTHER;
    else
        return enif_make_badarg(env);
    return enif_make_tuple2(env, enif_make_int64(env, atomic_exchange(&m->max_ns[k][WALL], 0)),
                            enif_make_int64(env, atomic_exchange(&m->max_ns[k][CPU], 0)));
}

/* memory_routed() -> enif | malloc: where OpenSSL's memory comes from. */
static ERL_NIF_TERM memory_routed(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[])
{
    (void)argc, (void)argv;
    module_state *m = enif_priv_data(env);
    return m->memory_routed ? am_enif : am_malloc;
}

/* ---------------------------------------------------------------------- */
/* Loading                                                                 */

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return enif_alloc(n ? n : 1);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    if (!p)
        return enif_alloc(n ? n : 1);
    if (n == 0) {
        enif_free(p);
        return NULL;
    }
    return enif_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    if (p)
        enif_free(p);
}

/* OpenSSL keeps pointers to the functions above for the life of the
 * process, so this library must never be unmapped once they are set. */
static int pin_library(void)
{
    Dl_info info;
    if (!dladdr((void *)ossl_malloc, &info) || !info.dli_fname)
        return 0;
    return dlopen(info.dli_fname, RTLD_NOW | RTLD_NODELETE | RTLD_NOLOAD) != NULL;
}

/* Routes OpenSSL's memory through enif_alloc when the load info asks for
 * it and nothing has allocated yet. CRYPTO_set_mem_functions refuses
 * (returns 0) once libcrypto has made any allocation in the process. */
static int route_memory(ErlNifEnv *env, ERL_NIF_TERM info)
{
    if (info != am_enif)
        return 0;
    if (!pin_library())
        return 0;
    (void)env;
    return CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1;
}

static ERL_NIF_TERM atom(ErlNifEnv *env, const char *name)
{
    return enif_make_atom(env, name);
}

static void make_atoms(ErlNifEnv *env)
{
    am_ok = atom(env, "ok"); am_error = atom(env, "error"); am_more = atom(env, "more");
    am_closed = atom(env, "closed"); am_continue = atom(env, "continue");
    am_true = atom(env, "true"); am_false = atom(env, "false");
    am_undefined = atom(env, "undefined"); am_enomem = atom(env, "enomem");
    am_tls_alert = atom(env, "tls_alert"); am_verify_failed = atom(env, "verify_failed");
    am_hostname_mismatch = atom(env, "hostname_mismatch");
    am_tls_error = atom(env, "tls_error"); am_not_established = atom(env, "not_established");
    am_version = atom(env, "version"); am_cipher = atom(env, "cipher");
    am_alpn = atom(env, "alpn"); am_tlsv12 = atom(env, "tlsv1.2");
    am_tlsv13 = atom(env, "tlsv1.3"); am_none = atom(env, "none"); am_peer = atom(env, "peer");
    am_report = atom(env, "report"); am_server = atom(env, "server");
    am_verify = atom(env, "verify"); am_certfile = atom(env, "certfile");
    am_keyfile = atom(env, "keyfile"); am_cafile = atom(env, "cafile");
    am_ciphers = atom(env, "ciphers"); am_ciphersuites = atom(env, "ciphersuites");
    am_min_version = atom(env, "min_version"); am_max_version = atom(env, "max_version");
    am_tickets = atom(env, "tickets"); am_handshake = atom(env, "handshake");
    am_handshake_dirty = atom(env, "handshake_dirty");
    am_data = atom(env, "data"); am_other = atom(env, "other"); am_self = atom(env, "self");
    am_no_peercert = atom(env, "no_peercert"); am_enif = atom(env, "enif");
    am_malloc = atom(env, "malloc");
}

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info)
{
    make_atoms(env);
    module_state *m = enif_alloc(sizeof *m);
    if (!m)
        return 1;
    memset(m, 0, sizeof *m);
    /* Before anything below makes OpenSSL allocate. */
    m->memory_routed = route_memory(env, info);
    if (!OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) ||
        !tls_conn_global_init() || !tls_ctx_global_init()) {
        enif_free(m);
        return 1;
    }
    ErlNifResourceFlags flags = ERL_NIF_RT_CREATE;
    m->ctx_type = enif_open_resource_type(env, NULL, "stanza_tls_ctx", ctx_dtor, flags, NULL);
    m->conn_type = enif_open_resource_type(env, NULL, "stanza_tls_conn", conn_dtor, flags, NULL);
    if (!m->ctx_type || !m->conn_type) {
        enif_free(m);
        return 1;
    }
    *priv = m;
    return 0;
}

static void unload(ErlNifEnv *env, void *priv)
{
    (void)env;
    enif_free(priv);
}

static ErlNifFunc nif_funcs[] = {
    {"ctx_new", 1, ctx_new, ERL_NIF_DIRTY_JOB_IO_BOUND},
    {"ctx_add_sni", 3, ctx_add_sni, 0},
    {"conn_new", 5, conn_new, 0},
    {"handshake", 2, handshake, 0},
    {"recv", 2, recv, 0},
    {"send", 2, send_nif, 0},
    {"close", 1, close_nif, 0},
    {"info", 1, info, 0},
    {"peercert", 1, peercert, 0},
    {"verify_result", 1, verify_result, 0},
    {"verify_string", 1, verify_string, 0},
    {"binding", 2, binding, 0},
    {"session", 1, session, 0},
    {"reused", 1, reused, 0},
    {"established", 1, established, 0},
    {"buffered", 1, buffered, 0},
    {"unread", 2, unread, 0},
    {"queue", 2, queue, 0},
    {"live", 0, live, 0},
    {"max_call_ns", 1, max_call_ns, 0},
    {"timing", 1, timing, 0},
    {"memory_routed", 0, memory_routed, 0},
};

ERL_NIF_INIT(stanza_tls_nif, nif_funcs, load, NULL, NULL, unload)

/*
 * tls_test: the TLS core (tls_conn, tls_ctx) without the BEAM: a client
 * and a server in memory, TLS 1.2 and 1.3, data both ways, input fed a
 * byte at a time, leftovers after the handshake, close_notify, each
 * failure kind, and the connection's own allocations balancing. Built
 * with ASan+UBSan and run under valgrind by `make check-c`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "tls_pair.h"
#include "test_check.h"

static long live_blocks;
static long fail_countdown; /* fails the nth allocation from now */

static void *t_alloc(size_t n)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return NULL;
    void *p = malloc(n);
    if (p)
        live_blocks++;
    return p;
}

static void *t_realloc(void *p, size_t n)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return NULL;
    void *q = realloc(p, n);
    if (q && !p)
        live_blocks++;
    return q;
}

static void t_free(void *p)
{
    if (p)
        live_blocks--;
    free(p);
}

static const tls_alloc counted = {t_alloc, t_realloc, t_free};

/* OpenSSL's own memory, counted (set before OpenSSL allocates), so the
 * test can say what an idle connection costs and that a released one
 * gives everything back. */
static long ossl_bytes;

typedef union ossl_header {
    size_t size;
    max_align_t align;
} ossl_header;

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    ossl_header *h = malloc(sizeof *h + n);
    if (!h)
        return NULL;
    h->size = n;
    ossl_bytes += (long)n;
    return h + 1;
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    if (!p)
        return;
    ossl_header *h = (ossl_header *)p - 1;
    ossl_bytes -= (long)h->size;
    free(h);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    if (!p)
        return ossl_malloc(n, file, line);
    if (n == 0) {
        ossl_free(p, file, line);
        return NULL;
    }
    ossl_header *h = (ossl_header *)p - 1;
    size_t old = h->size;
    ossl_header *q = realloc(h, sizeof *q + n);
    if (!q)
        return NULL;
    q->size = n;
    ossl_bytes += (long)n - (long)old;
    return q + 1;
}

static EVP_PKEY *key;
static X509 *cert, *other_cert;
static EVP_PKEY *other_key;

typedef struct fixture {
    tls_conn *c, *s;
    SSL_CTX *cctx, *sctx;
    tls_pair p;
} fixture;

/* trust: the certificate the client trusts (NULL: verify none). */
static void setup(fixture *f, int version, X509 *trust, const char *host)
{
    memset(f, 0, sizeof *f);
    f->sctx = server_ctx(key, cert, version, version);
    f->cctx = client_ctx(trust, version, version);
    f->c = malloc(tls_conn_size());
    f->s = malloc(tls_conn_size());
    CHECK(f->sctx && f->cctx && f->c && f->s);
    CHECK(tls_conn_init(f->c, f->cctx, 0, host, trust != NULL, &counted));
    CHECK(tls_conn_init(f->s, f->sctx, 1, NULL, 0, &counted));
    f->p.c = f->c;
    f->p.s = f->s;
    buf_init(&f->p.to_s);
    buf_init(&f->p.to_c);
}

static void teardown(fixture *f)
{
    tls_conn_release(f->c);
    tls_conn_release(f->s);
    free(f->c);
    free(f->s);
    SSL_CTX_free(f->cctx);
    SSL_CTX_free(f->sctx);
    pair_free_buffers(&f->p);
    CHECK(live_blocks == 0);
    live_blocks = 0;
}

/* Sends len bytes from `from' to `to' and checks they arrive whole. */
static void transfer(tls_conn *from, tls_conn *to, buf_sink *wire, size_t len, size_t budget)
{
    unsigned char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 7 + 3);
    CHECK(tls_conn_write(from, data, len, &wire->base) == TLS_DONE);
    buf_sink plain, back;
    buf_init(&plain);
    buf_init(&back);
    int rounds = 0;
    tls_status st = read_all(to, wire->data, wire->len, &plain.base, &back.base, budget, &rounds);
    CHECK(st == TLS_DONE);
    CHECK(plain.len == len && memcmp(plain.data, data, len) == 0);
    if (budget < len)
        CHECK(rounds > 0);
    buf_clear(wire);
    buf_free(&plain);
    buf_free(&back);
    free(data);
}

static void test_roundtrip(int version)
{
    int rounds;
    fixture f;
    tls_status cst, sst;
    setup(&f, version, cert, "localhost");
    CHECK(run_handshake(&f.p, &cst, &sst));
    CHECK(tls_conn_established(f.c) && tls_conn_established(f.s));
    CHECK(tls_conn_verify_result(f.c) == X509_V_OK);
    /* The client takes what the server sent after its handshake. */
    buf_sink plain, out;
    buf_init(&plain);
    buf_init(&out);
    CHECK(read_all(f.c, f.p.to_c.data, f.p.to_c.len, &plain.base, &out.base, 1 << 20, &rounds) == TLS_DONE);
    CHECK(plain.len == 0);
    buf_clear(&f.p.to_c);
    transfer(f.c, f.s, &f.p.to_s, 5, 1 << 20);
    transfer(f.s, f.c, &f.p.to_c, 300000, 16384);
    transfer(f.c, f.s, &f.p.to_s, 65536, 1 << 20);
    unsigned char e1[32], e2[32], u1[64], u2[64];
    CHECK(tls_conn_exporter(f.c, e1) && tls_conn_exporter(f.s, e2));
    CHECK(memcmp(e1, e2, 32) == 0);
    size_t n1 = tls_conn_unique(f.c, u1, sizeof u1), n2 = tls_conn_unique(f.s, u2, sizeof u2);
    if (version == TLS1_2_VERSION)
        CHECK(n1 == 12 && n1 == n2 && memcmp(u1, u2, n1) == 0);
    else
        CHECK(n1 == 0 && n2 == 0);
    /* close_notify ends the server's reading. */
    tls_conn_shutdown(f.c, &f.p.to_s.base);
    CHECK(f.p.to_s.len > 0);
    buf_clear(&plain);
    CHECK(read_all(f.s, f.p.to_s.data, f.p.to_s.len, &plain.base, &out.base, 1 << 20, &rounds) == TLS_CLOSED);
    buf_free(&plain);
    buf_free(&out);
    teardown(&f);
}

/* The server gets the client's flights one byte per call. */
static void test_byte_by_byte(void)
{
    fixture f;
    setup(&f, TLS1_3_VERSION, NULL, NULL);
    buf_sink to_s, to_c;
    buf_init(&to_s);
    buf_init(&to_c);
    tls_status cst = tls_conn_handshake(f.c, NULL, 0, &to_s.base), sst = TLS_WANT;
    for (int round = 0; round < 4 && (cst != TLS_DONE || sst != TLS_DONE); round++) {
        for (size_t i = 0; i < to_s.len && sst == TLS_WANT; i++)
            sst = tls_conn_handshake(f.s, to_s.data + i, 1, &to_c.base);
        buf_clear(&to_s);
        if (cst == TLS_WANT && to_c.len) {
            cst = tls_conn_handshake(f.c, to_c.data, to_c.len, &to_s.base);
            buf_clear(&to_c);
        }
    }
    CHECK(cst == TLS_DONE);
    CHECK(sst == TLS_DONE);
    buf_free(&to_s);
    buf_free(&to_c);
    teardown(&f);
}

/* Application data right behind the client's Finished: the server's
 * handshake step keeps it, and a read with no input gives it. */
static void test_leftover(void)
{
    int rounds;
    fixture f;
    setup(&f, TLS1_3_VERSION, NULL, NULL);
    buf_sink to_s, to_c;
    buf_init(&to_s);
    buf_init(&to_c);
    CHECK(tls_conn_handshake(f.c, NULL, 0, &to_s.base) == TLS_WANT);
    CHECK(tls_conn_handshake(f.s, to_s.data, to_s.len, &to_c.base) == TLS_WANT);
    buf_clear(&to_s);
    CHECK(tls_conn_handshake(f.c, to_c.data, to_c.len, &to_s.base) == TLS_DONE);
    CHECK(tls_conn_write(f.c, (const unsigned char *)"early", 5, &to_s.base) == TLS_DONE);
    buf_clear(&to_c);
    CHECK(tls_conn_handshake(f.s, to_s.data, to_s.len, &to_c.base) == TLS_DONE);
    CHECK(tls_conn_buffered(f.s) > 0);
    CHECK(live_blocks == 1);
    buf_sink plain;
    buf_init(&plain);
    CHECK(read_all(f.s, NULL, 0, &plain.base, &to_c.base, 1 << 20, &rounds) == TLS_DONE);
    CHECK(plain.len == 5 && memcmp(plain.data, "early", 5) == 0);
    CHECK(tls_conn_buffered(f.s) == 0);
    CHECK(live_blocks == 0);
    buf_free(&plain);
    buf_free(&to_s);
    buf_free(&to_c);
    teardown(&f);
}

static void test_failures(void)
{
    int rounds;
    fixture f;
    tls_status cst, sst;
    /* The name asked for is not the certificate's. */
    setup(&f, TLS1_3_VERSION, cert, "other.example");
    CHECK(!run_handshake(&f.p, &cst, &sst));
    CHECK(cst == TLS_FAILED && tls_conn_failure(f.c)->kind == TLS_F_HOSTNAME);
    CHECK(sst == TLS_FAILED && tls_conn_failure(f.s)->kind == TLS_F_ALERT);
    CHECK(tls_conn_failure(f.s)->alert == SSL_AD_BAD_CERTIFICATE);
    /* Once failed, always failed. */
    buf_sink plain;
    buf_init(&plain);
    CHECK(read_all(f.c, NULL, 0, &plain.base, &plain.base, 100, &rounds) == TLS_FAILED);
    teardown(&f);

    /* A certificate nobody trusts. */
    setup(&f, TLS1_2_VERSION, other_cert, "localhost");
    CHECK(!run_handshake(&f.p, &cst, &sst));
    CHECK(cst == TLS_FAILED && tls_conn_failure(f.c)->kind == TLS_F_VERIFY);
    CHECK(tls_conn_failure(f.c)->verify == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    teardown(&f);

    /* Plain HTTP to a server; a write before any handshake. */
    setup(&f, TLS1_3_VERSION, NULL, NULL);
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(tls_conn_handshake(f.s, (const unsigned char *)http, sizeof http - 1, &plain.base) == TLS_FAILED);
    CHECK(tls_conn_failure(f.s)->kind == TLS_F_PROTOCOL);
    CHECK(strcmp(tls_conn_failure(f.s)->reason, "http request") == 0);
    CHECK(tls_conn_write(f.c, (const unsigned char *)"x", 1, &plain.base) == TLS_FAILED);
    CHECK(tls_conn_failure(f.c)->kind == TLS_F_STATE);
    buf_free(&plain);
    teardown(&f);
}

/* Out of memory: a leftover that cannot be kept fails the step cleanly
 * (TLS_F_NOMEM); a sink that refuses fails the write. Nothing leaks. */
static void test_out_of_memory(void)
{
    fixture f;
    setup(&f, TLS1_3_VERSION, NULL, NULL);
    buf_sink to_s, to_c;
    buf_init(&to_s);
    buf_init(&to_c);
    CHECK(tls_conn_handshake(f.c, NULL, 0, &to_s.base) == TLS_WANT);
    CHECK(tls_conn_handshake(f.s, to_s.data, to_s.len, &to_c.base) == TLS_WANT);
    buf_clear(&to_s);
    CHECK(tls_conn_handshake(f.c, to_c.data, to_c.len, &to_s.base) == TLS_DONE);
    CHECK(tls_conn_write(f.c, (const unsigned char *)"early", 5, &to_s.base) == TLS_DONE);
    buf_clear(&to_c);
    fail_countdown = 1;
    CHECK(tls_conn_handshake(f.s, to_s.data, to_s.len, &to_c.base) == TLS_FAILED);
    CHECK(fail_countdown == 0);
    CHECK(tls_conn_failure(f.s)->kind == TLS_F_NOMEM);
    CHECK(live_blocks == 0);

    buf_sink small;
    buf_init(&small);
    small.limit = 10;
    tls_status cst, sst;
    fixture g;
    setup(&g, TLS1_2_VERSION, NULL, NULL);
    CHECK(run_handshake(&g.p, &cst, &sst));
    CHECK(tls_conn_write(g.c, (const unsigned char *)"0123456789abcdef", 16, &small.base) == TLS_FAILED);
    buf_free(&small);
    buf_free(&to_s);
    buf_free(&to_c);
    teardown(&g);
    teardown(&f);
}

/* What OpenSSL holds per idle connection (after the handshake and a
 * byte each way), server and client apart; all of it back on release. */
static void test_memory(int version)
{
    enum { N = 20 };
    fixture f[N];
    int rounds;
    long base = ossl_bytes;
    for (int i = 0; i < N; i++) {
        tls_status cst, sst;
        setup(&f[i], version, cert, "localhost");
        CHECK(run_handshake(&f[i].p, &cst, &sst));
        buf_sink plain, out;
        buf_init(&plain);
        buf_init(&out);
        CHECK(read_all(f[i].c, f[i].p.to_c.data, f[i].p.to_c.len, &plain.base, &out.base, 1 << 20, &rounds) == TLS_DONE);
        buf_clear(&f[i].p.to_c);
        transfer(f[i].c, f[i].s, &f[i].p.to_s, 1, 1 << 20);
        transfer(f[i].s, f[i].c, &f[i].p.to_c, 1, 1 << 20);
        buf_free(&plain);
        buf_free(&out);
    }
    long before = ossl_bytes;
    for (int i = 0; i < N; i++)
        tls_conn_release(f[i].s);
    long server = (before - ossl_bytes) / N;
    before = ossl_bytes;
    for (int i = 0; i < N; i++)
        tls_conn_release(f[i].c);
    long client = (before - ossl_bytes) / N;
    printf("tls_test: OpenSSL memory per idle connection, TLS %s: server %ld bytes, client %ld bytes\n",
           version == TLS1_3_VERSION ? "1.3" : "1.2", server, client);
    for (int i = 0; i < N; i++)
        teardown(&f[i]);
    CHECK(ossl_bytes == base);
}

int main(void)
{
    if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
        fprintf(stderr, "CRYPTO_set_mem_functions refused\n");
        return 2;
    }
    if (!tls_conn_global_init() || !tls_ctx_global_init() ||
        !make_cert("localhost", &key, &cert) || !make_cert("localhost", &other_key, &other_cert)) {
        fprintf(stderr, "setup failed\n");
        return 2;
    }
    test_roundtrip(TLS1_3_VERSION);
    test_roundtrip(TLS1_2_VERSION);
    test_byte_by_byte();
    test_leftover();
    test_failures();
    test_out_of_memory();
    test_memory(TLS1_3_VERSION);
    test_memory(TLS1_2_VERSION);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
    X509_free(cert);
    X509_free(other_cert);
    tls_conn_global_free();
    OPENSSL_cleanup();
    if (failures) {
        fprintf(stderr, "tls_test: %d checks failed\n", failures);
        return 1;
    }
    printf("tls_test: all checks pass\n");
    return 0;
}

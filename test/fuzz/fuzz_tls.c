/*
 * fuzz_tls: libFuzzer harness for the TLS core (tls_conn.c, tls_ctx.c).
 *
 * The first byte picks a mode:
 *   0  the input is a client's records, fed to a server in pieces whose
 *      sizes come from the input;
 *   1  the input is a server's records, fed to a client that has sent
 *      its ClientHello;
 *   2  a real client and server shake hands in memory and exchange data,
 *      and the input flips bytes of what crosses the wire (at offsets it
 *      chooses), so the states after the handshake are reached too.
 * TLS 1.2 or 1.3 and the read budget come from the input as well.
 *
 * Oracles: no crash or sanitizer report; a failed connection stays
 * failed; what a call appends to a sink is bounded by its input (no
 * runaway output); the connection's own allocations balance after
 * tls_conn_release (the counting allocator), and it fails cleanly when
 * one of them is refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "../c/tls_pair.h"
#include "fuzz_support.h"

static const tls_alloc fuzz_tls_alloc = {fuzz_alloc, fuzz_realloc, fuzz_free};

static SSL_CTX *server12, *server13, *client12, *client13;

static int setup_once(void)
{
    static int done;
    if (done)
        return 1;
    EVP_PKEY *key;
    X509 *cert;
    if (!tls_conn_global_init() || !tls_ctx_global_init() || !make_cert("localhost", &key, &cert))
        return 0;
    server12 = server_ctx(key, cert, TLS1_2_VERSION, TLS1_2_VERSION);
    server13 = server_ctx(key, cert, TLS1_2_VERSION, TLS1_3_VERSION);
    client12 = client_ctx(NULL, TLS1_2_VERSION, TLS1_2_VERSION);
    client13 = client_ctx(NULL, TLS1_2_VERSION, TLS1_3_VERSION);
    EVP_PKEY_free(key);
    X509_free(cert);
    done = server12 && server13 && client12 && client13;
    return done;
}

/* A step's output is bounded: records for what it was given, a flight of
 * handshake messages, an alert. */
#define OUTPUT_SLACK (64 * 1024)

static void feed_raw(tls_conn *c, fuzz_in *in, size_t budget)
{
    buf_sink out, plain;
    buf_init(&out);
    buf_init(&plain);
    tls_status st = TLS_WANT;
    int was_failed = 0;
    while (in->left && st != TLS_CLOSED) {
        size_t piece = 1 + fuzz_u8(in) * 4u;
        if (piece > in->left)
            piece = in->left;
        const uint8_t *p = in->p;
        in->p += piece;
        in->left -= piece;
        size_t before = out.len;
        if (tls_conn_established(c)) {
            int rounds;
            st = read_all(c, p, piece, &plain.base, &out.base, budget, &rounds);
            FUZZ_CHECK(st != TLS_MORE, "read never ends");
        } else {
            st = tls_conn_handshake(c, p, piece, &out.base);
        }
        FUZZ_CHECK(out.len - before <= piece + OUTPUT_SLACK, "output %zu for %zu in",
                   out.len - before, piece);
        FUZZ_CHECK(!was_failed || st == TLS_FAILED, "a failed connection came back");
        if (st == TLS_FAILED)
            was_failed = 1;
        buf_clear(&out);
        buf_clear(&plain);
    }
    buf_free(&out);
    buf_free(&plain);
}

/* Flips bytes of `wire' at offsets the input chooses. */
static void corrupt(buf_sink *wire, fuzz_in *in)
{
    uint8_t flips = fuzz_u8(in) & 3;
    for (uint8_t i = 0; i < flips && wire->len; i++) {
        size_t at = fuzz_u16(in) % wire->len;
        wire->data[at] ^= (uint8_t)(fuzz_u8(in) | 1);
    }
}

static void run_pair(tls_conn *c, tls_conn *s, fuzz_in *in, size_t budget)
{
    buf_sink to_s, to_c, plain;
    buf_init(&to_s);
    buf_init(&to_c);
    buf_init(&plain);
    tls_status cst = tls_conn_handshake(c, NULL, 0, &to_s.base), sst = TLS_WANT;
    int rounds;
    for (int round = 0; round < 12; round++) {
        corrupt(&to_s, in);
        if (to_s.len) {
            buf_sink taken = to_s;
            buf_init(&to_s);
            sst = tls_conn_established(s)
                      ? read_all(s, taken.data, taken.len, &plain.base, &to_c.base, budget, &rounds)
                      : tls_conn_handshake(s, taken.data, taken.len, &to_c.base);
            buf_free(&taken);
        }
        corrupt(&to_c, in);
        if (to_c.len) {
            buf_sink taken = to_c;
            buf_init(&to_c);
            cst = tls_conn_established(c)
                      ? read_all(c, taken.data, taken.len, &plain.base, &to_s.base, budget, &rounds)
                      : tls_conn_handshake(c, taken.data, taken.len, &to_s.base);
            buf_free(&taken);
        }
        /* Once both ends are up, the input also writes data and closes. */
        uint8_t op = fuzz_u8(in);
        if (tls_conn_established(c) && (op & 1)) {
            size_t n = fuzz_u16(in) % 40000;
            unsigned char *data = calloc(1, n + 1);
            if (data) {
                (void)tls_conn_write(c, data, n, &to_s.base);
                free(data);
            }
        }
        if (tls_conn_established(s) && (op & 2))
            (void)tls_conn_write(s, (const unsigned char *)"<presence/>", 11, &to_c.base);
        if (op == 0xff)
            tls_conn_shutdown(c, &to_s.base);
        if (cst == TLS_FAILED && sst == TLS_FAILED)
            break;
        buf_clear(&plain);
    }
    buf_free(&to_s);
    buf_free(&to_c);
    buf_free(&plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!setup_once())
        abort();
    fuzz_in in = {data, size};
    uint8_t mode = fuzz_u8(&in);
    int tls12 = mode & 0x10;
    size_t budget = (mode & 0x20) ? 100 : 1 << 20;
    unsigned long fail_at = (mode & 0x40) ? 1 + fuzz_u8(&in) % 8 : 0;
    fuzz_mem_reset(fail_at);
    static _Alignas(max_align_t) unsigned char cmem[4096], smem[4096];
    FUZZ_CHECK(tls_conn_size() <= sizeof cmem, "tls_conn grew: %zu", tls_conn_size());
    tls_conn *c = (tls_conn *)cmem, *s = (tls_conn *)smem;
    int c_ok = tls_conn_init(c, tls12 ? client12 : client13, 0, "localhost", 0, &fuzz_tls_alloc);
    int s_ok = tls_conn_init(s, tls12 ? server12 : server13, 1, NULL, 0, &fuzz_tls_alloc);
    FUZZ_CHECK(c_ok && s_ok, "init");
    switch (mode % 3) {
    case 0:
        feed_raw(s, &in, budget);
        break;
    case 1: {
        buf_sink hello;
        buf_init(&hello);
        FUZZ_CHECK(tls_conn_handshake(c, NULL, 0, &hello.base) == TLS_WANT, "hello");
        buf_free(&hello);
        feed_raw(c, &in, budget);
        break;
    }
    default:
        run_pair(c, s, &in, budget);
    }
    tls_conn_release(c);
    tls_conn_release(s);
    FUZZ_CHECK(fuzz_mem.blocks == 0 && fuzz_mem.bytes == 0, "leaked %ld blocks",
               fuzz_mem.blocks);
    ERR_clear_error();
    return 0;
}

/*
 * tls_pair: what the TLS C test and the TLS fuzz harness share: a
 * growing byte buffer as a tls_sink, a self-signed P-256 certificate made
 * in memory, contexts built by tls_ctx_new with it, and a driver that
 * runs a client and a server against each other in memory. Static, one
 * copy per translation unit.
 */
#ifndef STANZA_TLS_PAIR_H
#define STANZA_TLS_PAIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "../../c_src/tls_conn.h"
#include "../../c_src/tls_ctx.h"

/* A sink that keeps everything appended (malloc: not the allocator under
 * test). */
typedef struct buf_sink {
    tls_sink base;
    unsigned char *data;
    size_t len, cap;
    size_t limit; /* appends beyond this fail, as out of memory would */
} buf_sink;

static inline int buf_append(tls_sink *s, const unsigned char *bytes, size_t n)
{
    buf_sink *b = (buf_sink *)s;
    if (b->len + n > b->limit)
        return 0;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->data, cap);
        if (!p)
            return 0;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    return 1;
}

static inline void buf_init(buf_sink *b)
{
    memset(b, 0, sizeof *b);
    b->base.append = buf_append;
    b->limit = (size_t)1 << 26;
}

static inline void buf_clear(buf_sink *b)
{
    b->len = 0;
}

static inline void buf_free(buf_sink *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* A self-signed P-256 certificate for dns_name (also its CN). */
static inline int make_cert(const char *dns_name, EVP_PKEY **key_out, X509 **cert_out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    if (!key || !cert)
        goto fail;
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)dns_name, -1, -1, 0);
    X509_set_issuer_name(cert, name);
    char san[300];
    snprintf(san, sizeof san, "DNS:%s", dns_name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    if (!ext || !X509_add_ext(cert, ext, -1)) {
        X509_EXTENSION_free(ext);
        goto fail;
    }
    X509_EXTENSION_free(ext);
    if (!X509_sign(cert, key, EVP_sha256()))
        goto fail;
    *key_out = key;
    *cert_out = cert;
    return 1;
fail:
    EVP_PKEY_free(key);
    X509_free(cert);
    return 0;
}

/* A server context with the certificate, or a client context that
 * trusts it (trust = NULL: verify none). */
static SSL_CTX *server_ctx(EVP_PKEY *key, X509 *cert, int min, int max)
{
    tls_ctx_config cfg = {0};
    char err[256];
    cfg.server = 1;
    cfg.min_version = min;
    cfg.max_version = max;
    cfg.tickets = 1;
    SSL_CTX *ctx = tls_ctx_new(&cfg, err, sizeof err);
    if (!ctx)
        return NULL;
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static SSL_CTX *client_ctx(X509 *trust, int min, int max)
{
    tls_ctx_config cfg = {0};
    char err[256];
    cfg.verify = trust ? TLS_VERIFY_PEER : TLS_VERIFY_NONE;
    cfg.min_version = min;
    cfg.max_version = max;
    /* The system store, plus the certificate added below. */
    SSL_CTX *ctx = tls_ctx_new(&cfg, err, sizeof err);
    if (ctx && trust && X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), trust) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Reads all of in[0..len), following TLS_MORE: the part not taken is
 * given again, as the NIF does. */
static inline tls_status read_all(tls_conn *c, const unsigned char *in, size_t len,
                                  tls_sink *plain, tls_sink *out, size_t budget, int *rounds)
{
    size_t used = 0;
    tls_status st = tls_conn_read(c, in, len, plain, out, budget, &used);
    for (*rounds = 0; st == TLS_MORE && *rounds < 1000000; ++*rounds) {
        if (used > len)
            abort(); /* tls_conn_read took more than it was given */
        in += used;
        len -= used;
        st = tls_conn_read(c, in, len, plain, out, budget, &used);
    }
    return st;
}

/* A client and a server talking in memory: what each sent and the
 * other has not read yet waits in to_s / to_c. */
typedef struct tls_pair {
    tls_conn *c, *s;
    buf_sink to_s, to_c;
} tls_pair;

/* Hands everything waiting for `dst' to it as a handshake step. */
static inline tls_status pair_step(tls_conn *dst, buf_sink *in, buf_sink *reply)
{
    buf_sink taken = *in;
    buf_init(in);
    tls_status st = tls_conn_handshake(dst, taken.data, taken.len, &reply->base);
    buf_free(&taken);
    return st;
}

/* Runs the handshake until both are done or one fails (at most 20
 * flights). Returns 1 when both completed; what the server sent after
 * its handshake ended (TLS 1.3 tickets) waits in to_c, since a record
 * skipped would break the record sequence. */
static inline int run_handshake(tls_pair *p, tls_status *cst, tls_status *sst)
{
    *cst = tls_conn_handshake(p->c, NULL, 0, &p->to_s.base);
    *sst = TLS_WANT;
    for (int i = 0; i < 20 && (*cst == TLS_WANT || *sst == TLS_WANT); i++) {
        int moved = 0;
        if (*sst == TLS_WANT && p->to_s.len) {
            *sst = pair_step(p->s, &p->to_s, &p->to_c);
            moved = 1;
        }
        if (*cst == TLS_WANT && p->to_c.len) {
            *cst = pair_step(p->c, &p->to_c, &p->to_s);
            moved = 1;
        }
        if (!moved)
            break;
    }
    if (*sst == TLS_WANT && p->to_s.len)
        *sst = pair_step(p->s, &p->to_s, &p->to_c);
    return *cst == TLS_DONE && *sst == TLS_DONE;
}

static inline void pair_free_buffers(tls_pair *p)
{
    buf_free(&p->to_s);
    buf_free(&p->to_c);
}

#endif

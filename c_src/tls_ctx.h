/*
 * tls_ctx: OpenSSL contexts with stanza's defaults (no erl_nif here, so
 * the fuzz harness and the C test build them the same way the NIF does).
 *
 * Safe by default: TLS 1.2 and 1.3 only; TLS 1.2 suites with forward
 * secrecy and AEAD only; no compression; renegotiation refused; a client
 * verifies the chain (and tls_conn checks the name); a server asks for a
 * client certificate only when told to (verify = TLS_VERIFY_PEER).
 */
#ifndef STANZA_TLS_CTX_H
#define STANZA_TLS_CTX_H

#include <stddef.h>
#include <openssl/ssl.h>

typedef enum tls_verify_mode {
    TLS_VERIFY_NONE = 0,  /* client: accept any chain; server: ask none */
    TLS_VERIFY_PEER = 1,  /* client: chain must verify; server: require
                             a client certificate that verifies */
    TLS_VERIFY_REPORT = 2 /* fast_tls's way: ask and check, record the
                             result (SSL_get_verify_result), never fail */
} tls_verify_mode;

typedef struct tls_ctx_config {
    int server;
    tls_verify_mode verify;
    const char *certfile;      /* PEM chain; NULL: none */
    const char *keyfile;       /* PEM key; NULL: in certfile */
    const char *cafile;        /* NULL: the system's default store */
    const char *ciphers;       /* TLS 1.2 cipher list; NULL: ours */
    const char *ciphersuites;  /* TLS 1.3 suites; NULL: OpenSSL's */
    int min_version, max_version; /* TLS1_2_VERSION / TLS1_3_VERSION */
    const unsigned char *alpn; /* wire format (length-prefixed names) */
    size_t alpn_len;
    int tickets;               /* server: issue session tickets */
} tls_ctx_config;

/* The default TLS 1.2 suites: ECDHE, AES-GCM or ChaCha20. No finite-field
 * DHE: a 2048-bit DH step costs more than a millisecond. */
#define TLS_CTX_DEFAULT_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!PSK:!SRP"
/* Key exchange groups: the two fast ones every current client offers. A
 * peer asking for ffdhe8192 or P-521 would make one handshake step cost
 * tens of milliseconds. */
#define TLS_CTX_GROUPS "X25519:P-256"

/* Once per process. */
int tls_ctx_global_init(void);

/* A new context, or NULL with a reason in err. */
SSL_CTX *tls_ctx_new(const tls_ctx_config *cfg, char *err, size_t errlen);

/* Server: a context to switch to when a client asks for `name' by SNI
 * ("*.example.com" matches one label). Takes a reference to named. */
int tls_ctx_add_sni(SSL_CTX *base, const char *name, SSL_CTX *named);

/* Whether the base context has a certificate of its own (a server with
 * only SNI certificates refuses clients naming none of them). */
int tls_ctx_has_cert(SSL_CTX *ctx);

#endif

/*
 * tls_conn: one TLS connection driven over memory, with no socket and no
 * erl_nif. The caller owns the transport: it hands in the bytes the peer
 * sent and gets back the bytes to send, plus the plaintext.
 *
 * The SSL object reads and writes through a small BIO of our own rather
 * than two BIO_s_mem: the peer's bytes are read straight from the
 * caller's buffer (copied only when a call ends with some left over), and
 * the bytes to send are appended straight into the caller's sink (in the
 * NIF, a growing Erlang binary). A memory BIO would copy both ways and
 * keep its high-water buffer for the life of an idle connection.
 *
 * Not thread-safe: one caller at a time per connection (the NIF holds a
 * mutex around every call).
 */
#ifndef STANZA_TLS_CONN_H
#define STANZA_TLS_CONN_H

#include <stddef.h>
#include <openssl/ssl.h>

/* Where output goes: append n bytes, return 0 when out of memory. */
typedef struct tls_sink {
    int (*append)(struct tls_sink *sink, const unsigned char *bytes, size_t n);
} tls_sink;

/* The allocator for the connection's own leftover-input buffer (the NIF
 * passes enif_alloc and friends, so erlang:memory sees it). */
typedef struct tls_alloc {
    void *(*alloc)(size_t n);
    void *(*realloc)(void *p, size_t n);
    void (*free)(void *p);
} tls_alloc;

typedef enum tls_status {
    TLS_DONE = 0,   /* handshake complete / all input consumed */
    TLS_WANT = 1,   /* handshake needs more input from the peer */
    TLS_MORE = 2,   /* the read budget is spent: call again with no input */
    TLS_CLOSED = 3, /* the peer sent close_notify */
    TLS_FAILED = -1 /* see tls_conn_failure */
} tls_status;

typedef enum tls_failure_kind {
    TLS_F_NONE = 0,
    TLS_F_ALERT,    /* the peer sent a fatal alert: alert holds its code */
    TLS_F_VERIFY,   /* the peer's chain failed: verify holds X509_V_ERR_* */
    TLS_F_HOSTNAME, /* the chain is good, the name is not the one asked */
    TLS_F_PROTOCOL, /* bad records, bad handshake: reason holds OpenSSL's */
    TLS_F_NOMEM,
    TLS_F_STATE     /* a call that makes no sense now (write before
                       the handshake, read after a failure) */
} tls_failure_kind;

typedef struct tls_failure {
    tls_failure_kind kind;
    int alert;            /* TLS alert description code, TLS_F_ALERT */
    long verify;          /* X509_V_ERR_*, TLS_F_VERIFY */
    char reason[128];     /* OpenSSL's reason string, NUL-terminated */
} tls_failure;

typedef struct tls_conn tls_conn;

/* Once per process, before any connection: creates the BIO method. */
int tls_conn_global_init(void);
/* Frees it again (tests; the NIF keeps it for the life of the VM). */
void tls_conn_global_free(void);

/* Sizes for a caller that embeds the connection in its own memory. */
size_t tls_conn_size(void);

/* Starts a client (server = 0) or server connection on ctx (whose
 * reference count it takes). host, if not NULL, is sent as SNI and, when
 * check_host is set, checked against the certificate (SSL_set1_host).
 * Returns 0 on failure (out of memory, bad host). */
int tls_conn_init(tls_conn *c, SSL_CTX *ctx, int server, const char *host,
                  int check_host, const tls_alloc *alloc);

/* Frees the SSL object and any leftover input (not c itself). */
void tls_conn_release(tls_conn *c);

/* Feeds in[0..len) and advances the handshake; output for the peer
 * (including an alert on failure) goes to out. */
tls_status tls_conn_handshake(tls_conn *c, const unsigned char *in,
                              size_t len, tls_sink *out);

/* Feeds in[0..len) and decrypts into plain, at most about budget bytes
 * of plaintext per call. TLS_MORE says there may be more: call again
 * with in + *used (the part not taken; the caller keeps it, so a big
 * input is never copied). Otherwise *used is len. Output that reading
 * produces (a KeyUpdate answer, an alert) goes to out. */
tls_status tls_conn_read(tls_conn *c, const unsigned char *in, size_t len,
                         tls_sink *plain, tls_sink *out, size_t budget, size_t *used);

/* Encrypts plain[0..len) into records appended to out. */
tls_status tls_conn_write(tls_conn *c, const unsigned char *plain,
                          size_t len, tls_sink *out);

/* Appends close_notify to out (nothing before the handshake is done). */
void tls_conn_shutdown(tls_conn *c, tls_sink *out);

/* Bytes held back: ciphertext not yet fed to OpenSSL plus decrypted
 * plaintext not yet read. Non-zero means a read with no input has work. */
size_t tls_conn_buffered(const tls_conn *c);

const tls_failure *tls_conn_failure(const tls_conn *c);
SSL *tls_conn_ssl(tls_conn *c);
int tls_conn_established(const tls_conn *c);

/* A server has signed its handshake (CertificateVerify in TLS 1.3,
 * ServerKeyExchange in 1.2): the step that may be slow is behind it. */
int tls_conn_signed(const tls_conn *c);

/* The X509_V_ERR_* code OpenSSL recorded (X509_V_OK when verified). */
long tls_conn_verify_result(tls_conn *c);

/* RFC 9266 tls-exporter (32 bytes); 0 if the handshake is not done. */
int tls_conn_exporter(tls_conn *c, unsigned char out[32]);

/* RFC 5929 tls-unique: the first Finished of the handshake. Returns its
 * length (0: not TLS 1.2 or no handshake yet). */
size_t tls_conn_unique(tls_conn *c, unsigned char *out, size_t cap);

#endif

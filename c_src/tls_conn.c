/*
 * tls_conn: see tls_conn.h. One SSL object, one BIO of our own that reads
 * from the caller's input and appends to the caller's sink.
 */
#include "tls_conn.h"

#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Plaintext is read in pieces of at most one record. */
#define READ_PIECE 16384
/* The handshake's and records' own bound on a peer's claims: a
 * certificate chain longer than this is refused (OpenSSL's default is
 * 100 KB; XMPP chains are a few KB). */
#define MAX_CERT_LIST (64 * 1024)

struct tls_conn {
    SSL *ssl;
    tls_alloc alloc;
    int server;
    int failed;
    tls_failure failure;
    int alert_received; /* fatal alert code + 1, 0 if none */
    int signed_flight;  /* a server wrote its CertificateVerify or
                           ServerKeyExchange: its costly step is past */

    /* The input being consumed by the current call: either the caller's
     * buffer (borrowed) or `pending'. */
    const unsigned char *src;
    size_t src_len, src_pos;
    size_t given; /* the caller's input length in this call */
    /* Input left over from an earlier call (rare: a handshake that ends
     * with application data behind it, or a read that hit its budget). */
    unsigned char *pending;
    size_t pending_off, pending_len, pending_cap; /* bytes at off..off+len */

    tls_sink *out; /* where the BIO writes during a call */
};

static BIO_METHOD *conn_bio_method;

/* ---------------------------------------------------------------------- */
/* The BIO                                                                 */

static int bio_read(BIO *bio, char *buf, int size)
{
    tls_conn *c = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    size_t avail = c->src ? c->src_len - c->src_pos : 0;
    if (avail == 0) {
        BIO_set_retry_read(bio);
        return -1;
    }
    size_t n = avail < (size_t)size ? avail : (size_t)size;
    memcpy(buf, c->src + c->src_pos, n);
    c->src_pos += n;
    return (int)n;
}

static int bio_write(BIO *bio, const char *buf, int size)
{
    tls_conn *c = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (size <= 0)
        return 0;
    if (!c->out || !c->out->append(c->out, (const unsigned char *)buf, (size_t)size))
        return -1;
    return size;
}

static long bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    tls_conn *c = BIO_get_data(bio);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return c && c->src ? (long)(c->src_len - c->src_pos) : 0;
    case BIO_CTRL_WPENDING:
        return 0;
    default:
        return 0;
    }
}

static int bio_create(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

int tls_conn_global_init(void)
{
    if (conn_bio_method)
        return 1;
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                                 "stanza_tls");
    if (!m)
        return 0;
    if (!BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
        !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
        BIO_meth_free(m);
        return 0;
    }
    conn_bio_method = m;
    return 1;
}

void tls_conn_global_free(void)
{
    BIO_meth_free(conn_bio_method);
    conn_bio_method = NULL;
}

/* ---------------------------------------------------------------------- */
/* Input bookkeeping                                                       */

static int pending_reserve(tls_conn *c, size_t need)
{
    if (c->pending_off) { /* rare: an append behind a partly used leftover */
        memmove(c->pending, c->pending + c->pending_off, c->pending_len);
        c->pending_off = 0;
    }
    if (need <= c->pending_cap)
        return 1;
    size_t cap = c->pending_cap ? c->pending_cap : 1024;
    while (cap < need)
        cap *= 2;
    unsigned char *p = c->pending ? c->alloc.realloc(c->pending, cap)
                                  : c->alloc.alloc(cap);
    if (!p)
        return 0;
    c->pending = p;
    c->pending_cap = cap;
    return 1;
}

/* Makes in[0..len) (after any leftover) the input of this call. */
static int begin_input(tls_conn *c, const unsigned char *in, size_t len)
{
    c->given = len;
    if (c->pending_len == 0) {
        c->src = in;
        c->src_len = len;
        c->src_pos = 0;
        return 1;
    }
    if (len) {
        if (!pending_reserve(c, c->pending_len + len))
            return 0;
        memcpy(c->pending + c->pending_len, in, len);
        c->pending_len += len;
    }
    c->src = c->pending + c->pending_off;
    c->src_len = c->pending_len;
    c->src_pos = 0;
    return 1;
}

/* Keeps what this call did not consume. The caller's buffer is only
 * borrowed for the call, so a leftover is copied, unless give_back is
 * set: then the caller keeps it (*used says how much was taken), which
 * spares a big input cut by the read budget a copy per call. */
static int end_input(tls_conn *c, int give_back, size_t *used)
{
    size_t left = c->src ? c->src_len - c->src_pos : 0;
    int from_pending = c->pending && c->src == c->pending + c->pending_off;
    int ok = 1;
    if (used)
        *used = from_pending ? c->given : c->src_pos; /* pending took it all */
    if (from_pending) {
        c->pending_off += c->src_pos;
        c->pending_len = left;
    } else if (left && !give_back) {
        if (pending_reserve(c, left)) {
            memcpy(c->pending, c->src + c->src_pos, left);
            c->pending_len = left;
            if (used)
                *used = c->given;
        } else {
            ok = 0;
        }
    }
    if (c->pending_len == 0 && c->pending) {
        /* An idle connection holds no input buffer. */
        c->alloc.free(c->pending);
        c->pending = NULL;
        c->pending_cap = 0;
        c->pending_off = 0;
    }
    c->src = NULL;
    c->src_len = c->src_pos = 0;
    c->out = NULL;
    return ok;
}

/* ---------------------------------------------------------------------- */
/* Failures                                                                */

static void info_callback(const SSL *ssl, int where, int ret)
{
    /* SSL_CB_READ_ALERT shares its SSL_CB_ALERT bit with WRITE_ALERT:
     * test both bits, or our own alerts would count as the peer's. */
    if (!(where & SSL_CB_ALERT) || !(where & SSL_CB_READ))
        return;
    if ((ret >> 8) == SSL3_AL_FATAL) {
        tls_conn *c = SSL_get_app_data(ssl);
        if (c && !c->alert_received)
            c->alert_received = (ret & 0xff) + 1;
    }
}

/* Watches a server's outgoing handshake messages until it has signed,
 * then stops watching. */
static void msg_callback(int write_p, int version, int content_type, const void *buf,
                         size_t len, SSL *ssl, void *arg)
{
    (void)version, (void)arg;
    if (!write_p || content_type != SSL3_RT_HANDSHAKE || len == 0)
        return;
    int type = ((const unsigned char *)buf)[0];
    if (type == SSL3_MT_CERTIFICATE_VERIFY || type == SSL3_MT_SERVER_KEY_EXCHANGE) {
        tls_conn *c = SSL_get_app_data(ssl);
        if (c)
            c->signed_flight = 1;
        SSL_set_msg_callback(ssl, NULL);
    }
}

static tls_status fail(tls_conn *c, tls_failure_kind kind)
{
    c->failed = 1;
    c->failure.kind = kind;
    ERR_clear_error();
    return TLS_FAILED;
}

/* Says why an SSL call returned SSL_ERROR_SSL or SSL_ERROR_SYSCALL. */
static tls_status classify(tls_conn *c)
{
    unsigned long err = ERR_peek_error();
    if (c->alert_received) {
        c->failure.alert = c->alert_received - 1;
        return fail(c, TLS_F_ALERT);
    }
    if (ERR_GET_LIB(err) == ERR_LIB_SSL &&
        ERR_GET_REASON(err) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        long v = SSL_get_verify_result(c->ssl);
        c->failure.verify = v;
        return fail(c, v == X509_V_ERR_HOSTNAME_MISMATCH ? TLS_F_HOSTNAME
                                                         : TLS_F_VERIFY);
    }
    if (ERR_GET_LIB(err) == ERR_LIB_SSL &&
        ERR_GET_REASON(err) == ERR_R_MALLOC_FAILURE)
        return fail(c, TLS_F_NOMEM);
    const char *why = err ? ERR_reason_error_string(err) : NULL;
    if (!why)
        why = err ? "unknown error" : "unexpected end of handshake";
    size_t n = strlen(why);
    if (n >= sizeof c->failure.reason)
        n = sizeof c->failure.reason - 1;
    memcpy(c->failure.reason, why, n);
    c->failure.reason[n] = 0;
    return fail(c, TLS_F_PROTOCOL);
}

/* ---------------------------------------------------------------------- */
/* Connections                                                             */

size_t tls_conn_size(void)
{
    return sizeof(tls_conn);
}

int tls_conn_init(tls_conn *c, SSL_CTX *ctx, int server, const char *host,
                  int check_host, const tls_alloc *alloc)
{
    memset(c, 0, sizeof *c);
    c->alloc = *alloc;
    c->server = server;
    if (!conn_bio_method)
        return 0;
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return 0;
    BIO *bio = BIO_new(conn_bio_method);
    if (!bio) {
        SSL_free(ssl);
        return 0;
    }
    BIO_set_data(bio, c);
    /* One BIO for both directions: SSL_set_bio takes one reference. */
    SSL_set_bio(ssl, bio, bio);
    SSL_set_app_data(ssl, c);
    SSL_set_info_callback(ssl, info_callback);
    SSL_set_max_cert_list(ssl, MAX_CERT_LIST);
    if (server) {
        SSL_set_accept_state(ssl);
        SSL_set_msg_callback(ssl, msg_callback);
    } else {
        SSL_set_connect_state(ssl);
        if (host && *host) {
            /* SNI is for DNS names only (RFC 6066): not for an address. */
            int is_ip = 0;
            ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
            if (ip) {
                is_ip = 1;
                ASN1_OCTET_STRING_free(ip);
            }
            ERR_clear_error();
            if ((!is_ip && !SSL_set_tlsext_host_name(ssl, host)) ||
                (check_host && !SSL_set1_host(ssl, host))) {
                SSL_free(ssl);
                ERR_clear_error();
                return 0;
            }
            if (check_host)
                SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        }
    }
    c->ssl = ssl;
    return 1;
}

void tls_conn_release(tls_conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->pending) {
        c->alloc.free(c->pending);
        c->pending = NULL;
    }
    c->pending_off = c->pending_len = c->pending_cap = 0;
}

static tls_status refuse(tls_conn *c)
{
    if (!c->failed) {
        c->failed = 1;
        c->failure.kind = TLS_F_STATE;
    }
    return TLS_FAILED;
}

tls_status tls_conn_handshake(tls_conn *c, const unsigned char *in,
                              size_t len, tls_sink *out)
{
    if (c->failed || !c->ssl)
        return refuse(c);
    if (!begin_input(c, in, len))
        return fail(c, TLS_F_NOMEM);
    c->out = out;
    ERR_clear_error();
    tls_status st;
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        st = TLS_DONE;
    } else {
        int e = SSL_get_error(c->ssl, r);
        st = e == SSL_ERROR_WANT_READ ? TLS_WANT : classify(c);
    }
    if (!end_input(c, 0, NULL))
        return fail(c, TLS_F_NOMEM);
    return st;
}

tls_status tls_conn_read(tls_conn *c, const unsigned char *in, size_t len,
                         tls_sink *plain, tls_sink *out, size_t budget, size_t *used)
{
    *used = 0;
    if (c->failed || !c->ssl || !SSL_is_init_finished(c->ssl))
        return refuse(c);
    if (!begin_input(c, in, len))
        return fail(c, TLS_F_NOMEM);
    c->out = out;
    ERR_clear_error();
    unsigned char piece[READ_PIECE];
    size_t total = 0;
    tls_status st = TLS_DONE;
    for (;;) {
        size_t got = 0;
        if (SSL_read_ex(c->ssl, piece, sizeof piece, &got)) {
            if (!plain->append(plain, piece, got)) {
                st = fail(c, TLS_F_NOMEM);
                break;
            }
            total += got;
            if (total >= budget) {
                if (c->src_pos < c->src_len || SSL_pending(c->ssl) > 0)
                    st = TLS_MORE;
                break;
            }
            continue;
        }
        int e = SSL_get_error(c->ssl, 0);
        if (e == SSL_ERROR_WANT_READ)
            st = TLS_DONE;
        else if (e == SSL_ERROR_ZERO_RETURN)
            st = TLS_CLOSED;
        else
            st = classify(c);
        break;
    }
    if (!end_input(c, st == TLS_MORE, used))
        return fail(c, TLS_F_NOMEM);
    return st;
}

tls_status tls_conn_write(tls_conn *c, const unsigned char *plain,
                          size_t len, tls_sink *out)
{
    if (c->failed || !c->ssl || !SSL_is_init_finished(c->ssl))
        return refuse(c);
    c->out = out;
    ERR_clear_error();
    tls_status st = TLS_DONE;
    size_t done = 0;
    while (done < len) {
        size_t wrote = 0;
        if (!SSL_write_ex(c->ssl, plain + done, len - done, &wrote)) {
            st = classify(c);
            break;
        }
        done += wrote;
    }
    c->out = NULL;
    return st;
}

void tls_conn_shutdown(tls_conn *c, tls_sink *out)
{
    if (!c->ssl || c->failed || !SSL_is_init_finished(c->ssl))
        return;
    c->out = out;
    ERR_clear_error();
    (void)SSL_shutdown(c->ssl);
    ERR_clear_error();
    c->out = NULL;
}

size_t tls_conn_buffered(const tls_conn *c)
{
    size_t n = c->pending_len;
    if (c->ssl && SSL_is_init_finished(c->ssl))
        n += (size_t)SSL_pending(c->ssl);
    return n;
}

const tls_failure *tls_conn_failure(const tls_conn *c)
{
    return &c->failure;
}

SSL *tls_conn_ssl(tls_conn *c)
{
    return c->ssl;
}

int tls_conn_signed(const tls_conn *c)
{
    return c->signed_flight;
}

int tls_conn_established(const tls_conn *c)
{
    return c->ssl && !c->failed && SSL_is_init_finished(c->ssl);
}

long tls_conn_verify_result(tls_conn *c)
{
    return c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_ERR_UNSPECIFIED;
}

int tls_conn_exporter(tls_conn *c, unsigned char out[32])
{
    static const char label[] = "EXPORTER-Channel-Binding";
    if (!tls_conn_established(c))
        return 0;
    int ok = SSL_export_keying_material(c->ssl, out, 32, label,
                                        sizeof label - 1, NULL, 0, 0);
    ERR_clear_error();
    return ok == 1;
}

size_t tls_conn_unique(tls_conn *c, unsigned char *out, size_t cap)
{
    if (!tls_conn_established(c) || SSL_version(c->ssl) != TLS1_2_VERSION)
        return 0;
    /* The first Finished: the client's in a full handshake, the
     * server's in a resumed one (RFC 5929 section 3.1). */
    int ours = c->server ? SSL_session_reused(c->ssl)
                         : !SSL_session_reused(c->ssl);
    return ours ? SSL_get_finished(c->ssl, out, cap)
                : SSL_get_peer_finished(c->ssl, out, cap);
}

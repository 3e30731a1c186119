/*
 * tls_ctx: see tls_ctx.h.
 *
 * What a context carries beyond OpenSSL's own settings (the ALPN list a
 * server chooses from, the SNI table) hangs off the SSL_CTX as ex_data
 * whose free function runs with SSL_CTX_free, so it lives exactly as long
 * as the context and every connection using it.
 */
#include "tls_ctx.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

/* id-on-xmppAddr and id-on-dnsSRV (RFC 6120 13.7.1.4, RFC 4985). */
#define OID_XMPP_ADDR "1.3.6.1.5.5.7.8.5"
#define OID_SRV_NAME "1.3.6.1.5.5.7.8.7"

typedef struct sni_entry {
    char *name;
    SSL_CTX *ctx;
} sni_entry;

typedef struct ctx_extra {
    unsigned char *alpn;
    size_t alpn_len;
    int has_cert;
    sni_entry *sni;
    size_t sni_len, sni_cap;
} ctx_extra;

static int extra_index = -1;

static void extra_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                       long argl, void *argp)
{
    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    ctx_extra *x = ptr;
    if (!x)
        return;
    for (size_t i = 0; i < x->sni_len; i++) {
        OPENSSL_free(x->sni[i].name);
        SSL_CTX_free(x->sni[i].ctx);
    }
    OPENSSL_free(x->sni);
    OPENSSL_free(x->alpn);
    OPENSSL_free(x);
}

int tls_ctx_global_init(void)
{
    if (extra_index >= 0)
        return 1;
    extra_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, extra_free);
    return extra_index >= 0;
}

static ctx_extra *extra_of(SSL_CTX *ctx)
{
    return SSL_CTX_get_ex_data(ctx, extra_index);
}

/* ---------------------------------------------------------------------- */
/* Verification                                                            */

/* Does an otherName in the certificate's subjectAltName carry `host' as an
 * XMPP address or as an SRV name for an XMPP service? */
static int xmpp_name_matches(X509 *cert, const char *host)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (!names)
        return 0;
    int found = 0;
    char oid[64];
    for (int i = 0; !found && i < sk_GENERAL_NAME_num(names); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type != GEN_OTHERNAME)
            continue;
        OTHERNAME *on = g->d.otherName;
        if (OBJ_obj2txt(oid, sizeof oid, on->type_id, 1) <= 0)
            continue;
        ASN1_TYPE *v = on->value;
        const unsigned char *s;
        int len;
        if (!strcmp(oid, OID_XMPP_ADDR) && v->type == V_ASN1_UTF8STRING) {
            s = ASN1_STRING_get0_data(v->value.utf8string);
            len = ASN1_STRING_length(v->value.utf8string);
        } else if (!strcmp(oid, OID_SRV_NAME) && v->type == V_ASN1_IA5STRING) {
            s = ASN1_STRING_get0_data(v->value.ia5string);
            len = ASN1_STRING_length(v->value.ia5string);
            /* "_xmpp-client.example.com" or "_xmpp-server.example.com" */
            static const char *services[] = {"_xmpp-client.", "_xmpp-server."};
            int skipped = 0;
            for (int k = 0; k < 2 && !skipped; k++) {
                size_t p = strlen(services[k]);
                if ((size_t)len > p && !strncasecmp((const char *)s, services[k], p)) {
                    s += p;
                    len -= (int)p;
                    skipped = 1;
                }
            }
            if (!skipped)
                continue;
        } else {
            continue;
        }
        found = (size_t)len == strlen(host) && memchr(s, 0, (size_t)len) == NULL &&
                !strncasecmp((const char *)s, host, (size_t)len);
    }
    GENERAL_NAMES_free(names);
    return found;
}

/* TLS_VERIFY_PEER: OpenSSL's verdict, except that a name mismatch is
 * forgiven when the XMPP names of RFC 6120 match. */
static int verify_peer_cb(int ok, X509_STORE_CTX *store)
{
    if (ok || X509_STORE_CTX_get_error(store) != X509_V_ERR_HOSTNAME_MISMATCH ||
        X509_STORE_CTX_get_error_depth(store) != 0)
        return ok;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    const char *host = ssl ? X509_VERIFY_PARAM_get0_host(SSL_get0_param(ssl), 0) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (host && cert && xmpp_name_matches(cert, host)) {
        X509_STORE_CTX_set_error(store, X509_V_OK);
        return 1;
    }
    return 0;
}

/* TLS_VERIFY_REPORT: carry on whatever the verdict; the last error stays
 * in SSL_get_verify_result for the caller to judge. */
static int verify_report_cb(int ok, X509_STORE_CTX *store)
{
    (void)ok, (void)store;
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Server callbacks                                                        */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl, (void)arg;
    ctx_extra *x = extra_of(SSL_get_SSL_CTX(ssl));
    unsigned char *sel = NULL;
    if (!x || !x->alpn)
        return SSL_TLSEXT_ERR_NOACK;
    if (SSL_select_next_proto(&sel, outlen, x->alpn, (unsigned int)x->alpn_len,
                              in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *sni_lookup(ctx_extra *x, const char *name)
{
    for (size_t i = 0; i < x->sni_len; i++)
        if (!strcasecmp(x->sni[i].name, name))
            return x->sni[i].ctx;
    const char *dot = strchr(name, '.');
    if (!dot || dot == name)
        return NULL;
    for (size_t i = 0; i < x->sni_len; i++) {
        const char *n = x->sni[i].name;
        if (n[0] == '*' && n[1] == '.' && !strcasecmp(n + 1, dot))
            return x->sni[i].ctx;
    }
    return NULL;
}

static int sni_select(SSL *ssl, int *alert, void *arg)
{
    SSL_CTX *base = arg;
    ctx_extra *x = extra_of(base);
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    SSL_CTX *named = x && name ? sni_lookup(x, name) : NULL;
    if (named) {
        SSL_set_SSL_CTX(ssl, named);
        return SSL_TLSEXT_ERR_OK;
    }
    if (x && x->has_cert)
        return SSL_TLSEXT_ERR_OK;
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* ---------------------------------------------------------------------- */
/* Building                                                                */

static SSL_CTX *refuse(SSL_CTX *ctx, char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *why = e ? ERR_reason_error_string(e) : NULL;
    snprintf(err, errlen, "%s%s%s", what, why ? ": " : "", why ? why : "");
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

static int load_cert(SSL_CTX *ctx, const tls_ctx_config *cfg, char *err, size_t errlen)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->certfile) != 1) {
        refuse(NULL, err, errlen, "cannot load certfile");
        return 0;
    }
    const char *key = cfg->keyfile ? cfg->keyfile : cfg->certfile;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        refuse(NULL, err, errlen, "cannot load keyfile");
        return 0;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        refuse(NULL, err, errlen, "the key does not match the certificate");
        return 0;
    }
    return 1;
}

static int set_verify(SSL_CTX *ctx, const tls_ctx_config *cfg, char *err, size_t errlen)
{
    int wants_store = cfg->verify != TLS_VERIFY_NONE || !cfg->server;
    if (wants_store) {
        int ok = cfg->cafile ? SSL_CTX_load_verify_locations(ctx, cfg->cafile, NULL)
                             : SSL_CTX_set_default_verify_paths(ctx);
        if (ok != 1) {
            refuse(NULL, err, errlen, "cannot load cafile");
            return 0;
        }
    }
    switch (cfg->verify) {
    case TLS_VERIFY_NONE:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        break;
    case TLS_VERIFY_PEER:
        SSL_CTX_set_verify(ctx, cfg->server ? SSL_VERIFY_PEER |
                                                  SSL_VERIFY_FAIL_IF_NO_PEER_CERT |
                                                  SSL_VERIFY_CLIENT_ONCE
                                            : SSL_VERIFY_PEER,
                           verify_peer_cb);
        break;
    case TLS_VERIFY_REPORT:
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE,
                           verify_report_cb);
        break;
    }
    if (cfg->server && cfg->verify != TLS_VERIFY_NONE && cfg->cafile) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->cafile);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
    }
    return 1;
}

static int set_protocol(SSL_CTX *ctx, const tls_ctx_config *cfg)
{
    int min = cfg->min_version ? cfg->min_version : TLS1_2_VERSION;
    int max = cfg->max_version ? cfg->max_version : TLS1_3_VERSION;
    if (min < TLS1_2_VERSION || max > TLS1_3_VERSION || min > max)
        return 0;
    if (!SSL_CTX_set_min_proto_version(ctx, min) ||
        !SSL_CTX_set_max_proto_version(ctx, max))
        return 0;
    /* OpenSSL 3 servers already refuse client-initiated renegotiation
     * (SSL_OP_ALLOW_CLIENT_RENEGOTIATION is off); NO_RENEGOTIATION also
     * refuses a server's HelloRequest. */
    uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
    if (cfg->server)
        opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    if (cfg->server && !cfg->tickets)
        opts |= SSL_OP_NO_TICKET;
    SSL_CTX_set_options(ctx, opts);
    if (cfg->server && !cfg->tickets)
        SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, cfg->server ? SSL_SESS_CACHE_OFF
                                                    : SSL_SESS_CACHE_CLIENT |
                                                          SSL_SESS_CACHE_NO_INTERNAL);
    static const unsigned char sid_ctx[] = "stanza_tls";
    if (cfg->server && !SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1))
        return 0;
    /* Idle connections give back their record buffers. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_dh_auto(ctx, 1);
    return 1;
}

static int set_alpn(SSL_CTX *ctx, ctx_extra *x, const tls_ctx_config *cfg)
{
    if (!cfg->alpn_len)
        return 1;
    if (!cfg->server)
        return SSL_CTX_set_alpn_protos(ctx, cfg->alpn, (unsigned int)cfg->alpn_len) == 0;
    x->alpn = OPENSSL_memdup(cfg->alpn, cfg->alpn_len);
    if (!x->alpn)
        return 0;
    x->alpn_len = cfg->alpn_len;
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    return 1;
}

SSL_CTX *tls_ctx_new(const tls_ctx_config *cfg, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(cfg->server ? TLS_server_method() : TLS_client_method());
    if (!ctx)
        return refuse(NULL, err, errlen, "out of memory");
    ctx_extra *x = OPENSSL_zalloc(sizeof *x);
    if (!x || !SSL_CTX_set_ex_data(ctx, extra_index, x)) {
        OPENSSL_free(x);
        return refuse(ctx, err, errlen, "out of memory");
    }
    if (!set_protocol(ctx, cfg))
        return refuse(ctx, err, errlen, "bad versions");
    const char *ciphers = cfg->ciphers ? cfg->ciphers : TLS_CTX_DEFAULT_CIPHERS;
    if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1)
        return refuse(ctx, err, errlen, "bad ciphers");
    if (SSL_CTX_set1_groups_list(ctx, TLS_CTX_GROUPS) != 1)
        return refuse(ctx, err, errlen, "bad groups");
    if (cfg->ciphersuites && SSL_CTX_set_ciphersuites(ctx, cfg->ciphersuites) != 1)
        return refuse(ctx, err, errlen, "bad ciphersuites");
    if (cfg->certfile) {
        if (!load_cert(ctx, cfg, err, errlen)) {
            SSL_CTX_free(ctx);
            return NULL;
        }
        x->has_cert = 1;
    }
    if (!set_verify(ctx, cfg, err, errlen)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (!set_alpn(ctx, x, cfg))
        return refuse(ctx, err, errlen, "bad alpn");
    if (cfg->server)
        SSL_CTX_set_tlsext_servername_arg(ctx, ctx);
    return ctx;
}

int tls_ctx_add_sni(SSL_CTX *base, const char *name, SSL_CTX *named)
{
    ctx_extra *x = extra_of(base);
    if (!x)
        return 0;
    if (x->sni_len == x->sni_cap) {
        size_t cap = x->sni_cap ? x->sni_cap * 2 : 4;
        sni_entry *e = OPENSSL_realloc(x->sni, cap * sizeof *e);
        if (!e)
            return 0;
        x->sni = e;
        x->sni_cap = cap;
    }
    char *copy = OPENSSL_strdup(name);
    if (!copy || !SSL_CTX_up_ref(named)) {
        OPENSSL_free(copy);
        return 0;
    }
    x->sni[x->sni_len].name = copy;
    x->sni[x->sni_len].ctx = named;
    x->sni_len++;
    if (x->sni_len == 1)
        SSL_CTX_set_tlsext_servername_callback(base, sni_select);
    return 1;
}

int tls_ctx_has_cert(SSL_CTX *ctx)
{
    ctx_extra *x = extra_of(ctx);
    return x && x->has_cert;
}

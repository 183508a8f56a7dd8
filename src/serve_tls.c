/* serve_tls.c — the TLS context of `authc serve --tls-cert/--tls-key`:
 * TLS 1.2 and later, small idle connections, reloadable on SIGHUP. */
#include <stdio.h>

#include <openssl/err.h>

#include "serve_int.h"

static void tls_error(const char *what, const char *file, char *err, size_t errlen)
{
    char e[256];
    ERR_error_string_n(ERR_get_error(), e, sizeof e);
    snprintf(err, errlen, "%s %s: %s", what, file, e);
    ERR_clear_error();
}

SSL_CTX *serve__tls_load(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Buffers go back to the allocator while a connection is idle. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* No ALPN callback: clients speak HTTP/1.1 (HTTP/2 stays off). */
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        tls_error("cannot load the certificate", cert, err, errlen);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        tls_error("cannot load the private key", key, err, errlen);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        tls_error("the private key does not match the certificate", cert, err, errlen);
    } else {
        return ctx;
    }
    SSL_CTX_free(ctx);
    return NULL;
}

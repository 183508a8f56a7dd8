/* oauth_testutil.h — helpers for the OAuth/OIDC unit tests: signing keys
 * made on the fly (RSA, P-256, Ed25519) with their public JWKs, compact JWS
 * signing, and a tiny threaded HTTP server on loopback that plays the IdP. */
#ifndef AUTHC_OAUTH_TESTUTIL_H
#define AUTHC_OAUTH_TESTUTIL_H

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jose/idtoken_int.h"
#include "util/util_int.h"

/* ---- keys and JWS ----------------------------------------------------- */

typedef struct tkey {
    EVP_PKEY *pk;
    const char *alg;   /* "RS256", "PS256", "ES256", "EdDSA" */
    char kid[32];
} tkey;

static __attribute__((unused)) EVP_PKEY *tk_gen(const char *alg, int rsa_bits)
{
    if (!strcmp(alg, "ES256"))
        return EVP_EC_gen("P-256");
    if (!strcmp(alg, "EdDSA"))
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return EVP_RSA_gen((unsigned)rsa_bits);
}

static __attribute__((unused)) tkey tk_new(const char *alg, const char *kid)
{
    tkey k = {.pk = tk_gen(alg, 2048), .alg = alg};
    snprintf(k.kid, sizeof k.kid, "%s", kid);
    return k;
}

static __attribute__((unused)) char *tk_b64(const uint8_t *b, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    authc__b64url_encode_to(out, b, n);
    return out;
}

static __attribute__((unused)) char *tk_bn_b64(const BIGNUM *bn, size_t pad)
{
    size_t n = (size_t)BN_num_bytes(bn);
    if (pad < n)
        pad = n;
    uint8_t *buf = calloc(1, pad);
    BN_bn2bin(bn, buf + (pad - n));
    char *s = tk_b64(buf, pad);
    free(buf);
    return s;
}

/* Public JWK of k (new reference). with_kid=false leaves kid out. */
static __attribute__((unused)) json_t *tk_jwk(const tkey *k, bool with_kid)
{
    json_t *j = json_object();
    if (!strcmp(k->alg, "ES256")) {
        BIGNUM *x = NULL, *y = NULL;
        EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_EC_PUB_X, &x);
        EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
        char *xs = tk_bn_b64(x, 32), *ys = tk_bn_b64(y, 32);
        json_object_set_new(j, "kty", json_string("EC"));
        json_object_set_new(j, "crv", json_string("P-256"));
        json_object_set_new(j, "x", json_string(xs));
        json_object_set_new(j, "y", json_string(ys));
        free(xs), free(ys), BN_free(x), BN_free(y);
    } else if (!strcmp(k->alg, "EdDSA")) {
        uint8_t raw[32];
        size_t l = sizeof raw;
        EVP_PKEY_get_raw_public_key(k->pk, raw, &l);
        char *xs = tk_b64(raw, l);
        json_object_set_new(j, "kty", json_string("OKP"));
        json_object_set_new(j, "crv", json_string("Ed25519"));
        json_object_set_new(j, "x", json_string(xs));
        free(xs);
    } else {
        BIGNUM *n = NULL, *e = NULL;
        EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_RSA_N, &n);
        EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_RSA_E, &e);
        char *ns = tk_bn_b64(n, 0), *es = tk_bn_b64(e, 0);
        json_object_set_new(j, "kty", json_string("RSA"));
        json_object_set_new(j, "n", json_string(ns));
        json_object_set_new(j, "e", json_string(es));
        free(ns), free(es), BN_free(n), BN_free(e);
    }
    json_object_set_new(j, "use", json_string("sig"));
    if (with_kid)
        json_object_set_new(j, "kid", json_string(k->kid));
    return j;
}

/* JWKS text of keys (malloc'd). */
static __attribute__((unused)) char *tk_jwks(const tkey *keys, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, tk_jwk(&keys[i], true));
    json_t *doc = json_pack("{s:o}", "keys", arr);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

/* Signs claims (borrowed) as a compact JWS with header alg/kid (kid NULL:
 * none; alg_override replaces the header alg). malloc'd. */
static __attribute__((unused)) char *tk_sign_ex(const tkey *k, json_t *claims, const char *kid, const char *alg_override)
{
    json_t *hdr = json_pack("{s:s}", "alg", alg_override ? alg_override : k->alg);
    if (kid)
        json_object_set_new(hdr, "kid", json_string(kid));
    char *hs = json_dumps(hdr, JSON_COMPACT), *ps = json_dumps(claims, JSON_COMPACT);
    json_decref(hdr);
    char *h64 = tk_b64((uint8_t *)hs, strlen(hs)), *p64 = tk_b64((uint8_t *)ps, strlen(ps));
    size_t ml = strlen(h64) + 1 + strlen(p64);
    char *msg = malloc(ml + 1);
    sprintf(msg, "%s.%s", h64, p64);
    free(hs), free(ps), free(h64), free(p64);

    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = !strcmp(k->alg, "EdDSA") ? NULL : EVP_sha256();
    EVP_DigestSignInit(m, &pctx, md, NULL, k->pk);
    if (!strcmp(k->alg, "PS256")) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
    }
    size_t sl = 0;
    EVP_DigestSign(m, NULL, &sl, (uint8_t *)msg, ml);
    uint8_t *sig = malloc(sl);
    EVP_DigestSign(m, sig, &sl, (uint8_t *)msg, ml);
    EVP_MD_CTX_free(m);
    if (!strcmp(k->alg, "ES256")) {
        /* DER → r||s */
        const uint8_t *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sl);
        uint8_t rs[64] = {0};
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
        ECDSA_SIG_free(es);
        memcpy(sig, rs, 64);
        sl = 64;
    }
    char *s64 = tk_b64(sig, sl);
    free(sig);
    char *tok = malloc(ml + 2 + strlen(s64));
    sprintf(tok, "%s.%s", msg, s64);
    free(msg), free(s64);
    return tok;
}

static __attribute__((unused)) char *tk_sign(const tkey *k, json_t *claims)
{
    return tk_sign_ex(k, claims, k->kid, NULL);
}

/* ---- a tiny HTTP server ------------------------------------------------ */

typedef struct mreq {
    char method[8];
    char target[2048];      /* path + query */
    char headers[8192];     /* raw header block */
    char body[16384];
    size_t body_len;
} mreq;

typedef struct mres {
    int status;
    const char *content_type;
    char body[32768];
    int delay_ms;           /* wait before answering */
} mres;

typedef void (*mhandler)(void *ud, const mreq *rq, mres *rs);

typedef struct msrv {
    int fd;
    int port;
    char origin[64];
    pthread_t th;
    volatile int stop;
    mhandler fn;
    void *ud;
    pthread_mutex_t mu;
    int hits;
    mreq last[8];           /* ring of recent requests */
} msrv;

/* First value of a header (case-insensitive name) into out; false if none. */
static __attribute__((unused)) bool mreq_header(const mreq *rq, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *p = rq->headers; p && *p;) {
        if (!strncasecmp(p, name, nl) && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t l = strcspn(v, "\r\n");
            snprintf(out, outlen, "%.*s", (int)l, v);
            return true;
        }
        p = strstr(p, "\r\n");
        if (p)
            p += 2;
    }
    return false;
}

static __attribute__((unused)) void *msrv_loop(void *arg)
{
    msrv *m = arg;
    while (!m->stop) {
        struct pollfd pf = {.fd = m->fd, .events = POLLIN};
        if (poll(&pf, 1, 50) <= 0)
            continue;
        int c = accept(m->fd, NULL, NULL);
        if (c < 0)
            continue;
        mreq *rq = calloc(1, sizeof *rq);
        mres *rs = calloc(1, sizeof *rs);
        char *buf = calloc(1, 65536);
        size_t n = 0;
        char *he = NULL;
        while (n < 65535) {
            ssize_t r = recv(c, buf + n, 65535 - n, 0);
            if (r <= 0)
                break;
            n += (size_t)r;
            buf[n] = '\0';
            if (!he && (he = strstr(buf, "\r\n\r\n"))) {
                const char *cl = strcasestr(buf, "\r\ncontent-length:");
                size_t want = cl && cl < he ? strtoul(cl + 17, NULL, 10) : 0;
                while ((size_t)(n - (size_t)(he + 4 - buf)) < want && n < 65535) {
                    r = recv(c, buf + n, 65535 - n, 0);
                    if (r <= 0)
                        break;
                    n += (size_t)r;
                }
                buf[n] = '\0';
                break;
            }
        }
        if (he) {
            sscanf(buf, "%7s %2047s", rq->method, rq->target);
            const char *hs = strstr(buf, "\r\n") + 2;
            snprintf(rq->headers, sizeof rq->headers, "%.*s", (int)(he + 2 - hs), hs);
            rq->body_len = n - (size_t)(he + 4 - buf);
            if (rq->body_len >= sizeof rq->body)
                rq->body_len = sizeof rq->body - 1;
            memcpy(rq->body, he + 4, rq->body_len);
            rs->status = 404;
            rs->content_type = "application/json";
            strcpy(rs->body, "{\"error\":\"not_found\"}");
            m->fn(m->ud, rq, rs);
            pthread_mutex_lock(&m->mu);
            m->last[m->hits % 8] = *rq;
            m->hits++;
            pthread_mutex_unlock(&m->mu);
            for (int waited = 0; waited < rs->delay_ms && !m->stop; waited += 10)
                usleep(10000);
            char head[512];
            int hl = snprintf(head, sizeof head,
                              "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                              rs->status, rs->content_type, strlen(rs->body));
            if (send(c, head, (size_t)hl, MSG_NOSIGNAL) > 0)
                send(c, rs->body, strlen(rs->body), MSG_NOSIGNAL);
        }
        close(c);
        free(buf), free(rq), free(rs);
    }
    return NULL;
}

static __attribute__((unused)) msrv *msrv_start(mhandler fn, void *ud)
{
    msrv *m = calloc(1, sizeof *m);
    m->fn = fn;
    m->ud = ud;
    pthread_mutex_init(&m->mu, NULL);
    m->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(m->fd, (struct sockaddr *)&sa, sizeof sa) || listen(m->fd, 16)) {
        close(m->fd);
        free(m);
        return NULL;
    }
    socklen_t sl = sizeof sa;
    getsockname(m->fd, (struct sockaddr *)&sa, &sl);
    m->port = ntohs(sa.sin_port);
    snprintf(m->origin, sizeof m->origin, "http://127.0.0.1:%d", m->port);
    pthread_create(&m->th, NULL, msrv_loop, m);
    return m;
}

static __attribute__((unused)) void msrv_stop(msrv *m)
{
    if (!m)
        return;
    m->stop = 1;
    pthread_join(m->th, NULL);
    close(m->fd);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static __attribute__((unused)) int msrv_hits(msrv *m)
{
    pthread_mutex_lock(&m->mu);
    int h = m->hits;
    pthread_mutex_unlock(&m->mu);
    return h;
}

#endif

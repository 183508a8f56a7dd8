/* csrf.c — Auth.js's double-submit CSRF token: cookie "<token>|<sha256hex(
 * token + secret)>", token echoed only in the body field csrfToken. */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>

#include "core/core_int.h"
#include "core/global_int.h"

/* Per-thread digest context and a digest fetched once (authc_global_init):
 * this runs on every request that carries a CSRF cookie. */
static EVP_MD *g_sha256;
static pthread_key_t g_key;
static _Thread_local EVP_MD_CTX *t_md;

static void free_ctx(void *p)
{
    EVP_MD_CTX_free(p);
}

authc_err authc__csrf_global_init(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (g_sha256 && pthread_key_create(&g_key, free_ctx) == 0)
        return AUTHC_OK;
    EVP_MD_free(g_sha256);
    g_sha256 = NULL;
    return AUTHC_ERR_CRYPTO;
}

void authc__csrf_global_cleanup(void)
{
    if (!g_sha256)
        return;
    EVP_MD_CTX_free(t_md); /* other threads' went with the thread */
    t_md = NULL;
    pthread_key_delete(g_key);
    EVP_MD_free(g_sha256);
    g_sha256 = NULL;
}

void authc__csrf_hash(const authc *a, const char *token, char out[65])
{
    EVP_MD_CTX *m = t_md;
    uint8_t md[SHA256_DIGEST_LENGTH];
    if (!m && authc_global_init() == AUTHC_OK && g_sha256 && (m = EVP_MD_CTX_new()) != NULL) {
        pthread_setspecific(g_key, m);
        t_md = m;
    }
    if (!m || !EVP_DigestInit_ex(m, g_sha256, NULL) ||
        !EVP_DigestUpdate(m, token, strlen(token)) ||
        !EVP_DigestUpdate(m, a->csrf_secret, strlen(a->csrf_secret)) ||
        !EVP_DigestFinal_ex(m, md, NULL)) {
        /* Never equal to a real hash: verification then fails closed. */
        memset(out, 'x', 64);
        out[64] = '\0';
        return;
    }
    authc__hex(out, md, sizeof md);
}

static bool is_hex64(const char *s, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

authc_err authc__csrf_init(authc__ctx *c)
{
    const char *cookie = authc__map_first(&c->cookies, c->ck[AUTHC__CK_CSRF]);
    if (cookie) {
        const char *bar = strchr(cookie, '|');
        if (bar && is_hex64(cookie, (size_t)(bar - cookie))) {
            char *tok = authc_arena_strndup(c->ar, cookie, (size_t)(bar - cookie));
            if (!tok)
                return AUTHC_ERR_NOMEM;
            char want[65];
            authc__csrf_hash(c->a, tok, want);
            if (authc__ct_streq(want, bar + 1)) {
                c->csrf_token = tok;
                const char *sent = authc__map_last(&c->body, "csrfToken");
                c->csrf_verified = c->skip_csrf || (c->post && sent && authc__ct_streq(sent, tok));
                return AUTHC_OK;
            }
        }
    }
    uint8_t rnd[32];
    authc_err e = authc__random(rnd, sizeof rnd);
    if (e)
        return e;
    char *tok = authc_arena_alloc(c->ar, 65);
    char *val = authc_arena_alloc(c->ar, 64 + 1 + 64 + 1);
    if (!tok || !val)
        return AUTHC_ERR_NOMEM;
    authc__hex(tok, rnd, sizeof rnd);
    char h[65];
    authc__csrf_hash(c->a, tok, h);
    memcpy(val, tok, 64);
    val[64] = '|';
    memcpy(val + 65, h, 65);
    c->csrf_token = tok;
    c->csrf_verified = c->skip_csrf;
    return authc__cookie_push(c, &c->init_cookies, c->ck[AUTHC__CK_CSRF], val, -1, -1);
}

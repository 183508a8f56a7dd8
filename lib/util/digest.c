/* digest.c — SHA-256 over strings with a digest fetched once and a context
 * per thread (hot: CSRF and revocation keys), and the hashed store keys. */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/util_int.h"

/* Fetched by authc_global_init: an implicit EVP_sha256() costs a lookup
 * and a fresh context costs allocations on every request. */
static EVP_MD *g_sha256;
static pthread_key_t g_key;
static _Thread_local EVP_MD_CTX *t_md;

static void free_ctx(void *p)
{
    EVP_MD_CTX_free(p);
}

authc_err authc__digest_global_init(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (g_sha256 && pthread_key_create(&g_key, free_ctx) == 0)
        return AUTHC_OK;
    EVP_MD_free(g_sha256);
    g_sha256 = NULL;
    return AUTHC_ERR_CRYPTO;
}

void authc__digest_global_cleanup(void)
{
    if (!g_sha256)
        return;
    EVP_MD_CTX_free(t_md); /* other threads' went with the thread */
    t_md = NULL;
    pthread_key_delete(g_key);
    EVP_MD_free(g_sha256);
    g_sha256 = NULL;
}

bool authc__sha256_strs(uint8_t out[32], const char *const *parts, size_t n, bool nul_between)
{
    EVP_MD_CTX *m = t_md;
    if (!m && authc_global_init() == AUTHC_OK && g_sha256 && (m = EVP_MD_CTX_new()) != NULL) {
        pthread_setspecific(g_key, m);
        t_md = m;
    }
    if (!m || !EVP_DigestInit_ex(m, g_sha256, NULL))
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *s = parts[i] ? parts[i] : "";
        /* The NUL keeps ("ab","c") and ("a","bc") apart. */
        size_t len = strlen(s) + (nul_between && i + 1 < n ? 1 : 0);
        if (!EVP_DigestUpdate(m, s, len))
            return false;
    }
    return EVP_DigestFinal_ex(m, out, NULL) == 1;
}

bool authc__digest_key(char *out, size_t cap, const char *prefix, const char *const *parts,
                       size_t n)
{
    uint8_t dig[32];
    if (!authc__sha256_strs(dig, parts, n, true))
        return false;
    size_t pl = strlen(prefix);
    if (pl + 1 + 32 >= cap) /* "prefix:" + 32 characters + NUL */
        return false;
    memcpy(out, prefix, pl);
    out[pl] = ':';
    authc__b64url_encode_to(out + pl + 1, dig, 24); /* 192 bits: 32 characters */
    out[pl + 33] = '\0';
    return true;
}

bool authc__hashed_key(char out[AUTHC__HASHED_KEY_MAX], const char *section, const char *a,
                       const char *b)
{
    const char *parts[2] = {a, b};
    return strlen(section) <= 32 &&
           authc__digest_key(out, AUTHC__HASHED_KEY_MAX, section, parts, 2);
}

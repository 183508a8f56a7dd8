/* global.c — authc_global_init/cleanup: the one place process-wide state is
 * set up (libcurl, OpenSSL, fetched algorithms, per-thread context keys). */
#include <pthread.h>
#include <stdatomic.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "util/util_int.h"
#include "jose/jose_int.h"

/* Set up under g_lock; g_ready is read without it on the fast path (every
 * authc_new and each thread's first use of a cached context). */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool g_ready;

/* One step of the set-up and how to undo it. */
typedef struct step {
    authc_err (*init)(void);
    void (*cleanup)(void);
} step;

static authc_err curl_init(void)
{
    /* libcurl counts its own init/cleanup pairs, so a program that also
     * uses libcurl keeps working after our cleanup. */
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? AUTHC_OK : AUTHC_ERR_IO;
}

static authc_err openssl_init(void)
{
    /* OpenSSL 3 would do this lazily; doing it here makes a broken install
     * fail at start-up rather than on the first request. */
    if (OPENSSL_init_crypto(OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS, NULL) != 1)
        return AUTHC_ERR_CRYPTO;
    /* OpenSSL 3.0 keeps using its default library context after that
     * context failed to set up (out of memory), and crashes on its NULL
     * lock: make it now and stop here when it is not there. */
    return OSSL_LIB_CTX_get0_global_default() ? AUTHC_OK : AUTHC_ERR_CRYPTO;
}

static void nothing(void)
{
    /* OPENSSL_cleanup cannot be undone: OpenSSL frees itself at exit. */
}

static const step STEPS[] = {
    {openssl_init, nothing},
    {curl_init, curl_global_cleanup},
    {authc__jwe_global_init, authc__jwe_global_cleanup},
    {authc__digest_global_init, authc__digest_global_cleanup},
    {authc__random_global_init, nothing},
};
#define NSTEPS (sizeof STEPS / sizeof STEPS[0])

authc_err authc_global_init(void)
{
    if (atomic_load_explicit(&g_ready, memory_order_acquire))
        return AUTHC_OK;
    authc_err e = AUTHC_OK;
    pthread_mutex_lock(&g_lock);
    if (!atomic_load_explicit(&g_ready, memory_order_relaxed)) {
        size_t done = 0;
        while (done < NSTEPS && (e = STEPS[done].init()) == AUTHC_OK)
            done++;
        if (e) /* all or nothing: undo the steps that worked */
            while (done-- > 0)
                STEPS[done].cleanup();
        else
            atomic_store_explicit(&g_ready, true, memory_order_release);
    }
    pthread_mutex_unlock(&g_lock);
    return e;
}

void authc_global_cleanup(void)
{
    pthread_mutex_lock(&g_lock);
    if (atomic_load_explicit(&g_ready, memory_order_relaxed)) {
        atomic_store_explicit(&g_ready, false, memory_order_release);
        for (size_t i = NSTEPS; i-- > 0;)
            STEPS[i].cleanup();
    }
    pthread_mutex_unlock(&g_lock);
}

/* test_global.c — authc_global_init/cleanup: idempotent, thread-safe, and
 * init → use → cleanup → init again works (run under ASan with leak checks). */
#include "cmocka_main.h"

#include <pthread.h>


#include "jose/jose_int.h"
#include "testutil.h"

#define SECRET "global-test-secret-0123456789abcdef0123456789"

/* What uses the state authc_global_init makes: the JWE's fetched ciphers
 * and per-thread contexts, and the CSRF digest (through a request). */
static void use_everything(void)
{
    authc__jwe_key k;
    assert_int_equal(authc__jwe_derive(&k, SECRET, "authjs.session-token"), AUTHC_OK);
    authc_arena *ar = authc_arena_new();
    char *tok = NULL;
    assert_int_equal(authc__jwe_encrypt(ar, &k, (const uint8_t *)"{\"a\":1}", 7, &tok), AUTHC_OK);
    uint8_t *pt = NULL;
    size_t n = 0;
    assert_int_equal(authc__jwe_decrypt(ar, &k, 1, tok, strlen(tok), &pt, &n), AUTHC_OK);
    assert_memory_equal(pt, "{\"a\":1}", 7);
    tok[strlen(tok) - 2] ^= 1; /* a tampered tag must still be caught */
    assert_int_not_equal(authc__jwe_decrypt(ar, &k, 1, tok, strlen(tok), &pt, &n), AUTHC_OK);
    authc_arena_free(ar);

    authc *a = tu_instance("secret=" SECRET, "url=http://h.test/auth", NULL);
    authc_response *r = tu_req(a, "GET", "http://h.test/auth/csrf", NULL, NULL);
    assert_int_equal(r->status, 200);
    const char *ck = tu_cookie_named(r, "authjs.csrf-token");
    assert_non_null(ck);
    /* token|sha256hex: a failed digest would be 64 'x' */
    assert_null(strstr(ck, "xxxxxxxxxxxxxxxx"));
    authc_response_free(r);
    authc_free(a);
}

static void test_init_twice_cleanup_init_again(void **state)
{
    (void)state;
    assert_int_equal(authc_global_init(), AUTHC_OK);
    assert_int_equal(authc_global_init(), AUTHC_OK); /* idempotent */
    use_everything();
    authc_global_cleanup();
    authc_global_cleanup(); /* a second cleanup is harmless */
    assert_int_equal(authc_global_init(), AUTHC_OK);
    use_everything();
    authc_global_cleanup();
    /* Without an explicit init, first use sets it up again. */
    use_everything();
    authc_global_cleanup();
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++)
        if (authc_global_init() != AUTHC_OK)
            return (void *)1;
    authc__jwe_key k;
    authc_arena *ar = authc_arena_new();
    char *tok = NULL;
    uint8_t *pt = NULL;
    size_t n = 0;
    bool ok = ar && authc__jwe_derive(&k, SECRET, "salt") == AUTHC_OK &&
              authc__jwe_encrypt(ar, &k, (const uint8_t *)"x", 1, &tok) == AUTHC_OK &&
              authc__jwe_decrypt(ar, &k, 1, tok, strlen(tok), &pt, &n) == AUTHC_OK && n == 1 && pt[0] == 'x';
    authc_arena_free(ar);
    return ok ? NULL : (void *)1;
}

static void test_threads(void **state)
{
    (void)state;
    /* Threads race to init; each makes per-thread contexts that its exit
     * frees (LSan reports them otherwise). */
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, NULL), 0);
    for (int i = 0; i < 8; i++) {
        void *rv = (void *)1;
        assert_int_equal(pthread_join(t[i], &rv), 0);
        assert_null(rv);
    }
    authc_global_cleanup();
    assert_int_equal(authc_global_init(), AUTHC_OK);
    use_everything();
    authc_global_cleanup();
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_init_twice_cleanup_init_again),
        cmocka_unit_test(test_threads))

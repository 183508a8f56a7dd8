/* test_arena.c — lib/util/arena.c: zeroed, aligned memory across chunk
 * growth and big blocks, and arenas reused from the thread's spare. */
#include "cmocka_main.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "authc.h"

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Fills an arena past its first chunk, with a big block in between. */
static void fill(authc_arena *ar)
{
    for (size_t i = 1; i < 200; i++) {
        unsigned char *p = authc_arena_alloc(ar, i * 7);
        assert_non_null(p);
        assert_true(((uintptr_t)p & 15) == 0);
        assert_true(all_zero(p, i * 7));
        memset(p, 0xa5, i * 7);
        if (i == 50) {
            unsigned char *big = authc_arena_alloc(ar, 300 * 1024);
            assert_non_null(big);
            assert_true(all_zero(big, 300 * 1024));
            memset(big, 0x5a, 300 * 1024);
        }
    }
}

static void test_reuse(void **state)
{
    (void)state;
    /* Every round frees what the last one dirtied; each new arena must
     * still hand out zeroed memory, whether it is new or the spare. */
    for (int round = 0; round < 4; round++) {
        authc_arena *a = authc_arena_new(), *b = authc_arena_new();
        assert_non_null(a);
        assert_non_null(b);
        assert_ptr_not_equal(a, b); /* one spare: never handed out twice */
        fill(a);
        fill(b);
        char *s = authc_arena_strdup(a, "still here");
        authc_arena_free(b);
        assert_string_equal(s, "still here");
        authc_arena_free(a);
    }
    authc_arena_free(NULL);
    /* An arena that never allocated is simply freed. */
    authc_arena *e = authc_arena_new();
    authc_arena_free(e);
    e = authc_arena_new();
    assert_non_null(e);
    assert_true(all_zero(authc_arena_alloc(e, 4000), 4000));
    authc_arena_free(e);
}

static void *worker(void *arg)
{
    if (arg) { /* made on the main thread, freed here */
        fill(arg);
        authc_arena_free(arg);
    }
    for (int i = 0; i < 50; i++) {
        authc_arena *a = authc_arena_new();
        if (!a)
            return (void *)1;
        fill(a);
        authc_arena_free(a);
    }
    return NULL; /* the thread's spare goes with it */
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, authc_arena_new()), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_null(r);
    }
}

TU_MAIN(NULL, NULL, cmocka_unit_test(test_reuse), cmocka_unit_test(test_threads))

/* conformance.c — authc_store_conformance <kind> <url>: the shared store's
 * semantics (lib/store), the same checks on every backend (cmocka).
 *
 * Two handles are opened on the same URL to stand for two instances
 * ("memory:NAME" handles share one table). Expiry uses short TTLs and
 * polls until the entry is gone, never asserting how fast anything is.
 * When run through tests/adapters/with-servers.sh (AUTHC_SERVER_STOP set),
 * the fault checks of fault.c run last. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_test.h"

const char *g_kind;
const char *g_url;
static authc_store *A, *B;   /* two "instances" */
static authc_arena *ar;

/* ---- helpers ---------------------------------------------------------------- */

void st_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void st_log(void *ud, const char *level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "  [%s] %s\n", level, msg);
}

/* Value of key via st as a string ("" when absent sets *found false). */
static const char *get_str(authc_store *st, const char *key, bool *found)
{
    authc__store_val v;
    assert_int_equal(authc__store_get(st, ar, key, &v), AUTHC_OK);
    *found = v.data != NULL;
    return v.data ? (const char *)v.data : "";
}

static bool present(authc_store *st, const char *key)
{
    bool found;
    get_str(st, key, &found);
    return found;
}

/* Polls (50 ms steps, up to 20 s) until key is gone from st. */
static bool wait_gone(authc_store *st, const char *key)
{
    for (int i = 0; i < 400; i++) {
        if (!present(st, key))
            return true;
        st_sleep_ms(50);
    }
    return false;
}

/* Owned by the caller (authc__store_close); NULL, said on stderr. */
authc_store *st_open(const char *url, authc_log_fn log)
{
    char err[512];
    authc_store *st = authc__store_open(url, log, NULL, err, sizeof err);
    if (!st)
        fprintf(stderr, "open %s: %s\n", url, err);
    else if (authc__store_migrate(st) != AUTHC_OK)
        fprintf(stderr, "migrate %s failed\n", url);
    else
        return st;
    authc__store_close(st);
    return NULL;
}

/* Two handles on one store, each migrating it (the second migrate shows
 * that it is idempotent). */
static int setup(void **state)
{
    (void)state;
    A = st_open(g_url, st_log);
    B = A ? st_open(g_url, st_log) : NULL;
    ar = authc_arena_new();
    return A && B && ar ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    authc__store_close(A);
    authc__store_close(B);
    authc_arena_free(ar);
    return 0;
}

/* ---- operations --------------------------------------------------------------- */

static void test_open_and_ping(void **state)
{
    (void)state;
    assert_int_equal(authc__store_ping(A), AUTHC_OK);
    assert_string_equal(authc__store_backend_name(A), g_kind);
    assert_non_null(authc__store_label(A));
}

static void test_get_set(void **state)
{
    (void)state;
    bool found;
    authc__store_delete(A, "t:gs", NULL);
    get_str(A, "t:gs", &found);
    assert_false(found);
    assert_int_equal(authc__store_set(A, "t:gs", "one", 3, 60000), AUTHC_OK);
    assert_string_equal(get_str(B, "t:gs", &found), "one");
    assert_true(found);
    assert_int_equal(authc__store_set(B, "t:gs", "second", 6, 60000),
                     AUTHC_OK);
    assert_string_equal(get_str(A, "t:gs", &found), "second");
    /* Bytes, including NUL and high bytes; and the empty value. */
    const uint8_t bin[5] = {0, 0xff, 'a', 0, 0x80};
    assert_int_equal(authc__store_set(A, "t:bin", bin, 5, 60000), AUTHC_OK);
    authc__store_val v;
    assert_int_equal(authc__store_get(B, ar, "t:bin", &v), AUTHC_OK);
    assert_int_equal(v.len, 5);
    assert_memory_equal(v.data, bin, 5);
    assert_int_equal(authc__store_set(A, "t:empty", "", 0, 60000), AUTHC_OK);
    assert_int_equal(authc__store_get(B, ar, "t:empty", &v), AUTHC_OK);
    assert_non_null(v.data);
    assert_int_equal(v.len, 0);
}

static void test_ttl_expiry(void **state)
{
    (void)state;
    assert_int_equal(authc__store_set(A, "t:ttl", "x", 1, 200), AUTHC_OK);
    assert_int_equal(authc__store_set(A, "t:ttl-long", "y", 1, 60000),
                     AUTHC_OK);
    assert_true(wait_gone(B, "t:ttl"));
    assert_true(present(B, "t:ttl-long"));
    /* set replaces the TTL too: a long-lived key made short expires. */
    assert_int_equal(authc__store_set(B, "t:ttl-long", "y", 1, 200),
                     AUTHC_OK);
    assert_true(wait_gone(A, "t:ttl-long"));
}

static void test_set_nx(void **state)
{
    (void)state;
    bool stored, found;
    authc__store_delete(A, "replay:jti1", NULL);
    assert_int_equal(authc__store_set_nx(A, "replay:jti1", "1", 1, 60000,
                                         &stored), AUTHC_OK);
    assert_true(stored);
    assert_int_equal(authc__store_set_nx(B, "replay:jti1", "2", 1, 60000,
                                         &stored), AUTHC_OK);
    assert_false(stored);
    assert_string_equal(get_str(A, "replay:jti1", &found), "1");
    /* An expired entry is absent for set_nx. */
    assert_int_equal(authc__store_set(A, "replay:jti2", "old", 3, 150),
                     AUTHC_OK);
    assert_true(wait_gone(A, "replay:jti2"));
    assert_int_equal(authc__store_set_nx(B, "replay:jti2", "new", 3, 60000,
                                         &stored), AUTHC_OK);
    assert_true(stored);
    assert_string_equal(get_str(A, "replay:jti2", &found), "new");
}

/* Renews (ttl_ms > 0) or deletes (0) "lease:acct" through h when owner
 * holds it; whether it did. */
static bool if_owner(authc_store *h, const char *owner, int64_t ttl_ms)
{
    bool done;
    assert_int_equal(
        ttl_ms ? authc__store_renew_if_owner(h, "lease:acct", owner, ttl_ms,
                                             &done)
               : authc__store_delete_if_owner(h, "lease:acct", owner, &done),
        AUTHC_OK);
    return done;
}

static void test_lease_owner(void **state)
{
    (void)state;
    bool ok;
    authc__store_delete(A, "lease:acct", NULL);
    assert_int_equal(authc__store_set_nx(A, "lease:acct", "owner-a", 7, 300,
                                         &ok), AUTHC_OK);
    assert_true(ok);
    /* Only the owner renews or deletes. */
    assert_false(if_owner(B, "owner-b", 60000));
    assert_false(if_owner(B, "owner-b", 0));
    assert_false(if_owner(B, "owner-", 0));
    assert_true(present(A, "lease:acct"));
    /* Renewed by the owner (through the other handle), it outlives its
     * first TTL: after the first TTL has surely passed it is still there. */
    assert_true(if_owner(B, "owner-a", 60000));
    st_sleep_ms(600);
    assert_true(present(A, "lease:acct"));
    assert_true(if_owner(A, "owner-a", 0));
    assert_false(present(B, "lease:acct"));
    assert_false(if_owner(A, "owner-a", 0));
    /* An expired lease can be neither renewed nor deleted by its owner. */
    assert_int_equal(authc__store_set_nx(A, "lease:acct", "owner-a", 7, 150,
                                         &ok), AUTHC_OK);
    assert_true(ok);
    assert_true(wait_gone(A, "lease:acct"));
    assert_false(if_owner(A, "owner-a", 60000));
    assert_false(present(A, "lease:acct"));
    assert_false(if_owner(A, "owner-a", 0));
}

static void test_delete(void **state)
{
    (void)state;
    bool deleted;
    assert_int_equal(authc__store_set(A, "rev:sid1", "1", 1, 60000), AUTHC_OK);
    assert_int_equal(authc__store_delete(B, "rev:sid1", &deleted), AUTHC_OK);
    assert_true(deleted);
    assert_false(present(A, "rev:sid1"));
    assert_int_equal(authc__store_delete(B, "rev:sid1", &deleted), AUTHC_OK);
    assert_false(deleted);
    assert_int_equal(authc__store_delete(B, "rev:sid1", NULL), AUTHC_OK);
}

static void test_incr(void **state)
{
    (void)state;
    int64_t v;
    bool found;
    authc__store_delete(A, "rl:a", NULL);
    assert_int_equal(authc__store_incr(A, "rl:a", 1, 60000, &v), AUTHC_OK);
    assert_int_equal(v, 1);
    assert_int_equal(authc__store_incr(B, "rl:a", 1, 60000, &v), AUTHC_OK);
    assert_int_equal(v, 2);
    assert_int_equal(authc__store_incr(B, "rl:a", 5, 60000, &v), AUTHC_OK);
    assert_int_equal(v, 7);
    assert_int_equal(authc__store_incr(A, "rl:a", -10, 60000, &v), AUTHC_OK);
    assert_int_equal(v, -3);
    assert_string_equal(get_str(A, "rl:a", &found), "-3");
    /* The window starts with the first increment: later increments with a
     * long TTL do not extend it. */
    authc__store_delete(A, "rl:w", NULL);
    assert_int_equal(authc__store_incr(A, "rl:w", 1, 300, &v), AUTHC_OK);
    assert_int_equal(authc__store_incr(B, "rl:w", 1, 60000, &v), AUTHC_OK);
    assert_int_equal(v, 2);
    assert_true(wait_gone(A, "rl:w"));
    assert_int_equal(authc__store_incr(B, "rl:w", 1, 60000, &v), AUTHC_OK);
    assert_int_equal(v, 1);
    /* A value that is not a counter, and overflow, are refused. */
    assert_int_equal(authc__store_set(A, "rl:text", "abc", 3, 60000),
                     AUTHC_OK);
    assert_int_equal(authc__store_incr(A, "rl:text", 1, 60000, &v),
                     AUTHC_ERR_INVALID);
    assert_string_equal(get_str(A, "rl:text", &found), "abc");
    assert_int_equal(authc__store_set(A, "rl:big", "9223372036854775807",
                                      19, 60000), AUTHC_OK);
    assert_int_equal(authc__store_incr(A, "rl:big", 1, 60000, &v),
                     AUTHC_ERR_INVALID);
    /* A counter set by set() counts on. */
    assert_int_equal(authc__store_set(A, "rl:s", "41", 2, 60000), AUTHC_OK);
    assert_int_equal(authc__store_incr(B, "rl:s", 1, 60000, &v), AUTHC_OK);
    assert_int_equal(v, 42);
}

static void test_mget(void **state)
{
    (void)state;
    assert_int_equal(authc__store_set(A, "rev:u1", "100", 3, 60000), AUTHC_OK);
    assert_int_equal(authc__store_set(A, "rev:u3", "300", 3, 60000), AUTHC_OK);
    authc__store_delete(A, "rev:u2", NULL);
    authc__store_delete(A, "rev:u4", NULL);
    const char *keys[4] = {"rev:u1", "rev:u2", "rev:u3", "rev:u4"};
    authc__store_val v[4];
    assert_int_equal(authc__store_mget(B, ar, keys, 4, v), AUTHC_OK);
    assert_string_equal((const char *)v[0].data, "100");
    assert_null(v[1].data);
    assert_string_equal((const char *)v[2].data, "300");
    assert_int_equal(v[2].len, 3);
    assert_null(v[3].data);
    /* All missing; none at all. */
    const char *none[2] = {"rev:u2", "rev:u4"};
    assert_int_equal(authc__store_mget(B, ar, none, 2, v), AUTHC_OK);
    assert_null(v[0].data);
    assert_null(v[1].data);
    assert_int_equal(authc__store_mget(B, ar, keys, 0, v), AUTHC_OK);
    /* The same key twice. */
    const char *twice[2] = {"rev:u1", "rev:u1"};
    assert_int_equal(authc__store_mget(B, ar, twice, 2, v), AUTHC_OK);
    assert_string_equal((const char *)v[1].data, "100");
}

static void test_limits(void **state)
{
    (void)state;
    char key[AUTHC_STORE_MAX_KEY + 2];
    memset(key, 'k', sizeof key);
    memcpy(key, "t:", 2);
    key[AUTHC_STORE_MAX_KEY] = '\0';           /* exactly the maximum */
    assert_int_equal(authc__store_set(A, key, "v", 1, 60000), AUTHC_OK);
    assert_true(present(B, key));
    key[AUTHC_STORE_MAX_KEY] = 'k';
    key[AUTHC_STORE_MAX_KEY + 1] = '\0';       /* one more */
    assert_int_equal(authc__store_set(A, key, "v", 1, 60000), AUTHC_ERR_LIMIT);
    authc__store_val v;
    assert_int_equal(authc__store_get(A, ar, key, &v), AUTHC_ERR_LIMIT);
    assert_null(v.data);

    uint8_t *big = calloc(1, AUTHC_STORE_MAX_VALUE + 1);
    assert_non_null(big);
    big[0] = 'b';
    big[AUTHC_STORE_MAX_VALUE - 1] = 'e';
    assert_int_equal(authc__store_set(A, "t:big", big, AUTHC_STORE_MAX_VALUE,
                                      60000), AUTHC_OK);
    assert_int_equal(authc__store_get(B, ar, "t:big", &v), AUTHC_OK);
    assert_int_equal(v.len, AUTHC_STORE_MAX_VALUE);
    assert_memory_equal(v.data, big, AUTHC_STORE_MAX_VALUE);
    bool stored = true;
    assert_int_equal(authc__store_set_nx(A, "t:big2", big,
                                         AUTHC_STORE_MAX_VALUE + 1, 60000,
                                         &stored), AUTHC_ERR_LIMIT);
    assert_false(stored);
    free(big);

    /* Malformed keys: no section, empty parts, bad bytes. */
    const char *bad[] = {"nosection", ":x", "t:", "T:x", "t:a b", "t:a\n",
                         "t:\x7f", "a.b:x", "t:\xc3\xa9",
                         "thissectionnameislongerthan32bytes:x", "user:x",
                         "authc:x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(authc__store_set(A, bad[i], "v", 1, 60000),
                         AUTHC_ERR_INVALID);
    assert_int_equal(authc__store_set(A, NULL, "v", 1, 60000),
                     AUTHC_ERR_INVALID);
    /* TTLs: none, negative, beyond the maximum. */
    assert_int_equal(authc__store_set(A, "t:x", "v", 1, 0), AUTHC_ERR_INVALID);
    assert_int_equal(authc__store_set(A, "t:x", "v", 1, -5),
                     AUTHC_ERR_INVALID);
    assert_int_equal(authc__store_set(A, "t:x", "v", 1,
                                      AUTHC_STORE_MAX_TTL_MS + 1),
                     AUTHC_ERR_LIMIT);
    assert_int_equal(authc__store_set(A, "t:x", "v", 1,
                                      AUTHC_STORE_MAX_TTL_MS), AUTHC_OK);
    int64_t n;
    assert_int_equal(authc__store_incr(A, "rl:x", 1, 0, &n),
                     AUTHC_ERR_INVALID);
    bool ok;
    assert_int_equal(authc__store_renew_if_owner(A, "lease:x", "o", 0, &ok),
                     AUTHC_ERR_INVALID);
    assert_int_equal(authc__store_delete_if_owner(A, "lease:x", "", &ok),
                     AUTHC_ERR_INVALID);
    /* Too many keys in one mget. */
    const char *keys[AUTHC_STORE_MAX_MULTI + 1];
    authc__store_val vals[AUTHC_STORE_MAX_MULTI + 1];
    for (size_t i = 0; i <= AUTHC_STORE_MAX_MULTI; i++)
        keys[i] = "t:x";
    assert_int_equal(authc__store_mget(A, ar, keys, AUTHC_STORE_MAX_MULTI + 1,
                                       vals), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__store_mget(A, ar, keys, AUTHC_STORE_MAX_MULTI,
                                       vals), AUTHC_OK);
    assert_string_equal((const char *)vals[AUTHC_STORE_MAX_MULTI - 1].data,
                        "v");
}

static void test_sweep(void **state)
{
    (void)state;
    char key[32];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "t:sweep%d", i);
        assert_int_equal(authc__store_set(A, key, "x", 1, 100), AUTHC_OK);
    }
    assert_int_equal(authc__store_set(A, "t:keep", "x", 1, 60000), AUTHC_OK);
    assert_true(wait_gone(A, "t:sweep9"));
    int64_t removed = -1;
    assert_int_equal(authc__store_sweep(B, &removed), AUTHC_OK);
    if (strcmp(g_kind, "redis") == 0)
        assert_int_equal(removed, 0);   /* Redis expires keys itself */
    else
        assert_true(removed >= 9);      /* t:sweep9 may have gone on read */
    assert_int_equal(authc__store_sweep(A, &removed), AUTHC_OK);
    assert_int_equal(removed, 0);
    assert_true(present(B, "t:keep"));
}

/* Redis: handles with another ?prefix= see other keys (a later prefix=
 * option overrides the URL's). */
static void test_redis_prefix(void **state)
{
    (void)state;
    if (strcmp(g_kind, "redis") != 0)
        skip();
    char url[4200], err[512];
    snprintf(url, sizeof url, "%s%cprefix=other%%3A", g_url,
             strchr(g_url, '?') ? '&' : '?');
    authc_store *o = authc__store_open(url, st_log, NULL, err, sizeof err);
    assert_non_null(o);
    assert_int_equal(authc__store_set(A, "t:pfx", "a", 1, 60000), AUTHC_OK);
    assert_false(present(o, "t:pfx"));
    assert_int_equal(authc__store_set(o, "t:pfx", "o", 1, 60000), AUTHC_OK);
    bool found;
    assert_string_equal(get_str(A, "t:pfx", &found), "a");
    assert_string_equal(get_str(o, "t:pfx", &found), "o");
    authc__store_close(o);
}

static bool has_key(const char **keys, size_t n, const char *k)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i], k))
            return true;
    return false;
}

/* Prefix scan (`authc bans list`): live keys only, the prefix taken
 * literally (no LIKE or glob meaning of %, _, *), bounded by max. */
static void test_scan(void **state)
{
    (void)state;
    assert_int_equal(authc__store_set(A, "scan:a%1", "1", 1, 60000), AUTHC_OK);
    assert_int_equal(authc__store_set(A, "scan:a_2", "2", 1, 60000), AUTHC_OK);
    assert_int_equal(authc__store_set(A, "scan:ab*", "3", 1, 60000), AUTHC_OK);
    assert_int_equal(authc__store_set(A, "scan:b", "4", 1, 60000), AUTHC_OK);
    assert_int_equal(authc__store_set(A, "scanx:a", "5", 1, 60000), AUTHC_OK);
    assert_int_equal(authc__store_set(A, "scan:ax", "6", 1, 1), AUTHC_OK);
    assert_true(wait_gone(A, "scan:ax"));
    const char *keys[16];
    size_t n = 99;
    assert_int_equal(authc__store_scan(B, ar, "scan:a", 16, keys, &n), AUTHC_OK);
    assert_int_equal(n, 3);
    assert_true(has_key(keys, n, "scan:a%1") && has_key(keys, n, "scan:a_2") && has_key(keys, n, "scan:ab*"));
    assert_int_equal(authc__store_scan(B, ar, "scan:a%", 16, keys, &n), AUTHC_OK);
    assert_int_equal(n, 1);
    assert_string_equal(keys[0], "scan:a%1");
    assert_int_equal(authc__store_scan(B, ar, "scan:a_", 16, keys, &n), AUTHC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(authc__store_scan(B, ar, "scan:ab*", 16, keys, &n), AUTHC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(authc__store_scan(B, ar, "SCAN:a", 16, keys, &n), AUTHC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(authc__store_scan(B, ar, "scan:", 2, keys, &n), AUTHC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(authc__store_scan(B, ar, "scan:", 0, keys, &n), AUTHC_ERR_INVALID);
    const char *del[] = {"scan:a%1", "scan:a_2", "scan:ab*", "scan:b", "scanx:a"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(authc__store_delete(A, del[i], NULL), AUTHC_OK);
    assert_int_equal(authc__store_scan(B, ar, "scan", 16, keys, &n), AUTHC_OK);
    assert_int_equal(n, 0);
}

/* ---- concurrency --------------------------------------------------------------- */

#define THREADS 8
#define INCRS 150
#define ROUNDS 25

typedef struct worker {
    authc_store *st;
    int id;
    int errors;
    int wins;
    int64_t max_seen;
} worker;

/* Runs fn on THREADS workers, alternately on the two handles A and B,
 * joins them and checks none counted an error; w[i] keeps its counts. */
static void run_workers(void *(*fn)(void *), worker w[THREADS])
{
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.st = i % 2 ? B : A, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, fn, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].errors, 0);
    }
}

static void *incr_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < INCRS; i++) {
        int64_t v;
        if (authc__store_incr(w->st, "rl:race", 1, 60000, &v) != AUTHC_OK)
            w->errors++;
        else if (v > w->max_seen)
            w->max_seen = v;
    }
    return NULL;
}

static void test_incr_concurrent(void **state)
{
    (void)state;
    authc__store_delete(A, "rl:race", NULL);
    worker w[THREADS];
    run_workers(incr_worker, w);
    int64_t max = 0;
    for (int i = 0; i < THREADS; i++)
        if (w[i].max_seen > max)
            max = w[i].max_seen;
    bool found;
    char want[32];
    snprintf(want, sizeof want, "%d", THREADS * INCRS);
    assert_string_equal(get_str(A, "rl:race", &found), want);
    assert_int_equal(max, THREADS * INCRS);
}

static pthread_barrier_t barrier;

/* Each round: every thread tries to take the lease at once; the winner
 * checks nobody else holds it and releases it. */
static void *lease_worker(void *arg)
{
    worker *w = arg;
    char owner[32], key[32];
    snprintf(owner, sizeof owner, "owner-%d", w->id);
    for (int r = 0; r < ROUNDS; r++) {
        snprintf(key, sizeof key, "lease:race%d", r);
        pthread_barrier_wait(&barrier);
        bool got = false, gone = false;
        if (authc__store_set_nx(w->st, key, owner, strlen(owner), 60000,
                                &got) != AUTHC_OK)
            w->errors++;
        pthread_barrier_wait(&barrier);   /* every attempt is done */
        if (got) {
            w->wins++;
            if (authc__store_delete_if_owner(w->st, key, owner, &gone) !=
                    AUTHC_OK || !gone)
                w->errors++;
        }
    }
    return NULL;
}

static void test_lease_exclusive(void **state)
{
    (void)state;
    char key[32];
    for (int r = 0; r < ROUNDS; r++) {
        snprintf(key, sizeof key, "lease:race%d", r);
        authc__store_delete(A, key, NULL);
    }
    pthread_barrier_init(&barrier, NULL, THREADS);
    worker w[THREADS];
    run_workers(lease_worker, w);
    int wins = 0;
    for (int i = 0; i < THREADS; i++)
        wins += w[i].wins;
    pthread_barrier_destroy(&barrier);
    assert_int_equal(wins, ROUNDS);   /* exactly one winner per round */
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s memory|sqlite|postgres|redis URL\n",
                argv[0]);
        return 2;
    }
    g_kind = argv[1];
    g_url = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_ping),
        cmocka_unit_test(test_get_set),
        cmocka_unit_test(test_ttl_expiry),
        cmocka_unit_test(test_set_nx),
        cmocka_unit_test(test_lease_owner),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_incr),
        cmocka_unit_test(test_mget),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_redis_prefix),
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_incr_concurrent),
        cmocka_unit_test(test_lease_exclusive),
    };
    int failed = cmocka_run_group_tests_name(g_kind, tests, setup, teardown);
    if (failed == 0 && getenv("AUTHC_SERVER_STOP"))
        failed = st_run_fault_tests();
    return failed ? 1 : 0;
}

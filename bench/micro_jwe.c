/* micro_jwe.c — microbenchmark of the session JWT hot path (what every
 * GET /session does: decode the cookie, re-encode). Not built by CMake.
 *
 * Build (from the repo root):
 *   gcc -std=c17 -O2 -D_GNU_SOURCE -Iinclude -Ilib bench/micro_jwe.c \
 *       lib/jose/jwe.c lib/util/[a-z]*.c -o /tmp/micro_jwe \
 *       $(pkg-config --cflags --libs jansson libcrypto) -lpthread
 * Run: /tmp/micro_jwe [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jose/jose_int.h"
#include "util/util_int.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, long n, double secs)
{
    printf("%-22s %9.0f ops/s  %7.2f us/op\n", what, (double)n / secs, secs * 1e6 / (double)n);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    if (n <= 0)
        n = 200000;
    authc__jwe_key k;
    if (authc__jwe_derive(&k, "bench-secret-0123456789abcdef", "authjs.session-token")) {
        fprintf(stderr, "derive failed\n");
        return 1;
    }
    /* Default sign-in claims, like a credentials login. */
    json_t *claims = json_pack("{s:s,s:s,s:s,s:s}", "name", "Alice", "email", "alice@example.com",
                               "picture", "https://example.com/a.png", "sub", "1");
    const int64_t t = 1795590478;
    authc_arena *ar = authc_arena_new();
    char *tok = NULL;
    if (!claims || !ar || authc__jwt_encode(ar, &k, claims, 2592000, t, &tok)) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    char *token = strdup(tok);
    size_t len = strlen(token);
    authc_arena_free(ar);
    printf("token length %zu\n", len);

    double t0 = now_s();
    for (long i = 0; i < 200; i++) {
        authc__jwe_key kk;
        authc__jwe_derive(&kk, "bench-secret-0123456789abcdef", "authjs.session-token");
    }
    report("derive", 200, now_s() - t0);

    /* Each iteration gets a fresh arena, as a request would. */
    long bad = 0;
    t0 = now_s();
    for (long i = 0; i < n; i++) {
        authc_arena *a = authc_arena_new();
        uint8_t *pt;
        size_t pn;
        bad += authc__jwe_decrypt(a, &k, 1, token, len, &pt, &pn) != AUTHC_OK;
        authc_arena_free(a);
    }
    report("jwe_decrypt", n, now_s() - t0);

    t0 = now_s();
    for (long i = 0; i < n; i++) {
        authc_arena *a = authc_arena_new();
        json_t *c = NULL;
        bad += authc__jwt_decode(a, &k, 1, token, len, t, &c) != AUTHC_OK;
        json_decref(c);
        authc_arena_free(a);
    }
    report("jwt_decode", n, now_s() - t0);

    t0 = now_s();
    for (long i = 0; i < n; i++) {
        authc_arena *a = authc_arena_new();
        char *o;
        bad += authc__jwt_encode(a, &k, claims, 2592000, t, &o) != AUTHC_OK;
        authc_arena_free(a);
    }
    report("jwt_encode", n, now_s() - t0);

    t0 = now_s();
    for (long i = 0; i < n; i++) {
        authc_arena *a = authc_arena_new();
        json_t *c = NULL;
        char *o;
        bad += authc__jwt_decode(a, &k, 1, token, len, t, &c) != AUTHC_OK;
        bad += authc__jwt_encode(a, &k, c, 2592000, t, &o) != AUTHC_OK;
        json_decref(c);
        authc_arena_free(a);
    }
    report("decode+encode", n, now_s() - t0);

    json_decref(claims);
    free(token);
    if (bad) {
        fprintf(stderr, "%ld failures\n", bad);
        return 1;
    }
    return 0;
}

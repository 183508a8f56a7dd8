/* micro.c — ns/op of authc's per-request hot path (session cookie decode and
 * encode, CSRF check, Cookie header parse, redirect validation, whole
 * authc_handle calls) beside the raw crypto on the same bytes.
 *
 * Built by bench/run.sh against the release library (not by CMake):
 *   gcc -std=c17 -O2 -D_GNU_SOURCE -Iinclude -Ilib bench/micro.c \
 *       build-release/libauthc.a $(pkg-config --libs …) -lpthread -lm
 * Run: micro [seconds-per-case [only-names-containing]]   (default 0.4);
 * MICRO_ITERS=N counts instead of timing (see micro_measured).
 * Output: one TSV line per case: "micro<TAB>name<TAB>ns/op<TAB>bytes<TAB>note",
 * and "size<TAB>name<TAB>bytes" lines for the byte counts the crypto floor
 * (openssl speed, run by run.sh) must be measured at. Each case runs in
 * batches; the median batch is reported. Exit 1 if any operation fails,
 * so a broken hot path cannot report a fast time. Times are the thread's
 * CPU time (CLOCK_THREAD_CPUTIME_ID). */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_int.h"

#define SECRET "bench-secret-0123456789abcdefghijklmnopqrstuvwxyz"
#define ORIGIN "http://127.0.0.1:3000"
#define BATCHES 9

static long g_failures;
static double g_seconds = 0.4;
static const char *g_only;   /* run only cases whose name contains this */

/* The thread's CPU time, not the wall clock: on a quiet machine they are
 * the same for this single-threaded loop; on a shared one the time other
 * processes hold the core is not counted against authc. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs f in BATCHES batches sized to fill g_seconds; prints the median
 * batch's ns/op. Returns it. */
/* MICRO_ITERS=N: run each case once to warm up, then exactly N times in
 * micro_measured (no timing), for instruction counts that do not depend on
 * the machine's load: valgrind --tool=callgrind
 * --toggle-collect=micro_measured micro 0.4 NAME, total ÷ N. */
static long g_iters;

__attribute__((noinline)) void micro_measured(void (*f)(void *), void *ud, long n);
__attribute__((noinline)) void micro_measured(void (*f)(void *), void *ud, long n)
{
    for (long i = 0; i < n; i++)
        f(ud);
}

static double bench(const char *name, void (*f)(void *), void *ud, size_t bytes, const char *note)
{
    if (g_only && !strstr(name, g_only))
        return 0;
    if (g_iters > 0) {
        f(ud);
        micro_measured(f, ud, g_iters);
        printf("iters\t%s\t%ld\t%zu\t%s\n", name, g_iters, bytes, note ? note : "");
        fflush(stdout);
        return 0;
    }
    /* Calibrate: double the count until one batch takes >= 1/BATCHES. */
    long n = 1;
    double target = g_seconds * 1e9 / BATCHES;
    for (;;) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            f(ud);
        double dt = now_ns() - t0;
        if (dt >= target / 4 || n > (1L << 28)) {
            n = (long)((double)n * target / (dt > 1 ? dt : 1)) + 1;
            break;
        }
        n *= 2;
    }
    double per[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            f(ud);
        per[b] = (now_ns() - t0) / (double)n;
    }
    qsort(per, BATCHES, sizeof *per, cmp_d);
    double med = per[BATCHES / 2];
    printf("micro\t%s\t%.1f\t%zu\t%s\n", name, med, bytes, note ? note : "");
    fflush(stdout);
    return med;
}

/* ---- fixtures ------------------------------------------------------------ */

static authc_err deny(void *ud, authc_arena *ar, const char *const *names, const char *const *values,
                      size_t n, authc_user *user, const char **code)
{
    (void)ud, (void)ar, (void)names, (void)values, (void)n, (void)user, (void)code;
    return AUTHC_ERR_CREDENTIALS_SIGNIN;
}

static const authc_credentials_field FIELDS[] = {
    {"username", "Username", "text"},
    {"password", "Password", "password"},
};

typedef struct fx {
    authc *a;
    const authc__jwe_key *key;   /* session key (http, first secret) */
    json_t *claims;              /* a credentials sign-in's claims */
    char *token;                 /* its session JWE */
    size_t token_len;
    char *large_cookie;          /* chunked session: "name.0=…; name.1=…" */
    char *cookie_hdr;            /* a browser's Cookie header after sign-in */
    char *csrf_cookie;           /* "<token>|<hash>" */
    uint8_t iv[16], key_bytes[64], *ct, *mac_in, *pt;
    size_t ct_len, mac_len, pt_len;
} fx;

static fx F;

/* A request context as authc_handle would have it after parsing, with
 * cookies parsed from hdr (when not NULL). Caller frees c->ar. */
static void ctx_init(authc__ctx *c, const char *hdr)
{
    memset(c, 0, sizeof *c);
    c->a = F.a;
    c->ar = authc_arena_new();
    c->origin = ORIGIN;
    c->ck = (const char *const *)F.a->cookie_names[0];
    if (!c->ar || (hdr && authc__cookies_parse(c, hdr)))
        g_failures++;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        fprintf(stderr, "micro: out of memory\n");
        exit(2);
    }
    return p;
}

static void setup(void)
{
    char err[1024] = "";
    authc_config *cfg = authc_config_new();
    authc_credentials_provider cp = {.id = "credentials", .name = "Credentials", .fields = FIELDS,
                                     .nfields = 2, .authorize = deny};
    if (!cfg || authc_config_set(cfg, "secret", SECRET, err, sizeof err) ||
        authc_config_set(cfg, "trust_host", "true", err, sizeof err) ||
        authc_config_add_credentials(cfg, &cp) || !(F.a = authc_new(cfg, err, sizeof err))) {
        fprintf(stderr, "micro: cannot build an authc instance: %s\n", err);
        exit(2);
    }
    F.key = &F.a->session_keys[0][0];
    /* What a credentials sign-in puts in the token (Auth.js jwt default). */
    F.claims = json_pack("{s:s,s:s,s:n,s:s}", "name", "Alice Example", "email", "alice@example.com",
                         "picture", "sub", "1");
    authc_arena *ar = authc_arena_new();
    char *tok = NULL;
    int64_t now = authc__now_ms() / 1000;
    if (!F.claims || !ar || authc__jwt_encode(ar, F.key, F.claims, 2592000, now, &tok)) {
        fprintf(stderr, "micro: cannot mint a session token\n");
        exit(2);
    }
    F.token = xstrdup(tok);
    F.token_len = strlen(tok);

    /* Large session: 200 group claims, split like Auth.js's chunks. */
    json_t *big = json_deep_copy(F.claims), *groups = json_array();
    for (int i = 0; i < 200; i++) {
        char g[40];
        snprintf(g, sizeof g, "group-%03d-xxxxxxxxxxxx", i);
        json_array_append_new(groups, json_string(g));
    }
    json_object_set_new(big, "groups", groups);
    char *ltok = NULL;
    if (authc__jwt_encode(ar, F.key, big, 2592000, now, &ltok)) {
        fprintf(stderr, "micro: cannot mint the large token\n");
        exit(2);
    }
    json_decref(big);
    authc__buf b;
    authc__buf_init(&b, ar, 128 * 1024);
    size_t ll = strlen(ltok);
    for (size_t i = 0; i * AUTHC__CHUNK_SIZE < ll; i++) {
        size_t l = ll - i * AUTHC__CHUNK_SIZE;
        authc__buf_printf(&b, "%sauthjs.session-token.%zu=", i ? "; " : "", i);
        authc__buf_add(&b, ltok + i * AUTHC__CHUNK_SIZE, l < AUTHC__CHUNK_SIZE ? l : AUTHC__CHUNK_SIZE);
    }
    F.large_cookie = xstrdup(b.p);

    /* CSRF cookie minted by authc itself (GET /csrf), then a full header. */
    authc_response *res = NULL;
    authc_header h[] = {{"Host", "127.0.0.1:3000"}};
    authc_request rq = {.method = "GET", .url = "/auth/csrf", .headers = h, .nheaders = 1};
    if (authc_handle(F.a, &rq, &res) || res->status != 200) {
        fprintf(stderr, "micro: GET /auth/csrf failed\n");
        exit(2);
    }
    for (size_t i = 0; i < res->nheaders; i++) {
        const char *v = res->headers[i].value;
        if (!strcasecmp(res->headers[i].name, "Set-Cookie") && !strncmp(v, "authjs.csrf-token=", 18)) {
            authc__ctx c;
            ctx_init(&c, v);
            F.csrf_cookie = xstrdup(authc__map_first(&c.cookies, "authjs.csrf-token"));
            authc_arena_free(c.ar);
        }
    }
    authc_response_free(res);
    if (!F.csrf_cookie) {
        fprintf(stderr, "micro: no CSRF cookie\n");
        exit(2);
    }
    char *enc_csrf = authc_arena_printf(ar, "%.*s%%7C%s", 64, F.csrf_cookie, F.csrf_cookie + 65);
    F.cookie_hdr = xstrdup(authc_arena_printf(ar, "authjs.csrf-token=%s; authjs.callback-url=http%%3A%%2F%%2F127.0.0.1%%3A3000; authjs.session-token=%s",
                                              enc_csrf, F.token));

    /* Raw crypto fixture: the token's own byte counts. */
    F.pt_len = 0;
    uint8_t *pt;
    size_t pn;
    if (authc__jwe_decrypt(ar, F.key, 1, F.token, F.token_len, &pt, &pn)) {
        fprintf(stderr, "micro: cannot decrypt own token\n");
        exit(2);
    }
    F.pt_len = pn;
    F.ct_len = (pn / 16 + 1) * 16;
    size_t hdr_b64 = (size_t)(strchr(F.token, '.') - F.token);
    F.mac_len = hdr_b64 + 16 + F.ct_len + 8; /* AAD || IV || CT || AL */
    F.pt = calloc(1, F.pt_len + 16);
    F.ct = calloc(1, F.ct_len + 16);
    F.mac_in = calloc(1, F.mac_len);
    if (!F.pt || !F.ct || !F.mac_in) {
        fprintf(stderr, "micro: out of memory\n");
        exit(2);
    }
    RAND_bytes(F.key_bytes, sizeof F.key_bytes);
    RAND_bytes(F.iv, sizeof F.iv);
    RAND_bytes(F.mac_in, (int)F.mac_len);
    memcpy(F.pt, pt, F.pt_len);
    authc_arena_free(ar);
}

/* ---- cases ---------------------------------------------------------------- */

static void c_decode(void *ud)
{
    (void)ud;
    authc_arena *a = authc_arena_new();
    json_t *c = NULL;
    g_failures += authc__jwt_decode(a, F.key, 1, F.token, F.token_len, authc__now_ms() / 1000, &c) != AUTHC_OK;
    json_decref(c);
    authc_arena_free(a);
}

static void c_encode(void *ud)
{
    (void)ud;
    authc_arena *a = authc_arena_new();
    char *o;
    g_failures += authc__jwt_encode(a, F.key, F.claims, 2592000, authc__now_ms() / 1000, &o) != AUTHC_OK;
    authc_arena_free(a);
}

static void c_decode_encode(void *ud)
{
    (void)ud;
    authc_arena *a = authc_arena_new();
    json_t *c = NULL;
    char *o;
    int64_t now = authc__now_ms() / 1000;
    g_failures += authc__jwt_decode(a, F.key, 1, F.token, F.token_len, now, &c) != AUTHC_OK;
    g_failures += !c || authc__jwt_encode(a, F.key, c, 2592000, now, &o) != AUTHC_OK;
    json_decref(c);
    authc_arena_free(a);
}

static void c_refresh(void *ud)
{
    (void)ud;
    authc_arena *a = authc_arena_new();
    char *o = NULL;
    const char *user[3];
    g_failures += authc__jwt_refresh(a, F.key, 1, F.key, F.token, F.token_len, authc__now_ms() / 1000,
                                     2592000, &o, user) != AUTHC_OK || !o || !user[0];
    authc_arena_free(a);
}

static void c_jwe_decrypt(void *ud)
{
    (void)ud;
    authc_arena *a = authc_arena_new();
    uint8_t *pt;
    size_t pn;
    g_failures += authc__jwe_decrypt(a, F.key, 1, F.token, F.token_len, &pt, &pn) != AUTHC_OK;
    authc_arena_free(a);
}

static void c_jwe_encrypt(void *ud)
{
    (void)ud;
    authc_arena *a = authc_arena_new();
    char *o;
    g_failures += authc__jwe_encrypt(a, F.key, F.pt, F.pt_len, &o) != AUTHC_OK;
    authc_arena_free(a);
}

static void c_csrf_check(void *ud)
{
    (void)ud;
    authc__ctx c;
    ctx_init(&c, NULL);
    authc__map_add(c.ar, &c.cookies, "authjs.csrf-token", F.csrf_cookie);
    authc__map_add(c.ar, &c.body, "csrfToken", authc_arena_strndup(c.ar, F.csrf_cookie, 64));
    c.post = true;
    g_failures += authc__csrf_init(&c) != AUTHC_OK || !c.csrf_verified || c.init_cookies.n;
    authc_arena_free(c.ar);
}

static void c_cookie_parse(void *ud)
{
    (void)ud;
    authc__ctx c;
    ctx_init(&c, F.cookie_hdr);
    g_failures += c.cookies.n != 3;
    authc_arena_free(c.ar);
}

static void c_redirect(void *ud)
{
    const char *url = ud;
    authc__ctx c;
    ctx_init(&c, NULL);
    const char *r = authc__redirect_resolve(&c, url);
    /* Foreign origins must fall back to the origin; the others stay. */
    bool foreign = strstr(url, "evil") != NULL;
    g_failures += foreign ? strcmp(r, ORIGIN) != 0 : strstr(r, ORIGIN) != r;
    authc_arena_free(c.ar);
}

static void c_cookie_serialize(void *ud)
{
    const char *value = ud;
    authc__ctx c;
    ctx_init(&c, NULL);
    authc__cookie_out co = {.name = "authjs.session-token", .value = value, .max_age = -1,
                            .expires = 1800000000};
    char *v = authc__cookie_serialize(&c, &co);
    g_failures += !v || strlen(v) < strlen(value);
    authc_arena_free(c.ar);
}

static void c_random16(void *ud)
{
    (void)ud;
    uint8_t b[16];
    g_failures += authc__random(b, sizeof b) != AUTHC_OK;
}

typedef struct hreq {
    const char *url;
    const char *cookie;
    int status;
    const char *must;    /* substring the body must contain */
    const char *orig;    /* X-Original-URL (forward-auth), or NULL */
} hreq;

static void c_handle(void *ud)
{
    hreq *q = ud;
    authc_header h[4] = {{"Host", "127.0.0.1:3000"}, {"Accept", "*/*"}, {"Cookie", q->cookie},
                         {"X-Original-URL", q->orig}};
    size_t nh = q->cookie ? 3 : 2;
    if (q->orig)
        h[nh++] = (authc_header){"X-Original-URL", q->orig};
    authc_request rq = {.method = "GET", .url = q->url, .headers = h, .nheaders = nh};
    authc_response *res = NULL;
    authc_handle(F.a, &rq, &res);
    g_failures += !res || res->status != q->status ||
                  (q->must && (!res->body || !memmem(res->body, res->body_len, q->must, strlen(q->must))));
    authc_response_free(res);
}

/* ---- floors: the same bytes through EVP directly, contexts reused ------- */

static EVP_CIPHER_CTX *g_cctx;
static EVP_MAC_CTX *g_mctx;

static void f_cbc_enc(void *ud)
{
    (void)ud;
    int l1, l2;
    g_failures += EVP_EncryptInit_ex2(g_cctx, EVP_aes_256_cbc(), F.key_bytes + 32, F.iv, NULL) != 1 ||
                  EVP_EncryptUpdate(g_cctx, F.ct, &l1, F.pt, (int)F.pt_len) != 1 ||
                  EVP_EncryptFinal_ex(g_cctx, F.ct + l1, &l2) != 1;
}

static void f_hmac(void *ud)
{
    (void)ud;
    uint8_t md[64];
    size_t ml;
    g_failures += EVP_MAC_init(g_mctx, F.key_bytes, 32, NULL) != 1 ||
                  EVP_MAC_update(g_mctx, F.mac_in, F.mac_len) != 1 ||
                  EVP_MAC_final(g_mctx, md, &ml, sizeof md) != 1;
}

static void f_sha256_csrf(void *ud)
{
    (void)ud;
    uint8_t md[32];
    unsigned ml;
    g_failures += EVP_Digest(F.mac_in, 64 + strlen(SECRET), md, &ml, EVP_sha256(), NULL) != 1;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_seconds = atof(argv[1]);
    if (!(g_seconds > 0.01 && g_seconds < 60))
        g_seconds = 0.4;
    if (argc > 2)
        g_only = argv[2];
    const char *it = getenv("MICRO_ITERS");
    g_iters = it ? atol(it) : 0;
    setup();
    printf("size\ttoken\t%zu\nsize\tplaintext\t%zu\nsize\tciphertext\t%zu\nsize\tmac_input\t%zu\n"
           "size\tcsrf_input\t%zu\nsize\tcookie_header\t%zu\nsize\tlarge_cookie\t%zu\n",
           F.token_len, F.pt_len, F.ct_len, F.mac_len, 64 + strlen(SECRET), strlen(F.cookie_hdr),
           strlen(F.large_cookie));

    bench("session_decode", c_decode, NULL, F.token_len, "jwt_decode: b64url, HMAC-SHA512 check, AES-256-CBC, JSON parse, claim checks");
    bench("session_encode", c_encode, NULL, F.token_len, "jwt_encode: iat/exp/jti, JSON dump, AES-256-CBC, HMAC-SHA512, b64url");
    bench("session_decode_encode", c_decode_encode, NULL, F.token_len, "jwt_decode + jwt_encode (jansson; GET /session's fallback path)");
    bench("session_refresh", c_refresh, NULL, F.token_len, "jwt_refresh: GET /session's decode + re-encode without a JSON tree");
    bench("jwe_decrypt", c_jwe_decrypt, NULL, F.token_len, "decode without JSON");
    bench("jwe_encrypt", c_jwe_encrypt, NULL, F.token_len, "encode without JSON (incl. the random IV)");
    bench("csrf_check", c_csrf_check, NULL, strlen(F.csrf_cookie), "valid cookie + matching csrfToken: SHA-256, constant-time compare");
    bench("cookie_header_parse", c_cookie_parse, NULL, strlen(F.cookie_hdr), "csrf + callback-url + session cookies, %-decoding");
    bench("redirect_relative", c_redirect, (void *)"/dashboard?tab=1", 16, "relative → origin + path");
    bench("redirect_same_origin", c_redirect, (void *)ORIGIN "/account/settings", 38, "absolute, URL parse + origin compare");
    bench("redirect_foreign", c_redirect, (void *)"https://evil.example/phish", 26, "absolute, other origin → refused");

    bench("set_cookie_session", c_cookie_serialize, F.token, F.token_len, "Set-Cookie value for the session token (encodeURIComponent + attributes)");
    bench("random_16_bytes", c_random16, NULL, 16, "authc__random, 16 bytes (IV, jti and CSRF token draws)");

    hreq s_jwt = {"/auth/session", NULL, 200, "\"user\"", NULL};
    char *hdr_jwt = malloc(F.token_len + 32);
    snprintf(hdr_jwt, F.token_len + 32, "authjs.session-token=%s", F.token);
    s_jwt.cookie = hdr_jwt;
    /* What a browser sends after sign-in: the CSRF and callback-url cookies
     * too, so nothing but the session cookie is set again. */
    hreq s_browser = {"/auth/session", F.cookie_hdr, 200, "\"user\"", NULL};
    hreq fwd = {"/auth/forward", hdr_jwt, 200, NULL, "http://app.127.0.0.1.nip.io:3000/page"};
    hreq s_none = {"/auth/session", NULL, 200, "null", NULL};
    hreq s_large = {"/auth/session", F.large_cookie, 200, "\"user\"", NULL};
    hreq csrf = {"/auth/csrf", NULL, 200, "csrfToken", NULL};
    hreq prov = {"/auth/providers", NULL, 200, "credentials", NULL};
    hreq page = {"/auth/signin", NULL, 200, "<form", NULL};
    bench("handle_session_jwt", c_handle, &s_jwt, 0, "authc_handle GET /auth/session, valid JWT cookie (no HTTP)");
    bench("handle_session_browser", c_handle, &s_browser, 0,
          "the same with a browser's cookies after sign-in (CSRF, callback-url, session)");
    bench("handle_forward_jwt", c_handle, &fwd, 0, "authc_handle GET /auth/forward (nginx mode), valid JWT cookie");
    bench("handle_session_none", c_handle, &s_none, 0, "authc_handle GET /auth/session, no cookie");
    bench("handle_session_large", c_handle, &s_large, 0, "authc_handle GET /auth/session, 2-chunk session");
    bench("handle_csrf", c_handle, &csrf, 0, "authc_handle GET /auth/csrf");
    bench("handle_providers", c_handle, &prov, 0, "authc_handle GET /auth/providers");
    bench("handle_signin_page", c_handle, &page, 0, "authc_handle GET /auth/signin (HTML page)");

    g_cctx = EVP_CIPHER_CTX_new();
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    g_mctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA512", 0), OSSL_PARAM_construct_end()};
    if (!g_cctx || !g_mctx || EVP_MAC_CTX_set_params(g_mctx, p) != 1) {
        fprintf(stderr, "micro: OpenSSL setup failed\n");
        return 2;
    }
    bench("floor_aes256cbc_encrypt", f_cbc_enc, NULL, F.ct_len, "EVP, same plaintext, context reused");
    bench("floor_hmac_sha512", f_hmac, NULL, F.mac_len, "EVP_MAC, same MAC input length, context reused");
    bench("floor_sha256_csrf", f_sha256_csrf, NULL, 64 + strlen(SECRET), "EVP_Digest, CSRF hash input");
    EVP_CIPHER_CTX_free(g_cctx);
    EVP_MAC_CTX_free(g_mctx);
    EVP_MAC_free(mac);

    free(hdr_jwt);
    json_decref(F.claims);
    authc_free(F.a);
    if (g_failures) {
        fprintf(stderr, "micro: %ld operations failed: the numbers above are invalid\n", g_failures);
        return 1;
    }
    return 0;
}

/* fuzz_cookies.c — Cookie headers through authc_handle (GET /session) and
 * authc_auth: cookie parsing, session chunk reassembly and the JWT paths.
 * Both entry points must agree on whether there is a session. */
#include <jansson.h>

#include "fuzz.h"
#include "jose/jose_int.h"
#include "util/util_int.h"

#define CHUNK 3936

static authc *g_a;
static char *g_small, *g_big; /* valid session tokens (heap, for the process) */
static size_t g_small_len, g_big_len;

static char *mint(json_t *claims)
{
    authc__jwe_key k;
    if (authc__jwe_derive(&k, "fuzz-secret-0123456789abcdefghijklmnopq", "authjs.session-token"))
        abort();
    authc_arena *ar = authc_arena_new();
    char *tok = NULL;
    if (authc__jwt_encode(ar, &k, claims, 30 * 86400, authc__now_ms() / 1000, &tok))
        abort();
    char *out = strdup(tok);
    authc_arena_free(ar);
    json_decref(claims);
    return out;
}

static void init(void)
{
    static const char *kv[] = {"url", "http://localhost:3000", NULL};
    g_a = fuzz_instance(kv);
    g_small = mint(json_pack("{s:s,s:s,s:s}", "sub", "fuzz-user", "name", "Fuzz", "email",
                             "fuzz@example.com"));
    char pad[9001];
    memset(pad, 'p', 9000);
    pad[9000] = '\0';
    g_big = mint(json_pack("{s:s,s:s,s:s,s:s}", "sub", "fuzz-user", "name", "Fuzz", "email",
                           "fuzz@example.com", "pad", pad));
    g_small_len = strlen(g_small);
    g_big_len = strlen(g_big);
}

/* What "@X" at p stands for (static text, length in *rl), or NULL. */
static const char *token_for(const char *p, size_t *rl)
{
    if (p[0] != '@')
        return NULL;
    if (p[1] == 'S')
        return *rl = g_small_len, g_small;
    if (p[1] == 'B')
        return *rl = g_big_len, g_big;
    if (p[1] < '0' || p[1] > '3')
        return NULL;
    size_t i = (size_t)(p[1] - '0') * CHUNK;
    if (i >= g_big_len)
        return *rl = 0, "";
    *rl = g_big_len - i < CHUNK ? g_big_len - i : CHUNK;
    return g_big + i;
}

/* Input: up to 4 Cookie header values separated by '\n'. "@S" stands for a
 * valid small token, "@B" for a valid chunked one, "@0".."@3" for its
 * chunks, so mutations explore reassembly around real tokens. Returns a
 * heap string the caller frees, sized exactly (sized by the biggest token
 * per '@' it was a large ASan allocation for many inputs). */
static char *expand(const char *in)
{
    size_t cap = 1, n = 0, rl;
    for (const char *p = in; *p; p++)
        cap += token_for(p, &rl) ? (p++, rl) : 1;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = in; *p; p++) {
        const char *rep = token_for(p, &rl);
        if (rep) {
            memcpy(out + n, rep, rl);
            n += rl;
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    if (!g_a)
        init();
    char *in = fuzz_cstr(data, size);
    char *txt = in ? expand(in) : NULL;
    free(in);
    if (!txt)
        return 0;
    authc_header hs[5] = {{"Host", "localhost:3000"}};
    size_t nh = 1;
    for (char *p = txt; p && nh < 5;) {
        char *next = fuzz_cut(p, "\n");
        hs[nh].name = "Cookie";
        hs[nh++].value = p;
        p = next;
    }
    authc_request r = {.method = "GET", .url = "/auth/session", .headers = hs, .nheaders = nh};
    authc_response *res = NULL;
    authc_handle(g_a, &r, &res);
    fuzz_check_response(res);
    bool handled = res->status == 200 && res->body_len >= 8 && !memcmp(res->body, "{\"user\":", 8);
    if (handled)
        FUZZ_CHECK(memmem(res->body, res->body_len, "\"email\":\"fuzz@example.com\"", 26),
                   "a session for someone else");
    authc_response_free(res);
    authc_session *s = NULL;
    authc_err e = authc_auth(g_a, &r, &s);
    FUZZ_CHECK(e == AUTHC_OK, "authc_auth: %s", authc_strerror(e));
    FUZZ_CHECK(!s == !handled, "GET /session %s a session, authc_auth %s", handled ? "found" : "found no",
               s ? "found one" : "found none");
    if (s)
        FUZZ_CHECK(s->user.id && !strcmp(s->user.id, "fuzz-user"), "authc_auth: wrong user");
    if (getenv("FUZZ_VERBOSE")) /* to see that seeds reach a session */
        fprintf(stderr, "cookies: %s\n", handled ? "session" : "none");
    authc_session_free(s);
    free(txt);
    return 0;
}

/* fuzz_form.c — request bodies: the form parser (lib/util/map.c) directly,
 * then form and JSON bodies POSTed to every route that reads one, past a
 * valid CSRF pair. A deny-all provider must never yield a session. */
#include "fuzz.h"
#include "util/util_int.h"

static authc *g_a;
static char g_csrf_cookie[512], g_csrf_token[256];

/* A real CSRF cookie and token from GET /csrf, so bodies reach the
 * actions behind the check. "@C" in the input stands for the token. */
static void init(void)
{
    static const char *kv[] = {"url", "http://localhost:3000/auth", NULL};
    g_a = fuzz_instance(kv);
    authc_header h[] = {{"Host", "localhost:3000"}};
    authc_request r = {.method = "GET", .url = "/auth/csrf", .headers = h, .nheaders = 1};
    authc_response *res = NULL;
    authc_handle(g_a, &r, &res);
    const char *sc = authc_response_header(res, "Set-Cookie");
    const char *tok = res && res->body ? strstr(res->body, "\"csrfToken\":\"") : NULL;
    if (!sc || !tok)
        abort();
    snprintf(g_csrf_cookie, sizeof g_csrf_cookie, "%.*s", (int)strcspn(sc, ";"), sc);
    tok += 13;
    snprintf(g_csrf_token, sizeof g_csrf_token, "%.*s", (int)strcspn(tok, "\""), tok);
    authc_response_free(res);
}

/* The expanded body (caller frees), sized exactly: a buffer of n times the
 * token's length cost a large ASan allocation per input. */
static char *expand_csrf(const char *in, size_t n, size_t *outn)
{
    size_t tl = strlen(g_csrf_token), marks = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (in[i] == '@' && in[i + 1] == 'C')
            marks++, i++;
    char *out = malloc(n + marks * tl + 1);
    if (!out)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '@' && i + 1 < n && in[i + 1] == 'C') {
            memcpy(out + o, g_csrf_token, tl);
            o += tl;
            i++;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    *outn = o;
    return out;
}

static const char *const ROUTES[] = {
    "/auth/signin/credentials", "/auth/callback/credentials", "/auth/session",
    "/auth/signout", "/auth/signin", "/auth/callback/nope", "/auth/csrf", "/auth/webauthn-options/passkey",
};
static const char *const TYPES[] = {
    "application/x-www-form-urlencoded", "application/json", "application/x-www-form-urlencoded; charset=UTF-8",
    "text/plain", "multipart/form-data; boundary=x", "application/JSON",
};

/* Input: byte 0 picks the route, byte 1 the content type, the rest is the
 * body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 128 * 1024)
        return 0;
    if (!g_a)
        init();
    authc_arena *ar = authc_arena_new();
    authc__map m = {0};
    authc_err e = authc__parse_form(ar, (const char *)data + 2, size - 2, &m, 256);
    FUZZ_CHECK(e == AUTHC_OK || e == AUTHC_ERR_LIMIT || e == AUTHC_ERR_NOMEM, "parse_form: %s",
               authc_strerror(e));
    FUZZ_CHECK(m.n <= 256, "more pairs than the limit");
    for (size_t i = 0; i < m.n; i++)
        FUZZ_CHECK(m.items[i].k && m.items[i].v, "NULL pair");
    authc_arena_free(ar);

    size_t bn;
    char *body = expand_csrf((const char *)data + 2, size - 2, &bn);
    authc_header h[] = {{"Host", "localhost:3000"},
                        {"Content-Type", TYPES[data[1] % (sizeof TYPES / sizeof *TYPES)]},
                        {"Cookie", g_csrf_cookie},
                        {"X-Auth-Return-Redirect", "1"}};
    authc_request r = {.method = "POST", .url = ROUTES[data[0] % (sizeof ROUTES / sizeof *ROUTES)],
                       .headers = h, .nheaders = 4, .body = body, .body_len = bn};
    authc_response *res = NULL;
    authc_handle(g_a, &r, &res);
    fuzz_check_response(res);
    for (size_t i = 0; i < res->nheaders; i++)
        if (!strcasecmp(res->headers[i].name, "Set-Cookie") &&
            !strncmp(res->headers[i].value, "authjs.session-token", 20)) {
            const char *v = strchr(res->headers[i].value, '=') + 1;
            FUZZ_CHECK(*v == ';' || *v == '\0', "a session cookie for a deny-all provider");
        }
    FUZZ_CHECK(!(res->body_len >= 8 && !memcmp(res->body, "{\"user\":", 8)), "a session body");
    authc_response_free(res);
    free(body);
    return 0;
}

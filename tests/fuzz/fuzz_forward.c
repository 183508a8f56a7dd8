/* fuzz_forward.c — forward-auth: the rules file parser and decision, and
 * GET /auth/forward with arbitrary X-Original-* / X-Forwarded-* headers. */
#include <unistd.h>

#include "fuzz.h"
#include "core/core_int.h"
#include "forward/rules_int.h"
#include "jose/jose_int.h"

#define ORIGIN "http://auth.test"
#define SUB "u-1"

/* A fixed rule set for the request half (loaded through the setting). */
static const char RULES[] =
    "bypass path=/public/ methods=GET,HEAD\n"
    "deny path~=^/internal(/|$)\n"
    "authenticated path=/admin groups=admins\n"
    "authenticated path=/mail domains=corp.example\n";

static authc *g_a;
static char g_cookie[8192];

static void setup(void)
{
    char rules[256];
    tu_temp_file(rules, sizeof rules, RULES);
    static const char *kv[] = {"url", ORIGIN "/auth", "trusted_proxies", "127.0.0.1", NULL, NULL, NULL};
    kv[4] = "forward.rules";
    kv[5] = rules;
    g_a = fuzz_instance(kv);
    unlink(rules);
    json_t *claims = json_loads("{\"sub\":\"" SUB "\",\"name\":\"Alice\",\"email\":\"alice@corp.example\","
                                "\"groups\":[\"admins\",\"dev\"]}", 0, NULL);
    authc_arena *ar = authc_arena_new();
    char *tok = NULL;
    if (!claims || !ar ||
        authc__jwt_encode(ar, &g_a->session_keys[0][0], claims, 3600, authc__now_ms() / 1000, &tok))
        abort();
    snprintf(g_cookie, sizeof g_cookie, "authjs.session-token=%s", tok);
    json_decref(claims);
    authc_arena_free(ar);
}

/* Rules text: parse, then decide a few fixed requests with what parsed. */
static void rules_text(const char *s, size_t n)
{
    char why[AUTHC__EXPLAIN_MAX];
    authc__rules *r = authc__rules_parse(s, n, why, sizeof why);
    if (!r) {
        FUZZ_CHECK(memchr(why, '\0', sizeof why), "why not terminated");
        return;
    }
    FUZZ_CHECK(authc__rules_count(r) <= AUTHC__RULES_MAX, "too many rules kept");
    static const char *const groups[] = {"admins", "dev"};
    authc__fwd_subject who[2] = {{0}, {.signed_in = true, .user_id = SUB, .email = "a@corp.example",
                                      .name = "Alice", .groups = groups, .n_groups = 2}};
    static const char *const paths[] = {"/", "/public/x", "/admin/../internal", "/%2e%2e/mail", ""};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        for (int k = 0; k < 2; k++) {
            authc__fwd_target t = {.host = "app.test", .path = paths[i], .method = "GET"};
            char explain[AUTHC__EXPLAIN_MAX];
            authc__fwd_result d = authc__forward_decide(r, NULL, &t, &who[k], explain, sizeof explain);
            FUZZ_CHECK(d == AUTHC__FWD_ALLOW || d == AUTHC__FWD_NEED_SESSION || d == AUTHC__FWD_FORBIDDEN,
                       "decision %d", (int)d);
            FUZZ_CHECK(memchr(explain, '\0', sizeof explain), "explain not terminated");
        }
    authc__rules_free(r);
}

/* A forwarded request: header lines "Name: value" from the input; flags
 * choose the session cookie and whether the peer is the trusted proxy. */
static void request(uint8_t flags, char *s)
{
    authc_header hs[24];
    size_t nh;
    fuzz_header_lines(s, s + strlen(s), hs, 22, &nh);
    bool session = flags & 1;
    if (session)
        hs[nh++] = (authc_header){"Cookie", g_cookie};
    hs[nh++] = (authc_header){"Host", "auth.test"};
    authc_request r = {.method = flags & 2 ? "HEAD" : "GET", .url = "/auth/forward", .headers = hs,
                       .nheaders = nh, .client_addr = flags & 4 ? "127.0.0.1" : "192.0.2.9"};
    authc_response *res = NULL;
    authc_handle(g_a, &r, &res);
    fuzz_check_response(res);
    int st = res->status;
    FUZZ_CHECK(st == 200 || st == 302 || st == 303 || st == 400 || st == 401 || st == 403 || st == 413 ||
                   st == 500,
               "status %d", st);
    const char *user = authc_response_header(res, "X-Auth-Request-User");
    FUZZ_CHECK(!user || (session && !strcmp(user, SUB)), "X-Auth-Request-User %s without that session",
               user);
    FUZZ_CHECK(!user || st == 200, "identity headers on a %d", st);
    /* Sign-in redirects stay on authc's own origin (AUTH_URL). */
    const char *loc = authc_response_header(res, "Location");
    static const char signin[] = ORIGIN "/auth/signin?callbackUrl=";
    FUZZ_CHECK(!loc || !strncmp(loc, signin, sizeof signin - 1), "Location %.200s", loc);
    /* Only a trusted peer's headers name a target: no decision otherwise. */
    FUZZ_CHECK(flags & 4 || st == 400 || st == 413 || st == 500, "untrusted peer's target answered %d", st);
    authc_response_free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    if (!g_a)
        setup();
    char *s = fuzz_cstr(data + 1, size - 1);
    if (!s)
        abort();
    if (data[0] & 0x80)
        rules_text(s, size - 1);
    else
        request(data[0], s);
    free(s);
    return 0;
}

/* fuzz_url.c — the strict URL parser (lib/util/url.c) and the callbackUrl
 * path through authc_handle: nothing may send a user off the origin. */
#include "fuzz.h"
#include "util/util_int.h"

#define ORIGIN "http://localhost:3000"

static authc *g_a;

static bool ctl_free(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '\\')
            return false;
    return true;
}

static void parse(authc_arena *ar, const char *s)
{
    authc__url u;
    if (authc__url_parse(ar, s, &u) != AUTHC_OK)
        return;
    FUZZ_CHECK(u.scheme && u.host && u.origin && u.path, "missing part");
    FUZZ_CHECK(!strcmp(u.scheme, "http") || !strcmp(u.scheme, "https"), "scheme %s", u.scheme);
    FUZZ_CHECK(*u.host && !strpbrk(u.host, "@/?#%") && ctl_free(u.host), "bad host");
    FUZZ_CHECK(u.path[0] == '/' || u.path[0] == '\0', "path does not start with /");
    char *want = u.port ? authc__join(ar, u.scheme, "://", u.host, ":", u.port, NULL)
                        : authc__join(ar, u.scheme, "://", u.host, NULL);
    FUZZ_CHECK(want && !strcmp(want, u.origin), "origin %s is not scheme://host[:port]", u.origin);
    /* The origin reparses to itself. */
    authc__url v;
    FUZZ_CHECK(authc__url_parse(ar, u.origin, &v) == AUTHC_OK && !strcmp(v.origin, u.origin),
               "origin does not reparse");
}

/* Where the response would send the browser stays on ORIGIN, checked
 * without the parser under test: "http://" (any case), then an authority
 * that is "localhost" (any case) and a port that is 3000 in decimal
 * (leading zeros allowed, as WHATWG reads them), then / ? # or the end. */
static void check_on_origin(const char *what, const char *v)
{
    bool ok = !strncasecmp(v, "http://localhost:", 17);
    if (ok) {
        const char *p = v + 17;
        long port = 0;
        size_t digits = strspn(p, "0123456789");
        for (size_t i = 0; i < digits && port <= 65535; i++)
            port = port * 10 + (p[i] - '0');
        p += digits;
        ok = digits && port == 3000 && (*p == '\0' || *p == '/' || *p == '?' || *p == '#');
    }
    FUZZ_CHECK(ok, "%s leaves the origin: %.200s", what, v);
}

static void check_redirects(const authc_response *res, authc_arena *ar)
{
    fuzz_check_response(res);
    for (size_t i = 0; i < res->nheaders; i++) {
        const authc_header *h = &res->headers[i];
        if (!strcasecmp(h->name, "Location") && h->value[0] != '/')
            check_on_origin("Location", h->value);
        if (!strcasecmp(h->name, "Location"))
            FUZZ_CHECK(h->value[0] != '/' || h->value[1] != '/', "protocol-relative Location");
        static const char ck[] = "authjs.callback-url=";
        if (!strcasecmp(h->name, "Set-Cookie") && !strncmp(h->value, ck, sizeof ck - 1)) {
            const char *v = h->value + sizeof ck - 1;
            char *d = authc__pct_decode(ar, v, strcspn(v, ";"), false);
            FUZZ_CHECK(d, "callback-url cookie not decodable");
            check_on_origin("callback-url cookie", d);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16 * 1024)
        return 0;
    if (!g_a) {
        static const char *kv[] = {"url", ORIGIN "/auth", NULL};
        g_a = fuzz_instance(kv);
    }
    authc_arena *ar = authc_arena_new();
    char *s = fuzz_cstr(data, size);
    if (!ar || !s)
        abort();
    parse(ar, s);
    authc__buf q;
    authc__buf_init(&q, ar, 64 * 1024);
    authc__buf_add_uri_component(&q, s);
    FUZZ_CHECK(!q.err, "encode");
    char *url = authc__join(ar, "/auth/signin?callbackUrl=", q.p, NULL);
    char *cookie = authc__join(ar, "authjs.callback-url=", q.p, NULL);
    /* callbackUrl as a query parameter, then as the cookie a browser sends
     * back; and as a form field of a sign-out. */
    authc_header h1[] = {{"Host", "localhost:3000"}};
    authc_request r1 = {.method = "GET", .url = url, .headers = h1, .nheaders = 1};
    authc_response *res = NULL;
    authc_handle(g_a, &r1, &res);
    check_redirects(res, ar);
    authc_response_free(res);
    authc_header h2[] = {{"Host", "localhost:3000"}, {"Cookie", cookie}};
    authc_request r2 = {.method = "GET", .url = "/auth/signout", .headers = h2, .nheaders = 2};
    authc_handle(g_a, &r2, &res);
    check_redirects(res, ar);
    authc_response_free(res);
    char *body = authc__join(ar, "callbackUrl=", q.p, NULL);
    authc_header h3[] = {{"Host", "localhost:3000"},
                         {"Content-Type", "application/x-www-form-urlencoded"},
                         {"X-Auth-Return-Redirect", "1"}};
    authc_request r3 = {.method = "POST", .url = "/auth/signin/credentials", .headers = h3,
                        .nheaders = 3, .body = body, .body_len = strlen(body)};
    authc_handle(g_a, &r3, &res);
    check_redirects(res, ar);
    if (res->status == 200 && res->body_len > 8 && !memcmp(res->body, "{\"url\":\"", 8)) {
        const char *u = res->body + 8;
        size_t l = strlen(ORIGIN);
        FUZZ_CHECK(res->body_len > 8 + l && !memcmp(u, ORIGIN, l) &&
                       (u[l] == '/' || u[l] == '?' || u[l] == '"'),
                   "JSON url leaves the origin");
    }
    authc_response_free(res);
    free(s);
    authc_arena_free(ar);
    return 0;
}

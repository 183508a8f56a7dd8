/* test_oauth.c — the OAuth/OIDC provider type through authc_handle: the
 * authorization URL (params order per protocol.md §8.1, PKCE, state), the
 * callback against a loopback IdP (token exchange and client auth on the
 * wire, discovery/JWKS caching, every failure mode), presets, config. */
#include "cmocka_main.h"

#include <openssl/sha.h>

#include "authc/oauth.h"
#include "jose/jose_int.h"
#include "oauth_testutil.h"
#include "testutil.h"
#include "providers/oauth_int.h"

#define SECRET "test-secret-0123456789abcdef0123456789"
#define ORIGIN "http://app.test:3000"
#define AT "AT-very-secret-access-token"
#define CODE "the-one-time-code"
#define CSRF_TOK "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* ---- the loopback IdP ---------------------------------------------- */

typedef struct idp {
    msrv *srv;
    tkey key;
    char jwks[8192];
    /* behaviour of the next requests */
    int token_status;
    int token_delay_ms;
    const char *token_ctype;
    const char *token_body;      /* fixed body, or NULL = built */
    const char *id_nonce;        /* nonce to put in the id_token (NULL = none) */
    bool id_bad_sig;
    int64_t id_exp_delta;        /* exp = now + this (default 300) */
    int userinfo_status;
    const char *user_email;      /* /user's email (NULL → JSON null) */
    int emails_status;
    /* observed */
    int discovery_hits, jwks_hits, token_hits, userinfo_hits, emails_hits;
    mreq last_token;
    char last_userinfo_auth[256];
} idp;

static void idp_handler(void *ud, const mreq *rq, mres *rs)
{
    idp *d = ud;
    const char *o = d->srv->origin;
    rs->status = 200;
    if (!strcmp(rq->target, "/.well-known/openid-configuration")) {
        d->discovery_hits++;
        snprintf(rs->body, sizeof rs->body,
                 "{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/authorize\",\"token_endpoint\":\"%s/token\","
                 "\"userinfo_endpoint\":\"%s/userinfo\",\"jwks_uri\":\"%s/jwks\","
                 "\"id_token_signing_alg_values_supported\":[\"RS256\",\"ES256\"],"
                 "\"code_challenge_methods_supported\":[\"S256\"],"
                 "\"authorization_response_iss_parameter_supported\":true}",
                 o, o, o, o, o);
    } else if (!strcmp(rq->target, "/jwks")) {
        d->jwks_hits++;
        snprintf(rs->body, sizeof rs->body, "%s", d->jwks);
    } else if (!strcmp(rq->target, "/token") || !strcmp(rq->target, "/login/oauth/access_token")) {
        d->token_hits++;
        d->last_token = *rq;
        rs->delay_ms = d->token_delay_ms;
        rs->status = d->token_status ? d->token_status : 200;
        if (d->token_ctype)
            rs->content_type = d->token_ctype;
        if (d->token_body) {
            snprintf(rs->body, sizeof rs->body, "%s", d->token_body);
            return;
        }
        int64_t now = authc__now_ms() / 1000;
        json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "iss", o, "sub", "idp-user-7", "aud", "cid",
                              "iat", (json_int_t)now, "exp", (json_int_t)(now + (d->id_exp_delta ? d->id_exp_delta : 300)),
                              "name", "Ida Provider", "email", "Ida@Example.COM");
        if (d->id_nonce)
            json_object_set_new(c, "nonce", json_string(d->id_nonce));
        char *tok = tk_sign(&d->key, c);
        if (d->id_bad_sig) {
            /* Another base64url letter: still well-formed, no longer the signature. */
            char *ch = &tok[strlen(tok) - 2];
            *ch = *ch == 'A' ? 'B' : 'A';
        }
        json_decref(c);
        snprintf(rs->body, sizeof rs->body,
                 "{\"access_token\":\"" AT "\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
                 "\"refresh_token\":\"RT-1\",\"scope\":\"openid profile email\",\"id_token\":\"%s\"}", tok);
        free(tok);
    } else if (!strcmp(rq->target, "/userinfo") || !strcmp(rq->target, "/api/v3/user")) {
        d->userinfo_hits++;
        mreq_header(rq, "Authorization", d->last_userinfo_auth, sizeof d->last_userinfo_auth);
        rs->status = d->userinfo_status ? d->userinfo_status : 200;
        if (d->user_email)
            snprintf(rs->body, sizeof rs->body,
                     "{\"id\":1234567,\"login\":\"octo\",\"name\":null,\"email\":\"%s\",\"avatar_url\":\"https://img/1\"}",
                     d->user_email);
        else
            snprintf(rs->body, sizeof rs->body,
                     "{\"id\":1234567,\"login\":\"octo\",\"name\":null,\"email\":null,\"avatar_url\":\"https://img/1\"}");
    } else if (!strcmp(rq->target, "/api/v3/user/emails")) {
        d->emails_hits++;
        rs->status = d->emails_status ? d->emails_status : 200;
        snprintf(rs->body, sizeof rs->body,
                 "[{\"email\":\"other@example.com\",\"primary\":false,\"verified\":true,\"visibility\":null},"
                 "{\"email\":\"Octo@Private.example\",\"primary\":true,\"verified\":true,\"visibility\":\"private\"}]");
    }
}

/* ---- requests and cookies ------------------------------------------ */

static bool has_set_cookie(const authc_response *r, const char *prefix, bool deletion)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, "Set-Cookie") && !strncmp(r->headers[i].value, prefix, strlen(prefix)) &&
            (strstr(r->headers[i].value, "Max-Age=0") != NULL) == deletion)
            return true;
    return false;
}

static authc_response *send_req(authc *a, const char *method, const char *url, tu_jar *j, const char *body)
{
    char ck[32768] = "";
    if (j)
        tu_jar_header(j, ck, sizeof ck);
    authc_response *r = tu_send_form(a, method, url, ck, body);
    assert_non_null(r);
    if (j)
        tu_jar_update(j, r);
    return r;
}

/* A jar with a valid CSRF cookie for CSRF_TOK. */
static void jar_with_csrf(tu_jar *j)
{
    memset(j, 0, sizeof *j);
    uint8_t d[SHA256_DIGEST_LENGTH];
    const char *in = CSRF_TOK SECRET;
    SHA256((const uint8_t *)in, strlen(in), d);
    char hex[65];
    authc__hex(hex, d, sizeof d);
    j->n = 1;
    strcpy(j->names[0], "authjs.csrf-token");
    snprintf(j->values[0], sizeof j->values[0], CSRF_TOK "%%7C%s", hex);
}

/* Splits a URL's query into keys/values (decoded into arena). */
static size_t query_pairs(authc_arena *ar, const char *url, const char **keys, const char **vals, size_t max)
{
    const char *q = strchr(url, '?');
    authc__map m = {0};
    if (!q || authc__parse_form(ar, q + 1, strlen(q + 1), &m, 64))
        return 0;
    for (size_t i = 0; i < m.n && i < max; i++) {
        keys[i] = m.items[i].k;
        vals[i] = m.items[i].v;
    }
    return m.n;
}

static const char *qget(const char *const *k, const char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(k[i], name))
            return v[i];
    return NULL;
}

/* Decrypts a check cookie (value as sent, %-encoded) → its "value". */
static char *check_value(authc_arena *ar, const char *cookie_name, const char *raw)
{
    authc__jwe_key k;
    authc__jwe_derive(&k, SECRET, cookie_name);
    char *dec = authc__pct_decode(ar, raw, strlen(raw), false);
    json_t *c = NULL;
    if (!dec || authc__jwt_decode(ar, &k, 1, dec, strlen(dec), authc__now_ms() / 1000, &c))
        return NULL;
    char *v = authc_arena_strdup(ar, json_string_value(json_object_get(c, "value")));
    assert_string_equal(json_string_value(json_object_get(c, "provider")) ? "ok" : "no", "ok");
    json_decref(c);
    return v;
}

/* ---- log capture: no token may ever reach a log line --------------- */

static char g_log[65536];
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;

static void capture_log(void *ud, const char *level, const char *msg)
{
    (void)ud;
    pthread_mutex_lock(&g_log_mu);
    snprintf(g_log + strlen(g_log), sizeof g_log - strlen(g_log), "%s %s\n", level, msg);
    pthread_mutex_unlock(&g_log_mu);
}

/* ---- fixture -------------------------------------------------------- */

typedef struct fx {
    idp d;
    authc *a;
    authc_arena *ar;
} fx;

static tkey g_key;

static int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->d.key = g_key;
    char *j = tk_jwks(&g_key, 1);
    snprintf(f->d.jwks, sizeof f->d.jwks, "%s", j);
    free(j);
    f->d.srv = msrv_start(idp_handler, &f->d);
    assert_non_null(f->d.srv);
    f->ar = authc_arena_new();
    g_log[0] = '\0';
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx *f = *state;
    authc_free(f->a);
    msrv_stop(f->d.srv);
    authc_arena_free(f->ar);
    /* Whatever happened, no token or code reached the log. */
    assert_null(strstr(g_log, AT));
    assert_null(strstr(g_log, CODE));
    assert_null(strstr(g_log, "RT-1"));
    free(f);
    return 0;
}

/* Builds the instance with one provider (p->… filled by the caller). */
static void fx_build(fx *f, authc_oauth_provider *p)
{
    authc_config *cfg = authc_config_new();
    char err[512];
    assert_int_equal(authc_config_set(cfg, "secret", SECRET, err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "trust_host", "1", err, sizeof err), AUTHC_OK);
    authc_config_set_logger(cfg, capture_log, NULL);
    authc_err e = authc_config_add_oauth(cfg, p, err, sizeof err);
    if (e)
        fail_msg("add_oauth: %s", err);
    f->a = authc_new(cfg, err, sizeof err);
    if (!f->a)
        fail_msg("authc_new: %s", err);
}

static void fx_oidc(fx *f, unsigned checks)
{
    authc_oauth_provider p = {.id = "oidc", .name = "Test IdP", .type = AUTHC_OAUTH_OIDC,
                              .issuer = f->d.srv->origin, .client_id = "cid", .client_secret = "c s:1",
                              .checks = checks, .timeout_ms = 2000};
    fx_build(f, &p);
}

/* POST /signin/<id>; returns the Location (arena) and fills the jar. */
static const char *signin(fx *f, const char *id, const char *query, tu_jar *j)
{
    jar_with_csrf(j);
    char url[256];
    snprintf(url, sizeof url, ORIGIN "/auth/signin/%s%s", id, query ? query : "");
    authc_response *r = send_req(f->a, "POST", url, j, "csrfToken=" CSRF_TOK "&callbackUrl=%2Fdashboard");
    assert_int_equal(r->status, 302);
    const char *loc = authc_arena_strdup(f->ar, authc_response_header(r, "Location"));
    authc_response_free(r);
    return loc;
}

/* The authorization request a sign-in redirects to: its URL and query
 * (32 parameters at most; strings in f's arena). */
typedef struct authz {
    const char *loc;
    const char *k[32], *v[32];
    size_t n;
} authz;

/* Signs in at provider id (see signin) and splits the redirect's query. */
static void authorize(fx *f, const char *id, const char *query, tu_jar *j, authz *z)
{
    z->loc = signin(f, id, query, j);
    z->n = query_pairs(f->ar, z->loc, z->k, z->v, 32);
}

static const char *zget(const authz *z, const char *name)
{
    return qget(z->k, z->v, z->n, name);
}

/* Checks the query's names are exactly `order` (NULL-terminated), in that
 * order. */
static void query_names_are(const authz *z, const char *const *order)
{
    size_t want = 0;
    while (order[want])
        want++;
    assert_int_equal(z->n, want);
    for (size_t i = 0; i < z->n; i++)
        assert_string_equal(z->k[i], order[i]);
}

/* `first` followed by the callback's &state= (unless NULL) and &iss= (the
 * IdP's issuer, when iss), form-encoded; in f's arena. */
static const char *callback_query(fx *f, const char *first, const char *state, bool iss)
{
    authc__buf b;
    authc__buf_init(&b, f->ar, 65536);
    authc__buf_adds(&b, first);
    if (state) {
        authc__buf_adds(&b, "&state=");
        authc__buf_add_form_component(&b, state);
    }
    if (iss) {
        authc__buf_adds(&b, "&iss=");
        authc__buf_add_form_component(&b, f->d.srv->origin);
    }
    assert_int_equal(b.err, AUTHC_OK);
    return b.p;
}

/* The session authc_auth finds for the jar's cookies (the caller frees it);
 * fails the test when there is none. */
static authc_session *session_of(fx *f, const tu_jar *j)
{
    char ck[16384];
    authc_header h = {"Cookie", tu_jar_header(j, ck, sizeof ck)};
    authc_request rq = {.method = "GET", .url = ORIGIN "/auth/session", .headers = &h, .nheaders = 1};
    authc_session *s = NULL;
    assert_int_equal(authc_auth(f->a, &rq, &s), AUTHC_OK);
    assert_non_null(s);
    return s;
}

/* ---- tests: authorization request ---------------------------------- */

static void github_authorization_url(void **state)
{
    fx *f = *state;
    authc_oauth_provider p = {.preset = "github", .client_id = "gh id", .client_secret = "gh:secret"};
    fx_build(f, &p);
    tu_jar j;
    authz z;
    authorize(f, "github", "?prompt=consent&login_hint=a%20b", &j, &z);
    assert_true(authc__starts_with(z.loc, "https://github.com/login/oauth/authorize?scope=read%3Auser+user%3Aemail"
                                          "&response_type=code&client_id=gh+id"
                                          "&redirect_uri=http%3A%2F%2Fapp.test%3A3000%2Fauth%2Fcallback%2Fgithub"
                                          "&prompt=consent&login_hint=a+b&state="));
    query_names_are(&z, (const char *const[]){"scope", "response_type", "client_id", "redirect_uri", "prompt",
                                              "login_hint", "state", "code_challenge", "code_challenge_method", NULL});
    /* PKCE: challenge = b64url(SHA-256(verifier in the cookie)). */
    const char *verifier = check_value(f->ar, "authjs.pkce.code_verifier", tu_jar_get(&j, "authjs.pkce.code_verifier"));
    assert_non_null(verifier);
    assert_int_equal(strlen(verifier), 43);
    uint8_t dg[32];
    SHA256((const uint8_t *)verifier, strlen(verifier), dg);
    char ch[64];
    authc__b64url_encode_to(ch, dg, 32);
    assert_string_equal(zget(&z, "code_challenge"), ch);
    assert_string_equal(zget(&z, "code_challenge_method"), "S256");
    /* State: the parameter is what the cookie seals; itself a JWE of
     * {random} under the "encodedState" salt. */
    const char *st = check_value(f->ar, "authjs.state", tu_jar_get(&j, "authjs.state"));
    assert_non_null(st);
    assert_string_equal(zget(&z, "state"), st);
    authc__jwe_key sk;
    authc__jwe_derive(&sk, SECRET, "encodedState");
    json_t *sc = NULL;
    assert_int_equal(authc__jwt_decode(f->ar, &sk, 1, st, strlen(st), authc__now_ms() / 1000, &sc), AUTHC_OK);
    assert_int_equal(strlen(json_string_value(json_object_get(sc, "random"))), 43);
    assert_null(json_object_get(sc, "origin"));
    json_decref(sc);
    /* GitHub is OAuth: no nonce. */
    assert_null(zget(&z, "nonce"));
    assert_null(tu_jar_get(&j, "authjs.nonce"));
}

static void enterprise_and_gitlab_urls(void **state)
{
    fx *f = *state;
    authc_oauth_provider p = {.preset = "gitlab", .client_id = "x", .client_secret = "y",
                              .base_url = "https://gitlab.example.com/"};
    fx_build(f, &p);
    tu_jar j;
    const char *loc = signin(f, "gitlab", NULL, &j);
    assert_true(authc__starts_with(loc, "https://gitlab.example.com/oauth/authorize?scope=read_user&response_type=code&client_id=x&"));
    authc_free(f->a);
    authc_oauth_provider g = {.preset = "github", .client_id = "x", .client_secret = "y",
                              .base_url = "https://github.example.com"};
    fx_build(f, &g);
    loc = signin(f, "github", NULL, &j);
    assert_true(authc__starts_with(loc, "https://github.example.com/login/oauth/authorize?scope="));
}

static void generic_oauth_default_scope_and_params(void **state)
{
    fx *f = *state;
    const char *params[] = {"audience", "api://x", "prompt", "login", NULL};
    authc_oauth_provider p = {.id = "corp", .client_id = "cid", .client_secret = "s",
                              .authorization_url = "https://sso.example.com/auth?tenant=t1",
                              .token_url = "https://sso.example.com/token",
                              .userinfo_url = "https://sso.example.com/me", .params = params};
    fx_build(f, &p);
    tu_jar j;
    authz z;
    authorize(f, "corp", "?prompt=none", &j, &z);
    query_names_are(&z,
                    (const char *const[]){"tenant", "audience", "prompt", "scope", "response_type", "client_id",
                                          "redirect_uri", "state", "code_challenge", "code_challenge_method", NULL});
    assert_string_equal(zget(&z, "scope"), "openid profile email");
    assert_string_equal(zget(&z, "prompt"), "none"); /* the request wins */
    assert_true(authc__starts_with(z.loc, "https://sso.example.com/auth?tenant=t1&audience=api%3A%2F%2Fx&"));
}

static void basic_auth_encoding(void **state)
{
    fx *f = *state;
    /* "gh id" → "gh+id", "gh:secret" → "gh%3Asecret" (protocol.md §8.2). */
    char *h = authc__oauth_basic_auth(f->ar, "gh id", "gh:secret");
    char *want = authc__b64_encode(f->ar, (const uint8_t *)"gh+id:gh%3Asecret", 17);
    char full[128];
    snprintf(full, sizeof full, "Basic %s", want);
    assert_string_equal(h, full);
    h = authc__oauth_basic_auth(f->ar, "a!*'()~", "é/+");
    want = authc__b64_encode(f->ar, (const uint8_t *)"a!*'()~:%C3%A9%2F%2B", 20);
    snprintf(full, sizeof full, "Basic %s", want);
    assert_string_equal(h, full);
}

/* ---- tests: the OIDC callback --------------------------------------- */

/* Signs in (filling j) and returns the URL the "IdP" calls back with:
 * code, state (state_override if not NULL) and iss (unless drop_iss); the
 * IdP's id_token will carry the request's nonce. oidc_round sends it. */
static const char *oidc_callback_url(fx *f, tu_jar *j, const char *state_override, bool drop_iss)
{
    authz z;
    authorize(f, "oidc", NULL, j, &z);
    f->d.id_nonce = zget(&z, "nonce") ? authc_arena_strdup(f->ar, zget(&z, "nonce")) : NULL;
    return callback_query(f, ORIGIN "/auth/callback/oidc?code=" CODE,
                          state_override ? state_override : zget(&z, "state"), !drop_iss);
}

static authc_response *oidc_round(fx *f, tu_jar *j, const char *state_override, bool drop_iss)
{
    return send_req(f->a, "GET", oidc_callback_url(f, j, state_override, drop_iss), j, NULL);
}

static void assert_error_redirect(authc_response *r, const char *page_and_code)
{
    assert_int_equal(r->status, 302);
    const char *loc = authc_response_header(r, "Location");
    char want[256];
    snprintf(want, sizeof want, ORIGIN "/auth/%s", page_and_code);
    assert_string_equal(loc, want);
    assert_null(strstr(loc, AT));
    /* No session of any kind. */
    assert_false(has_set_cookie(r, "authjs.session-token", false));
}

/* Takes (and clears) what was logged since the last call. */
static char *take_log(authc_arena *ar)
{
    pthread_mutex_lock(&g_log_mu);
    char *l = authc_arena_strdup(ar, g_log);
    g_log[0] = '\0';
    pthread_mutex_unlock(&g_log_mu);
    return l;
}

/* A refused callback: the error redirect, and the log line naming the
 * check that failed (Configuration alone says nothing about which one). */
static void assert_refused(authc_arena *ar, authc_response *r, const char *page_and_code, const char *reason)
{
    assert_error_redirect(r, page_and_code);
    const char *log = take_log(ar);
    if (!strstr(log, reason))
        fprintf(stderr, "expected the log to name \"%s\", it says:\n%s", reason, log);
    assert_non_null(strstr(log, reason));
}

static void oidc_full_flow(void **state)
{
    fx *f = *state;
    fx_oidc(f, 0);
    tu_jar j;
    authz z;
    authorize(f, "oidc", NULL, &j, &z);
    /* Discovered endpoint: spec order with scope appended last. */
    query_names_are(&z, (const char *const[]){"response_type", "client_id", "redirect_uri", "state", "code_challenge",
                                              "code_challenge_method", "nonce", "scope", NULL});
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s/authorize?response_type=code&client_id=cid&", f->d.srv->origin);
    assert_true(authc__starts_with(z.loc, prefix));
    assert_string_equal(zget(&z, "scope"), "openid profile email");
    assert_non_null(tu_jar_get(&j, "authjs.nonce"));

    /* Two complete sign-ins: one discovery, one JWKS fetch. */
    for (int round = 0; round < 2; round++) {
        authc_response *r = oidc_round(f, &j, NULL, false);
        assert_int_equal(r->status, 302);
        assert_string_equal(authc_response_header(r, "Location"), ORIGIN "/dashboard");
        assert_true(has_set_cookie(r, "authjs.session-token=", false));
        assert_true(has_set_cookie(r, "authjs.state=", true));
        assert_true(has_set_cookie(r, "authjs.pkce.code_verifier=", true));
        assert_true(has_set_cookie(r, "authjs.nonce=", true));
        authc_response_free(r);
    }
    assert_int_equal(f->d.discovery_hits, 1);
    assert_int_equal(f->d.jwks_hits, 1);
    assert_int_equal(f->d.token_hits, 2);

    /* The token request as it went over the wire. */
    char auth[256];
    assert_true(mreq_header(&f->d.last_token, "Authorization", auth, sizeof auth));
    char *basic = authc__oauth_basic_auth(f->ar, "cid", "c s:1");
    assert_string_equal(auth, basic);
    char ct[128];
    mreq_header(&f->d.last_token, "Content-Type", ct, sizeof ct);
    assert_string_equal(ct, "application/x-www-form-urlencoded;charset=UTF-8");
    authc__map body = {0};
    authc__parse_form(f->ar, f->d.last_token.body, f->d.last_token.body_len, &body, 16);
    assert_int_equal(body.n, 4);
    assert_string_equal(body.items[0].k, "redirect_uri");
    assert_string_equal(body.items[0].v, ORIGIN "/auth/callback/oidc");
    assert_string_equal(body.items[1].k, "code");
    assert_string_equal(body.items[1].v, CODE);
    assert_string_equal(body.items[2].k, "code_verifier");
    assert_string_equal(body.items[3].k, "grant_type");
    assert_string_equal(body.items[3].v, "authorization_code");

    /* The session holds the provider's user (email lowercased). */
    authc_session *s = session_of(f, &j);
    assert_string_equal(s->user.name, "Ida Provider");
    assert_string_equal(s->user.email, "ida@example.com");
    authc_session_free(s);
}

static void oidc_client_secret_post(void **state)
{
    fx *f = *state;
    authc_oauth_provider p = {.id = "oidc", .type = AUTHC_OAUTH_OIDC, .issuer = f->d.srv->origin,
                              .client_id = "cid", .client_secret = "sec ret",
                              .token_auth = AUTHC_TOKEN_AUTH_CLIENT_SECRET_POST};
    fx_build(f, &p);
    tu_jar j;
    authc_response *r = oidc_round(f, &j, NULL, false);
    assert_true(has_set_cookie(r, "authjs.session-token=", false));
    authc_response_free(r);
    char auth[256];
    assert_false(mreq_header(&f->d.last_token, "Authorization", auth, sizeof auth));
    authc__map body = {0};
    authc__parse_form(f->ar, f->d.last_token.body, f->d.last_token.body_len, &body, 16);
    assert_string_equal(authc__map_last(&body, "client_id"), "cid");
    assert_string_equal(authc__map_last(&body, "client_secret"), "sec ret");
}

static void callback_failures(void **state)
{
    fx *f = *state;
    fx_oidc(f, 0);
    tu_jar j;
    authc_response *r;

    /* The provider says no (state echoed): OAuthCallbackError. */
    authz z;
    authorize(f, "oidc", NULL, &j, &z);
    r = send_req(f->a, "GET",
                 callback_query(f, ORIGIN "/auth/callback/oidc?error=access_denied", zget(&z, "state"), true), &j,
                 NULL);
    assert_error_redirect(r, "signin?error=OAuthCallbackError");
    authc_response_free(r);

    /* Tampered state. */
    take_log(f->ar);
    r = oidc_round(f, &j, "eyJhbGciOiJkaXIi.tampered", false);
    assert_refused(f->ar, r, "error?error=Configuration", "state parameter does not match the state cookie");
    authc_response_free(r);
    /* State parameter empty. */
    r = oidc_round(f, &j, "", false);
    assert_refused(f->ar, r, "error?error=Configuration", "state parameter does not match the state cookie");
    authc_response_free(r);
    /* iss parameter missing although the IdP advertises it. */
    r = oidc_round(f, &j, NULL, true);
    assert_refused(f->ar, r, "error?error=Configuration", "the iss parameter is missing");
    authc_response_free(r);

    /* Check cookies missing: state, then PKCE, then nonce. */
    const char *drop[] = {"authjs.state", "authjs.pkce.code_verifier", "authjs.nonce"};
    const char *why[] = {"state cookie missing", "PKCE code_verifier cookie missing", "nonce cookie missing"};
    for (int d = 0; d < 3; d++) {
        const char *url = oidc_callback_url(f, &j, NULL, false);
        tu_jar j2 = j;
        for (int c = 0; c < j2.n; c++)
            if (!strcmp(j2.names[c], drop[d]))
                strcpy(j2.values[c], "");
        int before = f->d.token_hits;
        r = send_req(f->a, "GET", url, &j2, NULL);
        assert_refused(f->ar, r, "error?error=Configuration", why[d]);
        assert_int_equal(f->d.token_hits, before); /* the code was never spent */
        authc_response_free(r);
    }

    /* The IdP returns a different nonce. */
    const char *url = oidc_callback_url(f, &j, NULL, false);
    f->d.id_nonce = "someone-elses-nonce";
    r = send_req(f->a, "GET", url, &j, NULL);
    assert_refused(f->ar, r, "error?error=Configuration", "invalid id_token from oidc: id_token nonce does not match the nonce cookie");
    authc_response_free(r);

    /* Bad id_token signature; expired id_token. */
    f->d.id_bad_sig = true;
    r = oidc_round(f, &j, NULL, false);
    assert_refused(f->ar, r, "error?error=Configuration", "invalid id_token from oidc: id_token signature (RS256) does not verify");
    authc_response_free(r);
    f->d.id_bad_sig = false;
    f->d.id_exp_delta = -3600;
    r = oidc_round(f, &j, NULL, false);
    assert_refused(f->ar, r, "error?error=Configuration", "invalid id_token from oidc: id_token expired");
    authc_response_free(r);
    f->d.id_exp_delta = 0;

    /* Token endpoint errors: HTTP 400, a 200 without access_token, junk. */
    f->d.token_status = 400;
    f->d.token_body = "{\"error\":\"invalid_grant\",\"error_description\":\"code " CODE " used\"}";
    r = oidc_round(f, &j, NULL, false);
    assert_refused(f->ar, r, "error?error=Configuration", "token endpoint of oidc answered HTTP 400, error=invalid_grant");
    authc_response_free(r);
    f->d.token_status = 200;
    f->d.token_body = "{\"token_type\":\"bearer\",\"id_token\":\"x.y.z\"}";
    r = oidc_round(f, &j, NULL, false);
    assert_refused(f->ar, r, "error?error=Configuration", "token response of oidc has no access_token");
    authc_response_free(r);
    f->d.token_body = "<html>oops</html>";
    f->d.token_ctype = "text/html";
    r = oidc_round(f, &j, NULL, false);
    assert_refused(f->ar, r, "error?error=Configuration", "answered HTTP 200 without a JSON object");
    authc_response_free(r);
    f->d.token_body = NULL;
    f->d.token_ctype = NULL;

    /* Replay: the same callback URL and cookies a second time. */
    url = oidc_callback_url(f, &j, NULL, false);
    tu_jar keep = j;
    r = send_req(f->a, "GET", url, &j, NULL);
    assert_true(has_set_cookie(r, "authjs.session-token=", false));
    authc_response_free(r);
    /* With the browser's cleared cookies: InvalidCheck. */
    take_log(f->ar);
    r = send_req(f->a, "GET", url, &j, NULL);
    assert_refused(f->ar, r, "error?error=Configuration", "state cookie missing or invalid");
    authc_response_free(r);
    /* With the old cookies replayed, the IdP refuses the spent code. */
    f->d.token_status = 400;
    f->d.token_body = "{\"error\":\"invalid_grant\"}";
    r = send_req(f->a, "GET", url, &keep, NULL);
    assert_refused(f->ar, r, "error?error=Configuration", "error=invalid_grant");
    authc_response_free(r);
}

static void token_timeout_is_configuration(void **state)
{
    fx *f = *state;
    authc_oauth_provider p = {.id = "oidc", .type = AUTHC_OAUTH_OIDC, .issuer = f->d.srv->origin,
                              .client_id = "cid", .client_secret = "s", .timeout_ms = 400};
    fx_build(f, &p);
    f->d.token_delay_ms = 3000;
    tu_jar j;
    int64_t t0 = authc__now_ms();
    authc_response *r = oidc_round(f, &j, NULL, false);
    int64_t took = authc__now_ms() - t0;
    assert_refused(f->ar, r, "error?error=Configuration", "no complete answer within 400 ms");
    authc_response_free(r);
    assert_true(took < 2000);
}

static void github_profile_and_private_email(void **state)
{
    fx *f = *state;
    /* Enterprise-style base URL pointing at the loopback "GitHub". */
    authc_oauth_provider p = {.preset = "github", .client_id = "gh id", .client_secret = "gh:secret",
                              .base_url = f->d.srv->origin};
    fx_build(f, &p);
    /* GitHub's access token answer as a form (no Accept: JSON). */
    f->d.token_ctype = "application/x-www-form-urlencoded";
    f->d.token_body = "access_token=" AT "&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer";
    tu_jar j;
    authz z;
    authorize(f, "github", NULL, &j, &z);
    authc_response *r = send_req(
        f->a, "GET", callback_query(f, ORIGIN "/auth/callback/github?code=" CODE, zget(&z, "state"), false), &j, NULL);
    assert_int_equal(r->status, 302);
    assert_true(has_set_cookie(r, "authjs.session-token=", false));
    authc_response_free(r);
    char want[128];
    snprintf(want, sizeof want, "Bearer %s", AT);
    assert_string_equal(f->d.last_userinfo_auth, want);
    assert_int_equal(f->d.emails_hits, 1);
    authc_session *s = session_of(f, &j);
    assert_string_equal(s->user.name, "octo");                  /* name ?? login */
    assert_string_equal(s->user.email, "octo@private.example"); /* primary, lowercased */
    assert_string_equal(s->user.image, "https://img/1");
    authc_session_free(s);

    /* Userinfo failure → Configuration, no session. */
    f->d.userinfo_status = 500;
    authorize(f, "github", NULL, &j, &z);
    take_log(f->ar);
    r = send_req(f->a, "GET", callback_query(f, ORIGIN "/auth/callback/github?code=" CODE, zget(&z, "state"), false),
                 &j, NULL);
    assert_refused(f->ar, r, "error?error=Configuration", "userinfo of github:");
    authc_response_free(r);
}

/* Builds f with the preset whose OIDC issuer is the loopback IdP, client
 * "cid" with this secret. */
static void fx_build_oidc_preset(fx *f, const char *preset, const char *secret)
{
    authc_oauth_provider p = {.preset = preset, .client_id = "cid", .client_secret = secret,
                              .issuer = f->d.srv->origin};
    fx_build(f, &p);
}

static void twitch_params(void **state)
{
    fx *f = *state;
    fx_build_oidc_preset(f, "twitch", "s");
    tu_jar j;
    authz z;
    authorize(f, "twitch", NULL, &j, &z);
    query_names_are(&z, (const char *const[]){"response_type", "client_id", "redirect_uri", "scope", "claims", "state",
                                              "code_challenge", "code_challenge_method", "nonce", NULL});
    assert_string_equal(zget(&z, "scope"), "openid user:read:email");
    assert_string_equal(zget(&z, "claims"),
                        "{\"id_token\":{\"email\":null,\"picture\":null,\"preferred_username\":null}}");
}

static void apple_form_post(void **state)
{
    fx *f = *state;
    fx_build_oidc_preset(f, "apple", "apple-jwt");
    tu_jar j;
    jar_with_csrf(&j);
    authc_response *r = send_req(f->a, "POST", ORIGIN "/auth/signin/apple", &j,
                                 "csrfToken=" CSRF_TOK "&callbackUrl=%2Fdashboard");
    const char *loc = authc_arena_strdup(f->ar, authc_response_header(r, "Location"));
    /* state and nonce cookies must survive Apple's cross-site POST. */
    bool st = false, nn = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *hv = r->headers[i].value;
        if (authc__starts_with(hv, "authjs.state="))
            st = strstr(hv, "; Secure; SameSite=None") != NULL;
        if (authc__starts_with(hv, "authjs.nonce="))
            nn = strstr(hv, "; Secure; SameSite=None") != NULL;
    }
    assert_true(st && nn);
    authc_response_free(r);
    const char *k[32], *v[32];
    size_t n = query_pairs(f->ar, loc, k, v, 32);
    assert_string_equal(qget(k, v, n, "response_mode"), "form_post");
    assert_string_equal(qget(k, v, n, "scope"), "name email");
    /* The mock advertises S256, so PKCE is used (Apple: only if advertised). */
    assert_non_null(qget(k, v, n, "code_challenge"));
    f->d.id_nonce = authc_arena_strdup(f->ar, qget(k, v, n, "nonce"));
    authc__buf b;
    authc__buf_init(&b, f->ar, 65536);
    authc__buf_adds(&b, callback_query(f, "code=" CODE, qget(k, v, n, "state"), true));
    authc__buf_adds(&b, "&user=");
    authc__buf_add_form_component(&b, "{\"name\":{\"firstName\":\"Jane\",\"lastName\":\"Doe\"},\"email\":\"j@x\"}");
    r = send_req(f->a, "POST", ORIGIN "/auth/callback/apple", &j, b.p);
    assert_int_equal(r->status, 302);
    assert_true(has_set_cookie(r, "authjs.session-token=", false));
    authc_response_free(r);
    /* client_secret_post for Apple. */
    authc__map body = {0};
    authc__parse_form(f->ar, f->d.last_token.body, f->d.last_token.body_len, &body, 16);
    assert_string_equal(authc__map_last(&body, "client_secret"), "apple-jwt");
    authc_session *s = session_of(f, &j);
    assert_string_equal(s->user.name, "Jane Doe");
    assert_null(s->user.image);
    authc_session_free(s);
}

static void redirect_proxy(void **state)
{
    fx *f = *state;
    authc_oauth_provider p = {.preset = "github", .client_id = "x", .client_secret = "y",
                              .checks = AUTHC_CHECK_PKCE, /* state is forced on by the proxy */
                              .redirect_proxy_url = "https://proxy.example.com/auth/"};
    fx_build(f, &p);
    tu_jar j;
    const char *loc = signin(f, "github", NULL, &j);
    const char *k[32], *v[32];
    size_t n = query_pairs(f->ar, loc, k, v, 32);
    assert_string_equal(qget(k, v, n, "redirect_uri"), "https://proxy.example.com/auth/callback/github");
    const char *st = qget(k, v, n, "state");
    assert_non_null(st);
    authc__jwe_key sk;
    authc__jwe_derive(&sk, SECRET, "encodedState");
    json_t *sc = NULL;
    assert_int_equal(authc__jwt_decode(f->ar, &sk, 1, st, strlen(st), authc__now_ms() / 1000, &sc), AUTHC_OK);
    assert_string_equal(json_string_value(json_object_get(sc, "origin")), ORIGIN "/auth/callback/github");
    json_decref(sc);
    /* The proxy deployment forwards the IdP's answer to the origin. */
    authc__buf b;
    authc__buf_init(&b, f->ar, 65536);
    authc__buf_adds(&b, "https://proxy.example.com/auth/callback/github?code=" CODE "&state=");
    authc__buf_add_form_component(&b, st);
    authc_response *r = send_req(f->a, "GET", b.p, NULL, NULL);
    assert_int_equal(r->status, 302);
    const char *fwd = authc_response_header(r, "Location");
    assert_true(authc__starts_with(fwd, ORIGIN "/auth/callback/github?code=" CODE "&state="));
    assert_false(has_set_cookie(r, "authjs.session-token", false));
    authc_response_free(r);
    /* A state this deployment did not make is refused there. */
    take_log(f->ar);
    r = send_req(f->a, "GET", "https://proxy.example.com/auth/callback/github?code=x&state=forged", NULL, NULL);
    assert_int_equal(r->status, 302);
    assert_string_equal(authc_response_header(r, "Location"), "https://proxy.example.com/auth/error?error=Configuration");
    assert_non_null(strstr(take_log(f->ar), "state could not be decoded"));
    authc_response_free(r);
}

/* ---- tests: configuration ------------------------------------------- */

static authc_err try_add(const authc_oauth_provider *p, char *err, size_t errlen)
{
    authc_config *cfg = authc_config_new();
    authc_err e = authc_config_add_oauth(cfg, p, err, errlen);
    authc_config_free(cfg);
    return e;
}

static void config_problems(void **state)
{
    (void)state;
    char err[512];
    authc_oauth_provider p = {.preset = "github", .client_secret = "s"};
    assert_int_equal(try_add(&p, err, sizeof err), AUTHC_ERR_INVALID);
    assert_non_null(strstr(err, "AUTH_GITHUB_ID"));
    p = (authc_oauth_provider){.preset = "nope", .client_id = "i", .client_secret = "s"};
    assert_int_equal(try_add(&p, err, sizeof err), AUTHC_ERR_INVALID);
    p = (authc_oauth_provider){.preset = "keycloak", .client_id = "i", .client_secret = "s"};
    assert_int_equal(try_add(&p, err, sizeof err), AUTHC_ERR_INVALID);
    assert_non_null(strstr(err, "issuer"));
    p = (authc_oauth_provider){.id = "x", .type = AUTHC_OAUTH_OIDC, .client_id = "i", .client_secret = "s"};
    assert_int_equal(try_add(&p, err, sizeof err), AUTHC_ERR_INVALID);
    p = (authc_oauth_provider){.id = "x", .client_id = "i", .client_secret = "s",
                               .authorization_url = "https://a/x", .token_url = "https://a/t"};
    assert_int_equal(try_add(&p, err, sizeof err), AUTHC_ERR_INVALID);
    assert_non_null(strstr(err, "InvalidEndpoints"));
    p = (authc_oauth_provider){.id = "x", .type = AUTHC_OAUTH_OIDC, .issuer = "http://idp.internal",
                               .client_id = "i", .client_secret = "s"};
    assert_int_equal(try_add(&p, err, sizeof err), AUTHC_ERR_INVALID);
    assert_non_null(strstr(err, "plain http"));
    p.allow_http = true;
    assert_int_equal(try_add(&p, err, sizeof err), AUTHC_OK);
    p = (authc_oauth_provider){.id = "bad id", .type = AUTHC_OAUTH_OIDC, .issuer = "https://i",
                               .client_id = "i", .client_secret = "s"};
    assert_int_equal(try_add(&p, err, sizeof err), AUTHC_ERR_INVALID);
    /* Every preset resolves with an issuer given. */
    for (const char *const *id = authc_oauth_presets(); *id; id++) {
        assert_non_null(authc__preset_find(*id));
        authc_config *cfg = authc_config_new();
        authc_err e = authc_config_add_preset(cfg, *id, "id", "secret", "https://issuer.example.com/x", err, sizeof err);
        authc_config_free(cfg);
        if (e)
            fail_msg("preset %s: %s", *id, err);
    }
}

/* The signing keys, made once for the whole group. */
static int keys_new(void **state)
{
    (void)state;
    g_key = tk_new("RS256", "idp-key-1");
    return 0;
}

static int keys_free(void **state)
{
    (void)state;
    EVP_PKEY_free(g_key.pk);
    return 0;
}

/* Each test with a fresh fixture. */
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
TU_MAIN(keys_new, keys_free,
        T(github_authorization_url), T(enterprise_and_gitlab_urls),
        T(generic_oauth_default_scope_and_params), T(basic_auth_encoding), T(oidc_full_flow),
        T(oidc_client_secret_post), T(callback_failures), T(token_timeout_is_configuration),
        T(github_profile_and_private_email), T(twitch_params), T(apple_form_post),
        T(redirect_proxy), cmocka_unit_test(config_problems))

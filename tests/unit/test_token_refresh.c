/* test_token_refresh.c — access-token rotation through the library: JWT
 * claims refreshed on GET /session, dead / transient / other-sub answers of a
 * fake token endpoint, GET /token and authc_access_token_get(). */
#include "cmocka_main.h"

#include "core/core_int.h"
#include "authc/oauth.h"
#include "oauth_testutil.h"
#include "response_assert.h"

#define SECRET "test-secret-0123456789abcdef0123456789"
#define ORIGIN "http://app.test:3000"

typedef struct idp {
    msrv *srv;
    int status;             /* of the token endpoint; 0 = 200 */
    const char *error;      /* error member to answer, or NULL */
    const char *id_sub;     /* sub of an id_token to include, or NULL */
    int grants;
    char last_body[1024];
} idp;

static void handler(void *ud, const mreq *rq, mres *rs)
{
    idp *d = ud;
    rs->status = 404;
    if (strcmp(rq->target, "/token"))
        return;
    d->grants++;
    snprintf(d->last_body, sizeof d->last_body, "%.*s", (int)rq->body_len, rq->body);
    rs->status = d->status ? d->status : 200;
    rs->content_type = "application/json";
    if (d->error) {
        snprintf(rs->body, sizeof rs->body, "{\"error\":\"%s\"}", d->error);
        return;
    }
    char idt[512] = "";
    if (d->id_sub) {
        char pl[128];
        int n = snprintf(pl, sizeof pl, "{\"sub\":\"%s\"}", d->id_sub);
        char b64[256];
        authc__b64url_encode_to(b64, (const uint8_t *)pl, (size_t)n);
        snprintf(idt, sizeof idt, ",\"id_token\":\"eyJhbGciOiJSUzI1NiJ9.%s.c2ln\"", b64);
    }
    snprintf(rs->body, sizeof rs->body,
             "{\"access_token\":\"at-%d\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
             "\"refresh_token\":\"rt-%d\"%s}", d->grants, d->grants, idt);
}

typedef struct fx {
    idp d;
    authc *a;
    authc_arena *ar;
} fx;

static void quiet(void *ud, const char *level, const char *msg)
{
    (void)ud, (void)level, (void)msg;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->d.srv = msrv_start(handler, &f->d);
    assert_non_null(f->d.srv);
    f->ar = authc_arena_new();
    authc_config *cfg = authc_config_new();
    char err[512], tok[128];
    snprintf(tok, sizeof tok, "%s/token", f->d.srv->origin);
    assert_int_equal(authc_config_set(cfg, "secret", SECRET, err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "trust_host", "1", err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "refresh_tokens", "1", err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "token_endpoint", "1", err, sizeof err), AUTHC_OK);
    authc_config_set_logger(cfg, quiet, NULL);
    authc_oauth_provider p = {.id = "p", .name = "P", .type = AUTHC_OAUTH_OAUTH2,
                              .authorization_url = tok, .token_url = tok, .userinfo_url = tok,
                              .client_id = "cid", .client_secret = "cs", .timeout_ms = 2000};
    assert_int_equal(authc_config_add_oauth(cfg, &p, err, sizeof err), AUTHC_OK);
    f->a = authc_new(cfg, err, sizeof err);
    if (!f->a)
        fail_msg("authc_new: %s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    authc_free(f->a);
    msrv_stop(f->d.srv);
    authc_arena_free(f->ar);
    free(f);
    return 0;
}

/* A session cookie whose access token expired 5 s ago. */
static const char *cookie(fx *f, const char *rt)
{
    int64_t now = authc__now_ms() / 1000;
    json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "name", "Ann", "sub", "u1", "access_token", "at-0",
                          "expires_at", (json_int_t)(now - 5), "refresh_token", rt, "provider", "p",
                          "providerAccountId", "idp-sub");
    char *tok = NULL;
    assert_int_equal(authc__jwt_encode(f->ar, &f->a->session_keys[0][0], c, 3600, now, &tok), AUTHC_OK);
    json_decref(c);
    return tok;
}

static authc_response *get(fx *f, const char *path, const char *tok)
{
    char url[256];
    snprintf(url, sizeof url, ORIGIN "/auth%s", path);
    const char *ck = authc_arena_printf(f->ar, "authjs.session-token=%s", tok);
    authc_header h[] = {{"Cookie", ck}};
    authc_request rq = {.method = "GET", .url = url, .headers = h, .nheaders = 1};
    authc_response *r = NULL;
    assert_int_equal(authc_handle(f->a, &rq, &r), AUTHC_OK);
    return r;
}

/* The claims of the session cookie a response sets (new reference), or NULL. */
static json_t *new_claims(fx *f, const authc_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *v = r->headers[i].value;
        if (strcasecmp(r->headers[i].name, "Set-Cookie") || strncmp(v, "authjs.session-token=", 21))
            continue;
        char *tok = authc_arena_strndup(f->ar, v + 21, strcspn(v + 21, ";"));
        json_t *c = NULL;
        if (authc__jwt_decode(f->ar, f->a->session_keys[0], 1, tok, strlen(tok), authc__now_ms() / 1000, &c))
            return NULL;
        return c;
    }
    return NULL;
}

static bool body_has(const authc_response *r, const char *s)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%.*s", (int)r->body_len, r->body);
    return strstr(buf, s) != NULL;
}

static void session_refreshes_once(void **state)
{
    fx *f = *state;
    const char *old = cookie(f, "rt-0");
    authc_response *r = get(f, "/session", old);
    assert_int_equal(r->status, 200);
    assert_false(body_has(r, "error"));
    assert_int_equal(f->d.grants, 1);
    assert_non_null(strstr(f->d.last_body, "grant_type=refresh_token"));
    assert_non_null(strstr(f->d.last_body, "refresh_token=rt-0"));
    json_t *c = new_claims(f, r);
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "access_token")), "at-1");
    assert_string_equal(json_string_value(json_object_get(c, "refresh_token")), "rt-1");
    assert_true(json_integer_value(json_object_get(c, "expires_at")) > authc__now_ms() / 1000 + 3000);
    json_decref(c);
    authc_response_free(r);
    /* The old cookie again: the successor, without a grant. */
    r = get(f, "/session", old);
    c = new_claims(f, r);
    assert_string_equal(json_string_value(json_object_get(c, "access_token")), "at-1");
    assert_int_equal(f->d.grants, 1);
    json_decref(c);
    authc_response_free(r);
}

static void dead_transient_and_other_sub(void **state)
{
    fx *f = *state;
    f->d.status = 503; /* transient: no error, old tokens kept, retried later */
    f->d.error = "temporarily_unavailable";
    authc_response *r = get(f, "/session", cookie(f, "rt-t"));
    assert_false(body_has(r, "RefreshTokenError"));
    json_t *c = new_claims(f, r);
    assert_string_equal(json_string_value(json_object_get(c, "access_token")), "at-0");
    json_decref(c);
    authc_response_free(r);
    f->d.status = 400;
    f->d.error = "invalid_grant";
    r = get(f, "/session", cookie(f, "rt-t")); /* the transient one may be tried again */
    assert_int_equal(f->d.grants, 2);
    assert_true(body_has(r, "\"error\":\"RefreshTokenError\""));
    c = new_claims(f, r);
    assert_null(json_object_get(c, "refresh_token"));
    json_decref(c);
    authc_response_free(r);
    f->d.status = 0;
    f->d.error = NULL;
    f->d.id_sub = "someone-else";
    r = get(f, "/session", cookie(f, "rt-s"));
    assert_true(body_has(r, "RefreshTokenError"));
    authc_response_free(r);
    f->d.id_sub = "idp-sub"; /* the same sub is fine */
    r = get(f, "/session", cookie(f, "rt-ok"));
    assert_false(body_has(r, "RefreshTokenError"));
    authc_response_free(r);
}

static void token_route_and_c_call(void **state)
{
    fx *f = *state;
    authc_response *r = get(f, "/token?provider=p", cookie(f, "rt-a"));
    assert_int_equal(r->status, 200);
    assert_string_equal(authc_response_header(r, "Cache-Control"), "no-store");
    assert_true(body_has(r, "\"access_token\":\"at-1\""));
    authc_response_free(r);
    tu_expect_status(get(f, "/token?provider=zz", cookie(f, "rt-a")), 404);
    tu_expect_status(get(f, "/token?provider=p", "garbage"), 401);

    const char *ck = authc_arena_printf(f->ar, "authjs.session-token=%s", cookie(f, "rt-b"));
    authc_header h[] = {{"Cookie", ck}};
    authc_request rq = {.method = "GET", .url = ORIGIN "/page", .headers = h, .nheaders = 1};
    authc_access_token *t = NULL;
    assert_int_equal(authc_access_token_get(f->a, &rq, "p", &t), AUTHC_OK);
    assert_int_equal(t->status, 200);
    assert_string_equal(t->access_token, "at-2");
    assert_null(t->error);
    assert_true(t->expires_at > 0);
    json_t *c = new_claims(f, t->response); /* the refreshed cookie to pass on */
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "access_token")), "at-2");
    json_decref(c);
    authc_access_token_free(t);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test_setup_teardown(session_refreshes_once, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_transient_and_other_sub, setup, teardown),
        cmocka_unit_test_setup_teardown(token_route_and_c_call, setup, teardown))

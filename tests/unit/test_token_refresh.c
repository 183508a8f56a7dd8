/* test_token_refresh.c — access-token rotation through the library (JWT claims, accounts rows):
 * dead / transient / other-sub grants, GET /session, GET /token, authc_access_token_get(). */
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
    authc_adapter *ad;      /* database sessions: memory adapter, else NULL */
} fx;

static void quiet(void *ud, const char *level, const char *msg)
{
    (void)ud, (void)level, (void)msg;
}

/* db: database sessions over a memory adapter; drop: without its
 * account-token methods (as an app's adapter may be). */
static int setup_with(void **state, bool db, bool drop)
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
    if (db) {
        f->ad = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
        assert_non_null(f->ad);
        static authc_adapter_ops dropped;
        if (drop) {
            dropped = *f->ad->ops;
            dropped.get_account_by_user = NULL;
            dropped.update_account_tokens = NULL;
            f->ad->ops = &dropped;
        }
        authc_config_set_adapter(cfg, f->ad);
        assert_int_equal(authc_config_set(cfg, "session.strategy", "database", err, sizeof err), AUTHC_OK);
    }
    f->a = authc_new(cfg, err, sizeof err);
    if (!f->a)
        fail_msg("authc_new: %s", err);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, false, false);
}

static int setup_db(void **state)
{
    return setup_with(state, true, false);
}

static int setup_db_without(void **state)
{
    return setup_with(state, true, true);
}

static int teardown(void **state)
{
    fx *f = *state;
    authc_free(f->a);
    authc_adapter_close(f->ad);
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

/* The access token of p for the session st through the C call, which
 * must answer 200 with want; owned by the caller (authc_access_token_free). */
static authc_access_token *token_get(fx *f, const char *st, const char *want)
{
    const char *ck = authc_arena_printf(f->ar, "authjs.session-token=%s", st);
    authc_header h[] = {{"Cookie", ck}};
    authc_request rq = {.method = "GET", .url = ORIGIN "/page", .headers = h, .nheaders = 1};
    authc_access_token *t = NULL;
    assert_int_equal(authc_access_token_get(f->a, &rq, "p", &t), AUTHC_OK);
    assert_int_equal(t->status, 200);
    assert_string_equal(t->access_token, want);
    return t;
}

static void session_refreshes_once(void **state)
{
    fx *f = *state;
    const char *old = cookie(f, "rt-0");
    authc_response *r = get(f, "/session", old);
    assert_int_equal(r->status, 200);
    assert_false(tu_body_has(r, "error"));
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
    assert_false(tu_body_has(r, "RefreshTokenError"));
    json_t *c = new_claims(f, r);
    assert_string_equal(json_string_value(json_object_get(c, "access_token")), "at-0");
    json_decref(c);
    authc_response_free(r);
    f->d.status = 400;
    f->d.error = "invalid_grant";
    r = get(f, "/session", cookie(f, "rt-t")); /* the transient one may be tried again */
    assert_int_equal(f->d.grants, 2);
    assert_true(tu_body_has(r, "\"error\":\"RefreshTokenError\""));
    c = new_claims(f, r);
    assert_null(json_object_get(c, "refresh_token"));
    json_decref(c);
    authc_response_free(r);
    f->d.status = 0;
    f->d.error = NULL;
    f->d.id_sub = "someone-else";
    tu_expect_has(get(f, "/session", cookie(f, "rt-s")), 0, "RefreshTokenError", NULL);
    f->d.id_sub = "idp-sub"; /* the same sub is fine */
    tu_expect_has(get(f, "/session", cookie(f, "rt-ok")), 0, NULL, "RefreshTokenError");
}

static void token_route_and_c_call(void **state)
{
    fx *f = *state;
    authc_response *r = get(f, "/token?provider=p", cookie(f, "rt-a"));
    assert_int_equal(r->status, 200);
    assert_string_equal(authc_response_header(r, "Cache-Control"), "no-store");
    assert_true(tu_body_has(r, "\"access_token\":\"at-1\""));
    authc_response_free(r);
    tu_expect_status(get(f, "/token?provider=zz", cookie(f, "rt-a")), 404);
    tu_expect_status(get(f, "/token?provider=p", "garbage"), 401);

    authc_access_token *t = token_get(f, cookie(f, "rt-b"), "at-2");
    assert_null(t->error);
    assert_true(t->expires_at > 0);
    json_t *c = new_claims(f, t->response); /* the refreshed cookie to pass on */
    assert_non_null(c);
    assert_string_equal(json_string_value(json_object_get(c, "access_token")), "at-2");
    json_decref(c);
    authc_access_token_free(t);
}

/* ---- database sessions: the tokens live in the accounts row ---------- */

/* A user with an account at p (refresh token rt, access token expired 5 s
 * ago) and a database session; returns the session token. */
static const char *db_session(fx *f, const char *rt)
{
    authc_adapter *ad = f->ad;
    authc_user in = {.name = "Ann", .email_verified = AUTHC_NO_TIME}, *u = NULL;
    assert_int_equal(ad->ops->create_user(ad, f->ar, &in, &u), AUTHC_OK);
    authc_account acc = {.user_id = u->id, .type = "oauth", .provider = "p",
                         .provider_account_id = authc_arena_printf(f->ar, "pa-%s", rt),
                         .access_token = "at-0", .refresh_token = rt,
                         .expires_at = authc__now_ms() / 1000 - 5};
    assert_int_equal(ad->ops->link_account(ad, f->ar, &acc, NULL), AUTHC_OK);
    authc_session_row srow = {.session_token = authc_arena_printf(f->ar, "st-%s", rt),
                              .user_id = u->id, .expires = authc__now_ms() + 3600000};
    assert_int_equal(ad->ops->create_session(ad, f->ar, &srow, NULL), AUTHC_OK);
    return srow.session_token;
}

static authc_account *db_row(fx *f, const char *rt)
{
    authc_account *a = NULL;
    assert_int_equal(f->ad->ops->get_account(f->ad, f->ar, authc_arena_printf(f->ar, "pa-%s", rt), "p", &a),
                     AUTHC_OK);
    assert_non_null(a);
    return a;
}

static void db_session_refreshes_the_row(void **state)
{
    fx *f = *state;
    const char *st = db_session(f, "rt-0");
    tu_expect_has(get(f, "/session", st), 200, NULL, "error");
    assert_int_equal(f->d.grants, 1);
    assert_non_null(strstr(f->d.last_body, "refresh_token=rt-0"));
    authc_account *a = db_row(f, "rt-0");
    assert_string_equal(a->access_token, "at-1");
    assert_string_equal(a->refresh_token, "rt-1");
    assert_true(a->expires_at > authc__now_ms() / 1000 + 3000);
    /* Fresh now: /token and the C call answer it without a grant. */
    tu_expect_has(get(f, "/token?provider=p", st), 200, "\"access_token\":\"at-1\"", NULL);
    authc_access_token_free(token_get(f, st, "at-1"));
    assert_int_equal(f->d.grants, 1);
    tu_expect_status(get(f, "/token?provider=zz", st), 404);
    tu_expect_status(get(f, "/token?provider=p", "no-such-session"), 401);
}

static void db_dead_and_transient(void **state)
{
    fx *f = *state;
    const char *st = db_session(f, "rt-t");
    f->d.status = 503; /* transient: the row keeps its tokens, retried later */
    tu_expect_has(get(f, "/session", st), 0, NULL, "RefreshTokenError");
    assert_string_equal(db_row(f, "rt-t")->refresh_token, "rt-t");
    f->d.status = 400;
    f->d.error = "invalid_grant";
    authc_response *r = get(f, "/session", st);
    assert_true(tu_body_has(r, "\"error\":\"RefreshTokenError\""));
    tu_expect_has(r, 0, "\"user\"", NULL);
    int grants = f->d.grants;
    assert_int_equal(grants, 2);
    tu_expect_has(get(f, "/token?provider=p", st), 401, "RefreshTokenError", NULL);
    assert_int_equal(f->d.grants, grants); /* never presented again */
}

static void db_adapter_without_token_methods(void **state)
{
    fx *f = *state;
    const char *st = db_session(f, "rt-n");
    tu_expect_has(get(f, "/token?provider=p", st), 404, "AccountNotLinked", NULL);
    tu_expect_has(get(f, "/session", st), 200, "\"name\":\"Ann\"", NULL);
    assert_int_equal(f->d.grants, 0);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test_setup_teardown(session_refreshes_once, setup, teardown),
        cmocka_unit_test_setup_teardown(dead_transient_and_other_sub, setup, teardown),
        cmocka_unit_test_setup_teardown(token_route_and_c_call, setup, teardown),
        cmocka_unit_test_setup_teardown(db_session_refreshes_the_row, setup_db, teardown),
        cmocka_unit_test_setup_teardown(db_dead_and_transient, setup_db, teardown),
        cmocka_unit_test_setup_teardown(db_adapter_without_token_methods, setup_db_without, teardown))

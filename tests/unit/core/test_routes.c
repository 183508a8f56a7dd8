/* test_routes.c — the route table as the server sees it: which worker pool
 * each route needs (authc_route_pool), exact matches only, provider-owned routes. */
#include "cmocka_main.h"

#include "authc/adapter.h"
#include "authc/email.h"
#include "authc/oauth.h"
#include "authc/webauthn.h"
#include "testutil.h"
#include "response_assert.h"

#define SECRET "unit-test-secret-0123456789abcdefghijkl"

typedef struct fx {
    authc *a;
    authc_adapter *ad;
} fx;

static authc_err send_nothing(void *ud, const authc_email_message *m)
{
    (void)ud;
    (void)m;
    return AUTHC_OK;
}

/* One provider of each type; database sessions when db is true; the
 * settings key=1 when on is not NULL. */
static fx build_with(bool db, const char *on)
{
    fx f = {0};
    char err[1024];
    f.ad = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
    assert_non_null(f.ad);
    authc_config *cfg = authc_config_new();
    assert_int_equal(authc_config_set(cfg, "secret", SECRET, err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "trust_host", "1", err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "allowed_hosts", "h.test", err, sizeof err), AUTHC_OK);
    assert_int_equal(authc_config_set(cfg, "session.strategy", db ? "database" : "jwt", err, sizeof err), AUTHC_OK);
    authc_config_set_adapter(cfg, f.ad);
    if (on)
        assert_int_equal(authc_config_set(cfg, on, "1", err, sizeof err), AUTHC_OK);
    static const authc_credentials_field fields[] = {{"username", NULL, NULL}};
    authc_credentials_provider cp = {.fields = fields, .nfields = 1, .authorize = tu_authorize};
    assert_int_equal(authc_config_add_credentials(cfg, &cp), AUTHC_OK);
    authc_oauth_provider op = {.id = "idp", .client_id = "c", .client_secret = "s",
                               .authorization_url = "https://idp.example/a", .token_url = "https://idp.example/t",
                               .userinfo_url = "https://idp.example/u"};
    assert_int_equal(authc_config_add_oauth(cfg, &op, err, sizeof err), AUTHC_OK);
    authc_email_provider ep = {.send = send_nothing, .from = "a@b.example"};
    assert_int_equal(authc_config_add_email(cfg, &ep), AUTHC_OK);
    authc_passkey_provider pk = {.enable_webauthn = true};
    assert_int_equal(authc_config_add_passkey(cfg, &pk), AUTHC_OK);
    f.a = authc_new(cfg, err, sizeof err);
    if (!f.a)
        fprintf(stderr, "authc_new: %s\n", err);
    assert_non_null(f.a);
    return f;
}

static fx build(bool db)
{
    return build_with(db, NULL);
}

static void drop(fx *f)
{
    authc_free(f->a);
    authc_adapter_close(f->ad);
}

/* A request line and the pool it must be given. */
typedef struct route_case {
    const char *method, *path;
    authc_pool want;
} route_case;

/* Checks each case's pool, and that only the inline pool does not block. */
static void check_pools(const authc *a, const route_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        authc_pool got = authc_route_pool(a, cases[i].method, cases[i].path);
        if (got != cases[i].want)
            fprintf(stderr, "%s %s: pool %d, want %d\n", cases[i].method, cases[i].path, got, cases[i].want);
        assert_int_equal(got, cases[i].want);
        assert_int_equal(authc_may_block(a, cases[i].method, cases[i].path), cases[i].want != AUTHC_POOL_INLINE);
    }
}

static void pools_follow_the_table(void **st)
{
    (void)st;
    fx f = build(false);
    const route_case cases[] = {
        {"GET", "/auth/session", AUTHC_POOL_INLINE},
        {"GET", "/auth/csrf", AUTHC_POOL_INLINE},
        {"GET", "/auth/providers", AUTHC_POOL_INLINE},
        {"GET", "/auth/signin", AUTHC_POOL_INLINE},
        {"POST", "/auth/signout", AUTHC_POOL_INLINE},
        /* Each type's steps say what they wait for. */
        {"POST", "/auth/signin/idp", AUTHC_POOL_NET},
        {"POST", "/auth/signin/email", AUTHC_POOL_NET},
        {"POST", "/auth/signin/credentials", AUTHC_POOL_INLINE}, /* no sign-in step: back to the page */
        {"GET", "/auth/signin/idp", AUTHC_POOL_INLINE},
        {"GET", "/auth/callback/idp?code=x", AUTHC_POOL_NET},
        {"GET", "/auth/callback/email?token=x", AUTHC_POOL_NET},
        {"POST", "/auth/callback/credentials", AUTHC_POOL_CPU},
        {"POST", "/auth/callback/passkey", AUTHC_POOL_NET},
        /* A route the passkey type declares, for its providers only. */
        {"GET", "/auth/webauthn-options/passkey", AUTHC_POOL_NET},
        {"GET", "/auth/webauthn-options/idp", AUTHC_POOL_INLINE},
        {"GET", "/auth/webauthn-options", AUTHC_POOL_INLINE},
        /* Exact matches only. */
        {"GET", "/auth/callbackfoo/idp", AUTHC_POOL_INLINE},
        {"POST", "/auth/signinx/idp", AUTHC_POOL_INLINE},
        {"GET", "/auth/callback/nobody", AUTHC_POOL_INLINE},
        {"GET", "/authx/callback/idp", AUTHC_POOL_INLINE},
        {"GET", "/other/callback/idp", AUTHC_POOL_INLINE},
        {"GET", "/auth/token?provider=idp", AUTHC_POOL_NET},
        {"GET", "/auth/signout/callback/idp?state=x", AUTHC_POOL_INLINE},
    };
    check_pools(f.a, cases, sizeof cases / sizeof *cases);
    drop(&f);
}

static void database_sessions_need_the_db_pool(void **st)
{
    (void)st;
    fx f = build(true);
    const route_case cases[] = {
        {"GET", "/auth/session", AUTHC_POOL_DB},
        {"POST", "/auth/session", AUTHC_POOL_DB},
        {"POST", "/auth/signout", AUTHC_POOL_DB},
        {"GET", "/auth/csrf", AUTHC_POOL_INLINE},
        {"GET", "/auth/sessionx", AUTHC_POOL_INLINE},
    };
    check_pools(f.a, cases, sizeof cases / sizeof *cases);
    drop(&f);
}

/* A refresh grant or an end_session discovery may run: off the loop. */
static void token_work_uses_the_net_pool(void **st)
{
    (void)st;
    const char *keys[] = {"refresh_tokens", "federated_signout"};
    const route_case cases[] = {
        {"GET", "/auth/session", AUTHC_POOL_NET},
        {"POST", "/auth/signout", AUTHC_POOL_NET},
        {"GET", "/auth/token", AUTHC_POOL_NET},
        {"GET", "/auth/csrf", AUTHC_POOL_INLINE},
        {"GET", "/auth/providers", AUTHC_POOL_INLINE},
    };
    for (int i = 0; i < 2; i++) {
        fx f = build_with(false, keys[i]);
        check_pools(f.a, cases, sizeof cases / sizeof *cases);
        drop(&f);
    }
}

/* A provider route answers for the type that owns it and for no other. */
static void provider_routes_are_owned(void **st)
{
    (void)st;
    fx f = build(false);
    authc_response *r = tu_req(f.a, "GET", "http://h.test/auth/webauthn-options/passkey", NULL, NULL);
    assert_int_equal(r->status, 200);
    authc_response_free(r);
    r = tu_req(f.a, "GET", "http://h.test/auth/webauthn-options/idp", NULL, NULL);
    assert_int_equal(r->status, 302);
    assert_string_equal(authc_response_header(r, "Location"), "http://h.test/auth/error?error=Configuration");
    authc_response_free(r);
    tu_expect_status(tu_req(f.a, "POST", "http://h.test/auth/webauthn-options/passkey", NULL, NULL), 302);
    /* Without a passkey provider the route does not exist at all. */
    authc *plain = tu_instance("secret=" SECRET, "trust_host=1", NULL);
    tu_expect_status(tu_req(plain, "GET", "http://h.test/auth/webauthn-options/credentials", NULL, NULL), 400);
    authc_free(plain);
    drop(&f);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(pools_follow_the_table),
        cmocka_unit_test(database_sessions_need_the_db_pool),
        cmocka_unit_test(token_work_uses_the_net_pool),
        cmocka_unit_test(provider_routes_are_owned))

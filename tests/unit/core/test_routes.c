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

/* The instances the cases run against: JWT sessions, database sessions,
 * and JWT sessions with each setting that makes token work (a refresh
 * grant, an end_session discovery) run on a request. */
enum { JWT = 1, DB = 2, REFRESH = 4, FEDERATED = 8, TOKEN_WORK = REFRESH | FEDERATED };
static const struct {
    int id;
    bool db;
    const char *on;
} CONFIGS[] = {{JWT, false, NULL}, {DB, true, NULL}, {REFRESH, false, "refresh_tokens"},
               {FEDERATED, false, "federated_signout"}};

/* A request line, the instances it is asked of, and the pool it must be
 * given there. */
typedef struct route_case {
    int on;
    const char *method, *path;
    authc_pool want;
} route_case;

static const route_case CASES[] = {
    {JWT, "GET", "/auth/session", AUTHC_POOL_INLINE},
    {JWT, "GET", "/auth/csrf", AUTHC_POOL_INLINE},
    {JWT, "GET", "/auth/providers", AUTHC_POOL_INLINE},
    {JWT, "GET", "/auth/signin", AUTHC_POOL_INLINE},
    {JWT, "POST", "/auth/signout", AUTHC_POOL_INLINE},
        /* Each type's steps say what they wait for. */
    {JWT, "POST", "/auth/signin/idp", AUTHC_POOL_NET},
    {JWT, "POST", "/auth/signin/email", AUTHC_POOL_NET},
    {JWT, "POST", "/auth/signin/credentials", AUTHC_POOL_INLINE}, /* no sign-in step: back to the page */
    {JWT, "GET", "/auth/signin/idp", AUTHC_POOL_INLINE},
    {JWT, "GET", "/auth/callback/idp?code=x", AUTHC_POOL_NET},
    {JWT, "GET", "/auth/callback/email?token=x", AUTHC_POOL_NET},
    {JWT, "POST", "/auth/callback/credentials", AUTHC_POOL_CPU},
    {JWT, "POST", "/auth/callback/passkey", AUTHC_POOL_NET},
        /* A route the passkey type declares, for its providers only. */
    {JWT, "GET", "/auth/webauthn-options/passkey", AUTHC_POOL_NET},
    {JWT, "GET", "/auth/webauthn-options/idp", AUTHC_POOL_INLINE},
    {JWT, "GET", "/auth/webauthn-options", AUTHC_POOL_INLINE},
        /* Exact matches only. */
    {JWT, "GET", "/auth/callbackfoo/idp", AUTHC_POOL_INLINE},
    {JWT, "POST", "/auth/signinx/idp", AUTHC_POOL_INLINE},
    {JWT, "GET", "/auth/callback/nobody", AUTHC_POOL_INLINE},
    {JWT, "GET", "/authx/callback/idp", AUTHC_POOL_INLINE},
    {JWT, "GET", "/other/callback/idp", AUTHC_POOL_INLINE},
    {JWT, "GET", "/auth/token?provider=idp", AUTHC_POOL_NET},
    {JWT, "GET", "/auth/signout/callback/idp?state=x", AUTHC_POOL_INLINE},
        /* Database sessions need the db pool. */
    {DB, "GET", "/auth/session", AUTHC_POOL_DB},
    {DB, "POST", "/auth/session", AUTHC_POOL_DB},
    {DB, "POST", "/auth/signout", AUTHC_POOL_DB},
    {DB, "GET", "/auth/csrf", AUTHC_POOL_INLINE},
    {DB, "GET", "/auth/sessionx", AUTHC_POOL_INLINE},
        /* A refresh grant or an end_session discovery may run: off the loop. */
    {TOKEN_WORK, "GET", "/auth/session", AUTHC_POOL_NET},
    {TOKEN_WORK, "POST", "/auth/signout", AUTHC_POOL_NET},
    {TOKEN_WORK, "GET", "/auth/token", AUTHC_POOL_NET},
    {TOKEN_WORK, "GET", "/auth/csrf", AUTHC_POOL_INLINE},
    {TOKEN_WORK, "GET", "/auth/providers", AUTHC_POOL_INLINE},
};

/* Builds each instance in mask, and checks the pool of each case asked
 * of it, and that only the inline pool does not block. */
static void check_pools(int mask)
{
    for (size_t c = 0; c < sizeof CONFIGS / sizeof *CONFIGS; c++) {
        if (!(CONFIGS[c].id & mask))
            continue;
        fx f = build_with(CONFIGS[c].db, CONFIGS[c].on);
        for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) {
            const route_case *k = &CASES[i];
            if (!(k->on & CONFIGS[c].id))
                continue;
            authc_pool got = authc_route_pool(f.a, k->method, k->path);
            if (got != k->want)
                fprintf(stderr, "%s %s (config %d): pool %d, want %d\n", k->method, k->path, CONFIGS[c].id, got,
                        k->want);
            assert_int_equal(got, k->want);
            assert_int_equal(authc_may_block(f.a, k->method, k->path), k->want != AUTHC_POOL_INLINE);
        }
        drop(&f);
    }
}

/* Every instance: each case's pool where it is asked. */
static void pools_follow_the_table(void **st)
{
    (void)st;
    check_pools(JWT | DB | TOKEN_WORK);
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
        cmocka_unit_test(provider_routes_are_owned))

/* test_webauthn_http.c — the passkey HTTP flow through authc_handle with
 * the memory adapter: registration, sign-in, options, refusals, settings. */
#include "cmocka_main.h"

#include <cbor.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <strings.h>

#include "authc.h"
#include "authc/adapter.h"
#include "authc/webauthn.h"
#include "core/core_int.h"
#include "providers/webauthn_int.h"
#include "util/util_int.h"
#include "testutil.h"

#include "arena_fixture.h" /* `ar`, fresh per test */
#include "providers/webauthn_helpers.h"


/* ======================================================================
 * The HTTP flow through authc_handle, with the memory adapter.
 * ==================================================================== */

typedef struct wt_res {
    int status;
    char location[2048];
    char cookies[8192];   /* "name=value; name=value" of non-deleted cookies */
    char session[512];    /* session cookie value, if set */
    bool cleared_challenge;
    char body[16384];
} wt_res;

static authc *wt_instance(authc_adapter *ad, const char *origin, bool enable)
{
    authc_config *cfg = authc_config_new();
    char err[2048];
    assert_int_equal(authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err), 0);
    assert_int_equal(authc_config_set(cfg, "trust_host", "true", err, sizeof err), 0);
    assert_int_equal(authc_config_set(cfg, "allowed_hosts", "localhost app.example www.app.example 127.0.0.1",
                                      err, sizeof err), 0);
    const char *origins[] = {origin};
    authc_passkey_provider p = {.enable_webauthn = enable, .origins = origin ? origins : NULL,
                                .norigins = origin ? 1 : 0};
    assert_int_equal(authc_config_add_passkey(cfg, &p), AUTHC_OK);
    if (ad)
        authc_config_set_adapter(cfg, ad);
    err[0] = '\0';
    authc *a = authc_new(cfg, err, sizeof err);
    if (!a)
        fail_msg("authc_new: %s", err);
    return a;
}

static authc_adapter *memory_adapter(void)
{
    char err[256];
    authc_adapter *ad = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
    assert_non_null(ad);
    if (ad->ops->migrate)
        assert_int_equal(ad->ops->migrate(ad), AUTHC_OK);
    return ad;
}

static void form_add(authc__buf *b, const char *k, const char *v)
{
    if (b->len)
        authc__buf_addc(b, '&');
    authc__buf_add_form_component(b, k);
    authc__buf_addc(b, '=');
    authc__buf_add_form_component(b, v);
}

static wt_res wt_send(const authc *a, const char *method, const char *url, const char *cookie, const char *body)
{
    authc_response *res = tu_send_form(a, method, url, cookie, body);
    assert_non_null(res);
    wt_res r;
    memset(&r, 0, sizeof r);
    r.status = res->status;
    const char *loc = authc_response_header(res, "Location");
    if (loc)
        snprintf(r.location, sizeof r.location, "%s", loc);
    for (size_t i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, "Set-Cookie"))
            continue;
        const char *v = res->headers[i].value;
        size_t nl = strcspn(v, ";");
        bool deleted = strstr(v, "Max-Age=0") != NULL;
        if (!strncmp(v, "authjs.challenge=", 17) && deleted)
            r.cleared_challenge = true;
        if (deleted)
            continue;
        if (!strncmp(v, "authjs.session-token=", 21))
            snprintf(r.session, sizeof r.session, "%.*s", (int)(nl - 21), v + 21);
        size_t cl = strlen(r.cookies);
        snprintf(r.cookies + cl, sizeof r.cookies - cl, "%s%.*s", cl ? "; " : "", (int)nl, v);
    }
    if (res->body)
        snprintf(r.body, sizeof r.body, "%.*s", (int)res->body_len, res->body);
    authc_response_free(res);
    return r;
}

/* The challenge cookie the options endpoint would have set for this
 * challenge (§3.4 check cookie around the encodedWebauthnChallenge JWE). */
static char *challenge_cookie_mode(const authc *a, bool secure, const char *challenge, json_t *register_data)
{
    json_t *claims = json_pack("{s:s}", "challenge", challenge);
    if (register_data)
        json_object_set_new(claims, "registerData", register_data);
    int64_t now = authc__now_ms() / 1000;
    char *inner = NULL, *outer = NULL;
    assert_int_equal(authc__jwt_encode(ar, &a->challenge_keys[0], claims, 900, now, &inner), AUTHC_OK);
    json_decref(claims);
    json_t *o = json_pack("{s:s,s:s}", "value", inner, "provider", "passkey");
    assert_int_equal(authc__jwt_encode(ar, &a->check_keys[secure][AUTHC__CK_CHALLENGE][0], o, 900, now, &outer),
                     AUTHC_OK);
    json_decref(o);
    return authc_arena_printf(ar, "%s=%s", a->cookie_names[secure][AUTHC__CK_CHALLENGE], outer);
}

static char *challenge_cookie(const authc *a, const char *challenge, json_t *register_data)
{
    return challenge_cookie_mode(a, false, challenge, register_data);
}

static wt_res wt_callback(const authc *a, const char *origin, const char *action, json_t *cred,
                          const char *cookies)
{
    char *data = json_dumps(cred, JSON_COMPACT);
    authc__buf b;
    authc__buf_init(&b, ar, 64 * 1024);
    form_add(&b, "action", action);
    form_add(&b, "data", data);
    free(data);
    assert_int_equal(b.err, AUTHC_OK);
    return wt_send(a, "POST", authc_arena_printf(ar, "%s/auth/callback/passkey", origin), cookies, b.p);
}

static const char *join_cookies(const char *x, const char *y)
{
    if (!x || !*x)
        return y;
    if (!y || !*y)
        return x;
    return authc_arena_printf(ar, "%s; %s", x, y);
}

/* A site for the HTTP tests: a recorded ceremony's fixture and origin, a
 * memory adapter and an instance serving passkeys there; site_close frees
 * them all. */
typedef struct site {
    json_t *fx;
    const char *origin;
    authc_adapter *ad;
    authc *a;
} site;

static void site_open(site *w, const char *fixture_name)
{
    w->fx = fixture(fixture_name);
    w->origin = fx_str(w->fx, "origin");
    w->ad = memory_adapter();
    w->a = wt_instance(w->ad, w->origin, true);
}

static void site_close(site *w)
{
    authc_free(w->a);
    authc_adapter_close(w->ad);
    json_decref(w->fx);
}

static bool is_verification_error(const wt_res *r)
{
    return r->status == 302 && strstr(r->location, "/auth/error?error=WebAuthnVerificationError") &&
           !r->session[0] && !r->cookies[0];
}

static void test_http_register_and_sign_in(void **st)
{
    (void)st;
    site w;
    site_open(&w, "eddsa-none");
    const char *email = "Passkey.User@Example.com"; /* kept as given (trap T12) */

    /* Registration of a new user. */
    json_t *reg = json_pack("{s:s}", "email", email);
    const char *ck = challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), reg);
    json_t *cred = reg_cred(w.fx);
    wt_res r = wt_callback(w.a, w.origin, "register", cred, ck);
    assert_int_equal(r.status, 302);
    assert_string_equal(r.location, w.origin);
    assert_true(r.session[0] != '\0');
    assert_true(r.cleared_challenge);
    json_decref(cred);

    authc_user *u = NULL;
    assert_int_equal(w.ad->ops->get_user_by_email(w.ad, ar, email, &u), AUTHC_OK);
    assert_non_null(u);
    authc_authenticator *list = NULL;
    size_t n = 0;
    assert_int_equal(w.ad->ops->list_authenticators_by_user_id(w.ad, ar, u->id, &list, &n), AUTHC_OK);
    assert_int_equal(n, 1);
    /* Stored as Auth.js stores it: standard base64 with padding. */
    size_t idl;
    uint8_t *id = authc__b64url_decode(ar, fx_str(w.fx, "registration.credential.rawId"),
                                       strlen(fx_str(w.fx, "registration.credential.rawId")), &idl);
    assert_string_equal(list[0].credential_id, authc__b64_encode(ar, id, idl));
    assert_string_equal(list[0].provider_account_id, list[0].credential_id);
    assert_string_equal(list[0].credential_device_type, "singleDevice");
    assert_false(list[0].credential_backed_up);
    assert_string_equal(list[0].transports, "internal");
    assert_true(strlen(list[0].credential_public_key) % 4 == 0);
    authc_account *acct = NULL;
    assert_int_equal(w.ad->ops->get_account(w.ad, ar, list[0].credential_id, "passkey", &acct), AUTHC_OK);
    assert_non_null(acct);
    assert_string_equal(acct->type, "webauthn");
    assert_string_equal(acct->user_id, u->id);

    /* Sign-ins: every one moves the stored counter. */
    int64_t last = list[0].counter;
    for (int i = 0; i < 3; i++) {
        const char *ack = challenge_cookie(w.a, auth_challenge(w.fx, i), NULL);
        json_t *ac = auth_cred(w.fx, i);
        wt_res s = wt_callback(w.a, w.origin, "authenticate", ac, ack);
        json_decref(ac);
        assert_int_equal(s.status, 302);
        assert_true(s.session[0] != '\0');
        authc_authenticator *row = NULL;
        assert_int_equal(w.ad->ops->get_authenticator(w.ad, ar, list[0].credential_id, &row), AUTHC_OK);
        assert_true(row->counter > last);
        last = row->counter;
        /* /session shows the user. */
        wt_res sess = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/session", w.origin),
                              authc_arena_printf(ar, "authjs.session-token=%s", s.session), NULL);
        assert_int_equal(sess.status, 200);
        assert_non_null(strstr(sess.body, email));
    }

    /* Replayed ceremony (same cookie and response again): refused. */
    const char *ack = challenge_cookie(w.a, auth_challenge(w.fx, 2), NULL);
    json_t *ac = auth_cred(w.fx, 2);
    r = wt_callback(w.a, w.origin, "authenticate", ac, ack);
    assert_true(is_verification_error(&r));
    json_decref(ac);

    /* A fresh instance has no replay memory, but the counter still stops
     * an older response (a cloned authenticator). */
    authc *a2 = wt_instance(w.ad, w.origin, true);
    ack = challenge_cookie(a2, auth_challenge(w.fx, 1), NULL);
    ac = auth_cred(w.fx, 1);
    r = wt_callback(a2, w.origin, "authenticate", ac, ack);
    assert_true(is_verification_error(&r));
    json_decref(ac);
    authc_free(a2);

    /* The same credential cannot be registered twice. */
    ck =
        challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), json_pack("{s:s}", "email", "other@example.com"));
    authc *a3 = wt_instance(w.ad, w.origin, true);
    cred = reg_cred(w.fx);
    r = wt_callback(a3, w.origin, "register", cred, ck);
    assert_true(is_verification_error(&r));
    json_decref(cred);
    authc_free(a3);

    site_close(&w);
}

static void test_http_second_device_and_options(void **st)
{
    (void)st;
    site w;
    site_open(&w, "eddsa-none");
    json_t *f2 = fixture("es256-none");
    assert_string_equal(w.origin, fx_str(f2, "origin"));
    const char *email = "two@example.com";
    json_t *cred = reg_cred(w.fx);
    wt_res r =
        wt_callback(w.a, w.origin, "register", cred,
                    challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), json_pack("{s:s}", "email", email)));
    json_decref(cred);
    assert_int_equal(r.status, 302);
    const char *session = authc_arena_printf(ar, "authjs.session-token=%s", r.session);
    authc_user *u = NULL;
    assert_int_equal(w.ad->ops->get_user_by_email(w.ad, ar, email, &u), AUTHC_OK);

    /* Options while signed in: explicit register is allowed, with the
     * first passkey excluded; no action is refused (Auth.js). */
    wt_res o = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?action=register", w.origin),
                       session, NULL);
    assert_int_equal(o.status, 200);
    json_t *j = json_loads(o.body, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "action")), "register");
    json_t *opt = json_object_get(j, "options");
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "rp"), "id")), "localhost");
    assert_int_equal(json_integer_value(json_object_get(opt, "timeout")), 300000);
    assert_int_equal(strlen(json_string_value(json_object_get(json_object_get(opt, "user"), "id"))), 64);
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "user"), "name")), email);
    json_t *ex = json_object_get(opt, "excludeCredentials");
    assert_int_equal(json_array_size(ex), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ex, 0), "id")),
                        fx_str(w.fx, "registration.credential.rawId"));
    assert_true(strstr(o.cookies, "authjs.challenge=") != NULL);
    json_decref(j);
    o = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/webauthn-options/passkey", w.origin), session, NULL);
    assert_int_equal(o.status, 400);
    assert_string_equal(o.body, "{\"error\":\"Invalid request\"}");

    /* Second device, added by the signed-in user. */
    json_t *regdata = json_pack("{s:s,s:s}", "id", u->id, "email", email);
    cred = reg_cred(f2);
    r = wt_callback(w.a, w.origin, "register", cred,
                    join_cookies(session, challenge_cookie(w.a, fx_str(f2, "registration.challenge"), regdata)));
    json_decref(cred);
    assert_int_equal(r.status, 302);
    authc_authenticator *list = NULL;
    size_t n = 0;
    assert_int_equal(w.ad->ops->list_authenticators_by_user_id(w.ad, ar, u->id, &list, &n), AUTHC_OK);
    assert_int_equal(n, 2);

    /* Not signed in, by email: authenticate with both allowed. */
    o = wt_send(w.a, "GET",
                authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?email=two%%40example.com", w.origin), NULL,
                NULL);
    assert_int_equal(o.status, 200);
    j = json_loads(o.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "action")), "authenticate");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "options"), "allowCredentials")), 2);
    json_decref(j);
    /* Register with an existing email while signed out: refused. */
    o = wt_send(
        w.a, "GET",
        authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?action=register&email=two%%40example.com", w.origin),
        NULL, NULL);
    assert_int_equal(o.status, 400);
    /* A new email with no action: register. */
    o = wt_send(w.a, "GET",
                authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?email=new%%40example.com", w.origin), NULL,
                NULL);
    j = json_loads(o.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "action")), "register");
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "options"), "excludeCredentials")), 0);
    json_decref(j);
    /* Nothing given: discoverable sign-in, no allowCredentials at all. */
    o = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/webauthn-options/passkey", w.origin), NULL, NULL);
    j = json_loads(o.body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "action")), "authenticate");
    assert_null(json_object_get(json_object_get(j, "options"), "allowCredentials"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "options"), "userVerification")),
                        "required");
    json_decref(j);
    o = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/webauthn-options/passkey?action=nope", w.origin), NULL,
                NULL);
    assert_int_equal(o.status, 400);
    assert_string_equal(o.body, "{\"error\":\"Invalid action\"}");

    /* Both devices sign in to the same user. */
    for (int k = 0; k < 2; k++) {
        json_t *fx = k ? f2 : w.fx;
        json_t *ac = auth_cred(fx, 0);
        wt_res s = wt_callback(w.a, w.origin, "authenticate", ac, challenge_cookie(w.a, auth_challenge(fx, 0), NULL));
        json_decref(ac);
        assert_int_equal(s.status, 302);
        wt_res sess = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/session", w.origin),
                              authc_arena_printf(ar, "authjs.session-token=%s", s.session), NULL);
        assert_non_null(strstr(sess.body, email));
    }

    /* Registering a new account with the email of an existing user, not
     * signed in: AccountNotLinked (Auth.js). */
    json_t *f3 = fixture("rs256-none");
    cred = reg_cred(f3);
    r = wt_callback(w.a, w.origin, "register", cred,
                    challenge_cookie(w.a, fx_str(f3, "registration.challenge"), json_pack("{s:s}", "email", email)));
    json_decref(cred);
    assert_int_equal(r.status, 302);
    assert_non_null(strstr(r.location, "/auth/signin?error=AccountNotLinked"));
    json_decref(f3);

    site_close(&w);
    json_decref(f2);
}

static void test_http_bad_ceremonies(void **st)
{
    (void)st;
    site w;
    site_open(&w, "es256-none");
    wt_res r;

    /* Unknown credential. */
    json_t *ac = auth_cred(w.fx, 0);
    r = wt_callback(w.a, w.origin, "authenticate", ac, challenge_cookie(w.a, auth_challenge(w.fx, 0), NULL));
    assert_true(is_verification_error(&r));
    json_decref(ac);

    json_t *cred = reg_cred(w.fx);
    /* No challenge cookie. */
    r = wt_callback(w.a, w.origin, "register", cred, NULL);
    assert_true(is_verification_error(&r));
    /* A sign-in challenge used for a registration. */
    r = wt_callback(w.a, w.origin, "register", cred,
                    challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), NULL));
    assert_true(is_verification_error(&r));
    /* Another challenge. */
    r = wt_callback(w.a, w.origin, "register", cred,
                    challenge_cookie(w.a, auth_challenge(w.fx, 0), json_pack("{s:s}", "email", "x@example.com")));
    assert_true(is_verification_error(&r));
    /* Garbage data field. */
    wt_res g = wt_send(w.a, "POST", authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin), NULL,
                       "action=authenticate&data=%7Bnot-json");
    assert_true(is_verification_error(&g));
    g = wt_send(w.a, "POST", authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin), NULL, "action=authenticate");
    assert_true(is_verification_error(&g));
    /* Bad action: Configuration, as Auth.js. */
    g = wt_send(w.a, "POST", authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin), NULL,
                "action=hack&data=%7B%7D");
    assert_int_equal(g.status, 302);
    assert_non_null(strstr(g.location, "error=Configuration"));
    /* GET callback: Configuration. */
    g = wt_send(w.a, "GET", authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin), NULL, NULL);
    assert_non_null(strstr(g.location, "error=Configuration"));

    /* Served on another origin (rpId 127.0.0.1): origin and rpIdHash differ. */
    authc *other = wt_instance(w.ad, NULL, true);
    const char *ip_origin = "http://127.0.0.1:4999";
    r = wt_callback(
        other, ip_origin, "register", cred,
        challenge_cookie(other, fx_str(w.fx, "registration.challenge"), json_pack("{s:s}", "email", "x@example.com")));
    assert_true(is_verification_error(&r));
    authc_free(other);

    /* The real one still works afterwards (failures burn nothing). */
    r = wt_callback(
        w.a, w.origin, "register", cred,
        challenge_cookie(w.a, fx_str(w.fx, "registration.challenge"), json_pack("{s:s}", "email", "x@example.com")));
    assert_int_equal(r.status, 302);
    assert_true(r.session[0] != '\0');
    json_decref(cred);

    /* With X-Auth-Return-Redirect (next-auth/webauthn): {url} of the error. */
    ac = auth_cred(w.fx, 0);
    size_t n;
    uint8_t *sig = resp_bytes(ac, "signature", &n);
    sig[8] ^= 0x40;
    resp_set(ac, "signature", sig, n);
    char *data = json_dumps(ac, JSON_COMPACT);
    authc__buf b;
    authc__buf_init(&b, ar, 64 * 1024);
    form_add(&b, "action", "authenticate");
    form_add(&b, "data", data);
    free(data);
    const char *ck = challenge_cookie(w.a, auth_challenge(w.fx, 0), NULL);
    authc_header h[] = {{"Cookie", ck}, {"Content-Type", "application/x-www-form-urlencoded"},
                        {"X-Auth-Return-Redirect", "1"}};
    authc_request req = {.method = "POST",
                         .url = authc_arena_printf(ar, "%s/auth/callback/passkey", w.origin),
                         .headers = h,
                         .nheaders = 3,
                         .body = b.p,
                         .body_len = b.len};
    authc_response *res = NULL;
    assert_int_equal(authc_handle(w.a, &req, &res), AUTHC_OK);
    assert_int_equal(res->status, 200);
    char *rb = authc_arena_strndup(ar, res->body, res->body_len);
    assert_non_null(strstr(rb, "error=WebAuthnVerificationError"));
    assert_null(authc_response_header(res, "Set-Cookie"));
    authc_response_free(res);
    json_decref(ac);

    site_close(&w);
}

static void test_config_refusals(void **st)
{
    (void)st;
    authc_config *cfg;
    char err[2048];
    authc_passkey_provider p = {.enable_webauthn = true};
    /* No adapter. */
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    assert_int_equal(authc_config_add_passkey(cfg, &p), AUTHC_OK);
    err[0] = '\0';
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "MissingAdapter"));
    /* Not opted in. */
    authc_adapter *ad = memory_adapter();
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    authc_passkey_provider off = {0};
    authc_config_add_passkey(cfg, &off);
    authc_config_set_adapter(cfg, ad);
    err[0] = '\0';
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "ExperimentalFeatureNotEnabled"));
    /* An adapter without the authenticator methods. */
    authc_adapter thin;
    authc_adapter_ops thin_ops;
    authc_adapter_wrap(&thin, &thin_ops, ad);
    thin_ops.get_authenticator = NULL;
    thin_ops.update_authenticator_counter = NULL;
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    authc_config_add_passkey(cfg, &p);
    authc_config_set_adapter(cfg, &thin);
    err[0] = '\0';
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "MissingAdapterMethods"));
    assert_non_null(strstr(err, "getAuthenticator, updateAuthenticatorCounter"));
    /* Bad values. */
    const char *bad_origin[] = {"https://app.example/path"};
    authc_passkey_provider bad = {.enable_webauthn = true, .user_verification = "always", .origins = bad_origin,
                                  .norigins = 1};
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    authc_config_add_passkey(cfg, &bad);
    authc_config_set_adapter(cfg, ad);
    err[0] = '\0';
    assert_null(authc_new(cfg, err, sizeof err));
    assert_non_null(strstr(err, "user_verification"));
    /* rp_id and origins override the request's. */
    const char *origins[] = {"https://app.example", "https://www.app.example"};
    authc_passkey_provider good = {.enable_webauthn = true, .rp_id = "app.example", .rp_name = "App",
                                   .origins = origins, .norigins = 2, .user_verification = "preferred",
                                   .attestation = "direct", .timeout_ms = 60000};
    cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    authc_config_set(cfg, "trust_host", "true", err, sizeof err);
    authc_config_set(cfg, "allowed_hosts", "app.example,www.app.example", err, sizeof err);
    authc_config_add_passkey(cfg, &good);
    authc_config_set_adapter(cfg, ad);
    err[0] = '\0';
    authc *a = authc_new(cfg, err, sizeof err);
    if (!a)
        fail_msg("%s", err);
    wt_res o = wt_send(a, "GET", "https://www.app.example/auth/webauthn-options/passkey?email=z%40app.example", NULL,
                       NULL);
    json_t *j = json_loads(o.body, 0, NULL);
    json_t *opt = json_object_get(j, "options");
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "rp"), "id")), "app.example");
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "rp"), "name")), "App");
    assert_string_equal(json_string_value(json_object_get(opt, "attestation")), "direct");
    assert_int_equal(json_integer_value(json_object_get(opt, "timeout")), 60000);
    assert_string_equal(json_string_value(json_object_get(json_object_get(opt, "authenticatorSelection"),
                                                          "userVerification")),
                        "preferred");
    json_decref(j);
    /* The soft authenticator (rp app.example) registers through HTTP in
     * secure mode (https: __Secure- cookie names), UV not required. */
    soft s = soft_new(AUTHC__COSE_ES256, 0);
    s.origin = "https://www.app.example";
    json_t *cred = soft_register(&s, "soft-challenge", AUTHC__WA_UP, ATT_SELF, false);
    char *ck = challenge_cookie_mode(a, true, "soft-challenge", json_pack("{s:s}", "email", "z@app.example"));
    assert_non_null(strstr(ck, "__Secure-authjs.challenge="));
    wt_res r = wt_callback(a, "https://app.example", "register", cred, ck);
    assert_int_equal(r.status, 302);
    assert_string_equal(r.location, "https://app.example");
    /* An authenticator that keeps no counter (0/0): the replay memory is
     * what refuses the same ceremony twice. */
    s.counter = 0;
    json_t *as = soft_assert(&s, "soft-signin", AUTHC__WA_UP);
    ck = challenge_cookie_mode(a, true, "soft-signin", NULL);
    r = wt_callback(a, "https://app.example", "authenticate", as, ck);
    assert_int_equal(r.status, 302);
    assert_string_equal(r.location, "https://app.example");
    r = wt_callback(a, "https://app.example", "authenticate", as, ck);
    assert_int_equal(r.status, 302);
    assert_non_null(strstr(r.location, "error=WebAuthnVerificationError"));
    json_decref(as);
    json_decref(cred);
    EVP_PKEY_free(s.k);
    authc_free(a);
    authc_adapter_close(ad);
}

/* Each test with a fresh fixture. */
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
TU_MAIN(NULL, NULL,
        T(test_http_register_and_sign_in), T(test_http_second_device_and_options),
        T(test_http_bad_ceremonies), T(test_config_refusals))

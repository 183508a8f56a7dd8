/* test_dbsession.c — the database session strategy through authc_handle
 * on the memory adapter: read, extension per updateAge, expiry, sign-out,
 * adapter failure, and wrapping an adapter ("spread and override"). */
#include "cmocka_main.h"
#include <strings.h>

#include "authc/adapter.h"
#include "core/core_int.h"
#include "response_assert.h"
#include "testutil.h"

typedef struct fixture {
    authc_adapter *ad;   /* the backend */
    authc_adapter wrap;  /* a wrapper in front of it */
    authc_adapter_ops wrap_ops; /* its copied method table */
    authc *a;
    int get_calls;
    bool fail;
} fixture;

/* Wrapper overriding one method: counts calls, can simulate an outage,
 * otherwise delegates to the wrapped adapter. */
static authc_err wrapped_get(authc_adapter *self, authc_arena *ar, const char *tok,
                             authc_session_row **s, authc_user **u)
{
    fixture *f = self->user_data;
    f->get_calls++;
    if (f->fail)
        return AUTHC_ERR_ADAPTER;
    authc_adapter *base = (authc_adapter *)self->wrapped;
    return base->ops->get_session_and_user(base, ar, tok, s, u);
}

static int setup(void **st)
{
    fixture *f = calloc(1, sizeof *f);
    char err[256];
    f->ad = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
    assert_non_null(f->ad);
    authc_adapter_wrap(&f->wrap, &f->wrap_ops, f->ad);
    f->wrap.user_data = f;
    f->wrap_ops.get_session_and_user = wrapped_get;
    authc_config *cfg = authc_config_new();
    authc_config_set(cfg, "secret", "unit-test-secret-0123456789abcdefghijkl", err, sizeof err);
    authc_config_set(cfg, "trust_host", "1", err, sizeof err);
    authc_config_set(cfg, "session.update_age", "3600", err, sizeof err);
    authc_config_set_adapter(cfg, &f->wrap);
    f->a = authc_new(cfg, err, sizeof err);
    assert_non_null(f->a);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    fixture *f = *st;
    authc_free(f->a);
    authc_adapter_close(f->ad);
    free(f);
    return 0;
}

/* Stores a user and a session expiring at `expires` (ms); returns the
 * Cookie header for it (static buffer). */
static const char *seed(fixture *f, const char *token, int64_t expires)
{
    authc_arena *ar = authc_arena_new();
    char email[128];
    snprintf(email, sizeof email, "dee+%s@example.com", token);
    authc_user in = {.name = "Dee", .email = email, .email_verified = AUTHC_NO_TIME};
    authc_user *u = NULL;
    assert_int_equal(f->ad->ops->create_user(f->ad, ar, &in, &u), AUTHC_OK);
    authc_session_row s = {.session_token = token, .user_id = u->id, .expires = expires};
    assert_int_equal(f->ad->ops->create_session(f->ad, ar, &s, NULL), AUTHC_OK);
    authc_arena_free(ar);
    static char ck[256];
    snprintf(ck, sizeof ck, "Cookie: authjs.session-token=%s", token);
    return ck;
}

static int64_t stored_expires(fixture *f, const char *token)
{
    authc_arena *ar = authc_arena_new();
    authc_session_row *s = NULL;
    authc_user *u = NULL;
    f->ad->ops->get_session_and_user(f->ad, ar, token, &s, &u);
    int64_t e = s ? s->expires : -1;
    authc_arena_free(ar);
    return e;
}

static void test_read_and_extend(void **st)
{
    fixture *f = *st;
    int64_t now = authc__now_ms();
    /* Fresh session (expires in 30 d): no extension, body shows it. */
    int64_t fresh = now + 2592000LL * 1000;
    const char *ck = seed(f, "tok-fresh", fresh);
    authc_response *r = tu_req(f->a, "GET", "http://h.test/auth/session", NULL, ck, NULL);
    char *b = tu_body(r);
    char iso[32];
    authc__iso8601(iso, fresh);
    char want[256];
    snprintf(want, sizeof want, "{\"user\":{\"name\":\"Dee\",\"email\":\"dee+tok-fresh@example.com\",\"image\":null},\"expires\":\"%s\"}", iso);
    assert_string_equal(b, want);
    assert_int_equal(stored_expires(f, "tok-fresh"), fresh);
    /* The cookie is re-sent, never chunked, with Expires = now + maxAge. */
    const char *sc = tu_cookie_named(r, "authjs.session-token");
    assert_non_null(sc);
    assert_true(authc__starts_with(sc, "authjs.session-token=tok-fresh; Path=/; Expires="));
    free(b);
    authc_response_free(r);
    /* Older than updateAge: extended, but the body shows the old expiry. */
    int64_t old = now + 2592000LL * 1000 - 7200LL * 1000;
    ck = seed(f, "tok-old", old);
    r = tu_req(f->a, "GET", "http://h.test/auth/session", NULL, ck, NULL);
    b = tu_body(r);
    authc__iso8601(iso, old);
    assert_non_null(strstr(b, iso));
    assert_true(stored_expires(f, "tok-old") >= now + 2592000LL * 1000);
    free(b);
    authc_response_free(r);
}

static void test_expired_and_missing(void **st)
{
    fixture *f = *st;
    const char *ck = seed(f, "tok-expired", authc__now_ms() - 1000);
    authc_response *r = tu_req(f->a, "GET", "http://h.test/auth/session", NULL, ck, NULL);
    tu_assert_body(r, "null");
    assert_non_null(strstr(tu_cookie_named(r, "authjs.session-token"), "Max-Age=0"));
    assert_int_equal(stored_expires(f, "tok-expired"), -1); /* deleted when met */
    authc_response_free(r);
    r = tu_req(f->a, "GET", "http://h.test/auth/session", NULL, "Cookie: authjs.session-token=nope", NULL);
    tu_assert_body(r, "null");
    assert_non_null(strstr(tu_cookie_named(r, "authjs.session-token"), "Max-Age=0"));
    authc_response_free(r);
}

static void test_outage_keeps_cookie(void **st)
{
    fixture *f = *st;
    const char *ck = seed(f, "tok-outage", authc__now_ms() + 86400000);
    f->fail = true;
    int before = f->get_calls;
    authc_response *r = tu_req(f->a, "GET", "http://h.test/auth/session", NULL, ck, NULL);
    assert_true(f->get_calls > before); /* went through the wrapper */
    tu_assert_body(r, "null");
    assert_null(tu_cookie_named(r, "authjs.session-token")); /* kept for later */
    authc_response_free(r);
    authc_header h[] = {{"Host", "h.test"}, {"Cookie", ck + 8}};
    authc_request req = {.method = "GET", .url = "/x", .headers = h, .nheaders = 2};
    authc_session *s = NULL;
    assert_int_equal(authc_auth(f->a, &req, &s), AUTHC_ERR_ADAPTER);
    assert_null(s);
    f->fail = false;
    assert_int_equal(authc_auth(f->a, &req, &s), AUTHC_OK);
    assert_non_null(s);
    assert_string_equal(s->user.email, "dee+tok-outage@example.com");
    authc_session_free(s);
}

static void test_signout_deletes_row(void **st)
{
    fixture *f = *st;
    seed(f, "tok-out", authc__now_ms() + 86400000);
    authc_response *r = tu_post_csrf(f->a, "http://h.test", "signout", "authjs.session-token=tok-out", "", true);
    assert_int_equal(r->status, 302);
    assert_non_null(strstr(tu_cookie_named(r, "authjs.session-token"), "Max-Age=0"));
    assert_int_equal(stored_expires(f, "tok-out"), -1);
    authc_response_free(r);
}

/* /sessions/revoke on database sessions: "others" replaces this row with
 * a fresh one; authc_revoke_user() ends every row of the user. */
static void test_revoke_rows(void **st)
{
    fixture *f = *st;
    seed(f, "tok-rev", authc__now_ms() + 86400000);
    authc_response *r =
        tu_post_csrf(f->a, "http://h.test", "sessions/revoke", "authjs.session-token=tok-rev", "&scope=others", true);
    assert_int_equal(r->status, 200);
    assert_int_equal(stored_expires(f, "tok-rev"), -1);
    char *fresh = tu_cookie_value(tu_cookie_named(r, "authjs.session-token"));
    authc_response_free(r);
    assert_string_not_equal(fresh, "tok-rev");
    assert_true(stored_expires(f, fresh) > 0);
    char ck[512];
    snprintf(ck, sizeof ck, "Cookie: authjs.session-token=%s", fresh);
    r = tu_req(f->a, "GET", "http://h.test/auth/session", NULL, ck, NULL);
    char *b = tu_body(r);
    assert_non_null(strstr(b, "dee+tok-rev@example.com"));
    free(b);
    authc_response_free(r);
    authc_arena *ar = authc_arena_new();
    authc_session_row *row = NULL;
    authc_user *u = NULL;
    f->ad->ops->get_session_and_user(f->ad, ar, fresh, &row, &u);
    assert_non_null(u);
    assert_int_equal(authc_revoke_user(f->a, u->id), AUTHC_OK);
    authc_arena_free(ar);
    r = tu_req(f->a, "GET", "http://h.test/auth/session", NULL, ck, NULL);
    tu_assert_body(r, "null");
    assert_int_equal(stored_expires(f, fresh), -1);
    authc_response_free(r);
    free(fresh);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test_setup_teardown(test_read_and_extend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outage_keeps_cookie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signout_deletes_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_rows, setup, teardown))

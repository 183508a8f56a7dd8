/* conformance.c — the Auth.js adapter suite (spec/adapters.md §5, C01–C22,
 * like the official runBasicTests) plus contract extras X01–X07, in plain C. */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"
#include "adapters/adapters_int.h"
#include "util/util_int.h"

/* ---- state shared by the checks (in order, like the official suite) ---- */

typedef struct st {
    const conf_db *db;
    authc_adapter *ad;
    void *h;                /* the direct reader handle */
    authc_arena *keep;      /* state that lives across checks */
    authc_arena *ar;        /* per-check scratch, renewed each check */
    char why[768];          /* first failure of the running check */

    authc_user user;        /* C02's row, renamed by C07 */
    authc_session_row session;
    authc_account account;
    int64_t one_week, fifteen_min, one_month;
} st;

typedef bool (*check_fn)(st *s);

enum { ALWAYS, WEBAUTHN };

static void failf(st *s, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void failf(st *s, int line, const char *fmt, ...)
{
    if (s->why[0])
        return;
    int n = snprintf(s->why, sizeof s->why, "line %d: ", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why + n, sizeof s->why - (size_t)n, fmt, ap);
    va_end(ap);
}

#define FAIL(...) (failf(s, __LINE__, __VA_ARGS__), false)
#define REQUIRE(cond, ...)                                                   \
    do {                                                                     \
        if (!(cond))                                                         \
            return FAIL(__VA_ARGS__);                                        \
    } while (0)
/* An adapter or reader call that must return AUTHC_OK. */
#define OK(expr)                                                             \
    do {                                                                     \
        authc_err e_ = (expr);                                               \
        if (e_ != AUTHC_OK)                                                  \
            return FAIL("%s returned error %d", #expr, (int)e_);             \
    } while (0)

/* ---- fixtures and helpers ---------------------------------------------- */

/* A fresh UUID string owned by ar (the official id()/randomUUID()). */
static const char *uuid(authc_arena *ar)
{
    char b[37];
    if (authc__uuid(b) != AUTHC_OK)
        return NULL;
    return authc_arena_strdup(ar, b);
}

/* hashToken(t) of the suite: hex SHA-256 of t + "anything"; owned by ar. */
static const char *hash_token(authc_arena *ar, const char *t)
{
    char *in = authc_arena_printf(ar, "%sanything", t);
    unsigned char md[32];
    unsigned int mdlen = 0;
    char *hex = authc_arena_alloc(ar, 65);
    if (!in || !hex ||
        !EVP_Digest(in, strlen(in), md, &mdlen, EVP_sha256(), NULL))
        return NULL;
    authc__hex(hex, md, 32);
    return hex;
}

static int64_t floor_sec(int64_t ms) { return ms - ms % 1000; }

static bool seq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const char *show(const char *s) { return s ? s : "(null)"; }

/* Compares the members of two d-rows (model.c's tables), `id` only when
 * with_id (it is adapter-specific for sessions and accounts). NULL when
 * equal, else a description owned by ar. */
static const char *row_diff(authc_arena *ar, const authc__row_desc *d,
                            const void *a, const void *b, bool with_id)
{
    for (size_t i = 0; i < d->n; i++) {
        const authc__field *f = &d->f[i];
        const char *pa = (const char *)a + f->off, *pb = (const char *)b + f->off;
        if (!with_id && strcmp(f->name, "id") == 0)
            continue;
        if (f->kind == AUTHC__F_STR || f->kind == AUTHC__F_STR_OPT) {
            const char *x = *(const char *const *)pa, *y = *(const char *const *)pb;
            if (!seq(x, y))
                return authc_arena_printf(ar, "%s: got \"%s\", want \"%s\"",
                                          f->name, show(x), show(y));
            continue;
        }
        long long x = f->kind == AUTHC__F_BOOL ? *(const bool *)pa
                                                : *(const int64_t *)pa;
        long long y = f->kind == AUTHC__F_BOOL ? *(const bool *)pb
                                                : *(const int64_t *)pb;
        if (x != y)
            return authc_arena_printf(ar, "%s: got %lld, want %lld", f->name,
                                      x, y);
    }
    return NULL;
}

/* Wraps a row_diff for REQUIRE: `what` names the comparison. */
#define SAME(what, d)                                                        \
    do {                                                                     \
        const char *d_ = (d);                                                \
        if (d_)                                                              \
            return FAIL("%s: %s", what, d_);                                 \
    } while (0)

/* ---- C01..C17: users, accounts, sessions, verification tokens ------------- */

static bool c01(st *s)
{
    authc_adapter *a = s->ad;
    const struct { const char *n; bool ok; } m[] = {
        {"create_user", a->ops->create_user}, {"get_user", a->ops->get_user},
        {"get_user_by_email", a->ops->get_user_by_email},
        {"get_user_by_account", a->ops->get_user_by_account},
        {"update_user", a->ops->update_user}, {"link_account", a->ops->link_account},
        {"create_session", a->ops->create_session},
        {"get_session_and_user", a->ops->get_session_and_user},
        {"update_session", a->ops->update_session},
        {"delete_session", a->ops->delete_session},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        REQUIRE(m[i].ok, "method %s is missing", m[i].n);
    return true;
}

static bool c02(st *s)
{
    int64_t now = authc__now_ms();
    if (now % 1000 == 0)
        now += 321; /* the point of the fixture is a non-zero ms part */
    authc_user fx = {
        .id = uuid(s->ar),
        .email = "fill@murray.com",
        .image = "https://www.fillmurray.com/460/300",
        .name = "Fill Murray",
        .email_verified = now,
    };
    authc_user *ret = NULL, *row = NULL;
    OK(s->ad->ops->create_user(s->ad, s->ar, &fx, &ret));
    REQUIRE(ret && ret->id && *ret->id, "create_user returned no id");
    OK(s->db->user(s->h, s->ar, ret->id, &row));
    REQUIRE(row, "db.user(%s) found nothing", ret->id);
    authc_user want = fx;
    want.id = ret->id;
    SAME("db.user vs {...fixture, id}", row_diff(s->ar, &authc__user_row, row, &want, true));
    SAME("create_user return vs stored", row_diff(s->ar, &authc__user_row, ret, &want, true));
    authc_user *k = authc__copy_user(s->keep, row);
    REQUIRE(k, "out of memory");
    s->user = *k;
    return true;
}

typedef authc_err (*user_getter)(authc_adapter *self, authc_arena *ar,
                                 const char *key, authc_user **out);

/* get (the method called name) finds nothing for miss and the user of C02
 * for hit. */
static bool finds_user(st *s, user_getter get, const char *name,
                       const char *miss, const char *hit)
{
    authc_user *u = NULL;
    authc_err e = get(s->ad, s->ar, miss, &u);
    REQUIRE(e == AUTHC_OK && !u, "%s(%s): error %d or a user", name, miss,
            (int)e);
    e = get(s->ad, s->ar, hit, &u);
    REQUIRE(e == AUTHC_OK && u, "%s(%s): error %d or nothing", name, hit,
            (int)e);
    SAME(name, row_diff(s->ar, &authc__user_row, u, &s->user, true));
    return true;
}

static bool c03(st *s)
{
    return finds_user(s, s->ad->ops->get_user, "get_user", uuid(s->ar),
                      s->user.id);
}

static bool c04(st *s)
{
    return finds_user(s, s->ad->ops->get_user_by_email, "get_user_by_email",
                      "non-existent-email", s->user.email);
}

static bool c05(st *s)
{
    s->session = (authc_session_row){
        .session_token = uuid(s->keep),
        .user_id = s->user.id,
        .expires = s->one_week,
    };
    authc_session_row *ret = NULL, *row = NULL;
    OK(s->ad->ops->create_session(s->ad, s->ar, &s->session, &ret));
    REQUIRE(ret && seq(ret->session_token, s->session.session_token),
            "create_session did not return the session token");
    OK(s->db->session(s->h, s->ar, s->session.session_token, &row));
    REQUIRE(row, "db.session found nothing");
    SAME("db.session vs {...session, id}",
         row_diff(s->ar, &authc__session_row, row, &s->session, false));
    s->session.id = authc_arena_strdup(s->keep, row->id); /* may be NULL */
    return true;
}

static bool c06(st *s)
{
    authc_session_row *ses = NULL;
    authc_user *u = NULL;
    OK(s->ad->ops->get_session_and_user(s->ad, s->ar, "invalid-token", &ses, &u));
    REQUIRE(!ses && !u, "get_session_and_user(invalid-token) found something");
    OK(s->ad->ops->get_session_and_user(s->ad, s->ar, s->session.session_token,
                                   &ses, &u));
    REQUIRE(ses && u, "get_session_and_user found nothing");
    SAME("session", row_diff(s->ar, &authc__session_row, ses, &s->session, true));
    SAME("user", row_diff(s->ar, &authc__user_row, u, &s->user, true));
    return true;
}

static bool c07(st *s)
{
    authc_user in = {.id = s->user.id, .name = "Updated Name",
                     .fields = AUTHC_USER_F_NAME};
    authc_user *ret = NULL, *row = NULL;
    OK(s->ad->ops->update_user(s->ad, s->ar, &in, &ret));
    REQUIRE(ret && seq(ret->name, "Updated Name"),
            "update_user returned name \"%s\"", ret ? show(ret->name) : "-");
    OK(s->db->user(s->h, s->ar, s->user.id, &row));
    REQUIRE(row && seq(row->name, "Updated Name"), "db.user name not updated");
    s->user.name = "Updated Name";
    /* adapter.h: the return is the full updated user */
    SAME("update_user return", row_diff(s->ar, &authc__user_row, ret, &s->user, true));
    SAME("db.user", row_diff(s->ar, &authc__user_row, row, &s->user, true));
    return true;
}

static bool c08(st *s)
{
    authc_session_row *row = NULL, *ret = NULL;
    OK(s->db->session(s->h, s->ar, s->session.session_token, &row));
    REQUIRE(row, "db.session found nothing");
    REQUIRE(row->expires != s->one_month, "expires already the new value");
    authc_session_row in = {.session_token = s->session.session_token,
                            .expires = s->one_month};
    OK(s->ad->ops->update_session(s->ad, s->ar, &in, &ret));
    OK(s->db->session(s->h, s->ar, s->session.session_token, &row));
    REQUIRE(row && row->expires == s->one_month,
            "db.session expires = %lld, want %lld",
            row ? (long long)row->expires : -1LL, (long long)s->one_month);
    return true;
}

static bool c09(st *s)
{
    authc_arena *k = s->keep;
    s->account = (authc_account){
        .user_id = s->user.id,
        .provider = "github",
        .provider_account_id = uuid(k),
        .type = "oauth",
        .access_token = uuid(k),
        .expires_at = 2592000,
        .id_token = uuid(k),
        .refresh_token = uuid(k),
        .token_type = "bearer",
        .scope = "user",
        .session_state = uuid(k),
    };
    authc_account *ret = NULL, *row = NULL;
    OK(s->ad->ops->link_account(s->ad, s->ar, &s->account, &ret));
    OK(s->db->account(s->h, s->ar, "github", s->account.provider_account_id,
                      &row));
    REQUIRE(row, "db.account found nothing");
    SAME("db.account vs {...account, id}",
         row_diff(s->ar, &authc__account_row, row, &s->account, false));
    if (ret)
        SAME("link_account return", row_diff(s->ar, &authc__account_row, ret, &s->account, false));
    return true;
}

static bool c10(st *s)
{
    authc_user *u = NULL;
    OK(s->ad->ops->get_user_by_account(s->ad, s->ar, "invalid-provider",
                                  "invalid-provider-account-id", &u));
    REQUIRE(!u, "get_user_by_account(invalid pair) found a user");
    OK(s->ad->ops->get_user_by_account(s->ad, s->ar, s->account.provider,
                                  s->account.provider_account_id, &u));
    REQUIRE(u, "get_user_by_account found nothing");
    SAME("get_user_by_account", row_diff(s->ar, &authc__user_row, u, &s->user, true));
    return true;
}

static bool c11(st *s)
{
    authc_session_row *row = NULL;
    OK(s->ad->ops->delete_session(s->ad, s->ar, s->session.session_token, NULL));
    OK(s->db->session(s->h, s->ar, s->session.session_token, &row));
    REQUIRE(!row, "db.session still finds the deleted session");
    return true;
}

/* Fails naming the first of the two methods a and b (called na, nb)
 * that the adapter lacks. */
static bool have_methods(st *s, const void *a, const char *na,
                         const void *b, const char *nb)
{
    REQUIRE(a, "%s missing", na);
    REQUIRE(b, "%s missing", nb);
    return true;
}

static bool c12(st *s)
{
    return have_methods(s, s->ad->ops->create_verification_token,
                        "create_verification_token",
                        s->ad->ops->use_verification_token,
                        "use_verification_token");
}

static bool c13(st *s)
{
    authc_verification_token vt = {
        .token = hash_token(s->ar, uuid(s->ar)),
        .identifier = "info@example.com",
        .expires = s->fifteen_min,
    }, *row = NULL;
    OK(s->ad->ops->create_verification_token(s->ad, s->ar, &vt));
    OK(s->db->verification_token(s->h, s->ar, vt.identifier, vt.token, &row));
    REQUIRE(row, "db.verificationToken found nothing");
    SAME("db.verificationToken", row_diff(s->ar, &authc__vt_row, row, &vt, false));
    return true;
}

static bool c14(st *s)
{
    authc_verification_token vt = {
        .token = hash_token(s->ar, uuid(s->ar)),
        .identifier = "info@example.com",
        .expires = s->fifteen_min,
    }, *got = NULL, *row = NULL;
    OK(s->ad->ops->create_verification_token(s->ad, s->ar, &vt));
    OK(s->ad->ops->use_verification_token(s->ad, s->ar, vt.identifier, vt.token,
                                     &got));
    REQUIRE(got, "first use_verification_token found nothing");
    SAME("first use", row_diff(s->ar, &authc__vt_row, got, &vt, false));
    OK(s->ad->ops->use_verification_token(s->ad, s->ar, vt.identifier, vt.token,
                                     &got));
    REQUIRE(!got, "second use_verification_token still found the token");
    OK(s->ad->ops->create_verification_token(s->ad, s->ar, &vt));
    OK(s->ad->ops->use_verification_token(s->ad, s->ar, "invalid@identifier.com",
                                     vt.token, &got));
    REQUIRE(!got, "use_verification_token matched a wrong identifier");
    OK(s->db->verification_token(s->h, s->ar, vt.identifier, vt.token, &row));
    REQUIRE(row, "a use with a wrong identifier deleted the token");
    return true;
}

static bool c15(st *s)
{
    return have_methods(s, s->ad->ops->unlink_account, "unlink_account",
                        s->ad->ops->delete_user, "delete_user");
}

static bool c16(st *s)
{
    authc_account *row = NULL;
    REQUIRE(s->ad->ops->unlink_account, "unlink_account missing");
    OK(s->db->account(s->h, s->ar, s->account.provider,
                      s->account.provider_account_id, &row));
    REQUIRE(row, "db.account found nothing before unlink");
    OK(s->ad->ops->unlink_account(s->ad, s->ar, s->account.provider,
                             s->account.provider_account_id));
    OK(s->db->account(s->h, s->ar, s->account.provider,
                      s->account.provider_account_id, &row));
    REQUIRE(!row, "db.account still finds the unlinked account");
    return true;
}

static bool c17(st *s)
{
    authc_user *u = NULL;
    authc_session_row *ses = NULL, in = s->session;
    authc_account *acc = NULL;
    OK(s->db->user(s->h, s->ar, s->user.id, &u));
    REQUIRE(u, "db.user found nothing before delete");
    in.id = NULL;
    OK(s->ad->ops->create_session(s->ad, s->ar, &in, &ses));
    OK(s->ad->ops->link_account(s->ad, s->ar, &s->account, &acc));
    OK(s->ad->ops->delete_user(s->ad, s->ar, s->user.id));
    OK(s->db->user(s->h, s->ar, s->user.id, &u));
    REQUIRE(!u, "db.user still finds the deleted user");
    OK(s->db->session(s->h, s->ar, in.session_token, &ses));
    REQUIRE(!ses, "the user's session survived delete_user");
    OK(s->db->account(s->h, s->ar, s->account.provider,
                      s->account.provider_account_id, &acc));
    REQUIRE(!acc, "the user's account survived delete_user");
    return true;
}

/* ---- C18..C22: WebAuthn --------------------------------------------------- */

/* createUser({email}) + a webauthn account; *uid owned by s->ar. */
static bool make_user(st *s, const char *email, const char **uid)
{
    authc_user in = {.id = uuid(s->ar), .email = email,
                     .email_verified = AUTHC_NO_TIME}, *u = NULL;
    OK(s->ad->ops->create_user(s->ad, s->ar, &in, &u));
    REQUIRE(u && u->id, "create_user(%s) returned no user", email);
    *uid = u->id;
    return true;
}

/* A user with a webauthn account and one authenticator; *out owned by ar. */
static bool make_authn(st *s, const char *uid, const char *transports,
                       authc_authenticator *out)
{
    const char *cred = uuid(s->ar);
    authc_account acc = {.provider = "webauthn", .provider_account_id = cred,
                         .type = "webauthn", .user_id = uid,
                         .expires_at = AUTHC_NO_TIME};
    OK(s->ad->ops->link_account(s->ad, s->ar, &acc, NULL));
    unsigned char r = 0;
    authc__random(&r, 1);
    *out = (authc_authenticator){
        .credential_id = cred,
        .provider_account_id = cred,
        .user_id = uid,
        .counter = r % 100,
        .credential_backed_up = true,
        .credential_device_type = "platform",
        .credential_public_key = uuid(s->ar),
        .transports = transports,
    };
    return true;
}

static bool c18(st *s)
{
    const char *uid, *pai = uuid(s->ar);
    if (!make_user(s, "getAccount@example.com", &uid))
        return false;
    authc_account in = {.provider = "auth0", .provider_account_id = pai,
                        .type = "oauth", .user_id = uid,
                        .expires_at = AUTHC_NO_TIME}, *a = NULL, *row = NULL;
    OK(s->ad->ops->link_account(s->ad, s->ar, &in, NULL));
    OK(s->ad->ops->get_account(s->ad, s->ar, "invalid-provider",
                          "invalid-provider-account-id", &a));
    REQUIRE(!a, "get_account(invalid, invalid) found an account");
    OK(s->ad->ops->get_account(s->ad, s->ar, pai, "invalid-provider", &a));
    REQUIRE(!a, "get_account(id, invalid provider) found an account");
    OK(s->ad->ops->get_account(s->ad, s->ar, "invalid-provider-account-id",
                          "auth0", &a));
    REQUIRE(!a, "get_account(invalid id, provider) found an account");
    OK(s->ad->ops->get_account(s->ad, s->ar, pai, "auth0", &a));
    REQUIRE(a, "get_account(providerAccountId, provider) found nothing "
               "(note the argument order: id first)");
    OK(s->db->account(s->h, s->ar, "auth0", pai, &row));
    REQUIRE(row, "db.account found nothing");
    SAME("get_account vs db.account", row_diff(s->ar, &authc__account_row, a, row, false));
    SAME("db.account vs input", row_diff(s->ar, &authc__account_row, row, &in, false));
    return true;
}

/* A new user (email) with a new "usb,ble,nfc" authenticator *in, stored
 * through create_authenticator, which returned *ret. */
static bool user_with_authn(st *s, const char *email, authc_authenticator *in,
                            authc_authenticator **ret)
{
    const char *uid;
    *ret = NULL;
    if (!make_user(s, email, &uid) || !make_authn(s, uid, "usb,ble,nfc", in))
        return false;
    OK(s->ad->ops->create_authenticator(s->ad, s->ar, in, ret));
    REQUIRE(*ret, "create_authenticator returned nothing");
    return true;
}

static bool c19(st *s)
{
    authc_authenticator in, *ret, *row = NULL;
    if (!user_with_authn(s, "createAuthenticator@example.com", &in, &ret))
        return false;
    SAME("create_authenticator return", row_diff(s->ar, &authc__authn_row, ret, &in, false));
    OK(s->db->authenticator(s->h, s->ar, in.credential_id, &row));
    REQUIRE(row, "db.authenticator found nothing");
    SAME("db.authenticator", row_diff(s->ar, &authc__authn_row, row, ret, false));
    return true;
}

static bool c20(st *s)
{
    authc_authenticator in, *ret, *got = NULL, *row = NULL;
    if (!user_with_authn(s, "getAuthenticator@example.com", &in, &ret))
        return false;
    OK(s->ad->ops->get_authenticator(s->ad, s->ar, "invalid-credential-id", &got));
    REQUIRE(!got, "get_authenticator(invalid-credential-id) found one");
    OK(s->ad->ops->get_authenticator(s->ad, s->ar, in.credential_id, &got));
    REQUIRE(got, "get_authenticator found nothing");
    OK(s->db->authenticator(s->h, s->ar, in.credential_id, &row));
    REQUIRE(row, "db.authenticator found nothing");
    SAME("get_authenticator vs db", row_diff(s->ar, &authc__authn_row, got, row, false));
    SAME("get_authenticator vs input", row_diff(s->ar, &authc__authn_row, got, &in, false));
    return true;
}

/* The list must be exactly `want` (n elements), in any order. */
static bool same_set(st *s, const char *what, const authc_authenticator *got,
                     size_t ngot, const authc_authenticator *const *want,
                     size_t n)
{
    REQUIRE(ngot == n, "%s: %zu authenticators, want %zu", what, ngot, n);
    bool used[8] = {0};
    REQUIRE(n <= 8, "%s: too many to compare", what);
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < ngot && (used[j] || row_diff(s->ar, &authc__authn_row, &got[j], want[i], false)))
            j++;
        REQUIRE(j < ngot, "%s: %s missing or different", what,
                want[i]->credential_id);
        used[j] = true;
    }
    return true;
}

static bool c21(st *s)
{
    const char *u1, *u2;
    authc_authenticator i1, i2, i3, *a1 = NULL, *a2 = NULL, *a3 = NULL,
                                    *list = NULL;
    size_t n = 99;
    if (!make_user(s, "listAuthenticatorsByUserId1@example.com", &u1) ||
        !make_user(s, "listAuthenticatorsByUserId2@example.com", &u2) ||
        !make_authn(s, u1, "usb,ble,nfc", &i1) ||
        !make_authn(s, u1, "usb,nfc", &i2) ||
        !make_authn(s, u2, "usb,ble", &i3))
        return false;
    OK(s->ad->ops->create_authenticator(s->ad, s->ar, &i1, &a1));
    OK(s->ad->ops->create_authenticator(s->ad, s->ar, &i2, &a2));
    OK(s->ad->ops->create_authenticator(s->ad, s->ar, &i3, &a3));
    REQUIRE(a1 && a2 && a3, "create_authenticator returned nothing");
    OK(s->ad->ops->list_authenticators_by_user_id(s->ad, s->ar, "invalid-user-id",
                                             &list, &n));
    REQUIRE(n == 0, "invalid-user-id has %zu authenticators", n);
    OK(s->ad->ops->list_authenticators_by_user_id(s->ad, s->ar, u1, &list, &n));
    const authc_authenticator *w1[] = {a2, a1}, *w2[] = {a3};
    if (!same_set(s, "user 1", list, n, w1, 2))
        return false;
    OK(s->ad->ops->list_authenticators_by_user_id(s->ad, s->ar, u2, &list, &n));
    return same_set(s, "user 2", list, n, w2, 1);
}

static bool c22(st *s)
{
    authc_authenticator in, *ret, *row = NULL;
    if (!user_with_authn(s, "updateAuthenticatorCounter@example.com", &in,
                         &ret))
        return false;
    authc_err e = s->ad->ops->update_authenticator_counter(
        s->ad, s->ar, "invalid-credential-id", ret->counter + 1, &row);
    REQUIRE(e == AUTHC_ERR_NOT_FOUND,
            "update_authenticator_counter(invalid) returned %d, want "
            "AUTHC_ERR_NOT_FOUND", (int)e);
    int64_t c = ret->counter + 1;
    OK(s->ad->ops->update_authenticator_counter(s->ad, s->ar, in.credential_id, c,
                                           &ret));
    REQUIRE(ret && ret->counter == c, "updated counter is %lld, want %lld",
            ret ? (long long)ret->counter : -1LL, (long long)c);
    OK(s->db->authenticator(s->h, s->ar, in.credential_id, &row));
    REQUIRE(row && row->counter == c, "db.authenticator counter not updated");
    return true;
}

/* ---- X01..X07: the rest of the adapter.h contract ---------------------- */

/* A unique e-mail for the extras (reruns on a kept database work). */
static const char *rand_email(st *s, const char *tag)
{
    return authc_arena_printf(s->ar, "%s-%s@example.com", tag, uuid(s->ar));
}

static bool x01(st *s)
{
    const char *given = uuid(s->ar);
    authc_user in = {.id = given, .email = rand_email(s, "x01"),
                     .email_verified = AUTHC_NO_TIME}, *u = NULL, *row = NULL;
    OK(s->ad->ops->create_user(s->ad, s->ar, &in, &u));
    REQUIRE(u && u->id, "create_user returned no id");
    REQUIRE(strcmp(u->id, given) != 0, "create_user kept the caller's id");
    REQUIRE(!u->name && !u->image && u->email_verified == AUTHC_NO_TIME,
            "absent fields came back set");
    OK(s->db->user(s->h, s->ar, u->id, &row));
    REQUIRE(row && !row->name && !row->image &&
                row->email_verified == AUTHC_NO_TIME,
            "db.user: absent fields stored as values");
    OK(s->ad->ops->get_user(s->ad, s->ar, given, &row));
    REQUIRE(!row, "get_user(caller's id) found a user");
    return true;
}

static bool x02(st *s)
{
    const char *uid;
    if (!make_user(s, rand_email(s, "x02"), &uid))
        return false;
    int64_t exp = floor_sec(authc__now_ms()) + 86400000 + 123;
    authc_session_row in = {.session_token = uuid(s->ar), .user_id = uid,
                            .expires = exp}, *row = NULL, *ret = NULL;
    OK(s->ad->ops->create_session(s->ad, s->ar, &in, &ret));
    OK(s->db->session(s->h, s->ar, in.session_token, &row));
    REQUIRE(row && row->expires == exp, "session expires lost its ms");
    in.expires = exp + 864;
    OK(s->ad->ops->update_session(s->ad, s->ar, &in, &ret));
    if (ret)
        SAME("update_session return", row_diff(s->ar, &authc__session_row, ret, &in, false));
    OK(s->db->session(s->h, s->ar, in.session_token, &row));
    REQUIRE(row && row->expires == exp + 864, "updated expires lost its ms");
    authc_verification_token vt = {.identifier = rand_email(s, "x02"),
                                   .token = hash_token(s->ar, "x"),
                                   .expires = exp + 7}, *v = NULL;
    OK(s->ad->ops->create_verification_token(s->ad, s->ar, &vt));
    OK(s->db->verification_token(s->h, s->ar, vt.identifier, vt.token, &v));
    REQUIRE(v && v->expires == exp + 7, "token expires lost its ms");
    /* expires_at: plain seconds, large values kept */
    authc_account acc = {.user_id = uid, .type = "oidc", .provider = "x02",
                         .provider_account_id = uuid(s->ar),
                         .expires_at = 4102444800LL}, *a = NULL;
    OK(s->ad->ops->link_account(s->ad, s->ar, &acc, NULL));
    OK(s->db->account(s->h, s->ar, "x02", acc.provider_account_id, &a));
    REQUIRE(a, "db.account found nothing");
    SAME("account with only required fields", row_diff(s->ar, &authc__account_row, a, &acc, false));
    /* update_session with a missing token: no error, no row */
    authc_session_row miss = {.session_token = "missing-token",
                              .expires = exp};
    ret = NULL;
    OK(s->ad->ops->update_session(s->ad, s->ar, &miss, &ret));
    REQUIRE(!ret, "update_session(missing) returned a row");
    return true;
}

static bool x03(st *s)
{
    authc_user in = {.name = "A", .email = rand_email(s, "x03"),
                     .image = "img", .email_verified = 1700000000123LL},
               *u = NULL, *ret = NULL, *row = NULL;
    OK(s->ad->ops->create_user(s->ad, s->ar, &in, &u));
    REQUIRE(u, "create_user returned nothing");
    authc_user want = *u;
    authc_user p1 = {.id = u->id, .image = "new", .fields = AUTHC_USER_F_IMAGE};
    OK(s->ad->ops->update_user(s->ad, s->ar, &p1, &ret));
    want.image = "new";
    REQUIRE(ret, "update_user returned nothing");
    SAME("update_user(image only)", row_diff(s->ar, &authc__user_row, ret, &want, true));
    authc_user p2 = {.id = u->id, .email_verified = AUTHC_NO_TIME,
                     .fields = AUTHC_USER_F_EMAIL_VERIFIED};
    OK(s->ad->ops->update_user(s->ad, s->ar, &p2, &ret));
    want.email_verified = AUTHC_NO_TIME;
    SAME("update_user(emailVerified = null)", row_diff(s->ar, &authc__user_row, ret, &want, true));
    authc_user p3 = {.id = u->id, .email_verified = 1700000000999LL,
                     .fields = AUTHC_USER_F_EMAIL_VERIFIED};
    OK(s->ad->ops->update_user(s->ad, s->ar, &p3, &ret));
    want.email_verified = 1700000000999LL;
    OK(s->db->user(s->h, s->ar, u->id, &row));
    REQUIRE(row, "db.user found nothing");
    SAME("db.user after updates", row_diff(s->ar, &authc__user_row, row, &want, true));
    authc_user ghost = {.id = uuid(s->ar), .name = "x",
                        .fields = AUTHC_USER_F_NAME};
    authc_err e = s->ad->ops->update_user(s->ad, s->ar, &ghost, &ret);
    REQUIRE(e == AUTHC_ERR_NOT_FOUND,
            "update_user(unknown id) returned %d, want AUTHC_ERR_NOT_FOUND",
            (int)e);
    OK(s->ad->ops->get_user(s->ad, s->ar, ghost.id, &row));
    REQUIRE(!row, "update_user(unknown id) created a user");
    return true;
}

static bool x04(st *s)
{
    authc_session_row *ses = (authc_session_row *)1;
    authc_user *u = NULL;
    OK(s->ad->ops->delete_session(s->ad, s->ar, "missing-token", &ses));
    REQUIRE(!ses, "delete_session(missing) returned a row");
    OK(s->ad->ops->delete_user(s->ad, s->ar, uuid(s->ar)));
    OK(s->ad->ops->unlink_account(s->ad, s->ar, "nope", "missing"));
    /* delete_session returns the deleted row when asked */
    const char *uid;
    if (!make_user(s, rand_email(s, "x04"), &uid))
        return false;
    authc_session_row in = {.session_token = uuid(s->ar), .user_id = uid,
                            .expires = s->one_week};
    OK(s->ad->ops->create_session(s->ad, s->ar, &in, NULL));
    OK(s->ad->ops->delete_session(s->ad, s->ar, in.session_token, &ses));
    if (ses)
        SAME("delete_session return", row_diff(s->ar, &authc__session_row, ses, &in, false));
    OK(s->ad->ops->get_session_and_user(s->ad, s->ar, in.session_token, &ses, &u));
    REQUIRE(!ses && !u, "deleted session still readable");
    return true;
}

static bool x05(st *s)
{
    const char *ident = rand_email(s, "x05");
    int64_t past = floor_sec(authc__now_ms()) - 3600000 + 5;
    authc_verification_token t1 = {.identifier = ident,
                                   .token = hash_token(s->ar, "one"),
                                   .expires = past},
                             t2 = {.identifier = ident,
                                   .token = hash_token(s->ar, "two"),
                                   .expires = s->fifteen_min},
                             *got = NULL, *row = NULL;
    OK(s->ad->ops->create_verification_token(s->ad, s->ar, &t1));
    OK(s->ad->ops->create_verification_token(s->ad, s->ar, &t2));
    OK(s->ad->ops->use_verification_token(s->ad, s->ar, NULL, t1.token, &got));
    REQUIRE(!got, "use_verification_token(NULL identifier) matched");
    OK(s->ad->ops->use_verification_token(s->ad, s->ar, ident, t1.token, &got));
    REQUIRE(got, "an expired token was not returned");
    SAME("expired token", row_diff(s->ar, &authc__vt_row, got, &t1, false));
    OK(s->db->verification_token(s->h, s->ar, ident, t2.token, &row));
    REQUIRE(row, "using one token removed another of the same identifier");
    OK(s->ad->ops->use_verification_token(s->ad, s->ar, ident, t2.token, &got));
    SAME("second token", got ? row_diff(s->ar, &authc__vt_row, got, &t2, false) : "not found");
    return true;
}

/* ---- X06/X07: concurrency ---------------------------------------------------- */

#define THREADS 4
#define ROUNDS 200
#define VT_COUNT 50

typedef struct job {
    authc_adapter *ad;
    const char *uid;
    const char *ident;
    const char *const *tokens;   /* X07 */
    int failures;
    int used;                    /* X07: tokens this thread consumed */
    char why[256];
} job;

static void *sessions_worker(void *p)
{
    job *j = p;
    for (int i = 0; i < ROUNDS; i++) {
        authc_arena *ar = authc_arena_new();
        char tok[37];
        authc_session_row in = {.session_token = tok, .user_id = j->uid,
                                .expires = authc__now_ms() + 3600000};
        authc_session_row *ses = NULL;
        authc_user *u = NULL;
        authc_err e = ar ? authc__uuid(tok) : AUTHC_ERR_NOMEM;
        if (!e)
            e = j->ad->ops->create_session(j->ad, ar, &in, NULL);
        if (!e)
            e = j->ad->ops->get_session_and_user(j->ad, ar, tok, &ses, &u);
        if (!e && (!ses || !u || !seq(ses->session_token, tok) ||
                   !seq(u->id, j->uid) || ses->expires != in.expires))
            e = AUTHC_ERR_INVALID;
        if (!e && i % 10 == 0)
            e = j->ad->ops->delete_session(j->ad, ar, tok, NULL);
        if (e && !j->failures++)
            snprintf(j->why, sizeof j->why, "round %d: error %d", i, (int)e);
        authc_arena_free(ar);
    }
    return NULL;
}

static bool run_threads(st *s, job *jobs, void *(*fn)(void *))
{
    pthread_t t[THREADS];
    int started = 0;
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, fn, &jobs[i]) == 0)
            started++;
        else
            break;
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    REQUIRE(started == THREADS, "could not start threads");
    for (int i = 0; i < THREADS; i++)
        REQUIRE(!jobs[i].failures, "thread %d: %d failures, first: %s", i,
                jobs[i].failures, jobs[i].why);
    return true;
}

static bool x06(st *s)
{
    const char *uid;
    if (!make_user(s, rand_email(s, "x06"), &uid))
        return false;
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++)
        jobs[i] = (job){.ad = s->ad, .uid = uid};
    return run_threads(s, jobs, sessions_worker);
}

static void *vt_worker(void *p)
{
    job *j = p;
    for (int i = 0; i < VT_COUNT; i++) {
        authc_arena *ar = authc_arena_new();
        authc_verification_token *got = NULL;
        authc_err e = ar ? j->ad->ops->use_verification_token(j->ad, ar, j->ident,
                                                         j->tokens[i], &got)
                         : AUTHC_ERR_NOMEM;
        if (e && !j->failures++)
            snprintf(j->why, sizeof j->why, "token %d: error %d", i, (int)e);
        if (got)
            j->used++;
        authc_arena_free(ar);
    }
    return NULL;
}

/* Every token is consumed by exactly one of the racing threads. */
static bool x07(st *s)
{
    const char *ident = rand_email(s, "x07");
    const char *tokens[VT_COUNT];
    for (int i = 0; i < VT_COUNT; i++) {
        tokens[i] = hash_token(s->ar, uuid(s->ar));
        authc_verification_token vt = {.identifier = ident,
                                       .token = tokens[i],
                                       .expires = s->fifteen_min};
        OK(s->ad->ops->create_verification_token(s->ad, s->ar, &vt));
    }
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++)
        jobs[i] = (job){.ad = s->ad, .ident = ident, .tokens = tokens};
    if (!run_threads(s, jobs, vt_worker))
        return false;
    int used = 0;
    for (int i = 0; i < THREADS; i++)
        used += jobs[i].used;
    REQUIRE(used == VT_COUNT, "%d successful uses of %d tokens (not atomic)",
            used, VT_COUNT);
    return true;
}

static bool x08(st *s)
{
    return conf_x08_account_tokens(s->ad, s->db, s->h, s->ar, s->why, sizeof s->why);
}

/* ---- runner ----------------------------------------------------------------- */

static const struct check {
    const char *id, *name;
    check_fn fn;
    int kind;
    size_t method;  /* offset of the method a maybeTest needs, or 0 */
} CHECKS[] = {
#define M(f) offsetof(authc_adapter_ops, f)
    {"C01", "required methods exist", c01, ALWAYS, 0},
    {"C02", "createUser", c02, ALWAYS, 0},
    {"C03", "getUser", c03, ALWAYS, 0},
    {"C04", "getUserByEmail", c04, ALWAYS, 0},
    {"C05", "createSession", c05, ALWAYS, 0},
    {"C06", "getSessionAndUser", c06, ALWAYS, 0},
    {"C07", "updateUser", c07, ALWAYS, 0},
    {"C08", "updateSession", c08, ALWAYS, 0},
    {"C09", "linkAccount", c09, ALWAYS, 0},
    {"C10", "getUserByAccount", c10, ALWAYS, 0},
    {"C11", "deleteSession", c11, ALWAYS, 0},
    {"C12", "verification token methods exist", c12, ALWAYS, 0},
    {"C13", "createVerificationToken", c13, ALWAYS, 0},
    {"C14", "useVerificationToken", c14, ALWAYS, 0},
    {"C15", "future methods exist", c15, ALWAYS, 0},
    {"C16", "unlinkAccount", c16, ALWAYS, 0},
    {"C17", "deleteUser (cascade)", c17, ALWAYS, M(delete_user)},
    {"C18", "getAccount", c18, WEBAUTHN, M(get_account)},
    {"C19", "createAuthenticator", c19, WEBAUTHN, M(create_authenticator)},
    {"C20", "getAuthenticator", c20, WEBAUTHN, M(get_authenticator)},
    {"C21", "listAuthenticatorsByUserId", c21, WEBAUTHN,
     M(list_authenticators_by_user_id)},
    {"C22", "updateAuthenticatorCounter", c22, WEBAUTHN,
     M(update_authenticator_counter)},
    {"X01", "createUser ignores the given id, keeps absent fields absent", x01, ALWAYS, 0},
    {"X02", "ms precision of expires, expires_at seconds", x02, ALWAYS, 0},
    {"X03", "updateUser field mask, unknown id -> NOT_FOUND", x03, ALWAYS, 0},
    {"X04", "missing rows: deletes are no-ops", x04, ALWAYS, 0},
    {"X05", "useVerificationToken: NULL identifier, expired rows", x05, ALWAYS, 0},
    {"X06", "4 threads x 200 createSession/getSessionAndUser", x06, ALWAYS, 0},
    {"X07", "useVerificationToken atomic under 4 racing threads", x07, ALWAYS, 0},
    {"X08", "getAccountByUser / updateAccountTokens (authc)", x08, ALWAYS, 0},
#undef M
};

static bool has_method(const authc_adapter *ad, size_t off)
{
    void (*fp)(void);
    memcpy(&fp, (const char *)ad->ops + off, sizeof fp);
    return fp != NULL;
}

int conf_run(const conf_db *db, const char *url)
{
    int passed = 0, failed = 0, skipped = 0;
    st s = {.db = db};
    s.keep = authc_arena_new();
    if (!s.keep || !(s.ad = db->open(url, &s.h))) {
        printf("FAIL open: cannot open the %s adapter (see messages above)\n",
               db->name);
        printf("0 passed, 1 failed\n");
        authc_arena_free(s.keep);
        return 1;
    }
    int64_t now = authc__now_ms();
    s.one_week = floor_sec(now + 7LL * 86400000);
    s.fifteen_min = floor_sec(now + 15LL * 60000);
    s.one_month = floor_sec(now + 30LL * 86400000);

    /* migrate must succeed and be idempotent before anything else */
    if (s.ad->ops->migrate) {
        authc_err e1 = s.ad->ops->migrate(s.ad), e2 = s.ad->ops->migrate(s.ad);
        if (e1 || e2) {
            printf("FAIL M00 migrate twice: errors %d, %d\n", (int)e1, (int)e2);
            failed++;
        } else {
            printf("ok   M00 migrate twice\n");
            passed++;
        }
    }
    for (size_t i = 0; i < sizeof CHECKS / sizeof CHECKS[0]; i++) {
        const struct check *c = &CHECKS[i];
        if (c->kind == WEBAUTHN && !db->authenticator) {
            printf("skip %s %s (no WebAuthn reader for %s)\n", c->id, c->name,
                   db->name);
            skipped++;
            continue;
        }
        if (c->method && !has_method(s.ad, c->method)) {
            printf("skip %s %s (the adapter has no such method)\n", c->id, c->name);
            skipped++;
            continue;
        }
        s.ar = authc_arena_new();
        s.why[0] = '\0';
        bool ok = s.ar && c->fn(&s);
        if (!s.ar)
            snprintf(s.why, sizeof s.why, "out of memory");
        if (ok) {
            printf("ok   %s %s\n", c->id, c->name);
            passed++;
        } else {
            printf("FAIL %s %s: %s\n", c->id, c->name,
                   s.why[0] ? s.why : "(no reason)");
            failed++;
        }
        fflush(stdout);
        authc_arena_free(s.ar);
        s.ar = NULL;
    }
    db->close(s.ad, s.h);
    authc_arena_free(s.keep);
    if (skipped)
        printf("(%d skipped)\n", skipped);
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    return failed;
}

/* conformance_tokens.c — check X08 of the adapter conformance suite: the
 * account-token methods authc adds for database-session token rotation. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conformance.h"
#include "util/util_int.h"

typedef struct tk {
    authc_adapter *ad;
    authc_arena *ar;
    char *why;
    size_t whylen;
} tk;

static bool failf(tk *t, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool failf(tk *t, int line, const char *fmt, ...)
{
    int n = snprintf(t->why, t->whylen, "line %d: ", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->why + n, t->whylen - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}
#define REQUIRE(cond, ...)                                                   \
    do {                                                                     \
        if (!(cond))                                                         \
            return failf(t, __LINE__, __VA_ARGS__);                          \
    } while (0)
#define OK(expr)                                                             \
    do {                                                                     \
        authc_err e_ = (expr);                                               \
        REQUIRE(e_ == AUTHC_OK, "%s returned error %d", #expr, (int)e_);     \
    } while (0)

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* A fresh name owned by t->ar: prefix + a UUID. */
static const char *fresh(tk *t, const char *prefix)
{
    char id[37];
    return authc__uuid(id) ? NULL : authc_arena_printf(t->ar, "%s%s", prefix, id);
}

static bool new_user(tk *t, const char **uid)
{
    const char *email = fresh(t, "tokens-");
    email = email ? authc_arena_printf(t->ar, "%s@example.com", email) : NULL;
    authc_user in = {.email = email, .email_verified = AUTHC_NO_TIME}, *u = NULL;
    OK(t->ad->ops->create_user(t->ad, t->ar, &in, &u));
    REQUIRE(u && u->id, "create_user returned no user");
    *uid = u->id;
    return true;
}

static bool link(tk *t, const char *uid, const char *prov, const char *pai, const char *at,
                 authc_account *out)
{
    *out = (authc_account){.user_id = uid, .type = "oidc", .provider = prov,
                           .provider_account_id = pai, .access_token = at,
                           .refresh_token = "rt-1", .expires_at = 1000, .token_type = "bearer",
                           .scope = "openid offline_access", .id_token = "idt-1"};
    OK(t->ad->ops->link_account(t->ad, t->ar, out, NULL));
    return true;
}

/* The stored row of a, read directly, must carry these tokens and keep
 * the rest of a. */
static bool row_is(tk *t, const conf_db *db, void *h, const authc_account *a, const char *at,
                   const char *rt, int64_t exp, const char *idt)
{
    authc_account *row = NULL;
    OK(db->account(h, t->ar, a->provider, a->provider_account_id, &row));
    REQUIRE(row, "db.account found nothing for %s", a->provider_account_id);
    REQUIRE(same(row->access_token, at) && same(row->refresh_token, rt) && row->expires_at == exp &&
                same(row->id_token, idt),
            "row tokens: got access %s refresh %s expires %lld id %s", row->access_token,
            row->refresh_token, (long long)row->expires_at, row->id_token);
    REQUIRE(same(row->user_id, a->user_id) && same(row->type, a->type) &&
                same(row->scope, a->scope) && same(row->token_type, a->token_type),
            "update_account_tokens changed more than the tokens");
    return true;
}

bool conf_x08_account_tokens(authc_adapter *ad, const conf_db *db, void *h, authc_arena *ar,
                             char *why, size_t whylen)
{
    tk t_ = {ad, ar, why, whylen}, *t = &t_;
    if (!ad->ops->get_account_by_user || !ad->ops->update_account_tokens)
        return failf(t, __LINE__, "get_account_by_user / update_account_tokens missing");
    const char *u1, *u2, *prov = fresh(t, "p"), *other = fresh(t, "q");
    const char *pa = fresh(t, "a-"), *pb = fresh(t, "b-"), *pc = fresh(t, "c-"), *pd = fresh(t, "d-");
    authc_account a, b, c, d, *got = NULL;
    REQUIRE(prov && other && pa && pb && pc && pd, "out of memory");
    /* u1 has b and a at prov (a is the least id) and c elsewhere; u2 has d. */
    if (!new_user(t, &u1) || !new_user(t, &u2) || !link(t, u1, prov, pb, "at-b", &b) ||
        !link(t, u1, prov, pa, "at-a", &a) || !link(t, u1, other, pc, "at-c", &c) ||
        !link(t, u2, prov, pd, "at-d", &d))
        return false;
    OK(ad->ops->get_account_by_user(ad, ar, u1, prov, &got));
    REQUIRE(got && same(got->provider_account_id, pa) && same(got->access_token, "at-a") &&
                same(got->user_id, u1) && got->expires_at == 1000,
            "get_account_by_user(u1, prov): got %s, want %s", got ? got->provider_account_id : "none",
            pa);
    OK(ad->ops->get_account_by_user(ad, ar, u2, prov, &got));
    REQUIRE(got && same(got->provider_account_id, pd), "get_account_by_user(u2, prov) missed d");
    OK(ad->ops->get_account_by_user(ad, ar, u2, other, &got));
    REQUIRE(!got, "get_account_by_user(u2, other) found an account");
    OK(ad->ops->get_account_by_user(ad, ar, u1, "no-such-provider", &got));
    REQUIRE(!got, "get_account_by_user(u1, unknown provider) found an account");

    /* A refresh without id_token, scope or token_type keeps them. */
    authc_account upd = {.provider = prov, .provider_account_id = pa, .access_token = "at-2",
                         .refresh_token = "rt-2", .expires_at = 2000};
    OK(ad->ops->update_account_tokens(ad, ar, &upd, &got));
    REQUIRE(got && same(got->access_token, "at-2") && same(got->id_token, "idt-1"),
            "update_account_tokens returned the wrong row");
    if (!row_is(t, db, h, &a, "at-2", "rt-2", 2000, "idt-1"))
        return false;
    /* A new id_token is written; NULL refresh token and no expiry clear them. */
    upd = (authc_account){.provider = prov, .provider_account_id = pa, .access_token = "at-3",
                          .expires_at = AUTHC_NO_TIME, .id_token = "idt-3"};
    OK(ad->ops->update_account_tokens(ad, ar, &upd, NULL));
    if (!row_is(t, db, h, &a, "at-3", NULL, AUTHC_NO_TIME, "idt-3") ||
        !row_is(t, db, h, &b, "at-b", "rt-1", 1000, "idt-1") ||
        !row_is(t, db, h, &d, "at-d", "rt-1", 1000, "idt-1"))
        return false;
    upd.provider_account_id = "no-such-account";
    authc_err e = ad->ops->update_account_tokens(ad, ar, &upd, &got);
    REQUIRE(e == AUTHC_ERR_NOT_FOUND, "update_account_tokens(unknown) returned %d, want NOT_FOUND",
            (int)e);
    /* Unlinked accounts are gone for it too. */
    OK(ad->ops->unlink_account(ad, ar, prov, pa));
    OK(ad->ops->get_account_by_user(ad, ar, u1, prov, &got));
    REQUIRE(got && same(got->provider_account_id, pb), "after unlink of a: want b, got %s",
            got ? got->provider_account_id : "none");
    (void)c;
    return true;
}

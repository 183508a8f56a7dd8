/* fuzz_redis.c — the Redis adapter's JSON row codec (lib/adapters/
 * redis_json.c): stored values are read back as users, accounts, sessions,
 * verification tokens and authenticators. A row read must survive being
 * written and read again unchanged. */
#include "adapters/redis_int.h"
#include "fuzz.h"

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* Input: byte 0 picks the row kind, the rest is the stored JSON value. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16 * 1024)
        return 0;
    static rd_ctx ctx; /* only its label is read (in log lines) */
    static authc_adapter self;
    rd_call call = {.self = &self, .ctx = &ctx, .ar = authc_arena_new()};
    char *s = fuzz_cstr(data + 1, size - 1);
    authc_err e = AUTHC_OK, e2 = AUTHC_OK;
    switch (data[0] % 5) {
    case 0: {
        authc_user *u = authc__rd_parse(&call, RD_USER, s, "fallback-id", NULL, &e), *v;
        if (!u)
            break;
        const char *w = authc__rd_json(call.ar, RD_USER, u);
        FUZZ_CHECK(w && (v = authc__rd_parse(&call, RD_USER, w, "other-id", NULL, &e2)), "user does not round-trip");
        FUZZ_CHECK(same(u->id, v->id) && same(u->name, v->name) && same(u->email, v->email) &&
                       same(u->image, v->image) && u->email_verified == v->email_verified,
                   "user changed on the round trip: %s", w);
        break;
    }
    case 1: {
        authc_account *a = authc__rd_parse(&call, RD_ACCOUNT, s, NULL, NULL, &e), *b;
        if (!a)
            break;
        const char *w = authc__rd_json(call.ar, RD_ACCOUNT, a);
        FUZZ_CHECK(w && (b = authc__rd_parse(&call, RD_ACCOUNT, w, NULL, NULL, &e2)), "account does not round-trip");
        FUZZ_CHECK(same(a->user_id, b->user_id) && same(a->provider, b->provider) &&
                       same(a->provider_account_id, b->provider_account_id) &&
                       same(a->access_token, b->access_token) && same(a->refresh_token, b->refresh_token) &&
                       same(a->id_token, b->id_token) && a->expires_at == b->expires_at,
                   "account changed on the round trip: %s", w);
        break;
    }
    case 2: {
        authc_session_row *r = authc__rd_parse(&call, RD_SESSION, s, NULL, NULL, &e), *t;
        if (!r)
            break;
        const char *w = authc__rd_json(call.ar, RD_SESSION, r);
        FUZZ_CHECK(w && (t = authc__rd_parse(&call, RD_SESSION, w, NULL, NULL, &e2)), "session does not round-trip");
        FUZZ_CHECK(same(r->session_token, t->session_token) && same(r->user_id, t->user_id) &&
                       r->expires == t->expires,
                   "session changed on the round trip: %s", w);
        break;
    }
    case 3: {
        authc_verification_token *v = authc__rd_parse(&call, RD_VT, s, NULL, NULL, &e), *x;
        if (!v)
            break;
        const char *w = authc__rd_json(call.ar, RD_VT, v);
        FUZZ_CHECK(w && (x = authc__rd_parse(&call, RD_VT, w, NULL, NULL, &e2)), "token does not round-trip");
        FUZZ_CHECK(same(v->identifier, x->identifier) && same(v->token, x->token) && v->expires == x->expires,
                   "verification token changed on the round trip: %s", w);
        break;
    }
    default: {
        authc_authenticator *a = authc__rd_parse(&call, RD_AUTH, s, NULL, NULL, &e), *b;
        if (!a)
            break;
        const char *w = authc__rd_json(call.ar, RD_AUTH, a);
        FUZZ_CHECK(w && (b = authc__rd_parse(&call, RD_AUTH, w, NULL, NULL, &e2)), "authenticator does not round-trip");
        FUZZ_CHECK(same(a->credential_id, b->credential_id) && same(a->user_id, b->user_id) &&
                       same(a->credential_public_key, b->credential_public_key) && a->counter == b->counter &&
                       a->credential_backed_up == b->credential_backed_up && same(a->transports, b->transports),
                   "authenticator changed on the round trip: %s", w);
        break;
    }
    }
    if (getenv("FUZZ_VERBOSE")) /* to see that seeds reach the writers */
        fprintf(stderr, "redis kind %d: %s\n", data[0] % 5, e ? authc_strerror(e) : "read");
    FUZZ_CHECK(e == AUTHC_OK || e == AUTHC_ERR_ADAPTER || e == AUTHC_ERR_NOMEM, "reader error %s",
               authc_strerror(e));
    free(s);
    authc_arena_free(call.ar);
    return 0;
}

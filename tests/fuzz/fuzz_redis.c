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

static bool same_user(const void *p, const void *q)
{
    const authc_user *u = p, *v = q;
    return same(u->id, v->id) && same(u->name, v->name) && same(u->email, v->email) && same(u->image, v->image) &&
           u->email_verified == v->email_verified;
}

static bool same_account(const void *p, const void *q)
{
    const authc_account *a = p, *b = q;
    return same(a->user_id, b->user_id) && same(a->provider, b->provider) &&
           same(a->provider_account_id, b->provider_account_id) && same(a->access_token, b->access_token) &&
           same(a->refresh_token, b->refresh_token) && same(a->id_token, b->id_token) &&
           a->expires_at == b->expires_at;
}

static bool same_session(const void *p, const void *q)
{
    const authc_session_row *r = p, *t = q;
    return same(r->session_token, t->session_token) && same(r->user_id, t->user_id) && r->expires == t->expires;
}

static bool same_token(const void *p, const void *q)
{
    const authc_verification_token *v = p, *x = q;
    return same(v->identifier, x->identifier) && same(v->token, x->token) && v->expires == x->expires;
}

static bool same_authenticator(const void *p, const void *q)
{
    const authc_authenticator *a = p, *b = q;
    return same(a->credential_id, b->credential_id) && same(a->user_id, b->user_id) &&
           same(a->credential_public_key, b->credential_public_key) && a->counter == b->counter &&
           a->credential_backed_up == b->credential_backed_up && same(a->transports, b->transports);
}

/* The row kinds by input byte 0 (mod 5): the id a user row falls back to
 * on each read (different, so a lost id shows), and what must survive. */
static const struct {
    rd_kind kind;
    const char *name, *id, *reread_id;
    bool (*same)(const void *, const void *);
} KINDS[] = {
    {RD_USER, "user", "fallback-id", "other-id", same_user},
    {RD_ACCOUNT, "account", NULL, NULL, same_account},
    {RD_SESSION, "session", NULL, NULL, same_session},
    {RD_VT, "verification token", NULL, NULL, same_token},
    {RD_AUTH, "authenticator", NULL, NULL, same_authenticator},
};

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
    int k = data[0] % 5;
    void *row = authc__rd_parse(&call, KINDS[k].kind, s, KINDS[k].id, NULL, &e), *back;
    if (row) {
        const char *w = authc__rd_json(call.ar, KINDS[k].kind, row);
        FUZZ_CHECK(w && (back = authc__rd_parse(&call, KINDS[k].kind, w, KINDS[k].reread_id, NULL, &e2)),
                   "%s does not round-trip", KINDS[k].name);
        FUZZ_CHECK(KINDS[k].same(row, back), "%s changed on the round trip: %s", KINDS[k].name, w);
    }
    if (getenv("FUZZ_VERBOSE")) /* to see that seeds reach the writers */
        fprintf(stderr, "redis kind %d: %s\n", k, e ? authc_strerror(e) : "read");
    FUZZ_CHECK(e == AUTHC_OK || e == AUTHC_ERR_ADAPTER || e == AUTHC_ERR_NOMEM, "reader error %s",
               authc_strerror(e));
    free(s);
    authc_arena_free(call.ar);
    return 0;
}

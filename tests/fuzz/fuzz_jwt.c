/* fuzz_jwt.c — differential target: the session JWT's fast refresh scanner
 * (lib/jose/refresh.c) against the jansson path (authc__jwt_decode). Both
 * must agree on accept/reject and the refreshed token must hold the claims. */
#include <jansson.h>

#include "fuzz.h"
#include "jose/jose_int.h"
#include "util/util_int.h"

#define NOW 1800000000LL
#define MAX_AGE 2592000LL

static const authc__jwe_key *key(void)
{
    static authc__jwe_key k;
    static int done;
    if (!done) {
        if (authc__jwe_derive(&k, "fuzz-secret-0123456789abcdefghijklmnopq", "authjs.session-token"))
            abort();
        done = 1;
    }
    return &k;
}

/* Claims minus the three members refresh rewrites. New reference. */
static json_t *stable(json_t *c)
{
    json_t *d = json_deep_copy(c);
    FUZZ_CHECK(d, "json_deep_copy");
    json_object_del(d, "iat");
    json_object_del(d, "exp");
    json_object_del(d, "jti");
    return d;
}

static void check_user_member(json_t *claims, const char *name, const char *raw)
{
    json_t *want = json_object_get(claims, name);
    FUZZ_CHECK(!want == !raw, "user member %s: fast path %s, jansson %s", name,
               raw ? "present" : "absent", want ? "present" : "absent");
    if (!raw)
        return;
    json_error_t je;
    json_t *got = json_loads(raw, JSON_DECODE_ANY, &je);
    FUZZ_CHECK(got && json_equal(got, want), "user member %s differs from jansson's", name);
    json_decref(got);
}

/* A string claim the scanner returned (NULL: absent or not a string). */
static void check_str(json_t *obj, const char *name, const char *got)
{
    const char *want = json_string_value(json_object_get(obj, name));
    FUZZ_CHECK(!want == !got, "claim %s: fast path %s, jansson %s", name, got ? "string" : "none",
               want ? "string" : "none");
    FUZZ_CHECK(!want || !strcmp(want, got), "claim %s differs from jansson's", name);
}

/* The claims GET /session's revocation check and forward-auth read. */
static void check_fields(json_t *claims, const authc__jwt_fields *f)
{
    check_str(claims, "sub", f->sub);
    check_str(claims, "name", f->name);
    check_str(claims, "email", f->email);
    check_str(claims, "provider", f->provider);
    check_str(claims, "access_token", f->access_token);
    json_t *iat = json_object_get(claims, "iat");
    FUZZ_CHECK(f->has_iat == json_is_number(iat), "iat: number or not");
    FUZZ_CHECK(!f->has_iat || f->iat == json_number_value(iat), "iat value differs");
    json_t *own = json_object_get(claims, "authc");
    json_t *oiat = json_object_get(own, "iat");
    FUZZ_CHECK(f->own == (json_is_object(own) && json_is_integer(oiat)), "authc claim: usable or not");
    if (f->own)
        FUZZ_CHECK(f->own_iat == json_integer_value(oiat), "authc.iat differs");
    check_str(own, "sid", f->sid);
    check_str(own, "p", f->p);
    check_str(own, "psid", f->psid);
    check_str(own, "psub", f->psub);
    /* groups: strings among the first entries of an array, or one string. */
    json_t *g = json_object_get(claims, "groups");
    size_t n = json_is_array(g) ? json_array_size(g) : json_is_string(g) ? 1 : 0, k = 0;
    if (n > AUTHC__JWT_GROUPS_MAX)
        n = AUTHC__JWT_GROUPS_MAX;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_is_array(g) ? json_array_get(g, i) : g;
        if (!json_is_string(e))
            continue;
        FUZZ_CHECK(k < f->n_groups && !strcmp(f->groups[k], json_string_value(e)), "group %zu differs", i);
        k++;
    }
    FUZZ_CHECK(k == f->n_groups, "group count: fast %zu, jansson %zu", f->n_groups, k);
}

static void differential(authc_arena *ar, const char *token, size_t len)
{
    const authc__jwe_key *k = key();
    char *fresh = NULL;
    const char *uj[3];
    authc_err fast = authc__jwt_refresh(ar, k, 1, k, token, len, NOW, MAX_AGE, &fresh, uj);
    json_t *claims = NULL;
    authc_err slow = authc__jwt_decode(ar, k, 1, token, len, NOW, &claims);
    if (fast == AUTHC_ERR_UNSUPPORTED) { /* the caller falls back to jansson */
        json_decref(claims);
        return;
    }
    FUZZ_CHECK(fast == slow, "fast path says %s, jansson path says %s", authc_strerror(fast),
               authc_strerror(slow));
    if (fast) {
        FUZZ_CHECK(!fresh, "refresh failed but returned a token");
        return;
    }
    /* The refreshed token decodes to the same claims with new iat/exp/jti. */
    json_t *again = NULL;
    authc_err rc = authc__jwt_decode(ar, k, 1, fresh, strlen(fresh), NOW, &again);
    FUZZ_CHECK(rc == AUTHC_OK, "refreshed token does not decode: %s", authc_strerror(rc));
    json_t *a = stable(claims), *b = stable(again);
    FUZZ_CHECK(json_equal(a, b), "refreshed token changed the claims");
    FUZZ_CHECK(json_integer_value(json_object_get(again, "iat")) == NOW, "iat not now");
    FUZZ_CHECK(json_integer_value(json_object_get(again, "exp")) == NOW + MAX_AGE, "exp not now+maxAge");
    FUZZ_CHECK(json_is_string(json_object_get(again, "jti")), "jti not a string");
    FUZZ_CHECK(json_object_size(again) == json_object_size(claims) +
                   !json_object_get(claims, "iat") + !json_object_get(claims, "exp") +
                   !json_object_get(claims, "jti"), "member count changed");
    check_user_member(claims, "name", uj[0]);
    check_user_member(claims, "email", uj[1]);
    check_user_member(claims, "picture", uj[2]);
    authc__jwt_fields f;
    char *fresh2 = NULL;
    rc = authc__jwt_refresh_fields(ar, k, 1, k, token, len, NOW, MAX_AGE, true, &fresh2, &f);
    if (rc != AUTHC_ERR_UNSUPPORTED) {
        FUZZ_CHECK(rc == AUTHC_OK, "refresh with the subject failed: %s", authc_strerror(rc));
        check_fields(claims, &f);
    }
    json_decref(a);
    json_decref(b);
    json_decref(again);
    json_decref(claims);
}

/* First byte even: the rest is the claims text, encrypted with the key
 * (so the scanners see it). Odd: the rest is a token as a cookie holds it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16 * 1024)
        return 0;
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return 0;
    if (data[0] % 2 == 0) {
        char *tok = NULL;
        if (authc__jwe_encrypt(ar, key(), data + 1, size - 1, &tok) == AUTHC_OK)
            differential(ar, tok, strlen(tok));
    } else {
        char *tok = authc_arena_strndup(ar, (const char *)data + 1, size - 1);
        if (tok)
            differential(ar, tok, strlen(tok));
    }
    authc_arena_free(ar);
    return 0;
}

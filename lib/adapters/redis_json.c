/* redis_json.c — the Redis backend's values: rows as upstash-redis-adapter
 * writes them (JSON.stringify byte layout, ISO dates) and reading them back with jansson. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapters/redis_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

/* ---- JSON out (JSON.stringify byte layout) ------------------------------- */

#define RD_JSON_MAX (RD_MAX_VALUE - 1)

/* An object being written: members are separated as they come. */
typedef struct jw {
    authc__buf b;
    bool first;
} jw;

static void jw_open(jw *w, authc_arena *ar)
{
    authc__buf_init(&w->b, ar, RD_JSON_MAX);
    authc__buf_addc(&w->b, '{');
    w->first = true;
}

/* The text, owned by the arena; NULL on OOM or over the limit. */
static const char *jw_close(jw *w)
{
    authc__buf_addc(&w->b, '}');
    return w->b.err ? NULL : w->b.p;
}

static void j_key(jw *w, const char *k)
{
    if (!w->first)
        authc__buf_addc(&w->b, ',');
    w->first = false;
    authc__buf_add_json_str(&w->b, k);
    authc__buf_addc(&w->b, ':');
}

/* "k":"v" or "k":null. */
static void j_str(jw *w, const char *k, const char *v)
{
    j_key(w, k);
    if (v)
        authc__buf_add_json_str(&w->b, v);
    else
        authc__buf_adds(&w->b, "null");
}

/* "k":"v", omitted when v is NULL (JS undefined). */
static void j_str_opt(jw *w, const char *k, const char *v)
{
    if (v)
        j_str(w, k, v);
}

/* "k":"2024-01-02T03:04:05.678Z" (toISOString) or "k":null. */
static void j_date(jw *w, const char *k, int64_t ms)
{
    j_key(w, k);
    if (ms == AUTHC_NO_TIME) {
        authc__buf_adds(&w->b, "null");
        return;
    }
    char iso[32];
    authc__iso8601(iso, ms);
    authc__buf_add_json_str(&w->b, iso);
}

static void j_int(jw *w, const char *k, int64_t v)
{
    j_key(w, k);
    authc__buf_printf(&w->b, "%" PRId64, v);
}

/* Key order of core's OAuth user: {...profile(id,name,email,image),
 * emailVerified}. Owned by ar. */
const char *authc__rd_user_json(authc_arena *ar, const authc_user *u)
{
    jw w;
    jw_open(&w, ar);
    j_str(&w, "id", u->id);
    j_str(&w, "name", u->name);
    j_str(&w, "email", u->email);
    j_str(&w, "image", u->image);
    j_date(&w, "emailVerified", u->email_verified);
    return jw_close(&w);
}

/* Order of the upstash example: identity, userId, tokens, then "id". */
const char *authc__rd_account_json(authc_arena *ar, const authc_account *a)
{
    jw w;
    jw_open(&w, ar);
    j_str(&w, "provider", a->provider);
    j_str(&w, "providerAccountId", a->provider_account_id);
    j_str(&w, "type", a->type);
    j_str(&w, "userId", a->user_id);
    j_str_opt(&w, "access_token", a->access_token);
    if (a->expires_at != AUTHC_NO_TIME)
        j_int(&w, "expires_at", a->expires_at);
    j_str_opt(&w, "id_token", a->id_token);
    j_str_opt(&w, "refresh_token", a->refresh_token);
    j_str_opt(&w, "token_type", a->token_type);
    j_str_opt(&w, "scope", a->scope);
    j_str_opt(&w, "session_state", a->session_state);
    j_str(&w, "id", a->id);
    return jw_close(&w);
}

const char *authc__rd_session_json(authc_arena *ar,
                                   const authc_session_row *s)
{
    jw w;
    jw_open(&w, ar);
    j_str(&w, "sessionToken", s->session_token);
    j_str(&w, "userId", s->user_id);
    j_date(&w, "expires", s->expires);
    return jw_close(&w);
}

const char *authc__rd_vt_json(authc_arena *ar,
                              const authc_verification_token *v)
{
    jw w;
    jw_open(&w, ar);
    j_str(&w, "identifier", v->identifier);
    j_str(&w, "token", v->token);
    j_date(&w, "expires", v->expires);
    return jw_close(&w);
}

/* Drizzle's authenticator columns; transports omitted when absent. */
const char *authc__rd_auth_json(authc_arena *ar, const authc_authenticator *a)
{
    jw w;
    jw_open(&w, ar);
    j_str(&w, "credentialID", a->credential_id);
    j_str(&w, "userId", a->user_id);
    j_str(&w, "providerAccountId", a->provider_account_id);
    j_str(&w, "credentialPublicKey", a->credential_public_key);
    j_int(&w, "counter", a->counter);
    j_str(&w, "credentialDeviceType", a->credential_device_type);
    j_key(&w, "credentialBackedUp");
    authc__buf_adds(&w.b, a->credential_backed_up ? "true" : "false");
    j_str_opt(&w, "transports", a->transports);
    return jw_close(&w);
}

/* ---- JSON in (what upstash, i.e. JSON.stringify, wrote) ------------------ */

/* A stored value parsed; the first conversion failure sticks. */
typedef struct jin {
    authc_arena *ar;
    json_t *o;
    authc_err err;
} jin;

/* Parses a stored value into j (release with json_decref(j->o)); false
 * when it is not a JSON object. */
static bool jin_parse(jin *j, authc_arena *ar, const char *s)
{
    j->ar = ar;
    j->err = AUTHC_OK;
    j->o = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    if (j->o && !json_is_object(j->o)) {
        json_decref(j->o);
        j->o = NULL;
    }
    return j->o != NULL;
}

/* String member as arena copy. Numbers (an id or providerAccountId that
 * JSON.parse turned into a number before a re-save) become their decimal
 * text; null/absent/other → NULL. */
static const char *jin_str(jin *j, const char *k)
{
    json_t *v = json_object_get(j->o, k);
    char *s = NULL;
    if (json_is_string(v))
        s = authc_arena_strndup(j->ar, json_string_value(v),
                                json_string_length(v));
    else if (json_is_integer(v))
        s = authc_arena_printf(j->ar, "%" JSON_INTEGER_FORMAT,
                               json_integer_value(v));
    else if (json_is_real(v))
        s = authc_arena_printf(j->ar, "%.17g", json_real_value(v));
    else
        return NULL;
    if (!s)
        j->err = AUTHC_ERR_NOMEM;
    return s;
}

/* Date member: ISO string (or epoch ms number) → ms; else AUTHC_NO_TIME. */
static int64_t jin_date(jin *j, const char *k)
{
    json_t *v = json_object_get(j->o, k);
    int64_t ms;
    if (json_is_string(v) &&
        authc__iso8601_parse(json_string_value(v), &ms) == AUTHC_OK)
        return ms;
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    return AUTHC_NO_TIME;
}

/* Integer member (number or numeric string) or dflt. */
static int64_t jin_int(jin *j, const char *k, int64_t dflt)
{
    json_t *v = json_object_get(j->o, k);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    int64_t x;
    if (json_is_string(v) &&
        authc__parse_i64(json_string_value(v), INT64_MIN, INT64_MAX, &x) ==
            AUTHC_OK)
        return x;
    return dflt;
}

static bool jin_bool(jin *j, const char *k)
{
    json_t *v = json_object_get(j->o, k);
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    if (json_is_string(v))
        return strcmp(json_string_value(v), "true") == 0;
    return false;
}

/* Starts reading one stored row: false (logged, *e = AUTHC_ERR_ADAPTER)
 * when it is not a JSON object. */
static bool row_open(rd_call *call, jin *j, const char *s, const char *what,
                     authc_err *e)
{
    if (jin_parse(j, call->ar, s))
        return true;
    /* The name is of a row kind, never a key (which may hold a token). */
    authc__adapter_log(call->self, "error", "%s: stored %s is not a JSON "
                       "object", call->ctx->label, what);
    *e = AUTHC_ERR_ADAPTER;
    return false;
}

/* Ends reading: true when row (allocated) was read without OOM. */
static bool row_close(jin *j, const void *row, authc_err *e)
{
    json_decref(j->o);
    if (!row || j->err) {
        *e = AUTHC_ERR_NOMEM;
        return false;
    }
    return true;
}

/* Parsers: NULL with *e set on failure; owned by call->ar. */
authc_user *authc__rd_parse_user(rd_call *call, const char *s,
                                 const char *id, authc_err *e)
{
    jin j;
    if (!row_open(call, &j, s, "user", e))
        return NULL;
    authc_user *u = authc_arena_alloc(call->ar, sizeof *u);
    if (u) {
        u->id = jin_str(&j, "id");
        if (!u->id && id)
            u->id = authc_arena_strdup(call->ar, id);
        u->name = jin_str(&j, "name");
        u->email = jin_str(&j, "email");
        u->email_verified = jin_date(&j, "emailVerified");
        u->image = jin_str(&j, "image");
    }
    return row_close(&j, u && u->id ? u : NULL, e) ? u : NULL;
}

authc_account *authc__rd_parse_account(rd_call *call, const char *s,
                                       authc_err *e)
{
    jin j;
    if (!row_open(call, &j, s, "account", e))
        return NULL;
    authc_account *a = authc_arena_alloc(call->ar, sizeof *a);
    if (a) {
        a->id = jin_str(&j, "id");
        a->user_id = jin_str(&j, "userId");
        a->type = jin_str(&j, "type");
        a->provider = jin_str(&j, "provider");
        a->provider_account_id = jin_str(&j, "providerAccountId");
        a->refresh_token = jin_str(&j, "refresh_token");
        a->access_token = jin_str(&j, "access_token");
        a->expires_at = jin_int(&j, "expires_at", AUTHC_NO_TIME);
        a->token_type = jin_str(&j, "token_type");
        a->scope = jin_str(&j, "scope");
        a->id_token = jin_str(&j, "id_token");
        a->session_state = jin_str(&j, "session_state");
    }
    return row_close(&j, a, e) ? a : NULL;
}

authc_session_row *authc__rd_parse_session(rd_call *call, const char *s,
                                           authc_err *e)
{
    jin j;
    if (!row_open(call, &j, s, "session", e))
        return NULL;
    authc_session_row *r = authc_arena_alloc(call->ar, sizeof *r);
    if (r) {
        r->id = NULL;  /* upstash sessions have no id */
        r->session_token = jin_str(&j, "sessionToken");
        r->user_id = jin_str(&j, "userId");
        r->expires = jin_date(&j, "expires");
    }
    return row_close(&j, r, e) ? r : NULL;
}

authc_verification_token *authc__rd_parse_vt(rd_call *call, const char *s,
                                             authc_err *e)
{
    jin j;
    if (!row_open(call, &j, s, "verification token", e))
        return NULL;
    authc_verification_token *v = authc_arena_alloc(call->ar, sizeof *v);
    if (v) {
        v->identifier = jin_str(&j, "identifier");
        v->token = jin_str(&j, "token");
        v->expires = jin_date(&j, "expires");
    }
    return row_close(&j, v, e) ? v : NULL;
}

bool authc__rd_parse_auth_into(rd_call *call, const char *s,
                               authc_authenticator *a, authc_err *e)
{
    jin j;
    if (!row_open(call, &j, s, "authenticator", e))
        return false;
    a->credential_id = jin_str(&j, "credentialID");
    a->user_id = jin_str(&j, "userId");
    a->provider_account_id = jin_str(&j, "providerAccountId");
    a->credential_public_key = jin_str(&j, "credentialPublicKey");
    a->counter = jin_int(&j, "counter", 0);
    a->credential_device_type = jin_str(&j, "credentialDeviceType");
    a->credential_backed_up = jin_bool(&j, "credentialBackedUp");
    a->transports = jin_str(&j, "transports");
    return row_close(&j, a, e);
}

authc_authenticator *authc__rd_parse_auth(rd_call *call, const char *s,
                                          authc_err *e)
{
    authc_authenticator *a = authc_arena_alloc(call->ar, sizeof *a);
    if (!a) {
        *e = AUTHC_ERR_NOMEM;
        return NULL;
    }
    return authc__rd_parse_auth_into(call, s, a, e) ? a : NULL;
}

const char *authc__rd_json_user_id(rd_call *call, const char *s)
{
    jin j;
    if (!jin_parse(&j, call->ar, s))
        return NULL;
    const char *owner = jin_str(&j, "userId");
    json_decref(j.o);
    return owner;
}

const char *authc__rd_index_value(rd_call *call, const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        json_t *s = json_loads(v, JSON_DECODE_ANY, NULL);
        const char *out = NULL;
        if (json_is_string(s))
            out = authc_arena_strdup(call->ar, json_string_value(s));
        json_decref(s);
        if (out)
            return out;
    }
    return v;
}

/* What a kind is called in log lines. */
static const char *const KIND_NAME[] = {
    [RD_USER] = "user", [RD_ACCOUNT] = "account", [RD_SESSION] = "session",
    [RD_VT] = "verification token", [RD_AUTH] = "authenticator"};

void *authc__rd_load(rd_call *call, const char *key, rd_kind kind,
                     const char *id, bool retry, authc_err *e)
{
    *e = AUTHC_OK;
    if (!key)
        return NULL; /* a key part too long to exist */
    char what[40], *v;
    snprintf(what, sizeof what, "get %s", KIND_NAME[kind]);
    if (!authc__rd_get(call, key, retry, what, &v)) {
        *e = AUTHC_ERR_ADAPTER;
        return NULL;
    }
    if (!v)
        return NULL;
    switch (kind) {
    case RD_USER:
        return authc__rd_parse_user(call, v, id, e);
    case RD_ACCOUNT:
        return authc__rd_parse_account(call, v, e);
    case RD_SESSION:
        return authc__rd_parse_session(call, v, e);
    case RD_VT:
        return authc__rd_parse_vt(call, v, e);
    case RD_AUTH:
        return authc__rd_parse_auth(call, v, e);
    }
    return NULL;
}

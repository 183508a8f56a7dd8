/* webauthn.c — the Passkey provider (Auth.js type "webauthn"): GET
 * /webauthn-options/:id and POST /callback/:id, challenge cookie, adapter writes. */
#include <stdlib.h>
#include <string.h>

#include "authc/webauthn.h"
#include "core/provider_api.h"
#include "store/store_int.h"
#include "providers/webauthn_int.h"

#define WA_DEFAULT_TIMEOUT 300000   /* Auth.js DEFAULT_WEBAUTHN_TIMEOUT */
#define WA_MAX_ORIGINS     16
#define WA_MAX_EMAIL       320
#define WA_MAX_AUTHNS      64       /* allow/exclude list entries sent */
#define WA_OPTIONS_MAX     (64 * 1024)
/* Accepted ceremonies are remembered this long (the challenge cookie and
 * its inner token both expire after 900 s, plus the decode tolerance). */
#define WA_REPLAY_TTL_MS   ((int64_t)(AUTHC__CHECK_MAX_AGE + AUTHC__JWT_CLOCK_TOLERANCE + 5) * 1000)

/* Provider settings plus the in-process replay memory (the one mutable
 * part of a frozen instance; it locks itself). */
typedef struct wa_impl {
    authc_arena *ar;        /* owns this record and its strings */
    char *rp_id, *rp_name;
    char **origins;
    size_t norigins;
    char *uv;               /* "required" | "preferred" | "discouraged" */
    char *attestation;      /* "none" | "indirect" | "direct" | "enterprise" */
    int64_t timeout_ms;
    bool enable;
    authc__problems bad;    /* invalid settings, reported by authc_new */
} wa_impl;

static void impl_free(void *p)
{
    wa_impl *w = p;
    if (!w)
        return;
    authc__problems_clear(&w->bad);
    authc_arena_free(w->ar);
}

static bool one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(v, *set))
            return true;
    return false;
}

static void note_bad(wa_impl *w, const char *msg, const char *value)
{
    authc__problem(&w->bad, NULL, "%s%s%s%s", msg, value ? " \"" : "", value ? value : "", value ? "\"" : "");
}

/* An origin as the browser writes it in client data: scheme://host[:port]. */
static bool origin_ok(const char *o)
{
    authc_arena *ar = authc_arena_new();
    authc__url u;
    bool ok = ar && strlen(o) < 512 && authc__url_parse(ar, o, &u) == AUTHC_OK && !strcmp(u.origin, o);
    authc_arena_free(ar);
    return ok;
}

static bool rp_id_ok(const char *s)
{
    size_t l = strlen(s);
    if (!l || l > 253 || s[0] == '.' || s[l - 1] == '.')
        return false;
    for (const char *q = s; *q; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '-' || *q == '.'))
            return false;
    return true;
}

static const char *or_default(const char *v, const char *def)
{
    return v && *v ? v : def;
}

static bool webauthn_check(const authc *a, const authc__provider *p, authc__problems *pr);
static authc_err webauthn_options(authc__ctx *c);
#define WA_OPTIONS_PER_CLIENT 60 /* per minute */
static authc_err webauthn_callback(authc__ctx *c);

/* The passkey type owns GET /webauthn-options/:id. */
static const authc__route WEBAUTHN_ROUTES[] = {
    {"webauthn-options", AUTHC__GET, webauthn_options, AUTHC_POOL_NET, 0},
};

static const authc__provider_ops WEBAUTHN_OPS = {
    .type = "webauthn",
    .page = AUTHC__PART_PASSKEY,
    .callback = webauthn_callback,
    .callback_methods = AUTHC__POST,
    .callback_pool = AUTHC_POOL_NET,
    .routes = WEBAUTHN_ROUTES,
    .nroutes = sizeof WEBAUTHN_ROUTES / sizeof *WEBAUTHN_ROUTES,
    .check = webauthn_check,
    .free = impl_free,
};

/* Copies the settings into w (strings in ar, w's arena) and notes each
 * invalid one in w->bad. AUTHC_ERR_NOMEM is the only error. */
static authc_err read_settings(wa_impl *w, authc_arena *ar, const authc_passkey_provider *in)
{
    static const char *const UV[] = {"required", "preferred", "discouraged", NULL};
    static const char *const ATT[] = {"none", "indirect", "direct", "enterprise", NULL};
    authc_err e = AUTHC_OK;
    w->ar = ar;
    w->enable = in->enable_webauthn;
    w->timeout_ms = in->timeout_ms > 0 ? in->timeout_ms : WA_DEFAULT_TIMEOUT;
    if (in->timeout_ms < 0 || in->timeout_ms > 3600000)
        note_bad(w, "timeout_ms must be between 1 and 3600000", NULL);
    w->uv = authc_arena_strdup(ar, or_default(in->user_verification, "required"));
    w->attestation = authc_arena_strdup(ar, or_default(in->attestation, "none"));
    if (!w->uv || !w->attestation)
        e = AUTHC_ERR_NOMEM;
    if (!e && !one_of(w->uv, UV))
        note_bad(w, "user_verification must be required, preferred or discouraged, not", w->uv);
    if (!e && !one_of(w->attestation, ATT))
        note_bad(w, "attestation must be none, indirect, direct or enterprise, not", w->attestation);
    if (!e && in->rp_id && *in->rp_id) {
        if (!(w->rp_id = authc_arena_strdup(ar, in->rp_id)))
            e = AUTHC_ERR_NOMEM;
        else if (!rp_id_ok(w->rp_id))
            note_bad(w, "rp_id must be a lowercase domain name (no scheme, port or path), not", w->rp_id);
    }
    if (!e && in->rp_name && *in->rp_name && !(w->rp_name = authc_arena_strdup(ar, in->rp_name)))
        e = AUTHC_ERR_NOMEM;
    if (!e && in->norigins) {
        if (in->norigins > WA_MAX_ORIGINS || !in->origins) {
            note_bad(w, "too many origins (at most 16)", NULL);
        } else if (!(w->origins = authc_arena_alloc(ar, in->norigins * sizeof *w->origins))) {
            e = AUTHC_ERR_NOMEM;
        } else {
            for (size_t i = 0; i < in->norigins && !e; i++) {
                if (!in->origins[i] || !(w->origins[i] = authc_arena_strdup(ar, in->origins[i]))) {
                    e = in->origins[i] ? AUTHC_ERR_NOMEM : AUTHC_ERR_INVALID;
                    break;
                }
                w->norigins++;
                if (!origin_ok(w->origins[i]))
                    note_bad(w, "an allowed origin must be exactly scheme://host[:port], not", w->origins[i]);
            }
            if (e == AUTHC_ERR_INVALID) {
                note_bad(w, "an allowed origin is NULL", NULL);
                e = AUTHC_OK;
            }
        }
    }
    return e;
}

authc_err authc_config_add_passkey(authc_config *cfg, const authc_passkey_provider *in)
{
    if (!cfg || !in)
        return AUTHC_ERR_INVALID;
    authc_arena *ar = NULL;
    wa_impl *w = authc__record_new(sizeof *w, &ar);
    authc_err e = w ? read_settings(w, ar, in) : AUTHC_ERR_NOMEM;
    char *id = e ? NULL : strdup(or_default(in->id, "passkey"));
    char *name = e ? NULL : strdup(or_default(in->name, "Passkey"));
    authc_credentials_field *f = e ? NULL : calloc(1, sizeof *f);
    char *fname = e ? NULL : strdup("email"), *flabel = e ? NULL : strdup("Email"),
         *ftype = e ? NULL : strdup("email");
    authc__provider *p = NULL;
    if (!e && id && name && f && fname && flabel && ftype)
        p = authc__config_add_provider(cfg);
    if (!p) {
        free(id);
        free(name);
        free(f);
        free(fname);
        free(flabel);
        free(ftype);
        impl_free(w);
        return AUTHC_ERR_NOMEM;
    }
    /* The sign-in page renders this as the passkey form's email input. */
    f->name = fname;
    f->label = flabel;
    f->type = ftype;
    p->id = id;
    p->name = name;
    p->ops = &WEBAUTHN_OPS;
    p->fields = f;
    p->nfields = 1;
    p->impl = w;
    return AUTHC_OK;
}

/* Called by authc_new: Auth.js's assertions for WebAuthn (§10.3). */
static bool webauthn_check(const authc *a, const authc__provider *p, authc__problems *pr)
{
    const wa_impl *w = p->impl;
    size_t before = authc__problems_count(pr);
#define ADD(...) authc__problem(pr, NULL, __VA_ARGS__)
    if (!w->enable)
        ADD("ExperimentalFeatureNotEnabled: the \"%s\" provider uses WebAuthn, which Auth.js marks "
            "experimental; opt in with enable_webauthn (the authc program: AUTHC_PASSKEY=1)", p->id);
    for (size_t i = 0; i < w->bad.n; i++)
        ADD("passkey provider \"%s\": %s", p->id, authc__problems_at(&w->bad, i)->text);
    const authc_adapter *ad = authc__inst_adapter(a);
    if (!ad) {
        ADD("MissingAdapter: the \"%s\" provider stores passkeys in a database; set AUTHC_DATABASE "
            "(or authc_config_set_adapter)", p->id);
    } else {
        const struct { const void *fn; const char *name; } need[] = {
            {ad->ops->create_user, "createUser"},
            {ad->ops->get_user, "getUser"},
            {ad->ops->get_user_by_email, "getUserByEmail"},
            {ad->ops->get_user_by_account, "getUserByAccount"},
            {ad->ops->link_account, "linkAccount"},
            {ad->ops->get_account, "getAccount"},
            {ad->ops->get_authenticator, "getAuthenticator"},
            {ad->ops->create_authenticator, "createAuthenticator"},
            {ad->ops->list_authenticators_by_user_id, "listAuthenticatorsByUserId"},
            {ad->ops->update_authenticator_counter, "updateAuthenticatorCounter"},
        };
        char missing[512] = "";
        for (size_t i = 0; i < sizeof need / sizeof *need; i++)
            if (!need[i].fn) {
                size_t l = strlen(missing);
                snprintf(missing + l, sizeof missing - l, "%s%s", l ? ", " : "", need[i].name);
            }
        if (missing[0])
            ADD("MissingAdapterMethods: the %s adapter lacks %s, needed by the \"%s\" provider",
                ad->ops->name ? ad->ops->name : "configured", missing, p->id);
    }
#undef ADD
    return authc__problems_count(pr) == before;
}

/* ------------------------------------------------------------------ */
/* Replay memory: accepted challenges until they expire, in the shared
 * store so that every instance refuses a challenge any of them accepted.
 * NULL when fresh; else why the ceremony is refused (a store failure
 * refuses too: fail closed, logged naming the store). */
static const char *replay_refusal(authc__ctx *c, const char *challenge)
{
    char key[AUTHC__HASHED_KEY_MAX], who[160];
    snprintf(who, sizeof who, "passkey:%s", authc__ctx_provider(c)->id);
    if (!authc__hashed_key(key, "replay", who, challenge))
        return "could not hash the challenge";
    bool fresh = false;
    authc_store *st = authc__inst_store(authc__ctx_instance(c));
    if (authc__store_set_nx(st, key, "1", 1, WA_REPLAY_TTL_MS, &fresh))
        return authc_arena_printf(authc__ctx_arena(c), "the replay store %s failed",
                                  authc__store_label(st));
    return fresh ? NULL : "this challenge was already used by an accepted ceremony (replay)";
}

/* ------------------------------------------------------------------ */
/* Relying party of this request. */

typedef struct wa_req {
    const wa_impl *w;
    authc__wa_rp rp;
    const char *rp_name;
    const char *origin_list[1];
} wa_req;

static authc_err rp_of(authc__ctx *c, wa_req *r)
{
    memset(r, 0, sizeof *r);
    r->w = authc__ctx_provider(c)->impl;
    authc__url u;
    if (authc__url_parse(authc__ctx_arena(c), authc__ctx_origin(c), &u))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "request origin %s cannot be parsed", authc__ctx_origin(c));
    r->rp.rp_id = r->w->rp_id ? r->w->rp_id : u.host;
    r->rp_name = r->w->rp_name ? r->w->rp_name : authc__ctx_host(c);
    if (r->w->norigins) {
        r->rp.origins = (const char *const *)r->w->origins;
        r->rp.norigins = r->w->norigins;
    } else {
        r->origin_list[0] = authc__ctx_origin(c);
        r->rp.origins = r->origin_list;
        r->rp.norigins = 1;
    }
    r->rp.require_uv = !strcmp(r->w->uv, "required");
    return AUTHC_OK;
}

static authc_err bad_ceremony(authc__ctx *c, const char *step, const char *why)
{
    return authc__fail(c, AUTHC_ERR_WEBAUTHN_VERIFICATION, "%s refused: %s",
                       step, why ? why : "verification failed");
}

static authc_err adapter_err(authc__ctx *c, authc_err e, const char *method)
{
    if (e == AUTHC_ERR_NOMEM)
        return e;
    return authc__fail(c, AUTHC_ERR_ADAPTER, "AdapterError: %s failed in the %s adapter (%s)", method,
                       authc__inst_adapter(authc__ctx_instance(c))->ops->name ? authc__inst_adapter(authc__ctx_instance(c))->ops->name : "configured", authc_strerror(e));
}

/* ------------------------------------------------------------------ */
/* GET /webauthn-options/:id */

static void add_descriptors(authc__buf *b, authc_arena *ar, const authc_authenticator *list, size_t n)
{
    authc__buf_addc(b, '[');
    size_t sent = 0;
    for (size_t i = 0; i < n && sent < WA_MAX_AUTHNS; i++) {
        size_t idl = 0;
        uint8_t *id = authc__wa_b64any_decode(ar, list[i].credential_id, &idl);
        if (!id)
            continue; /* a row we cannot describe is left out, not fatal */
        char *idu = authc__b64url_encode(ar, id, idl);
        if (!idu) {
            b->err = AUTHC_ERR_NOMEM;
            return;
        }
        if (sent++)
            authc__buf_addc(b, ',');
        authc__buf_adds(b, "{\"id\":");
        authc__buf_add_json_str(b, idu);
        authc__buf_adds(b, ",\"type\":\"public-key\"");
        if (list[i].transports && *list[i].transports) {
            authc__buf_adds(b, ",\"transports\":[");
            const char *t = list[i].transports;
            for (int k = 0; *t; k++) {
                size_t l = strcspn(t, ",");
                char *one = authc_arena_strndup(ar, t, l);
                if (!one) {
                    b->err = AUTHC_ERR_NOMEM;
                    return;
                }
                if (k)
                    authc__buf_addc(b, ',');
                authc__buf_add_json_str(b, one);
                t += l;
                if (*t == ',')
                    t++;
            }
            authc__buf_addc(b, ']');
        }
        authc__buf_addc(b, '}');
    }
    authc__buf_addc(b, ']');
}

/* The registerData user carried in the challenge cookie. */
static json_t *user_json(const authc_user *u)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    if (u->id)
        bad |= json_object_set_new(o, "id", json_string(u->id));
    if (u->name)
        bad |= json_object_set_new(o, "name", json_string(u->name));
    if (u->email)
        bad |= json_object_set_new(o, "email", json_string(u->email));
    if (u->image)
        bad |= json_object_set_new(o, "image", json_string(u->image));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Seals {challenge, registerData?} (salt encodedWebauthnChallenge) into the
 * challenge check cookie (§3.4, §8.7). */
static authc_err set_challenge(authc__ctx *c, const char *challenge, const authc_user *reg)
{
    json_t *claims = json_object();
    authc_err e = claims ? AUTHC_OK : AUTHC_ERR_NOMEM;
    if (!e && json_object_set_new(claims, "challenge", json_string(challenge)))
        e = AUTHC_ERR_NOMEM;
    if (!e && reg) {
        json_t *u = user_json(reg);
        if (!u || json_object_set_new(claims, "registerData", u))
            e = AUTHC_ERR_NOMEM;
    }
    char *inner = NULL;
    if (!e)
        e = authc__seal_encode(c, AUTHC__SEAL_CHALLENGE, claims, &inner);
    json_decref(claims);
    if (!e)
        e = authc__check_cookie_set(c, AUTHC__CK_CHALLENGE, inner, false);
    return e;
}

/* Answers an options request: sets the challenge cookie (bound to reg when
 * registering), then replies {"action":…,"options":<opts>}. */
static authc_err options_reply(authc__ctx *c, const char *action, const authc__buf *opts,
                               const char *challenge, const authc_user *reg)
{
    if (opts->err)
        return opts->err;
    authc_err e = set_challenge(c, challenge, reg);
    if (e)
        return e;
    authc__buf b;
    authc__buf_init(&b, authc__ctx_arena(c), WA_OPTIONS_MAX + 64);
    authc__buf_adds(&b, "{\"action\":");
    authc__buf_add_json_str(&b, action);
    authc__buf_adds(&b, ",\"options\":");
    authc__buf_adds(&b, opts->p);
    authc__buf_addc(&b, '}');
    if (b.err)
        return b.err;
    return authc__res_body(c, 200, "application/json", b.p, b.len);
}

static authc_err new_challenge(authc__ctx *c, char **out)
{
    uint8_t raw[32];
    authc_err e = authc__random(raw, sizeof raw);
    if (e)
        return e;
    *out = authc__b64url_encode(authc__ctx_arena(c), raw, sizeof raw);
    return *out ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

static authc_err list_authns(authc__ctx *c, const char *user_id, authc_authenticator **list, size_t *n)
{
    *list = NULL;
    *n = 0;
    if (!user_id)
        return AUTHC_OK;
    authc_adapter *ad = authc__inst_adapter(authc__ctx_instance(c));
    authc_err e = ad->ops->list_authenticators_by_user_id(ad, authc__ctx_arena(c), user_id, list, n);
    return e ? adapter_err(c, e, "listAuthenticatorsByUserId") : AUTHC_OK;
}

static authc_err register_options(authc__ctx *c, const wa_req *r, const authc_user *user)
{
    authc_authenticator *list;
    size_t n;
    authc_err e = list_authns(c, user->id, &list, &n);
    if (e)
        return e;
    char *challenge;
    if ((e = new_challenge(c, &challenge)))
        return e;
    /* A random user handle, as Auth.js: the credential is tied to the user
     * through the stored Authenticator row, never through this id. */
    uint8_t uid[32];
    char uidhex[65];
    if ((e = authc__random(uid, sizeof uid)))
        return e;
    authc__hex(uidhex, uid, sizeof uid);
    const wa_impl *w = r->w;
    authc__buf b;
    authc__buf_init(&b, authc__ctx_arena(c), WA_OPTIONS_MAX);
    authc__buf_adds(&b, "{\"challenge\":");
    authc__buf_add_json_str(&b, challenge);
    authc__buf_adds(&b, ",\"rp\":{\"name\":");
    authc__buf_add_json_str(&b, r->rp_name);
    authc__buf_adds(&b, ",\"id\":");
    authc__buf_add_json_str(&b, r->rp.rp_id);
    authc__buf_adds(&b, "},\"user\":{\"id\":");
    authc__buf_add_json_str(&b, uidhex);
    authc__buf_adds(&b, ",\"name\":");
    authc__buf_add_json_str(&b, user->email);
    authc__buf_adds(&b, ",\"displayName\":");
    authc__buf_add_json_str(&b, user->name ? user->name : user->email);
    authc__buf_adds(&b, "},\"pubKeyCredParams\":[{\"alg\":-8,\"type\":\"public-key\"},"
                        "{\"alg\":-7,\"type\":\"public-key\"},{\"alg\":-257,\"type\":\"public-key\"}]");
    authc__buf_printf(&b, ",\"timeout\":%lld,\"attestation\":", (long long)w->timeout_ms);
    authc__buf_add_json_str(&b, w->attestation);
    authc__buf_adds(&b, ",\"excludeCredentials\":");
    add_descriptors(&b, authc__ctx_arena(c), list, n);
    authc__buf_adds(&b, ",\"authenticatorSelection\":{\"residentKey\":\"required\",\"userVerification\":");
    authc__buf_add_json_str(&b, w->uv);
    authc__buf_adds(&b, ",\"requireResidentKey\":true},\"extensions\":{\"credProps\":true}}");
    return options_reply(c, "register", &b, challenge, user);
}

static authc_err authenticate_options(authc__ctx *c, const wa_req *r, const authc_user *user)
{
    authc_authenticator *list;
    size_t n;
    authc_err e = list_authns(c, user ? user->id : NULL, &list, &n);
    if (e)
        return e;
    char *challenge;
    if ((e = new_challenge(c, &challenge)))
        return e;
    authc__buf b;
    authc__buf_init(&b, authc__ctx_arena(c), WA_OPTIONS_MAX);
    authc__buf_adds(&b, "{\"challenge\":");
    authc__buf_add_json_str(&b, challenge);
    if (user && user->id) {
        authc__buf_adds(&b, ",\"allowCredentials\":");
        add_descriptors(&b, authc__ctx_arena(c), list, n);
    }
    authc__buf_printf(&b, ",\"timeout\":%lld,\"userVerification\":", (long long)r->w->timeout_ms);
    authc__buf_add_json_str(&b, r->w->uv);
    authc__buf_adds(&b, ",\"rpId\":");
    authc__buf_add_json_str(&b, r->rp.rp_id);
    authc__buf_addc(&b, '}');
    return options_reply(c, "authenticate", &b, challenge, NULL);
}

static authc_err webauthn_options(authc__ctx *c)
{
    authc_adapter *ad = authc__inst_adapter(authc__ctx_instance(c));
    if (!ad)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "MissingAdapter: passkeys need a database");
    /* The answer tells whether an address has an account: throttled per
     * client, in the shared store (docs/security.md). */
    bool stop;
    authc_err e = authc__throttle(c, "passkey-options", WA_OPTIONS_PER_CLIENT, 60, &stop);
    if (e || stop)
        return e;
    wa_req r;
    if ((e = rp_of(c, &r)))
        return e;
    const char *action = authc__map_last(authc__ctx_query(c), "action");
    if (action && strcmp(action, "register") && strcmp(action, "authenticate"))
        return authc__res_json(c, 400, "{\"error\":\"Invalid action\"}");

    /* Who is asking: the signed-in user, else the email given. */
    authc_user *session_user = NULL;
    if ((e = authc__session_current(c, &session_user, NULL, NULL)))
        return e;
    if (session_user && !session_user->id)
        session_user = NULL; /* a JWT without sub is not a signed-in user */
    const authc_user *user = session_user;
    bool exists = session_user != NULL;
    if (!session_user) {
        /* Auth.js passes the email as given (no lowercasing, trap T12). */
        const char *email = authc__map_last(authc__ctx_query(c), "email");
        if (email && *email) {
            if (strlen(email) > WA_MAX_EMAIL)
                return authc__res_json(c, 400, "{\"error\":\"Invalid request\"}");
            authc_user *found = NULL;
            if ((e = ad->ops->get_user_by_email(ad, authc__ctx_arena(c), email, &found)))
                return adapter_err(c, e, "getUserByEmail");
            if (found) {
                user = found;
                exists = true;
            } else {
                authc_user *nu = authc_arena_alloc(authc__ctx_arena(c), sizeof *nu);
                if (!nu)
                    return AUTHC_ERR_NOMEM;
                nu->email = email;
                nu->email_verified = AUTHC_NO_TIME;
                user = nu;
            }
        }
    }
    bool logged_in = session_user != NULL;
    /* Auth.js inferWebAuthnOptions. */
    const char *decision = NULL;
    if (action && !strcmp(action, "authenticate"))
        decision = "authenticate";
    else if (action && !strcmp(action, "register"))
        decision = user && logged_in == exists ? "register" : NULL;
    else if (!logged_in)
        decision = user && !exists ? "register" : "authenticate";
    if (decision && !strcmp(decision, "authenticate"))
        return authenticate_options(c, &r, user);
    if (decision && user && user->email && *user->email)
        return register_options(c, &r, user);
    return authc__res_json(c, 400, "{\"error\":\"Invalid request\"}");
}

/* ------------------------------------------------------------------ */
/* POST /callback/:id */

/* Reads the challenge cookie: the challenge and the registerData user. */
static authc_err use_challenge(authc__ctx *c, const char **challenge, authc_user **reg)
{
    *challenge = NULL;
    *reg = NULL;
    const char *inner = NULL;
    authc_err e = authc__check_cookie_use(c, AUTHC__CK_CHALLENGE, &inner);
    if (e)
        return e;
    if (!inner)
        return bad_ceremony(c, "ceremony", "the challenge cookie is missing, expired, or was made for another provider");
    json_t *claims = NULL;
    e = authc__seal_decode(c, AUTHC__SEAL_CHALLENGE, inner, &claims);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e)
        return bad_ceremony(c, "ceremony", "the challenge in the cookie cannot be decrypted or has expired");
    const char *ch = json_string_value(json_object_get(claims, "challenge"));
    json_t *rd = json_object_get(claims, "registerData");
    if (ch && *ch)
        *challenge = authc_arena_strdup(authc__ctx_arena(c), ch);
    if (json_is_object(rd)) {
        authc_user *u = authc_arena_alloc(authc__ctx_arena(c), sizeof *u);
        if (u) {
            u->id = authc_arena_strdup(authc__ctx_arena(c), json_string_value(json_object_get(rd, "id")));
            u->name = authc_arena_strdup(authc__ctx_arena(c), json_string_value(json_object_get(rd, "name")));
            u->email = authc_arena_strdup(authc__ctx_arena(c), json_string_value(json_object_get(rd, "email")));
            u->image = authc_arena_strdup(authc__ctx_arena(c), json_string_value(json_object_get(rd, "image")));
            u->email_verified = AUTHC_NO_TIME;
        }
        *reg = u;
    }
    json_decref(claims);
    if (!*challenge)
        return bad_ceremony(c, "ceremony", "the challenge cookie holds no challenge");
    return AUTHC_OK;
}

static authc_err do_authenticate(authc__ctx *c, const wa_req *r, json_t *cred)
{
    authc_adapter *ad = authc__inst_adapter(authc__ctx_instance(c));
    const authc__provider *p = authc__ctx_provider(c);
    size_t idl = 0;
    uint8_t *id = authc__wa_b64any_decode(authc__ctx_arena(c), json_string_value(json_object_get(cred, "id")), &idl);
    if (!id)
        return bad_ceremony(c, "authentication", "the credential id is not base64url or is too long");
    char *cred_b64 = authc__b64_encode(authc__ctx_arena(c), id, idl);
    if (!cred_b64)
        return AUTHC_ERR_NOMEM;
    authc_authenticator *stored = NULL;
    authc_err e = ad->ops->get_authenticator(ad, authc__ctx_arena(c), cred_b64, &stored);
    if (e)
        return adapter_err(c, e, "getAuthenticator");
    if (!stored)
        return bad_ceremony(c, "authentication", "unknown credential (no authenticator with this id is registered)");
    const char *challenge;
    authc_user *reg;
    if ((e = use_challenge(c, &challenge, &reg)))
        return e;
    size_t kl = 0;
    uint8_t *key = authc__b64_decode(authc__ctx_arena(c), stored->credential_public_key ? stored->credential_public_key : "",
                                     stored->credential_public_key ? strlen(stored->credential_public_key) : 0, &kl);
    if (!key || !kl)
        return bad_ceremony(c, "authentication", "the stored credential public key is not base64");
    authc__wa_assertion as;
    const char *why = NULL;
    e = authc__wa_verify_authentication(authc__ctx_arena(c), &r->rp, challenge, cred, key, kl, stored->counter, &as, &why);
    if (e == AUTHC_ERR_WEBAUTHN_VERIFICATION)
        return bad_ceremony(c, "authentication", why);
    if (e)
        return e;
    const char *refused = replay_refusal(c, challenge);
    if (refused)
        return bad_ceremony(c, "authentication", refused);
    authc_authenticator *upd = NULL;
    if ((e = ad->ops->update_authenticator_counter(ad, authc__ctx_arena(c), stored->credential_id, as.new_counter, &upd)))
        return adapter_err(c, e, "updateAuthenticatorCounter");
    const char *acct_id = stored->provider_account_id ? stored->provider_account_id : stored->credential_id;
    authc_account *acct = NULL;
    if ((e = ad->ops->get_account(ad, authc__ctx_arena(c), acct_id, p->id, &acct)))
        return adapter_err(c, e, "getAccount");
    if (!acct || !acct->user_id)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "WebAuthn account not found in the database for a registered authenticator "
                           "(provider %s)", p->id);
    authc_user *user = NULL;
    if ((e = ad->ops->get_user(ad, authc__ctx_arena(c), acct->user_id, &user)))
        return adapter_err(c, e, "getUser");
    if (!user)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "WebAuthn user %s of a registered authenticator not found in the database",
                           acct->user_id);
    authc_account account = {.provider = p->id, .type = "webauthn",
                             .provider_account_id = acct->provider_account_id ? acct->provider_account_id : acct_id,
                             .user_id = acct->user_id, .expires_at = AUTHC_NO_TIME};
    return authc__login(c, user, &account);
}

static authc_err do_register(authc__ctx *c, const wa_req *r, json_t *cred)
{
    authc_adapter *ad = authc__inst_adapter(authc__ctx_instance(c));
    const authc__provider *p = authc__ctx_provider(c);
    const char *challenge;
    authc_user *reg;
    authc_err e = use_challenge(c, &challenge, &reg);
    if (e)
        return e;
    if (!reg || !reg->email || !*reg->email)
        return bad_ceremony(c, "registration", "the challenge cookie was issued for a sign-in, not a registration");
    authc__wa_registration rg;
    const char *why = NULL;
    e = authc__wa_verify_registration(authc__ctx_arena(c), &r->rp, challenge, cred, &rg, &why);
    if (e == AUTHC_ERR_WEBAUTHN_VERIFICATION)
        return bad_ceremony(c, "registration", why);
    if (e)
        return e;
    char *cred_b64 = authc__b64_encode(authc__ctx_arena(c), rg.cred_id, rg.cred_id_len);
    char *key_b64 = authc__b64_encode(authc__ctx_arena(c), rg.cose_key, rg.cose_key_len);
    if (!cred_b64 || !key_b64)
        return AUTHC_ERR_NOMEM;
    /* A credential id is registered once (excludeCredentials asks the
     * browser for that; a forged or replayed response must not rebind it). */
    authc_authenticator *dup = NULL;
    if ((e = ad->ops->get_authenticator(ad, authc__ctx_arena(c), cred_b64, &dup)))
        return adapter_err(c, e, "getAuthenticator");
    if (dup)
        return bad_ceremony(c, "registration", "this credential is already registered");
    const char *refused = replay_refusal(c, challenge);
    if (refused)
        return bad_ceremony(c, "registration", refused);
    authc_account account = {.provider = p->id, .type = "webauthn", .provider_account_id = cred_b64,
                             .expires_at = AUTHC_NO_TIME};
    authc_user profile = *reg;
    if ((e = authc__login(c, &profile, &account)))
        return e;
    if (!authc__ctx_login_user(c) || !authc__ctx_login_user(c)->id)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "passkey registration finished without a user id");
    authc_authenticator in = {
        .credential_id = cred_b64,
        .user_id = authc__ctx_login_user(c)->id,
        .provider_account_id = cred_b64,
        .credential_public_key = key_b64,
        .counter = rg.counter,
        .credential_device_type = rg.device_type,
        .credential_backed_up = rg.backed_up,
        .transports = rg.transports,
    };
    authc_authenticator *out = NULL;
    if ((e = ad->ops->create_authenticator(ad, authc__ctx_arena(c), &in, &out)))
        return adapter_err(c, e, "createAuthenticator");
    const char *prev = authc__ctx_log_line(c);
    authc__ctx_set_log_line(c, authc_arena_printf(authc__ctx_arena(c), "%s passkey=registered fmt=%s",
                                                  prev ? prev : "signIn", rg.fmt));
    return AUTHC_OK;
}

static authc_err webauthn_callback(authc__ctx *c)
{
    if (!authc__inst_adapter(authc__ctx_instance(c)))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "MissingAdapter: passkeys need a database");
    const char *action = authc__map_last(authc__ctx_body(c), "action");
    if (!action || (strcmp(action, "authenticate") && strcmp(action, "register")))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "AuthError: Invalid action parameter (the passkey callback needs action=authenticate|register)");
    wa_req r;
    authc_err e = rp_of(c, &r);
    if (e)
        return e;
    const char *data = authc__map_last(authc__ctx_body(c), "data");
    if (!data || !*data)
        return bad_ceremony(c, action, "the request carries no credential (form field data)");
    json_error_t je;
    json_t *cred = json_loads(data, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(cred) || !json_is_string(json_object_get(cred, "id"))) {
        json_decref(cred);
        return bad_ceremony(c, action, "the credential (form field data) is not a JSON object with an id");
    }
    e = strcmp(action, "register") ? do_authenticate(c, &r, cred) : do_register(c, &r, cred);
    json_decref(cred);
    return e;
}

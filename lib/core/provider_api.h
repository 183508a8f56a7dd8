/* provider_api.h — the one interface between the protocol core and provider
 * types: each type is a const ops table; providers reach a request only through the calls below. */
#ifndef AUTHC_PROVIDER_API_H
#define AUTHC_PROVIDER_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "authc.h"
#include "authc/adapter.h"
#include "core/pages_int.h"
#include "jose/jose_int.h"
#include "util/parse_int.h"
#include "util/problems_int.h"
#include "util/util_int.h"

/* Hard limits on what a request may carry. */
#define AUTHC__MAX_URL          8192
#define AUTHC__MAX_BODY         (64 * 1024)
#define AUTHC__MAX_COOKIE_HDR   (64 * 1024)
#define AUTHC__MAX_COOKIES      128
#define AUTHC__MAX_FORM_PAIRS   256
#define AUTHC__MAX_HEADER_VALUE (16 * 1024)
#define AUTHC__MAX_SECRETS      8
#define AUTHC__CHUNK_SIZE       3936
/* Lifetime of check cookies and sealed state (seconds). */
#define AUTHC__CHECK_MAX_AGE    900

/* One request, owned by the core; providers see it only through calls. */
typedef struct authc__ctx authc__ctx;
typedef struct authc__provider authc__provider;
typedef struct authc__provider_ops authc__provider_ops;

/* A step of a route or of a provider type. */
typedef authc_err (*authc__step_fn)(authc__ctx *c);

/* HTTP methods a route accepts (bit set). */
#define AUTHC__GET  1u
#define AUTHC__POST 2u
#define AUTHC__HEAD 4u /* answered like GET (Auth.js routes take GET and POST only) */

/* Route flags (core routes; provider routes use 0). */
#define AUTHC__R_PAGE        1u /* a GET answers with an HTML page (assertion failures too) */
#define AUTHC__R_PROVIDER    2u /* takes /<provider id> */
#define AUTHC__R_DB_SESSIONS 4u /* needs the DB pool when sessions live in the database */
#define AUTHC__R_SIGNIN      8u /* POST with a provider: the type's sign-in step decides the pool */
#define AUTHC__R_CALLBACK   16u /* with a provider: the type's callback step decides the pool */
#define AUTHC__R_TOKENS     32u /* may refresh tokens or discover end_session: network */
#define AUTHC__R_SUB_CALLBACK 64u /* also <name>/callback/<provider id> (RP-initiated logout) */
#define AUTHC__R_SUBPATH   128u /* takes /<word> (c->subpath), not a provider */
#define AUTHC__R_JSON404   256u /* an unknown provider is 404 JSON, not the error page */
#define AUTHC__R_NO_INIT   512u /* a GET answers without init's CSRF / callback-url cookies */

/* One row of a route table: <base>/<name>[/<provider id>]. */
typedef struct authc__route {
    const char *name;
    unsigned methods;           /* AUTHC__GET | AUTHC__POST */
    authc__step_fn handler;
    authc_pool pool;            /* worker pool the request needs (before flags) */
    unsigned flags;             /* AUTHC__R_* */
} authc__route;

/* How a refresh_token grant went (provider ops `refresh`). */
typedef enum authc__refresh_result {
    AUTHC__REFRESH_OK,
    AUTHC__REFRESH_DEAD,      /* invalid_grant, or a new id_token for another sub */
    AUTHC__REFRESH_TRANSIENT, /* network, timeout, 5xx, store: try later */
} authc__refresh_result;

/* Tokens of a refresh_token grant; strings are arena strings (absent = NULL). */
typedef struct authc__refreshed {
    const char *access_token, *refresh_token, *id_token, *token_type, *scope;
    int64_t expires_at;       /* Unix seconds; 0 = not sent */
} authc__refreshed;

/* Where RP-initiated logout sends the browser (arena strings). */
typedef struct authc__end_session {
    const char *endpoint;     /* discovery's end_session_endpoint */
    const char *client_id;
    bool enabled;             /* AUTH_<ID>_FEDERATED_SIGNOUT (AUTHC_FEDERATED_SIGNOUT turns on all) */
} authc__end_session;

/* A provider type. Tables are static const data; the core never looks at
 * a type's name to decide anything. */
struct authc__provider_ops {
    const char *type;           /* Auth.js type: "oauth" "oidc" "email" "credentials" "webauthn" */
    authc__page_part page;
    authc__step_fn signin;      /* POST /signin/:id, or NULL (back to the sign-in page) */
    authc_pool signin_pool;     /* worker pool the sign-in step needs */
    authc__step_fn callback;    /* /callback/:id */
    unsigned callback_methods;  /* AUTHC__GET | AUTHC__POST */
    authc_pool callback_pool;
    const authc__route *routes; /* extra routes the type owns (e.g. "webauthn-options") */
    size_t nroutes;
    /* Called once by authc_new: adds every problem to pr (problems_int.h);
     * false refuses the configuration. */
    bool (*check)(const authc *a, const authc__provider *p, authc__problems *pr);
    void (*free)(void *impl);
    /* Where its sign-in POST sends the browser next (an origin, arena
     * string) or NULL: the sign-in page's CSP form-action allows it. */
    const char *(*form_target)(authc_arena *ar, const authc__provider *p);
    /* Optional: the refresh_token grant (presents rt exactly once). A new
     * id_token must name expected_sub (when not NULL), else DEAD. */
    authc__refresh_result (*refresh)(authc__ctx *c, const authc__provider *p, const char *rt,
                                     const char *expected_sub, authc__refreshed *out);
    /* Optional: RP-initiated logout; false when the provider has no
     * end_session_endpoint. */
    bool (*end_session)(authc__ctx *c, const authc__provider *p, authc__end_session *out);
    bool jwt_only;              /* its sign-ins always issue JWT sessions */
    bool signin_at_callback;    /* authc_sign_in() posts to /callback/:id */
};

/* A configured provider. The provider module fills it when added and owns
 * impl (freed by ops->free); id, name and fields are malloc'd, freed by the core. */
struct authc__provider {
    char *id;
    char *name;
    const authc__provider_ops *ops;
    void *impl;
    authc_credentials_field *fields; /* shown by the page (credentials, passkey) */
    size_t nfields;
    const char *brand_color;    /* borrowed from impl, or NULL */
    bool allow_dangerous_email_linking;
};

/* Appends a zeroed provider to a configuration under construction (the
 * caller fills it). NULL on OOM. Owned by the configuration. */
authc__provider *authc__config_add_provider(authc_config *cfg);

/* A zeroed record of size bytes at the start of a new arena *ar, so that
 * the record and every string later copied into *ar live and die together
 * (a provider's impl: ops->free ends with authc_arena_free(*ar)). NULL on
 * OOM (nothing kept). */
void *authc__record_new(size_t size, authc_arena **ar);

/* Instance settings a provider may read (all borrowed from the instance). */
authc_adapter *authc__inst_adapter(const authc *a);
/* The shared store (lib/store/store_int.h); never NULL on a built instance. */
struct authc_store *authc__inst_store(const authc *a);
/* Credentials regulation settings (abuse/abuse_int.h); never NULL. */
const struct authc__regulation *authc__inst_regulation(const authc *a);
const authc_callbacks *authc__inst_callbacks(const authc *a);
/* The base path without a trailing "/" ("" for "/"). */
const char *authc__inst_base(const authc *a);
/* The instance secrets joined as Auth.js stringifies them. */
const char *authc__inst_csrf_secret(const authc *a);
void authc__log(const authc *a, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the request ------------------------------------------------------ */
/* Every string returned is borrowed from the request (its arena). */
const authc *authc__ctx_instance(const authc__ctx *c);
authc_arena *authc__ctx_arena(const authc__ctx *c);
const authc__provider *authc__ctx_provider(const authc__ctx *c);
bool authc__ctx_is_post(const authc__ctx *c);
const char *authc__ctx_origin(const authc__ctx *c);      /* "https://app.example" */
const char *authc__ctx_host(const authc__ctx *c);        /* host[:port] shown on pages */
const char *authc__ctx_full_url(authc__ctx *c);          /* origin + path + ?query; NULL on OOM */
const char *authc__ctx_header(const authc__ctx *c, const char *name);
/* The client's address after trusted proxies (AUTHC_TRUSTED_PROXIES), or
 * the request's client_addr; NULL when unknown. */
const char *authc__ctx_client_addr(const authc__ctx *c);
const authc__map *authc__ctx_query(const authc__ctx *c);
const authc__map *authc__ctx_body(const authc__ctx *c);
bool authc__ctx_return_redirect(const authc__ctx *c);     /* X-Auth-Return-Redirect */
bool authc__ctx_csrf_verified(const authc__ctx *c);
const char *authc__ctx_csrf_token(const authc__ctx *c);
const char *authc__ctx_callback_url(const authc__ctx *c); /* resolved callbackUrl */
authc__lang authc__ctx_lang(const authc__ctx *c);
const authc__theme *authc__ctx_theme(const authc__ctx *c);
/* The user authc__login signed in during this request, or NULL. */
const authc_user *authc__ctx_login_user(const authc__ctx *c);
/* events.c: auth events, counted in the metrics and kept for the log. */
/* A sign-in ended: result "success" or the Auth.js error type. */
void authc__event_signin(authc__ctx *c, const char *result, const char *user_id);
/* A sign-out (kind "session"; others name theirs). */
void authc__event_signout(authc__ctx *c, const char *kind, const char *user_id);
/* Counts a failed adapter call (op: the Auth.js method name). */
void authc__adapter_error(const authc *a, const char *op);

/* The line the server logs for this request (arena string), or NULL. */
const char *authc__ctx_log_line(const authc__ctx *c);
void authc__ctx_set_log_line(authc__ctx *c, const char *line);
/* The &code= of a CredentialsSignin error redirect. */
void authc__ctx_set_error_code(authc__ctx *c, const char *code);

/* ---- answering -------------------------------------------------------- */
/* Records why a request failed (for the log, never shown) and returns e. */
authc_err authc__fail(authc__ctx *c, authc_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
authc_err authc__res_header(authc__ctx *c, const char *name, const char *value);
authc_err authc__res_body(authc__ctx *c, int status, const char *ctype,
                          const char *body, size_t len);
authc_err authc__res_json(authc__ctx *c, int status, const char *json);
authc_err authc__res_redirect(authc__ctx *c, const char *location);
/* Adds Cache-Control: private, no-cache, no-store; Expires: 0; Pragma. */
authc_err authc__res_nocache(authc__ctx *c);
/* The app's redirect callback (default: same origin only). Never NULL. */
const char *authc__redirect_resolve(authc__ctx *c, const char *url);

/* ---- check cookies and sealed values ----------------------------------- */
typedef enum authc__ck {
    AUTHC__CK_SESSION,
    AUTHC__CK_CALLBACK,
    AUTHC__CK_CSRF,
    AUTHC__CK_PKCE,
    AUTHC__CK_STATE,
    AUTHC__CK_NONCE,
    AUTHC__CK_CHALLENGE,
    AUTHC__CK__COUNT
} authc__ck;

/* Check cookies (pkce/state/nonce/challenge): sealed JWE per §3.4. */
authc_err authc__check_cookie_set(authc__ctx *c, authc__ck key, const char *value,
                                  bool form_post);
/* Reads, validates (provider must match) and queues the clearing of a
 * check cookie. *value = NULL when missing/invalid (→ InvalidCheck). */
authc_err authc__check_cookie_use(authc__ctx *c, authc__ck key, const char **value);

/* Keys a sealed value is made with (Auth.js salts). */
typedef enum authc__seal { AUTHC__SEAL_STATE, AUTHC__SEAL_CHALLENGE } authc__seal;
/* Seals claims for AUTHC__CHECK_MAX_AGE seconds; *out is an arena string. */
authc_err authc__seal_encode(authc__ctx *c, authc__seal kind, json_t *claims, char **out);
/* Opens a sealed value; *claims is a new reference the caller decrefs. */
authc_err authc__seal_decode(authc__ctx *c, authc__seal kind, const char *tok, json_t **claims);

/* ---- sessions ---------------------------------------------------------- */
/* Runs the signIn callback, links or creates the user through the adapter
 * (Auth.js handleLoginOrRegister, spec §8.3), issues the session, fires
 * events and answers with the redirect. `profile` is the user as the
 * provider describes it; `account` has provider, type and
 * provider_account_id set (and tokens for OAuth). */
authc_err authc__login(authc__ctx *c, const authc_user *profile, authc_account *account);
/* Issues the session for a signed-in user (JWT cookie or DB session). */
authc_err authc__session_issue(authc__ctx *c, const authc_user *user,
                               const authc_account *account, bool is_new_user);
/* ---- ending sessions (lib/core/session_revoke.c) ------------------------ */
/* Ends every session of this request's provider's session id psid (else
 * of its subject psub) on every instance: revocation marks for JWT
 * sessions, and the linked user's database sessions. When clear_here, this
 * browser's session cookie is cleared if it belongs to psid/psub.
 * AUTHC_ERR_ADAPTER when the store or the adapter failed. */
authc_err authc__end_provider_sessions(authc__ctx *c, const char *psid, const char *psub,
                                       bool clear_here);
/* Reads the current session user without side effects. *user NULL when none. */
authc_err authc__session_current(authc__ctx *c, authc_user **user, int64_t *expires_ms,
                                 const char **db_token);

/* ---- throttle.c: endpoint throttles per client ---- */
/* Counts one event of bucket for this request's client (its rate key).
 * Over the limit: fills the 429 answer (Retry-After, no-store; {url} with
 * code=rate_limited for X-Auth-Return-Redirect callers) and sets *stop.
 * A store failure refuses the request (fail closed): AUTHC_ERR_ADAPTER. */
authc_err authc__throttle(authc__ctx *c, const char *bucket, int64_t limit, int64_t window_s, bool *stop);
/* The client's rate key (IPv6 by /64) in out (AUTHC__IP_STR bytes); "" when unknown. */
void authc__ctx_ip_key(const authc__ctx *c, char *out);

#endif

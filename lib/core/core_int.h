/* core_int.h — private structures of the protocol core: the frozen instance,
 * providers, per-request context, and the functions each action file exports. */
#ifndef AUTHC_CORE_INT_H
#define AUTHC_CORE_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "authc.h"
#include "authc/adapter.h"
#include "core/pages_int.h"
#include "jose/jose_int.h"
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
#define AUTHC__CHECK_MAX_AGE    900

typedef enum authc__ptype {
    AUTHC__P_OAUTH,
    AUTHC__P_OIDC,
    AUTHC__P_EMAIL,
    AUTHC__P_CREDENTIALS,
    AUTHC__P_WEBAUTHN,
} authc__ptype;

typedef struct authc__provider {
    char *id;
    char *name;
    authc__ptype type;
    /* credentials */
    authc_credentials_field *fields;
    size_t nfields;
    authc_authorize_fn authorize;
    void *authorize_ud;
    /* oauth/oidc/email: owned by their provider modules */
    void *impl;
    const char *brand_color;
    bool allow_dangerous_email_linking;
    /* Provider-type modules (oauth, email, webauthn) own `impl`: */
    void (*impl_free)(void *impl);
    /* Called once by authc_new: validate and derive; append problems to
     * err (one per line) and return false to refuse the configuration. */
    bool (*impl_check)(struct authc *a, struct authc__provider *p, char *err, size_t errlen);
} authc__provider;

/* Cookie keys, in the order of spec §3.1. */
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

typedef enum authc__strategy { AUTHC__JWT, AUTHC__DATABASE } authc__strategy;

/* The instance: built by the config API, frozen by authc_new. Nothing in it
 * changes after that, so request threads read it without locks. */
struct authc {
    /* settings */
    char *secrets[AUTHC__MAX_SECRETS];
    size_t nsecrets;
    char *url;                  /* AUTH_URL or NULL */
    char *url_origin;           /* derived */
    char *url_host;             /* host[:port] of AUTH_URL */
    bool url_https;
    bool trust_host;
    char *base_path;            /* no trailing slash, e.g. "/auth" */
    int strategy_set;           /* -1 unset, else authc__strategy */
    authc__strategy strategy;
    int64_t max_age, update_age;/* seconds */
    int secure_cookies;         /* -1 auto, 0, 1 */
    char *cookie_domain;
    char *pages_signin, *pages_signout, *pages_error, *pages_verify, *pages_new_user;
    authc__theme theme;
    char *theme_strs[4];
    char *lang;                 /* "auto", "en", "zh-CN" */
    authc__provider *providers;
    size_t nproviders;
    authc_adapter *adapter;
    authc_callbacks cb;
    authc_log_fn log;
    void *log_ud;
    /* derived once at start-up */
    char *csrf_secret;          /* secrets comma-joined, as JS stringifies */
    char *cookie_names[2][AUTHC__CK__COUNT]; /* [secure][key] */
    authc__jwe_key *session_keys[2];         /* [secure][secret index] */
    authc__jwe_key *check_keys[2][AUTHC__CK__COUNT]; /* salt = that cookie's name */
    authc__jwe_key *state_keys;              /* salt "encodedState" */
    authc__jwe_key *challenge_keys;          /* salt "encodedWebauthnChallenge" */
    char *providers_json_tail;  /* not used yet */
};

/* One queued Set-Cookie. */
typedef struct authc__cookie_out {
    const char *name;
    const char *value;          /* raw; encoded on output */
    int64_t max_age;            /* -1 = none */
    int64_t expires;            /* seconds since epoch; -1 = none */
    bool form_post;             /* SameSite=None; Secure */
} authc__cookie_out;

typedef struct authc__cookie_list {
    authc__cookie_out *items;
    size_t n, cap;
} authc__cookie_list;

/* Per-request context: parsed once, read by every action. */
typedef struct authc__ctx {
    const authc *a;
    authc_arena *ar;
    const authc_request *req;
    bool post;
    const char *origin;         /* "http://127.0.0.1:3000" */
    const char *host;           /* host[:port] shown on pages */
    const char *full_url;       /* origin + path + ?query */
    bool secure;
    const char *const *ck;      /* cookie names for this mode */
    const char *action;
    const char *provider_id;    /* NULL when none */
    const authc__provider *provider;
    authc__map query, cookies, body;
    json_t *body_json;          /* JSON body object or NULL (owned; freed at end) */
    const char *accept_language;
    bool return_redirect;       /* X-Auth-Return-Redirect present */
    bool skip_csrf;             /* server-side helpers */
    /* CSRF state */
    const char *csrf_token;
    bool csrf_verified;
    /* callbackUrl */
    const char *callback_url;
    /* output */
    authc_response *res;
    size_t hdr_cap;
    authc__cookie_list init_cookies;  /* csrf / callback-url */
    authc__cookie_list cookies_out;   /* the action's own */
    /* error detail for the log (never shown to users) */
    const char *err_detail;
    const char *err_code_extra; /* &code= for CredentialsSignin */
    const char *log_line;
    /* Set by authc__login: the user the session now belongs to. */
    const authc_user *login_user;
} authc__ctx;

/* ---- errors.c ---- */
/* Records why a request failed (for the log) and returns e. */
authc_err authc__fail(authc__ctx *c, authc_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void authc__log(const authc *a, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True for the Auth.js SignInError kinds (go to the sign-in page). */
bool authc__err_is_signin_kind(authc_err e);

/* ---- response.c ---- */
authc_err authc__res_header(authc__ctx *c, const char *name, const char *value);
authc_err authc__res_body(authc__ctx *c, int status, const char *ctype,
                          const char *body, size_t len);
authc_err authc__res_json(authc__ctx *c, int status, const char *json);
authc_err authc__res_redirect(authc__ctx *c, const char *location);
/* Adds Cache-Control: private, no-cache, no-store; Expires: 0; Pragma. */
authc_err authc__res_nocache(authc__ctx *c);

/* ---- cookies.c ---- */
/* Parses the Cookie header into c->cookies (first wins, %-decoded). */
authc_err authc__cookies_parse(authc__ctx *c, const char *header);
authc_err authc__cookie_push(authc__ctx *c, authc__cookie_list *l,
                             const char *name, const char *value,
                             int64_t max_age, int64_t expires);
/* Serialises one cookie into a Set-Cookie value (owned by c->ar). */
char *authc__cookie_serialize(authc__ctx *c, const authc__cookie_out *co);
/* Session cookie: the value reassembled from chunks, or NULL. */
const char *authc__session_read(authc__ctx *c);
/* Queues the session value (chunked) with Expires=exp_sec, expiring stale
 * chunks; value NULL = clear every collected chunk. */
authc_err authc__session_write(authc__ctx *c, const char *value, int64_t exp_sec);
/* Check cookies (pkce/state/nonce/challenge): sealed JWE per §3.4. */
authc_err authc__check_cookie_set(authc__ctx *c, authc__ck key, const char *value,
                                  bool form_post);
/* Reads, validates (provider must match) and queues the clearing of a
 * check cookie. *value = NULL when missing/invalid (→ InvalidCheck). */
authc_err authc__check_cookie_use(authc__ctx *c, authc__ck key, const char **value);

/* ---- csrf.c ---- */
/* Validates/mints the CSRF token (init step). */
authc_err authc__csrf_init(authc__ctx *c);
/* sha256hex(token + csrf secret) into out (65 bytes). */
void authc__csrf_hash(const authc *a, const char *token, char out[65]);

/* ---- redirects.c ---- */
/* Init step: computes c->callback_url (§5) and queues the cookie. */
authc_err authc__callback_url_init(authc__ctx *c);
/* The default redirect callback: relative → origin + url; same origin →
 * url; anything else → origin. Never NULL (arena). */
const char *authc__redirect_resolve(authc__ctx *c, const char *url);
/* Loose "absolute http(s) URL or starts with /" test of the assertion. */
bool authc__callback_url_acceptable(const char *url);

/* ---- session.c ---- */
authc_err authc__action_session(authc__ctx *c);
/* Issues the session for a signed-in user (JWT cookie or DB session). */
authc_err authc__session_issue(authc__ctx *c, const authc_user *user,
                               const authc_account *account, bool is_new_user);
/* Reads the current session user without side effects (authc_auth,
 * account linking). *user NULL when none. */
authc_err authc__session_current(authc__ctx *c, authc_user **user, int64_t *expires_ms,
                                 const char **db_token);

/* ---- actions ---- */
authc_err authc__action_providers(authc__ctx *c);
authc_err authc__action_csrf(authc__ctx *c);
authc_err authc__action_signin(authc__ctx *c);
authc_err authc__action_signin_page(authc__ctx *c);
authc_err authc__action_callback(authc__ctx *c);
authc_err authc__action_signout(authc__ctx *c);
authc_err authc__action_error_page(authc__ctx *c);
authc_err authc__action_verify_request(authc__ctx *c);

/* ---- login.c: account linking and session creation after a sign-in ---- */
/* Runs the signIn callback, links or creates the user through the adapter
 * (Auth.js handleLoginOrRegister, spec §8.3), issues the session, fires
 * events and answers with the redirect (callbackUrl, or pages.newUser for a
 * new user). `profile` is the user as the provider describes it (id = the
 * provider's id for it, unused without an adapter); `account` has
 * provider, type and provider_account_id set (and tokens for OAuth). */
authc_err authc__login(authc__ctx *c, const authc_user *profile, authc_account *account);

/* ---- providers/credentials.c ---- */
authc_err authc__credentials_callback(authc__ctx *c);

/* ---- provider-type entry points (in lib/providers) ---- */
/* POST /signin/:id for oauth/oidc: 302 to the authorization URL. */
authc_err authc__oauth_signin(authc__ctx *c);
/* GET (or form_post POST) /callback/:id for oauth/oidc. */
authc_err authc__oauth_callback(authc__ctx *c);
/* POST /signin/:id for email: send the link, 302 to verify-request. */
authc_err authc__email_signin(authc__ctx *c);
/* GET/POST /callback/:id for email. */
authc_err authc__email_callback(authc__ctx *c);
/* GET /webauthn-options/:id and POST /callback/:id for passkeys. */
authc_err authc__webauthn_options(authc__ctx *c);
authc_err authc__webauthn_callback(authc__ctx *c);

/* ---- config.c ---- */
/* Appends a zeroed provider to a config under construction (the caller
 * fills id, name, type and impl; id/name must be malloc'd). NULL on OOM. */
authc__provider *authc__config_add_provider(authc_config *cfg);

/* ---- helpers in router.c ---- */
const authc__provider *authc__provider_find(const authc *a, const char *id);
const char *authc__ptype_name(authc__ptype t);
authc__lang authc__ctx_lang(const authc__ctx *c);
const char *authc__request_header(const authc_request *r, const char *name);
/* URL of an error page for e (§10.1), absolute, arena-owned. */
const char *authc__error_url(authc__ctx *c, authc_err e);

#endif

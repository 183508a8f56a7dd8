/* core_int.h — private structures of the protocol core: the frozen instance,
 * providers, per-request context, and the functions each action file exports. */
#ifndef AUTHC_CORE_INT_H
#define AUTHC_CORE_INT_H

#include <jansson.h>
#include <stdbool.h>

#include "authc.h"
#include "authc/adapter.h"
#include "abuse/abuse_int.h"
#include "core/pages_int.h"
#include "core/provider_api.h"
#include "jose/jose_int.h"
#include "util/netaddr_int.h"
#include "util/util_int.h"

typedef enum authc__strategy { AUTHC__JWT, AUTHC__DATABASE } authc__strategy;

/* The instance: built by the config API, frozen by authc_new. Nothing in it
 * changes after that, so request threads read it without locks. */
struct authc {
    /* settings */
    char *secrets[AUTHC__MAX_SECRETS];
    size_t nsecrets;
    /* Holds the string settings (url … lang, store_url, allowed_hosts);
     * owned, freed with the instance. */
    authc_arena *strs;
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
    /* The shared store (AUTHC_STORE): owned, opened by authc_new. */
    char *store_url;
    bool store_migrate;
    struct authc_store *store;
    /* Revocation marks over store (lib/lifecycle/revoke_int.h): owned. */
    struct authc__revoker *revoker;
    /* AUTHC_TRUSTED_PROXIES: whose X-Forwarded-* headers count. */
    authc__cidrs trusted;
    bool trusted_set;
    /* AUTHC_REGULATION_*: credentials failures and bans (abuse_int.h). */
    authc__regulation regulation;
    /* AUTHC_ALLOWED_HOSTS (hosts.c): host[:port] list or NULL; owned. */
    char *allowed_hosts;
    /* Forward-auth (forward.c): AUTHC_FORWARD_RULES, loaded by authc_new. */
    char *forward_rules_file;
    struct authc__rules *forward_rules;
    bool forward_pass_access_token;
    /* AUTHC_REDIRECT_ALLOWED_HOSTS: comma list of host globs a callbackUrl
     * may name besides the origin (redirects.c). */
    char *redirect_hosts;
    /* Provider tokens with the session (lib/core/session_tokens.c). */
    bool refresh_tokens;        /* AUTHC_REFRESH_TOKENS */
    int64_t refresh_before;     /* AUTHC_REFRESH_BEFORE, seconds */
    bool token_endpoint;        /* AUTHC_TOKEN_ENDPOINT: GET <base>/token */
    bool federated_signout;     /* AUTHC_FEDERATED_SIGNOUT: every OIDC provider */
    authc_callbacks cb;
    authc_log_fn log;
    void *log_ud;
    /* derived once at start-up */
    char *csrf_secret;          /* secrets comma-joined, as JS stringifies */
    uint64_t serial;            /* unique per instance in the process (memo keys) */
    size_t base_len;            /* of base_path; 0 for "/" */
    bool store_remote;          /* a shared store that is not in memory */
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
    const char *value;          /* raw, encoded on output (unless plain) */
    int64_t max_age;            /* -1 = none */
    int64_t expires;            /* seconds since epoch; -1 = none */
    bool form_post;             /* SameSite=None; Secure */
    bool plain;                 /* value needs no percent-encoding */
    bool at_origin;             /* callback-url naming the origin (kept per thread) */
} authc__cookie_out;

/* What a pusher guarantees of a cookie (authc__cookie_push_as). */
enum {
    AUTHC__CO_FORM_POST = 1, /* SameSite=None; Secure (form_post responses) */
    AUTHC__CO_PLAIN = 2,     /* the value is only bytes encodeURIComponent
                              * keeps (hex, base64url, '.', '-', "%7C" the
                              * library wrote itself): sent as it is */
    AUTHC__CO_AT_ORIGIN = 4, /* the value is c->origin: the Set-Cookie is a
                              * function of (instance, secure, origin) */
};

typedef struct authc__cookie_list {
    authc__cookie_out *items;
    size_t n, cap;
} authc__cookie_list;

/* The session a read found (session.c fills it for forward.c when
 * c->session_view is set). */
typedef struct authc__session_view {
    const authc_user *user;  /* NULL: no valid session; arena-owned */
    json_t *claims;          /* JWT: every claim (a reference the reader of
                              * the view json_decrefs); NULL for database */
    const authc__jwt_fields *fields; /* JWT read by the fast scanner (with the
                              * subject; arena-owned) instead of claims */
} authc__session_view;

/* Response headers the response has room for from the start (a /session
 * answer has 6-7; more grow the array). */
#define AUTHC__RES_HEADERS 12

/* The request headers the router reads, found in one pass (new_ctx). */
typedef enum authc__hdr {
    AUTHC__H_HOST,
    AUTHC__H_COOKIE,
    AUTHC__H_CONTENT_TYPE,
    AUTHC__H_ACCEPT_LANGUAGE,
    AUTHC__H_RETURN_REDIRECT, /* X-Auth-Return-Redirect */
    AUTHC__H_XFF,             /* X-Forwarded-For */
    AUTHC__H_XFH,             /* X-Forwarded-Host */
    AUTHC__H_XFP,             /* X-Forwarded-Proto */
    AUTHC__H__COUNT
} authc__hdr;

/* Per-request context: parsed once, read by every action. */
struct authc__ctx {
    const authc *a;
    authc_arena *ar;
    const authc_request *req;
    const char *hdr[AUTHC__H__COUNT]; /* first value of each (as authc__request_header), or NULL */
    bool post;
    const char *origin;         /* "http://127.0.0.1:3000" */
    const char *host;           /* host[:port] shown on pages */
    const char *url_path, *url_query; /* the request's, as parsed (url_query NULL: none) */
    const char *full_url;       /* origin + path + ?query: authc__full_url() */
    const char *client_ip;      /* after trusted proxies; NULL when unknown */
    bool peer_trusted;          /* the TCP peer is a trusted proxy (or unknown) */
    bool host_refused;          /* the host is not on AUTHC_ALLOWED_HOSTS */
    const char *form_action;    /* CSP form-action of an HTML page; NULL = 'self' */
    bool secure;
    const char *const *ck;      /* cookie names for this mode */
    const char *action;         /* the route's name */
    const authc__route *route;  /* NULL until routed */
    bool route_owned;           /* a provider type's route */
    bool sub_callback;          /* <name>/callback/<id> (AUTHC__R_SUB_CALLBACK) */
    const char *provider_id;    /* NULL when none */
    const char *subpath;        /* second segment of an AUTHC__R_SUBPATH route */
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
    size_t hdr_cap;             /* of res->headers (AUTHC__RES_HEADERS at first) */
    authc__cookie_list init_cookies;  /* csrf / callback-url */
    authc__cookie_list cookies_out;   /* the action's own */
    /* error detail for the log (never shown to users) */
    const char *err_detail;
    const char *err_code_extra; /* &code= for CredentialsSignin */
    const char *log_line;
    /* Set by authc__login: the user the session now belongs to. */
    const authc_user *login_user;
    /* Set by forward.c around its /session read: receives the session. */
    authc__session_view *session_view;
    /* The auth event of this request (events.c), for logs and metrics. */
    const char *ev_kind, *ev_result, *ev_user;
    /* First rooms of init_cookies, cookies_out and cookies (new_ctx): most
     * requests need no more, so no arena growth for them. Last in the
     * struct: new_ctx zeroes what comes before. */
    authc__cookie_out init_room[2], out_room[4];
    authc__kv cookie_room[8];
};

/* ---- router.c ---- */
/* origin + path + ?query, joined on first use (few routes read it);
 * arena-owned, NULL when out of memory or before the origin is known. */
const char *authc__full_url(authc__ctx *c);

/* ---- events.c (the event calls are in provider_api.h) ---- */
/* Records what the answer was about in c->res (authc_response_info_get). */
void authc__response_info_set(authc__ctx *c);

/* ---- errors.c ---- */
/* True for the Auth.js SignInError kinds (go to the sign-in page). */
bool authc__err_is_signin_kind(authc_err e);

/* ---- cookies.c ---- */
/* Parses the Cookie header into c->cookies (first wins, %-decoded). */
authc_err authc__cookies_parse(authc__ctx *c, const char *header);
/* Queues a Set-Cookie (a later push of the same name replaces it); the
 * strings must live as long as c->ar. */
authc_err authc__cookie_push(authc__ctx *c, authc__cookie_list *l,
                             const char *name, const char *value,
                             int64_t max_age, int64_t expires);
/* The same with AUTHC__CO_* flags. */
authc_err authc__cookie_push_as(authc__ctx *c, authc__cookie_list *l, const char *name,
                                const char *value, int64_t max_age, int64_t expires, unsigned flags);
/* Serialises one cookie into a Set-Cookie value (owned by c->ar). */
char *authc__cookie_serialize(authc__ctx *c, const authc__cookie_out *co);
/* Session cookie: the value reassembled from chunks, or NULL. */
const char *authc__session_read(authc__ctx *c);
/* Queues the session value (chunked) with Expires=exp_sec, expiring stale
 * chunks; value NULL = clear every collected chunk. The value is a JWT the
 * library made (base64url and dots): it goes out without percent-encoding. */
authc_err authc__session_write(authc__ctx *c, const char *value, int64_t exp_sec);
/* ---- csrf.c ---- */
/* Validates/mints the CSRF token (init step). */
authc_err authc__csrf_init(authc__ctx *c);
/* sha256hex(token + csrf secret) into out (65 bytes). */
void authc__csrf_hash(const authc *a, const char *token, char out[65]);

/* ---- redirects.c ---- */
/* Init step: computes c->callback_url (§5) and queues the cookie. */
authc_err authc__callback_url_init(authc__ctx *c);
/* Loose "absolute http(s) URL or starts with /" test of the assertion. */
bool authc__callback_url_acceptable(const char *url);

/* ---- session.c ---- */
authc_err authc__action_session(authc__ctx *c);
/* ---- session_revoke.c (revocation of sessions, lifecycle.md §3) ---- */
/* Adds authc's own "authc" claim to the claims of a session being issued
 * (random sid, sign-in time, provider, the OIDC provider's sid/sub). */
authc_err authc__session_claim_add(authc__ctx *c, json_t *claims, const authc_account *account);
/* Is a decoded JWT session (or a database session of user_id, last
 * extended at touched_ms; claims NULL) still valid? Anything but
 * AUTHC__SESS_VALID is no session; UNKNOWN (the store failed, logged naming
 * it) keeps the cookie for when the store is back, as an adapter outage does. */
typedef enum {
    AUTHC__SESS_VALID, AUTHC__SESS_REVOKED, AUTHC__SESS_UNKNOWN,
    AUTHC__SESS_NOMEM /* out of memory: answer an error, change nothing */
} authc__sess_state;
authc__sess_state authc__session_state(authc__ctx *c, json_t *claims, const char *user_id,
                                       int64_t touched_ms);
/* The same for claims the fast scanner read (GET /session's one decode). */
authc__sess_state authc__session_state_fields(authc__ctx *c, const authc__jwt_fields *f);
/* Revokes the JWT session described by claims (sign-out: copies die). */
void authc__session_revoke_claims(authc__ctx *c, json_t *claims);
/* Database sessions: records which user a provider sid belongs to. */
void authc__session_note_provider(authc__ctx *c, const authc_account *account, const char *user_id);
/* POST <base>/sessions/revoke. */
authc_err authc__action_sessions(authc__ctx *c);
/* session_tokens.c: GET <base>/token?provider=ID (AUTHC_TOKEN_ENDPOINT). */
authc_err authc__action_token(authc__ctx *c);
/* session_tokens.c: adds the provider's tokens to new JWT claims (when
 * AUTHC_REFRESH_TOKENS, or the id_token for federated sign-out). */
authc_err authc__tokens_claims(authc__ctx *c, const authc_account *acct, json_t *claims);
/* session_tokens.c: refreshes the claims' tokens when due. *changed: the
 * claims must be re-encoded; *error "RefreshTokenError" or NULL (borrowed
 * from the claims or static). A store failure is logged, never sent on. */
authc_err authc__tokens_rotate(authc__ctx *c, json_t *claims, bool *changed, const char **error);
/* session_tokens.c: RP-initiated logout is on for p; *es (may be NULL)
 * receives the provider's endpoint. */
bool authc__federated_on(authc__ctx *c, const authc__provider *p, authc__end_session *es);
/* signout_federated.c: on POST /signout of a JWT session whose provider has
 * federated sign-out: *url = its end_session URL (arena), state cookie set;
 * else *url = NULL. */
authc_err authc__signout_federated(authc__ctx *c, json_t *claims, const char **url);
/* signout_federated.c: the same for provider p and its id_token idt (any
 * session strategy); *url = NULL when federated sign-out is off for p. */
authc_err authc__signout_federated_to(authc__ctx *c, const authc__provider *p, const char *idt,
                                      const char **url);
/* signout_federated.c: GET <base>/signout/callback/<ID>. */
authc_err authc__signout_callback(authc__ctx *c);
/* router.c: answers a request the app made itself (no CSRF check, routes
 * that need a setting for HTTP work). *out owned by the caller. */
authc_err authc__handle_internal(const authc *a, const authc_request *req, authc_response **out);
/* ---- actions ---- */
authc_err authc__action_providers(authc__ctx *c);
authc_err authc__action_csrf(authc__ctx *c);
authc_err authc__action_signin(authc__ctx *c);
authc_err authc__action_signin_page(authc__ctx *c);
authc_err authc__action_callback(authc__ctx *c);
authc_err authc__action_signout(authc__ctx *c);
authc_err authc__action_error_page(authc__ctx *c);
authc_err authc__action_verify_request(authc__ctx *c);
authc_err authc__action_forward(authc__ctx *c);

/* ---- forward.c: forward-auth settings ---- */
/* Sets a "forward.*" key (rules, pass_access_token). */
authc_err authc__forward_config_set(struct authc *a, const char *key, const char *value,
                                    char *err, size_t errlen);
/* At authc_new: loads and checks AUTHC_FORWARD_RULES (a problem names the
 * line and the reason). */
void authc__forward_init(struct authc *a, authc__problems *pr);
void authc__forward_free(struct authc *a);
/* ---- redirects.c ---- */
/* Sets AUTHC_REDIRECT_ALLOWED_HOSTS (comma list of host globs). */
authc_err authc__redirect_hosts_set(struct authc *a, const char *value, char *err, size_t errlen);

/* ---- routes.c ---- */
/* The core row named name[0..len), else a row some configured provider's
 * type declares (*owned set). NULL when none. Static data. */
const authc__route *authc__route_find(const authc *a, const char *name, size_t len, bool *owned);
/* The row of one provider type, or NULL. */
const authc__route *authc__route_of_type(const authc__provider_ops *ops, const char *name, size_t len);

/* ---- helpers in router.c ---- */
const authc__provider *authc__provider_find(const authc *a, const char *id);
const char *authc__request_header(const authc_request *r, const char *name);
/* URL of an error page for e (§10.1), absolute, arena-owned. */
const char *authc__error_url(authc__ctx *c, authc_err e);

/* ---- hosts.c: AUTHC_ALLOWED_HOSTS ---- */
/* True when list (comma/blank separated host[:port]) is well-formed;
 * else false with the bad entry named in why. */
bool authc__hosts_valid(const char *list, char *why, size_t whylen);
/* True when host (host[:port]) is on list; a NULL list allows every host. */
bool authc__host_allowed(const char *list, const char *host);
/* authc_new: trust-host with email or passkeys needs AUTH_URL or a list. */
void authc__hosts_check(const authc *a, authc__problems *pr);

#endif

/* email.c — the email provider (Auth.js email/Nodemailer): POST /signin/:id
 * sends a one-time link, GET/POST /callback/:id consumes it and signs in. */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authc/email.h"
#include "core/provider_api.h"
#include "providers/email_int.h"
#include "providers/email_pages_int.h"
#include "providers/email_unicode_int.h"
#include "util/netaddr_int.h"
#include "store/store_int.h"
#include "util/smtp_int.h"
#include "metrics/metrics_int.h"

/* A fixed-window limit counted in the shared store, so every instance
 * counts together. max 0: off. */
typedef struct email_limit {
    int64_t max, window_s;
    const char *what;           /* "per-address" | "per-client", for the log */
    const char *metric;         /* its rate-limit metric label */
} email_limit;

typedef struct email_impl {
    bool has_smtp;
    authc__smtp smtp;
    char *from;                 /* as configured (for send hooks) */
    char *from_display, *from_addr;
    int64_t max_age;
    bool consume_on_get;
    char *secret;               /* provider.secret or NULL */
    authc_email_send_fn send;
    void *send_ud;
    authc_email_normalize_fn normalize;
    void *normalize_ud;
    email_limit per_address, per_client;
    authc__problems problems;   /* found while adding; reported by authc_new */
} email_impl;

static void impl_free(void *p)
{
    email_impl *m = p;
    if (!m)
        return;
    authc__smtp_clear(&m->smtp);
    free(m->from);
    free(m->from_display);
    free(m->from_addr);
    authc__free_secret(m->secret);
    authc__problems_clear(&m->problems);
    free(m);
}

/* Records a problem found while adding the provider. */
static void problem(email_impl *m, const char *id, const char *msg)
{
    authc__problem(&m->problems, NULL, "email provider \"%s\": %s", id, msg);
}

static bool email_check(const authc *a, const authc__provider *p, authc__problems *pr)
{
    const email_impl *m = p->impl;
    size_t before = authc__problems_count(pr);
    authc__problems_merge(pr, &m->problems);
    const authc_adapter *ad = authc__inst_adapter(a);
    if (!ad)
        authc__problem(pr, NULL, "MissingAdapter: email provider \"%.64s\" stores one-time tokens in a database; "
                           "set AUTHC_DATABASE (e.g. sqlite:./authc.db)", p->id);
    else if (!ad->ops->create_verification_token || !ad->ops->use_verification_token || !ad->ops->get_user_by_email)
        authc__problem(pr, NULL, "MissingAdapterMethods: email provider \"%.64s\" needs createVerificationToken, "
                           "useVerificationToken and getUserByEmail, which the %s adapter lacks",
                       p->id, ad->ops->name ? ad->ops->name : "configured");
    return authc__problems_count(pr) == before;
}

static authc_err email_signin(authc__ctx *c);
static authc_err email_callback(authc__ctx *c);

static const authc__provider_ops EMAIL_OPS = {
    .type = "email",
    .page = AUTHC__PART_EMAIL,
    .signin = email_signin,
    .signin_pool = AUTHC_POOL_NET,   /* SMTP and the database */
    .callback = email_callback,
    .callback_methods = AUTHC__GET | AUTHC__POST,
    .callback_pool = AUTHC_POOL_NET,
    .check = email_check,
    .free = impl_free,
};

static email_limit make_limit(email_impl *m, const char *id, const char *what, const char *metric,
                              const authc_email_limit *l, int def_max)
{
    email_limit out = {.what = what, .metric = metric};
    if (l->max < 0)
        return out;
    int64_t win = l->window ? l->window : AUTHC_EMAIL_DEFAULT_LIMIT_WINDOW;
    if (win < 0) {
        char msg[128];
        snprintf(msg, sizeof msg, "the %s limit window must be a positive number of seconds", what);
        problem(m, id, msg);
        return out;
    }
    out.max = l->max ? l->max : def_max;
    out.window_s = win;
    return out;
}

/* Store key of a limit: the provider, the kind ('a'ddress / 'c'lient) and
 * the hashed value (no address in the store's key space). */
static bool limit_key(char out[AUTHC__HASHED_KEY_MAX], authc__ctx *c, char kind,
                      const void *v, size_t len)
{
    char who[160], *b64 = authc__b64url_encode(authc__ctx_arena(c), v, len);
    snprintf(who, sizeof who, "email-%c:%s", kind, authc__ctx_provider(c)->id);
    return b64 && authc__hashed_key(out, "rl", who, b64);
}

/* Gives one mail back (nothing was sent); best effort. */
static void limit_undo(authc__ctx *c, const email_limit *l, const char *key)
{
    int64_t n;
    if (l->max && *key)
        (void)authc__store_incr(authc__inst_store(authc__ctx_instance(c)), key, -1,
                                l->window_s * 1000, &n);
}

authc_err authc_config_add_email(authc_config *cfg, const authc_email_provider *ep)
{
    if (!cfg || !ep)
        return AUTHC_ERR_INVALID;
    email_impl *m = calloc(1, sizeof *m);
    if (!m)
        return AUTHC_ERR_NOMEM;
    const char *id = ep->id && *ep->id ? ep->id : "email";
    char err[512] = "";
    if (ep->server && *ep->server) {
        if (authc__smtp_parse(ep->server, ep->user, ep->password, ep->allow_plain_loopback, &m->smtp,
                              err, sizeof err) == AUTHC_OK) {
            m->has_smtp = true;
            if (ep->ca_file && *ep->ca_file && !(m->smtp.ca_file = strdup(ep->ca_file)))
                problem(m, id, "out of memory");
            if (ep->timeout > 0) {
                m->smtp.timeout_ms = (long)ep->timeout * 1000;
                if (m->smtp.connect_timeout_ms > m->smtp.timeout_ms)
                    m->smtp.connect_timeout_ms = m->smtp.timeout_ms;
            }
        } else {
            problem(m, id, err);
        }
    } else if (!ep->send) {
        problem(m, id, "no SMTP server and no send function; set AUTHC_EMAIL_SERVER "
                       "(smtp://user:password@host:587) or, for development, AUTHC_EMAIL=log");
    }
    if (ep->from && *ep->from) {
        if (!(m->from = strdup(ep->from)))
            problem(m, id, "out of memory");
        else if (authc__mailbox_parse(ep->from, &m->from_display, &m->from_addr) != AUTHC_OK)
            problem(m, id, "the From address must look like \"Name <address@example.com>\" or "
                           "\"address@example.com\"");
    } else if (m->has_smtp || (ep->server && *ep->server)) {
        problem(m, id, "no From address; set AUTHC_EMAIL_FROM (e.g. \"Example <no-reply@example.com>\")");
    }
    if (ep->max_age < 0)
        problem(m, id, "maxAge must be a positive number of seconds");
    m->max_age = ep->max_age > 0 ? ep->max_age : 86400;
    m->consume_on_get = ep->consume_on_get;
    if (ep->secret && *ep->secret && !(m->secret = strdup(ep->secret)))
        problem(m, id, "out of memory");
    m->send = ep->send;
    m->send_ud = ep->send_ud;
    m->normalize = ep->normalize;
    m->normalize_ud = ep->normalize_ud;
    m->per_address = make_limit(m, id, "per-address", "email_address", &ep->per_address, AUTHC_EMAIL_DEFAULT_PER_ADDRESS);
    m->per_client = make_limit(m, id, "per-client", "email_client", &ep->per_client, AUTHC_EMAIL_DEFAULT_PER_CLIENT);

    char *pid = strdup(id), *pname = strdup(ep->name && *ep->name ? ep->name : "Email");
    authc__provider *p = pid && pname ? authc__config_add_provider(cfg) : NULL;
    if (!p) {
        free(pid);
        free(pname);
        impl_free(m);
        return AUTHC_ERR_NOMEM;
    }
    p->ops = &EMAIL_OPS;
    p->id = pid;
    p->name = pname;
    p->impl = m;
    return AUTHC_OK;
}

/* ---- pieces --------------------------------------------------------- */

authc_err authc_email_normalize(authc_arena *ar, const char *in, const char **out)
{
    *out = NULL;
    if (!in || !*in)
        return AUTHC_ERR_INVALID;
    size_t n = strnlen(in, AUTHC__EMAIL_INPUT_MAX + 1);
    if (n > AUTHC__EMAIL_INPUT_MAX)
        return AUTHC_ERR_INVALID;
    char *s;
    authc_err e = authc__eu_js_fold(ar, in, n, &s);
    if (e)
        return e;
    if (strchr(s, '"'))
        return AUTHC_ERR_INVALID;
    char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@'))
        return AUTHC_ERR_INVALID;
    /* The domain ends at its first comma ("a@b.com,c@d.com"). */
    char *comma = strchr(at + 1, ',');
    if (comma)
        *comma = '\0';
    if (!at[1])
        return AUTHC_ERR_INVALID;
    *out = s;
    return AUTHC_OK;
}

void authc__email_token_hash(const char *token, const char *secret, char out[65])
{
    uint8_t md[32];
    const char *parts[2] = {token, secret};
    if (!authc__sha256_strs(md, parts, 2, false)) {
        /* Never a real hash, and never the same twice: a token stored
         * during one failure must not match a lookup during another. */
        static _Atomic unsigned long long fails;
        snprintf(out, 65, "!unhashable-%llu-%lld", ++fails, (long long)authc__now_ms());
    } else {
        authc__hex(out, md, sizeof md);
    }
}

char *authc__email_link(authc_arena *ar, const char *origin, const char *base,
                        const char *provider_id, const char *callback_url,
                        const char *token, const char *email)
{
    authc__buf b;
    authc__buf_init(&b, ar, AUTHC__MAX_URL * 4);
    authc__buf_adds(&b, origin);
    authc__buf_adds(&b, base);
    authc__buf_adds(&b, "/callback/");
    authc__buf_add_uri_component(&b, provider_id);
    authc__buf_adds(&b, "?callbackUrl=");
    authc__buf_add_form_component(&b, callback_url);
    authc__buf_adds(&b, "&token=");
    authc__buf_add_form_component(&b, token);
    authc__buf_adds(&b, "&email=");
    authc__buf_add_form_component(&b, email);
    return b.err ? NULL : b.p;
}

size_t authc__email_client_key(const char *client_addr, unsigned char key[64])
{
    if (!client_addr || !*client_addr || !strcmp(client_addr, "-"))
        return 0;
    /* The one rate key of the library: IPv4 as is, IPv6 by /64. */
    char k[AUTHC__IP_STR];
    authc__ip_rate_key(client_addr, k, sizeof k);
    size_t n = strnlen(k, 63);
    memcpy(key, k, n);
    return n;
}

static const email_impl *impl_of(const authc__ctx *c)
{
    return authc__ctx_provider(c)->impl;
}

static const char *secret_of(const authc__ctx *c)
{
    const email_impl *m = impl_of(c);
    return m->secret ? m->secret : authc__inst_csrf_secret(authc__ctx_instance(c));
}

/* ---- POST /signin/:id ------------------------------------------------ */

/* The limit page (429), or {url} for the JS client, which cannot show it. */
static authc_err limited(authc__ctx *c, int64_t retry_after)
{
    const authc *a = authc__ctx_instance(c);
    const char *signin = authc_arena_printf(authc__ctx_arena(c), "%s%s/signin", authc__ctx_origin(c), authc__inst_base(a));
    const char *ra = authc_arena_printf(authc__ctx_arena(c), "%lld", (long long)retry_after);
    if (!signin || !ra)
        return AUTHC_ERR_NOMEM;
    authc__ctx_set_log_line(c, authc_arena_printf(authc__ctx_arena(c), "email rate limit provider=%s", authc__ctx_provider(c)->id));
    authc_err e = authc__res_header(c, "Retry-After", ra);
    if (!e)
        e = authc__res_nocache(c);
    if (e)
        return e;
    if (authc__ctx_return_redirect(c)) {
        authc__buf b;
        authc__buf_init(&b, authc__ctx_arena(c), AUTHC__MAX_URL * 2);
        authc__buf_adds(&b, "{\"url\":");
        authc__buf_add_json_str(&b, authc_arena_printf(authc__ctx_arena(c), "%s?error=EmailSignin", signin));
        authc__buf_addc(&b, '}');
        return b.err ? b.err : authc__res_body(c, 429, "application/json", b.p, b.len);
    }
    char *html;
    size_t len;
    e = authc__page_email_limited(authc__ctx_arena(c), authc__ctx_theme(c), authc__ctx_lang(c), signin, retry_after, &html, &len);
    return e ? e : authc__res_body(c, 429, "text/html; charset=utf-8", html, len);
}

/* Delivers the mail through the send hook or SMTP. On failure *why says
 * why (for the log). */
static authc_err deliver(authc__ctx *c, const char *to, const char *url, int64_t expires,
                         const char **why)
{
    const email_impl *m = impl_of(c);
    authc__lang lang = authc__ctx_lang(c);
    char *subject, *text, *html;
    authc_err e = authc__email_compose(authc__ctx_arena(c), authc__ctx_theme(c), lang, authc__ctx_host(c), url, m->max_age, &subject, &text, &html);
    if (e) {
        *why = "could not build the message";
        return e;
    }
    if (m->send) {
        authc_email_message msg = {
            .to = to, .from = m->from, .subject = subject, .text = text, .html = html, .url = url,
            .host = authc__ctx_host(c), .lang = lang == AUTHC__LANG_ZH ? "zh-CN" : "en",
            .provider_id = authc__ctx_provider(c)->id, .expires = expires,
        };
        e = m->send(m->send_ud, &msg);
        if (e)
            *why = authc_arena_printf(authc__ctx_arena(c), "the send function failed (%s)", authc_strerror(e));
        return e;
    }
    authc__mail mail = {
        .from_display = m->from_display, .from_addr = m->from_addr, .to = to,
        .subject = subject, .text = text, .html = html, .date_ms = authc__now_ms(),
    };
    char *msg;
    size_t len;
    if ((e = authc__mime_build(authc__ctx_arena(c), &mail, &msg, &len))) {
        *why = "could not build the MIME message";
        return e;
    }
    char err[512];
    e = authc__smtp_send(&m->smtp, m->from_addr, to, msg, len, err, sizeof err);
    if (e)
        *why = authc_arena_strdup(authc__ctx_arena(c), err);
    return e;
}

/* Counts one mail against l. AUTHC_OK with *refused false: go on. Else
 * *refused is true and the result is the handler's: the store's failure
 * (fail closed) or the limit page. who (or NULL) names the client in the log. */
static authc_err limit_pass(authc__ctx *c, const email_limit *l, const char *key, const char *who,
                            bool *refused)
{
    const authc *a = authc__ctx_instance(c);
    authc_err e = AUTHC_OK;
    bool ok = true;
    if (l->max && *key) {
        int64_t n = 0;
        e = authc__store_incr(authc__inst_store(a), key, 1, l->window_s * 1000, &n);
        ok = !e && n <= l->max;
    }
    authc__metric_inc(AUTHC__M_RATELIMIT, l->metric, ok ? "allowed" : "limited", NULL);
    *refused = !ok;
    if (e)
        return authc__fail(c, AUTHC_ERR_ADAPTER, "email sign-in refused: the rate-limit store %s failed (%s)",
                           authc__store_label(authc__inst_store(a)), authc_strerror(e));
    if (!ok) {
        authc__log(a, "warn", "[auth][warn] email sign-in: %s limit reached%s%s (retry in %llds)", l->what,
                   who ? " for " : "", who ? who : "", (long long)l->window_s);
        return limited(c, l->window_s);
    }
    return AUTHC_OK;
}

static authc_err email_signin(authc__ctx *c)
{
    const authc *a = authc__ctx_instance(c);
    const email_impl *m = impl_of(c);
    authc_adapter *ad = authc__inst_adapter(a); /* never NULL: email_check requires one */
    authc_err e;

    /* 1. The address, normalised as Auth.js does. */
    const char *raw = authc__map_last(authc__ctx_body(c), "email");
    if (!raw || !*raw)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "Missing email from request body.");
    const char *email = NULL;
    if (m->normalize)
        e = m->normalize(m->normalize_ud, authc__ctx_arena(c), raw, &email);
    else
        e = authc_email_normalize(authc__ctx_arena(c), raw, &email);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e || !email)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "Invalid email address format.");
    /* Stricter than Auth.js: nothing that could split or confuse an SMTP
     * envelope or a header ever reaches the mailer. */
    if (!authc__mail_addr_ok(email))
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "Invalid email address format (not deliverable: control characters, spaces "
                           "or one of <>()[]\\,;:\" after normalising)");

    /* 2. Limits, before any database work; the same answer whether or not
     * the address has an account. */
    unsigned char ck[64];
    size_t ckl = authc__email_client_key(authc__ctx_client_addr(c), ck);
    char kc[AUTHC__HASHED_KEY_MAX] = "", ka[AUTHC__HASHED_KEY_MAX] = "";
    bool refused = false;
    if ((ckl && !limit_key(kc, c, 'c', ck, ckl)) || !limit_key(ka, c, 'a', email, strlen(email)))
        return AUTHC_ERR_NOMEM;
    e = limit_pass(c, &m->per_client, kc, authc__ctx_client_addr(c), &refused);
    if (refused)
        return e;
    e = limit_pass(c, &m->per_address, ka, NULL, &refused);
    if (refused) {
        limit_undo(c, &m->per_client, kc);
        return e;
    }

    /* 3. The user as Auth.js builds it, then the signIn callback. */
    authc_user *user = NULL;
    if ((e = ad->ops->get_user_by_email(ad, authc__ctx_arena(c), email, &user))) {
        e = e == AUTHC_ERR_NOMEM ? e
                                 : authc__fail(c, AUTHC_ERR_ADAPTER, "AdapterError: getUserByEmail failed in the %s adapter (%s)",
                                               ad->ops->name, authc_strerror(e));
        goto undo;
    }
    if (!user) {
        char id[37];
        if ((e = authc__uuid(id)))
            goto undo;
        user = authc_arena_alloc(authc__ctx_arena(c), sizeof *user);
        if (!user) {
            e = AUTHC_ERR_NOMEM;
            goto undo;
        }
        user->id = authc_arena_strdup(authc__ctx_arena(c), id);
        user->email = email;
        user->email_verified = AUTHC_NO_TIME;
    }
    authc_err (*check)(void *, authc_arena *, const authc_user *, const authc_account *, const char **) =
        authc__inst_callbacks(a)->sign_in_email_request ? authc__inst_callbacks(a)->sign_in_email_request
                                                        : authc__inst_callbacks(a)->sign_in;
    if (check) {
        authc_account acct = {.user_id = user->id, .type = "email", .provider = authc__ctx_provider(c)->id,
                              .provider_account_id = email, .expires_at = AUTHC_NO_TIME};
        const char *redir = NULL;
        if (check(authc__inst_callbacks(a)->ud, authc__ctx_arena(c), user, &acct, &redir)) {
            e = authc__fail(c, AUTHC_ERR_ACCESS_DENIED, "AccessDenied: the signIn callback refused the email sign-in");
            goto undo;
        }
        if (redir)
            return authc__res_redirect(c, authc__redirect_resolve(c, redir));
    }

    /* 4. The token: 32 random bytes as hex; only its hash is stored. */
    uint8_t rnd[32];
    char token[65], hash[65];
    if ((e = authc__random(rnd, sizeof rnd)))
        goto undo;
    authc__hex(token, rnd, sizeof rnd);
    authc__wipe(rnd, sizeof rnd);
    authc__email_token_hash(token, secret_of(c), hash);
    int64_t expires = authc__now_ms() + m->max_age * 1000;
    const char *url = authc__email_link(authc__ctx_arena(c), authc__ctx_origin(c), authc__inst_base(a), authc__ctx_provider(c)->id, authc__ctx_callback_url(c),
                                        token, email);
    authc__wipe(token, sizeof token);
    if (!url) {
        e = AUTHC_ERR_NOMEM;
        goto undo;
    }
    authc_verification_token vt = {.identifier = email, .token = hash, .expires = expires};
    if ((e = ad->ops->create_verification_token(ad, authc__ctx_arena(c), &vt))) {
        e = e == AUTHC_ERR_NOMEM ? e
                                 : authc__fail(c, AUTHC_ERR_ADAPTER,
                                               "AdapterError: createVerificationToken failed in the %s adapter (%s)",
                                               ad->ops->name, authc_strerror(e));
        goto undo;
    }

    /* 5. Send. Auth.js sends and stores in parallel, which can leave a
     * token that was never delivered; here the token exists first and is
     * deleted again when the mail cannot be sent. */
    const char *why = NULL;
    e = deliver(c, email, url, expires, &why);
    authc__metric_inc(AUTHC__M_EMAIL_SENT, e ? "error" : "success", NULL, NULL);
    if (e) {
        authc_verification_token *gone = NULL;
        authc_err de = ad->ops->use_verification_token(ad, authc__ctx_arena(c), email, hash, &gone);
        if (de)
            authc__log(a, "error", "[auth][error] email sign-in: could not delete the undelivered token (%s)",
                       authc_strerror(de));
        e = e == AUTHC_ERR_NOMEM ? e
                                 : authc__fail(c, AUTHC_ERR_CONFIGURATION,
                                               "EmailSignInError: the sign-in mail was not sent: %s; "
                                               "its token was deleted", why ? why : authc_strerror(e));
        goto undo;
    }
    authc__wipe(hash, sizeof hash);
    authc__ctx_set_log_line(c, authc_arena_printf(authc__ctx_arena(c), "email link sent provider=%s", authc__ctx_provider(c)->id));
    authc__buf b;
    authc__buf_init(&b, authc__ctx_arena(c), AUTHC__MAX_URL * 2);
    authc__buf_printf(&b, "%s%s/verify-request?provider=", authc__ctx_origin(c), authc__inst_base(a));
    authc__buf_add_form_component(&b, authc__ctx_provider(c)->id);
    authc__buf_adds(&b, "&type=email");
    return b.err ? b.err : authc__res_redirect(c, b.p);

undo:
    /* Nothing was sent: give the attempt back to the limiters. */
    limit_undo(c, &m->per_address, ka);
    limit_undo(c, &m->per_client, kc);
    return e;
}

/* ---- GET/POST /callback/:id ------------------------------------------ */

static authc_err confirm_page(authc__ctx *c, const char *email)
{
    char *html;
    size_t len;
    authc_err e = authc__page_email_confirm(authc__ctx_arena(c), authc__ctx_theme(c), authc__ctx_lang(c), authc__ctx_full_url(c),
                                            authc__ctx_csrf_token(c), email, &html, &len);
    if (!e)
        e = authc__res_nocache(c);
    /* The URL holds the token: keep it out of Referer headers. */
    if (!e)
        e = authc__res_header(c, "Referrer-Policy", "no-referrer");
    return e ? e : authc__res_body(c, 200, "text/html; charset=utf-8", html, len);
}

static authc_err email_callback(authc__ctx *c)
{
    const email_impl *m = impl_of(c);
    /* never NULL: email_check requires one */
    authc_adapter *ad = authc__inst_adapter(authc__ctx_instance(c));
    authc_err e;
    /* Auth.js reads the link's parameters from the query, for POST too. */
    const char *token = authc__map_last(authc__ctx_query(c), "token");
    const char *email = authc__map_last(authc__ctx_query(c), "email");
    if (!token || !*token)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION,
                           "Missing token. The sign-in URL was opened without a token or the link was not "
                           "sent correctly in the email.");
    if (!m->consume_on_get) {
        /* Scanners GET links; only a person presses the button, which
         * POSTs with the CSRF token of this browser. */
        if (!authc__ctx_is_post(c))
            return confirm_page(c, NULL); /* the link's email is unverified: never shown */
        if (!authc__ctx_csrf_verified(c))
            return authc__fail(c, AUTHC_ERR_MISSING_CSRF,
                               "email sign-in confirmation POST without a valid csrfToken");
    }
    if (strlen(token) > 512)
        return authc__fail(c, AUTHC_ERR_VERIFICATION, "Verification: token longer than any issued one");
    char hash[65];
    authc__email_token_hash(token, secret_of(c), hash);
    authc_verification_token *vt = NULL;
    e = ad->ops->use_verification_token(ad, authc__ctx_arena(c), email, hash, &vt);
    authc__wipe(hash, sizeof hash);
    if (e)
        return e == AUTHC_ERR_NOMEM ? e
                                    : authc__fail(c, AUTHC_ERR_ADAPTER,
                                                  "AdapterError: useVerificationToken failed in the %s adapter (%s)",
                                                  ad->ops->name, authc_strerror(e));
    bool expired = vt && vt->expires < authc__now_ms();
    if (!vt || expired || (email && (!vt->identifier || strcmp(vt->identifier, email))))
        return authc__fail(c, AUTHC_ERR_VERIFICATION, "Verification: the email token is %s",
                           !vt ? "unknown or already used" : expired ? "expired" : "for another address");
    const char *identifier = vt->identifier;
    authc_user *user = NULL;
    if ((e = ad->ops->get_user_by_email(ad, authc__ctx_arena(c), identifier, &user)))
        return e == AUTHC_ERR_NOMEM ? e
                                    : authc__fail(c, AUTHC_ERR_ADAPTER,
                                                  "AdapterError: getUserByEmail failed in the %s adapter (%s)",
                                                  ad->ops->name, authc_strerror(e));
    authc_user profile;
    if (user) {
        profile = *user;
    } else {
        char id[37];
        if ((e = authc__uuid(id)))
            return e;
        profile = (authc_user){.id = authc_arena_strdup(authc__ctx_arena(c), id), .email = identifier,
                               .email_verified = AUTHC_NO_TIME};
        if (!profile.id)
            return AUTHC_ERR_NOMEM;
    }
    authc_account *acct = authc_arena_alloc(authc__ctx_arena(c), sizeof *acct);
    if (!acct)
        return AUTHC_ERR_NOMEM;
    acct->type = "email";
    acct->provider = authc__ctx_provider(c)->id;
    acct->provider_account_id = profile.email ? profile.email : identifier;
    acct->user_id = profile.id;
    acct->expires_at = AUTHC_NO_TIME;
    return authc__login(c, &profile, acct);
}

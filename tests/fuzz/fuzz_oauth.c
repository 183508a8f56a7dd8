/* fuzz_oauth.c — the OAuth callback against an IdP whose token, userinfo and
 * GitHub e-mail answers are attacker data (oauth_token.c, oauth_profile.c, oauth_hooks.c). */
#include <openssl/sha.h>
#include <pthread.h>

#include "fuzz.h"
#include "authc/oauth.h"
#include "oauth_testutil.h"
#include "testutil.h"

#define SECRET "fuzz-secret-0123456789abcdefghijklmnopq"
#define ORIGIN "http://app.test:3000"
#define CSRF_TOK "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define MAX_BODY 16384

/* What the loopback IdP answers next: set by the fuzz thread before each
 * callback, read by the server thread (under mu). */
typedef struct idp_doc {
    pthread_mutex_t mu;
    int token_status;
    char token[MAX_BODY + 1], user[MAX_BODY + 1], emails[MAX_BODY + 1];
} idp_doc;

static idp_doc g_doc = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void idp_handler(void *ud, const mreq *rq, mres *rs)
{
    idp_doc *d = ud;
    pthread_mutex_lock(&d->mu);
    const char *body = d->user;
    rs->status = 200;
    if (strstr(rq->target, "token")) { /* /token, /login/oauth/access_token */
        body = d->token;
        rs->status = d->token_status;
    } else if (strstr(rq->target, "/emails")) {
        body = d->emails;
    }
    rs->content_type = "application/json";
    snprintf(rs->body, sizeof rs->body, "%s", body);
    pthread_mutex_unlock(&d->mu);
}

static authc *a;
static msrv *srv;

/* At exit: so that leak checkers see only what an input leaked. */
static void cleanup(void)
{
    authc_free(a);
    msrv_stop(srv);
}

static authc *instance(void)
{
    if (a)
        return a;
    srv = msrv_start(idp_handler, &g_doc);
    authc_config *cfg = authc_config_new();
    if (!srv || !cfg)
        abort();
    char err[512], authz[128], tok[128], user[128];
    tu_config_set(cfg, "secret", SECRET);
    tu_config_set(cfg, "trust_host", "1");
    snprintf(authz, sizeof authz, "%s/authorize", srv->origin);
    snprintf(tok, sizeof tok, "%s/token", srv->origin);
    snprintf(user, sizeof user, "%s/userinfo", srv->origin);
    /* A generic OAuth 2 provider with nested claim paths, and GitHub
     * (Enterprise, so its API is the loopback IdP) with its e-mail call. */
    authc_oauth_provider plain = {.id = "plain", .type = AUTHC_OAUTH_OAUTH2, .client_id = "cid",
                                  .client_secret = "csecret", .authorization_url = authz, .token_url = tok,
                                  .userinfo_url = user, .claim_id = "sub id user.id",
                                  .claim_image = "picture.data.url avatar_url", .timeout_ms = 2000};
    authc_oauth_provider gh = {.preset = "github", .client_id = "cid", .client_secret = "csecret",
                               .base_url = srv->origin, .timeout_ms = 2000};
    if (authc_config_add_oauth(cfg, &plain, err, sizeof err) || authc_config_add_oauth(cfg, &gh, err, sizeof err)) {
        fprintf(stderr, "fuzz_oauth: %s\n", err);
        abort();
    }
    if (!(a = authc_new(cfg, err, sizeof err))) {
        fprintf(stderr, "fuzz_oauth: %s\n", err);
        abort();
    }
    atexit(cleanup);
    return a;
}

/* A jar holding a valid CSRF cookie for CSRF_TOK (Auth.js: token|sha256(token+secret)). */
static void jar_with_csrf(tu_jar *j)
{
    memset(j, 0, sizeof *j);
    uint8_t d[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)(CSRF_TOK SECRET), strlen(CSRF_TOK SECRET), d);
    char hex[65];
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    j->n = 1;
    strcpy(j->names[0], "authjs.csrf-token");
    snprintf(j->values[0], sizeof j->values[0], CSRF_TOK "%%7C%s", hex);
}

static authc_response *idp_send(const char *method, const char *url, tu_jar *j, const char *body)
{
    char ck[32768];
    authc_response *r = tu_send_form(instance(), method, url, tu_jar_header(j, ck, sizeof ck), body);
    if (!r)
        abort(); /* authc_handle always answers */
    tu_jar_update(j, r);
    return r;
}

/* Every answer: Location on our own origin, no control bytes in any header. */
static void check_answer(const authc_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++)
        for (const unsigned char *p = (const unsigned char *)r->headers[i].value; *p; p++)
            FUZZ_CHECK(*p >= 0x20 && *p != 0x7f, "control byte in header %s", r->headers[i].name);
    const char *loc = authc_response_header(r, "Location");
    FUZZ_CHECK(!loc || !strncmp(loc, ORIGIN "/", strlen(ORIGIN "/")), "redirect off our origin: %s", loc);
}

/* Copies `state` of the authorization URL into out; false when absent. */
static bool state_of(const char *loc, char *out, size_t n)
{
    const char *s = loc ? strstr(loc, "&state=") : NULL;
    if (!s)
        s = loc ? strstr(loc, "?state=") : NULL;
    if (!s)
        return false;
    s += 7;
    snprintf(out, n, "%.*s", (int)strcspn(s, "&"), s);
    return true;
}

/* Input: a flags byte (bit 0: GitHub, bit 1: the token endpoint answers
 * 400), then the token answer, "\n--\n", the userinfo answer, "\n--\n",
 * GitHub's /user/emails answer. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 3 * MAX_BODY)
        return 0;
    char *s = fuzz_cstr(data + 1, size - 1);
    if (!s)
        return 0;
    char *user = fuzz_cut(s, "\n--\n");
    char *emails = user ? fuzz_cut(user, "\n--\n") : NULL;
    const char *id = data[0] & 1 ? "github" : "plain";
    pthread_mutex_lock(&g_doc.mu);
    g_doc.token_status = data[0] & 2 ? 400 : 200;
    snprintf(g_doc.token, sizeof g_doc.token, "%s", s);
    snprintf(g_doc.user, sizeof g_doc.user, "%s", user ? user : "{}");
    snprintf(g_doc.emails, sizeof g_doc.emails, "%s", emails ? emails : "[]");
    pthread_mutex_unlock(&g_doc.mu);

    tu_jar j;
    jar_with_csrf(&j);
    char url[8192], state[4096];
    snprintf(url, sizeof url, ORIGIN "/auth/signin/%s", id);
    authc_response *r = idp_send("POST", url, &j, "csrfToken=" CSRF_TOK "&callbackUrl=%2Fdashboard");
    FUZZ_CHECK(r->status == 302 && state_of(authc_response_header(r, "Location"), state, sizeof state),
               "sign-in did not redirect to the IdP with a state (%d)", r->status);
    authc_response_free(r);

    snprintf(url, sizeof url, ORIGIN "/auth/callback/%s?code=fuzz-code&state=%s", id, state);
    r = idp_send("GET", url, &j, NULL);
    check_answer(r);
    /* A session only from a token answer with an access token (Auth.js
     * requires access_token), and then back to the callbackUrl. */
    if (tu_jar_get(&j, "authjs.session-token")) {
        FUZZ_CHECK(g_doc.token_status == 200 && strstr(s, "\"access_token\""),
                   "signed in without an access token");
        const char *loc = authc_response_header(r, "Location");
        FUZZ_CHECK(loc && !strcmp(loc, ORIGIN "/dashboard"), "signed in but sent to %s", loc ? loc : "(none)");
    }
    authc_response_free(r);
    free(s);
    return 0;
}

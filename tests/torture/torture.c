/* torture.c — allocation-failure torture (curl's torture tests are the
 * model): each route's request runs with the 1st, 2nd, … allocation failing
 * until one run needs no failure. Every run must end in the normal answer
 * or a clean error (5xx, or a redirect to the error page), free all it
 * allocated, and never hand out a session it should not. */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "authc.h"
#include "authc/adapter.h"
#include "authc/email.h"
#include "testutil.h" /* tu_authorize: alice / wonderland */
#include "torture.h"

#define SECRET "torture-secret-0123456789abcdefghijklmnop"
#define ORIGIN "http://localhost:3000"
#define DB_TOKEN "torture-db-session-token"

/* Built once, unarmed: a valid JWT session cookie and a CSRF pair. */
static char g_jwt_cookie[8192], g_csrf_cookie[512], g_csrf_token[256];

typedef struct scenario {
    const char *name;
    bool db;                  /* the database instance (memory adapter, email) */
    const char *method, *url, *body, *content_type;
    bool send_jwt, send_csrf, send_db;
    /* What the normal answer is: status, and for the checks below. */
    int status;
    const char *location;     /* Location prefix of the normal answer */
    const char *body_has;     /* substring of the normal body */
    const char *sets_session; /* "yes": a session cookie with a value; "clear": expired */
} scenario;

static const scenario SCENARIOS[] = {
    {"GET /session without a cookie", false, "GET", "/auth/session", NULL, NULL, false, false, false,
     200, NULL, "null", NULL},
    {"GET /session with a JWT", false, "GET", "/auth/session", NULL, NULL, true, false, false,
     200, NULL, "\"email\":\"alice@example.com\"", "yes"},
    {"GET /csrf", false, "GET", "/auth/csrf", NULL, NULL, false, false, false,
     200, NULL, "\"csrfToken\":\"", NULL},
    {"GET /providers", false, "GET", "/auth/providers", NULL, NULL, false, false, false,
     200, NULL, "\"credentials\"", NULL},
    {"GET /signin page", false, "GET", "/auth/signin", NULL, NULL, false, false, false,
     200, NULL, "name=\"username\"", NULL},
    {"GET /signout page", false, "GET", "/auth/signout", NULL, NULL, false, false, false,
     200, NULL, "csrfToken", NULL},
    {"GET /error page", false, "GET", "/auth/error?error=Verification", NULL, NULL, false, false, false,
     403, NULL, "Verification", NULL},
    {"POST /signin/credentials", false, "POST", "/auth/signin/credentials",
     "csrfToken=@C&callbackUrl=%2Fdashboard", "application/x-www-form-urlencoded", false, true, false,
     302, NULL, NULL, NULL},
    {"POST /callback/credentials (right password)", false, "POST", "/auth/callback/credentials",
     "csrfToken=@C&username=alice&password=wonderland&callbackUrl=%2Fdashboard",
     "application/x-www-form-urlencoded", false, true, false, 302, ORIGIN "/dashboard", NULL, "yes"},
    {"POST /callback/credentials (wrong password)", false, "POST", "/auth/callback/credentials",
     "csrfToken=@C&username=alice&password=nope", "application/x-www-form-urlencoded", false, true, false,
     302, ORIGIN "/auth/signin?error=CredentialsSignin", NULL, NULL},
    {"POST /callback/credentials (JSON)", false, "POST", "/auth/callback/credentials",
     "{\"csrfToken\":\"@C\",\"username\":\"alice\",\"password\":\"wonderland\"}", "application/json",
     false, true, false, 302, ORIGIN, NULL, "yes"},
    {"POST /session (update)", false, "POST", "/auth/session", "{\"csrfToken\":\"@C\",\"data\":{}}",
     "application/json", true, true, false, 200, NULL, "\"email\":\"alice@example.com\"", "yes"},
    {"POST /signout (JWT)", false, "POST", "/auth/signout", "csrfToken=@C",
     "application/x-www-form-urlencoded", true, true, false, 302, ORIGIN, NULL, "clear"},
    {"GET /session (database)", true, "GET", "/auth/session", NULL, NULL, false, false, true,
     200, NULL, "\"email\":\"alice@example.com\"", "yes"},
    {"GET /signin page (email)", true, "GET", "/auth/signin", NULL, NULL, false, false, false,
     200, NULL, "type=\"email\"", NULL},
    {"POST /signin/email", true, "POST", "/auth/signin/email",
     "csrfToken=@C&email=Alice%40Example.com&callbackUrl=%2F", "application/x-www-form-urlencoded",
     false, true, false, 302, ORIGIN "/auth/verify-request", NULL, NULL},
    {"POST /signout (database)", true, "POST", "/auth/signout", "csrfToken=@C",
     "application/x-www-form-urlencoded", false, true, true, 302, ORIGIN, NULL, "clear"},
};

static authc_err send_mail(void *ud, const authc_email_message *m)
{
    (void)ud;
    return m->url && strstr(m->url, "token=") ? AUTHC_OK : AUTHC_ERR_IO;
}

static void quiet(void *ud, const char *level, const char *msg)
{
    (void)ud;
    if (getenv("TORTURE_LOG"))
        fprintf(stderr, "  log %s: %s\n", level, msg);
}

/* The instance of a scenario (and its adapter, seeded with Alice and her
 * database session). Built unarmed. */
static authc *instance_or_null(bool db, authc_adapter **adp, char *err, size_t errlen);

static authc *instance(bool db, authc_adapter **adp)
{
    char err[512];
    authc *a = instance_or_null(db, adp, err, sizeof err);
    if (!a) {
        fprintf(stderr, "torture: cannot build the instance: %s\n", err);
        exit(2);
    }
    return a;
}

/* NULL with a reason in err when anything fails (an injected failure is
 * one); everything built so far is released. */
static authc *instance_or_null(bool db, authc_adapter **adp, char *err, size_t errlen)
{
    *adp = NULL;
    snprintf(err, errlen, "out of memory");
    authc_config *cfg = authc_config_new();
    if (!cfg || authc_config_set(cfg, "secret", SECRET, err, errlen) ||
        authc_config_set(cfg, "url", ORIGIN "/auth", err, errlen))
        goto bad;
    authc_config_set_logger(cfg, quiet, NULL);
    if (db) {
        authc_adapter *ad = authc_adapter_open("memory:", NULL, NULL, err, errlen);
        if (!ad)
            goto bad;
        *adp = ad;
        if (authc_config_set(cfg, "session.strategy", "database", err, errlen))
            goto bad;
        authc_arena *ar = authc_arena_new();
        authc_user in = {.name = "Alice", .email = "alice@example.com", .email_verified = AUTHC_NO_TIME,
                         .image = NULL}, *u = NULL;
        authc_session_row so_in = {.session_token = DB_TOKEN, .expires = (int64_t)time(NULL) * 1000 + 86400000},
                          *so = NULL;
        bool ok = ar && !ad->ops->create_user(ad, ar, &in, &u) && u &&
                  (so_in.user_id = u->id, !ad->ops->create_session(ad, ar, &so_in, &so));
        authc_arena_free(ar);
        if (!ok)
            goto bad;
        authc_config_set_adapter(cfg, ad);
        authc_email_provider ep = {.send = send_mail};
        if (authc_config_add_email(cfg, &ep))
            goto bad;
    } else {
        static const authc_credentials_field f[] = {{"username", NULL, NULL}, {"password", NULL, "password"}};
        authc_credentials_provider cp = {.fields = f, .nfields = 2, .authorize = tu_authorize};
        if (authc_config_add_credentials(cfg, &cp))
            goto bad;
    }
    authc *a = authc_new(cfg, err, errlen); /* consumes cfg */
    if (a)
        return a;
    cfg = NULL;
bad:
    authc_config_free(cfg);
    if (*adp)
        authc_adapter_close(*adp);
    *adp = NULL;
    return NULL;
}

static char *expand(const char *s)
{
    static char out[4096];
    size_t o = 0;
    for (; s && *s && o < sizeof out - 300; s++) {
        if (s[0] == '@' && s[1] == 'C') {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s", g_csrf_token);
            s++;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

static authc_response *run(const authc *a, const scenario *sc)
{
    char cookie[10000] = "";
    if (sc->send_jwt)
        snprintf(cookie + strlen(cookie), sizeof cookie - strlen(cookie), "%s; ", g_jwt_cookie);
    if (sc->send_csrf)
        snprintf(cookie + strlen(cookie), sizeof cookie - strlen(cookie), "%s; ", g_csrf_cookie);
    if (sc->send_db)
        snprintf(cookie + strlen(cookie), sizeof cookie - strlen(cookie), "authjs.session-token=%s; ", DB_TOKEN);
    authc_header hs[4] = {{"Host", "localhost:3000"}};
    size_t n = 1;
    if (*cookie)
        hs[n++] = (authc_header){"Cookie", cookie};
    if (sc->content_type)
        hs[n++] = (authc_header){"Content-Type", sc->content_type};
    const char *body = sc->body ? expand(sc->body) : NULL;
    authc_request r = {.method = sc->method, .url = sc->url, .headers = hs, .nheaders = n,
                       .body = body, .body_len = body ? strlen(body) : 0, .client_addr = "192.0.2.1"};
    authc_response *res = NULL;
    authc_handle(a, &r, &res);
    return res;
}

/* The session cookie's state in res: 0 none, 1 set with a value, -1 cleared. */
static int session_cookie(const authc_response *res, const char **value)
{
    int st = 0;
    for (size_t i = 0; i < res->nheaders; i++) {
        const char *v = res->headers[i].value;
        if (strcasecmp(res->headers[i].name, "Set-Cookie") || strncmp(v, "authjs.session-token", 20))
            continue;
        const char *eq = strchr(v, '=');
        if (eq && eq[1] && eq[1] != ';' && !strstr(v, "Max-Age=0")) {
            st = 1;
            if (value)
                *value = v;
        } else if (st == 0) {
            st = -1;
        }
    }
    return st;
}

/* The JWT a response set decodes (through authc_auth, unarmed) to Alice. */
static bool session_is_alice(const authc *a, const char *set_cookie)
{
    char cookie[8192];
    snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(set_cookie, ";"), set_cookie);
    authc_header hs[] = {{"Host", "localhost:3000"}, {"Cookie", cookie}};
    authc_request r = {.method = "GET", .url = "/auth/session", .headers = hs, .nheaders = 2};
    authc_session *s = NULL;
    bool ok = authc_auth(a, &r, &s) == AUTHC_OK && s && s->user.id && !strcmp(s->user.id, "1") &&
              s->user.email && !strcmp(s->user.email, "alice@example.com");
    authc_session_free(s);
    return ok;
}

/* NULL when res is the normal answer of sc, else why not. */
static const char *normal_answer(const authc *a, const scenario *sc, const authc_response *res)
{
    if (res->status != sc->status)
        return "status differs from the normal answer";
    const char *loc = authc_response_header(res, "Location");
    if (sc->location && (!loc || strncmp(loc, sc->location, strlen(sc->location))))
        return "Location differs from the normal answer";
    if (sc->body_has && !(res->body && memmem(res->body, res->body_len, sc->body_has, strlen(sc->body_has))))
        return "body lacks what the normal answer has";
    const char *sv = NULL;
    int st = session_cookie(res, &sv);
    if (sc->sets_session && !strcmp(sc->sets_session, "yes") && (st != 1 || (!sc->db && !session_is_alice(a, sv))))
        return "no valid session cookie where the normal answer sets one";
    if (sc->sets_session && !strcmp(sc->sets_session, "clear") && st != -1)
        return "session cookie not cleared";
    if (!sc->sets_session && st == 1)
        return "a session cookie the normal answer does not set";
    if (!strcmp(sc->name, "GET /csrf") && !authc_response_header(res, "Set-Cookie"))
        return "CSRF token without its cookie";
    return NULL;
}

/* NULL when res (a run with one allocation failed) is acceptable. */
static const char *acceptable(const authc *a, const scenario *sc, const authc_response *res)
{
    if (!res)
        return "no response at all";
    int st = session_cookie(res, NULL);
    if (res->status >= 500) /* a clean error: it must not log anyone in or out */
        return st == 1 ? "5xx with a session cookie" : NULL;
    const char *loc = authc_response_header(res, "Location");
    if (res->status == 302 && loc && (strstr(loc, "/auth/error?error=") || strstr(loc, "/auth/signin?error=")))
        return st == 1 ? "error redirect with a session cookie" : NULL;
    /* A refusal (the CSRF check fails closed when it cannot allocate):
     * the wrong class of error, but nothing granted or taken away. */
    if (res->status >= 400 && res->status < 500)
        return st != 0 ? "4xx that sets or clears the session cookie" : NULL;
    return normal_answer(a, sc, res);
}

/* The JWT cookie and CSRF pair every scenario may send. */
static void prepare(void)
{
    authc_adapter *ad;
    authc *a = instance(false, &ad);
    authc_header h[] = {{"Host", "localhost:3000"}};
    authc_request r = {.method = "GET", .url = "/auth/csrf", .headers = h, .nheaders = 1};
    authc_response *res = NULL;
    authc_handle(a, &r, &res);
    const char *sc = authc_response_header(res, "Set-Cookie");
    const char *tok = res->body ? strstr(res->body, "\"csrfToken\":\"") : NULL;
    if (!sc || !tok)
        exit(2);
    snprintf(g_csrf_cookie, sizeof g_csrf_cookie, "%.*s", (int)strcspn(sc, ";"), sc);
    snprintf(g_csrf_token, sizeof g_csrf_token, "%.*s", (int)strcspn(tok + 13, "\""), tok + 13);
    authc_response_free(res);
    res = run(a, &SCENARIOS[8]); /* a real sign-in */
    const char *sv = NULL;
    if (session_cookie(res, &sv) != 1)
        exit(2);
    snprintf(g_jwt_cookie, sizeof g_jwt_cookie, "%.*s", (int)strcspn(sv, ";"), sv);
    authc_response_free(res);
    authc_free(a);
}

/* One run of sc with allocation fail_at failing: fresh instance, request,
 * checks, teardown, leak check. Returns whether an allocation failed. */
static bool one(const scenario *sc, long fail_at, long *seen, int *problems)
{
    ERR_clear_error();
    authc_adapter *ad;
    authc *a = instance(sc->db, &ad);
    torture_arm(fail_at);
    authc_response *res = run(a, sc);
    bool failed = torture_disarm(seen);
    const char *why = failed ? acceptable(a, sc, res) : (res ? normal_answer(a, sc, res) : "no response");
    if (why) {
        fprintf(stderr, "FAIL %s, allocation %ld failing: %s (status %d)\n", sc->name, fail_at, why,
                res ? res->status : 0);
        if (res)
            fprintf(stderr, "  Location: %s; session cookie: %d; body: %.120s\n",
                    authc_response_header(res, "Location") ? authc_response_header(res, "Location") : "-",
                    session_cookie(res, NULL), res->body ? res->body : "");
        (*problems)++;
    }
    authc_response_free(res);
    authc_free(a);
    if (ad)
        authc_adapter_close(ad);
    ERR_clear_error();
    return failed;
}

/* prepare() in a child, so this process starts the cold pass with no
 * library state at all (no fetched algorithms, no per-thread contexts). */
static void prepare_in_child(void)
{
    int fd[2];
    if (pipe(fd))
        exit(2);
    pid_t pid = fork();
    if (pid == 0) {
        prepare();
        bool ok = write(fd[1], g_jwt_cookie, sizeof g_jwt_cookie) == (ssize_t)sizeof g_jwt_cookie &&
                  write(fd[1], g_csrf_cookie, sizeof g_csrf_cookie) == (ssize_t)sizeof g_csrf_cookie &&
                  write(fd[1], g_csrf_token, sizeof g_csrf_token) == (ssize_t)sizeof g_csrf_token;
        _exit(ok ? 0 : 2);
    }
    close(fd[1]);
    /* The pipe holds less than its buffer: read after the child is done. */
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
        read(fd[0], g_jwt_cookie, sizeof g_jwt_cookie) != (ssize_t)sizeof g_jwt_cookie ||
        read(fd[0], g_csrf_cookie, sizeof g_csrf_cookie) != (ssize_t)sizeof g_csrf_cookie ||
        read(fd[0], g_csrf_token, sizeof g_csrf_token) != (ssize_t)sizeof g_csrf_token)
        exit(2);
    close(fd[0]);
}

/* Cold start: the fail_at-th allocation of a fresh process's first request
 * fails; its second request must get the normal answer (nothing set up
 * once and for all may stay broken). One child per run. Returns whether an
 * allocation failed. */
static bool cold(const scenario *sc, long fail_at, int *problems)
{
    pid_t pid = fork();
    if (pid == 0) {
        long seen;
        int p = 0;
        bool failed = one(sc, fail_at, &seen, &p);
        one(sc, 0, &seen, &p);
        _exit(p ? 1 : failed ? 3 : 0);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) == 1) {
        fprintf(stderr, "FAIL cold %s, allocation %ld failing: %s\n", sc->name, fail_at,
                WIFEXITED(st) ? "no recovery on the next request" : "crashed");
        (*problems)++;
        return true;
    }
    return WEXITSTATUS(st) == 3;
}

static long g_unrecovered; /* start-ups whose retry failed cleanly (OpenSSL) */

/* Start-up: the fail_at-th allocation of a fresh process's authc_new (and
 * its configuration) fails. It must fail cleanly or succeed, and a second
 * attempt must then serve a normal answer. Returns whether one failed. */
static bool cold_start(long fail_at, int *problems)
{
    const scenario *sc = &SCENARIOS[1]; /* GET /session with a JWT */
    pid_t pid = fork();
    if (pid == 0) {
        char err[512];
        authc_adapter *ad;
        torture_arm(fail_at);
        authc *a = instance_or_null(false, &ad, err, sizeof err);
        bool failed = torture_disarm(NULL);
        if (!a && !failed)
            _exit(1);
        authc_free(a);
        /* OpenSSL cannot redo some of its one-time set-up once it failed:
         * then the retry must fail as cleanly (4). */
        authc *b = instance_or_null(false, &ad, err, sizeof err);
        if (!b)
            _exit(failed ? 4 : 1);
        authc_free(b);
        long seen;
        int p = 0;
        one(sc, 0, &seen, &p);
        _exit(p ? 1 : failed ? 3 : 0);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) == 1 ||
        WEXITSTATUS(st) == 2) {
        fprintf(stderr, "FAIL cold authc_new, allocation %ld failing: %s\n", fail_at,
                WIFEXITED(st) ? "no clean failure or recovery" : "crashed");
        (*problems)++;
        return true;
    }
    if (WEXITSTATUS(st) == 4)
        g_unrecovered++;
    return WEXITSTATUS(st) == 3 || WEXITSTATUS(st) == 4;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    prepare_in_child();
    int problems = 0;
    long total = 0;
    /* authc_new makes thousands of allocations in a fresh process (OpenSSL
     * sets itself up) and each run is a fork: every 13th fails by default,
     * all of them with TORTURE_COLD_STRIDE=1. */
    long stride = getenv("TORTURE_COLD_STRIDE") ? atol(getenv("TORTURE_COLD_STRIDE")) : 13;
    if (stride < 1)
        stride = 1;
    if (!only || strstr("authc_new", only)) {
        long n, runs = 0;
        for (n = 1; cold_start(n, &problems); n += stride)
            runs++;
        printf("cold start: %-40s %5ld allocations, %ld failed (%ld: retry refused cleanly)\n",
               "authc_new", n - 1, runs, g_unrecovered);
        total += runs;
    }
    static const int COLD[] = {1, 2, 8, 12};
    for (size_t i = 0; i < sizeof COLD / sizeof *COLD; i++) {
        const scenario *sc = &SCENARIOS[COLD[i]];
        if (only && !strstr(sc->name, only))
            continue;
        long n, runs = 0;
        for (n = 1; cold(sc, n, &problems); n++)
            runs++;
        printf("cold start: %-40s %5ld allocations, %ld failed\n", sc->name, n - 1, runs);
        total += runs;
    }
    for (size_t i = 0; i < sizeof SCENARIOS / sizeof *SCENARIOS; i++) {
        const scenario *sc = &SCENARIOS[i];
        if (only && !strstr(sc->name, only))
            continue;
        long seen = 0;
        /* Twice unarmed: the normal answer, and warm process-wide caches
         * (OpenSSL's fetched algorithms, per-thread contexts). */
        one(sc, 0, &seen, &problems);
        one(sc, 0, &seen, &problems);
        /* Leaks are counted over the whole series, ending with one more
         * normal run: per-thread caches the library refills per request
         * (a failed refill is no leak) are back by then. ASan builds
         * also get LeakSanitizer's report at exit. */
        long live0 = torture_live(), n;
        for (n = 1; one(sc, n, &seen, &problems); n++)
            ;
        one(sc, 0, &seen, &problems);
        if (torture_live() != live0) {
            fprintf(stderr, "LEAK %s: %ld block(s) not freed over the series\n", sc->name,
                    torture_live() - live0);
            problems++;
        }
        printf("%-52s %5ld allocations, each failed once\n", sc->name, n - 1);
        total += n - 1;
    }
    printf("torture: %ld runs with a failed allocation, %d problem(s)\n", total, problems);
    return problems ? 1 : 0;
}

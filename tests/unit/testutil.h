/* testutil.h — helpers for the core unit tests: build an instance, send a
 * request through authc_handle, read headers and cookies, load vectors. */
#ifndef AUTHC_TESTUTIL_H
#define AUTHC_TESTUTIL_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "authc.h"

/* The next of a deterministic pseudo-random sequence (xorshift64) held in
 * *state (not 0): reproducible mutations for the mutation tests. */
static inline uint64_t tu_xorshift64(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Writes text to a new file under $TMPDIR (else /tmp) and puts its path in
 * out (n bytes, of the caller); the caller unlinks it. Aborts the test on failure. */
static inline void tu_temp_file(char *out, size_t n, const char *text)
{
    const char *dir = getenv("TMPDIR");
    int w = snprintf(out, n, "%s/authc-test-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = w >= 0 && (size_t)w < n ? mkstemp(out) : -1;
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        fprintf(stderr, "cannot write a temporary file under %s\n", dir ? dir : "/tmp");
        abort();
    }
    close(fd);
}

/* Loads a vectors file; caller json_decref()s. Aborts the test on failure. */
static inline json_t *tu_vectors(const char *file)
{
    char path[1024];
    const char *dir = getenv("AUTHC_VECTORS");
    if (dir)
        snprintf(path, sizeof path, "%s/%s", dir, file);
    else
        snprintf(path, sizeof path, "%s/tests/vectors/%s",
                 getenv("AUTHC_SOURCE_DIR") ? getenv("AUTHC_SOURCE_DIR") : "..", file);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) {
        fprintf(stderr, "cannot load %s: %s\n", path, e.text);
        abort();
    }
    return j;
}

static inline authc_err tu_authorize(void *ud, authc_arena *ar, const char *const *names,
                                     const char *const *values, size_t n, authc_user *user,
                                     const char **code)
{
    (void)ud;
    const char *u = NULL, *p = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(names[i], "username")) u = values[i];
        if (!strcmp(names[i], "password")) p = values[i];
    }
    if (u && p && !strcmp(u, "alice") && !strcmp(p, "wonderland")) {
        user->id = "1";
        user->name = "Alice";
        user->email = "alice@example.com";
        return AUTHC_OK;
    }
    if (u && !strcmp(u, "boom"))
        return AUTHC_ERR_IO;
    if (u && !strcmp(u, "coded")) {
        *code = authc_arena_strdup(ar, "too_many");
        return AUTHC_ERR_CREDENTIALS_SIGNIN;
    }
    return AUTHC_ERR_CREDENTIALS_SIGNIN;
}

/* Sets key to value on cfg; aborts on an error (a broken test, not a
 * finding). */
static inline void tu_config_set(authc_config *cfg, const char *key, const char *value)
{
    char err[512];
    if (authc_config_set(cfg, key, value, err, sizeof err)) {
        fprintf(stderr, "config %s: %s\n", key, err);
        abort();
    }
}

/* Adds a credentials provider (username, password) answered by authorize
 * to cfg and builds the instance, owned by the caller (authc_free); cfg is
 * taken over. Aborts on a configuration error. */
static inline authc *tu_instance_from(authc_config *cfg, authc_authorize_fn authorize)
{
    char err[512];
    static const authc_credentials_field f[] = {{"username", NULL, NULL}, {"password", NULL, "password"}};
    authc_credentials_provider cp = {.fields = f, .nfields = 2, .authorize = authorize};
    authc_config_add_credentials(cfg, &cp);
    authc *a = authc_new(cfg, err, sizeof err);
    if (!a) {
        fprintf(stderr, "authc_new: %s\n", err);
        abort();
    }
    return a;
}

/* New instance from "key=value" settings (NULL-terminated), plus a
 * credentials provider (alice / wonderland). */
static inline authc *tu_instance(const char *first, ...)
{
    authc_config *cfg = authc_config_new();
    va_list ap;
    va_start(ap, first);
    for (const char *kv = first; kv; kv = va_arg(ap, const char *)) {
        const char *eq = strchr(kv, '=');
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        tu_config_set(cfg, key, eq + 1);
    }
    va_end(ap);
    return tu_instance_from(cfg, tu_authorize);
}

/* Sends a request from client_addr (NULL: unknown, as an embedding app
 * that does not say); headers h1, then ap, as "Name: value" strings up to
 * a NULL. */
static inline authc_response *tu_vreq(const authc *a, const char *method, const char *url,
                                      const char *client_addr, const char *body, const char *h1,
                                      va_list ap)
{
    authc_header hs[32];
    static char store[32][8192];
    size_t n = 0;
    for (const char *h = h1; h && n < 32; h = va_arg(ap, const char *)) {
        snprintf(store[n], sizeof store[n], "%s", h);
        char *colon = strchr(store[n], ':');
        *colon = '\0';
        hs[n].name = store[n];
        hs[n].value = colon + 1 + (colon[1] == ' ');
        n++;
    }
    authc_request r = {.method = method, .url = url, .headers = hs, .nheaders = n,
                       .body = body, .body_len = body ? strlen(body) : 0, .client_addr = client_addr};
    authc_response *res = NULL;
    authc_handle(a, &r, &res);
    return res;
}

/* Sends a request; headers as "Name: value" strings, NULL-terminated. */
static inline authc_response *tu_req(const authc *a, const char *method, const char *url,
                                     const char *body, const char *h1, ...)
{
    va_list ap;
    va_start(ap, h1);
    authc_response *res = tu_vreq(a, method, url, NULL, body, h1, ap);
    va_end(ap);
    return res;
}

/* Sends method url with an optional Cookie header (NULL or "" for none) and
 * an optional form body; returns the response (caller frees), or NULL when
 * authc_handle fails. */
static inline authc_response *tu_send_form(const authc *a, const char *method, const char *url,
                                           const char *cookie, const char *body)
{
    authc_header h[2];
    size_t n = 0;
    if (cookie && *cookie)
        h[n++] = (authc_header){"Cookie", cookie};
    if (body)
        h[n++] = (authc_header){"Content-Type", "application/x-www-form-urlencoded"};
    authc_request rq = {.method = method, .url = url, .headers = h, .nheaders = n, .body = body,
                        .body_len = body ? strlen(body) : 0};
    authc_response *r = NULL;
    if (authc_handle(a, &rq, &r) == AUTHC_OK)
        return r;
    authc_response_free(r);
    return NULL;
}

/* i-th Set-Cookie header value or NULL. */
static inline const char *tu_set_cookie(const authc_response *r, size_t i)
{
    for (size_t k = 0; k < r->nheaders; k++)
        if (!strcasecmp(r->headers[k].name, "Set-Cookie") && i-- == 0)
            return r->headers[k].value;
    return NULL;
}

/* Set-Cookie whose name is exactly `name`, or NULL. */
static inline const char *tu_cookie_named(const authc_response *r, const char *name)
{
    size_t l = strlen(name);
    for (size_t k = 0; k < r->nheaders; k++)
        if (!strcasecmp(r->headers[k].name, "Set-Cookie") &&
            !strncmp(r->headers[k].value, name, l) && r->headers[k].value[l] == '=')
            return r->headers[k].value;
    return NULL;
}

/* Value part of a Set-Cookie (URL-encoded as sent), malloc'd. */
static inline char *tu_cookie_value(const char *set_cookie)
{
    const char *eq = strchr(set_cookie, '=');
    size_t l = strcspn(eq + 1, ";");
    return strndup(eq + 1, l);
}

static inline char *tu_body(const authc_response *r)
{
    return strndup(r->body ? r->body : "", r->body_len);
}

/* The CSRF pair of a browser that fetched an instance's /auth/csrf: the
 * token to post and a Cookie header carrying the cookie. */
typedef struct tu_csrf {
    char token[65];
    char cookie[512];
} tu_csrf;

/* GETs url (a /csrf route) and returns its CSRF pair; aborts without one. */
static inline tu_csrf tu_csrf_of(const authc *a, const char *url)
{
    tu_csrf c;
    authc_response *r = tu_req(a, "GET", url, NULL, NULL);
    const char *sc = r ? tu_cookie_named(r, "authjs.csrf-token") : NULL;
    if (!sc) {
        fprintf(stderr, "no CSRF cookie from %s\n", url);
        abort();
    }
    char *val = tu_cookie_value(sc);
    snprintf(c.token, sizeof c.token, "%.64s", val);
    snprintf(c.cookie, sizeof c.cookie, "Cookie: authjs.csrf-token=%s", val);
    free(val);
    authc_response_free(r);
    return c;
}

/* POSTs the form "csrfToken=<token>`extra`" to origin/auth/<path> with a
 * fresh CSRF pair from origin/auth/csrf (the token "wrong" unless
 * good_token) and `cookies` ("name=value; …", "" for none) besides the
 * CSRF cookie; returns the response (caller frees). */
static inline authc_response *tu_post_csrf(const authc *a, const char *origin, const char *path, const char *cookies,
                                           const char *extra, bool good_token)
{
    char u[256], hdr[8192], body[1024];
    snprintf(u, sizeof u, "%s/auth/csrf", origin);
    tu_csrf c = tu_csrf_of(a, u);
    snprintf(hdr, sizeof hdr, "%s%s%s", c.cookie, *cookies ? "; " : "", cookies);
    snprintf(body, sizeof body, "csrfToken=%s%s", good_token ? c.token : "wrong", extra);
    snprintf(u, sizeof u, "%s/auth/%s", origin, path);
    return tu_req(a, "POST", u, body, hdr, "Content-Type: application/x-www-form-urlencoded", NULL);
}

/* Signs alice (tu_instance's credentials user) in through origin's
 * /auth/callback/credentials, `extra` appended to the form ("" for
 * nothing); returns the callback's response (caller frees). */
static inline authc_response *tu_sign_in(const authc *a, const char *origin, const char *extra)
{
    char body[512];
    snprintf(body, sizeof body, "&username=alice&password=wonderland%s", extra);
    return tu_post_csrf(a, origin, "callback/credentials", "", body, true);
}

/* "authjs.session-token=<value>" of r's session cookie, written into out
 * (returned); NULL when r sets none. */
static inline char *tu_session_pair(const authc_response *r, char *out, size_t n)
{
    const char *sc = tu_cookie_named(r, "authjs.session-token");
    if (!sc)
        return NULL;
    char *v = tu_cookie_value(sc);
    snprintf(out, n, "authjs.session-token=%s", v);
    free(v);
    return out;
}

/* A browser's cookie jar: Set-Cookie headers in, a Cookie header out. */
typedef struct tu_jar {
    char names[16][64];
    char values[16][4096];
    int n;
} tu_jar;

/* Applies r's Set-Cookie headers: a new value replaces the old one of that
 * name; Max-Age=0 (or an empty value) removes it. */
static inline void tu_jar_update(tu_jar *j, const authc_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, "Set-Cookie"))
            continue;
        const char *v = r->headers[i].value;
        size_t nl = strcspn(v, "=");
        size_t vl = strcspn(v + nl + 1, ";");
        bool del = vl == 0 || strstr(v, "Max-Age=0") != NULL;
        int k;
        for (k = 0; k < j->n; k++)
            if (strlen(j->names[k]) == nl && !strncmp(j->names[k], v, nl))
                break;
        if (del) {
            if (k < j->n) {
                j->n--;
                memmove(&j->names[k], &j->names[k + 1], sizeof j->names[0] * (size_t)(j->n - k));
                memmove(&j->values[k], &j->values[k + 1], sizeof j->values[0] * (size_t)(j->n - k));
            }
            continue;
        }
        if (k == j->n && j->n < 16)
            j->n++;
        if (k < 16) {
            snprintf(j->names[k], sizeof j->names[k], "%.*s", (int)nl, v);
            snprintf(j->values[k], sizeof j->values[k], "%.*s", (int)vl, v + nl + 1);
        }
    }
}

/* Value of the cookie `name` in the jar (owned by the jar), or NULL. */
static inline const char *tu_jar_get(const tu_jar *j, const char *name)
{
    for (int k = 0; k < j->n; k++)
        if (!strcmp(j->names[k], name))
            return j->values[k];
    return NULL;
}

/* The Cookie header for the jar, written into buf (returned). */
static inline char *tu_jar_header(const tu_jar *j, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int k = 0; k < j->n; k++)
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s=%s", k ? "; " : "", j->names[k], j->values[k]);
    return buf;
}

#endif

/* testutil.h — helpers for the core unit tests: build an instance, send a
 * request through authc_handle, read headers and cookies, load vectors. */
#ifndef AUTHC_TESTUTIL_H
#define AUTHC_TESTUTIL_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authc.h"

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

static authc_err tu_authorize(void *ud, authc_arena *ar, const char *const *names,
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

/* New instance from "key=value" settings (NULL-terminated), plus a
 * credentials provider (alice / wonderland). */
static inline authc *tu_instance(const char *first, ...)
{
    authc_config *cfg = authc_config_new();
    char err[512];
    va_list ap;
    va_start(ap, first);
    for (const char *kv = first; kv; kv = va_arg(ap, const char *)) {
        const char *eq = strchr(kv, '=');
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
        if (authc_config_set(cfg, key, eq + 1, err, sizeof err)) {
            fprintf(stderr, "config %s: %s\n", kv, err);
            abort();
        }
    }
    va_end(ap);
    static const authc_credentials_field f[] = {{"username", NULL, NULL}, {"password", NULL, "password"}};
    authc_credentials_provider cp = {.fields = f, .nfields = 2, .authorize = tu_authorize};
    authc_config_add_credentials(cfg, &cp);
    authc *a = authc_new(cfg, err, sizeof err);
    if (!a) {
        fprintf(stderr, "authc_new: %s\n", err);
        abort();
    }
    return a;
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

#endif

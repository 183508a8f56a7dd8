/* token_api.c — authc_access_token_get(): the C call behind GET <base>/token
 * for an app's own server code (same answer, same refresh, no setting). */
#include <string.h>
#include <strings.h>

#include "core/core_int.h"

/* The request's URL with path+query replaced (arena), keeping its origin. */
static const char *token_url(authc_arena *ar, const authc *a, const char *orig, const char *provider)
{
    authc__buf q;
    authc__buf_init(&q, ar, AUTHC__MAX_URL);
    authc__buf_adds(&q, authc__inst_base(a));
    authc__buf_adds(&q, "/token?provider=");
    authc__buf_add_uri_component(&q, provider);
    if (q.err)
        return NULL;
    authc__url u;
    if (orig && orig[0] != '/' && authc__url_parse(ar, orig, &u) == AUTHC_OK)
        return authc_arena_printf(ar, "%s%s", u.origin, q.p);
    return q.p;
}

authc_err authc_access_token_get(const authc *a, const authc_request *req, const char *provider,
                                 authc_access_token **out)
{
    *out = NULL;
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return AUTHC_ERR_NOMEM;
    authc_header *h = authc_arena_alloc(ar, (req->nheaders + 1) * sizeof *h);
    const char *url = provider ? token_url(ar, a, req->url, provider) : NULL;
    if (!h || !url) {
        authc_arena_free(ar);
        return provider ? AUTHC_ERR_NOMEM : AUTHC_ERR_INVALID;
    }
    size_t n = 0; /* the app's own call is same-site by definition */
    for (size_t i = 0; i < req->nheaders; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, "Sec-Fetch-Site"))
            h[n++] = req->headers[i];
    authc_request r = *req;
    r.method = "GET";
    r.url = url;
    r.headers = h;
    r.nheaders = n;
    r.body = NULL;
    r.body_len = 0;
    authc_response *res = NULL;
    authc_err e = authc__handle_internal(a, &r, &res);
    authc_arena_free(ar);
    if (e) {
        authc_response_free(res);
        return e;
    }
    authc_access_token *t = res->arena ? authc_arena_alloc(res->arena, sizeof *t) : NULL;
    json_error_t je;
    if (!t) {
        authc_response_free(res);
        return AUTHC_ERR_NOMEM;
    }
    json_t *j = res->body ? json_loadb(res->body, res->body_len, 0, &je) : NULL; /* NULL: fields unset */
    json_t *ex = json_object_get(j, "expires_at");
    *t = (authc_access_token){
        .status = res->status,
        .error = authc_arena_strdup(res->arena, json_string_value(json_object_get(j, "error"))),
        .access_token = authc_arena_strdup(res->arena, json_string_value(json_object_get(j, "access_token"))),
        .expires_at = json_is_integer(ex) ? (int64_t)json_integer_value(ex) : 0,
        .response = res,
    };
    json_decref(j);
    *out = t;
    return AUTHC_OK;
}

void authc_access_token_free(authc_access_token *t)
{
    if (t)
        authc_response_free(t->response); /* t lives in the response's arena */
}

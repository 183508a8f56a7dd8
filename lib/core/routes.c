/* routes.c — the one route table: every action under the base path with its
 * methods, handler, worker pool and kind; provider types add their own rows. */
#include <string.h>

#include "adapters/adapters_int.h"
#include "core/core_int.h"

static const authc__route ROUTES[] = {
    {"providers", AUTHC__GET, authc__action_providers, AUTHC_POOL_INLINE, AUTHC__R_NO_INIT},
    {"session", AUTHC__GET | AUTHC__POST, authc__action_session, AUTHC_POOL_INLINE,
     AUTHC__R_DB_SESSIONS | AUTHC__R_TOKENS},
    {"token", AUTHC__GET, authc__action_token, AUTHC_POOL_NET, AUTHC__R_DB_SESSIONS | AUTHC__R_TOKENS},
    {"csrf", AUTHC__GET, authc__action_csrf, AUTHC_POOL_INLINE, 0},
    {"signin", AUTHC__GET | AUTHC__POST, authc__action_signin, AUTHC_POOL_INLINE,
     AUTHC__R_PAGE | AUTHC__R_PROVIDER | AUTHC__R_SIGNIN},
    {"signout", AUTHC__GET | AUTHC__POST, authc__action_signout, AUTHC_POOL_INLINE,
     AUTHC__R_PAGE | AUTHC__R_DB_SESSIONS | AUTHC__R_SUB_CALLBACK | AUTHC__R_TOKENS},
    {"callback", AUTHC__GET | AUTHC__POST, authc__action_callback, AUTHC_POOL_INLINE,
     AUTHC__R_PROVIDER | AUTHC__R_CALLBACK},
    {"verify-request", AUTHC__GET, authc__action_verify_request, AUTHC_POOL_INLINE, AUTHC__R_PAGE},
    {"sessions", AUTHC__POST, authc__action_sessions, AUTHC_POOL_DB, AUTHC__R_SUBPATH},
    {"error", AUTHC__GET, authc__action_error_page, AUTHC_POOL_INLINE, AUTHC__R_PAGE},
    /* A proxy asks, not a browser: no CSRF or callback-url cookie to mint. */
    {"forward", AUTHC__GET | AUTHC__HEAD, authc__action_forward, AUTHC_POOL_INLINE,
     AUTHC__R_DB_SESSIONS | AUTHC__R_NO_INIT},
};

static bool name_is(const char *name, const char *s, size_t len)
{
    return strlen(name) == len && !memcmp(name, s, len);
}

const authc__route *authc__route_of_type(const authc__provider_ops *ops, const char *name, size_t len)
{
    for (size_t i = 0; ops && i < ops->nroutes; i++)
        if (name_is(ops->routes[i].name, name, len))
            return &ops->routes[i];
    return NULL;
}

const authc__route *authc__route_find(const authc *a, const char *name, size_t len, bool *owned)
{
    *owned = false;
    for (size_t i = 0; i < sizeof ROUTES / sizeof *ROUTES; i++)
        if (name_is(ROUTES[i].name, name, len))
            return &ROUTES[i];
    /* A provider route exists when a configured provider's type declares it. */
    for (size_t i = 0; i < a->nproviders; i++) {
        const authc__route *r = authc__route_of_type(a->providers[i].ops, name, len);
        if (r) {
            *owned = true;
            return r;
        }
    }
    return NULL;
}

bool authc_handles_path(const authc *a, const char *path)
{
    if (!path)
        return false;
    size_t bl = a->base_len;
    /* The base itself too (Auth.js answers it with 400), but not
     * "/authfoo": a server may have its own files next to the base. */
    return strncmp(path, a->base_path, bl) == 0 &&
           (path[bl] == '\0' || path[bl] == '/' || path[bl] == '?' || bl == 0);
}

/* The provider named by the segment after the action, or NULL. */
static const authc__provider *path_provider(const authc *a, const char *prov)
{
    char id[128];
    size_t il = prov ? strcspn(prov, "/?#") : 0;
    if (!prov || il >= sizeof id)
        return NULL;
    memcpy(id, prov, il);
    id[il] = '\0';
    return authc__provider_find(a, id);
}

authc_pool authc_route_pool(const authc *a, const char *method, const char *path)
{
    if (!authc_handles_path(a, path))
        return AUTHC_POOL_INLINE;
    const char *act = path + a->base_len;
    while (*act == '/')
        act++;
    /* The action: up to the end, '/', '?' or '#'. */
    static const bool stop[256] = {['\0'] = true, ['/'] = true, ['?'] = true, ['#'] = true};
    size_t al = 0;
    while (!stop[(unsigned char)act[al]])
        al++;
    const char *prov = act[al] == '/' ? act + al + 1 : NULL;
    const authc__provider *p = path_provider(a, prov);
    bool owned;
    const authc__route *r = authc__route_find(a, act, al, &owned);
    if (r && owned) /* the provider named in the path must own the route */
        r = p ? authc__route_of_type(p->ops, act, al) : NULL;
    if (!r)
        return AUTHC_POOL_INLINE;
    if ((r->flags & AUTHC__R_TOKENS) && (a->refresh_tokens || a->federated_signout))
        return AUTHC_POOL_NET; /* a refresh grant or discovery may run */
    /* With a database every session read is a round trip. */
    if ((r->flags & AUTHC__R_DB_SESSIONS) && a->adapter && a->strategy == AUTHC__DATABASE)
        return AUTHC_POOL_DB;
    /* A JWT read checks revocation marks: a round trip unless in memory. */
    if ((r->flags & AUTHC__R_DB_SESSIONS) && a->store_remote)
        return AUTHC_POOL_DB;
    if ((r->flags & AUTHC__R_SIGNIN) && p && method && !strcmp(method, "POST"))
        return p->ops->signin ? p->ops->signin_pool : AUTHC_POOL_INLINE;
    if ((r->flags & AUTHC__R_CALLBACK) && p)
        return p->ops->callback_pool;
    return r->pool;
}

size_t authc_pool_threads(const authc *a, authc_pool kind)
{
    switch (kind) {
    case AUTHC_POOL_NET:
        return 16;
    case AUTHC_POOL_CPU:
        return 2;
    case AUTHC_POOL_DB: {
        unsigned want = a && a->adapter && a->strategy == AUTHC__DATABASE ? authc__adapter_callers(a->adapter) : 0;
        return want > 4 ? want : 4;
    }
    default:
        return 0;
    }
}

bool authc_may_block(const authc *a, const char *method, const char *path)
{
    return authc_route_pool(a, method, path) != AUTHC_POOL_INLINE;
}

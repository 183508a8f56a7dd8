/* oauth_common.c — what every OAuth step shares: the ordered parameter list
 * (URLSearchParams), discovery access, effective checks, redirect proxy. */
#include <ctype.h>
#include <string.h>

#include "providers/oauth_int.h"

authc_err authc__pl_append(authc__plist *l, const char *k, const char *v)
{
    return authc__map_add(l->ar, &l->m, k, v);
}

/* set(): replaces the first value in place and drops later duplicates;
 * appends when absent. */
authc_err authc__pl_set(authc__plist *l, const char *k, const char *v)
{
    size_t w = 0;
    bool found = false;
    for (size_t i = 0; i < l->m.n; i++) {
        if (!strcmp(l->m.items[i].k, k)) {
            if (found)
                continue;
            found = true;
            l->m.items[i].v = v;
        }
        l->m.items[w++] = l->m.items[i];
    }
    l->m.n = w;
    return found ? AUTHC_OK : authc__pl_append(l, k, v);
}

bool authc__pl_has(const authc__plist *l, const char *k)
{
    return authc__map_first(&l->m, k) != NULL;
}

void authc__pl_serialize(authc__buf *b, const authc__plist *l)
{
    for (size_t i = 0; i < l->m.n; i++) {
        if (i)
            authc__buf_addc(b, '&');
        authc__buf_add_form_component(b, l->m.items[i].k);
        authc__buf_addc(b, '=');
        authc__buf_add_form_component(b, l->m.items[i].v);
    }
}

authc_err authc__pl_from_map(authc__plist *l, const authc__map *m)
{
    authc_err e = AUTHC_OK;
    for (size_t i = 0; !e && i < m->n; i++)
        e = authc__pl_append(l, m->items[i].k, m->items[i].v);
    return e;
}

/* [A-Za-z0-9_.-] kept, anything else '?', at most 64 bytes: an IdP's text
 * can neither forge log lines nor carry a token at length. */
const char *authc__oauth_log_safe(authc_arena *ar, const char *s)
{
    if (!s)
        return "(none)";
    char out[65];
    size_t n = 0;
    for (; *s && n < 64; s++)
        out[n++] = (isalnum((unsigned char)*s) || strchr("_.-", *s)) ? *s : '?';
    out[n] = '\0';
    return authc_arena_strdup(ar, out);
}

unsigned authc__oauth_checks(const authc__oauth *P, const authc__oidc_meta *meta)
{
    unsigned ch = P->checks;
    if ((ch & AUTHC_CHECK_PKCE_IF_ADVERTISED) && !(meta && meta->pkce_s256))
        ch &= ~(unsigned)AUTHC_CHECK_PKCE;
    return ch;
}

/* Origin of an absolute URL (arena) or NULL. */
const char *authc__oauth_origin_of(authc_arena *ar, const char *url)
{
    authc__url u;
    return authc__url_parse(ar, url, &u) == AUTHC_OK ? u.origin : NULL;
}

/* True when this deployment should send the IdP to the redirect proxy. */
bool authc__oauth_via_proxy(authc__ctx *c, const authc__oauth *P)
{
    if (!P->redirect_proxy_url)
        return false;
    const char *po = authc__oauth_origin_of(authc__ctx_arena(c), P->redirect_proxy_url);
    return !po || strcmp(po, authc__ctx_origin(c)) != 0;
}

authc_err authc__oauth_meta(authc__ctx *c, const authc__oauth *P, const authc__oidc_meta **meta)
{
    *meta = NULL;
    if (!P->oidc)
        return AUTHC_OK;
    char why[AUTHC__OAUTH_WHY_LEN];
    authc_err e = authc__oidc_get_meta(P->oidc, meta, why, sizeof why);
    if (e == AUTHC_ERR_NOMEM)
        return e;
    if (e)
        return authc__fail(c, AUTHC_ERR_CONFIGURATION, "OIDC discovery for provider %s failed: %s", P->id, why);
    return AUTHC_OK;
}

const char *authc__oauth_redirect_uri(authc__ctx *c, const authc__oauth *P)
{
    authc_arena *ar = authc__ctx_arena(c);
    if (authc__oauth_via_proxy(c, P))
        return authc_arena_printf(ar, "%s/callback/%s", P->redirect_proxy_url, P->id);
    return authc_arena_printf(ar, "%s%s/callback/%s", authc__ctx_origin(c),
                              authc__inst_base(authc__ctx_instance(c)), P->id);
}

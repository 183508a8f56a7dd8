/* signout_federated.c — OpenID Connect RP-Initiated Logout on POST /signout
 * (AUTH_<ID>_FEDERATED_SIGNOUT) and GET <base>/signout/callback/<ID>. */
#include <string.h>

#include "core/core_int.h"

#define STATE_BYTES 32

/* The end_session URL with its parameters (arena), or NULL. */
static const char *end_session_url(authc__ctx *c, const authc__end_session *es, const char *pid,
                                   const char *id_token, const char *state)
{
    authc__buf b;
    authc__buf_init(&b, c->ar, AUTHC__MAX_URL * 4);
    authc__buf_add_url_param(&b, es->endpoint, "id_token_hint", id_token);
    authc__buf_adds(&b, "&client_id=");
    authc__buf_add_uri_component(&b, es->client_id);
    authc__buf_adds(&b, "&post_logout_redirect_uri=");
    const char *back = authc_arena_printf(c->ar, "%s%s/signout/callback/%s", c->origin,
                                          authc__inst_base(c->a), pid);
    if (!back)
        return NULL;
    authc__buf_add_uri_component(&b, back);
    authc__buf_adds(&b, "&state=");
    authc__buf_adds(&b, state);
    return b.err ? NULL : b.p;
}

authc_err authc__signout_federated(authc__ctx *c, json_t *claims, const char **url)
{
    *url = NULL;
    const char *pid = json_string_value(json_object_get(claims, "provider"));
    const char *idt = json_string_value(json_object_get(claims, "id_token"));
    const authc__provider *p = pid && idt ? authc__provider_find(c->a, pid) : NULL;
    return p ? authc__signout_federated_to(c, p, idt, url) : AUTHC_OK;
}

authc_err authc__signout_federated_to(authc__ctx *c, const authc__provider *p, const char *idt,
                                      const char **url)
{
    *url = NULL;
    authc__end_session es;
    if (!idt || !authc__federated_on(c, p, &es))
        return AUTHC_OK;
    uint8_t rnd[STATE_BYTES];
    authc_err e = authc__random(rnd, sizeof rnd);
    if (e)
        return e;
    char *state = authc__b64url_encode(c->ar, rnd, sizeof rnd);
    /* The state and where to go after, sealed as the other check cookies. */
    char *saved = state ? authc_arena_printf(c->ar, "%s %s", state, c->callback_url) : NULL;
    if (!saved)
        return AUTHC_ERR_NOMEM;
    c->provider = p;
    if ((e = authc__check_cookie_set(c, AUTHC__CK_STATE, saved, false)))
        return e;
    *url = end_session_url(c, &es, p->id, idt, state);
    return *url ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

authc_err authc__signout_callback(authc__ctx *c)
{
    const char *saved = NULL;
    authc_err e = authc__check_cookie_use(c, AUTHC__CK_STATE, &saved); /* cleared either way */
    if (e)
        return e;
    const char *state = authc__map_first(&c->query, "state");
    const char *sp = saved ? strchr(saved, ' ') : NULL;
    if (sp && state) {
        char *want = authc_arena_strndup(c->ar, saved, (size_t)(sp - saved));
        if (want && authc__ct_streq(want, state))
            return authc__res_redirect(c, sp + 1); /* validated when it was saved */
    }
    authc__log(c->a, "warn", "[auth][warn] signout callback of %s: state %s; back to the origin",
               c->provider->id, saved ? "does not match" : "cookie missing");
    const char *home = authc_arena_printf(c->ar, "%s/", c->origin);
    return home ? authc__res_redirect(c, home) : AUTHC_ERR_NOMEM;
}

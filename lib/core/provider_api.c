/* provider_api.c — the core's side of provider_api.h: the request and
 * instance accessors providers use and sealed values. */
#include <string.h>

#include "core/core_int.h"

authc_adapter *authc__inst_adapter(const authc *a) { return a->adapter; }
const authc_callbacks *authc__inst_callbacks(const authc *a) { return &a->cb; }
const char *authc__inst_base(const authc *a) { return strcmp(a->base_path, "/") ? a->base_path : ""; }
const char *authc__inst_csrf_secret(const authc *a) { return a->csrf_secret; }

const authc *authc__ctx_instance(const authc__ctx *c) { return c->a; }
authc_arena *authc__ctx_arena(const authc__ctx *c) { return c->ar; }
const authc__provider *authc__ctx_provider(const authc__ctx *c) { return c->provider; }
bool authc__ctx_is_post(const authc__ctx *c) { return c->post; }
const char *authc__ctx_origin(const authc__ctx *c) { return c->origin; }
const char *authc__ctx_host(const authc__ctx *c) { return c->host; }
const char *authc__ctx_full_url(authc__ctx *c) { return authc__full_url(c); }
const char *authc__ctx_client_addr(const authc__ctx *c) { return c->client_ip ? c->client_ip : c->req->client_addr; }
struct authc_store *authc__inst_store(const authc *a) { return a->store; }
const struct authc__regulation *authc__inst_regulation(const authc *a) { return &a->regulation; }
const authc__map *authc__ctx_query(const authc__ctx *c) { return &c->query; }
const authc__map *authc__ctx_body(const authc__ctx *c) { return &c->body; }
bool authc__ctx_return_redirect(const authc__ctx *c) { return c->return_redirect; }
bool authc__ctx_csrf_verified(const authc__ctx *c) { return c->csrf_verified; }
const char *authc__ctx_csrf_token(const authc__ctx *c) { return c->csrf_token; }
const char *authc__ctx_callback_url(const authc__ctx *c) { return c->callback_url; }
const authc__theme *authc__ctx_theme(const authc__ctx *c) { return &c->a->theme; }
const authc_user *authc__ctx_login_user(const authc__ctx *c) { return c->login_user; }
const char *authc__ctx_log_line(const authc__ctx *c) { return c->log_line; }
void authc__ctx_set_log_line(authc__ctx *c, const char *line) { c->log_line = line; }
void authc__ctx_set_error_code(authc__ctx *c, const char *code) { c->err_code_extra = code; }

const char *authc__ctx_header(const authc__ctx *c, const char *name)
{
    return authc__request_header(c->req, name);
}

authc__lang authc__ctx_lang(const authc__ctx *c)
{
    return authc__lang_pick(c->a->lang, c->accept_language);
}

static const authc__jwe_key *seal_keys(const authc *a, authc__seal kind)
{
    return kind == AUTHC__SEAL_STATE ? a->state_keys : a->challenge_keys;
}

authc_err authc__seal_encode(authc__ctx *c, authc__seal kind, json_t *claims, char **out)
{
    /* New values always use the first (current) secret. */
    return authc__jwt_encode(c->ar, &seal_keys(c->a, kind)[0], claims, AUTHC__CHECK_MAX_AGE,
                             authc__now_ms() / 1000, out);
}

authc_err authc__seal_decode(authc__ctx *c, authc__seal kind, const char *tok, json_t **claims)
{
    return authc__jwt_decode(c->ar, seal_keys(c->a, kind), c->a->nsecrets, tok, strlen(tok),
                             authc__now_ms() / 1000, claims);
}

void *authc__record_new(size_t size, authc_arena **ar)
{
    authc_arena *a = authc_arena_new();
    void *impl = authc_arena_alloc(a, size);
    if (!impl)
        authc_arena_free(a);
    else
        *ar = a;
    return impl;
}

/* model.c — deep copies of the Auth.js models through one allocator
 * interface (arena for results, heap for the memory backend), and the update_user merge rule. */
#include <string.h>

#include "adapters/adapters_int.h"

/* Duplicates s through al; *ok becomes false when a non-NULL s could not
 * be copied (so one check after a series of copies suffices). */
static const char *dup(const authc__alloc *al, const char *s, bool *ok)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = al->alloc(al->ud, n);
    if (!d) {
        *ok = false;
        return NULL;
    }
    memcpy(d, s, n);
    return d;
}

/* Owned by al's owner; NULL for NULL in or OOM. */
authc_user *authc__user_dup(const authc__alloc *al, const authc_user *in)
{
    if (!in)
        return NULL;
    authc_user *u = al->alloc(al->ud, sizeof *u);
    if (!u)
        return NULL;
    bool ok = true;
    u->id = dup(al, in->id, &ok);
    u->name = dup(al, in->name, &ok);
    u->email = dup(al, in->email, &ok);
    u->email_verified = in->email_verified;
    u->image = dup(al, in->image, &ok);
    u->fields = in->fields;
    return ok ? u : NULL;
}

/* Owned by al's owner; NULL for NULL in or OOM. */
authc_account *authc__account_dup(const authc__alloc *al,
                                  const authc_account *in)
{
    if (!in)
        return NULL;
    authc_account *a = al->alloc(al->ud, sizeof *a);
    if (!a)
        return NULL;
    bool ok = true;
    a->id = dup(al, in->id, &ok);
    a->user_id = dup(al, in->user_id, &ok);
    a->type = dup(al, in->type, &ok);
    a->provider = dup(al, in->provider, &ok);
    a->provider_account_id = dup(al, in->provider_account_id, &ok);
    a->refresh_token = dup(al, in->refresh_token, &ok);
    a->access_token = dup(al, in->access_token, &ok);
    a->expires_at = in->expires_at;
    a->token_type = dup(al, in->token_type, &ok);
    a->scope = dup(al, in->scope, &ok);
    a->id_token = dup(al, in->id_token, &ok);
    a->session_state = dup(al, in->session_state, &ok);
    return ok ? a : NULL;
}

/* Owned by al's owner; NULL for NULL in or OOM. */
authc_session_row *authc__session_dup(const authc__alloc *al,
                                      const authc_session_row *in)
{
    if (!in)
        return NULL;
    authc_session_row *s = al->alloc(al->ud, sizeof *s);
    if (!s)
        return NULL;
    bool ok = true;
    s->id = dup(al, in->id, &ok);
    s->session_token = dup(al, in->session_token, &ok);
    s->user_id = dup(al, in->user_id, &ok);
    s->expires = in->expires;
    return ok ? s : NULL;
}

/* Owned by al's owner; NULL for NULL in or OOM. */
authc_verification_token *authc__vt_dup(const authc__alloc *al,
                                        const authc_verification_token *in)
{
    if (!in)
        return NULL;
    authc_verification_token *v = al->alloc(al->ud, sizeof *v);
    if (!v)
        return NULL;
    bool ok = true;
    v->identifier = dup(al, in->identifier, &ok);
    v->token = dup(al, in->token, &ok);
    v->expires = in->expires;
    return ok ? v : NULL;
}

/* Strings of *dst owned by al's owner. */
bool authc__authenticator_dup_into(const authc__alloc *al,
                                   authc_authenticator *dst,
                                   const authc_authenticator *in)
{
    bool ok = true;
    dst->credential_id = dup(al, in->credential_id, &ok);
    dst->user_id = dup(al, in->user_id, &ok);
    dst->provider_account_id = dup(al, in->provider_account_id, &ok);
    dst->credential_public_key = dup(al, in->credential_public_key, &ok);
    dst->counter = in->counter;
    dst->credential_device_type = dup(al, in->credential_device_type, &ok);
    dst->credential_backed_up = in->credential_backed_up;
    dst->transports = dup(al, in->transports, &ok);
    return ok;
}

/* Owned by al's owner; NULL for NULL in or OOM. */
authc_authenticator *authc__authenticator_dup(const authc__alloc *al,
                                              const authc_authenticator *in)
{
    if (!in)
        return NULL;
    authc_authenticator *a = al->alloc(al->ud, sizeof *a);
    if (!a || !authc__authenticator_dup_into(al, a, in))
        return NULL;
    return a;
}

/* ---- into an arena ------------------------------------------------------ */

/* Zeroed arena memory (authc__alloc for results owned by the arena). */
static void *arena_zalloc(void *ud, size_t n)
{
    void *p = authc_arena_alloc(ud, n);
    if (p)
        memset(p, 0, n);
    return p;
}

#define ARENA(ar) (&(authc__alloc){arena_zalloc, (ar)})

authc_user *authc__copy_user(authc_arena *ar, const authc_user *in)
{
    return authc__user_dup(ARENA(ar), in);
}

authc_account *authc__copy_account(authc_arena *ar, const authc_account *in)
{
    return authc__account_dup(ARENA(ar), in);
}

authc_session_row *authc__copy_session(authc_arena *ar,
                                       const authc_session_row *in)
{
    return authc__session_dup(ARENA(ar), in);
}

authc_verification_token *authc__copy_vt(authc_arena *ar,
                                         const authc_verification_token *in)
{
    return authc__vt_dup(ARENA(ar), in);
}

authc_err authc__copy_authenticator_into(authc_arena *ar,
                                         authc_authenticator *dst,
                                         const authc_authenticator *in)
{
    return authc__authenticator_dup_into(ARENA(ar), dst, in)
               ? AUTHC_OK
               : AUTHC_ERR_NOMEM;
}

authc_authenticator *authc__copy_authenticator(authc_arena *ar,
                                               const authc_authenticator *in)
{
    return authc__authenticator_dup(ARENA(ar), in);
}

/* ---- update_user ---------------------------------------------------------- */

unsigned authc__user_fields(const authc_user *patch)
{
    unsigned all = AUTHC_USER_F_NAME | AUTHC_USER_F_EMAIL |
                   AUTHC_USER_F_EMAIL_VERIFIED | AUTHC_USER_F_IMAGE;
    return patch->fields ? patch->fields & all : all;
}

void authc__user_merge(authc_user *dst, const authc_user *patch)
{
    unsigned f = authc__user_fields(patch);
    if (f & AUTHC_USER_F_NAME)
        dst->name = patch->name;
    if (f & AUTHC_USER_F_EMAIL)
        dst->email = patch->email;
    if (f & AUTHC_USER_F_EMAIL_VERIFIED)
        dst->email_verified = patch->email_verified;
    if (f & AUTHC_USER_F_IMAGE)
        dst->image = patch->image;
}

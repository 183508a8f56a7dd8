/* model.c — the Auth.js models described as tables of members, and what
 * walks them: deep copies (arena or heap), frees, row reading, update_user's merge. */
#include <stdlib.h>
#include <string.h>

#include "adapters/adapters_int.h"

/* ---- the tables ------------------------------------------------------------ */

/* A member of struct T. */
#define F(T, member, name, kind) {name, offsetof(T, member), AUTHC__F_##kind}

static const authc__field USER_F[] = {
    F(authc_user, id, "id", STR), F(authc_user, name, "name", STR),
    F(authc_user, email, "email", STR),
    F(authc_user, email_verified, "emailVerified", TIME),
    F(authc_user, image, "image", STR)};

/* The OAuth token members are optional in Auth.js (undefined when the
 * provider sent none). */
static const authc__field ACCOUNT_F[] = {
    F(authc_account, id, "id", STR), F(authc_account, user_id, "userId", STR),
    F(authc_account, type, "type", STR),
    F(authc_account, provider, "provider", STR),
    F(authc_account, provider_account_id, "providerAccountId", STR),
    F(authc_account, refresh_token, "refresh_token", STR_OPT),
    F(authc_account, access_token, "access_token", STR_OPT),
    F(authc_account, expires_at, "expires_at", SECS),
    F(authc_account, token_type, "token_type", STR_OPT),
    F(authc_account, scope, "scope", STR_OPT),
    F(authc_account, id_token, "id_token", STR_OPT),
    F(authc_account, session_state, "session_state", STR_OPT)};

static const authc__field SESSION_F[] = {
    F(authc_session_row, id, "id", STR),
    F(authc_session_row, session_token, "sessionToken", STR),
    F(authc_session_row, user_id, "userId", STR),
    F(authc_session_row, expires, "expires", TIME)};

static const authc__field VT_F[] = {
    F(authc_verification_token, identifier, "identifier", STR),
    F(authc_verification_token, token, "token", STR),
    F(authc_verification_token, expires, "expires", TIME)};

/* Drizzle's authenticator columns; transports is optional. */
static const authc__field AUTHN_F[] = {
    F(authc_authenticator, credential_id, "credentialID", STR),
    F(authc_authenticator, user_id, "userId", STR),
    F(authc_authenticator, provider_account_id, "providerAccountId", STR),
    F(authc_authenticator, credential_public_key, "credentialPublicKey", STR),
    F(authc_authenticator, counter, "counter", INT),
    F(authc_authenticator, credential_device_type, "credentialDeviceType",
      STR),
    F(authc_authenticator, credential_backed_up, "credentialBackedUp", BOOL),
    F(authc_authenticator, transports, "transports", STR_OPT)};

#define ROW(what, T, fields) {what, sizeof(T), fields, sizeof fields / sizeof *fields}
const authc__row_desc authc__user_row = ROW("user", authc_user, USER_F);
const authc__row_desc authc__account_row =
    ROW("account", authc_account, ACCOUNT_F);
const authc__row_desc authc__session_row =
    ROW("session", authc_session_row, SESSION_F);
const authc__row_desc authc__vt_row =
    ROW("verification token", authc_verification_token, VT_F);
const authc__row_desc authc__authn_row =
    ROW("authenticator", authc_authenticator, AUTHN_F);

static bool is_str(const authc__field *f)
{
    return f->kind == AUTHC__F_STR || f->kind == AUTHC__F_STR_OPT;
}

/* The string member f of row. */
static const char **str_at(void *row, const authc__field *f)
{
    return (const char **)((char *)row + f->off);
}

/* ---- copies and frees -------------------------------------------------------- */

/* Strings of *dst owned by al's owner. The struct is copied whole first
 * (numbers, flags, user->fields), then each string is duplicated. */
bool authc__row_dup_into(const authc__row_desc *d, const authc__alloc *al,
                         void *dst, const void *in)
{
    bool ok = true;
    memcpy(dst, in, d->size);
    for (size_t i = 0; i < d->n; i++) {
        if (!is_str(&d->f[i]))
            continue;
        const char **s = str_at(dst, &d->f[i]);
        if (!*s)
            continue;
        size_t n = strlen(*s) + 1;
        char *c = al->alloc(al->ud, n);
        if (c)
            memcpy(c, *s, n);
        else
            ok = false;
        *s = c;
    }
    return ok;
}

/* Owned by al's owner; NULL for NULL in or OOM. */
void *authc__row_dup(const authc__row_desc *d, const authc__alloc *al,
                     const void *in)
{
    if (!in)
        return NULL;
    void *row = al->alloc(al->ud, d->size);
    if (!row || !authc__row_dup_into(d, al, row, in))
        return NULL;
    return row;
}

void authc__row_free(const authc__row_desc *d, void *row)
{
    if (!row)
        return;
    for (size_t i = 0; i < d->n; i++)
        if (is_str(&d->f[i]))
            free((void *)*str_at(row, &d->f[i]));
    free(row);
}

/* ---- into an arena ------------------------------------------------------ */

/* Arena memory is zeroed (authc__alloc for results owned by the arena). */
static void *arena_alloc(void *ud, size_t n)
{
    return authc_arena_alloc(ud, n);
}

#define ARENA(ar) (&(authc__alloc){arena_alloc, (ar)})

void *authc__copy_row(authc_arena *ar, const authc__row_desc *d,
                      const void *in)
{
    return authc__row_dup(d, ARENA(ar), in);
}

authc_user *authc__copy_user(authc_arena *ar, const authc_user *in)
{
    return authc__row_dup(&authc__user_row, ARENA(ar), in);
}

authc_account *authc__copy_account(authc_arena *ar, const authc_account *in)
{
    return authc__row_dup(&authc__account_row, ARENA(ar), in);
}

authc_session_row *authc__copy_session(authc_arena *ar,
                                       const authc_session_row *in)
{
    return authc__row_dup(&authc__session_row, ARENA(ar), in);
}

authc_verification_token *authc__copy_vt(authc_arena *ar,
                                         const authc_verification_token *in)
{
    return authc__row_dup(&authc__vt_row, ARENA(ar), in);
}

authc_err authc__copy_authenticator_into(authc_arena *ar,
                                         authc_authenticator *dst,
                                         const authc_authenticator *in)
{
    return authc__row_dup_into(&authc__authn_row, ARENA(ar), dst, in)
               ? AUTHC_OK
               : AUTHC_ERR_NOMEM;
}

authc_authenticator *authc__copy_authenticator(authc_arena *ar,
                                               const authc_authenticator *in)
{
    return authc__row_dup(&authc__authn_row, ARENA(ar), in);
}

/* ---- reading ------------------------------------------------------------------ */

/* Fills dst's members of l from columns col0, col0+1, …; false when a
 * string could not be read (the rest are still tried). */
static bool read_members(const authc__row_layout *l, int col0,
                         const authc__row_src *src, void *dst)
{
    bool ok = true;
    for (size_t i = 0; i < l->n; i++) {
        const authc__field *f = &l->d->f[l->cols[i]];
        char *at = (char *)dst + f->off;
        int col = col0 + (int)i;
        if (is_str(f)) {
            if (!src->str(src->ud, col, f, (const char **)at))
                ok = false;
        } else if (f->kind == AUTHC__F_BOOL) {
            *(bool *)at = src->num(src->ud, col, f) != 0;
        } else {
            *(int64_t *)at = src->num(src->ud, col, f);
        }
    }
    return ok;
}

/* Owned by ar (or *into). */
void *authc__layout_read(authc_arena *ar, const authc__row_layout *l, int col0,
                         const authc__row_src *src, void *into)
{
    void *row = into ? into : authc_arena_alloc(ar, l->d->size);
    if (!row || !read_members(l, col0, src, row))
        return NULL;
    if (!l->then)
        return row;
    authc__row_pair *pair = authc_arena_alloc(ar, sizeof *pair);
    if (!pair)
        return NULL;
    pair->first = row;
    pair->second = authc__layout_read(ar, l->then, col0 + (int)l->n, src,
                                      NULL);
    return pair->second ? pair : NULL;
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

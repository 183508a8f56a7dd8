/* registry.c — authc_adapter_open/close: picks a backend by URL scheme, plus
 * the small helpers every backend shares (copies, logging, URL redaction). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "adapters/adapters_int.h"

/* ---- logging ---------------------------------------------------------- */

void authc__adapter_log(const authc_adapter *self, const char *level,
                        const char *fmt, ...)
{
    if (!self || !self->log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    self->log(self->log_ud, level, msg);
}

void authc__set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- copies ----------------------------------------------------------- */

/* Duplicates s into ar; *ok becomes false when a non-NULL s could not be
 * copied (so one check after a series of copies suffices). */
static const char *dup(authc_arena *ar, const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = authc_arena_strdup(ar, s);
    if (!d)
        *ok = false;
    return d;
}

/* Owned by ar; NULL for NULL in or OOM. */
authc_user *authc__copy_user(authc_arena *ar, const authc_user *in)
{
    if (!in)
        return NULL;
    authc_user *u = authc_arena_alloc(ar, sizeof *u);
    if (!u)
        return NULL;
    bool ok = true;
    u->id = dup(ar, in->id, &ok);
    u->name = dup(ar, in->name, &ok);
    u->email = dup(ar, in->email, &ok);
    u->email_verified = in->email_verified;
    u->image = dup(ar, in->image, &ok);
    u->fields = in->fields;
    return ok ? u : NULL;
}

/* Owned by ar; NULL for NULL in or OOM. */
authc_account *authc__copy_account(authc_arena *ar, const authc_account *in)
{
    if (!in)
        return NULL;
    authc_account *a = authc_arena_alloc(ar, sizeof *a);
    if (!a)
        return NULL;
    bool ok = true;
    a->id = dup(ar, in->id, &ok);
    a->user_id = dup(ar, in->user_id, &ok);
    a->type = dup(ar, in->type, &ok);
    a->provider = dup(ar, in->provider, &ok);
    a->provider_account_id = dup(ar, in->provider_account_id, &ok);
    a->refresh_token = dup(ar, in->refresh_token, &ok);
    a->access_token = dup(ar, in->access_token, &ok);
    a->expires_at = in->expires_at;
    a->token_type = dup(ar, in->token_type, &ok);
    a->scope = dup(ar, in->scope, &ok);
    a->id_token = dup(ar, in->id_token, &ok);
    a->session_state = dup(ar, in->session_state, &ok);
    return ok ? a : NULL;
}

/* Owned by ar; NULL for NULL in or OOM. */
authc_session_row *authc__copy_session(authc_arena *ar,
                                       const authc_session_row *in)
{
    if (!in)
        return NULL;
    authc_session_row *s = authc_arena_alloc(ar, sizeof *s);
    if (!s)
        return NULL;
    bool ok = true;
    s->id = dup(ar, in->id, &ok);
    s->session_token = dup(ar, in->session_token, &ok);
    s->user_id = dup(ar, in->user_id, &ok);
    s->expires = in->expires;
    return ok ? s : NULL;
}

/* Owned by ar; NULL for NULL in or OOM. */
authc_verification_token *authc__copy_vt(authc_arena *ar,
                                         const authc_verification_token *in)
{
    if (!in)
        return NULL;
    authc_verification_token *v = authc_arena_alloc(ar, sizeof *v);
    if (!v)
        return NULL;
    bool ok = true;
    v->identifier = dup(ar, in->identifier, &ok);
    v->token = dup(ar, in->token, &ok);
    v->expires = in->expires;
    return ok ? v : NULL;
}

/* Strings of *dst owned by ar. */
authc_err authc__copy_authenticator_into(authc_arena *ar,
                                         authc_authenticator *dst,
                                         const authc_authenticator *in)
{
    bool ok = true;
    dst->credential_id = dup(ar, in->credential_id, &ok);
    dst->user_id = dup(ar, in->user_id, &ok);
    dst->provider_account_id = dup(ar, in->provider_account_id, &ok);
    dst->credential_public_key = dup(ar, in->credential_public_key, &ok);
    dst->counter = in->counter;
    dst->credential_device_type = dup(ar, in->credential_device_type, &ok);
    dst->credential_backed_up = in->credential_backed_up;
    dst->transports = dup(ar, in->transports, &ok);
    return ok ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

/* Owned by ar; NULL for NULL in or OOM. */
authc_authenticator *authc__copy_authenticator(authc_arena *ar,
                                               const authc_authenticator *in)
{
    if (!in)
        return NULL;
    authc_authenticator *a = authc_arena_alloc(ar, sizeof *a);
    if (!a || authc__copy_authenticator_into(ar, a, in) != AUTHC_OK)
        return NULL;
    return a;
}

void authc__user_merge(authc_user *dst, const authc_user *patch)
{
    unsigned f = patch->fields ? patch->fields
                               : (AUTHC_USER_F_NAME | AUTHC_USER_F_EMAIL |
                                  AUTHC_USER_F_EMAIL_VERIFIED |
                                  AUTHC_USER_F_IMAGE);
    if (f & AUTHC_USER_F_NAME)
        dst->name = patch->name;
    if (f & AUTHC_USER_F_EMAIL)
        dst->email = patch->email;
    if (f & AUTHC_USER_F_EMAIL_VERIFIED)
        dst->email_verified = patch->email_verified;
    if (f & AUTHC_USER_F_IMAGE)
        dst->image = patch->image;
}

/* ---- URL redaction ------------------------------------------------------ */

/* Appends n bytes of s to out[*len] within outlen (keeps the NUL). */
static void put(char *out, size_t outlen, size_t *len, const char *s, size_t n)
{
    while (n-- && *len + 1 < outlen)
        out[(*len)++] = *s++;
    out[*len] = '\0';
}

void authc__url_redact(const char *url, char *out, size_t outlen)
{
    if (!out || !outlen)
        return;
    out[0] = '\0';
    if (!url)
        return;
    size_t len = 0;
    const char *p = url;
    const char *sep = strstr(p, "://");
    if (sep) {
        const char *auth = sep + 3;
        size_t alen = strcspn(auth, "/?#");
        /* userinfo ends at the LAST '@' of the authority (passwords may
         * contain '@' in sloppy URLs). */
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (auth[i] == '@')
                at = auth + i;
        put(out, outlen, &len, p, (size_t)(auth - p));
        if (at) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon) {
                put(out, outlen, &len, auth, (size_t)(colon - auth));
                put(out, outlen, &len, ":***", 4);
            } else {
                put(out, outlen, &len, auth, (size_t)(at - auth));
            }
            p = at;
        } else {
            p = auth;
        }
    }
    /* Rest: copy, blanking every "password=" value (query or conninfo). */
    while (*p) {
        if (strncasecmp(p, "password=", 9) == 0 &&
            (p == url || p[-1] == '?' || p[-1] == '&' || p[-1] == ' ' ||
             p[-1] == ';')) {
            put(out, outlen, &len, p, 9);
            put(out, outlen, &len, "***", 3);
            p += 9;
            p += strcspn(p, "& ;#");
            continue;
        }
        put(out, outlen, &len, p, 1);
        p++;
    }
}

/* ---- dates -------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Reads exactly n digits at *s; -1 when not digits. */
static int digits(const char **s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *s += n;
    return v;
}

authc_err authc__iso8601_parse(const char *s, int64_t *ms)
{
    if (!s || !ms)
        return AUTHC_ERR_INVALID;
    int y = digits(&s, 4);
    if (y < 0 || *s++ != '-')
        return AUTHC_ERR_INVALID;
    int mo = digits(&s, 2);
    if (mo < 1 || mo > 12 || *s++ != '-')
        return AUTHC_ERR_INVALID;
    int d = digits(&s, 2);
    if (d < 1 || d > 31 || (*s != 'T' && *s != ' '))
        return AUTHC_ERR_INVALID;
    s++;
    int h = digits(&s, 2);
    if (h < 0 || h > 23 || *s++ != ':')
        return AUTHC_ERR_INVALID;
    int mi = digits(&s, 2);
    if (mi < 0 || mi > 59 || *s++ != ':')
        return AUTHC_ERR_INVALID;
    int se = digits(&s, 2);
    if (se < 0 || se > 60)
        return AUTHC_ERR_INVALID;
    int frac = 0;
    if (*s == '.') {
        s++;
        int nd = 0;
        while (*s >= '0' && *s <= '9') {
            if (nd < 3)
                frac = frac * 10 + (*s - '0');
            nd++;
            s++;
        }
        if (nd == 0 || nd > 9)
            return AUTHC_ERR_INVALID;
        for (; nd < 3; nd++)
            frac *= 10;
    }
    if (!(strcmp(s, "Z") == 0 || strcmp(s, "+00:00") == 0 ||
          strcmp(s, "+00") == 0))
        return AUTHC_ERR_INVALID;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)se * 1000 + frac;
    return AUTHC_OK;
}

/* ---- registry ----------------------------------------------------------- */

/* True when url starts with prefix (ASCII case-insensitive). */
static bool scheme_is(const char *url, const char *prefix)
{
    return strncasecmp(url, prefix, strlen(prefix)) == 0;
}

/* Returns a heap adapter owned by the caller (authc_adapter_close). */
authc_adapter *authc_adapter_open(const char *url, authc_log_fn log,
                                  void *log_ud, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!url || !*url) {
        authc__set_err(err, errlen, "adapter: empty database URL");
        return NULL;
    }
    authc_adapter *ad = NULL;
    if (strcasecmp(url, "memory:") == 0 || scheme_is(url, "memory://")) {
        ad = authc__adapter_memory_open(err, errlen);
    } else if (scheme_is(url, "sqlite:") || scheme_is(url, "file:")) {
        /* sqlite:PATH, sqlite://PATH (then PATH is what follows "//", so
         * sqlite:///abs/path is /abs/path), file:PATH */
        const char *path = url + (scheme_is(url, "file:") ? 5 : 7);
        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (!*path) {
            authc__set_err(err, errlen, "sqlite: missing file path in %s",
                           url);
            return NULL;
        }
        ad = authc__adapter_sqlite_open(path, err, errlen);
    } else if (scheme_is(url, "postgres://") ||
               scheme_is(url, "postgresql://")) {
        ad = authc__adapter_postgres_open(url, err, errlen);
    } else if (scheme_is(url, "redis://") || scheme_is(url, "rediss://")) {
        ad = authc__adapter_redis_open(url, err, errlen);
    } else {
        char safe[256];
        authc__url_redact(url, safe, sizeof safe);
        authc__set_err(err, errlen,
                       "adapter: unknown database URL scheme in \"%s\" "
                       "(use memory:, sqlite:PATH, postgres://, redis://)",
                       safe);
        return NULL;
    }
    if (!ad) {
        if (err && errlen && !err[0]) {
            char safe[256];
            authc__url_redact(url, safe, sizeof safe);
            authc__set_err(err, errlen, "adapter: cannot open %s", safe);
        }
        return NULL;
    }
    ad->log = log;
    ad->log_ud = log_ud;
    return ad;
}

void authc_adapter_close(authc_adapter *ad)
{
    if (ad && ad->ops && ad->ops->destroy)
        ad->ops->destroy(ad);
}

void authc_adapter_wrap(authc_adapter *mine, authc_adapter_ops *ops,
                        const authc_adapter *base)
{
    *ops = *base->ops;
    ops->destroy = NULL; /* the wrapper owns nothing; close the base */
    *mine = *base;
    mine->ops = ops;
    mine->wrapped = base;
}

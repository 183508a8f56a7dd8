/* models.h — the Auth.js adapter models as tables (member name, kind, offset)
 * so the adapter test tools read and write every model's members one way. */
#ifndef AUTHC_TEST_MODELS_H
#define AUTHC_TEST_MODELS_H

#include <stddef.h>

#include <jansson.h>

#include "authc.h"
#include "authc/adapter.h"

typedef enum m_kind {
    M_STR,  /* const char *, NULL = null */
    M_DATE, /* int64_t epoch ms (a JS Date), never null */
    M_DATE_OPT, /* the same, AUTHC_NO_TIME = null */
    M_SECS, /* int64_t (account expires_at, a plain number), AUTHC_NO_TIME = null */
    M_INT,  /* int64_t, always present */
    M_BOOL, /* bool, always present */
} m_kind;

typedef struct m_field {
    const char *name; /* the Auth.js member name */
    m_kind kind;
    size_t off; /* in the C struct */
} m_field;

typedef struct m_model {
    const m_field *f;
    size_t n;
    size_t size; /* of the C struct */
} m_model;

#define M_(T, member, name, kind) {name, kind, offsetof(T, member)}
#define M_MODEL(T, fields) {fields, sizeof fields / sizeof *fields, sizeof(T)}

/* Members in the order Auth.js writes them. */
#define U(m, name, kind) M_(authc_user, m, name, kind)
static const m_field m_user_f[] = {U(id, "id", M_STR), U(name, "name", M_STR), U(email, "email", M_STR),
                                   U(email_verified, "emailVerified", M_DATE_OPT), U(image, "image", M_STR)};
#undef U
#define A(m, name, kind) M_(authc_account, m, name, kind)
static const m_field m_account_f[] = {
    A(id, "id", M_STR), A(user_id, "userId", M_STR), A(type, "type", M_STR), A(provider, "provider", M_STR),
    A(provider_account_id, "providerAccountId", M_STR), A(refresh_token, "refresh_token", M_STR),
    A(access_token, "access_token", M_STR), A(expires_at, "expires_at", M_SECS),
    A(token_type, "token_type", M_STR), A(scope, "scope", M_STR), A(id_token, "id_token", M_STR),
    A(session_state, "session_state", M_STR)};
#undef A
#define S(m, name, kind) M_(authc_session_row, m, name, kind)
static const m_field m_session_f[] = {S(id, "id", M_STR), S(session_token, "sessionToken", M_STR),
                                      S(user_id, "userId", M_STR), S(expires, "expires", M_DATE)};
#undef S
#define V(m, name, kind) M_(authc_verification_token, m, name, kind)
static const m_field m_vt_f[] = {V(identifier, "identifier", M_STR), V(token, "token", M_STR),
                                 V(expires, "expires", M_DATE)};
#undef V
#define W(m, name, kind) M_(authc_authenticator, m, name, kind)
static const m_field m_authn_f[] = {
    W(credential_id, "credentialID", M_STR), W(user_id, "userId", M_STR),
    W(provider_account_id, "providerAccountId", M_STR), W(credential_public_key, "credentialPublicKey", M_STR),
    W(counter, "counter", M_INT), W(credential_device_type, "credentialDeviceType", M_STR),
    W(credential_backed_up, "credentialBackedUp", M_BOOL), W(transports, "transports", M_STR)};
#undef W

static const m_model m_user = M_MODEL(authc_user, m_user_f);
static const m_model m_account = M_MODEL(authc_account, m_account_f);
static const m_model m_session = M_MODEL(authc_session_row, m_session_f);
static const m_model m_vt = M_MODEL(authc_verification_token, m_vt_f);
static const m_model m_authn = M_MODEL(authc_authenticator, m_authn_f);

/* The member of row that field f names. */
#define M_AT(row, f, T) ((T *)(void *)((char *)(row) + (f)->off))

/* A new struct of model m (in ar; NULL when out of memory) from a source
 * holding member i in column i: str gives a string column (copied to ar,
 * NULL = null), num a number (AUTHC_NO_TIME = null, booleans 0 / 1). */
static inline void *m_row(const m_model *m, authc_arena *ar, void *src,
                          const char *(*str)(authc_arena *, void *, int), int64_t (*num)(void *, int))
{
    void *row = authc_arena_alloc(ar, m->size);
    for (size_t i = 0; row && i < m->n; i++) {
        const m_field *f = &m->f[i];
        if (f->kind == M_STR)
            *M_AT(row, f, const char *) = str(ar, src, (int)i);
        else if (f->kind == M_BOOL)
            *M_AT(row, f, bool) = num(src, (int)i) == 1;
        else
            *M_AT(row, f, int64_t) = num(src, (int)i);
    }
    return row;
}

#endif

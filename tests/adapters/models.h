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
    M_DATE, /* int64_t epoch ms (a JS Date), AUTHC_NO_TIME = null */
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
static const m_field m_user_f[] = {
    M_(authc_user, id, "id", M_STR), M_(authc_user, name, "name", M_STR),
    M_(authc_user, email, "email", M_STR), M_(authc_user, email_verified, "emailVerified", M_DATE),
    M_(authc_user, image, "image", M_STR),
};
static const m_field m_account_f[] = {
    M_(authc_account, id, "id", M_STR), M_(authc_account, user_id, "userId", M_STR),
    M_(authc_account, type, "type", M_STR), M_(authc_account, provider, "provider", M_STR),
    M_(authc_account, provider_account_id, "providerAccountId", M_STR),
    M_(authc_account, refresh_token, "refresh_token", M_STR),
    M_(authc_account, access_token, "access_token", M_STR),
    M_(authc_account, expires_at, "expires_at", M_SECS),
    M_(authc_account, token_type, "token_type", M_STR), M_(authc_account, scope, "scope", M_STR),
    M_(authc_account, id_token, "id_token", M_STR),
    M_(authc_account, session_state, "session_state", M_STR),
};
static const m_field m_session_f[] = {
    M_(authc_session_row, id, "id", M_STR),
    M_(authc_session_row, session_token, "sessionToken", M_STR),
    M_(authc_session_row, user_id, "userId", M_STR),
    M_(authc_session_row, expires, "expires", M_DATE),
};
static const m_field m_vt_f[] = {
    M_(authc_verification_token, identifier, "identifier", M_STR),
    M_(authc_verification_token, token, "token", M_STR),
    M_(authc_verification_token, expires, "expires", M_DATE),
};
static const m_field m_authn_f[] = {
    M_(authc_authenticator, credential_id, "credentialID", M_STR),
    M_(authc_authenticator, user_id, "userId", M_STR),
    M_(authc_authenticator, provider_account_id, "providerAccountId", M_STR),
    M_(authc_authenticator, credential_public_key, "credentialPublicKey", M_STR),
    M_(authc_authenticator, counter, "counter", M_INT),
    M_(authc_authenticator, credential_device_type, "credentialDeviceType", M_STR),
    M_(authc_authenticator, credential_backed_up, "credentialBackedUp", M_BOOL),
    M_(authc_authenticator, transports, "transports", M_STR),
};

static const m_model m_user = M_MODEL(authc_user, m_user_f);
static const m_model m_account = M_MODEL(authc_account, m_account_f);
static const m_model m_session = M_MODEL(authc_session_row, m_session_f);
static const m_model m_vt = M_MODEL(authc_verification_token, m_vt_f);
static const m_model m_authn = M_MODEL(authc_authenticator, m_authn_f);

/* The member of row that field f names. */
#define M_AT(row, f, T) ((T *)(void *)((char *)(row) + (f)->off))

#endif

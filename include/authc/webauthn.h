/* authc/webauthn.h — the Passkey (WebAuthn) provider: Auth.js's experimental
 * `Passkey` provider on its wire protocol, with server-side verification. */
#ifndef AUTHC_WEBAUTHN_H
#define AUTHC_WEBAUTHN_H

#include "../authc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Settings of one passkey provider. Every pointer is copied by
 * authc_config_add_passkey; NULL / 0 means "the default". */
typedef struct authc_passkey_provider {
    const char *id;            /* default "passkey" */
    const char *name;          /* default "Passkey" */
    /* Relying party. Defaults follow Auth.js: id = the request's hostname,
     * name = the request's host (with port), origin = the request origin. */
    const char *rp_id;
    const char *rp_name;
    /* Origins a ceremony may come from (e.g. "https://app.example.com").
     * NULL/0 = only the origin of the request being answered. */
    const char *const *origins;
    size_t norigins;
    /* "required" (default, as Auth.js's Passkey), "preferred" or
     * "discouraged". Only "required" makes the UV flag mandatory. */
    const char *user_verification;
    /* Attestation conveyance asked for at registration: "none" (default),
     * "indirect", "direct" or "enterprise". Formats verified: none, packed
     * (self and x5c); a response in any other format is refused. */
    const char *attestation;
    /* Ceremony timeout shown to the browser, ms (0 = 300000). */
    int64_t timeout_ms;
    /* Auth.js's `experimental.enableWebAuthn`: must be true, otherwise
     * authc_new refuses the configuration (ExperimentalFeatureNotEnabled). */
    bool enable_webauthn;
} authc_passkey_provider;

/* Adds a passkey provider (type "webauthn"; p is copied). The configuration
 * also needs an adapter with createUser, getUser, getUserByEmail,
 * getUserByAccount, linkAccount, getAccount and the four authenticator
 * methods. authc_new refuses the configuration, naming the problem, when
 * one is missing, when enable_webauthn is false, or when a setting above
 * has a bad value. Returns AUTHC_OK, AUTHC_ERR_INVALID (NULL argument) or
 * AUTHC_ERR_NOMEM. Nothing is returned that the caller owns. */
authc_err authc_config_add_passkey(authc_config *cfg, const authc_passkey_provider *p);

#ifdef __cplusplus
}
#endif
#endif

/* passkey_env.h — the authc program's passkey settings (AUTHC_PASSKEY*):
 * environment / config file → an authc_passkey_provider on the config. */
#ifndef AUTHC_SRC_PASSKEY_ENV_H
#define AUTHC_SRC_PASSKEY_ENV_H

#include "settings.h"

/* Adds the "passkey" provider when AUTHC_PASSKEY is on (1/true/yes/on).
 * Optional: AUTHC_PASSKEY_RP_ID, AUTHC_PASSKEY_RP_NAME, AUTHC_PASSKEY_ORIGINS
 * (comma-separated), AUTHC_PASSKEY_USER_VERIFICATION (required|preferred|
 * discouraged), AUTHC_PASSKEY_ATTESTATION (none|indirect|direct|enterprise).
 * Prints each problem as one "authc: …" line on stderr and returns how many
 * there were (0 = fine, including "not enabled"). Nothing to free. */
int passkey_env_apply(const settings *s, authc_config *cfg);

#endif

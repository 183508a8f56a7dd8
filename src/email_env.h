/* email_env.h — the program's email sign-in settings (AUTHC_EMAIL*): SMTP,
 * From, link lifetime, limits, and the development log mode. */
#ifndef AUTHC_SRC_EMAIL_ENV_H
#define AUTHC_SRC_EMAIL_ENV_H

#include "authc.h"
#include "settings.h"

/* Adds the email provider the settings ask for to cfg (nothing when email
 * sign-in is off). Writes each problem to stderr, naming the setting, and
 * returns how many there were. */
int email_env_configure(const settings *s, authc_config *cfg);

#endif

/* email_pages_int.h — what the email provider renders: the sign-in mail
 * (subject, text, HTML), the confirm-before-sign-in page and the limit page. */
#ifndef AUTHC_EMAIL_PAGES_INT_H
#define AUTHC_EMAIL_PAGES_INT_H

#include <stddef.h>
#include <stdint.h>

#include "authc.h"
#include "core/provider_api.h"

/* The sign-in mail in lang: *subject, *text ('\n' line ends) and *html, all
 * UTF-8 and owned by ar. host: shown as the site name; url: the link;
 * max_age_sec: how long the link lives (stated in the text). */
authc_err authc__email_compose(authc_arena *ar, const authc__theme *t, authc__lang lang,
                               const char *host, const char *url, int64_t max_age_sec,
                               char **subject, char **text, char **html);

/* The page a GET of the link shows when confirmation is on: a form that
 * POSTs csrf_token to action_url (the link itself). email may be NULL.
 * *html (*len bytes) owned by ar. */
authc_err authc__page_email_confirm(authc_arena *ar, const authc__theme *t, authc__lang lang,
                                    const char *action_url, const char *csrf_token,
                                    const char *email, char **html, size_t *len);

/* The "too many requests" page: retry_after_sec rounded up for display;
 * signin_url: the link back. *html (*len bytes) owned by ar. */
authc_err authc__page_email_limited(authc_arena *ar, const authc__theme *t, authc__lang lang,
                                    const char *signin_url, int64_t retry_after_sec,
                                    char **html, size_t *len);

/* "24 hours", "15 minutes", "30 seconds" / "24 小时"…, owned by ar. */
const char *authc__email_duration(authc_arena *ar, authc__lang lang, int64_t sec);

#endif

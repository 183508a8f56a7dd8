/* authc/email.h — passwordless sign-in by email (Auth.js's email /
 * Nodemailer provider): one-time links sent over SMTP or by the app. */
#ifndef AUTHC_EMAIL_H
#define AUTHC_EMAIL_H

#include <stdbool.h>
#include <stdint.h>

#include "../authc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One sign-in mail, as handed to an app's own send function. Everything
 * is UTF-8 and lives only during the call. `url` carries the one-time
 * token: never log it outside development. */
typedef struct authc_email_message {
    const char *to;            /* the normalised address */
    const char *from;          /* the From setting as given (may be NULL) */
    const char *subject;       /* in the page language of the request */
    const char *text;          /* plain-text body, '\n' line ends */
    const char *html;          /* HTML body */
    const char *url;           /* the sign-in link */
    const char *host;          /* the site's host[:port] */
    const char *lang;          /* "en" or "zh-CN" */
    const char *provider_id;
    int64_t expires;           /* ms since the epoch */
} authc_email_message;

/* Delivers one message; may block (it runs off the server's event
 * threads). Return AUTHC_OK once the mail is accepted for delivery; any
 * other value means it was not sent: the token is then deleted and the
 * user sees Auth.js's error page (Configuration). Must be thread-safe. */
typedef authc_err (*authc_email_send_fn)(void *ud, const authc_email_message *m);

/* Normalises a typed address (Auth.js normalizeIdentifier). Return
 * AUTHC_OK with *out (from ar), or AUTHC_ERR_INVALID to refuse it. */
typedef authc_err (*authc_email_normalize_fn)(void *ud, authc_arena *ar,
                                              const char *in, const char **out);

/* A rate limit: at most `max` sign-in mails per `window` seconds.
 * max 0 = the default; max < 0 = no limit. window 0 = the default. */
typedef struct authc_email_limit {
    int max;
    int64_t window;
} authc_email_limit;

/* Defaults of the limits. */
#define AUTHC_EMAIL_DEFAULT_PER_ADDRESS      5    /* per address */
#define AUTHC_EMAIL_DEFAULT_PER_CLIENT       20   /* per client address */
#define AUTHC_EMAIL_DEFAULT_LIMIT_WINDOW     3600 /* seconds */

typedef struct authc_email_provider {
    const char *id;            /* default "email" */
    const char *name;          /* default "Email" */
    /* SMTP server: "smtp://[user[:password]@]host[:port][/ehlo-name]"
     * (STARTTLS is required; port 587 by default) or "smtps://…" (TLS from
     * the start; port 465). User and password in the URL are
     * percent-encoded. NULL when `send` delivers the mail instead. */
    const char *server;
    const char *user;          /* override the URL's user (NULL = keep) */
    const char *password;      /* override the URL's password */
    /* smtp:// without TLS, allowed only when the host is loopback
     * (localhost, 127.0.0.0/8, [::1]) — a local relay or a test server. */
    bool allow_plain_loopback;
    const char *ca_file;       /* extra CA certificates (PEM) for the SMTP server */
    int timeout;               /* seconds for a whole SMTP exchange; 0 = 30 */
    /* "Name <address>" or "address"; required with `server`. */
    const char *from;
    int64_t max_age;           /* link lifetime in seconds; 0 = 86400 */
    /* Auth.js signs a user in on the GET of the link, so mail scanners
     * that open links use it up. By default authc answers that GET with
     * a page whose button POSTs the sign-in; true restores Auth.js's
     * behaviour. */
    bool consume_on_get;
    authc_email_limit per_address;  /* per normalised address */
    authc_email_limit per_client;   /* per client address (IPv6: per /64) */
    /* The token hash secret (Auth.js provider.secret); NULL = the
     * instance's secrets, comma-joined as Auth.js stringifies them. */
    const char *secret;
    authc_email_send_fn send;  /* optional: deliver the mail yourself */
    void *send_ud;
    authc_email_normalize_fn normalize; /* optional: replaces Auth.js's normaliser */
    void *normalize_ud;
} authc_email_provider;

/* Adds an email provider (everything copied). Problems with the settings
 * (bad SMTP URL, From missing, no adapter…) are reported by authc_new,
 * one line each. Returns AUTHC_ERR_NOMEM or AUTHC_OK. The provider needs an
 * adapter with createVerificationToken, useVerificationToken and
 * getUserByEmail (authc_config_set_adapter). */
authc_err authc_config_add_email(authc_config *cfg, const authc_email_provider *p);

/* Auth.js's default address normaliser: NFKC, lower case, trim; refuses
 * '"', anything but exactly one '@' with both sides non-empty; the domain
 * is cut at its first ','. *out is owned by ar. AUTHC_ERR_INVALID for a
 * refused address (and for malformed UTF-8). */
authc_err authc_email_normalize(authc_arena *ar, const char *in, const char **out);

#ifdef __cplusplus
}
#endif
#endif

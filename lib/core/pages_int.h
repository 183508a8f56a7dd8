/* pages_int.h — the built-in HTML pages (sign-in, sign-out, verify-request,
 * error): self-contained, themed, escaped, in English and Simplified Chinese. */
#ifndef AUTHC_PAGES_INT_H
#define AUTHC_PAGES_INT_H

#include <stddef.h>

#include "authc.h"
#include "util/util_int.h"

typedef enum authc__lang { AUTHC__LANG_EN = 0, AUTHC__LANG_ZH = 1 } authc__lang;

typedef struct authc__theme {
    const char *color_scheme;  /* "auto" | "light" | "dark" (NULL = auto) */
    const char *brand_color;   /* CSS colour or NULL */
    const char *logo;          /* URL of a logo image or NULL */
    const char *button_text;   /* CSS colour of button text or NULL */
} authc__theme;

/* How the built-in sign-in page shows a provider. */
typedef enum authc__page_part {
    AUTHC__PART_NONE = 0,       /* not shown */
    AUTHC__PART_BUTTON,         /* a "Sign in with X" button (OAuth/OIDC) */
    AUTHC__PART_EMAIL,          /* an email address form */
    AUTHC__PART_FIELDS,         /* the provider's own fields (credentials) */
    AUTHC__PART_PASSKEY,        /* the passkey form and its script */
} authc__page_part;

typedef struct authc__page_provider {
    const char *id;
    const char *name;
    authc__page_part part;     /* from the provider type's ops table */
    const char *signin_url;    /* absolute: <origin><base>/signin/<id> */
    const char *callback_url;  /* absolute: <origin><base>/callback/<id> */
    const authc_credentials_field *fields; /* credentials only */
    size_t nfields;
    const char *brand_color;   /* button colour for oauth presets, or NULL */
} authc__page_provider;

typedef struct authc__signin_page {
    const authc__theme *theme;
    authc__lang lang;
    const char *csrf_token;    /* always ours, never from the query */
    const char *callback_url;  /* value for the OAuth/email hidden fields */
    const char *error;         /* Auth.js error code from ?error= or NULL */
    const char *email;         /* ?email= prefill or NULL */
    const authc__page_provider *providers;
    size_t nproviders;
} authc__signin_page;

/* Every function returns the page HTML in *html (owned by ar, *len bytes,
 * NUL-terminated) and escapes every interpolated value. */
authc_err authc__page_signin(authc_arena *ar, const authc__signin_page *p,
                             char **html, size_t *len);
/* action_url: the form's target (the current full URL). */
authc_err authc__page_signout(authc_arena *ar, const authc__theme *t,
                              authc__lang lang, const char *csrf_token,
                              const char *action_url, char **html, size_t *len);
/* origin: the link back to the site; host shown in the text. */
authc_err authc__page_verify_request(authc_arena *ar, const authc__theme *t,
                                     authc__lang lang, const char *origin,
                                     const char *host, char **html, size_t *len);
/* error: the ?error= code (NULL/unknown = default). *status set to the
 * Auth.js status (Configuration 500, AccessDenied/Verification 403, else
 * 200). signin_url: the "Sign in" link target for AccessDenied and
 * Verification (Auth.js quirk: <full request URL>/signin). */
authc_err authc__page_error(authc_arena *ar, const authc__theme *t,
                            authc__lang lang, const char *error,
                            const char *origin, const char *signin_url,
                            char **html, size_t *len, int *status);

/* Appends a page's document head — lang, viewport, `head_extra` (raw
 * markup), the stylesheet `css`, the theme's colours (the button text
 * colour only when with_button_text), the escaped title — and opens the
 * body in the theme's colour scheme. Every built-in page starts here. */
void authc__page_begin(authc__buf *b, const authc__theme *t, const char *html_lang,
                       const char *head_extra, const char *css, bool with_button_text,
                       const char *title);

/* Picks the page language: override "en" / "zh-CN" wins; "auto"/NULL →
 * the best match of an Accept-Language header (q-values honoured; zh,
 * zh-CN, zh-Hans, zh-SG → Chinese), English otherwise. */
authc__lang authc__lang_pick(const char *override, const char *accept_language);

#endif

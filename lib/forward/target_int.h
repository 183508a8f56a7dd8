/* target_int.h — what a reverse proxy asks forward-auth about: the protected
 * URL (nginx or redirect mode) and whether the browser is navigating. */
#ifndef AUTHC_FORWARD_TARGET_INT_H
#define AUTHC_FORWARD_TARGET_INT_H

#include <stdbool.h>

#include "authc.h"
#include "util/netaddr_int.h"
#include "util/util_int.h"

typedef enum authc__fwd_mode {
    AUTHC__FWD_MODE_NONE,     /* no usable target: 400 MissingForwardedHeaders */
    AUTHC__FWD_MODE_NGINX,    /* X-Original-URL (+ X-Original-Method) */
    AUTHC__FWD_MODE_REDIRECT, /* X-Forwarded-Proto/-Host/-Uri (+ -Method) */
} authc__fwd_mode;

typedef struct authc__fwd_req {
    authc__fwd_mode mode;
    const char *url;     /* the protected URL, absolute (arena) */
    const char *origin;  /* its scheme://host[:port] */
    const char *host;    /* host[:port] */
    const char *path;    /* path without the query */
    const char *method;  /* upper case */
    const char *why;     /* when mode is NONE: what was missing or wrong */
} authc__fwd_req;

/* Reads the target from the request's forwarded headers. They count only
 * when peer_trusted (the TCP peer is in AUTHC_TRUSTED_PROXIES); otherwise
 * the answer is mode NONE with why saying so. Strings owned by ar. */
authc_err authc__forward_target(authc_arena *ar, const authc_request *req, bool peer_trusted,
                                authc__fwd_req *out);

/* The Authelia / spec rule for answering a missing session with a redirect
 * (true) or a 401 (false): not XHR; Sec-Fetch-Mode absent or navigate;
 * Sec-Fetch-Dest absent, document or iframe; Accept has text/html,
 * application/xhtml+xml or * / *. */
bool authc__forward_is_navigation(const authc_request *req);

/* Status for a redirect to sign-in: 302 for GET/HEAD/OPTIONS, else 303. */
int authc__forward_redirect_status(const char *method);

#endif

/* http_int.h — the one outbound HTTP client of libauthc (libcurl): talks to
 * OAuth/OIDC providers with TLS verification, timeouts and size limits. */
#ifndef AUTHC_HTTP_INT_H
#define AUTHC_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "authc.h"

/* Defaults when a request leaves a limit at 0. */
#define AUTHC__HTTP_CONNECT_MS   5000
#define AUTHC__HTTP_TOTAL_MS     10000
#define AUTHC__HTTP_MAX_RESPONSE (1024 * 1024)
#define AUTHC__HTTP_MAX_HEADERS  16
#define AUTHC__HTTP_USER_AGENT   "authc/" AUTHC_VERSION

/* Where a request may go and how long it may take; shared by every request
 * to one provider. Strings are borrowed. */
typedef struct authc__http_opts {
    const char *ca_file;      /* extra CA bundle (PEM) for private IdPs; NULL = system */
    long connect_ms;          /* 0 = AUTHC__HTTP_CONNECT_MS */
    long total_ms;            /* 0 = AUTHC__HTTP_TOTAL_MS */
    size_t max_response;      /* 0 = AUTHC__HTTP_MAX_RESPONSE */
    bool allow_http;          /* plain http to non-loopback hosts (never by default) */
    const char *provider;     /* metrics label (a configured provider id); NULL = not measured */
} authc__http_opts;

typedef struct authc__http_req {
    const char *method;       /* "GET" (default) or "POST" */
    const char *url;
    /* Extra request headers as "Name: value" lines (borrowed). */
    const char *headers[AUTHC__HTTP_MAX_HEADERS];
    size_t nheaders;
    const char *body;         /* POST body or NULL */
    size_t body_len;
    const char *endpoint;     /* metrics label: "token", "userinfo", "jwks", ...; NULL = "other" */
} authc__http_req;

typedef struct authc__http_res {
    long status;
    char *body;               /* NUL-terminated, owned by the arena */
    size_t len;
    char *content_type;       /* lowercased media type without parameters, or NULL (arena) */
} authc__http_res;

/* Performs one request; redirects are never followed. Returns AUTHC_OK with
 * any HTTP status filled in res; AUTHC_ERR_TIMEOUT, AUTHC_ERR_LIMIT (body
 * over max_response), AUTHC_ERR_INVALID (URL refused: not http(s), or plain
 * http to a non-loopback host without allow_http) or AUTHC_ERR_IO on
 * transport failure, with a reason in why (never a header or body value).
 * Thread-safe; everything in res is owned by ar. */
authc_err authc__http_do(authc_arena *ar, const authc__http_opts *o,
                         const authc__http_req *rq, authc__http_res *res,
                         char *why, size_t whylen);

/* What every libcurl transfer of authc sets: TLS peer and host checks, no
 * signals (thread-safe timeouts), and these. */
typedef struct authc__curl_base {
    const char *protocols;  /* CURLOPT_PROTOCOLS_STR: "http,https", "smtp", … */
    const char *ca_file;    /* extra trust anchors (PEM); NULL = system store */
    long connect_ms, total_ms;
    char *errbuf;           /* CURL_ERROR_SIZE bytes for libcurl's message */
} authc__curl_base;

/* A new libcurl easy handle with b's settings (the caller
 * curl_easy_cleanups it), libcurl being initialised once first; NULL with
 * *e and a reason in why on failure (AUTHC_ERR_IO, AUTHC_ERR_NOMEM). The
 * HTTP and SMTP clients' one start. */
CURL *authc__curl_open(const authc__curl_base *b, authc_err *e, char *why, size_t whylen);

#endif

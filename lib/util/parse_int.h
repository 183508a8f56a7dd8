/* parse_int.h — the one place libauthc and the program parse small values:
 * booleans, integers, durations, percent-escapes, UTF-8, hosts, colours, URLs.
 *
 * Every parser is strict and bounded: no leading/trailing spaces, no trailing
 * junk, overflow is an error, and a failure leaves *out untouched. Return
 * values: AUTHC_OK; AUTHC_ERR_INVALID for malformed input (including NULL
 * and ""); AUTHC_ERR_LIMIT for well-formed input outside the allowed range
 * or a result that does not fit; AUTHC_ERR_NOMEM only where memory is
 * allocated. Messages are the caller's (see problems_int.h), so each one can
 * name its setting. */
#ifndef AUTHC_PARSE_INT_H
#define AUTHC_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authc.h"

/* ---- booleans -------------------------------------------------------- */
/* The one rule for every boolean setting, ASCII case-insensitive:
 * 1 true yes on → true; 0 false no off → false; anything else (also "")
 * is AUTHC_ERR_INVALID. Callers that treat an empty setting as unset do so
 * before calling. AUTHC__BOOL_WORDS is the rule for messages. */
#define AUTHC__BOOL_WORDS "1, true, yes, on or 0, false, no, off"
authc_err authc__parse_bool(const char *s, bool *out);

/* ---- lengths ---------------------------------------------------------- */
/* strlen(s) when s holds 1..max bytes, else 0 (also for NULL); reads at
 * most max + 1 bytes. */
size_t authc__len_in(const char *s, size_t max);

/* ---- integers ---------------------------------------------------------- */
/* Decimal: an optional '-' then 1..19 digits, nothing else (no '+', no
 * spaces, no hex). Values outside [lo, hi], or past int64, are
 * AUTHC_ERR_LIMIT. The _n form reads exactly n bytes (no NUL needed). */
authc_err authc__parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out);
authc_err authc__parse_i64_n(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out);
/* The same for an int in [lo, hi] (lo, hi within INT_MIN..INT_MAX). */
authc_err authc__parse_int(const char *s, int lo, int hi, int *out);

/* ---- durations ----------------------------------------------------------- */
/* A duration in whole seconds, as every documented setting takes it
 * (AUTHC_SESSION_MAX_AGE=2592000): digits only, in [lo, hi]. No unit
 * suffixes: no existing setting accepted one, so "30d" stays an error
 * rather than meaning something new. */
authc_err authc__parse_seconds(const char *s, int64_t lo, int64_t hi, int64_t *out);

/* ---- names ------------------------------------------------------------------ */
/* One accepted word of a setting and the value it stands for. */
typedef struct authc__name_val {
    const char *name;
    int val;
} authc__name_val;
/* The value of the entry of t[0..n) named s exactly (case matters) in
 * *out; false, *out untouched, when none is (or s is NULL). */
bool authc__name_lookup(const authc__name_val *t, size_t n, const char *s, int *out);

/* ---- percent-decoding ----------------------------------------------------- */
/* Flags for the decoders. */
#define AUTHC__PCT_FORM   1u /* '+' means ' ' (application/x-www-form-urlencoded) */
#define AUTHC__PCT_NO_CTL 2u /* also reject decoded control bytes (< 0x20, 0x7f) */
#define AUTHC__PCT_UTF8   4u /* the decoded bytes must be strict UTF-8 (as decodeURIComponent) */
/* Value of one hex digit, or -1. */
int authc__hexval(int c);
/* Decodes s[0..n) into out (cap bytes, NUL-terminated on success), *outlen
 * = decoded length. One rule for invalid input: '%' not followed by two hex
 * digits is AUTHC_ERR_INVALID (never passed through), and so is a decoded
 * NUL (it would cut C strings). AUTHC_ERR_LIMIT when the result needs more
 * than cap - 1 bytes. out may not overlap s. On failure out is wiped, since
 * it may hold half a password. */
authc_err authc__pct_decode_to(char *out, size_t cap, const char *s, size_t n,
                               unsigned flags, size_t *outlen);
/* The same into a heap string (caller frees; wipe it first if secret).
 * NULL with *err set on failure. */
char *authc__pct_decode_heap(const char *s, size_t n, unsigned flags, authc_err *err);
/* (The arena form, authc__pct_decode(ar, s, n, form), is declared in
 * util_int.h and follows the same rule.) */

/* ---- UTF-8 -------------------------------------------------------------- */
/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..DFFF),
 * nothing past U+10FFFF, no truncated sequence. */
/* Length (1..4) of the valid sequence at s (at most n bytes), its code
 * point in *cp (may be NULL); 0 when invalid or n == 0. */
size_t authc__utf8_next(const unsigned char *s, size_t n, uint32_t *cp);
bool authc__utf8_valid(const char *s, size_t n);

/* ---- hosts ----------------------------------------------------------------- */
#define AUTHC__HOST_MAX 253
/* A dotted quad: exactly four decimal parts 0..255, no leading zeros (so no
 * octal reading), nothing else. Writes the bytes to out (may be NULL). */
bool authc__parse_ipv4(const char *s, size_t n, uint8_t out[4]);
/* The one loopback rule: "localhost" (any case), a dotted quad in
 * 127.0.0.0/8 (127.999.0.1 is not one), or the IPv6 loopback, bracketed as
 * in a URL ("[::1]", "[0:0:0:0:0:0:0:1]") or bare ("::1"). */
bool authc__host_is_loopback(const char *host);
/* True when url is an absolute http(s) URL (authc__url_parse) whose host is
 * loopback by the rule above. */
bool authc__url_is_loopback(const char *url);
/* A host as it may appear in a URL: a DNS name (letters, digits, '-', '_'
 * and dots; not starting with '.' or '-'; at most 253 bytes), a dotted
 * quad, or a bracketed IPv6 address. */
bool authc__host_ok(const char *s, size_t n);
/* "host:port", "[v6]:port" or, when port_required is false, "host" alone.
 * host is written NUL-terminated into host (hostcap bytes, brackets kept);
 * *port is 1..65535, or -1 when absent. */
authc_err authc__parse_hostport(const char *s, bool port_required, char *host,
                                size_t hostcap, int *port);
/* A TCP port number: 1..65535, digits only. */
authc_err authc__parse_port(const char *s, size_t n, int *port);

/* ---- colours ----------------------------------------------------------- */
#define AUTHC__COLOR_MAX 64
/* The one rule for theme and brand colours, which land in CSS and style
 * attributes: #rgb, #rgba, #rrggbb or #rrggbbaa; rgb()/rgba()/hsl()/hsla()
 * (any case) holding digits and " .,%/-+" only, with at least one digit; or
 * a named colour of ASCII letters only. At most 64 bytes. Anything else
 * could leave the attribute, so callers treat it as unset. */
bool authc__color_ok(const char *s);

/* ---- URLs (libcurl's URL API) ------------------------------------------ */
/* Any-scheme URL split into parts: for settings such as AUTHC_DATABASE and
 * AUTHC_EMAIL_SERVER (redis://, postgres://, smtp://). Browser-facing
 * http(s) URLs use authc__url_parse (util_int.h), which is stricter. */
#define AUTHC__URL_MAX 4096
typedef struct authc__url_parts {
    const char *scheme;    /* lowercase */
    const char *user;      /* percent-decoded (no controls), NULL when absent */
    const char *password;  /* percent-decoded (no controls), NULL when absent */
    const char *host;      /* lowercase, IPv6 in brackets, NULL when absent */
    int port;              /* 1..65535, -1 when absent */
    const char *path;      /* as written (not decoded); "/" or "" when empty */
    const char *query;     /* without '?', NULL when absent */
    const char *fragment;  /* without '#', NULL when absent */
    char *block;           /* one allocation holding every part above */
    size_t block_len;
} authc__url_parts;
/* Parses url (at most AUTHC__URL_MAX bytes, no spaces or control bytes).
 * A host, when present, must pass authc__host_ok. The parts point into one
 * heap block owned by out: copy what must outlive it, and release it with
 * authc__url_parts_clear (which wipes the block, password included), also
 * after a failure. */
authc_err authc__url_split(const char *url, authc__url_parts *out);
void authc__url_parts_clear(authc__url_parts *p);

#endif

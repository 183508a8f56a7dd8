/* util_int.h — private helpers shared by all of libauthc: bounded buffers,
 * encodings (base64url, hex, percent, HTML, JSON strings), randomness, time. */
#ifndef AUTHC_UTIL_INT_H
#define AUTHC_UTIL_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authc.h"

/* ---- bounded string builder (memory from an arena) ---------------- */
/* A buffer grows up to `max` bytes; past that `err` is set and further
 * appends are ignored, so callers check once at the end. p is always
 * NUL-terminated (when cap > 0). */
typedef struct authc__buf {
    authc_arena *ar;
    char *p;
    size_t len, cap, max;
    authc_err err;     /* AUTHC_OK, AUTHC_ERR_NOMEM or AUTHC_ERR_LIMIT */
} authc__buf;

void authc__buf_init(authc__buf *b, authc_arena *ar, size_t max);
/* Room for n more bytes in one allocation (a hint: never an error by itself). */
void authc__buf_reserve(authc__buf *b, size_t n);
void authc__buf_add(authc__buf *b, const void *data, size_t n);
void authc__buf_adds(authc__buf *b, const char *s);
void authc__buf_addc(authc__buf *b, char c);
void authc__buf_printf(authc__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the built text (owned by the buffer's arena) to *out and its
 * length to *len (when len is not NULL); returns the buffer's error
 * instead when one happened, leaving *out as it was. */
authc_err authc__buf_take(const authc__buf *b, char **out, size_t *len);
/* Appends s HTML-escaped (& < > " ' → entities). */
void authc__buf_add_html(authc__buf *b, const char *s);
/* Appends s as a JSON string literal with quotes ("…", escaped). */
void authc__buf_add_json_str(authc__buf *b, const char *s);
/* Appends s percent-encoded like JS encodeURIComponent. */
void authc__buf_add_uri_component(authc__buf *b, const char *s);
/* Appends s form-encoded like URLSearchParams (space → '+'). */
void authc__buf_add_form_component(authc__buf *b, const char *s);
/* Appends url with one more query parameter: '?' (or '&' when url already
 * has a query), name, '=', value URI-component-encoded. */
void authc__buf_add_url_param(authc__buf *b, const char *url, const char *name, const char *value);

/* Concatenation of the NULL-terminated list of strings, owned by ar (NULL
 * on OOM). Cheaper than printf on hot paths. */
char *authc__join(authc_arena *ar, ...) __attribute__((sentinel));

/* ---- encodings (results owned by the arena; NULL on error/OOM) ----- */
char *authc__b64url_encode(authc_arena *ar, const uint8_t *in, size_t n);
/* Decodes unpadded base64url; rejects any other character. *outlen set. */
uint8_t *authc__b64url_decode(authc_arena *ar, const char *in, size_t n,
                              size_t *outlen);
/* Writes base64url(in) into out (needs 4*ceil(n/3)+1 bytes); returns length. */
size_t authc__b64url_encode_to(char *out, const uint8_t *in, size_t n);
/* Decodes into out (cap bytes); returns -1 on bad input or overflow. */
long authc__b64url_decode_to(uint8_t *out, size_t cap, const char *in, size_t n);
char *authc__b64_encode(authc_arena *ar, const uint8_t *in, size_t n);   /* standard, padded */
uint8_t *authc__b64_decode(authc_arena *ar, const char *in, size_t n, size_t *outlen);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void authc__hex(char *out, const uint8_t *in, size_t n);
/* Percent-decodes (and '+' → ' ' when form is true) by the rule of parse_int.h
 * (authc__pct_decode_to); NULL on malformed
 * escapes or embedded NUL. */
char *authc__pct_decode(authc_arena *ar, const char *s, size_t n, bool form);

/* ---- small maps (arena) ------------------------------------------- */
typedef struct authc__kv {
    const char *k;
    const char *v;
} authc__kv;
typedef struct authc__map {
    authc__kv *items;
    size_t n, cap;
} authc__map;
authc_err authc__map_add(authc_arena *ar, authc__map *m, const char *k, const char *v);
/* Last value for k (query/body semantics: last wins) or NULL. */
const char *authc__map_last(const authc__map *m, const char *k);
/* First value for k (cookie semantics: first wins) or NULL. */
const char *authc__map_first(const authc__map *m, const char *k);
/* Parses application/x-www-form-urlencoded (or a query string) into m.
 * Malformed pairs are skipped. At most `max_pairs` pairs (AUTHC_ERR_LIMIT). */
authc_err authc__parse_form(authc_arena *ar, const char *s, size_t n,
                            authc__map *m, size_t max_pairs);

/* ---- URLs ---------------------------------------------------------- */
typedef struct authc__url {
    const char *scheme;   /* lowercase, "http" / "https" */
    const char *host;     /* lowercase host (with [] for IPv6), no port */
    const char *port;     /* NULL when default or absent */
    const char *origin;   /* scheme://host[:port] normalised */
    const char *path;     /* starts with '/', "/" when empty */
    const char *query;    /* without '?', NULL when absent */
} authc__url;
/* Parses an absolute http(s) URL like WHATWG would for the parts authc
 * needs (rejects userinfo-confusion, backslashes in authority, control
 * chars, non-http schemes). */
authc_err authc__url_parse(authc_arena *ar, const char *s, authc__url *u);
/* Whether s is 1..max bytes with none that browsers drop or reinterpret in
 * a URL (controls, space, DEL, backslash). */
bool authc__url_text_ok(const char *s, size_t max);

/* ---- randomness, ids, time ----------------------------------------- */
/* CSPRNG (OpenSSL RAND_bytes). */
authc_err authc__random(void *out, size_t n);
/* UUID v4 string (37 bytes incl. NUL). */
authc_err authc__uuid(char out[37]);
int64_t authc__now_ms(void);
/* ISO-8601 with milliseconds and Z, like JS toISOString (25 bytes). */
void authc__iso8601(char out[32], int64_t ms);
/* The integer value of a JSON number (jansson): an integer, or a real inside
 * int64, truncated. false for anything else, since casting a real outside
 * int64 is undefined behaviour and inputs may carry 1e300. */
struct json_t;
bool authc__json_int(const struct json_t *v, int64_t *out);
/* JS Date.toUTCString(): "Wed, 25 Nov 2026 08:00:00 GMT". */
void authc__http_date(char out[40], int64_t sec);
/* Decimal text of v (NUL-terminated) into out; returns its length. No
 * snprintf: the session path formats numbers on every request. */
size_t authc__i64_dec(char out[24], int64_t v);

/* ---- comparisons ---------------------------------------------------- */
/* Constant-time equality of two strings (length leaks, contents don't). */
bool authc__ct_streq(const char *a, const char *b);
/* Constant-time equality of n bytes (n a multiple of 8: keys, digests),
 * a word at a time; CRYPTO_memcmp goes a byte at a time. */
bool authc__ct_memeq8(const void *a, const void *b, size_t n);
bool authc__strieq(const char *a, const char *b);
bool authc__starts_with(const char *s, const char *prefix);

/* Formats a message (cut at 1 KiB) and hands it to a log sink; nothing
 * when log is NULL. The one body behind every module's log helper. */
void authc__logv(authc_log_fn log, void *ud, const char *level, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Room for one more item in an arena array of n items of `size` bytes
 * with capacity *cap (doubled, `first` at the start): returns the array
 * (a new arena block holding the n items when it grew, *cap updated), or
 * NULL on OOM with the array and *cap as they were. */
void *authc__arena_grow(authc_arena *ar, void *items, size_t n, size_t *cap, size_t size,
                        size_t first);
/* authc_arena_printf with a va_list (the caller's ap is used up). */
char *authc__arena_vprintf(authc_arena *ar, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Wipes memory the compiler may not elide. */
void authc__wipe(void *p, size_t n);
/* Wipes a heap string holding a secret, then frees it; NULL is fine. */
void authc__free_secret(char *s);

/* misc.c: registers the fork handler that makes a child discard its
 * parent's buffered random bytes (authc_global_init). */
authc_err authc__random_global_init(void);

/* ---- SHA-256 over strings (digest.c) ---------------------------------- */
authc_err authc__digest_global_init(void);
void authc__digest_global_cleanup(void);
/* out = SHA-256 of the n strings (NULL counts as ""), with a NUL after every
 * one but the last when nul_between; false when OpenSSL fails (callers fail
 * closed). */
bool authc__sha256_strs(uint8_t out[32], const char *const *parts, size_t n, bool nul_between);
/* "<prefix>:<base64url(SHA-256(parts NUL-joined))[:32]>" into out (cap
 * bytes): store keys that put no user data in the key space. False when it
 * does not fit or OpenSSL fails. */
bool authc__digest_key(char *out, size_t cap, const char *prefix, const char *const *parts,
                       size_t n);
#define AUTHC__HASHED_KEY_MAX 80
/* authc__digest_key with prefix section (at most 32 bytes) and parts a, b. */
bool authc__hashed_key(char out[AUTHC__HASHED_KEY_MAX], const char *section, const char *a,
                       const char *b);

#endif

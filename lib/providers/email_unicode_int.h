/* email_unicode_int.h — the Unicode steps of Auth.js's email normaliser:
 * JS normalize("NFKC"), toLowerCase() and trim(), on strict UTF-8. */
#ifndef AUTHC_EMAIL_UNICODE_INT_H
#define AUTHC_EMAIL_UNICODE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "authc.h"

/* The Unicode version of the tables (ICU's at generation time). */
const char *authc__eu_unicode_version(void);

/* Decodes strict UTF-8 (no overlongs, surrogates or values past U+10FFFF;
 * no NUL). *out (n code points) is owned by ar. AUTHC_ERR_INVALID on bad
 * input. */
authc_err authc__eu_utf8_decode(authc_arena *ar, const char *s, size_t len,
                                uint32_t **out, size_t *n);
/* Encodes code points as UTF-8; result NUL-terminated, owned by ar. */
char *authc__eu_utf8_encode(authc_arena *ar, const uint32_t *cp, size_t n);

/* NFKC of in[0..n); *out owned by ar. */
authc_err authc__eu_nfkc(authc_arena *ar, const uint32_t *in, size_t n,
                         uint32_t **out, size_t *outn);
/* JS String.prototype.toLowerCase (root locale full mapping with the
 * final-sigma rule); *out owned by ar. */
authc_err authc__eu_to_lower(authc_arena *ar, const uint32_t *in, size_t n,
                             uint32_t **out, size_t *outn);
/* JS String.prototype.trim: the range [*start, *end) left after removing
 * WhiteSpace and LineTerminator code points at both ends. */
void authc__eu_trim(const uint32_t *in, size_t n, size_t *start, size_t *end);

/* UTF-8 in → s.normalize("NFKC").toLowerCase().trim() as UTF-8, owned by
 * ar. AUTHC_ERR_INVALID for malformed UTF-8. */
authc_err authc__eu_js_fold(authc_arena *ar, const char *s, size_t len, char **out);

#endif

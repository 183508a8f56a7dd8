/* fuzz.h — shared by the libFuzzer targets in tests/fuzz: how a target
 * reports a broken property (abort with a line saying which). */
#ifndef AUTHC_FUZZ_H
#define AUTHC_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep: a violation is a crash, so libFuzzer
 * saves the input and the replay test fails. */
#define FUZZ_CHECK(cond, ...)                                                   \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "fuzz property broken at %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* A NUL-terminated heap copy of the input (caller frees); NULL on OOM. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

/* Splits s in place at the first occurrence of sep: returns the rest
 * (after sep) or NULL when sep is absent. */
static inline char *fuzz_cut(char *s, const char *sep)
{
    char *p = strstr(s, sep);
    if (!p)
        return NULL;
    *p = '\0';
    return p + strlen(sep);
}



#include "authc.h"

/* Reads "Name: value" lines from p (up to end) into hs (at most max) until
 * an empty line, splitting in place; *n gets the count. Returns what
 * follows the empty line (a body), or NULL when the input ended. */
static inline char *fuzz_header_lines(char *p, char *end, authc_header *hs, size_t max,
                                      size_t *n)
{
    *n = 0;
    while (p && p < end && *p != '\n' && *n < max) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl)
            *nl = '\0';
        char *colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            hs[*n].name = p;
            hs[*n].value = colon[1] == ' ' ? colon + 2 : colon + 1;
            (*n)++;
        }
        p = nl ? nl + 1 : NULL;
    }
    if (p && p < end && *p == '\n')
        p++;
    return p;
}
#include "../unit/testutil.h" /* the instance builder the unit tests use */

/* Properties of every response: status in range, no header value with a
 * control byte (response splitting, echoed cookie names). */
static inline void fuzz_check_response(const authc_response *res)
{
    FUZZ_CHECK(res, "authc_handle gave no response");
    FUZZ_CHECK(res->status >= 200 && res->status < 600, "status %d", res->status);
    for (size_t i = 0; i < res->nheaders; i++) {
        const unsigned char *v = (const unsigned char *)res->headers[i].value;
        const unsigned char *n = (const unsigned char *)res->headers[i].name;
        FUZZ_CHECK(v && n, "NULL header");
        for (; *n; n++)
            FUZZ_CHECK(*n > 0x20 && *n < 0x7f && *n != ':', "control byte in a header name");
        for (; *v; v++)
            FUZZ_CHECK(*v >= 0x20 && *v != 0x7f, "control byte 0x%02x in header %s", *v,
                       res->headers[i].name);
    }
}

/* A credentials provider that refuses everyone. */
static inline authc_err fuzz_deny_all(void *ud, authc_arena *ar, const char *const *names,
                                      const char *const *values, size_t n, authc_user *user,
                                      const char **code)
{
    (void)ud; (void)ar; (void)names; (void)values; (void)n; (void)user; (void)code;
    return AUTHC_ERR_CREDENTIALS_SIGNIN;
}

/* An instance with the given extra settings ("key", "value", ..., NULL)
 * on top of a fixed secret, and a deny-all credentials provider. Aborts
 * on a configuration error (a broken harness, not a finding). */
static inline authc *fuzz_instance(const char *const *kv)
{
    authc_config *cfg = authc_config_new();
    if (!cfg)
        abort();
    tu_config_set(cfg, "secret", "fuzz-secret-0123456789abcdefghijklmnopq");
    for (size_t i = 0; kv && kv[i]; i += 2)
        tu_config_set(cfg, kv[i], kv[i + 1]);
    return tu_instance_from(cfg, fuzz_deny_all);
}
#endif

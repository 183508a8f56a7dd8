/* response_assert.h — cmocka checks on an authc_response that the unit
 * tests of the HTTP routes share. */
#ifndef AUTHC_RESPONSE_ASSERT_H
#define AUTHC_RESPONSE_ASSERT_H

#include <stdbool.h>
#include <string.h>

#include "cmocka_main.h"
#include "authc.h"

/* Fails unless r is a response with this status; frees r (taken over). */
static inline void tu_expect_status(authc_response *r, int status)
{
    assert_non_null(r);
    assert_int_equal(r->status, status);
    authc_response_free(r);
}

/* Fails unless r redirects to location (its Location header); frees r. */
static inline void tu_expect_location(authc_response *r, const char *location)
{
    assert_non_null(r);
    assert_string_equal(authc_response_header(r, "Location"), location);
    authc_response_free(r);
}

/* Fails unless r's body is exactly want (r stays the caller's). */
static inline void tu_assert_body(const authc_response *r, const char *want)
{
    assert_non_null(r);
    assert_int_equal(r->body_len, strlen(want));
    assert_memory_equal(r->body ? r->body : "", want, r->body_len);
}

/* Fails unless r has this status and exactly this body; frees r. */
static inline void tu_expect_body(authc_response *r, int status, const char *body)
{
    assert_non_null(r);
    assert_int_equal(r->status, status);
    tu_assert_body(r, body);
    authc_response_free(r);
}

/* Whether r's body contains s (the body need not end in a NUL). */
static inline bool tu_body_has(const authc_response *r, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; r->body && i + n <= r->body_len; i++)
        if (!memcmp(r->body + i, s, n))
            return true;
    return false;
}

/* Fails unless r has this status (0: any), and its body contains has and
 * does not contain lacks (NULL: not checked); frees r (taken over). */
static inline void tu_expect_has(authc_response *r, int status, const char *has, const char *lacks)
{
    assert_non_null(r);
    if (status)
        assert_int_equal(r->status, status);
    if (has && !tu_body_has(r, has))
        fail_msg("body lacks %s: %.*s", has, (int)r->body_len, r->body);
    if (lacks && tu_body_has(r, lacks))
        fail_msg("body has %s: %.*s", lacks, (int)r->body_len, r->body);
    authc_response_free(r);
}

#endif

/* response_assert.h — cmocka checks on an authc_response that the unit
 * tests of the HTTP routes share. */
#ifndef AUTHC_RESPONSE_ASSERT_H
#define AUTHC_RESPONSE_ASSERT_H

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

#endif

/* test_map.c — direct unit tests of lib/util/map.c: first/last lookups and
 * the x-www-form-urlencoded parser (decoding, malformed pairs, limits). */
#include "cmocka_main.h"

#include "util/util_int.h"

#include "arena_fixture.h"

static void test_first_last(void **state)
{
    (void)state;
    authc__map m = {0};
    assert_null(authc__map_first(&m, "a"));
    assert_null(authc__map_last(&m, "a"));
    char keys[100][8];
    for (int i = 0; i < 100; i++) { /* several growths */
        snprintf(keys[i], sizeof keys[i], "k%d", i % 10);
        assert_int_equal(authc__map_add(ar, &m, keys[i], keys[i] + 1), AUTHC_OK);
    }
    assert_int_equal(m.n, 100);
    assert_int_equal(authc__map_add(ar, &m, "dup", "first"), AUTHC_OK);
    assert_int_equal(authc__map_add(ar, &m, "dup", "last"), AUTHC_OK);
    assert_string_equal(authc__map_first(&m, "dup"), "first");
    assert_string_equal(authc__map_last(&m, "dup"), "last");
    assert_string_equal(authc__map_first(&m, "k7"), "7");
    assert_null(authc__map_first(&m, "k"));   /* exact keys, no prefix match */
    assert_null(authc__map_first(&m, "K7"));  /* case matters */
    /* every item survived the growths in order */
    for (int i = 0; i < 100; i++)
        assert_ptr_equal(m.items[i].k, keys[i]);
}

static void test_parse_form(void **state)
{
    (void)state;
    authc__map m = {0};
    const char *s = "a=1&b=x+y%21&a=3&&empty=&novalue&%zz=bad&c=%2B&d=%00&e=a=b";
    assert_int_equal(authc__parse_form(ar, s, strlen(s), &m, 100), AUTHC_OK);
    assert_string_equal(authc__map_first(&m, "a"), "1");
    assert_string_equal(authc__map_last(&m, "a"), "3");
    assert_string_equal(authc__map_last(&m, "b"), "x y!");
    assert_string_equal(authc__map_last(&m, "empty"), "");
    assert_string_equal(authc__map_last(&m, "novalue"), "");
    assert_string_equal(authc__map_last(&m, "c"), "+");
    assert_string_equal(authc__map_last(&m, "e"), "a=b"); /* first '=' splits */
    /* undecodable pairs are dropped, not kept raw */
    assert_null(authc__map_last(&m, "%zz"));
    assert_null(authc__map_last(&m, "d"));
    assert_int_equal(m.n, 7);

    /* n bounds the input: nothing past it is read */
    authc__map b = {0};
    assert_int_equal(authc__parse_form(ar, "x=12&y=2", 3, &b, 10), AUTHC_OK);
    assert_int_equal(b.n, 1);
    assert_string_equal(authc__map_last(&b, "x"), "1");
    authc__map e = {0};
    assert_int_equal(authc__parse_form(ar, "", 0, &e, 10), AUTHC_OK);
    assert_int_equal(e.n, 0);
}

static void test_form_limit(void **state)
{
    (void)state;
    authc__map m = {0};
    assert_int_equal(authc__parse_form(ar, "a=1&b=2&c=3", 11, &m, 3), AUTHC_OK);
    authc__map l = {0};
    assert_int_equal(authc__parse_form(ar, "a=1&b=2&c=3&d=4", 15, &l, 3), AUTHC_ERR_LIMIT);
    /* empty segments do not count as pairs */
    authc__map z = {0};
    assert_int_equal(authc__parse_form(ar, "&&&&a=1&&&&", 11, &z, 1), AUTHC_OK);
    assert_int_equal(z.n, 1);
}

/* The public wrapper: the same decoding, as an array in body order. */
static void test_form_public(void **state)
{
    (void)state;
    authc_header *f = NULL;
    size_t n = 99;
    const char *s = "provider=credentials&username=a+b&%zz=x&password=p%26w&provider=2";
    assert_int_equal(authc_form_parse(ar, s, strlen(s), 10, &f, &n), AUTHC_OK);
    assert_int_equal(n, 4);
    assert_string_equal(f[0].name, "provider");
    assert_string_equal(f[0].value, "credentials");
    assert_string_equal(f[1].value, "a b");
    assert_string_equal(f[2].name, "password");
    assert_string_equal(f[2].value, "p&w");
    assert_string_equal(f[3].value, "2");
    assert_int_equal(authc_form_parse(ar, NULL, 0, 10, &f, &n), AUTHC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(authc_form_parse(ar, "a=1&b=2", 7, 1, &f, &n), AUTHC_ERR_LIMIT);
    assert_int_equal(authc_form_parse(ar, NULL, 3, 1, &f, &n), AUTHC_ERR_INVALID);
}

TU_MAIN(arena_setup, arena_teardown,
        cmocka_unit_test(test_first_last), cmocka_unit_test(test_parse_form),
        cmocka_unit_test(test_form_limit), cmocka_unit_test(test_form_public))

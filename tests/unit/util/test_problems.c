/* test_problems.c — direct unit tests of lib/util/problems.c: every problem
 * kept with its setting, rendered one per line, bounded, merged, cleared. */
#include "cmocka_main.h"

#include "util/problems_int.h"

static void test_empty(void **state)
{
    (void)state;
    authc__problems p = {0};
    char out[8] = "junk";
    assert_int_equal(authc__problems_count(&p), 0);
    assert_int_equal(authc__problems_render(&p, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_null(authc__problems_at(&p, 0));
    authc__problems_clear(&p);
    assert_int_equal(authc__problems_count(NULL), 0);
}

static void test_render(void **state)
{
    (void)state;
    authc__problems p = {0};
    authc__problem(&p, "AUTH_SECRET", "is not set; set it to %s", "a random value");
    authc__problem(&p, NULL, "neither AUTH_URL nor AUTH_TRUST_HOST is set");
    authc__problem(&p, "AUTHC_LANG", "must be auto, en or zh-CN, not \"%s\"", "x\ny\r");
    assert_int_equal(authc__problems_count(&p), 3);
    assert_string_equal(authc__problems_at(&p, 0)->setting, "AUTH_SECRET");
    assert_null(authc__problems_at(&p, 1)->setting);
    const char *want = "AUTH_SECRET: is not set; set it to a random value\n"
                       "neither AUTH_URL nor AUTH_TRUST_HOST is set\n"
                       "AUTHC_LANG: must be auto, en or zh-CN, not \"x y \"";
    char out[512];
    assert_int_equal(authc__problems_render(&p, out, sizeof out), strlen(want));
    assert_string_equal(out, want); /* the value's newline cannot split the line */

    /* bounded: cut after a whole line, marked with "…" */
    char small[60];
    size_t need = authc__problems_render(&p, small, sizeof small);
    assert_int_equal(need, strlen(want));
    assert_true(strlen(small) < sizeof small);
    assert_string_equal(small, "AUTH_SECRET: is not set; set it to a random value…");
    /* a first line longer than the buffer is cut inside, still marked */
    char tiny[12];
    authc__problems_render(&p, tiny, sizeof tiny);
    assert_string_equal(tiny, "AUTH_SEC…");
    /* cap 0 writes nothing but still reports the length */
    assert_int_equal(authc__problems_render(&p, NULL, 0), strlen(want));

    /* print: one line each, with the prefix */
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    authc__problems_print(&p, f, "authc: ");
    fclose(f);
    assert_non_null(strstr(buf, "authc: AUTH_SECRET: is not set"));
    assert_non_null(strstr(buf, "\nauthc: neither AUTH_URL"));
    size_t lines = 0;
    for (char *c = buf; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 3);
    free(buf);
    authc__problems_clear(&p);
    assert_int_equal(authc__problems_count(&p), 0);
    /* reusable after clear */
    authc__problem(&p, "X", "y");
    assert_int_equal(authc__problems_count(&p), 1);
    authc__problems_clear(&p);
}

static void test_limits_and_merge(void **state)
{
    (void)state;
    authc__problems p = {0}, sub = {0};
    for (int i = 0; i < AUTHC__PROBLEMS_MAX + 5; i++)
        authc__problem(&p, "S", "problem %d", i);
    assert_int_equal(authc__problems_count(&p), AUTHC__PROBLEMS_MAX + 5);
    assert_int_equal(p.n, AUTHC__PROBLEMS_MAX);
    size_t need = authc__problems_render(&p, NULL, 0);
    char *out = malloc(need + 1);
    assert_int_equal(authc__problems_render(&p, out, need + 1), need);
    assert_non_null(strstr(out, "S: problem 0\n"));
    assert_null(strstr(out, "problem 100"));
    assert_non_null(strstr(out, "\n5 more problems not shown"));
    free(out);

    /* a long text is kept bounded, not overflowing */
    char big[4000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    authc__problem(&sub, "BIG", "%s", big);
    authc__problem(&sub, "B", "second");
    assert_true(strlen(authc__problems_at(&sub, 0)->text) < AUTHC__PROBLEM_TEXT_MAX);

    authc__problems all = {0};
    authc__problem(&all, "A", "first");
    authc__problems_merge(&all, &sub);
    assert_int_equal(authc__problems_count(&all), 3);
    assert_string_equal(authc__problems_at(&all, 2)->setting, "B");
    authc__problems_merge(&all, &p); /* fills to MAX, the rest counted */
    assert_int_equal(authc__problems_count(&all), 3 + AUTHC__PROBLEMS_MAX + 5);
    assert_int_equal(all.n, AUTHC__PROBLEMS_MAX);
    authc__problems_clear(&all);
    authc__problems_clear(&sub);
    authc__problems_clear(&p);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_empty), cmocka_unit_test(test_render),
        cmocka_unit_test(test_limits_and_merge))

/* test_buf.c — direct unit tests of lib/util/buf.c: the bounded builder's
 * limit (sticky, all-or-nothing), growth, and every escaping appender. */
#include "cmocka_main.h"

#include "util/util_int.h"

#include "arena_fixture.h"

static void test_append_and_grow(void **state)
{
    (void)state;
    authc__buf b;
    authc__buf_init(&b, ar, 1 << 20);
    authc__buf_add(&b, "", 0);
    assert_non_null(b.p);
    assert_string_equal(b.p, ""); /* NUL-terminated even when empty */
    authc__buf_adds(&b, "ab");
    authc__buf_addc(&b, 'c');
    authc__buf_adds(&b, NULL); /* ignored */
    authc__buf_add(&b, "d\0e", 3); /* binary-safe: n counts */
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.p, "abcd\0e", 7);
    /* growth across many reallocations keeps every byte */
    authc__buf g;
    authc__buf_init(&g, ar, 1 << 20);
    for (int i = 0; i < 20000; i++)
        authc__buf_addc(&g, (char)('a' + i % 26));
    assert_int_equal(g.err, AUTHC_OK);
    assert_int_equal(g.len, 20000);
    assert_true(g.cap > g.len);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(g.p[i], 'a' + i % 26);
    assert_int_equal(g.p[20000], '\0');
}

static void test_limit(void **state)
{
    (void)state;
    authc__buf b;
    authc__buf_init(&b, ar, 10);
    authc__buf_adds(&b, "0123456789"); /* exactly max */
    assert_int_equal(b.err, AUTHC_OK);
    assert_int_equal(b.len, 10);
    authc__buf_addc(&b, 'x'); /* one past */
    assert_int_equal(b.err, AUTHC_ERR_LIMIT);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.p, "0123456789");
    /* sticky: nothing is appended after an error, not even "" or small */
    authc__buf_adds(&b, "");
    authc__buf_printf(&b, "%d", 1);
    assert_int_equal(b.len, 10);
    assert_int_equal(b.err, AUTHC_ERR_LIMIT);

    /* all-or-nothing: a chunk that does not fit is not cut */
    authc__buf c;
    authc__buf_init(&c, ar, 8);
    authc__buf_adds(&c, "abcde");
    authc__buf_adds(&c, "fghij");
    assert_int_equal(c.err, AUTHC_ERR_LIMIT);
    assert_string_equal(c.p, "abcde");
    /* a huge n cannot wrap the length check */
    authc__buf d;
    authc__buf_init(&d, ar, 100);
    authc__buf_adds(&d, "x");
    authc__buf_add(&d, "y", SIZE_MAX);
    assert_int_equal(d.err, AUTHC_ERR_LIMIT);
    assert_int_equal(d.len, 1);
    /* max 0 holds only the empty string */
    authc__buf z;
    authc__buf_init(&z, ar, 0);
    authc__buf_add(&z, "", 0);
    assert_int_equal(z.err, AUTHC_OK);
    authc__buf_addc(&z, 'a');
    assert_int_equal(z.err, AUTHC_ERR_LIMIT);
}

static void test_printf(void **state)
{
    (void)state;
    authc__buf b;
    authc__buf_init(&b, ar, 4096);
    authc__buf_printf(&b, "%s=%d;", "n", 42);
    assert_string_equal(b.p, "n=42;");
    /* longer than the 512-byte stack buffer: formatted in place */
    char big[2001];
    memset(big, 'q', 2000);
    big[2000] = '\0';
    authc__buf_printf(&b, "[%s]", big);
    assert_int_equal(b.err, AUTHC_OK);
    assert_int_equal(b.len, 5 + 2002);
    assert_int_equal(b.p[5], '[');
    assert_int_equal(b.p[5 + 2001], ']');
    assert_int_equal(b.p[b.len], '\0');
    /* over the limit: nothing written */
    authc__buf s;
    authc__buf_init(&s, ar, 1000);
    authc__buf_adds(&s, "keep");
    authc__buf_printf(&s, "%s", big);
    assert_int_equal(s.err, AUTHC_ERR_LIMIT);
    assert_string_equal(s.p, "keep");
}

/* What add writes for in, into a fresh 1024-byte buffer (string in ar; ""
 * when it wrote nothing and so allocated nothing). */
static const char *added(void (*add)(authc__buf *, const char *), const char *in)
{
    authc__buf b;
    authc__buf_init(&b, ar, 1024);
    add(&b, in);
    assert_int_equal(b.err, AUTHC_OK);
    return b.p ? b.p : "";
}

static void test_html(void **state)
{
    (void)state;
    assert_string_equal(added(authc__buf_add_html, "<a href=\"x\" title='y'>&amp;</a>"),
                        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
    assert_string_equal(added(authc__buf_add_html, NULL), "");
    assert_string_equal(added(authc__buf_add_html, "plain \xc3\xa9 text"), "plain \xc3\xa9 text");
}

static void test_json_str(void **state)
{
    (void)state;
    assert_string_equal(added(authc__buf_add_json_str, "a\"b\\c\n\r\t\b\f\x01\x1f/\xc3\xa9\x7f"),
                        "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f/\xc3\xa9\x7f\"");
    assert_string_equal(added(authc__buf_add_json_str, NULL), "\"\"");
    /* escaped output counts against the limit */
    authc__buf l;
    authc__buf_init(&l, ar, 6);
    authc__buf_add_json_str(&l, "\x01");
    assert_int_equal(l.err, AUTHC_ERR_LIMIT);
}

/* Independent statement of the two encoders' rules, for every byte. */
static bool alnum(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static void test_uri_and_form_every_byte(void **state)
{
    (void)state;
    for (int c = 1; c < 256; c++) {
        char in[2] = {(char)c, 0}, want[4];
        authc__buf u, f;
        authc__buf_init(&u, ar, 64);
        authc__buf_init(&f, ar, 64);
        authc__buf_add_uri_component(&u, in);
        authc__buf_add_form_component(&f, in);
        bool keep_uri = alnum(c) || (c < 128 && strchr("-_.!~*'()", c));
        bool keep_form = alnum(c) || (c < 128 && strchr("*-._", c));
        snprintf(want, sizeof want, "%%%02X", c);
        assert_string_equal(u.p, keep_uri ? in : want);
        assert_string_equal(f.p, keep_form ? in : c == ' ' ? "+" : want);
        /* at every place of a longer run (the scan goes eight at a time) */
        for (int at = 0; at < 19; at += (c % 7) + 1) {
            char run[20], exp[24];
            memset(run, 'a', 19);
            run[19] = '\0';
            run[at] = (char)c;
            snprintf(exp, sizeof exp, "%.*s%s%s", at, run, keep_uri ? in : want, run + at + 1);
            authc__buf r;
            authc__buf_init(&r, ar, 64);
            authc__buf_add_uri_component(&r, run);
            assert_string_equal(r.p, exp);
        }
    }
    authc__buf u;
    authc__buf_init(&u, ar, 256);
    authc__buf_add_uri_component(&u, "https://x.test/a b?c=d&e=\xc3\xa9");
    assert_string_equal(u.p, "https%3A%2F%2Fx.test%2Fa%20b%3Fc%3Dd%26e%3D%C3%A9");
    authc__buf_add_uri_component(&u, NULL);
    authc__buf f;
    authc__buf_init(&f, ar, 256);
    authc__buf_add_form_component(&f, "a b+c~");
    assert_string_equal(f.p, "a+b%2Bc%7E");
    /* the encoded length counts against the limit */
    authc__buf l;
    authc__buf_init(&l, ar, 5);
    authc__buf_add_uri_component(&l, "  ");
    assert_int_equal(l.err, AUTHC_ERR_LIMIT);
}

static void test_join(void **state)
{
    (void)state;
    assert_string_equal(authc__join(ar, "a", "", "bc", "d", NULL), "abcd");
    assert_string_equal(authc__join(ar, NULL), "");
}

TU_MAIN(arena_setup, arena_teardown,
        cmocka_unit_test(test_append_and_grow), cmocka_unit_test(test_limit),
        cmocka_unit_test(test_printf), cmocka_unit_test(test_html), cmocka_unit_test(test_json_str),
        cmocka_unit_test(test_uri_and_form_every_byte), cmocka_unit_test(test_join))

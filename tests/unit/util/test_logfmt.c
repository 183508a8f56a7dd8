/* test_logfmt.c — log lines: control characters never split or forge a
 * line, JSON stays valid (checked with jansson) even when cut. */
#include "cmocka_main.h"
#include <jansson.h>

#include "authc/log.h"

static json_t *parse_line(const char *line, size_t n)
{
    assert_true(n > 0);
    assert_int_equal(line[n - 1], '\n');
    assert_null(memchr(line, '\n', n - 1)); /* exactly one line */
    json_error_t e;
    json_t *j = json_loadb(line, n - 1, 0, &e);
    if (!j)
        fail_msg("not JSON (%s): %s", e.text, line);
    return j;
}

static void test_json_escapes(void **st)
{
    (void)st;
    char out[AUTHC_LOG_LINE_MAX];
    const char *evil = "github\r\n2026-01-01T00:00:00Z info  signin ok user=admin\x1b[31m\x7f\"\\";
    authc_log_field f[] = {{"provider", evil, false}, {"status", "302", true},
                           {"skipped", NULL, false}, {"bad_utf8", "a\xff\xc3(b\xe2\x82\xac", false}};
    size_t n = authc_log_format(out, sizeof out, true, "warn", "sign-in\nfailed", f, 4);
    json_t *j = parse_line(out, n);
    assert_string_equal(json_string_value(json_object_get(j, "provider")), evil);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 302);
    assert_null(json_object_get(j, "skipped"));
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "sign-in\nfailed");
    assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(j, "bad_utf8")), "a\xef\xbf\xbd\xef\xbf\xbd(b\xe2\x82\xac");
    assert_non_null(json_string_value(json_object_get(j, "ts")));
    json_decref(j);
}

static void test_text_escapes(void **st)
{
    (void)st;
    char out[AUTHC_LOG_LINE_MAX];
    authc_log_field f[] = {{"provider", "git%0d\r\nhub", false}, {"path", "/a b", false},
                           {"id", "", false}, {"n", "7", true}};
    size_t n = authc_log_format(out, sizeof out, false, "info", "x\ty", f, 4);
    assert_int_equal(out[n - 1], '\n');
    assert_null(memchr(out, '\n', n - 1));
    assert_null(memchr(out, '\r', n));
    assert_non_null(strstr(out, " info  x\\ty provider=git%0d\\r\\nhub path=\"/a b\" id=\"\" n=7\n"));
}

static void test_cut(void **st)
{
    (void)st;
    char big[10000];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char out[512];
    authc_log_field f[] = {{"a", "1", false}, {"b", big, false}, {"c", "3", false}};
    size_t n = authc_log_format(out, sizeof out, true, "info", "m", f, 3);
    assert_true(n < sizeof out);
    json_t *j = parse_line(out, n);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    assert_string_equal(json_string_value(json_object_get(j, "a")), "1");
    assert_null(json_object_get(j, "b"));
    json_decref(j);
    /* A huge message is cut inside its string and still closes. */
    n = authc_log_format(out, sizeof out, true, "info", big, NULL, 0);
    j = parse_line(out, n);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    assert_true(strlen(json_string_value(json_object_get(j, "msg"))) > 300);
    json_decref(j);
    /* Escapes are never split: a run of control bytes cut cleanly. */
    char ctl[600];
    memset(ctl, '\x01', sizeof ctl - 1);
    ctl[sizeof ctl - 1] = '\0';
    n = authc_log_format(out, sizeof out, true, "info", ctl, NULL, 0);
    json_decref(parse_line(out, n));
    n = authc_log_format(out, sizeof out, false, "info", ctl, NULL, 0);
    assert_true(n < sizeof out);
    assert_int_equal(out[n - 1], '\n');
    assert_non_null(strstr(out, "\\x01\xe2\x80\xa6\n"));
    assert_int_equal(authc_log_format(out, 100, true, "info", "m", NULL, 0), 0);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_json_escapes), cmocka_unit_test(test_text_escapes),
        cmocka_unit_test(test_cut))

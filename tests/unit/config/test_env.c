/* test_env.c — lib/config: the settings source (environment over NAME=value
 * files), authc_config_from_settings/_from_env, every problem at once. */
#include "cmocka_main.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>


#include "authc.h"
#include "authc/adapter.h"
#include "authc/env.h"
#include "testutil.h"

#define SECRET "0123456789abcdef0123456789abcdef-test"

/* Settings the tests set; cleared from the environment before each. */
static const char *const NAMES[] = {
    "AUTH_SECRET", "AUTH_SECRET_1", "AUTH_URL", "AUTH_TRUST_HOST", "AUTHC_USERS_FILE", "AUTHC_DATABASE",
    "AUTHC_EMAIL", "AUTH_GITHUB_ID", "AUTH_GITHUB_SECRET", "AUTHC_PASSKEY", "AUTHC_HTTP_TIMEOUT_MS",
    "AUTHC_SESSION_STRATEGY", "MYAPP_GREETING", "MYAPP_QUOTED", "AUTHC_CONFIG", "AUTHC_BASE_PATH",
};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i++)
        unsetenv(NAMES[i]);
    return 0;
}

static size_t count_lines(const char *s)
{
    size_t n = *s ? 1 : 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_settings_file(void **state)
{
    (void)state;
    char path[256];
    tu_temp_file(path, sizeof path, "# a comment\n\n"
                    "MYAPP_GREETING = hello world  \n"
                    "export MYAPP_QUOTED=\"a # b\"\n"
                    "AUTH_URL='https://file.example.com/auth'\n"
                    "MYAPP_GREETING=second wins\n");
    authc_settings *s = authc_settings_new();
    char err[256] = "";
    assert_int_equal(authc_settings_load_file(s, path, err, sizeof err), AUTHC_OK);
    assert_string_equal(authc_settings_get(s, "MYAPP_GREETING"), "second wins");
    assert_string_equal(authc_settings_get(s, "MYAPP_QUOTED"), "a # b");
    assert_string_equal(authc_settings_get(s, "AUTH_URL"), "https://file.example.com/auth");
    assert_null(authc_settings_get(s, "MYAPP_UNSET"));
    /* The environment wins over the file. */
    setenv("AUTH_URL", "https://env.example.com/auth", 1);
    assert_string_equal(authc_settings_get(s, "AUTH_URL"), "https://env.example.com/auth");
    assert_string_equal(authc_settings_get(NULL, "AUTH_URL"), "https://env.example.com/auth");
    authc_settings_free(s);
    unlink(path);
}

static void test_settings_file_errors(void **state)
{
    (void)state;
    char err[256] = "";
    authc_settings *s = authc_settings_new();
    assert_int_equal(authc_settings_load_file(s, "/nonexistent/authc.env", err, sizeof err), AUTHC_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/authc.env"));
    char path[256], want[320];
    tu_temp_file(path, sizeof path, "GOOD=1\n# fine\nno equals sign here\n");
    assert_int_equal(authc_settings_load_file(s, path, err, sizeof err), AUTHC_ERR_INVALID);
    snprintf(want, sizeof want, "%s:3: expected NAME=value", path);
    assert_string_equal(err, want);
    unlink(path);
    tu_temp_file(path, sizeof path, "BAD-NAME=1\n");
    assert_int_equal(authc_settings_load_file(s, path, err, sizeof err), AUTHC_ERR_INVALID);
    snprintf(want, sizeof want, "%s:1: bad setting name", path);
    assert_string_equal(err, want);
    unlink(path);
    authc_settings_free(s);
}

/* Every problem comes back at once, one per line, naming its setting. */
static void test_every_problem_at_once(void **state)
{
    (void)state;
    char path[256];
    tu_temp_file(path, sizeof path, "AUTH_SECRET=short\nAUTHC_EMAIL=bogus\nAUTH_GITHUB_ID=x\n"
                    "AUTHC_PASSKEY=maybe\nAUTHC_HTTP_TIMEOUT_MS=0\nAUTHC_USERS_FILE=/nonexistent/users\n");
    char err[4096];
    authc_resources *res = (authc_resources *)1;
    assert_null(authc_config_from_env(path, NULL, &res, err, sizeof err));
    assert_null(res);
    static const char *const expect[] = {
        "AUTH_SECRET is too short", "neither AUTH_URL nor AUTH_TRUST_HOST", "/nonexistent/users",
        "AUTHC_EMAIL must be smtp, log or off", "AUTHC_PASSKEY must be 1 or 0",
        "AUTHC_HTTP_TIMEOUT_MS must be a number", "AUTH_GITHUB_SECRET",
    };
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
        if (!strstr(err, expect[i]))
            fail_msg("missing \"%s\" in:\n%s", expect[i], err);
    assert_int_equal(count_lines(err), sizeof expect / sizeof *expect);
    unlink(path);
}

static void test_missing_secret(void **state)
{
    (void)state;
    setenv("AUTH_TRUST_HOST", "1", 1);
    char err[1024];
    authc_resources *res;
    assert_null(authc_config_from_env(NULL, NULL, &res, err, sizeof err));
    assert_string_equal(err, "AUTH_SECRET is not set; set it to a random value, e.g. `export AUTH_SECRET=$(authc secret)`");
}

static void test_bad_file_is_a_problem(void **state)
{
    (void)state;
    char err[256];
    authc_resources *res;
    assert_null(authc_config_from_env("/nonexistent/app.env", NULL, &res, err, sizeof err));
    assert_null(res);
    assert_non_null(strstr(err, "cannot read config file /nonexistent/app.env"));
}

/* Collects log lines (the database note and the like). */
static char g_log[4096];
static void test_log(void *ud, const char *level, const char *msg)
{
    (void)ud;
    size_t l = strlen(g_log);
    snprintf(g_log + l, sizeof g_log - l, "%s %s\n", level, msg);
}

static authc_response *sign_in(const authc *a, const char *user, const char *password)
{
    static const authc_header h[] = {{"host", "app.example.com"}};
    authc_request req = {.method = "POST", .url = "/", .headers = h, .nheaders = 1};
    const char *names[] = {"username", "password"}, *values[] = {user, password};
    authc_response *res = NULL;
    assert_int_equal(authc_sign_in(a, &req, "credentials", "/dashboard", names, values, 2, &res), AUTHC_OK);
    return res;
}

static bool has_session_cookie(const authc_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, "Set-Cookie") &&
            !strncmp(r->headers[i].value, "authjs.session-token=ey", 23))
            return true;
    return false;
}

/* A whole configuration from a file: users file (argon2id), database,
 * base path, and the program's own settings through the resources. */
static void test_from_env_builds(void **state)
{
    (void)state;
    char *hash = authc_password_hash("s3cret-pw");
    assert_non_null(hash);
    assert_memory_equal(hash, "$argon2id$", 10);
    char users[256], conf[256], text[1024];
    snprintf(text, sizeof text, "# users\n42:alice:%s:alice@example.com:Alice A\n", hash);
    free(hash);
    tu_temp_file(users, sizeof users, text);
    snprintf(text, sizeof text,
             "AUTH_SECRET=%s\nAUTH_TRUST_HOST=true\nAUTHC_USERS_FILE=%s\nAUTHC_DATABASE=memory:\n"
             "AUTHC_SESSION_STRATEGY=jwt\nAUTHC_BASE_PATH=/login\nMYAPP_GREETING=hi\n",
             SECRET, users);
    tu_temp_file(conf, sizeof conf, text);
    g_log[0] = '\0';
    char err[2048];
    authc_resources *res = NULL;
    authc_env_options opts = {.migrate = true, .log = test_log};
    authc_config *cfg = authc_config_from_env(conf, &opts, &res, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    assert_non_null(res);
    assert_non_null(authc_resources_adapter(res));
    assert_int_equal(authc_resources_users(res), 1);
    assert_string_equal(authc_settings_get(authc_resources_settings(res), "MYAPP_GREETING"), "hi");
    assert_non_null(strstr(g_log, "database schema is up to date"));
    authc *a = authc_new(cfg, err, sizeof err);
    if (!a)
        fail_msg("%s", err);
    assert_string_equal(authc_base_path(a), "/login");
    authc_response *r = sign_in(a, "alice", "s3cret-pw");
    assert_true(has_session_cookie(r));
    authc_response_free(r);
    r = sign_in(a, "alice", "wrong");
    assert_false(has_session_cookie(r));
    assert_non_null(strstr(authc_response_header(r, "Location"), "error=CredentialsSignin"));
    authc_response_free(r);
    r = sign_in(a, "nobody", "s3cret-pw");
    assert_false(has_session_cookie(r));
    authc_response_free(r);
    authc_free(a);
    authc_resources_free(res);
    unlink(users);
    unlink(conf);
}

/* A base path from the options wins over AUTHC_BASE_PATH; the caller's
 * settings are borrowed, not freed. */
static void test_from_settings_options(void **state)
{
    (void)state;
    setenv("AUTH_SECRET", SECRET, 1);
    setenv("AUTH_URL", "https://app.example.com/auth", 1);
    setenv("AUTHC_BASE_PATH", "/ignored", 1);
    authc_settings *s = authc_settings_new();
    char err[1024];
    authc_resources *res;
    authc_config *cfg = authc_config_from_settings(s, &(authc_env_options){.base_path = "/sso"}, &res, err, sizeof err);
    if (!cfg)
        fail_msg("%s", err);
    assert_ptr_equal(authc_resources_settings(res), s);
    assert_null(authc_resources_adapter(res));
    assert_int_equal(authc_resources_users(res), 0);
    authc *a = authc_new(cfg, err, sizeof err);
    assert_non_null(a);
    assert_string_equal(authc_base_path(a), "/sso");
    authc_free(a);
    authc_resources_free(res);
    authc_settings_free(s);
}

static void test_users_file_errors(void **state)
{
    (void)state;
    char users[256];
    tu_temp_file(users, sizeof users, "1:alice:not-a-hash:a@example.com:A\n");
    setenv("AUTH_SECRET", SECRET, 1);
    setenv("AUTH_TRUST_HOST", "1", 1);
    setenv("AUTHC_USERS_FILE", users, 1);
    char err[1024], want[320];
    authc_resources *res;
    assert_null(authc_config_from_env(NULL, NULL, &res, err, sizeof err));
    snprintf(want, sizeof want, "%s:1: expected id:username:argon2id-hash:email:name", users);
    assert_memory_equal(err, want, strlen(want));
    unlink(users);
}

/* Sets var=value; the store URL of s must then be want. */
static void expect_store_url(authc_settings *s, const char *var, const char *value, const char *want)
{
    setenv(var, value, 1);
    char *u = authc_settings_store_url(s);
    assert_string_equal(u, want);
    free(u);
}

/* The store defaults to the database's URL without the options whose
 * meaning differs between the adapter and the store. */
static void test_store_url(void **state)
{
    (void)state;
    authc_settings *s = authc_settings_new();
    assert_null(authc_settings_store_url(s));
    expect_store_url(s, "AUTHC_DATABASE",
                     "postgres://u:p@db/authc?statement_timeout=1000&sslmode=disable&connect_timeout=1&pool_size=2&session_batches=1",
                     "postgres://u:p@db/authc?sslmode=disable");
    expect_store_url(s, "AUTHC_DATABASE", "redis://127.0.0.1:6379/0?timeout=100&prefix=app:&ttl_grace=5",
                     "redis://127.0.0.1:6379/0?prefix=app:");
    expect_store_url(s, "AUTHC_DATABASE", "sqlite:/tmp/x.db", "sqlite:/tmp/x.db");
    expect_store_url(s, "AUTHC_STORE", "memory:", "memory:");
    unsetenv("AUTHC_STORE");
    unsetenv("AUTHC_DATABASE");
    authc_settings_free(s);
}

/* A listen address: IPv4 or localhost with a port; anything else refused
 * with a line saying why. */
static void test_parse_listen(void **state)
{
    (void)state;
    static const struct {
        const char *in, *addr;
        int port;
        const char *why; /* in err when refused */
    } cases[] = {
        {"127.0.0.1:3000", "127.0.0.1", 3000, NULL},
        {"localhost:0", "127.0.0.1", 0, NULL},
        {"0.0.0.0:65535", "0.0.0.0", 65535, NULL},
        {"127.0.0.1", NULL, 0, "HOST:PORT"},
        {"127.0.0.1:", NULL, 0, "bad port"},
        {"127.0.0.1:65536", NULL, 0, "bad port"},
        {"127.0.0.1:-1", NULL, 0, "bad port"},
        {"127.0.0.1:80x", NULL, 0, "bad port"},
        {"example.com:80", NULL, 0, "not an IPv4 address"},
        {"[::1]:80", NULL, 0, "not an IPv4 address"},
        {"::1:80", NULL, 0, "not an IPv4 address"},
        {"127.0.0.1:+80", NULL, 0, "bad port"},
        {"127.0.0.1: 80", NULL, 0, "bad port"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct sockaddr_in sa;
        char err[128] = "", addr[INET_ADDRSTRLEN];
        bool ok = authc_parse_listen(cases[i].in, &sa, err, sizeof err);
        assert_int_equal(ok, cases[i].addr != NULL);
        if (!ok) {
            assert_non_null(strstr(err, cases[i].why));
            continue;
        }
        assert_int_equal(sa.sin_family, AF_INET);
        assert_int_equal(ntohs(sa.sin_port), cases[i].port);
        assert_string_equal(inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof addr), cases[i].addr);
    }
    char err[128];
    struct sockaddr_in sa;
    assert_false(authc_parse_listen(NULL, &sa, err, sizeof err));
}

/* authc serve's listen addresses: IPv4 as above, and IPv6 in brackets. */
static void test_parse_listen_addr(void **state)
{
    (void)state;
    static const struct {
        const char *in, *addr;
        int family, port;
        const char *why;
    } cases[] = {
        {"127.0.0.1:3000", "127.0.0.1", AF_INET, 3000, NULL},
        {"localhost:8080", "127.0.0.1", AF_INET, 8080, NULL},
        {"[::1]:3000", "::1", AF_INET6, 3000, NULL},
        {"[::]:0", "::", AF_INET6, 0, NULL},
        {"[fd00::2]:65535", "fd00::2", AF_INET6, 65535, NULL},
        {"[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1", AF_INET6, 80, NULL},
        {"[::1]", NULL, 0, 0, "HOST:PORT"},
        {"[::1:80", NULL, 0, 0, "HOST:PORT"},
        {"[]:80", NULL, 0, 0, "HOST:PORT"},
        {"[::1]:", NULL, 0, 0, "bad port"},
        {"[::1]:65536", NULL, 0, 0, "bad port"},
        {"[::1]x:80", NULL, 0, 0, "HOST:PORT"},
        {"[localhost]:80", NULL, 0, 0, "not an IPv6 address"},
        {"[127.0.0.1]:80", NULL, 0, 0, "not an IPv6 address"},
        {"::1:80", NULL, 0, 0, "IPv6 goes in brackets"},
        {NULL, NULL, 0, 0, "HOST:PORT"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct sockaddr_storage ss;
        unsigned len = 0;
        char err[160] = "", addr[INET6_ADDRSTRLEN];
        bool ok = authc_parse_listen_addr(cases[i].in, &ss, &len, err, sizeof err);
        assert_int_equal(ok, cases[i].addr != NULL);
        if (!ok) {
            if (!strstr(err, cases[i].why))
                fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].why);
            continue;
        }
        assert_int_equal(ss.ss_family, cases[i].family);
        if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
            assert_int_equal(len, sizeof *s6);
            assert_int_equal(ntohs(s6->sin6_port), cases[i].port);
            assert_string_equal(inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof addr), cases[i].addr);
        } else {
            const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
            assert_int_equal(len, sizeof *s4);
            assert_int_equal(ntohs(s4->sin_port), cases[i].port);
            assert_string_equal(inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof addr), cases[i].addr);
        }
    }
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test_setup(test_settings_file, clear_env),
        cmocka_unit_test_setup(test_settings_file_errors, clear_env),
        cmocka_unit_test_setup(test_every_problem_at_once, clear_env),
        cmocka_unit_test_setup(test_missing_secret, clear_env),
        cmocka_unit_test_setup(test_bad_file_is_a_problem, clear_env),
        cmocka_unit_test_setup(test_from_env_builds, clear_env),
        cmocka_unit_test_setup(test_from_settings_options, clear_env),
        cmocka_unit_test_setup(test_users_file_errors, clear_env),
        cmocka_unit_test_setup(test_store_url, clear_env),
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_parse_listen_addr))

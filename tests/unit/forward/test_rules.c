/* test_rules.c — forward-auth rules: file syntax errors name their line,
 * first match decides, conditions, query parameters, path tricks. */
#include "cmocka_main.h"

#include "forward/rules_int.h"

static const char *RULES =
    "# status page and assets are public\n"
    "bypass host=status.example.com\n"
    "bypass path=/assets/,/favicon.ico methods=GET,HEAD\n"
    "deny path~=^/internal(/|$)\n"
    "authenticated host=*.example.com path=/admin groups=admins,ops   # admins only\n"
    "authenticated host=mail.example.com domains=example.com,*.example.org providers=github\n"
    "authenticated path=/billing users=u-1,carol emails=Alice@Example.com\n";

static authc__rules *load(const char *text)
{
    char why[256];
    authc__rules *r = authc__rules_parse(text, strlen(text), why, sizeof why);
    if (!r)
        fail_msg("rules refused: %s", why);
    return r;
}

static const char *ADMINS[] = {"staff", "admins"};

static authc__fwd_subject alice(void)
{
    return (authc__fwd_subject){.signed_in = true, .user_id = "u-1", .email = "alice@example.com",
                                .name = "Alice", .groups = ADMINS, .n_groups = 2,
                                .provider = "github"};
}

static authc__fwd_result decide(const authc__rules *r, const char *host, const char *path,
                                const char *method, const authc__fwd_subject *s)
{
    char why[AUTHC__EXPLAIN_MAX];
    authc__fwd_target t = {host, path, method};
    return authc__forward_decide(r, NULL, &t, s, why, sizeof why);
}

static void test_parse_errors(void **st)
{
    (void)st;
    struct { const char *text, *want; } bad[] = {
        {"allow path=/x\n", "line 1: 'allow' is not a policy"},
        {"\n\nbypass path=x\n", "line 3: path 'x' must start with /"},
        {"deny users=a\n", "line 1: users= only goes with 'authenticated'"},
        {"bypass path~=(\n", "line 1: bad regular expression"},
        {"deny path~=^/in+++++++++++++++++++++++++\n", "line 1: regular expression '^/in+++"},
        {"deny path~=^/a*+\n", "line 1: regular expression '^/a*+' refused: a repetition of a repetition"},
        {"deny path~=^((((a+)+)+)+)+$\n", "line 1: regular expression '^((((a+)+)+)+)+$' refused: a repeated group"},
        {"deny path~=^/x(y?){2}\n", "line 1: regular expression '^/x(y?){2}' refused: a repeated group"},
        {"deny path~=^/(a)\\1\n", "line 1: regular expression '^/(a)\\1' refused: back-references"},
        {"deny path~=^/a{1,256}\n", "line 1: regular expression '^/a{1,256}' refused: a repetition count"},
        {"deny path~=^/a{2}{3}\n", "line 1: regular expression '^/a{2}{3}' refused: a repetition of a repetition"},
        {"bypass colour=red\n", "line 1: unknown key 'colour'"},
        {"bypass host\n", "line 1: 'host' is not key=value"},
        {"authenticated groups=a,,b\n", "line 1: groups: empty entry"},
        {"bypass host=a host=b\n", "line 1: host given twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char why[256] = "";
        authc__rules *r = authc__rules_parse(bad[i].text, strlen(bad[i].text), why, sizeof why);
        if (r || strncmp(why, bad[i].want, strlen(bad[i].want)))
            fail_msg("'%s': got '%s', want '%s…'", bad[i].text, why, bad[i].want);
    }
    char why[256];
    authc__rules *r = authc__rules_parse("", 0, why, sizeof why);
    assert_non_null(r);
    assert_int_equal(authc__rules_count(r), 0);
    authc__rules_free(r);
    r = authc__rules_parse("bypass path=/a\r\n\t# only a comment\r\n", 34, why, sizeof why);
    assert_non_null(r);
    assert_int_equal(authc__rules_count(r), 1);
    authc__rules_free(r);
    char line[5000];
    memset(line, 'a', sizeof line - 1);
    line[sizeof line - 1] = '\0';
    assert_null(authc__rules_parse(line, strlen(line), why, sizeof why));
    assert_non_null(strstr(why, "longer than"));
}

static void test_first_match_decides(void **st)
{
    (void)st;
    authc__rules *r = load(RULES);
    authc__fwd_subject a = alice(), anon = {0};
    /* bob is not in admins; bob_evil is bob signed in with github under an
     * email that only starts like his. */
    authc__fwd_subject bob = {.signed_in = true, .user_id = "u-2", .email = "bob@example.com"};
    authc__fwd_subject bob_evil = bob;
    bob_evil.provider = "github";
    bob_evil.email = "bob@example.com.evil.net";
    authc__fwd_subject org = {.signed_in = true, .user_id = "x", .email = "x@eu.example.org", .provider = "github"};
    authc__fwd_subject org_google = org, org_unknown = org;
    org_google.provider = "google";
    org_unknown.provider = NULL; /* unknown provider: fail closed */
    /* carol: her own id and name with alice's email, then her own email. */
    authc__fwd_subject carol = {.signed_in = true, .user_id = "u-3", .name = "carol", .email = "alice@example.com"};
    authc__fwd_subject carol_own = carol;
    carol_own.email = "carol@example.com";
    const struct {
        const char *host, *path, *method;
        const authc__fwd_subject *who;
        authc__fwd_result want;
    } cases[] = {
        {"status.example.com", "/anything", "POST", &anon, AUTHC__FWD_ALLOW},
        {"app.example.com", "/assets/app.js", "GET", &anon, AUTHC__FWD_ALLOW},
        /* The method is part of the match: a POST to assets is not bypassed. */
        {"app.example.com", "/assets/app.js", "POST", &anon, AUTHC__FWD_NEED_SESSION},
        {"app.example.com", "/internal", "GET", &a, AUTHC__FWD_FORBIDDEN},
        {"app.example.com", "/internal/x", "GET", &anon, AUTHC__FWD_FORBIDDEN},
        {"app.example.com", "/internalx", "GET", &anon, AUTHC__FWD_NEED_SESSION},
        /* Groups: alice is in admins; bob is not. */
        {"app.example.com:8443", "/admin/users", "GET", &a, AUTHC__FWD_ALLOW},
        {"app.example.com", "/admin", "GET", &bob, AUTHC__FWD_FORBIDDEN},
        {"app.example.com", "/administrator", "GET", &bob, AUTHC__FWD_ALLOW},
        {"app.example.com", "/admin", "GET", &anon, AUTHC__FWD_NEED_SESSION},
        /* Domains (globs) AND providers. */
        {"mail.example.com", "/", "GET", &a, AUTHC__FWD_ALLOW},
        {"MAIL.example.com", "/", "GET", &org, AUTHC__FWD_ALLOW},
        {"mail.example.com", "/", "GET", &org_google, AUTHC__FWD_FORBIDDEN},
        {"mail.example.com", "/", "GET", &org_unknown, AUTHC__FWD_FORBIDDEN},
        {"mail.example.com", "/", "GET", &bob_evil, AUTHC__FWD_FORBIDDEN},
        /* users (id or name) AND emails (case-insensitive). */
        {"x.test", "/billing", "GET", &a, AUTHC__FWD_ALLOW},
        {"x.test", "/billing", "GET", &carol, AUTHC__FWD_ALLOW},
        {"x.test", "/billing", "GET", &carol_own, AUTHC__FWD_FORBIDDEN},
        /* No rule matches: any signed-in user. */
        {"other.test", "/x", "GET", &bob_evil, AUTHC__FWD_ALLOW},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        authc__fwd_result got = decide(r, cases[i].host, cases[i].path, cases[i].method, cases[i].who);
        if (got != cases[i].want)
            fail_msg("case %zu (%s %s%s): %d, want %d", i, cases[i].method, cases[i].host, cases[i].path, got,
                     cases[i].want);
    }
    assert_int_equal(decide(NULL, "other.test", "/x", "GET", &anon), AUTHC__FWD_NEED_SESSION);
    authc__rules_free(r);
}

static void test_path_tricks(void **st)
{
    (void)st;
    authc__rules *r = load(RULES);
    authc__fwd_subject anon = {0}, bob = {.signed_in = true, .user_id = "u-2"};
    /* Dot segments and encodings cannot reach a denied path from a bypass. */
    assert_int_equal(decide(r, "a.example.com", "/assets/../internal/x", "GET", &anon), AUTHC__FWD_FORBIDDEN);
    assert_int_equal(decide(r, "a.example.com", "/assets/%2e%2e/internal", "GET", &anon), AUTHC__FWD_FORBIDDEN);
    assert_int_equal(decide(r, "a.example.com", "//internal", "GET", &anon), AUTHC__FWD_FORBIDDEN);
    assert_int_equal(decide(r, "a.example.com", "/%69nternal", "GET", &anon), AUTHC__FWD_FORBIDDEN);
    assert_int_equal(decide(r, "a.example.com", "/assets/..%2finternal", "GET", &anon), AUTHC__FWD_FORBIDDEN);
    assert_int_equal(decide(r, "a.example.com", "/assets\\..\\internal", "GET", &anon), AUTHC__FWD_FORBIDDEN);
    assert_int_equal(decide(r, "a.example.com", "/x/../admin", "GET", &bob), AUTHC__FWD_FORBIDDEN);

    char out[64];
    assert_true(authc__path_normalize("/a/./b/../c//d/%7euser%20x", out, sizeof out));
    assert_string_equal(out, "/a/c/d/~user%20x");
    assert_true(authc__path_normalize("/../../..", out, sizeof out));
    assert_string_equal(out, "/");
    assert_false(authc__path_normalize("/a%00b", out, sizeof out));
    assert_false(authc__path_normalize("/a%zz", out, sizeof out));
    assert_false(authc__path_normalize("/a%2", out, sizeof out));
    assert_false(authc__path_normalize("relative", out, sizeof out));
    char longp[100];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    assert_false(authc__path_normalize(longp, out, sizeof out));
    authc__rules_free(r);
}

static void test_query_conditions(void **st)
{
    (void)st;
    authc__fwd_subject a = alice();
    authc__fwd_target t = {"app.test", "/", "GET"};
    char why[AUTHC__EXPLAIN_MAX];
    authc__fwd_query q = {.allowed_email_domains = "example.com", .allowed_groups = "admins"};
    assert_int_equal(authc__forward_decide(NULL, &q, &t, &a, why, sizeof why), AUTHC__FWD_ALLOW);
    q.allowed_groups = "finance, hr";
    assert_int_equal(authc__forward_decide(NULL, &q, &t, &a, why, sizeof why), AUTHC__FWD_FORBIDDEN);
    assert_non_null(strstr(why, "allowed_groups"));
    q = (authc__fwd_query){.allowed_emails = "ALICE@example.com", .allowed_users = "u-1"};
    assert_int_equal(authc__forward_decide(NULL, &q, &t, &a, why, sizeof why), AUTHC__FWD_ALLOW);
    q.allowed_emails = "alice@example.co";
    assert_int_equal(authc__forward_decide(NULL, &q, &t, &a, why, sizeof why), AUTHC__FWD_FORBIDDEN);
    q = (authc__fwd_query){.allowed_emails = ",,"};
    assert_int_equal(authc__forward_decide(NULL, &q, &t, &a, why, sizeof why), AUTHC__FWD_FORBIDDEN);
    /* No session: the query never turns that into a pass. */
    authc__fwd_subject anon = {0};
    q = (authc__fwd_query){0};
    assert_int_equal(authc__forward_decide(NULL, &q, &t, &anon, why, sizeof why),
                     AUTHC__FWD_NEED_SESSION);
}

static void test_glob(void **st)
{
    (void)st;
    assert_true(authc__glob_match("*.example.com", "a.example.com"));
    assert_true(authc__glob_match("*.example.com", "a.b.EXAMPLE.com"));
    assert_false(authc__glob_match("*.example.com", "example.com"));
    assert_false(authc__glob_match("*.example.com", "a.example.com.evil.net"));
    assert_true(authc__glob_match("app?.test", "app1.test"));
    assert_false(authc__glob_match("app?.test", "app.test"));
    assert_true(authc__glob_match("*", ""));
    assert_true(authc__glob_match("a*b*c", "aXXbYYc"));
    assert_false(authc__glob_match("a*b*c", "aXXbYY"));
}

/* Ordinary expressions stay accepted by the cost check, and one that is
 * refused never reaches regcomp (it would take gigabytes). */
static void test_regex_cost(void **st)
{
    (void)st;
    static const char *const ok[] = {
        "^/internal(/|$)", "^/api/v[0-9]+/(users|groups)/[^/]+$", "^/a{1,255}$", "^/(ab)+$",
        "[[:alpha:]]+\\.html$", "^/x\\+y+$", "[+*]+", "^/a{3,}b{2}", "a+b*c?d{1}", "^/{x}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (authc__regex_cost_check(ok[i]))
            fail_msg("'%s' refused: %s", ok[i], authc__regex_cost_check(ok[i]));
    char deep[64] = "";
    for (int i = 0; i < 17; i++)
        strcat(deep, "(");
    assert_non_null(strstr(authc__regex_cost_check(deep), "nested deeper"));
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_non_null(strstr(authc__regex_cost_check(big), "longer than"));
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_regex_cost),
        cmocka_unit_test(test_first_match_decides),
        cmocka_unit_test(test_path_tricks),
        cmocka_unit_test(test_query_conditions),
        cmocka_unit_test(test_glob))

/* test_pages.c — unit tests of the built-in pages: escaping, theme checks,
 * language choice, error statuses, provider forms, no external fetches. */
#include "cmocka_main.h"

#include "core/pages_int.h"
#include "util/util_int.h"

/* ------------------------------------------------------------------ */
/* Helpers. Pages come from a per-test arena freed in teardown. */

static int setup(void **state)
{
    *state = authc_arena_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    authc_arena_free(*state);
    return 0;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, nl = strlen(needle);
    for (const char *p = strstr(hay, needle); p; p = strstr(p + nl, needle))
        n++;
    return n;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

#define HAS(html, s) assert_non_null(strstr((html), (s)))
#define HASNT(html, s) assert_null(strstr((html), (s)))

static const authc_credentials_field CRED_FIELDS[] = {
    {"username", "Username", NULL},
    {"password", NULL, "password"},
};

static const authc_credentials_field PASSKEY_FIELDS[] = {
    {"email", "Email", "email"},
};

/* Five providers, one of each type, with ordinary values. */
static authc__page_provider PROVIDERS[] = {
    {"github", "GitHub", AUTHC__PART_BUTTON, "http://localhost:3000/auth/signin/github",
     "http://localhost:3000/auth/callback/github", NULL, 0, "#24292f"},
    {"google", "Google", AUTHC__PART_BUTTON, "http://localhost:3000/auth/signin/google",
     "http://localhost:3000/auth/callback/google", NULL, 0, NULL},
    {"resend", "Email", AUTHC__PART_EMAIL, "http://localhost:3000/auth/signin/resend",
     "http://localhost:3000/auth/callback/resend", NULL, 0, NULL},
    {"credentials", "Password", AUTHC__PART_FIELDS,
     "http://localhost:3000/auth/signin/credentials",
     "http://localhost:3000/auth/callback/credentials", CRED_FIELDS, 2, NULL},
    {"passkey", "Passkey", AUTHC__PART_PASSKEY, "http://localhost:3000/auth/signin/passkey",
     "http://localhost:3000/auth/callback/passkey", PASSKEY_FIELDS, 1, NULL},
};
#define NPROV (sizeof PROVIDERS / sizeof PROVIDERS[0])

static authc__signin_page base_page(void)
{
    authc__signin_page p = {0};
    p.lang = AUTHC__LANG_EN;
    p.csrf_token = "0123abcd";
    p.callback_url = "http://localhost:3000/dashboard";
    p.providers = PROVIDERS;
    p.nproviders = NPROV;
    return p;
}

static char *signin(authc_arena *ar, const authc__signin_page *p)
{
    char *html = NULL;
    size_t len = 0;
    assert_int_equal(authc__page_signin(ar, p, &html, &len), AUTHC_OK);
    assert_non_null(html);
    assert_int_equal(strlen(html), len);
    return html;
}

static char *error_page(authc_arena *ar, const authc__theme *t, authc__lang lang,
                        const char *code, int *status)
{
    char *html = NULL;
    size_t len = 0;
    *status = -1;
    assert_int_equal(authc__page_error(ar, t, lang, code, "http://localhost:3000",
                                       "http://localhost:3000/auth/error?error=x/signin",
                                       &html, &len, status),
                     AUTHC_OK);
    assert_non_null(html);
    return html;
}

/* ------------------------------------------------------------------ */
/* Escaping. */

static void test_signin_escapes_inputs(void **state)
{
    authc_arena *ar = *state;
    static const authc_credentials_field evil_fields[] = {
        {"user\"><x", "<Label>", "text\" onfocus=\"alert(4)"},
    };
    authc__page_provider evil[] = {
        {"git\"hub", "Git<b>Hub\"&'", AUTHC__PART_BUTTON, "/s/\"><script>alert(8)</script>",
         "/c", NULL, 0, "red\" onclick=\"x"},
        {"e\"m", "Mail<i>", AUTHC__PART_EMAIL, "/s/e", "/c/e", NULL, 0, NULL},
        {"cr<", "Cred\"s", AUTHC__PART_FIELDS, "/s/c", "/c/\"><script>alert(9)</script>",
         evil_fields, 1, NULL},
    };
    authc__signin_page p = base_page();
    p.providers = evil;
    p.nproviders = 3;
    p.csrf_token = "tok\"><script>alert(1)</script>";
    p.callback_url = "/x\"><script>alert(2)</script>";
    p.email = "a@b.c\"><script>alert(3)</script>";
    p.error = "\"><script>alert(5)</script>";
    char *html = signin(ar, &p);

    HASNT(html, "<script");
    HASNT(html, "\" onfocus=\"");
    HASNT(html, "onclick");      /* invalid provider colour dropped */
    TU_HAS_ALL(html,
               "value=\"tok&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"",
               "name=\"callbackUrl\" value=\"/x&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;\"",
               "value=\"a@b.c&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;\"",
               "type=\"text&quot; onfocus=&quot;alert(4)\"",
               "Sign in with Git&lt;b&gt;Hub&quot;&amp;&#39;",
               "Sign in with Mail&lt;i&gt;",
               "Sign in with Cred&quot;s",
               "action=\"/s/&quot;&gt;&lt;script&gt;alert(8)&lt;/script&gt;\"",
               "action=\"/c/&quot;&gt;&lt;script&gt;alert(9)&lt;/script&gt;\"",
               "id=\"input-email-for-e&quot;m-provider\"",
               "name=\"user&quot;&gt;&lt;x\" id=\"input-user&quot;&gt;&lt;x-for-cr&lt;-provider\"",
               "&lt;Label&gt;</label>");
    /* The glyph shows the first letter, escaped when it is markup. */
    HAS(html, ">G</text>");
    /* An unknown ?error= shows the default message, never the raw code. */
    HASNT(html, "alert(5)");
    HAS(html, "<div class=\"error\"><p>Sign in failed. Please try again.</p></div>");
}

/* Inputs full of markup characters must not change the page's structure:
 * the number of quotes and angle brackets equals that of a benign page. */
static void test_signin_structure_unchanged_by_inputs(void **state)
{
    authc_arena *ar = *state;
    authc__signin_page a = base_page();
    a.email = "x@y.z";
    authc__signin_page b = a;
    b.csrf_token = "\"'<>\"'<>";
    b.callback_url = "<\"'>";
    b.email = "\"<'>";
    authc__page_provider evil[NPROV];
    memcpy(evil, PROVIDERS, sizeof evil);
    for (size_t i = 0; i < NPROV; i++) {
        evil[i].name = "N\"<'>";
        evil[i].id = "i\"<'>";
        evil[i].signin_url = "s\"<'>";
        evil[i].callback_url = "c\"<'>";
    }
    b.providers = evil;
    char *ha = signin(ar, &a), *hb = signin(ar, &b);
    assert_int_equal(count_char(ha, '"'), count_char(hb, '"'));
    assert_int_equal(count_char(ha, '<'), count_char(hb, '<'));
    assert_int_equal(count_char(ha, '>'), count_char(hb, '>'));
    assert_int_equal(count_char(ha, '\''), count_char(hb, '\''));
}

static void test_signout_verify_escape(void **state)
{
    authc_arena *ar = *state;
    char *html;
    size_t len;
    assert_int_equal(authc__page_signout(ar, NULL, AUTHC__LANG_EN, "t\"<>",
                                         "http://h/auth/signout?callbackUrl=\"><script>x</script>",
                                         &html, &len),
                     AUTHC_OK);
    HASNT(html, "<script");
    TU_HAS_ALL(html,
               "<form action=\"http://h/auth/signout?callbackUrl=&quot;&gt;&lt;script&gt;x&lt;/script&gt;\" method=\"POST\">",
               "<input type=\"hidden\" name=\"csrfToken\" value=\"t&quot;&lt;&gt;\">",
               "<title>Sign Out</title>",
               "Are you sure you want to sign out?",
               ">Sign out</button>");

    assert_int_equal(authc__page_verify_request(ar, NULL, AUTHC__LANG_EN,
                                                "http://h\"><script>", "h<b>", &html, &len),
                     AUTHC_OK);
    HASNT(html, "<script");
    TU_HAS_ALL(html,
               "<a class=\"site\" href=\"http://h&quot;&gt;&lt;script&gt;\">h&lt;b&gt;</a>",
               "<title>Verify Request</title>",
               "<h1>Check your email</h1>",
               "A sign in link has been sent to your email address.");
}

/* ------------------------------------------------------------------ */
/* Theme. */

static void test_theme_colors(void **state)
{
    authc_arena *ar = *state;
    static const char *const good[] = {
        "#346df1", "#fff", "#FFFA", "#11223344", "rgb(1, 2, 3)", "RGBA(1,2,3,.5)",
        "hsl(120 50% 50%)", "hsla(1, 2%, 3%, 0.4)", "rebeccapurple", "Red",
    };
    static const char *const bad[] = {
        "red;}</style><script>alert(1)</script>", "expression(alert(1))", "url(x)",
        "rgb(1,2,3);color:red", "#12345g", "#12345", "#", "rgb()", "rgb(a)",
        "red blue", "\"red\"", "", "rgb(1,2,3)) x", "hsl(1,2%,3%)</style>",
        "var(--x)", "red}body{x:y", "rgb(1);}</style><script>alert(1)", "rgb(1a)",
        "hsl(1 2 3) url(x)", "rgb(1\"2)", "#fff\"", "rgb(1,2,3)\n",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    authc__signin_page p = base_page();
    authc__theme t = {0};
    p.theme = &t;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        t.brand_color = good[i];
        t.button_text = good[i];
        char *html = signin(ar, &p);
        char want[256];
        snprintf(want, sizeof want, "<style>:root{--brand-color:%s;--button-text-color:%s}</style>",
                 good[i], good[i]);
        HAS(html, want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t.brand_color = bad[i];
        t.button_text = bad[i];
        char *html = signin(ar, &p);
        /* Only the built-in CSS, whose defaults name each variable once. */
        if (count(html, "<style>") != 1 || count(html, "--brand-color:") != 1 ||
            count(html, "--button-text-color:") != 1)
            fail_msg("bad colour %zu accepted: %s", i, bad[i]);
        /* The one script is the built-in passkey ceremony (lib/core/pages.c). */
        assert_int_equal(count(html, "<script"), count(html, "<script>(function(){'use strict';if(window.__authcPasskey)"));
        assert_int_equal(count(html, "</style>"), 1);
    }
    /* One valid, one not: only the valid one is emitted. */
    t.brand_color = "#abc";
    t.button_text = "red;}";
    HAS(signin(ar, &p), "<style>:root{--brand-color:#abc}</style>");

    /* A provider's colour goes through the same check. */
    authc__page_provider pr[1] = {PROVIDERS[0]};
    p.providers = pr;
    p.nproviders = 1;
    t.brand_color = NULL;
    t.button_text = NULL;
    HAS(signin(ar, &p), "style=\"--provider-brand-color:#24292f\"");
    pr[0].brand_color = "red\"><script>";
    HASNT(signin(ar, &p), "--provider-brand-color:");
}

static void test_theme_color_scheme(void **state)
{
    authc_arena *ar = *state;
    static const struct { const char *in, *want; } cases[] = {
        {NULL, "auto"}, {"auto", "auto"}, {"light", "light"}, {"dark", "dark"},
        {"DARK", "auto"}, {"dark\"><script>", "auto"}, {"", "auto"}, {"sepia", "auto"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        authc__theme t = {.color_scheme = cases[i].in};
        char *html;
        size_t len;
        char want[80];
        snprintf(want, sizeof want, "<body class=\"__next-auth-theme-%s\">", cases[i].want);
        assert_int_equal(authc__page_signout(ar, &t, AUTHC__LANG_EN, "t", "/x", &html, &len),
                         AUTHC_OK);
        HAS(html, want);
        HASNT(html, "<script");
    }
    /* No theme at all is the same as the defaults. */
    authc__signin_page p = base_page();
    HAS(signin(ar, &p), "<body class=\"__next-auth-theme-auto\"><div class=\"page\"><div class=\"signin\"><div class=\"card\">");
}

static void test_theme_logo(void **state)
{
    authc_arena *ar = *state;
    static const char *const good[] = {
        "https://example.com/logo.png", "HTTP://x/y.svg", "/static/logo.png",
        "logo.png", "./img/a.png", "img/a:b.png", "/l.png?v=1&x=\"'",
    };
    static const char *const bad[] = {
        "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
        "java\tscript:alert(1)", "java\nscript:alert(1)", "data:image/png;base64,AAAA",
        "//evil.example/x.png", "/\\evil.example/x.png", "vbscript:x", "",
        "https://a b/c.png", "x:y", "\x01/a.png",
    };
    authc__theme t = {0};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        t.logo = good[i];
        char *html;
        size_t len;
        assert_int_equal(authc__page_verify_request(ar, &t, AUTHC__LANG_EN, "http://h", "h",
                                                    &html, &len),
                         AUTHC_OK);
        assert_int_equal(count(html, "<img class=\"logo\" alt=\"Logo\" src=\""), 1);
    }
    t.logo = "/l.png?v=1&x=\"'";
    authc__signin_page p = base_page();
    p.theme = &t;
    HAS(signin(ar, &p), "<img class=\"logo\" alt=\"Logo\" src=\"/l.png?v=1&amp;x=&quot;&#39;\">");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t.logo = bad[i];
        int status;
        char *html = error_page(ar, &t, AUTHC__LANG_EN, "Configuration", &status);
        HASNT(html, "<img");
        HASNT(html, "script:");
        HASNT(html, "data:");
        HASNT(signin(ar, &p), "<img");
    }
}

/* ------------------------------------------------------------------ */
/* Language choice. */

static void test_lang_pick(void **state)
{
    (void)state;
    enum { EN = AUTHC__LANG_EN, ZH = AUTHC__LANG_ZH };
    static const struct { const char *ovr, *al; int want; } cases[] = {
        {NULL, NULL, EN},
        {NULL, "", EN},
        {NULL, "   ", EN},
        {"auto", "zh-CN,zh;q=0.9,en;q=0.8", ZH},
        {"AUTO", "zh", ZH},
        {"en", "zh-CN", EN},
        {"zh-CN", "en-US,en;q=0.9", ZH},
        {"zh", NULL, ZH},
        {"zh-cn", "en", ZH},
        {"fr", "zh", ZH},            /* an override we do not ship → negotiate */
        {"zh-TW", "en", EN},
        {NULL, "en-US,en;q=0.9,zh-CN;q=0.8", EN},
        {NULL, "en;q=0.5, zh;q=0.8", ZH},
        {NULL, "zh-Hans", ZH},
        {NULL, "zh-Hans-CN", ZH},
        {NULL, "zh-SG", ZH},
        {NULL, "ZH-cn", ZH},
        {NULL, "zh-TW", EN},
        {NULL, "zh-HK,zh-TW;q=0.9", EN},
        {NULL, "zh-Hant-CN", EN},
        {NULL, "zh-Hant", EN},
        {NULL, "de;q=0.9, zh-TW;q=0.8, zh-CN;q=0.7", ZH},
        {NULL, "fr-FR,fr;q=0.9", EN},
        {NULL, "fr, zh;q=0.3", ZH},
        {NULL, "zh;q=0, en", EN},
        {NULL, "zh;q=0", EN},
        {NULL, "en;q=0, zh", ZH},
        {NULL, "en, zh", EN},        /* equal q: first listed wins */
        {NULL, "zh, en", ZH},
        {NULL, "*", EN},
        {NULL, "*;q=0.1, zh-CN;q=0.2", ZH},
        {NULL, "zh-CN;q=0.2, *", EN},
        {NULL, "zh-CN;q=1.5", EN},   /* malformed q: element ignored */
        {NULL, "zh;q=abc", EN},
        {NULL, "zh;q=0.0001", EN},
        {NULL, "zh;q=", EN},
        {NULL, "zh;level=1", EN},
        {NULL, "zh;q=1.0", ZH},
        {NULL, "en;q=0.100, zh;q=0.101", ZH},
        {NULL, " zh-CN ; q=0.8 , en;q=0.7", ZH},
        {NULL, ";;;,,,zh", ZH},
        {NULL, "zh-CN\x01", EN},
        {NULL, "zh--CN", EN},
        {NULL, "zh-toolongsubtag", EN},
        {NULL, "\xe4\xb8\xad\xe6\x96\x87, zh", ZH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        authc__lang got = authc__lang_pick(cases[i].ovr, cases[i].al);
        if ((int)got != cases[i].want)
            fail_msg("case %zu: override=%s al=%s: got %d want %d", i,
                     cases[i].ovr ? cases[i].ovr : "(null)",
                     cases[i].al ? cases[i].al : "(null)", (int)got, cases[i].want);
    }
}

static void test_lang_pick_long_header(void **state)
{
    (void)state;
    size_t n = 100000;
    char *h = malloc(n + 8);
    assert_non_null(h);
    /* Garbage filling past the scan limit, Chinese at the very end: the
     * tail is never reached, so the answer is the default. */
    for (size_t i = 0; i < n; i += 2) {
        h[i] = 'x';
        h[i + 1] = ',';
    }
    strcpy(h + n, "zh");
    assert_int_equal(authc__lang_pick(NULL, h), AUTHC__LANG_EN);
    /* A preference at the front still counts. */
    memcpy(h, "zh,", 3);
    assert_int_equal(authc__lang_pick(NULL, h), AUTHC__LANG_ZH);
    /* One enormous token. */
    memset(h, 'a', n);
    h[n] = '\0';
    assert_int_equal(authc__lang_pick(NULL, h), AUTHC__LANG_EN);
    free(h);
}

/* ------------------------------------------------------------------ */
/* Error page. */

static void test_error_statuses(void **state)
{
    authc_arena *ar = *state;
    static const struct { const char *code; int status; const char *heading; bool signin; } cases[] = {
        {"Configuration", 500, "Server error", false},
        {"AccessDenied", 403, "Access denied", true},
        {"Verification", 403, "Unable to sign in", true},
        {"WebAuthnVerificationError", 200, "Unable to sign in", false},
        {"MissingCSRF", 200, "Unable to sign in", false},
        {"OAuthAccountNotLinked", 200, "Unable to sign in", false},
        {NULL, 200, "Error", false},
        {"", 200, "Error", false},
        {"configuration", 200, "Error", false},   /* exact match, like Auth.js */
        {"Nope", 200, "Error", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status;
        char *html = error_page(ar, NULL, AUTHC__LANG_EN, cases[i].code, &status);
        assert_int_equal(status, cases[i].status);
        char want[128];
        snprintf(want, sizeof want, "<h1>%s</h1>", cases[i].heading);
        TU_HAS_ALL(html,
                   want,
                   "<title>Error</title>",
                   "<div class=\"page\"><div class=\"error\"><div class=\"card\">");
        if (cases[i].signin) {
            HAS(html, "<a class=\"button\" href=\"http://localhost:3000/auth/error?error=x/signin\">Sign in</a>");
            HASNT(html, "class=\"site\"");
        } else {
            HAS(html, "<a class=\"site\" href=\"http://localhost:3000\">localhost:3000</a>");
            HASNT(html, "class=\"button\"");
        }
    }
    /* The known code is named on the page; a raw unknown one never is. */
    int status;
    HAS(error_page(ar, NULL, AUTHC__LANG_EN, "Verification", &status), "Error code: Verification");
    char *html = error_page(ar, NULL, AUTHC__LANG_EN, "\"><script>alert(1)</script>", &status);
    assert_int_equal(status, 200);
    HASNT(html, "script");
    HASNT(html, "alert");
    HASNT(html, "Error code:");
    /* NULL links are simply left out. */
    char *h2;
    size_t len;
    assert_int_equal(authc__page_error(ar, NULL, AUTHC__LANG_EN, "AccessDenied", NULL, NULL,
                                       &h2, &len, &status),
                     AUTHC_OK);
    assert_int_equal(status, 403);
    HASNT(h2, "<a ");
}

/* ------------------------------------------------------------------ */
/* Sign-in page structure. */

static void test_signin_provider_forms(void **state)
{
    authc_arena *ar = *state;
    authc__signin_page p = base_page();
    p.email = "me@example.com";
    char *html = signin(ar, &p);

    TU_HAS_ALL(html,
               "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\"",
               "<title>Sign In</title>");
    HASNT(html, "<div class=\"error\">");
    assert_int_equal(count(html, "<div class=\"provider\">"), NPROV);
    assert_int_equal(count(html, "<form "), NPROV);
    assert_int_equal(count(html, "name=\"csrfToken\" value=\"0123abcd\""), NPROV);

    /* OAuth and OIDC: POST to signinUrl with csrfToken and callbackUrl. */
    HAS(html, "<form action=\"http://localhost:3000/auth/signin/github\" method=\"POST\">"
              "<input type=\"hidden\" name=\"csrfToken\" value=\"0123abcd\">"
              "<input type=\"hidden\" name=\"callbackUrl\" value=\"http://localhost:3000/dashboard\">"
              "<button type=\"submit\" class=\"button\" style=\"--provider-brand-color:#24292f\"><svg");
    HAS(html, "<span>Sign in with GitHub</span></button></form>");
    HAS(html, "<form action=\"http://localhost:3000/auth/signin/google\" method=\"POST\">"
              "<input type=\"hidden\" name=\"csrfToken\" value=\"0123abcd\">"
              "<input type=\"hidden\" name=\"callbackUrl\" value=\"http://localhost:3000/dashboard\">"
              "<button type=\"submit\" class=\"button\"><svg");
    assert_int_equal(count(html, "name=\"callbackUrl\""), 2);

    /* Email: POST to signinUrl, labelled required email input, prefilled. */
    HAS(html, "<form action=\"http://localhost:3000/auth/signin/resend\" method=\"POST\">"
              "<input type=\"hidden\" name=\"csrfToken\" value=\"0123abcd\">"
              "<label class=\"section-header\" for=\"input-email-for-resend-provider\">Email</label>"
              "<input id=\"input-email-for-resend-provider\" autofocus type=\"email\" name=\"email\""
              " value=\"me@example.com\" placeholder=\"email@example.com\" required>"
              "<button id=\"submitButton\" type=\"submit\">Sign in with Email</button></form>");

    /* Credentials: POST to callbackUrl, one input per field, no callbackUrl. */
    HAS(html, "<form action=\"http://localhost:3000/auth/callback/credentials\" method=\"POST\">"
              "<input type=\"hidden\" name=\"csrfToken\" value=\"0123abcd\">"
              "<div><label class=\"section-header\" for=\"input-username-for-credentials-provider\">Username</label>"
              "<input name=\"username\" id=\"input-username-for-credentials-provider\" type=\"text\"></div>"
              "<div><label class=\"section-header\" for=\"input-password-for-credentials-provider\">password</label>"
              "<input name=\"password\" id=\"input-password-for-credentials-provider\" type=\"password\"></div>"
              "<button id=\"submitButton\" type=\"submit\">Sign in with Password</button></form>");

    /* WebAuthn: form id=<id>-form POSTing to callbackUrl. */
    HAS(html, "<form action=\"http://localhost:3000/auth/callback/passkey\" method=\"POST\" id=\"passkey-form\">"
              "<input type=\"hidden\" name=\"csrfToken\" value=\"0123abcd\">"
              "<div><label class=\"section-header\" for=\"input-email-for-passkey-provider\">Email</label>"
              "<input name=\"email\" id=\"input-email-for-passkey-provider\" type=\"email\" data-form-field></div>"
              "<button id=\"submitButton-passkey\" type=\"submit\">Sign in with Passkey</button></form>");

    /* Separators: before the first form-type provider after oauth ones and
     * after each form-type provider that is not last. */
    assert_int_equal(count(html, "<hr/>"), 3);
    TU_HAS_ALL(html,
               "<div class=\"provider\"><hr/><form action=\"http://localhost:3000/auth/signin/resend\"",
               "Sign in with Email</button></form><hr/></div>",
               "Sign in with Password</button></form><hr/></div>",
               "Sign in with Passkey</button></form><button type=\"button\" form=\"passkey-form\" data-passkey-register",
               "</script></div>");

    /* No callbackUrl and no email: no hidden field, no value attribute. */
    p.callback_url = NULL;
    p.email = NULL;
    html = signin(ar, &p);
    HASNT(html, "name=\"callbackUrl\"");
    HAS(html, "name=\"email\" placeholder=");

    /* Only oauth: no separators. Only form types: separators between. */
    p.providers = PROVIDERS;
    p.nproviders = 2;
    assert_int_equal(count(signin(ar, &p), "<hr/>"), 0);
    p.providers = PROVIDERS + 2;
    p.nproviders = 2;
    assert_int_equal(count(signin(ar, &p), "<hr/>"), 1);

    /* Types without a page part are not rendered. */
    authc__page_provider odd[2] = {PROVIDERS[0], PROVIDERS[0]};
    odd[1].part = AUTHC__PART_NONE;
    odd[1].name = "Odd";
    p.providers = odd;
    p.nproviders = 2;
    html = signin(ar, &p);
    assert_int_equal(count(html, "<div class=\"provider\">"), 1);
    HASNT(html, "Odd");

    /* No providers: still a valid page. */
    p.providers = NULL;
    p.nproviders = 0;
    HAS(signin(ar, &p), "<div class=\"signin\"><div class=\"card\"></div></div>");
}

static void test_signin_error_messages(void **state)
{
    authc_arena *ar = *state;
    static const char *const retry[] = {"OAuthSignin", "OAuthCallbackError", "OAuthCreateAccount",
                                        "EmailCreateAccount", "Callback", "Signin"};
    authc__signin_page p = base_page();
    for (size_t i = 0; i < sizeof retry / sizeof retry[0]; i++) {
        p.error = retry[i];
        HAS(signin(ar, &p), "<div class=\"error\"><p>Sign in did not work. Try again, or use a different account.</p></div>");
    }
    static const struct { const char *code, *msg; } cases[] = {
        {"OAuthAccountNotLinked", "sign in the same way you did before."},
        {"AccountNotLinked", "sign in the same way you did before."},
        {"EmailSignin", "We could not send the sign in email."},
        {"CredentialsSignin", "Check that the details you entered are correct."},
        {"SessionRequired", "Please sign in to view this page."},
        {"MissingCSRF", "The sign in form had expired."},
        {"Whatever", "Sign in failed. Please try again."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        p.error = cases[i].code;
        char *html = signin(ar, &p);
        HAS(html, cases[i].msg);
        assert_int_equal(count(html, "<div class=\"error\">"), 1);
        /* The error sits first in the card. */
        HAS(html, "<div class=\"card\"><div class=\"error\"><p>");
    }
    p.error = "";
    HASNT(signin(ar, &p), "<div class=\"error\">");
}

static void test_chinese(void **state)
{
    authc_arena *ar = *state;
    authc__signin_page p = base_page();
    p.lang = AUTHC__LANG_ZH;
    p.error = "CredentialsSignin";
    char *html = signin(ar, &p);
    TU_HAS_ALL(html,
               "<html lang=\"zh-CN\">",
               "<title>登录</title>",
               "使用 GitHub 登录",
               "使用 Email 登录",
               ">邮箱</label>",
               "登录失败，请检查你输入的信息是否正确。");
    HASNT(html, "Sign in with");
    HASNT(html, "Sign In");

    char *h;
    size_t len;
    assert_int_equal(authc__page_signout(ar, NULL, AUTHC__LANG_ZH, "t", "/x", &h, &len), AUTHC_OK);
    TU_HAS_ALL(h,
               "<html lang=\"zh-CN\">",
               "<title>退出登录</title>",
               "确定要退出登录吗？",
               ">退出登录</button>");
    HASNT(h, "Sign out");

    assert_int_equal(authc__page_verify_request(ar, NULL, AUTHC__LANG_ZH, "http://h", "h", &h, &len),
                     AUTHC_OK);
    TU_HAS_ALL(h,
               "<title>验证请求</title>",
               "<h1>请查收邮件</h1>",
               "登录链接已发送到你的邮箱。");
    HASNT(h, "Check your email");

    int status;
    h = error_page(ar, NULL, AUTHC__LANG_ZH, "Configuration", &status);
    assert_int_equal(status, 500);
    TU_HAS_ALL(h,
               "<title>错误</title>",
               "<h1>服务器错误</h1>");
    HASNT(h, "Server error");
    h = error_page(ar, NULL, AUTHC__LANG_ZH, "AccessDenied", &status);
    TU_HAS_ALL(h,
               "<h1>拒绝访问</h1>",
               ">登录</a>");
    h = error_page(ar, NULL, AUTHC__LANG_ZH, "Verification", &status);
    HAS(h, "此登录链接已失效。");
    h = error_page(ar, NULL, AUTHC__LANG_ZH, NULL, &status);
    HAS(h, "<h1>出错了</h1>");

    /* Every sign-in error message exists in Chinese. */
    static const char *const codes[] = {"OAuthSignin", "OAuthAccountNotLinked", "EmailSignin",
                                        "SessionRequired", "MissingCSRF", "x"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        p.error = codes[i];
        html = signin(ar, &p);
        const char *e = strstr(html, "<div class=\"error\"><p>");
        assert_non_null(e);
        e += strlen("<div class=\"error\"><p>");
        assert_true((unsigned char)e[0] >= 0x80); /* starts with a CJK character */
    }
    /* An out-of-range language value falls back to English. */
    p.lang = (authc__lang)7;
    p.error = NULL;
    HAS(signin(ar, &p), "<html lang=\"en\">");
}

/* ------------------------------------------------------------------ */
/* Nothing is fetched: after removing the URLs given as input, no page holds
 * "http", "//", url(), @import, <link>, <script>, or any src attribute. */

static void strip_all(char *s, const char *needle)
{
    size_t nl = strlen(needle);
    char *p;
    while ((p = strstr(s, needle)) != NULL)
        memmove(p, p + nl, strlen(p + nl) + 1);
}

static void assert_no_fetch(char *html, const char *const *inputs, size_t ninputs)
{
    for (size_t i = 0; i < ninputs; i++)
        strip_all(html, inputs[i]);
    /* The inline passkey script (fetches only same-origin /webauthn-options). */
    char *sc = strstr(html, "<script>(function(){'use strict';if(window.__authcPasskey)");
    char *se = sc ? strstr(sc, "</script>") : NULL;
    if (sc && se)
        memmove(sc, se + 9, strlen(se + 9) + 1);
    HASNT(html, "http");
    HASNT(html, "//");
    HASNT(html, "url(");
    HASNT(html, "@import");
    HASNT(html, "<link");
    HASNT(html, "<script");
    HASNT(html, "<iframe");
    HASNT(html, "<object");
    HASNT(html, "src=");
    HASNT(html, "xmlns");
}

static void test_no_external_fetch(void **state)
{
    authc_arena *ar = *state;
    static const char *const inputs[] = {
        "http://localhost:3000/auth/signin/github", "http://localhost:3000/auth/signin/google",
        "http://localhost:3000/auth/signin/resend", "http://localhost:3000/auth/callback/credentials",
        "http://localhost:3000/auth/callback/passkey", "http://localhost:3000/dashboard",
        "http://localhost:3000/auth/signout", "http://localhost:3000/auth/error?error=x/signin",
        "http://localhost:3000",
    };
    const size_t nin = sizeof inputs / sizeof inputs[0];
    for (int lang = 0; lang < 2; lang++) {
        authc__theme t = {.color_scheme = "dark", .brand_color = "#123", .button_text = "white"};
        authc__signin_page p = base_page();
        p.lang = (authc__lang)lang;
        p.theme = &t;
        p.error = "OAuthSignin";
        assert_no_fetch(signin(ar, &p), inputs, nin);

        char *h;
        size_t len;
        assert_int_equal(authc__page_signout(ar, &t, p.lang, "t", "http://localhost:3000/auth/signout",
                                             &h, &len),
                         AUTHC_OK);
        assert_no_fetch(h, inputs, nin);
        assert_int_equal(authc__page_verify_request(ar, &t, p.lang, "http://localhost:3000",
                                                    "localhost", &h, &len),
                         AUTHC_OK);
        assert_no_fetch(h, inputs, nin);
        static const char *const codes[] = {"Configuration", "AccessDenied", "Verification",
                                            "WebAuthnVerificationError", "MissingCSRF", NULL};
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            int status;
            assert_no_fetch(error_page(ar, &t, p.lang, codes[i], &status), inputs, nin);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Limits, arguments, determinism. */

static void test_limits_and_args(void **state)
{
    authc_arena *ar = *state;
    char *html = NULL;
    size_t len = 0;
    int status;
    authc__signin_page p = base_page();
    assert_int_equal(authc__page_signin(NULL, &p, &html, &len), AUTHC_ERR_INVALID);
    assert_int_equal(authc__page_signin(ar, NULL, &html, &len), AUTHC_ERR_INVALID);
    assert_int_equal(authc__page_signin(ar, &p, NULL, &len), AUTHC_ERR_INVALID);
    assert_int_equal(authc__page_signin(ar, &p, &html, NULL), AUTHC_ERR_INVALID);
    p.providers = NULL;
    assert_int_equal(authc__page_signin(ar, &p, &html, &len), AUTHC_ERR_INVALID);
    assert_int_equal(authc__page_signout(ar, NULL, 0, "t", "/", NULL, &len), AUTHC_ERR_INVALID);
    assert_int_equal(authc__page_verify_request(NULL, NULL, 0, "o", "h", &html, &len),
                     AUTHC_ERR_INVALID);
    assert_int_equal(authc__page_error(ar, NULL, 0, NULL, "o", "s", &html, &len, NULL),
                     AUTHC_ERR_INVALID);

    /* A name past the page limit is an error, not a truncated page. */
    size_t big = 300 * 1024;
    char *name = malloc(big + 1);
    assert_non_null(name);
    memset(name, 'n', big);
    name[big] = '\0';
    authc__page_provider pr[1] = {PROVIDERS[0]};
    pr[0].name = name;
    p = base_page();
    p.providers = pr;
    p.nproviders = 1;
    html = NULL;
    assert_int_equal(authc__page_signin(ar, &p, &html, &len), AUTHC_ERR_LIMIT);
    assert_null(html);
    /* Escaping growth counts too: 60 KiB of '&' become 300 KiB. */
    memset(name, '&', 60 * 1024);
    name[60 * 1024] = '\0';
    assert_int_equal(authc__page_signin(ar, &p, &html, &len), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__page_signout(ar, NULL, 0, name, "/", &html, &len), AUTHC_ERR_LIMIT);
    assert_int_equal(authc__page_verify_request(ar, NULL, 0, "http://h", name, &html, &len),
                     AUTHC_ERR_LIMIT);
    assert_int_equal(authc__page_error(ar, NULL, 0, "Configuration", name, "s", &html, &len, &status),
                     AUTHC_ERR_LIMIT);
    free(name);

    /* NULL strings inside the page render as empty, not as a crash. */
    authc__page_provider nulls[1] = {{NULL, NULL, AUTHC__PART_EMAIL, NULL, NULL, NULL, 0, NULL}};
    p = base_page();
    p.providers = nulls;
    p.nproviders = 1;
    p.csrf_token = NULL;
    p.callback_url = NULL;
    html = signin(ar, &p);
    TU_HAS_ALL(html,
               "<form action=\"\" method=\"POST\"><input type=\"hidden\" name=\"csrfToken\" value=\"\">",
               ">Sign in with </button>");
}

/* The whole markup after the stylesheet, written out here: a change to the
 * page shows up as a failing comparison, not as a page equal to itself. */
static void test_exact_markup(void **state)
{
    authc_arena *ar = *state;
    authc__theme t = {.brand_color = "#123456", .logo = "/l.png"};
    authc__signin_page p = base_page();
    p.theme = &t;
    p.error = "SessionRequired";
    authc__page_provider two[] = {PROVIDERS[0], PROVIDERS[2]};
    p.providers = two;
    p.nproviders = 2;
    char *html = signin(ar, &p);
    assert_true(authc__starts_with(html, "<!DOCTYPE html><html lang=\"en\">"));
    assert_non_null(strstr(html, "</style>"));
    assert_string_equal(strstr(html, "</style>"),
        "</style><style>:root{--brand-color:#123456}</style><title>Sign In</title></head>"
        "<body class=\"__next-auth-theme-auto\"><div class=\"page\"><div class=\"signin\"><div class=\"card\">"
        "<div class=\"error\"><p>Please sign in to view this page.</p></div>"
        "<img class=\"logo\" alt=\"Logo\" src=\"/l.png\">"
        "<div class=\"provider\"><form action=\"http://localhost:3000/auth/signin/github\" method=\"POST\">"
        "<input type=\"hidden\" name=\"csrfToken\" value=\"0123abcd\">"
        "<input type=\"hidden\" name=\"callbackUrl\" value=\"http://localhost:3000/dashboard\">"
        "<button type=\"submit\" class=\"button\" style=\"--provider-brand-color:#24292f\">"
        "<svg class=\"provider-logo\" width=\"24\" height=\"24\" viewBox=\"0 0 24 24\" aria-hidden=\"true\" "
        "focusable=\"false\"><circle cx=\"12\" cy=\"12\" r=\"11\" fill=\"currentColor\" fill-opacity=\".18\" "
        "stroke=\"currentColor\" stroke-width=\"1.5\"/><text x=\"12\" y=\"16.5\" text-anchor=\"middle\" "
        "font-size=\"13\" font-weight=\"700\" font-family=\"system-ui,sans-serif\" fill=\"currentColor\">G</text>"
        "</svg><span>Sign in with GitHub</span></button></form></div>"
        "<div class=\"provider\"><hr/><form action=\"http://localhost:3000/auth/signin/resend\" method=\"POST\">"
        "<input type=\"hidden\" name=\"csrfToken\" value=\"0123abcd\">"
        "<label class=\"section-header\" for=\"input-email-for-resend-provider\">Email</label>"
        "<input id=\"input-email-for-resend-provider\" autofocus type=\"email\" name=\"email\" "
        "placeholder=\"email@example.com\" required>"
        "<button id=\"submitButton\" type=\"submit\">Sign in with Email</button></form></div>"
        "</div></div></div></body></html>");
    int st = 0;
    html = error_page(ar, &t, AUTHC__LANG_ZH, "Verification", &st);
    assert_int_equal(st, 403);
    assert_true(authc__starts_with(html, "<!DOCTYPE html><html lang=\"zh-CN\">"));
    assert_string_equal(strstr(html, "</style>"),
        "</style><style>:root{--brand-color:#123456}</style><title>错误</title></head>"
        "<body class=\"__next-auth-theme-auto\"><div class=\"page\"><div class=\"error\"><div class=\"card\">"
        "<img class=\"logo\" alt=\"Logo\" src=\"/l.png\"><h1>无法登录</h1><div class=\"message\">"
        "<p>此登录链接已失效。</p><p>它可能已被使用或已过期。</p><p class=\"code\">错误代码：Verification</p></div>"
        "<p><a class=\"button\" href=\"http://localhost:3000/auth/error?error=x/signin\">登录</a></p>"
        "</div></div></div></body></html>");
}

/* Provider glyph: the first character, ASCII upper-cased, UTF-8 kept whole. */
static void test_provider_glyph(void **state)
{
    authc_arena *ar = *state;
    static const struct { const char *name, *glyph; } cases[] = {
        {"github", ">G</text>"}, {"<x", ">&lt;</text>"}, {"微信", ">微</text>"},
        {"", ">?</text>"}, {"\xff\xfe", ">?</text>"}, {"\xe5\xbe", ">?</text>"},
    };
    authc__page_provider pr[1] = {PROVIDERS[0]};
    authc__signin_page p = base_page();
    p.providers = pr;
    p.nproviders = 1;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pr[0].name = cases[i].name;
        char *html = signin(ar, &p);
        HAS(html, cases[i].glyph);
        assert_int_equal(count(html, "<svg class=\"provider-logo\""), 1);
    }
}

/* Each test with a fresh fixture. */
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
TU_MAIN(NULL, NULL,
        T(test_signin_escapes_inputs), T(test_signin_structure_unchanged_by_inputs),
        T(test_signout_verify_escape), T(test_theme_colors), T(test_theme_color_scheme),
        T(test_theme_logo), cmocka_unit_test(test_lang_pick),
        cmocka_unit_test(test_lang_pick_long_header), T(test_error_statuses),
        T(test_signin_provider_forms), T(test_signin_error_messages), T(test_chinese),
        T(test_no_external_fetch), T(test_limits_and_args), T(test_exact_markup),
        T(test_provider_glyph))

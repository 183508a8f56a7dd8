/* test_email.c — unit tests of the email provider: Auth.js's address
 * normaliser, the token hash and link, the mail text, and whole flows. */
#include "cmocka_main.h"
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "authc.h"
#include "authc/adapter.h"
#include "authc/email.h"
#include "providers/email_pages_int.h"
#include "providers/email_int.h"
#include "providers/email_unicode_int.h"
#include "testutil.h"
#include "response_assert.h"

/* ------------------------------------------------------------------ */
/* Normaliser: expected values are what @auth/core 0.41.3's
 * defaultNormalizer returns for the same input (NULL = it throws). The
 * e2e suite checks the same property live against the npm package. */

static const struct {
    const char *in, *out;
} NORM[] = {
    {"user@example.com", "user@example.com"},
    {"  User@Example.COM  ", "user@example.com"},
    {"\tA@B.C\n", "a@b.c"},
    {"\xEF\xBC\xB5\xEF\xBC\xB3\xEF\xBC\xA5\xEF\xBC\xB2\xEF\xBC\xA0\xEF\xBC\xA5\xEF\xBC\xB8\xEF\xBC\xA1"
     "\xEF\xBC\xAD\xEF\xBC\xB0\xEF\xBC\xAC\xEF\xBC\xA5\xEF\xBC\x8E\xEF\xBC\xA3\xEF\xBC\xAF\xEF\xBC\xAD",
     "user@example.com"},                                   /* fullwidth, incl. U+FF20 ＠ */
    {"a\xEF\xBC\xA0" "b.com", "a@b.com"},                   /* U+FF20 becomes a real @ */
    {"a@b.com,evil@x.com", NULL},                           /* two @ */
    {"a,b@c.com", "a,b@c.com"},
    {"a@,b.com", NULL},                                     /* empty domain after the comma cut */
    {"\"a\"@b.com", NULL},
    {"a@b@c.com", NULL},
    {"@b.com", NULL},
    {"a@", NULL},
    {"abc", NULL},
    {"", NULL},
    {"\xCE\x8C\xCE\xA3\xCE\x9F\xCE\xA3@example.com", "\xCF\x8C\xCF\x83\xCE\xBF\xCF\x82@example.com"}, /* final sigma */
    {"\xCE\xA3\xCE\x91\xCE\xA3@\xCE\xA3\xCE\x91\xCE\xA3.gr",
     "\xCF\x83\xCE\xB1\xCF\x82@\xCF\x83\xCE\xB1\xCF\x83.gr"},  /* '.' is case-ignorable, 'g' cased */
    {"\xC4\xB0stanbul@example.com", "i\xCC\x87stanbul@example.com"},   /* U+0130 → i + U+0307 */
    {"\xEF\xAC\x81le@example.com", "file@example.com"},                /* ﬁ ligature */
    {"Stra\xC3\x9F" "e@Example.de", "stra\xC3\x9F" "e@example.de"},
    {"\xC2\xA0x@y.z\xE3\x80\x80", "x@y.z"},                              /* NBSP, ideographic space */
    {"x@y.z\xEF\xBB\xBF", "x@y.z"},                                      /* BOM is JS whitespace */
    {"\xE2\x91\xA0@\xE2\x91\xA1.com", "1@2.com"},                        /* circled digits */
    {"\xEF\xBD\xB6\xEF\xBE\x9E@example.jp", "\xE3\x82\xAC@example.jp"},  /* halfwidth ｶﾞ → ガ */
    {"e\xCC\x81@example.fr", "\xC3\xA9@example.fr"},                     /* composed */
    {"x\xE2\x80\x8B@y.z", "x\xE2\x80\x8B@y.z"},                          /* ZWSP is not trimmed */
    {"user+tag@EXAMPLE.com", "user+tag@example.com"},
    {"a@b.com,", "a@b.com"},
    {"\xE2\x84\xA6@b.com", "\xCF\x89@b.com"},                            /* OHM SIGN */
    {"\xE2\x84\xAA@b.com", "k@b.com"},                                   /* KELVIN SIGN */
    {"\xE3\x8E\x92@b.com", "mhz@b.com"},                                 /* ㎒ */
    {"a @b.com", "a @b.com"},
    {"a\xE2\x80\xA8@b.c", "a\xE2\x80\xA8@b.c"},                          /* inner U+2028 kept */
    {"x@y\xE2\x80\xA9", "x@y"},
    {"\xE1\x9A\x80" "a@b.c\xE1\x9A\x80", "a@b.c"},                       /* U+1680 */
    {"a@b.c\x0B", "a@b.c"},
    {"\xC7\x85@b.c", "d\xC5\xBE@b.c"},                                   /* ǅ */
    {"\xE1\xBA\x9E@b.c", "\xC3\x9F@b.c"},                                /* ẞ */
};

static void test_normalize_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof NORM / sizeof *NORM; i++) {
        authc_arena *ar = authc_arena_new();
        const char *out = NULL;
        authc_err e = authc_email_normalize(ar, NORM[i].in, &out);
        if (NORM[i].out) {
            if (e || !out || strcmp(out, NORM[i].out)) {
                fprintf(stderr, "case %zu: got %s (e=%d), want %s\n", i, out ? out : "(null)", e, NORM[i].out);
                fail();
            }
        } else if (e != AUTHC_ERR_INVALID) {
            fprintf(stderr, "case %zu: accepted as %s\n", i, out ? out : "(null)");
            fail();
        }
        authc_arena_free(ar);
    }
}

static void test_normalize_rejects_bad_utf8(void **state)
{
    (void)state;
    const char *bad[] = {"a\xC0\xAF@b.c", "a\xED\xA0\x80@b.c", "a\xFF@b.c", "a@b.c\xE2\x82", "\xF4\x90\x80\x80@b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        authc_arena *ar = authc_arena_new();
        const char *out;
        assert_int_equal(authc_email_normalize(ar, bad[i], &out), AUTHC_ERR_INVALID);
        authc_arena_free(ar);
    }
    /* Longer than any address: refused before any work. */
    char big[AUTHC__EMAIL_INPUT_MAX + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[5] = '@';
    authc_arena *ar = authc_arena_new();
    const char *out;
    assert_int_equal(authc_email_normalize(ar, big, &out), AUTHC_ERR_INVALID);
    authc_arena_free(ar);
}

/* NFKC must be idempotent, and the fold must be stable: fold(fold(x)) ==
 * fold(x) for every BMP code point followed by a combining mark (the JS
 * chain toLowerCase(NFKC(x)) is not always NFKC, so only check NFKC). */
static void test_nfkc_idempotent(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    for (uint32_t cp = 0x20; cp < 0x30000; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        uint32_t in[2] = {cp, 0x0301};
        uint32_t *o1, *o2;
        size_t n1, n2;
        assert_int_equal(authc__eu_nfkc(ar, in, 2, &o1, &n1), AUTHC_OK);
        assert_int_equal(authc__eu_nfkc(ar, o1, n1, &o2, &n2), AUTHC_OK);
        if (n1 != n2 || memcmp(o1, o2, n1 * sizeof *o1)) {
            fprintf(stderr, "NFKC not idempotent at U+%04X\n", cp);
            fail();
        }
        if (cp % 2048 == 0) {
            authc_arena_free(ar);
            ar = authc_arena_new();
        }
    }
    authc_arena_free(ar);
    assert_string_equal(authc__eu_unicode_version(), authc__eu_unicode_version());
}

/* ------------------------------------------------------------------ */
/* Token hash: Auth.js createHash(`${token}${secret}`) — the same function
 * its CSRF cookie uses, so the recorded CSRF vectors are the judge. */

static void test_token_hash_vectors(void **state)
{
    (void)state;
    json_t *v = tu_vectors("authjs-csrf.json");
    json_t *cases = json_object_get(v, "cases");
    size_t i, checked = 0;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *token = json_string_value(json_object_get(c, "token"));
        const char *hash = json_string_value(json_object_get(c, "hash"));
        json_t *sec = json_object_get(c, "secret");
        if (!token || !hash)
            continue;
        char joined[1024] = "";
        if (json_is_array(sec)) {
            /* JS String(array): comma-joined. */
            size_t k;
            json_t *s;
            json_array_foreach(sec, k, s) {
                if (k)
                    strcat(joined, ",");
                strcat(joined, json_string_value(s));
            }
        } else {
            snprintf(joined, sizeof joined, "%s", json_string_value(sec));
        }
        char out[65];
        authc__email_token_hash(token, joined, out);
        assert_string_equal(out, hash);
        checked++;
    }
    assert_true(checked >= 4);
    json_decref(v);
    /* Spec §16: sha256hex("abc" + "secret"). */
    char out[65];
    authc__email_token_hash("abc", "secret", out);
    assert_string_equal(out, "a42178b773273f5c9f24387fbea546af537d08b8c06b23631e44878b9ce47f49");
}

/* ------------------------------------------------------------------ */
/* The link, as `${baseUrl}/callback/${id}?${new URLSearchParams({...})}`
 * prints it in Node 20. */

static void test_link_encoding(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    char tok[65];
    memset(tok, 0, sizeof tok);
    for (int i = 0; i < 32; i++)
        memcpy(tok + 2 * i, "0f", 2);
    char *l = authc__email_link(ar, "http://localhost:3000", "/auth", "email",
                                "http://localhost:3000/a b?x=1&y=\xC3\xBC~*()!'", tok, "a+b@example.com");
    assert_string_equal(l, "http://localhost:3000/auth/callback/email?callbackUrl=http%3A%2F%2Flocalhost%3A3000"
                           "%2Fa+b%3Fx%3D1%26y%3D%C3%BC%7E*%28%29%21%27&token=0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
                           "0f0f0f0f0f0f0f0f0f0f0f0f0f0f&email=a%2Bb%40example.com");
    l = authc__email_link(ar, "http://localhost:3000", "/auth", "email", "/", "t",
                          "\xE7\x94\xA8\xE6\x88\xB7@\xE4\xBE\x8B\xE5\xAD\x90.\xE4\xB8\xAD\xE5\x9B\xBD");
    assert_string_equal(l, "http://localhost:3000/auth/callback/email?callbackUrl=%2F&token=t&email="
                           "%E7%94%A8%E6%88%B7%40%E4%BE%8B%E5%AD%90.%E4%B8%AD%E5%9B%BD");
    /* Base path "/": no double slash. */
    l = authc__email_link(ar, "https://h", "", "magic", "https://h", "t", "a@b.c");
    assert_string_equal(l, "https://h/callback/magic?callbackUrl=https%3A%2F%2Fh&token=t&email=a%40b.c");
    authc_arena_free(ar);
}

static void test_client_key(void **state)
{
    (void)state;
    unsigned char k1[64], k2[64];
    size_t n1, n2;
    assert_int_equal(authc__email_client_key(NULL, k1), 0);
    assert_int_equal(authc__email_client_key("-", k1), 0);
    n1 = authc__email_client_key("192.0.2.7", k1);
    n2 = authc__email_client_key("::ffff:192.0.2.7", k2);
    assert_int_equal(n1, strlen("192.0.2.7"));
    assert_true(n1 == n2 && !memcmp(k1, k2, n1));
    /* Same /64 → same key; another /64 → another key. */
    n1 = authc__email_client_key("2001:db8:1:2:aaaa::1", k1);
    n2 = authc__email_client_key("2001:db8:1:2:bbbb::9", k2);
    assert_true(n1 == n2 && !memcmp(k1, k2, n1));
    n2 = authc__email_client_key("2001:db8:1:3::1", k2);
    assert_false(n1 == n2 && !memcmp(k1, k2, n1));
    n1 = authc__email_client_key("unix-socket", k1);
    assert_int_equal(n1, strlen("unix-socket"));
}

/* ------------------------------------------------------------------ */
/* The mail's words. */

static void test_compose(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    authc__theme t = {.brand_color = "#112233", .button_text = "red\"><script>"};
    char *subject, *text, *html;
    const char *url = "http://app.example.com:3000/auth/callback/email?callbackUrl=%2F&token=ab&email=a%40b.c";
    assert_int_equal(authc__email_compose(ar, &t, AUTHC__LANG_EN, "app.example.com:3000", url, 86400,
                                          &subject, &text, &html), AUTHC_OK);
    assert_string_equal(subject, "Sign in to app.example.com:3000");
    /* Auth.js's text first, then ours. */
    const char *head = "Sign in to app.example.com:3000\nhttp://app.example.com:3000/auth/callback/email?"
                       "callbackUrl=%2F&token=ab&email=a%40b.c\n\n";
    assert_memory_equal(text, head, strlen(head));
    assert_non_null(strstr(text, "expires in 24 hours"));
    /* In HTML the & of the query is escaped, the host carries zero-width
     * spaces, the bad colour is dropped, the good one used. */
    assert_non_null(strstr(html, "href=\"http://app.example.com:3000/auth/callback/email?callbackUrl=%2F&amp;token=ab&amp;email=a%40b.c\""));
    assert_null(strstr(html, "&token"));
    assert_non_null(strstr(html, "app&#8203;.example&#8203;.com:3000"));
    assert_null(strstr(html, "<script>"));
    assert_non_null(strstr(html, "#112233"));
    assert_int_equal(authc__email_compose(ar, NULL, AUTHC__LANG_ZH, "h.cn", url, 900, &subject, &text, &html),
                     AUTHC_OK);
    assert_string_equal(subject, "\xE7\x99\xBB\xE5\xBD\x95 h.cn"); /* 登录 h.cn */
    assert_non_null(strstr(text, "15 \xE5\x88\x86\xE9\x92\x9F"));   /* 15 分钟 */
    assert_non_null(strstr(html, "lang=\"zh-CN\""));
    authc_arena_free(ar);
}

static void test_duration(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    assert_string_equal(authc__email_duration(ar, AUTHC__LANG_EN, 86400), "24 hours");
    assert_string_equal(authc__email_duration(ar, AUTHC__LANG_EN, 3600), "1 hour");
    assert_string_equal(authc__email_duration(ar, AUTHC__LANG_EN, 900), "15 minutes");
    assert_string_equal(authc__email_duration(ar, AUTHC__LANG_EN, 60), "1 minute");
    assert_string_equal(authc__email_duration(ar, AUTHC__LANG_EN, 121), "3 minutes");
    assert_string_equal(authc__email_duration(ar, AUTHC__LANG_EN, 1), "1 second");
    assert_string_equal(authc__email_duration(ar, AUTHC__LANG_EN, 0), "1 second");
    assert_string_equal(authc__email_duration(ar, AUTHC__LANG_ZH, 7200), "2 \xE5\xB0\x8F\xE6\x97\xB6");
    authc_arena_free(ar);
}

static void test_pages(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    char *html;
    size_t len;
    assert_int_equal(authc__page_email_confirm(ar, NULL, AUTHC__LANG_EN, "http://h/auth/callback/email?token=a&email=x",
                                               "csrf\"tok", "<b>@x.y", &html, &len), AUTHC_OK);
    assert_int_equal(strlen(html), len);
    assert_non_null(strstr(html, "method=\"POST\" action=\"http://h/auth/callback/email?token=a&amp;email=x\""));
    assert_non_null(strstr(html, "name=\"csrfToken\" value=\"csrf&quot;tok\""));
    assert_non_null(strstr(html, "&lt;b&gt;@x.y"));
    assert_null(strstr(html, "<b>@"));
    assert_int_equal(authc__page_email_limited(ar, NULL, AUTHC__LANG_ZH, "http://h/auth/signin", 600, &html, &len),
                     AUTHC_OK);
    assert_non_null(strstr(html, "10 \xE5\x88\x86\xE9\x92\x9F")); /* 10 分钟 */
    assert_non_null(strstr(html, "href=\"http://h/auth/signin\""));
    /* One colour rule for every page: a brand colour the sign-in page
     * accepts is used here too, one it drops is dropped here too. */
    authc__theme t = {.brand_color = "rgb(10, 20, 30)", .button_text = "#fff"};
    assert_int_equal(authc__page_email_limited(ar, &t, AUTHC__LANG_EN, "http://h/auth/signin", 60, &html, &len),
                     AUTHC_OK);
    assert_non_null(strstr(html, "<style>:root{--brand-color:rgb(10, 20, 30);--button-text-color:#fff}</style>"));
    t.brand_color = "red;background:url(x)";
    assert_int_equal(authc__page_email_limited(ar, &t, AUTHC__LANG_EN, "http://h/auth/signin", 60, &html, &len),
                     AUTHC_OK);
    assert_null(strstr(html, "--brand-color:red"));
    assert_null(strstr(html, "url(x)"));
    authc_arena_free(ar);
}

/* ------------------------------------------------------------------ */
/* Configuration checks. */

static authc_err null_send(void *ud, const authc_email_message *m)
{
    (void)ud;
    (void)m;
    return AUTHC_OK;
}

static const authc_callbacks *g_callbacks; /* set by a test before fx_new */
static const char *g_store;                /* AUTHC_STORE for try_new, or NULL */

static authc *try_new(authc_adapter *ad, const authc_email_provider *p, char *err, size_t errlen)
{
    authc_config *cfg = authc_config_new();
    char e[256];
    if (g_callbacks)
        authc_config_set_callbacks(cfg, g_callbacks);
    authc_config_set(cfg, "secret", "unit-secret-0123456789abcdef0123456789", e, sizeof e);
    authc_config_set(cfg, "url", "http://localhost:3000/auth", e, sizeof e);
    if (g_store)
        authc_config_set(cfg, "store", g_store, e, sizeof e);
    if (ad)
        authc_config_set_adapter(cfg, ad);
    assert_int_equal(authc_config_add_email(cfg, p), AUTHC_OK);
    return authc_new(cfg, err, errlen);
}

static void test_config_checks(void **state)
{
    (void)state;
    char err[2048];
    authc_email_provider p = {.send = null_send};
    /* No adapter: refused, naming the setting. */
    assert_null(try_new(NULL, &p, err, sizeof err));
    assert_non_null(strstr(err, "MissingAdapter"));
    assert_non_null(strstr(err, "AUTHC_DATABASE"));

    authc_adapter *ad = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
    assert_non_null(ad);
    /* An adapter without the token methods. */
    authc_adapter crippled;
    authc_adapter_ops crippled_ops;
    authc_adapter_wrap(&crippled, &crippled_ops, ad);
    crippled_ops.use_verification_token = NULL;
    assert_null(try_new(&crippled, &p, err, sizeof err));
    assert_non_null(strstr(err, "useVerificationToken"));

    /* SMTP settings. */
    authc_email_provider s = {.server = "http://mail.example.com", .from = "a@b.c"};
    assert_null(try_new(ad, &s, err, sizeof err));
    assert_non_null(strstr(err, "smtp://"));
    s = (authc_email_provider){.server = "smtp://u:hunter2@mail.example.com", .allow_plain_loopback = true,
                               .from = "a@b.c"};
    assert_null(try_new(ad, &s, err, sizeof err));
    assert_non_null(strstr(err, "loopback"));
    assert_null(strstr(err, "hunter2"));
    s = (authc_email_provider){.server = "smtp://mail.example.com"};
    assert_null(try_new(ad, &s, err, sizeof err));
    assert_non_null(strstr(err, "AUTHC_EMAIL_FROM"));
    s = (authc_email_provider){.server = "smtp://mail.example.com", .from = "Bad <no at sign>"};
    assert_null(try_new(ad, &s, err, sizeof err));
    assert_non_null(strstr(err, "From"));
    authc_email_provider none = {0};
    assert_null(try_new(ad, &none, err, sizeof err));
    assert_non_null(strstr(err, "AUTHC_EMAIL=log"));

    /* Good ones. */
    s = (authc_email_provider){.server = "smtps://u:p%40ss@mail.example.com", .from = "Site <no-reply@example.com>"};
    authc *a = try_new(ad, &s, err, sizeof err);
    assert_non_null(a);
    authc_free(a);
    a = try_new(ad, &p, err, sizeof err);
    assert_non_null(a);
    authc_free(a);
    authc_adapter_close(ad);
}

/* ------------------------------------------------------------------ */
/* Whole flows through authc_handle, with a send hook as the mailbox. */

typedef struct mailbox {
    int n;
    char url[4096];
    char to[512];
    char subject[512];
    char lang[8];
    int64_t expires;
    authc_err fail_with; /* what the hook returns */
} mailbox;

static authc_err box_send(void *ud, const authc_email_message *m)
{
    mailbox *b = ud;
    b->n++;
    snprintf(b->url, sizeof b->url, "%s", m->url);
    snprintf(b->to, sizeof b->to, "%s", m->to);
    snprintf(b->subject, sizeof b->subject, "%s", m->subject);
    snprintf(b->lang, sizeof b->lang, "%s", m->lang);
    b->expires = m->expires;
    return b->fail_with;
}

typedef struct browser {
    tu_jar jar;
    const char *addr;
    const char *xff;  /* X-Forwarded-For, or NULL */
    const char *lang;
    bool json;
} browser;

static authc_response *go(const authc *a, browser *br, const char *method, const char *url, const char *body)
{
    authc_header hs[6];
    size_t n = 0;
    if (br->xff)
        hs[n++] = (authc_header){"X-Forwarded-For", br->xff};
    char ck[32768];
    hs[n++] = (authc_header){"Cookie", tu_jar_header(&br->jar, ck, sizeof ck)};
    hs[n++] = (authc_header){"Content-Type", "application/x-www-form-urlencoded"};
    if (br->lang)
        hs[n++] = (authc_header){"Accept-Language", br->lang};
    if (br->json)
        hs[n++] = (authc_header){"X-Auth-Return-Redirect", "1"};
    authc_request r = {.method = method, .url = url, .headers = hs, .nheaders = n, .body = body,
                       .body_len = body ? strlen(body) : 0, .client_addr = br->addr};
    authc_response *res = NULL;
    assert_int_equal(authc_handle(a, &r, &res), AUTHC_OK);
    tu_jar_update(&br->jar, res);
    return res;
}

static char *csrf(const authc *a, browser *br)
{
    authc_response *r = go(a, br, "GET", "/auth/csrf", NULL);
    char *b = tu_body(r);
    json_t *j = json_loads(b, 0, NULL);
    char *t = strdup(json_string_value(json_object_get(j, "csrfToken")));
    json_decref(j);
    free(b);
    authc_response_free(r);
    return t;
}

/* POSTs the sign-in form; returns the response (caller frees). */
static authc_response *request_link(const authc *a, browser *br, const char *email, const char *cb)
{
    char *t = csrf(a, br);
    char body[1024];
    snprintf(body, sizeof body, "csrfToken=%s&email=%s%s%s", t, email, cb ? "&callbackUrl=" : "", cb ? cb : "");
    free(t);
    return go(a, br, "POST", "/auth/signin/email", body);
}

static authc_response *confirm(const authc *a, browser *br, const char *link)
{
    char *t = csrf(a, br);
    char body[256];
    snprintf(body, sizeof body, "csrfToken=%s", t);
    free(t);
    return go(a, br, "POST", link, body);
}

static const char *loc(const authc_response *r)
{
    return authc_response_header(r, "Location");
}

typedef struct fixture {
    authc_adapter *ad;
    authc *a;
    mailbox box;
} fixture;

static fixture *fx_new(authc_email_provider p)
{
    fixture *f = calloc(1, sizeof *f);
    char err[1024];
    f->ad = authc_adapter_open("memory:", NULL, NULL, err, sizeof err);
    assert_non_null(f->ad);
    p.send = box_send;
    p.send_ud = &f->box;
    f->a = try_new(f->ad, &p, err, sizeof err);
    if (!f->a)
        fprintf(stderr, "%s\n", err);
    assert_non_null(f->a);
    return f;
}

static void fx_free(fixture *f)
{
    authc_free(f->a);
    authc_adapter_close(f->ad);
    free(f);
}

static void test_flow_confirm(void **state)
{
    (void)state;
    fixture *f = fx_new((authc_email_provider){0});
    browser br = {.addr = "192.0.2.1"};
    authc_response *r = request_link(f->a, &br, "Alice%40Example.COM", "%2Fdashboard");
    assert_int_equal(r->status, 302);
    assert_string_equal(loc(r), "http://localhost:3000/auth/verify-request?provider=email&type=email");
    authc_response_free(r);
    assert_int_equal(f->box.n, 1);
    assert_string_equal(f->box.to, "alice@example.com");
    assert_string_equal(f->box.subject, "Sign in to localhost:3000");
    const char *pre = "http://localhost:3000/auth/callback/email?callbackUrl=http%3A%2F%2Flocalhost%3A3000%2Fdashboard&token=";
    assert_memory_equal(f->box.url, pre, strlen(pre));
    assert_non_null(strstr(f->box.url, "&email=alice%40example.com"));
    int64_t now = (int64_t)time(NULL) * 1000;
    assert_true(f->box.expires > now + 86300 * 1000LL && f->box.expires < now + 86500 * 1000LL);

    /* The stored token is the hash, not the raw one. */
    const char *tp = strstr(f->box.url, "&token=") + 7;
    char token[65];
    snprintf(token, sizeof token, "%.*s", (int)strcspn(tp, "&"), tp);
    assert_int_equal(strlen(token), 64);
    authc_arena *ar = authc_arena_new();
    authc_verification_token *vt = NULL;
    assert_int_equal(f->ad->ops->use_verification_token(f->ad, ar, "alice@example.com", token, &vt), AUTHC_OK);
    assert_null(vt);

    /* A scanner (no cookies) GETs the link: a page, nothing consumed. */
    const char *link = f->box.url + strlen("http://localhost:3000");
    browser scanner = {0};
    for (int i = 0; i < 3; i++) {
        r = go(f->a, &scanner, "GET", link, NULL);
        assert_int_equal(r->status, 200);
        char *html = tu_body(r);
        /* The link's email is not verified until the POST: never shown. */
        assert_null(strstr(html, "alice@example.com"));
        assert_non_null(strstr(html, "name=\"csrfToken\""));
        assert_string_equal(authc_response_header(r, "Referrer-Policy"), "no-referrer");
        free(html);
        authc_response_free(r);
    }
    /* A POST without the CSRF token does not consume it either. */
    browser other = {0};
    r = go(f->a, &other, "POST", link, "");
    assert_int_equal(r->status, 302);
    assert_non_null(strstr(loc(r), "error=MissingCSRF"));
    authc_response_free(r);

    /* The person presses the button: signed in, sent to callbackUrl. */
    r = confirm(f->a, &br, link);
    assert_int_equal(r->status, 302);
    assert_string_equal(loc(r), "http://localhost:3000/dashboard");
    assert_non_null(tu_cookie_named(r, "authjs.session-token"));
    authc_response_free(r);
    r = go(f->a, &br, "GET", "/auth/session", NULL);
    char *s = tu_body(r);
    assert_non_null(strstr(s, "\"email\":\"alice@example.com\""));
    free(s);
    authc_response_free(r);
    /* The user exists now, with emailVerified. */
    authc_user *u = NULL;
    assert_int_equal(f->ad->ops->get_user_by_email(f->ad, ar, "alice@example.com", &u), AUTHC_OK);
    assert_non_null(u);
    assert_true(u->email_verified != AUTHC_NO_TIME);

    /* Second use: Verification. */
    tu_expect_location(confirm(f->a, &br, link), "http://localhost:3000/auth/error?error=Verification");
    /* A wrong token or another address: Verification too. */
    r = request_link(f->a, &br, "alice%40example.com", NULL);
    authc_response_free(r);
    char bad[4096];
    snprintf(bad, sizeof bad, "%s", f->box.url + strlen("http://localhost:3000"));
    char *em = strstr(bad, "&email=");
    snprintf(em, 64, "&email=mallory%%40example.com");
    tu_expect_location(confirm(f->a, &br, bad), "http://localhost:3000/auth/error?error=Verification");
    /* No token: Configuration. */
    tu_expect_location(go(f->a, &br, "GET", "/auth/callback/email?email=a%40b.c", NULL),
                       "http://localhost:3000/auth/error?error=Configuration");
    authc_arena_free(ar);
    fx_free(f);
}

static void test_flow_consume_on_get_and_expiry(void **state)
{
    (void)state;
    fixture *f = fx_new((authc_email_provider){.consume_on_get = true, .max_age = 1});
    browser br = {.addr = "192.0.2.2", .lang = "zh-CN,zh;q=0.9"};
    authc_response *r = request_link(f->a, &br, "bob%40example.com", NULL);
    authc_response_free(r);
    assert_string_equal(f->box.lang, "zh-CN");
    assert_non_null(strstr(f->box.subject, "\xE7\x99\xBB\xE5\xBD\x95"));
    char link[4096];
    snprintf(link, sizeof link, "%s", f->box.url + strlen("http://localhost:3000"));
    /* Auth.js behaviour: the GET signs in. */
    r = go(f->a, &br, "GET", link, NULL);
    assert_int_equal(r->status, 302);
    assert_string_equal(loc(r), "http://localhost:3000");
    authc_response_free(r);
    tu_expect_location(go(f->a, &br, "GET", link, NULL), "http://localhost:3000/auth/error?error=Verification");
    /* Expired (maxAge 1 s). */
    r = request_link(f->a, &br, "bob%40example.com", NULL);
    authc_response_free(r);
    snprintf(link, sizeof link, "%s", f->box.url + strlen("http://localhost:3000"));
    usleep(1100 * 1000);
    tu_expect_location(go(f->a, &br, "GET", link, NULL), "http://localhost:3000/auth/error?error=Verification");
    fx_free(f);
}

static void test_flow_send_failure(void **state)
{
    (void)state;
    fixture *f = fx_new((authc_email_provider){.per_address = {.max = 2}});
    f->box.fail_with = AUTHC_ERR_IO;
    browser br = {.addr = "192.0.2.3"};
    for (int i = 0; i < 4; i++) {
        /* Failures are not counted against the limit (4 > 2). */
        authc_response *r = request_link(f->a, &br, "carol%40example.com", NULL);
        assert_int_equal(r->status, 302);
        assert_string_equal(loc(r), "http://localhost:3000/auth/error?error=Configuration");
        assert_null(tu_cookie_named(r, "authjs.session-token"));
        authc_response_free(r);
    }
    /* The link that was never delivered does not work. */
    f->box.fail_with = AUTHC_OK;
    authc_response *r = confirm(f->a, &br, f->box.url + strlen("http://localhost:3000"));
    assert_string_equal(loc(r), "http://localhost:3000/auth/error?error=Verification");
    authc_response_free(r);
    fx_free(f);
}

static void test_flow_limits(void **state)
{
    (void)state;
    fixture *f = fx_new((authc_email_provider){.per_address = {.max = 2, .window = 600},
                                               .per_client = {.max = 3, .window = 600}});
    browser br = {.addr = "198.51.100.7"};
    authc_response *r;
    for (int i = 0; i < 2; i++) {
        tu_expect_status(request_link(f->a, &br, "dave%40example.com", NULL), 302);
    }
    /* Third mail to the same address: the limit page, in English. */
    r = request_link(f->a, &br, "DAVE%40example.com", NULL);
    assert_int_equal(r->status, 429);
    assert_non_null(authc_response_header(r, "Retry-After"));
    assert_true(atoi(authc_response_header(r, "Retry-After")) > 0);
    char *html = tu_body(r);
    assert_non_null(strstr(html, "Too many requests"));
    free(html);
    authc_response_free(r);
    assert_int_equal(f->box.n, 2);
    /* Same answer for an address that may or may not exist: the limit is
     * per address whatever the database holds. Another address from the
     * same client passes once (client limit 3: 2 + 1). */
    tu_expect_status(request_link(f->a, &br, "erin%40example.com", NULL), 302);
    tu_expect_status(request_link(f->a, &br, "frank%40example.com", NULL), 429);
    /* The JS client gets {url} (it cannot show a page). */
    br.json = true;
    r = request_link(f->a, &br, "gina%40example.com", NULL);
    assert_int_equal(r->status, 429);
    tu_assert_body(r, "{\"url\":\"http://localhost:3000/auth/signin?error=EmailSignin\"}");
    authc_response_free(r);
    /* Another client is not affected. */
    browser b2 = {.addr = "198.51.100.8"};
    tu_expect_status(request_link(f->a, &b2, "gina%40example.com", NULL), 302);
    fx_free(f);
}

/* Behind a trusted proxy each X-Forwarded-For client has its own bucket;
 * from an untrusted peer the header is ignored (the peer is the client). */
static void test_flow_limits_behind_proxy(void **state)
{
    (void)state;
    fixture *f = fx_new((authc_email_provider){0}); /* 20 per client */
    char xff[64], email[64];
    browser br = {.addr = "127.0.0.1", .xff = xff};
    for (int i = 0; i < 25; i++) {
        snprintf(xff, sizeof xff, "10.9.9.9, 198.51.100.%d", i + 1);
        snprintf(email, sizeof email, "p%d%%40example.com", i);
        authc_response *r = request_link(f->a, &br, email, NULL);
        assert_int_equal(r->status, 302);
        authc_response_free(r);
    }
    /* IPv6 clients share a bucket per /64. */
    browser v6 = {.addr = "::1", .xff = xff};
    int ok = 0;
    for (int i = 0; i < 25; i++) {
        snprintf(xff, sizeof xff, "2001:db8:7:7::%x", i + 1);
        snprintf(email, sizeof email, "s%d%%40example.com", i);
        authc_response *r = request_link(f->a, &v6, email, NULL);
        ok += r->status == 302;
        authc_response_free(r);
    }
    assert_int_equal(ok, 20);
    browser spoof = {.addr = "203.0.113.5", .xff = xff};
    ok = 0;
    for (int i = 0; i < 25; i++) {
        snprintf(xff, sizeof xff, "198.51.100.%d", 100 + i);
        snprintf(email, sizeof email, "q%d%%40example.com", i);
        authc_response *r = request_link(f->a, &spoof, email, NULL);
        ok += r->status == 302;
        authc_response_free(r);
    }
    assert_int_equal(ok, 20);
    fx_free(f);
}

/* A user with one passkey (credential id cid) and the given verification. */
static const char *user_with_passkey(fixture *f, authc_arena *ar, const char *email, int64_t verified,
                                     const char *cid)
{
    authc_user in = {.email = email, .email_verified = verified}, *u = NULL;
    assert_int_equal(f->ad->ops->create_user(f->ad, ar, &in, &u), AUTHC_OK);
    authc_authenticator au = {.credential_id = cid, .user_id = u->id, .provider_account_id = cid,
                              .credential_public_key = "cGs=", .credential_device_type = "singleDevice",
                              .transports = "internal"};
    assert_int_equal(f->ad->ops->create_authenticator(f->ad, ar, &au, NULL), AUTHC_OK);
    return u->id;
}

/* Signs in by email through the link; returns the new user's id (arena). */
static const char *email_sign_in(fixture *f, authc_arena *ar, const char *email_q, const char *email)
{
    browser br = {.addr = "192.0.2.60"};
    authc_response *r = request_link(f->a, &br, email_q, NULL);
    assert_int_equal(r->status, 302);
    authc_response_free(r);
    r = confirm(f->a, &br, f->box.url + strlen("http://localhost:3000"));
    assert_int_equal(r->status, 302);
    assert_non_null(tu_cookie_named(r, "authjs.session-token"));
    authc_response_free(r);
    authc_user *u = NULL;
    assert_int_equal(f->ad->ops->get_user_by_email(f->ad, ar, email, &u), AUTHC_OK);
    assert_non_null(u);
    assert_true(u->email_verified != AUTHC_NO_TIME);
    return u->id;
}

/* Passkey account pre-hijacking: a passkey registered (unauthenticated
 * sign-up) for an address nobody had verified does not survive the
 * owner's first email sign-in; a verified user's passkeys do. */
static void test_flow_passkey_prehijack(void **state)
{
    (void)state;
    fixture *f = fx_new((authc_email_provider){0});
    authc_arena *ar = authc_arena_new();
    const char *attacker = user_with_passkey(f, ar, "victim@example.com", AUTHC_NO_TIME, "YXR0YWNr");
    const char *owner = email_sign_in(f, ar, "victim%40example.com", "victim@example.com");
    assert_string_not_equal(owner, attacker);
    authc_authenticator *row = NULL;
    authc_err e = f->ad->ops->get_authenticator(f->ad, ar, "YXR0YWNr", &row);
    assert_true(e == AUTHC_ERR_NOT_FOUND || (e == AUTHC_OK && !row));
    size_t n = 9;
    authc_authenticator *list = NULL;
    assert_int_equal(f->ad->ops->list_authenticators_by_user_id(f->ad, ar, owner, &list, &n), AUTHC_OK);
    assert_int_equal(n, 0);

    /* Legitimate: a verified user keeps its passkey and its id. */
    const char *kept = user_with_passkey(f, ar, "kept@example.com", 1700000000000LL, "a2VwdA==");
    assert_string_equal(email_sign_in(f, ar, "kept%40example.com", "kept@example.com"), kept);
    assert_int_equal(f->ad->ops->get_authenticator(f->ad, ar, "a2VwdA==", &row), AUTHC_OK);
    assert_non_null(row);
    /* An unverified user without passkeys is verified in place (Auth.js). */
    authc_user in = {.email = "plain@example.com", .email_verified = AUTHC_NO_TIME}, *pu = NULL;
    assert_int_equal(f->ad->ops->create_user(f->ad, ar, &in, &pu), AUTHC_OK);
    assert_string_equal(email_sign_in(f, ar, "plain%40example.com", "plain@example.com"), pu->id);
    authc_arena_free(ar);
    fx_free(f);
}

/* Two instances sharing the store count together; a store that fails
 * refuses the mail (fail closed). */
static void test_flow_limits_shared(void **state)
{
    (void)state;
    g_store = "memory:email-limits";
    authc_email_provider lp = {.per_address = {.max = 2, .window = 600}};
    fixture *f = fx_new(lp);
    char err[1024];
    lp.send = box_send;
    lp.send_ud = &f->box;
    authc *b = try_new(f->ad, &lp, err, sizeof err);
    assert_non_null(b);
    browser br = {.addr = "203.0.113.9"};
    authc_response *r = request_link(f->a, &br, "hal%40example.com", NULL);
    assert_int_equal(r->status, 302);
    authc_response_free(r);
    tu_expect_status(request_link(b, &br, "hal%40example.com", NULL), 302);
    tu_expect_status(request_link(f->a, &br, "hal%40example.com", NULL), 429);
    authc_free(b);
    g_store = "redis://127.0.0.1:1/?timeout=100&connect_timeout=100";
    authc *down = try_new(f->ad, &lp, err, sizeof err);
    assert_non_null(down);
    size_t sent = f->box.n;
    r = request_link(down, &br, "ida%40example.com", NULL);
    assert_string_equal(loc(r), "http://localhost:3000/auth/error?error=Configuration");
    assert_int_equal(f->box.n, sent);
    authc_response_free(r);
    authc_free(down);
    g_store = NULL;
    fx_free(f);
}

static void test_flow_bad_input(void **state)
{
    (void)state;
    fixture *f = fx_new((authc_email_provider){0});
    browser br = {.addr = "192.0.2.9"};
    const char *bad[] = {"", "nobody", "a%40b%40c", "%22a%22%40b.c", "a%0D%0ARCPT%20TO%3A%3Cx%40y%3E%40b.c",
                         "a%3Cx%3E%40b.c", "a%2Cb%40c.com"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        authc_response *r = request_link(f->a, &br, bad[i], NULL);
        assert_string_equal(loc(r), "http://localhost:3000/auth/error?error=Configuration");
        authc_response_free(r);
    }
    assert_int_equal(f->box.n, 0);
    /* Without CSRF: MissingCSRF, nothing sent. */
    authc_response *r = go(f->a, &br, "POST", "/auth/signin/email", "email=a%40b.c");
    assert_non_null(strstr(loc(r), "error=MissingCSRF"));
    authc_response_free(r);
    assert_int_equal(f->box.n, 0);
    fx_free(f);
}

/* sign_in_email_request runs at the request step, sign_in at the link. */
static int n_request, n_signin;
static authc_err cb_request(void *ud, authc_arena *ar, const authc_user *u, const authc_account *acct,
                            const char **redirect)
{
    (void)ud; (void)ar; (void)redirect;
    n_request++;
    assert_string_equal(acct->type, "email");
    return strstr(u->email, "deny") ? AUTHC_ERR_ACCESS_DENIED : AUTHC_OK;
}
static authc_err cb_signin(void *ud, authc_arena *ar, const authc_user *u, const authc_account *acct,
                           const char **redirect)
{
    (void)ud; (void)ar; (void)u; (void)acct; (void)redirect;
    n_signin++;
    return AUTHC_OK;
}

static void test_flow_signin_callbacks(void **state)
{
    (void)state;
    authc_callbacks cb = {.sign_in = cb_signin, .sign_in_email_request = cb_request};
    g_callbacks = &cb;
    fixture *f = fx_new((authc_email_provider){.consume_on_get = true});
    g_callbacks = NULL;
    browser br = {.addr = "192.0.2.9"};
    authc_response *r = request_link(f->a, &br, "deny%40example.com", NULL);
    assert_string_equal(loc(r), "http://localhost:3000/auth/error?error=AccessDenied");
    authc_response_free(r);
    assert_int_equal(f->box.n, 0);
    assert_int_equal(n_request, 1);
    assert_int_equal(n_signin, 0);
    tu_expect_status(request_link(f->a, &br, "ok%40example.com", NULL), 302);
    assert_int_equal(f->box.n, 1);
    assert_int_equal(n_request, 2);
    assert_int_equal(n_signin, 0);
    tu_expect_status(go(f->a, &br, "GET", f->box.url + strlen("http://localhost:3000"), NULL), 302);
    assert_int_equal(n_request, 2);
    assert_int_equal(n_signin, 1);
    fx_free(f);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_normalize_table), cmocka_unit_test(test_normalize_rejects_bad_utf8),
        cmocka_unit_test(test_nfkc_idempotent), cmocka_unit_test(test_token_hash_vectors),
        cmocka_unit_test(test_link_encoding), cmocka_unit_test(test_client_key),
        cmocka_unit_test(test_compose), cmocka_unit_test(test_duration),
        cmocka_unit_test(test_pages), cmocka_unit_test(test_config_checks),
        cmocka_unit_test(test_flow_confirm), cmocka_unit_test(test_flow_consume_on_get_and_expiry),
        cmocka_unit_test(test_flow_send_failure), cmocka_unit_test(test_flow_limits),
        cmocka_unit_test(test_flow_limits_shared), cmocka_unit_test(test_flow_limits_behind_proxy),
        cmocka_unit_test(test_flow_passkey_prehijack),
        cmocka_unit_test(test_flow_bad_input), cmocka_unit_test(test_flow_signin_callbacks))

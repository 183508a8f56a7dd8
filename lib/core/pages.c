/* pages.c — renders the built-in sign-in, sign-out, verify-request and error
 * pages: self-contained HTML+CSS with Auth.js's structure, escaped, themed. */
#include <stdbool.h>
#include <string.h>

#include "core/pages_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

/* Hard cap on one rendered page; far above any sane configuration. */
#define PAGE_MAX (256u * 1024u)
/* Longest logo URL we accept; longer ones are ignored. */
#define LOGO_MAX 2048u

/* ------------------------------------------------------------------ */
/* Strings. Every user-visible word lives here, once per language. */

typedef struct page_strings {
    const char *html_lang;
    const char *title_signin, *title_signout, *title_verify, *title_error;
    const char *signin_with_pre, *signin_with_post; /* around the name */
    const char *email_label;
    const char *signout_heading, *signout_question, *signout_button;
    const char *verify_heading, *verify_text;
    const char *signin_link;
    const char *code_label;
} page_strings;

static const page_strings STR[2] = {
    [AUTHC__LANG_EN] = {
        .html_lang = "en",
        .title_signin = "Sign In",
        .title_signout = "Sign Out",
        .title_verify = "Verify Request",
        .title_error = "Error",
        .signin_with_pre = "Sign in with ",
        .signin_with_post = "",
        .email_label = "Email",
        .signout_heading = "Sign out",
        .signout_question = "Are you sure you want to sign out?",
        .signout_button = "Sign out",
        .verify_heading = "Check your email",
        .verify_text = "A sign in link has been sent to your email address.",
        .signin_link = "Sign in",
        .code_label = "Error code: ",
    },
    [AUTHC__LANG_ZH] = {
        .html_lang = "zh-CN",
        .title_signin = "登录",
        .title_signout = "退出登录",
        .title_verify = "验证请求",
        .title_error = "错误",
        .signin_with_pre = "使用 ",
        .signin_with_post = " 登录",
        .email_label = "邮箱",
        .signout_heading = "退出登录",
        .signout_question = "确定要退出登录吗？",
        .signout_button = "退出登录",
        .verify_heading = "请查收邮件",
        .verify_text = "登录链接已发送到你的邮箱。",
        .signin_link = "登录",
        .code_label = "错误代码：",
    },
};

/* Messages for ?error= on the sign-in page, keyed by the Auth.js code. */
enum { SM_DEFAULT, SM_RETRY, SM_NOT_LINKED, SM_EMAIL, SM_CREDENTIALS,
       SM_SESSION, SM_CSRF, SM__COUNT };

static const char *const SIGNIN_MSG[2][SM__COUNT] = {
    [AUTHC__LANG_EN] = {
        [SM_DEFAULT] = "Sign in failed. Please try again.",
        [SM_RETRY] = "Sign in did not work. Try again, or use a different account.",
        [SM_NOT_LINKED] = "This email address is already linked to another way of "
                          "signing in. To confirm it is you, sign in the same way "
                          "you did before.",
        [SM_EMAIL] = "We could not send the sign in email. Please try again.",
        [SM_CREDENTIALS] = "Sign in failed. Check that the details you entered "
                           "are correct.",
        [SM_SESSION] = "Please sign in to view this page.",
        [SM_CSRF] = "The sign in form had expired. Please try again.",
    },
    [AUTHC__LANG_ZH] = {
        [SM_DEFAULT] = "登录失败，请重试。",
        [SM_RETRY] = "登录未成功。请重试，或换一个账户登录。",
        [SM_NOT_LINKED] = "此邮箱已关联另一种登录方式。为确认是你本人，"
                          "请使用之前的方式登录。",
        [SM_EMAIL] = "无法发送登录邮件，请重试。",
        [SM_CREDENTIALS] = "登录失败，请检查你输入的信息是否正确。",
        [SM_SESSION] = "请登录后访问此页面。",
        [SM_CSRF] = "登录表单已过期，请重试。",
    },
};

static const struct { const char *code; int msg; } SIGNIN_ERRORS[] = {
    {"Signin", SM_RETRY},
    {"OAuthSignin", SM_RETRY},
    {"OAuthCallbackError", SM_RETRY},
    {"OAuthCreateAccount", SM_RETRY},
    {"EmailCreateAccount", SM_RETRY},
    {"Callback", SM_RETRY},
    {"OAuthAccountNotLinked", SM_NOT_LINKED},
    {"AccountNotLinked", SM_NOT_LINKED},
    {"EmailSignin", SM_EMAIL},
    {"CredentialsSignin", SM_CREDENTIALS},
    {"SessionRequired", SM_SESSION},
    {"MissingCSRF", SM_CSRF},
};

/* Error page rows. `code` is shown back only from this table, never from
 * the query, so ?error= cannot put arbitrary text on the page. */
typedef struct error_view {
    const char *code;          /* NULL = the default row */
    int status;
    bool signin_link;          /* else a link to the origin */
    const char *heading[2];
    const char *para1[2];
    const char *para2[2];      /* may be NULL */
} error_view;

static const error_view ERROR_VIEWS[] = {
    {"Configuration", 500, false,
     {"Server error", "服务器错误"},
     {"Sign in is not set up correctly on this site.",
      "本网站的登录配置有问题。"},
     {"Please try again later or contact the site's administrator.",
      "请稍后再试，或联系网站管理员。"}},
    {"AccessDenied", 403, true,
     {"Access denied", "拒绝访问"},
     {"You are not allowed to sign in with this account.",
      "此账户无权登录。"},
     {NULL, NULL}},
    {"Verification", 403, true,
     {"Unable to sign in", "无法登录"},
     {"This sign in link is no longer valid.", "此登录链接已失效。"},
     {"It may have been used already or it may have expired.",
      "它可能已被使用或已过期。"}},
    {"WebAuthnVerificationError", 200, false,
     {"Unable to sign in", "无法登录"},
     {"Your passkey could not be verified.", "无法验证你的通行密钥。"},
     {"Please go back and try again.", "请返回重试。"}},
    {"MissingCSRF", 200, false,
     {"Unable to sign in", "无法登录"},
     {"The sign in form had expired.", "登录表单已过期。"},
     {"Please go back and try again.", "请返回重试。"}},
    {"CredentialsSignin", 200, false,
     {"Unable to sign in", "无法登录"},
     {"Sign in failed. Check that the details you entered are correct.",
      "登录失败，请检查你输入的信息是否正确。"},
     {NULL, NULL}},
    {"OAuthCallbackError", 200, false,
     {"Unable to sign in", "无法登录"},
     {"Sign in did not work. Try again, or use a different account.",
      "登录未成功。请重试，或换一个账户登录。"},
     {NULL, NULL}},
    {"OAuthAccountNotLinked", 200, false,
     {"Unable to sign in", "无法登录"},
     {"This email address is already linked to another way of signing in.",
      "此邮箱已关联另一种登录方式。"},
     {"To confirm it is you, sign in the same way you did before.",
      "为确认是你本人，请使用之前的方式登录。"}},
    {"AccountNotLinked", 200, false,
     {"Unable to sign in", "无法登录"},
     {"This email address is already linked to another way of signing in.",
      "此邮箱已关联另一种登录方式。"},
     {"To confirm it is you, sign in the same way you did before.",
      "为确认是你本人，请使用之前的方式登录。"}},
};

static const error_view ERROR_DEFAULT = {
    NULL, 200, false,
    {"Error", "出错了"},
    {"Something went wrong.", "发生了错误。"},
    {NULL, NULL}};

/* ------------------------------------------------------------------ */
/* CSS: written for these pages; only system fonts, no url(), no @import,
 * so rendering never fetches anything. Class names follow Auth.js. */
static const char CSS[] =
    ":root{--border-width:1px;--border-radius:.5rem;--color-error:#c0392b;"
    "--color-info:#157efb;--brand-color:#346df1;--button-text-color:#fff}"
    ".__next-auth-theme-auto,.__next-auth-theme-light{color-scheme:light;"
    "--color-background:#ececec;--color-background-card:#fff;--color-text:#111;"
    "--color-primary:#444;--color-muted:#666;--color-control-border:#bbb;"
    "--color-separator:#ddd}"
    ".__next-auth-theme-dark{color-scheme:dark;--color-background:#161b22;"
    "--color-background-card:#0d1117;--color-text:#eee;--color-primary:#ccc;"
    "--color-muted:#999;--color-control-border:#555;--color-separator:#333}"
    "@media (prefers-color-scheme:dark){.__next-auth-theme-auto{color-scheme:dark;"
    "--color-background:#161b22;--color-background-card:#0d1117;--color-text:#eee;"
    "--color-primary:#ccc;--color-muted:#999;--color-control-border:#555;"
    "--color-separator:#333}}"
    "*,*::before,*::after{box-sizing:border-box}"
    "html,body{margin:0;padding:0;height:100%}"
    "body{background:var(--color-background);color:var(--color-text);"
    "font-family:ui-sans-serif,system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"Helvetica Neue\",Arial,\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\","
    "sans-serif;font-size:16px;line-height:1.5}"
    ".page{display:flex;align-items:center;justify-content:center;"
    "min-height:100%;padding:1rem}"
    ".signin,.signout,.verify-request,.page>.error{width:100%;max-width:24rem}"
    ".card{background:var(--color-background-card);border-radius:1rem;"
    "padding:1.75rem 2rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}"
    ".logo{display:block;max-width:10rem;max-height:5rem;margin:0 auto 1.25rem}"
    "h1{font-size:1.4rem;font-weight:600;margin:0 0 1rem;text-align:center}"
    "p{margin:.5rem 0}"
    ".signout p,.verify-request p,.page>.error p{text-align:center}"
    ".signin .error{background:var(--color-error);color:#fff;"
    "border-radius:var(--border-radius);padding:.6rem 1rem;margin:0 0 1.25rem;"
    "text-align:center}"
    ".signin .error p{margin:0}"
    ".provider+.provider{margin-top:.75rem}"
    "form{margin:0}"
    "label.section-header{display:block;font-weight:600;margin:0 0 .3rem}"
    "input{display:block;width:100%;margin:0 0 .9rem;padding:.6rem .75rem;"
    "font:inherit;color:var(--color-text);background:var(--color-background-card);"
    "border:var(--border-width) solid var(--color-control-border);"
    "border-radius:var(--border-radius)}"
    "input:focus{outline:2px solid var(--brand-color);outline-offset:1px}"
    "button,a.button{display:flex;align-items:center;justify-content:center;"
    "gap:.6rem;width:100%;min-height:2.75rem;margin:0;padding:.6rem 1rem;"
    "font:inherit;font-weight:600;text-decoration:none;cursor:pointer;"
    "border:var(--border-width) solid transparent;border-radius:var(--border-radius);"
    "background:var(--brand-color);color:var(--button-text-color)}"
    "button:hover,a.button:hover{filter:brightness(1.08)}"
    "button:focus-visible,a.button:focus-visible{outline:2px solid var(--color-info);"
    "outline-offset:2px}"
    ".provider .button{background:var(--color-background-card);color:var(--color-text);"
    "border-color:var(--provider-brand-color,var(--color-control-border))}"
    ".provider-logo{flex:none;color:var(--provider-brand-color,var(--color-primary))}"
    "hr{border:0;border-top:1px solid var(--color-separator);margin:1.5rem 0}"
    ".message{margin:0 0 1.25rem}"
    ".code{color:var(--color-muted);font-size:.85rem}"
    "a.site{color:var(--color-primary);font-weight:600}";

/* ------------------------------------------------------------------ */
/* Theme validation: a theme value reaches CSS or an attribute only when it
 * cannot break out of it. Anything else is ignored (treated as unset). */

static bool prefix_ci(const char *s, const char *pre)
{
    for (; *pre; s++, pre++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *pre)
            return false;
    }
    return true;
}

/* http(s) URL or a relative reference; never another scheme (javascript:,
 * data:), never scheme-relative, no controls/spaces/backslashes (browsers
 * strip or reinterpret those, which would defeat the scheme check). */
static bool logo_ok(const char *s)
{
    if (!authc__url_text_ok(s, LOGO_MAX))
        return false;
    if (prefix_ci(s, "https://") || prefix_ci(s, "http://"))
        return true;
    if (s[0] == '/' && s[1] == '/')
        return false;
    for (const char *p = s; *p && *p != '/' && *p != '?' && *p != '#'; p++)
        if (*p == ':')
            return false;
    return true;
}

/* The theme's colour scheme class suffix: "light", "dark" or "auto". Static. */
static const char *page_scheme(const authc__theme *t)
{
    const char *s = t ? t->color_scheme : NULL;
    if (s && (strcmp(s, "light") == 0 || strcmp(s, "dark") == 0))
        return s;
    return "auto";
}

/* Appends <style>:root{--brand-color:…;--button-text-color:…}</style> for
 * the theme's valid colours (nothing when neither is valid); the button
 * text colour only when with_button_text. */
static void theme_vars(authc__buf *b, const authc__theme *t, bool with_button_text)
{
    bool brand = t && authc__color_ok(t->brand_color);
    bool btext = with_button_text && t && authc__color_ok(t->button_text);
    if (!brand && !btext)
        return;
    /* Validated, so these cannot close the rule or the element; escaped
     * anyway as a second line of defence. */
    authc__buf_adds(b, "<style>:root{");
    if (brand) {
        authc__buf_adds(b, "--brand-color:");
        authc__buf_add_html(b, t->brand_color);
        if (btext)
            authc__buf_addc(b, ';');
    }
    if (btext) {
        authc__buf_adds(b, "--button-text-color:");
        authc__buf_add_html(b, t->button_text);
    }
    authc__buf_adds(b, "}</style>");
}

void authc__page_begin(authc__buf *b, const authc__theme *t, const char *html_lang,
                       const char *head_extra, const char *css, bool with_button_text,
                       const char *title)
{
    authc__buf_adds(b, "<!DOCTYPE html><html lang=\"");
    authc__buf_adds(b, html_lang);
    authc__buf_adds(b, "\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width, "
                       "initial-scale=1\">");
    authc__buf_adds(b, head_extra);
    authc__buf_adds(b, "<style>");
    authc__buf_adds(b, css);
    authc__buf_adds(b, "</style>");
    theme_vars(b, t, with_button_text);
    authc__buf_adds(b, "<title>");
    authc__buf_add_html(b, title);
    authc__buf_adds(b, "</title></head><body class=\"__next-auth-theme-");
    authc__buf_adds(b, page_scheme(t));
    authc__buf_adds(b, "\">");
}

/* ------------------------------------------------------------------ */
/* Rendering helpers. */

static void h(authc__buf *b, const char *s)
{
    authc__buf_add_html(b, s ? s : "");
}

static const page_strings *strs(authc__lang lang)
{
    return &STR[lang == AUTHC__LANG_ZH ? AUTHC__LANG_ZH : AUTHC__LANG_EN];
}

static int lang_idx(authc__lang lang)
{
    return lang == AUTHC__LANG_ZH ? 1 : 0;
}

/* Opens the document up to the page's root div. with_button_text: whether
 * the theme's button text colour applies (pages with buttons). */
static void open_page(authc__buf *b, const authc__theme *t, authc__lang lang,
                      const char *title, const char *root_class,
                      bool with_button_text)
{
    authc__page_begin(b, t, strs(lang)->html_lang, "", CSS, with_button_text, title);
    authc__buf_adds(b, "<div class=\"page\"><div class=\"");
    authc__buf_adds(b, root_class);
    authc__buf_adds(b, "\">");
}

static void add_logo(authc__buf *b, const authc__theme *t)
{
    if (!t || !logo_ok(t->logo))
        return;
    authc__buf_adds(b, "<img class=\"logo\" alt=\"Logo\" src=\"");
    h(b, t->logo);
    authc__buf_adds(b, "\">");
}

static authc_err close_page(authc__buf *b, char **html, size_t *len)
{
    authc__buf_adds(b, "</div></div></body></html>");
    return authc__buf_take(b, html, len);
}

/* Starts a page built around one card (sign-out, verify-request, error):
 * the document, then the card with the logo and the heading. */
static void open_card(authc__buf *b, authc_arena *ar, const authc__theme *t,
                      authc__lang lang, const char *title, const char *root_class,
                      bool with_button_text, const char *heading)
{
    authc__buf_init(b, ar, PAGE_MAX);
    open_page(b, t, lang, title, root_class, with_button_text);
    authc__buf_adds(b, "<div class=\"card\">");
    add_logo(b, t);
    authc__buf_adds(b, "<h1>");
    authc__buf_adds(b, heading);
    authc__buf_adds(b, "</h1>");
}

/* <p>text</p>; text is one of the fixed strings above (markup-free). */
static void para(authc__buf *b, const char *text)
{
    authc__buf_adds(b, "<p>");
    authc__buf_adds(b, text);
    authc__buf_adds(b, "</p>");
}

/* A paragraph holding one link of class cls, href and text escaped. */
static void link_para(authc__buf *b, const char *cls, const char *href, const char *text)
{
    authc__buf_adds(b, "<p><a class=\"");
    authc__buf_adds(b, cls);
    authc__buf_adds(b, "\" href=\"");
    h(b, href);
    authc__buf_adds(b, "\">");
    h(b, text);
    authc__buf_adds(b, "</a></p>");
}

static void hidden(authc__buf *b, const char *name, const char *value)
{
    authc__buf_adds(b, "<input type=\"hidden\" name=\"");
    authc__buf_adds(b, name);
    authc__buf_adds(b, "\" value=\"");
    h(b, value);
    authc__buf_adds(b, "\">");
}

/* Opens a form that POSTs to action with the CSRF token; form_id (when
 * not NULL) names it "<form_id>-form" as Auth.js's passkey form. */
static void post_form(authc__buf *b, const char *action, const char *form_id,
                      const char *csrf_token)
{
    authc__buf_adds(b, "<form action=\"");
    h(b, action);
    authc__buf_adds(b, "\" method=\"POST\"");
    if (form_id) {
        authc__buf_adds(b, " id=\"");
        h(b, form_id);
        authc__buf_adds(b, "-form\"");
    }
    authc__buf_addc(b, '>');
    hidden(b, "csrfToken", csrf_token);
}

static void signin_with(authc__buf *b, const page_strings *S, const char *name)
{
    authc__buf_adds(b, S->signin_with_pre);
    h(b, name);
    authc__buf_adds(b, S->signin_with_post);
}

/* The first character of the provider's name (a whole UTF-8 sequence),
 * ASCII letters upper-cased, as the glyph of a neutral inline logo. */
static void initial_of(const char *name, char out[5])
{
    const unsigned char *s = (const unsigned char *)(name ? name : "");
    size_t n = authc__utf8_next(s, strnlen((const char *)s, 4), NULL);
    if (n > 1) {
        memcpy(out, s, n);
        out[n] = '\0';
        return;
    }
    char c = (s[0] > 0x20 && s[0] < 0x7f) ? (char)s[0] : '?';
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    out[0] = c;
    out[1] = '\0';
}

/* A small inline SVG: a tinted disc with the provider's initial. No brand
 * artwork and no external image, so the page fetches nothing. */
static void provider_glyph(authc__buf *b, const char *name)
{
    char ini[5];
    initial_of(name, ini);
    authc__buf_adds(b, "<svg class=\"provider-logo\" width=\"24\" height=\"24\" "
                       "viewBox=\"0 0 24 24\" aria-hidden=\"true\" focusable=\"false\">"
                       "<circle cx=\"12\" cy=\"12\" r=\"11\" fill=\"currentColor\" "
                       "fill-opacity=\".18\" stroke=\"currentColor\" stroke-width=\"1.5\"/>"
                       "<text x=\"12\" y=\"16.5\" text-anchor=\"middle\" font-size=\"13\" "
                       "font-weight=\"700\" font-family=\"system-ui,sans-serif\" "
                       "fill=\"currentColor\">");
    h(b, ini);
    authc__buf_adds(b, "</text></svg>");
}

static bool is_form_part(authc__page_part part)
{
    return part == AUTHC__PART_EMAIL || part == AUTHC__PART_FIELDS || part == AUTHC__PART_PASSKEY;
}

static void oauth_form(authc__buf *b, const page_strings *S,
                       const authc__signin_page *p, const authc__page_provider *pr)
{
    post_form(b, pr->signin_url, NULL, p->csrf_token);
    if (p->callback_url && *p->callback_url)
        hidden(b, "callbackUrl", p->callback_url);
    authc__buf_adds(b, "<button type=\"submit\" class=\"button\"");
    if (authc__color_ok(pr->brand_color)) {
        authc__buf_adds(b, " style=\"--provider-brand-color:");
        h(b, pr->brand_color);
        authc__buf_addc(b, '"');
    }
    authc__buf_adds(b, ">");
    provider_glyph(b, pr->name);
    authc__buf_adds(b, "<span>");
    signin_with(b, S, pr->name);
    authc__buf_adds(b, "</span></button></form>");
}

/* The id Auth.js gives a provider's input: input-<field>-for-<provider>-provider. */
static void input_id(authc__buf *b, const char *field, const char *provider_id)
{
    authc__buf_adds(b, "input-");
    h(b, field);
    authc__buf_adds(b, "-for-");
    h(b, provider_id);
    authc__buf_adds(b, "-provider");
}

/* The label of that input. */
static void input_label(authc__buf *b, const char *field, const char *provider_id, const char *label)
{
    authc__buf_adds(b, "<label class=\"section-header\" for=\"");
    input_id(b, field, provider_id);
    authc__buf_adds(b, "\">");
    h(b, label);
    authc__buf_adds(b, "</label>");
}

static void email_form(authc__buf *b, const page_strings *S,
                       const authc__signin_page *p, const authc__page_provider *pr)
{
    post_form(b, pr->signin_url, NULL, p->csrf_token);
    input_label(b, "email", pr->id, S->email_label);
    authc__buf_adds(b, "<input id=\"");
    input_id(b, "email", pr->id);
    authc__buf_adds(b, "\" autofocus type=\"email\" name=\"email\"");
    if (p->email) {
        authc__buf_adds(b, " value=\"");
        h(b, p->email);
        authc__buf_addc(b, '"');
    }
    authc__buf_adds(b, " placeholder=\"email@example.com\" required>"
                       "<button id=\"submitButton\" type=\"submit\">");
    signin_with(b, S, pr->name);
    authc__buf_adds(b, "</button></form>");
}

/* One labelled input per field. data_attr marks WebAuthn form fields the
 * way Auth.js does (data-form-field) so a later script can find them. */
static void field_inputs(authc__buf *b, const authc__page_provider *pr, bool data_attr)
{
    for (size_t i = 0; pr->fields && i < pr->nfields; i++) {
        const authc_credentials_field *f = &pr->fields[i];
        const char *label = f->label ? f->label : f->name;
        const char *type = f->type && *f->type ? f->type : "text";
        authc__buf_adds(b, "<div>");
        input_label(b, f->name, pr->id, label);
        authc__buf_adds(b, "<input name=\"");
        h(b, f->name);
        authc__buf_adds(b, "\" id=\"");
        input_id(b, f->name, pr->id);
        authc__buf_adds(b, "\" type=\"");
        h(b, type);
        authc__buf_addc(b, '"');
        if (data_attr)
            authc__buf_adds(b, " data-form-field");
        authc__buf_adds(b, "></div>");
    }
}

static void credentials_form(authc__buf *b, const page_strings *S,
                             const authc__signin_page *p, const authc__page_provider *pr)
{
    /* Posts to the callback URL with no callbackUrl field: the cookie
     * carries it, as in Auth.js. */
    post_form(b, pr->callback_url, NULL, p->csrf_token);
    field_inputs(b, pr, false);
    authc__buf_adds(b, "<button id=\"submitButton\" type=\"submit\">");
    signin_with(b, S, pr->name);
    authc__buf_adds(b, "</button></form>");
}

/* ---- passkeys (webauthn) ------------------------------------------- */

/* The passkey ceremony, inline so the page needs nothing from a CDN. For
 * each "Create a passkey" button (data-passkey-register, tied to its form
 * by the form attribute) it wires the form: fetch /webauthn-options (the
 * form action with /callback/ replaced, plus the data-form-field inputs),
 * run navigator.credentials.create or .get with the base64url <->
 * ArrayBuffer conversions SimpleWebAuthn's browser library does (same JSON
 * out), then submit hidden `action` and `data` fields to the callback, as
 * Auth.js's page does. The form's own button lets the server decide
 * (register a new email, else sign in); the extra button asks to register
 * (adding a passkey when signed in). The first form also offers passkeys
 * in the browser's autofill (conditional UI) on its email field. */
static const char PASSKEY_JS[] =
    "(function(){'use strict';"
    "if(window.__authcPasskey)return;window.__authcPasskey=1;"
    "function enc(buf){var b=new Uint8Array(buf),s='';for(var i=0;i<b.length;i++)s+=String.fromCharCode(b[i]);"
    "return btoa(s).split('+').join('-').split('/').join('_').replace(/=+$/,'');}"
    "function dec(str){var s=String(str).split('-').join('+').split('_').join('/');while(s.length%4)s+='=';"
    "var bin=atob(s),out=new Uint8Array(bin.length);for(var i=0;i<bin.length;i++)out[i]=bin.charCodeAt(i);return out.buffer;}"
    "function desc(d){var o={id:dec(d.id),type:d.type||'public-key'};if(d.transports)o.transports=d.transports;return o;}"
    "var ctl=null;function signal(){if(ctl)ctl.abort();ctl=new AbortController();return ctl.signal;}"
    "function supported(){return !!(window.PublicKeyCredential&&navigator.credentials&&window.fetch);}"
    "function fields(form){return Array.prototype.slice.call(form.querySelectorAll('input[data-form-field]'));}"
    "function optionsUrl(form){var a=form.getAttribute('action'),i=a.lastIndexOf('/callback/');"
    "return new URL(a.slice(0,i)+'/webauthn-options/'+a.slice(i+10),location.href);}"
    "async function options(form,action){var u=optionsUrl(form);"
    "if(action)u.searchParams.append('action',action);"
    "fields(form).forEach(function(f){u.searchParams.append(f.name,f.value);});"
    "var r=await fetch(u,{credentials:'same-origin',headers:{Accept:'application/json'}});"
    "if(!r.ok){var e=new Error('webauthn-options answered '+r.status);e.status=r.status;throw e;}"
    "return r.json();}"
    "function ext(c){try{return c.getClientExtensionResults();}catch(e){return {};}}"
    "async function create(o){"
    "var pk=Object.assign({},o,{challenge:dec(o.challenge),"
    "user:Object.assign({},o.user,{id:new TextEncoder().encode(o.user.id)}),"
    "excludeCredentials:(o.excludeCredentials||[]).map(desc)});"
    "var c=await navigator.credentials.create({publicKey:pk,signal:signal()});"
    "if(!c)throw new Error('registration was not completed');"
    "var r=c.response,res={attestationObject:enc(r.attestationObject),clientDataJSON:enc(r.clientDataJSON)};"
    "if(typeof r.getTransports==='function')res.transports=r.getTransports();"
    "try{if(typeof r.getPublicKeyAlgorithm==='function')res.publicKeyAlgorithm=r.getPublicKeyAlgorithm();}catch(e){}"
    "try{if(typeof r.getPublicKey==='function'){var k=r.getPublicKey();if(k)res.publicKey=enc(k);}}catch(e){}"
    "try{if(typeof r.getAuthenticatorData==='function')res.authenticatorData=enc(r.getAuthenticatorData());}catch(e){}"
    "return {id:c.id,rawId:enc(c.rawId),response:res,type:c.type,clientExtensionResults:ext(c),"
    "authenticatorAttachment:c.authenticatorAttachment||undefined};}"
    "async function get(o,autofill){"
    "var pk=Object.assign({},o,{challenge:dec(o.challenge)});"
    "if(o.allowCredentials&&o.allowCredentials.length)pk.allowCredentials=o.allowCredentials.map(desc);"
    "else delete pk.allowCredentials;"
    "var req={publicKey:pk,signal:signal()};"
    "if(autofill){req.mediation='conditional';pk.allowCredentials=[];}"
    "var c=await navigator.credentials.get(req);"
    "if(!c)throw new Error('authentication was not completed');"
    "var r=c.response,res={authenticatorData:enc(r.authenticatorData),clientDataJSON:enc(r.clientDataJSON),"
    "signature:enc(r.signature)};"
    "if(r.userHandle)res.userHandle=new TextDecoder().decode(r.userHandle);"
    "return {id:c.id,rawId:enc(c.rawId),response:res,type:c.type,clientExtensionResults:ext(c),"
    "authenticatorAttachment:c.authenticatorAttachment||undefined};}"
    "function submit(form,action,data){"
    "['action','data'].forEach(function(n){var old=form.querySelector('input[type=hidden][name='+n+']');if(old)old.remove();});"
    "[['action',action],['data',JSON.stringify(data)]].forEach(function(kv){"
    "var i=document.createElement('input');i.type='hidden';i.name=kv[0];i.value=kv[1];form.appendChild(i);});"
    "HTMLFormElement.prototype.submit.call(form);}"
    "function say(w,key){if(w.status)w.status.textContent=key?(w.btn.getAttribute('data-msg-'+key)||''):'';}"
    "async function run(w,action){say(w,null);"
    "try{var res=await options(w.form,action);"
    "var data=res.action==='register'?await create(res.options):await get(res.options,false);"
    "submit(w.form,res.action,data);}"
    "catch(e){if(e&&e.name==='AbortError')return;console.error(e);"
    "say(w,e&&e.status===400?(action==='register'?'register':'email'):'failed');}}"
    "async function autofill(form){"
    "try{if(!PublicKeyCredential.isConditionalMediationAvailable||"
    "!(await PublicKeyCredential.isConditionalMediationAvailable()))return;"
    "if(!form.querySelector(\"input[autocomplete$='webauthn']\"))return;"
    "var res=await options(form,'authenticate');"
    "submit(form,'authenticate',await get(res.options,true));}"
    "catch(e){if(!e||e.name!=='AbortError')console.error(e);}}"
    "function init(){var first=null;"
    "Array.prototype.forEach.call(document.querySelectorAll('button[data-passkey-register]'),function(btn){"
    "var form=btn.form;if(!form)return;"
    "if(!supported()){form.style.display='none';btn.style.display='none';return;}"
    "var st=btn.nextElementSibling,w={form:form,btn:btn,"
    "status:st&&st.hasAttribute('data-passkey-status')?st:null};"
    /* Auth.js's passkey email field: autocomplete "username webauthn". */
    "fields(form).forEach(function(f){if(f.name==='email'&&!f.getAttribute('autocomplete'))"
    "f.setAttribute('autocomplete','username webauthn');});"
    "form.addEventListener('submit',function(ev){ev.preventDefault();run(w,undefined);});"
    "btn.addEventListener('click',function(ev){ev.preventDefault();run(w,'register');});"
    "if(!first)first=form;});"
    "if(first)autofill(first);}"
    "if(document.readyState==='loading')document.addEventListener('DOMContentLoaded',init);else init();"
    "})();";

static const struct {
    const char *create, *failed, *email, *register_;
} PASSKEY_MSG[2] = {
    {"Create a passkey",
     "The passkey could not be used. Try again, or use another passkey.",
     "Enter the email of your account, or leave it empty to pick a passkey.",
     "To add a passkey to an existing account, sign in first."},
    {"创建通行密钥",
     "无法使用该通行密钥。请重试，或换用其他通行密钥。",
     "请输入账户邮箱，或留空以选择通行密钥。",
     "要为已有账户添加通行密钥，请先登录。"},
};

static void webauthn_form(authc__buf *b, const page_strings *S,
                          const authc__signin_page *p, const authc__page_provider *pr)
{
    /* The form itself is Auth.js's (id <id>-form, csrfToken, the form
     * fields marked data-form-field); the script above drives it. */
    post_form(b, pr->callback_url, pr->id, p->csrf_token);
    field_inputs(b, pr, true);
    authc__buf_adds(b, "<button id=\"submitButton-");
    h(b, pr->id);
    authc__buf_adds(b, "\" type=\"submit\">");
    signin_with(b, S, pr->name);
    authc__buf_adds(b, "</button></form>");
    /* authc's addition: a "Create a passkey" button bound to the form (and
     * carrying the script's messages), a status line, the script. */
    int L = lang_idx(p->lang);
    authc__buf_adds(b, "<button type=\"button\" form=\"");
    h(b, pr->id);
    authc__buf_adds(b, "-form\" data-passkey-register data-msg-failed=\"");
    h(b, PASSKEY_MSG[L].failed);
    authc__buf_adds(b, "\" data-msg-email=\"");
    h(b, PASSKEY_MSG[L].email);
    authc__buf_adds(b, "\" data-msg-register=\"");
    h(b, PASSKEY_MSG[L].register_);
    authc__buf_adds(b, "\" style=\"margin-top:.5rem;background:transparent;color:var(--color-text);"
                       "border-color:var(--color-control-border)\">");
    authc__buf_adds(b, PASSKEY_MSG[L].create);
    authc__buf_adds(b, "</button><p data-passkey-status role=\"status\" aria-live=\"polite\" "
                       "style=\"color:var(--color-error);margin:.5rem 0 0\"></p><script>");
    authc__buf_adds(b, PASSKEY_JS);
    authc__buf_adds(b, "</script>");
}

/* ------------------------------------------------------------------ */
/* Pages. */

authc_err authc__page_signin(authc_arena *ar, const authc__signin_page *p,
                             char **html, size_t *len)
{
    if (!ar || !p || !html || !len || (p->nproviders && !p->providers))
        return AUTHC_ERR_INVALID;
    const page_strings *S = strs(p->lang);
    int L = lang_idx(p->lang);
    authc__buf b;
    authc__buf_init(&b, ar, PAGE_MAX);

    open_page(&b, p->theme, p->lang, S->title_signin, "signin", true);
    authc__buf_adds(&b, "<div class=\"card\">");
    if (p->error && *p->error) {
        int msg = SM_DEFAULT;
        for (size_t i = 0; i < sizeof SIGNIN_ERRORS / sizeof SIGNIN_ERRORS[0]; i++)
            if (strcmp(p->error, SIGNIN_ERRORS[i].code) == 0) {
                msg = SIGNIN_ERRORS[i].msg;
                break;
            }
        authc__buf_adds(&b, "<div class=\"error\"><p>");
        authc__buf_adds(&b, SIGNIN_MSG[L][msg]);
        authc__buf_adds(&b, "</p></div>");
    }
    add_logo(&b, p->theme);

    /* Only the types we can render take part, so separators follow what
     * the user actually sees. */
    const authc__page_provider *prev = NULL;
    for (size_t i = 0; i < p->nproviders; i++) {
        const authc__page_provider *pr = &p->providers[i];
        bool form = is_form_part(pr->part);
        if (!form && pr->part != AUTHC__PART_BUTTON)
            continue;
        /* Auth.js puts <hr/> before the first form-type provider that
         * follows an oauth one, and after every form-type provider that is
         * not last. */
        const authc__page_provider *next = NULL;
        for (size_t j = i + 1; j < p->nproviders && !next; j++)
            if (p->providers[j].part != AUTHC__PART_NONE)
                next = &p->providers[j];
        authc__buf_adds(&b, "<div class=\"provider\">");
        if (form && prev && !is_form_part(prev->part))
            authc__buf_adds(&b, "<hr/>");
        if (!form)
            oauth_form(&b, S, p, pr);
        else if (pr->part == AUTHC__PART_EMAIL)
            email_form(&b, S, p, pr);
        else if (pr->part == AUTHC__PART_FIELDS)
            credentials_form(&b, S, p, pr);
        else
            webauthn_form(&b, S, p, pr);
        if (form && next)
            authc__buf_adds(&b, "<hr/>");
        authc__buf_adds(&b, "</div>");
        prev = pr;
    }
    authc__buf_adds(&b, "</div>");
    return close_page(&b, html, len);
}

authc_err authc__page_signout(authc_arena *ar, const authc__theme *t,
                              authc__lang lang, const char *csrf_token,
                              const char *action_url, char **html, size_t *len)
{
    if (!ar || !html || !len)
        return AUTHC_ERR_INVALID;
    const page_strings *S = strs(lang);
    authc__buf b;
    open_card(&b, ar, t, lang, S->title_signout, "signout", true, S->signout_heading);
    para(&b, S->signout_question);
    post_form(&b, action_url, NULL, csrf_token);
    authc__buf_adds(&b, "<button id=\"submitButton\" type=\"submit\">");
    authc__buf_adds(&b, S->signout_button);
    authc__buf_adds(&b, "</button></form></div>");
    return close_page(&b, html, len);
}

authc_err authc__page_verify_request(authc_arena *ar, const authc__theme *t,
                                     authc__lang lang, const char *origin,
                                     const char *host, char **html, size_t *len)
{
    if (!ar || !html || !len)
        return AUTHC_ERR_INVALID;
    const page_strings *S = strs(lang);
    authc__buf b;
    open_card(&b, ar, t, lang, S->title_verify, "verify-request", false, S->verify_heading);
    para(&b, S->verify_text);
    if (origin && *origin)
        link_para(&b, "site", origin, host && *host ? host : origin);
    authc__buf_adds(&b, "</div>");
    return close_page(&b, html, len);
}

authc_err authc__page_error(authc_arena *ar, const authc__theme *t,
                            authc__lang lang, const char *error,
                            const char *origin, const char *signin_url,
                            char **html, size_t *len, int *status)
{
    if (!ar || !html || !len || !status)
        return AUTHC_ERR_INVALID;
    const error_view *v = &ERROR_DEFAULT;
    for (size_t i = 0; error && i < sizeof ERROR_VIEWS / sizeof ERROR_VIEWS[0]; i++)
        if (strcmp(error, ERROR_VIEWS[i].code) == 0) {
            v = &ERROR_VIEWS[i];
            break;
        }
    *status = v->status;

    const page_strings *S = strs(lang);
    int L = lang_idx(lang);
    authc__buf b;
    open_card(&b, ar, t, lang, S->title_error, "error", true, v->heading[L]);
    authc__buf_adds(&b, "<div class=\"message\">");
    para(&b, v->para1[L]);
    if (v->para2[L])
        para(&b, v->para2[L]);
    if (v->code) {
        authc__buf_adds(&b, "<p class=\"code\">");
        authc__buf_adds(&b, S->code_label);
        authc__buf_adds(&b, v->code);
        authc__buf_adds(&b, "</p>");
    }
    authc__buf_adds(&b, "</div>");
    if (v->signin_link && signin_url && *signin_url) {
        link_para(&b, "button", signin_url, S->signin_link);
    } else if (origin && *origin) {
        /* Host = the origin without its scheme, as URL.host would give. */
        const char *sep = strstr(origin, "://");
        link_para(&b, "site", origin, sep && sep[3] ? sep + 3 : origin);
    }
    authc__buf_adds(&b, "</div>");
    return close_page(&b, html, len);
}

/* email_pages.c — the email provider's words and markup: the sign-in mail
 * (text + HTML), the confirm page and the limit page, in English and 简体中文. */
#include <stdbool.h>
#include <string.h>

#include "providers/email_pages_int.h"
#include "util/parse_int.h"
#include "util/util_int.h"

#define PAGE_MAX (128u * 1024u)
#define MAIL_PART_MAX (64u * 1024u)

typedef struct email_strings {
    const char *html_lang[2];
    const char *subject_pre[2], *subject_post[2];        /* around the host */
    const char *expires_pre[2], *expires_post[2];        /* around the duration */
    const char *ignore[2];
    const char *button[2];
    const char *copy_link[2];
    const char *confirm_title[2], *confirm_heading[2];
    const char *confirm_as_pre[2], *confirm_as_post[2];  /* around the address */
    const char *confirm_plain[2];                        /* without an address */
    const char *confirm_button[2], *confirm_note[2];
    const char *limit_title[2], *limit_heading[2];
    const char *limit_text_pre[2], *limit_text_post[2];  /* around the duration */
    const char *back[2];
    const char *unit_hour[2], *unit_hours[2], *unit_minute[2], *unit_minutes[2];
    const char *unit_second[2], *unit_seconds[2];
} email_strings;

/* Every word of the mail and the pages, each as {English, 简体中文}
 * (indexed by lang_idx()). */
static const email_strings STR = {
    .html_lang = {"en", "zh-CN"},
    .subject_pre = {"Sign in to ", "登录 "},
    .subject_post = {"", ""},
    .expires_pre = {"This link can be used once and expires in ", "此链接只能使用一次，将在 "},
    .expires_post = {".", "后失效。"},
    .ignore = {"If you did not request this email you can safely ignore it.",
               "如果你没有请求此邮件，可以放心忽略。"},
    .button = {"Sign in", "登录"},
    .copy_link = {"If the button does not work, copy this link into your browser:",
                  "如果按钮无法使用，请将此链接复制到浏览器中打开："},
    .confirm_title = {"Sign In", "登录"},
    .confirm_heading = {"Sign in", "登录"},
    .confirm_as_pre = {"Continue signing in as ", "以 "},
    .confirm_as_post = {"?", " 的身份继续登录？"},
    .confirm_plain = {"Continue signing in?", "继续登录？"},
    .confirm_button = {"Sign in", "登录"},
    .confirm_note = {"This extra step keeps mail scanners that open links from using yours.",
                     "多这一步，可防止会打开链接的邮件扫描程序用掉你的登录链接。"},
    .limit_title = {"Too Many Requests", "请求过于频繁"},
    .limit_heading = {"Too many requests", "请求过于频繁"},
    .limit_text_pre = {"Too many sign in emails were requested. Please try again in ",
                       "登录邮件请求次数过多，请在 "},
    .limit_text_post = {".", "后重试。"},
    .back = {"Back to sign in", "返回登录"},
    .unit_hour = {" hour", " 小时"},
    .unit_hours = {" hours", " 小时"},
    .unit_minute = {" minute", " 分钟"},
    .unit_minutes = {" minutes", " 分钟"},
    .unit_second = {" second", " 秒"},
    .unit_seconds = {" seconds", " 秒"},
};

static int lang_idx(authc__lang lang)
{
    return lang == AUTHC__LANG_ZH ? 1 : 0;
}

const char *authc__email_duration(authc_arena *ar, authc__lang lang, int64_t sec)
{
    int L = lang_idx(lang);
    if (sec < 1)
        sec = 1;
    int64_t n;
    const char *one, *many;
    if (sec >= 7200 && sec % 3600 == 0) {
        n = sec / 3600;
        one = STR.unit_hour[L];
        many = STR.unit_hours[L];
    } else if (sec >= 3600 && sec % 3600 == 0) {
        n = 1;
        one = many = STR.unit_hour[L];
    } else if (sec >= 120 || (sec >= 60 && sec % 60 == 0)) {
        n = (sec + 59) / 60;
        one = STR.unit_minute[L];
        many = STR.unit_minutes[L];
    } else {
        n = sec;
        one = STR.unit_second[L];
        many = STR.unit_seconds[L];
    }
    return authc_arena_printf(ar, "%lld%s", (long long)n, n == 1 ? one : many);
}

/* ---- the mail ------------------------------------------------------------ */

authc_err authc__email_compose(authc_arena *ar, const authc__theme *t, authc__lang lang,
                               const char *host, const char *url, int64_t max_age_sec,
                               char **subject, char **text, char **html)
{
    int L = lang_idx(lang);
    const char *dur = authc__email_duration(ar, lang, max_age_sec);
    *subject = authc_arena_printf(ar, "%s%s%s", STR.subject_pre[L], host, STR.subject_post[L]);
    /* Auth.js's text starts "Sign in to <host>\n<url>\n\n"; ours keeps
     * that and adds the expiry and the "ignore" line. */
    *text = authc_arena_printf(ar, "%s%s%s\n%s\n\n%s%s%s\n%s\n", STR.subject_pre[L], host,
                               STR.subject_post[L], url, STR.expires_pre[L], dur ? dur : "",
                               STR.expires_post[L], STR.ignore[L]);
    if (!dur || !*subject || !*text)
        return AUTHC_ERR_NOMEM;

    const char *brand = t && authc__color_ok(t->brand_color) ? t->brand_color : "#346df1";
    const char *btext = t && authc__color_ok(t->button_text) ? t->button_text : "#fff";
    authc__buf b;
    authc__buf_init(&b, ar, MAIL_PART_MAX);
    authc__buf_adds(&b, "<!DOCTYPE html><html lang=\"");
    authc__buf_adds(&b, STR.html_lang[L]);
    authc__buf_adds(&b, "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
                        "content=\"width=device-width, initial-scale=1\"></head>"
                        "<body style=\"background:#f9f9f9;margin:0;padding:20px 0\">"
                        "<table width=\"100%\" border=\"0\" cellspacing=\"20\" cellpadding=\"0\" "
                        "style=\"background:#fff;max-width:600px;margin:auto;border-radius:10px\">"
                        "<tr><td align=\"center\" style=\"padding:10px 0;font-size:22px;"
                        "font-family:Helvetica,Arial,'PingFang SC','Microsoft YaHei',sans-serif;color:#444\">");
    authc__buf_add_html(&b, STR.subject_pre[L]);
    /* Zero-width spaces keep mail clients from turning the host into a
     * link of its own (as Auth.js does). */
    authc__buf_adds(&b, "<strong>");
    for (const char *p = host; *p; p++) {
        if (*p == '.') {
            authc__buf_adds(&b, "&#8203;.");
        } else {
            char one[2] = {*p, 0};
            authc__buf_add_html(&b, one);
        }
    }
    authc__buf_adds(&b, "</strong>");
    authc__buf_add_html(&b, STR.subject_post[L]);
    authc__buf_adds(&b, "</td></tr><tr><td align=\"center\" style=\"padding:20px 0\">"
                        "<table border=\"0\" cellspacing=\"0\" cellpadding=\"0\"><tr>"
                        "<td align=\"center\" style=\"border-radius:5px\" bgcolor=\"");
    authc__buf_add_html(&b, brand);
    authc__buf_adds(&b, "\"><a href=\"");
    authc__buf_add_html(&b, url);
    authc__buf_adds(&b, "\" target=\"_blank\" style=\"font-size:18px;font-family:Helvetica,Arial,"
                        "sans-serif;color:");
    authc__buf_add_html(&b, btext);
    authc__buf_adds(&b, ";text-decoration:none;border-radius:5px;padding:10px 20px;border:1px solid ");
    authc__buf_add_html(&b, brand);
    authc__buf_adds(&b, ";display:inline-block;font-weight:bold\">");
    authc__buf_add_html(&b, STR.button[L]);
    authc__buf_adds(&b, "</a></td></tr></table></td></tr>"
                        "<tr><td align=\"center\" style=\"padding:0 0 10px;font-size:16px;line-height:22px;"
                        "font-family:Helvetica,Arial,sans-serif;color:#444\">");
    authc__buf_add_html(&b, STR.expires_pre[L]);
    authc__buf_add_html(&b, dur);
    authc__buf_add_html(&b, STR.expires_post[L]);
    authc__buf_adds(&b, "<br>");
    authc__buf_add_html(&b, STR.ignore[L]);
    authc__buf_adds(&b, "</td></tr><tr><td align=\"center\" style=\"padding:0 10px 10px;font-size:12px;"
                        "line-height:18px;font-family:Helvetica,Arial,sans-serif;color:#777;"
                        "word-break:break-all\">");
    authc__buf_add_html(&b, STR.copy_link[L]);
    authc__buf_adds(&b, "<br>");
    authc__buf_add_html(&b, url);
    authc__buf_adds(&b, "</td></tr></table></body></html>\n");
    return authc__buf_take(&b, html, NULL);
}

/* ---- pages --------------------------------------------------------------- */

/* A compact stylesheet in the look of the built-in pages: system fonts,
 * no external fetch. */
static const char CSS[] =
    ":root{--brand-color:#346df1;--button-text-color:#fff}"
    "body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;"
    "padding:1rem;box-sizing:border-box;font-size:16px;line-height:1.5;"
    "font-family:ui-sans-serif,system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\","
    "Arial,\"PingFang SC\",\"Microsoft YaHei\",\"Noto Sans CJK SC\",sans-serif;"
    "background:#ececec;color:#111}"
    "@media (prefers-color-scheme:dark){body.__next-auth-theme-auto{background:#161b22;color:#eee}"
    "body.__next-auth-theme-auto .card{background:#0d1117}"
    "body.__next-auth-theme-auto .note{color:#999}}"
    "body.__next-auth-theme-dark{background:#161b22;color:#eee}"
    "body.__next-auth-theme-dark .card{background:#0d1117}"
    ".card{width:100%;max-width:24rem;background:#fff;border-radius:1rem;padding:1.75rem 2rem;"
    "box-shadow:0 1px 4px rgba(0,0,0,.12);box-sizing:border-box}"
    "h1{font-size:1.4rem;font-weight:600;margin:0 0 1rem;text-align:center}"
    "p{margin:.5rem 0 1rem;text-align:center;overflow-wrap:anywhere}"
    ".note{color:#666;font-size:.85rem;margin:1rem 0 0}"
    "form{margin:0}"
    "button,a.button{display:flex;align-items:center;justify-content:center;width:100%;"
    "min-height:2.75rem;margin:0;padding:.6rem 1rem;font:inherit;font-weight:600;"
    "text-decoration:none;cursor:pointer;border:1px solid transparent;border-radius:.5rem;"
    "background:var(--brand-color);color:var(--button-text-color);box-sizing:border-box}"
    "button:hover,a.button:hover{filter:brightness(1.08)}";

/* Starts a page: the document, then its card (class "card <root>") and
 * the heading. */
static void open_page(authc__buf *b, authc_arena *ar, const authc__theme *t,
                      int L, const char *title, const char *root,
                      const char *heading)
{
    authc__buf_init(b, ar, PAGE_MAX);
    authc__page_begin(b, t, STR.html_lang[L], "<meta name=\"robots\" content=\"noindex\">", CSS,
                      true, title);
    authc__buf_adds(b, "<div class=\"card ");
    authc__buf_adds(b, root);
    authc__buf_adds(b, "\"><h1>");
    authc__buf_add_html(b, heading);
    authc__buf_adds(b, "</h1>");
}

static authc_err close_page(authc__buf *b, char **html, size_t *len)
{
    authc__buf_adds(b, "</div></body></html>");
    return authc__buf_take(b, html, len);
}

authc_err authc__page_email_confirm(authc_arena *ar, const authc__theme *t, authc__lang lang,
                                    const char *action_url, const char *csrf_token,
                                    const char *email, char **html, size_t *len)
{
    int L = lang_idx(lang);
    authc__buf b;
    open_page(&b, ar, t, L, STR.confirm_title[L], "email-confirm", STR.confirm_heading[L]);
    authc__buf_adds(&b, "<p>");
    if (email && *email) {
        authc__buf_add_html(&b, STR.confirm_as_pre[L]);
        authc__buf_adds(&b, "<strong>");
        authc__buf_add_html(&b, email);
        authc__buf_adds(&b, "</strong>");
        authc__buf_add_html(&b, STR.confirm_as_post[L]);
    } else {
        authc__buf_add_html(&b, STR.confirm_plain[L]);
    }
    authc__buf_adds(&b, "</p><form method=\"POST\" action=\"");
    authc__buf_add_html(&b, action_url);
    authc__buf_adds(&b, "\"><input type=\"hidden\" name=\"csrfToken\" value=\"");
    authc__buf_add_html(&b, csrf_token);
    authc__buf_adds(&b, "\"><button type=\"submit\">");
    authc__buf_add_html(&b, STR.confirm_button[L]);
    authc__buf_adds(&b, "</button></form><p class=\"note\">");
    authc__buf_add_html(&b, STR.confirm_note[L]);
    authc__buf_adds(&b, "</p>");
    return close_page(&b, html, len);
}

authc_err authc__page_email_limited(authc_arena *ar, const authc__theme *t, authc__lang lang,
                                    const char *signin_url, int64_t retry_after_sec,
                                    char **html, size_t *len)
{
    int L = lang_idx(lang);
    const char *dur = authc__email_duration(ar, lang, retry_after_sec);
    if (!dur)
        return AUTHC_ERR_NOMEM;
    authc__buf b;
    open_page(&b, ar, t, L, STR.limit_title[L], "email-limit", STR.limit_heading[L]);
    authc__buf_adds(&b, "<p>");
    authc__buf_add_html(&b, STR.limit_text_pre[L]);
    authc__buf_add_html(&b, dur);
    authc__buf_add_html(&b, STR.limit_text_post[L]);
    authc__buf_adds(&b, "</p><a class=\"button\" href=\"");
    authc__buf_add_html(&b, signin_url);
    authc__buf_adds(&b, "\">");
    authc__buf_add_html(&b, STR.back[L]);
    authc__buf_adds(&b, "</a>");
    return close_page(&b, html, len);
}

/* fuzz_smtp.c — outbound mail parsing and building (lib/util/smtp.c): SMTP
 * server URLs, From mailboxes, addresses, and the MIME message (no header
 * injection, CRLF lines only, the password never in an error). SMTP server
 * replies are parsed by libcurl, not by authc. */
#include "fuzz.h"
#include "util/parse_int.h"
#include "util/smtp_int.h"

#define PW "Pw-4f7a1c9e"

static void check_message(const char *m, size_t n)
{
    bool in_headers = true;
    size_t subjects = 0, line = 0;
    for (size_t i = 0; i < n; i++) {
        char c = m[i];
        if (c == '\r') {
            FUZZ_CHECK(i + 1 < n && m[i + 1] == '\n', "bare CR at %zu", i);
            if (line == 0)
                in_headers = false;
            line = 0;
            i++;
            continue;
        }
        FUZZ_CHECK(c != '\n', "bare LF at %zu", i);
        FUZZ_CHECK(c != '\0', "NUL in the message");
        if (line == 0 && in_headers) {
            FUZZ_CHECK(c == ' ' || c == '\t' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'),
                       "a header line starts with 0x%02x", (unsigned char)c);
            if (!strncmp(m + i, "Subject:", 8))
                subjects++;
            FUZZ_CHECK(strncasecmp(m + i, "Bcc:", 4) && strncasecmp(m + i, "Cc:", 3), "injected header");
        }
        line++;
        FUZZ_CHECK(line <= 998, "line over 998 bytes");
    }
    FUZZ_CHECK(subjects == 1, "%zu Subject lines", subjects);
}

/* Input: byte 0 picks what to parse; fields of the rest are split at NUL. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    s[size] = '\0';
    const char *f[4] = {s, "", "", ""};
    for (int i = 1, k = 0; i < 4; i++) { /* NUL-separated fields */
        size_t l = strlen(f[i - 1]);
        k += (int)l + 1;
        if ((size_t)k < size - 1)
            f[i] = s + k;
        else
            break;
    }
    switch (data[0] % 3) {
    case 0: {
        authc__smtp cfg;
        char err[256];
        memset(&cfg, 0, sizeof cfg);
        /* The password override, when a second field is given, is a marker
         * that must never reach err; so must one in the URL's userinfo. */
        authc_err e = authc__smtp_parse(f[0], NULL, f[1][0] ? PW : NULL, data[0] & 4, &cfg, err, sizeof err);
        const char *sch = strstr(f[0], "://"), *at = sch ? strchr(sch, '@') : NULL;
        const char *mark = sch ? strstr(sch, ":" PW) : NULL;
        bool in_userinfo = mark && at && mark < at && !strchr(at + 1, '@') &&
                           !memchr(sch + 3, '/', (size_t)(at - sch - 3));
        if (e != AUTHC_OK && (f[1][0] || in_userinfo))
            FUZZ_CHECK(!strstr(err, PW), "the password is in the error: %s", err);
        if (e == AUTHC_OK) {
            FUZZ_CHECK(cfg.curl_url && !strchr(cfg.curl_url, '@'), "userinfo left in the curl URL");
            FUZZ_CHECK(!(data[0] & 4) || !cfg.plain || authc__host_is_loopback(cfg.host),
                       "plain SMTP to a non-loopback host");
            authc__smtp_clear(&cfg);
        }
        break;
    }
    case 1: {
        char *display = NULL, *addr = NULL;
        if (authc__mailbox_parse(f[0], &display, &addr) == AUTHC_OK) {
            FUZZ_CHECK(addr && authc__mail_addr_ok(addr), "mailbox address not acceptable");
            for (const char *p = display; p && *p; p++)
                FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, "control byte in the display name");
        }
        free(display);
        free(addr);
        (void)authc__mail_addr_ok(f[0]);
        break;
    }
    default: {
        authc_arena *ar = authc_arena_new();
        authc__mail m = {.from_display = f[3][0] ? f[3] : NULL, .from_addr = "noreply@example.com",
                         .to = "user@example.com", .subject = f[0], .text = f[1], .html = f[2],
                         .date_ms = 1800000000000LL, .boundary = "b0undary", .message_id = "id@example.com"};
        char *display = NULL, *addr = NULL;
        /* A display name only as the From parser would let it through. */
        if (m.from_display) {
            char *from = malloc(strlen(f[3]) + 32);
            sprintf(from, "%s <noreply@example.com>", f[3]);
            if (authc__mailbox_parse(from, &display, &addr) == AUTHC_OK)
                m.from_display = display;
            else
                m.from_display = NULL;
            free(from);
        }
        char *out = NULL;
        size_t n = 0;
        if (authc__mime_build(ar, &m, &out, &n) == AUTHC_OK)
            check_message(out, n);
        free(display);
        free(addr);
        authc_arena_free(ar);
        break;
    }
    }
    free(s);
    return 0;
}

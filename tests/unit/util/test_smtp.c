/* test_email_smtp.c — unit tests of outbound mail: SMTP URL settings, the
 * From/To checks, the MIME message, and libcurl against a fake SMTP peer. */
#include "cmocka_main.h"
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "authc.h"
#include "util/parse_int.h"
#include "util/smtp_int.h"
#include "util/util_int.h"

/* ------------------------------------------------------------------ */
/* URL settings. */

static void test_parse_ok(void **state)
{
    (void)state;
    char err[256];
    authc__smtp s;
    assert_int_equal(authc__smtp_parse("smtp://mail.example.com", NULL, NULL, false, &s, err, sizeof err), AUTHC_OK);
    assert_string_equal(s.curl_url, "smtp://mail.example.com:587");
    assert_false(s.implicit_tls);
    assert_false(s.plain);
    assert_null(s.user);
    authc__smtp_clear(&s);

    assert_int_equal(authc__smtp_parse("SMTPS://us%40er:p%3Ass%25@Mail.Example.com:2465/client.example.org",
                                       NULL, NULL, false, &s, err, sizeof err), AUTHC_OK);
    assert_string_equal(s.curl_url, "smtps://mail.example.com:2465/client.example.org");
    assert_true(s.implicit_tls);
    assert_string_equal(s.user, "us@er");
    assert_string_equal(s.password, "p:ss%");
    assert_int_equal(s.port, 2465);
    authc__smtp_clear(&s);

    /* Overrides win; plain only to loopback. */
    assert_int_equal(authc__smtp_parse("smtp://a:b@127.0.0.1:2525", "x", "y", true, &s, err, sizeof err), AUTHC_OK);
    assert_string_equal(s.user, "x");
    assert_string_equal(s.password, "y");
    assert_true(s.plain);
    authc__smtp_clear(&s);
    assert_int_equal(authc__smtp_parse("smtp://[::1]:25", NULL, NULL, true, &s, err, sizeof err), AUTHC_OK);
    assert_true(s.plain);
    assert_string_equal(s.curl_url, "smtp://[::1]:25");
    authc__smtp_clear(&s);
    /* allow_plain does not weaken smtps. */
    assert_int_equal(authc__smtp_parse("smtps://localhost", NULL, NULL, true, &s, err, sizeof err), AUTHC_OK);
    assert_false(s.plain);
    authc__smtp_clear(&s);
}

static void test_parse_bad(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "mail.example.com", "http://mail.example.com", "smtp://", "smtp://:25",
        "smtp://host:0", "smtp://host:65536", "smtp://host:2x", "smtp://host?tls=false",
        "smtp://host#x", "smtp://ho st", "smtp://host/ehlo name", "smtp://u:p%zz@host",
        "smtp://u:p%0d%0a@host", "smtp://[::1", "smtp://:secret@host", "smtp://-host",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char err[256] = "";
        authc__smtp s;
        if (authc__smtp_parse(bad[i], NULL, NULL, false, &s, err, sizeof err) != AUTHC_ERR_INVALID) {
            fprintf(stderr, "accepted %s\n", bad[i]);
            fail();
        }
        assert_true(err[0] != '\0');
        assert_null(strstr(err, "secret"));
    }
    /* Plain to a remote host is refused, and the message says why. */
    char err[256];
    authc__smtp s;
    assert_int_equal(authc__smtp_parse("smtp://u:topsecret@192.0.2.1", NULL, NULL, true, &s, err, sizeof err),
                     AUTHC_ERR_INVALID);
    assert_non_null(strstr(err, "loopback"));
    assert_null(strstr(err, "topsecret"));
    assert_int_equal(authc__smtp_parse("smtp://127.0.0.1.example.com", NULL, NULL, true, &s, err, sizeof err),
                     AUTHC_ERR_INVALID);
    assert_int_equal(authc__smtp_parse("smtp://localhost.evil.example", NULL, NULL, true, &s, err, sizeof err),
                     AUTHC_ERR_INVALID);
}

/* ------------------------------------------------------------------ */
/* Addresses. */

static void test_addr_ok(void **state)
{
    (void)state;
    assert_true(authc__mail_addr_ok("a@b.c"));
    assert_true(authc__mail_addr_ok("user+tag@example.com"));
    assert_true(authc__mail_addr_ok("\xE7\x94\xA8\xE6\x88\xB7@\xE4\xBE\x8B\xE5\xAD\x90.\xE4\xB8\xAD\xE5\x9B\xBD"));
    const char *bad[] = {"", "a", "@b", "a@", "a@b@c", "a b@c", "a@b\r\nRCPT TO:<x@y>", "a\t@b",
                         "<a@b>", "a,b@c", "a;b@c", "a:b@c", "a\"b@c", "a\\b@c", "a(b)@c", "a@[1.2.3.4]",
                         "a\xC2\x85@b", "a\xE2\x80\xA8@b", "a\xFF@b", "a\x7f@b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (authc__mail_addr_ok(bad[i])) {
            fprintf(stderr, "accepted %zu\n", i);
            fail();
        }
    char big[AUTHC__ADDR_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    big[3] = '@';
    assert_false(authc__mail_addr_ok(big));
}

static void test_mailbox(void **state)
{
    (void)state;
    char *d, *a;
    assert_int_equal(authc__mailbox_parse("Example Site <no-reply@example.com>", &d, &a), AUTHC_OK);
    assert_string_equal(d, "Example Site");
    assert_string_equal(a, "no-reply@example.com");
    free(d);
    free(a);
    assert_int_equal(authc__mailbox_parse("  no-reply@example.com ", &d, &a), AUTHC_OK);
    assert_null(d);
    assert_string_equal(a, "no-reply@example.com");
    free(a);
    assert_int_equal(authc__mailbox_parse("\"Acme, Inc.\" <x@y.z>", &d, &a), AUTHC_OK);
    assert_string_equal(d, "Acme, Inc.");
    free(d);
    free(a);
    const char *bad[] = {"Name <x@y.z", "Name <x@y.z> trailing", "Name\r\nBcc: v@x <x@y.z>", "x@y.z\n",
                         "Name <not an address>", "Name <>"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(authc__mailbox_parse(bad[i], &d, &a), AUTHC_ERR_INVALID);
}

/* ------------------------------------------------------------------ */
/* MIME. Decoders written independently of the encoders. */

static int hexv(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Quoted-printable decode of one part into malloc'd text with '\n' ends. */
static char *qp_decode(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n + 1 && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
            continue;
        }
        if (s[i] == '=') {
            assert_true(i + 2 < n);
            int a = hexv(s[i + 1]), b = hexv(s[i + 2]);
            assert_true(a >= 0 && b >= 0);
            o[k++] = (char)(a * 16 + b);
            i += 2;
            continue;
        }
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            o[k++] = '\n';
            i++;
            continue;
        }
        o[k++] = s[i];
    }
    o[k] = '\0';
    return o;
}

/* Every line ends in CRLF and is at most max characters long; no bare CR
 * or LF; no line consisting of a single "." */
static void check_lines(const char *m, size_t len, size_t max)
{
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        if (m[i] == '\r') {
            assert_true(i + 1 < len && m[i + 1] == '\n');
            assert_false(col == 1 && m[i - 1] == '.');
            col = 0;
            i++;
            continue;
        }
        assert_true(m[i] != '\n');
        col++;
        if (col > max) {
            fprintf(stderr, "line too long near: %.60s\n", m + i - col + 1);
            fail();
        }
    }
    assert_int_equal(col, 0);
}

/* The body of the part whose Content-Type starts with ctype. */
static char *part(const char *msg, const char *boundary, const char *ctype)
{
    char delim[128];
    snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    const char *p = strstr(msg, ctype);
    assert_non_null(p);
    p = strstr(p, "\r\n\r\n");
    assert_non_null(p);
    p += 4;
    const char *e = strstr(p, delim);
    assert_non_null(e);
    return qp_decode(p, (size_t)(e - p));
}

static const char TEXT[] =
    "Sign in to example.com\n"
    "http://example.com/auth/callback/email?callbackUrl=http%3A%2F%2Fexample.com%2F&token="
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef&email=a%40b.c\n"
    "\n"
    ".leading dot line\n"
    "trailing space \n"
    "tab\tinside and = sign and \xE4\xB8\xAD\xE6\x96\x87 text\n"
    "\n";

static void test_mime_build(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    char html[4096];
    snprintf(html, sizeof html, "<a href=\"%s\">x</a>\n%s", "http://e/?a=1&amp;b=2", TEXT);
    authc__mail m = {
        .from_display = "\xE7\xA4\xBA\xE4\xBE\x8B \"Site\"", .from_addr = "no-reply@example.com",
        .to = "a@b.c", .subject = "\xE7\x99\xBB\xE5\xBD\x95 example.com \xE2\x80\x94 a long subject that keeps "
                                  "going so that it needs more than one encoded word to fit \xF0\x9F\x94\x91",
        .text = TEXT, .html = html, .date_ms = 1795590478000LL, .boundary = "BOUNDARY",
        .message_id = "id1@example.com",
    };
    char *msg;
    size_t len;
    assert_int_equal(authc__mime_build(ar, &m, &msg, &len), AUTHC_OK);
    assert_int_equal(strlen(msg), len);
    check_lines(msg, len, 998);
    /* Body lines are QP: ≤ 76. */
    const char *body = strstr(msg, "\r\n\r\n");
    check_lines(body + 4, len - (size_t)(body + 4 - msg), 76);
    TU_HAS_ALL(msg, "To: <a@b.c>\r\n", "Date: Wed, 25 Nov 2026 07:07:58 +0000\r\n",
               "Message-ID: <id1@example.com>\r\n", "MIME-Version: 1.0\r\n",
               "Content-Type: multipart/alternative; boundary=\"BOUNDARY\"\r\n", "\r\n--BOUNDARY--\r\n");
    /* Headers are ASCII only. */
    for (const char *p = msg; p < body; p++)
        assert_true((unsigned char)*p < 0x80);

    /* Subject: decode the encoded words back. */
    const char *s = strstr(msg, "Subject: ") + 9;
    const char *end = strstr(s, "\r\nDate:");
    char decoded[1024] = "";
    int words = 0;
    for (const char *w = strstr(s, "=?UTF-8?B?"); w && w < end; w = strstr(w, "=?UTF-8?B?")) {
        w += 10;
        const char *q = strstr(w, "?=");
        assert_true(q - w + 12 <= 75);
        size_t dl;
        uint8_t *d = authc__b64_decode(ar, w, (size_t)(q - w), &dl);
        assert_non_null(d);
        strncat(decoded, (const char *)d, dl);
        words++;
        w = q + 2;
    }
    assert_true(words >= 2);
    assert_string_equal(decoded, m.subject);
    /* The display name is an encoded word too; the address plain. */
    assert_non_null(strstr(msg, "From: =?UTF-8?B?"));
    assert_non_null(strstr(msg, " <no-reply@example.com>\r\n"));

    char *t = part(msg, "BOUNDARY", "Content-Type: text/plain; charset=UTF-8");
    assert_string_equal(t, TEXT);
    free(t);
    char *h = part(msg, "BOUNDARY", "Content-Type: text/html; charset=UTF-8");
    assert_string_equal(h, html);
    free(h);
    /* Every "=" of the link's query is escaped (qp_decode asserts that
     * each '=' starts an escape or a soft break). */
    assert_null(strstr(msg, "?callbackUrl=http"));

    /* An ASCII display name is quoted. */
    m.from_display = "Acme \"Best\" Co";
    m.subject = "Sign in to example.com";
    assert_int_equal(authc__mime_build(ar, &m, &msg, &len), AUTHC_OK);
    assert_non_null(strstr(msg, "From: \"Acme \\\"Best\\\" Co\" <no-reply@example.com>\r\n"));
    assert_non_null(strstr(msg, "Subject: Sign in to example.com\r\n"));
    /* Random boundary and Message-ID when not given. */
    m.boundary = NULL;
    m.message_id = NULL;
    assert_int_equal(authc__mime_build(ar, &m, &msg, &len), AUTHC_OK);
    assert_non_null(strstr(msg, "boundary=\"authc-"));
    assert_non_null(strstr(msg, "@example.com>\r\n"));
    /* Injection through the address is refused. */
    m.to = "a@b.c>\r\nBcc: <x@y.z";
    assert_int_equal(authc__mime_build(ar, &m, &msg, &len), AUTHC_ERR_INVALID);
    authc_arena_free(ar);
}

static void test_qp_edges(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    /* A long run of multi-byte characters, = signs and dots at wrap
     * points: decoding gives the input back, every line ≤ 76. */
    char in[8192];
    size_t k = 0;
    for (int i = 0; i < 300; i++) {
        const char *piece = i % 5 == 0 ? "=" : i % 5 == 1 ? "\xE4\xB8\xAD" : i % 5 == 2 ? "." : i % 5 == 3 ? " " : "x";
        memcpy(in + k, piece, strlen(piece));
        k += strlen(piece);
        if (i % 97 == 0)
            in[k++] = '\n';
    }
    in[k++] = ' ';
    in[k] = '\0';
    authc__buf b;
    authc__buf_init(&b, ar, 65536);
    authc__mime_qp(&b, in);
    assert_int_equal(b.err, AUTHC_OK);
    authc__buf_adds(&b, "\r\n");
    check_lines(b.p, b.len, 76);
    char *d = qp_decode(b.p, b.len - 2);
    assert_string_equal(d, in);
    free(d);
    /* No line of the output starts with '.'. */
    for (const char *p = b.p; p; p = strstr(p, "\r\n")) {
        if (p != b.p)
            p += 2;
        assert_true(*p != '.');
        if (!*p)
            break;
    }
    authc_arena_free(ar);
}

/* ------------------------------------------------------------------ */
/* libcurl against a scripted SMTP peer on loopback. */

typedef struct peer {
    int lsock;
    unsigned short port;
    bool starttls;      /* advertise STARTTLS (we cannot do TLS: curl must then fail) */
    bool reject_rcpt;
    bool hang;          /* accept and never answer */
    bool want_auth;
    char data[65536];
    size_t dlen;
    char log[8192];
    pthread_t th;
} peer;

static void say(int fd, const char *s)
{
    ssize_t w = write(fd, s, strlen(s));
    (void)w;
}

/* Reads one CRLF line (without it) into buf; false at EOF. */
static bool readline(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char c;
    while (read(fd, &c, 1) == 1) {
        if (c == '\n') {
            if (n && buf[n - 1] == '\r')
                n--;
            buf[n] = '\0';
            return true;
        }
        if (n + 1 < cap)
            buf[n++] = c;
    }
    return false;
}

static void *peer_main(void *arg)
{
    peer *p = arg;
    int fd = accept(p->lsock, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (p->hang) {
        usleep(1500 * 1000);
        close(fd);
        return NULL;
    }
    say(fd, "220 fake ESMTP\r\n");
    char line[2048];
    while (readline(fd, line, sizeof line)) {
        strncat(p->log, line, sizeof p->log - strlen(p->log) - 2);
        strcat(p->log, "\n");
        if (!strncasecmp(line, "EHLO", 4)) {
            say(fd, "250-fake\r\n");
            if (p->starttls)
                say(fd, "250-STARTTLS\r\n");
            if (p->want_auth)
                say(fd, "250-AUTH PLAIN\r\n");
            say(fd, "250 8BITMIME\r\n");
        } else if (!strncasecmp(line, "AUTH PLAIN", 10)) {
            if (!line[10]) { /* no initial response: ask for it */
                say(fd, "334 \r\n");
                if (!readline(fd, line, sizeof line))
                    break;
                strncat(p->log, line, sizeof p->log - strlen(p->log) - 2);
                strcat(p->log, "\n");
            }
            say(fd, "235 ok\r\n");
        } else if (!strncasecmp(line, "MAIL FROM", 9)) {
            say(fd, "250 ok\r\n");
        } else if (!strncasecmp(line, "RCPT TO", 7)) {
            say(fd, p->reject_rcpt ? "550 no such user\r\n" : "250 ok\r\n");
        } else if (!strncasecmp(line, "DATA", 4)) {
            say(fd, "354 go\r\n");
            while (readline(fd, line, sizeof line) && strcmp(line, ".")) {
                size_t l = strlen(line);
                if (p->dlen + l + 2 < sizeof p->data) {
                    memcpy(p->data + p->dlen, line, l);
                    memcpy(p->data + p->dlen + l, "\r\n", 2);
                    p->dlen += l + 2;
                }
            }
            say(fd, "250 queued\r\n");
        } else if (!strncasecmp(line, "QUIT", 4)) {
            say(fd, "221 bye\r\n");
            break;
        } else {
            say(fd, "502 no\r\n");
        }
    }
    close(fd);
    return NULL;
}

static void peer_start(peer *p)
{
    p->lsock = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(p->lsock >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(p->lsock, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(p->lsock, (struct sockaddr *)&a, &l);
    p->port = ntohs(a.sin_port);
    assert_int_equal(listen(p->lsock, 1), 0);
    pthread_create(&p->th, NULL, peer_main, p);
}

static void peer_stop(peer *p)
{
    shutdown(p->lsock, SHUT_RDWR);
    pthread_join(p->th, NULL);
    close(p->lsock);
}

static authc_err send_to(peer *p, bool plain, const char *userinfo, long timeout_ms, char *err, size_t errlen)
{
    char url[128];
    snprintf(url, sizeof url, "smtp://%s127.0.0.1:%u", userinfo ? userinfo : "", p->port);
    authc__smtp s;
    char perr[256];
    assert_int_equal(authc__smtp_parse(url, NULL, NULL, plain, &s, perr, sizeof perr), AUTHC_OK);
    if (timeout_ms)
        s.timeout_ms = s.connect_timeout_ms = timeout_ms;
    const char *msg = "Subject: x\r\n\r\n.hello\r\n..two\r\n";
    authc_err e = authc__smtp_send(&s, "from@example.com", "to@example.com", msg, strlen(msg), err, errlen);
    authc__smtp_clear(&s);
    return e;
}

/* One send to peer p, started here and stopped after (its log kept); err
 * (512 bytes) receives the failure text. */
static authc_err send_once(peer *p, bool plain, const char *userinfo, long timeout_ms, char *err)
{
    peer_start(p);
    authc_err e = send_to(p, plain, userinfo, timeout_ms, err, 512);
    peer_stop(p);
    return e;
}

static void test_send_plain_loopback(void **state)
{
    (void)state;
    peer p = {.want_auth = true};
    char err[512];
    authc_err e = send_once(&p, true, "user:pa%3Ass@", 0, err);
    if (e)
        fprintf(stderr, "send: %s\n", err);
    assert_int_equal(e, AUTHC_OK);
    assert_non_null(strstr(p.log, "MAIL FROM:<from@example.com>"));
    assert_non_null(strstr(p.log, "RCPT TO:<to@example.com>"));
    assert_non_null(strstr(p.log, "AUTH PLAIN"));
    /* The percent-decoded credentials: "\0user\0pa:ss". */
    assert_non_null(strstr(p.log, "AHVzZXIAcGE6c3M="));
    /* Dot-stuffing is libcurl's: the peer sees the lines doubled. */
    assert_non_null(strstr(p.data, "\r\n..hello\r\n...two\r\n"));
}

static void test_send_starttls_required(void **state)
{
    (void)state;
    /* The peer does not offer STARTTLS: smtp:// must refuse to go on in
     * the clear (no MAIL FROM, no AUTH). */
    peer p = {.want_auth = true};
    char err[512];
    assert_int_equal(send_once(&p, false, "user:secretpw@", 0, err), AUTHC_ERR_IO);
    assert_null(strstr(p.log, "MAIL FROM"));
    assert_null(strstr(p.log, "AUTH"));
    assert_null(strstr(err, "secretpw"));
    assert_non_null(strstr(err, "127.0.0.1"));
}

static void test_send_rejected(void **state)
{
    (void)state;
    peer p = {.reject_rcpt = true};
    char err[512];
    assert_int_equal(send_once(&p, true, NULL, 0, err), AUTHC_ERR_IO);
    assert_non_null(strstr(err, "550"));
    assert_int_equal(p.dlen, 0);
}

static void test_send_timeout_and_refused(void **state)
{
    (void)state;
    peer p = {.hang = true};
    char err[512];
    assert_int_equal(send_once(&p, true, NULL, 500, err), AUTHC_ERR_TIMEOUT);
    /* Nobody listening. */
    peer q = {0};
    peer_start(&q);
    unsigned short port = q.port;
    peer_stop(&q);
    q.port = port;
    assert_int_equal(send_to(&q, true, NULL, 2000, err, sizeof err), AUTHC_ERR_IO);
    assert_true(strlen(err) > 0);
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_parse_ok), cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_addr_ok), cmocka_unit_test(test_mailbox), cmocka_unit_test(test_mime_build),
        cmocka_unit_test(test_qp_edges), cmocka_unit_test(test_send_plain_loopback),
        cmocka_unit_test(test_send_starttls_required), cmocka_unit_test(test_send_rejected),
        cmocka_unit_test(test_send_timeout_and_refused))

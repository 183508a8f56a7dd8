/* smtp_int.h — outbound mail: SMTP URL settings, address checks, the MIME
 * message (multipart/alternative, quoted-printable, RFC 2047) and libcurl. */
#ifndef AUTHC_SMTP_INT_H
#define AUTHC_SMTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authc.h"
#include "util/util_int.h"

/* Hard limits. */
#define AUTHC__SMTP_URL_MAX   2048
#define AUTHC__MAIL_MAX       (256 * 1024)   /* one whole message */
#define AUTHC__ADDR_MAX       320            /* RFC 5321: 64 + 1 + 255 */

/* A parsed SMTP server setting. curl_url, host, user and password live in
 * one heap block owned by the struct (authc__smtp_clear wipes it, password
 * included); ca_file is a heap string of its own. */
typedef struct authc__smtp {
    const char *curl_url; /* smtp://host:port[/ehlo] or smtps://…, no userinfo */
    const char *host;     /* host as written (for log lines) */
    unsigned port;
    const char *user;     /* NULL = no AUTH */
    const char *password;
    bool implicit_tls;    /* smtps:// */
    bool plain;           /* smtp:// without STARTTLS (loopback only) */
    char *ca_file;        /* extra trust anchors (PEM); NULL = system store */
    long connect_timeout_ms;
    long timeout_ms;
    char *block;          /* the one allocation behind the strings above */
    size_t block_len;
} authc__smtp;

/* Parses `smtp://[user[:pass]@]host[:port][/ehlo-name]` (STARTTLS required;
 * default port 587) or `smtps://…` (TLS from the start; default 465).
 * user/password, when not NULL, override the URL's userinfo. allow_plain
 * permits smtp:// without TLS, and only when the host is loopback
 * (localhost, 127.0.0.0/8, [::1]). Fills *s (heap strings) or returns
 * AUTHC_ERR_INVALID with a message in err that never contains the
 * password. */
authc_err authc__smtp_parse(const char *url, const char *user, const char *password,
                            bool allow_plain, authc__smtp *s, char *err, size_t errlen);
void authc__smtp_clear(authc__smtp *s);

/* An address that is safe in the SMTP envelope and in a header: one '@'
 * with non-empty sides, at most AUTHC__ADDR_MAX bytes, valid UTF-8, no
 * control characters, spaces or any of "<>()[]\\,;:\"". */
bool authc__mail_addr_ok(const char *addr);

/* Splits a From setting, "Display Name <addr@host>" or "addr@host", into
 * heap copies (*display may be NULL). AUTHC_ERR_INVALID when the address is
 * not authc__mail_addr_ok or the name holds control characters. */
authc_err authc__mailbox_parse(const char *in, char **display, char **addr);

typedef struct authc__mail {
    const char *from_display;   /* may be NULL */
    const char *from_addr;
    const char *to;
    const char *subject;        /* UTF-8 */
    const char *text;           /* UTF-8, '\n' line ends */
    const char *html;           /* UTF-8 */
    int64_t date_ms;
    const char *boundary;       /* NULL = random */
    const char *message_id;     /* without <>; NULL = random@from-domain */
} authc__mail;

/* Builds the message: CRLF lines, Subject and display name as RFC 2047
 * encoded words when not plain ASCII, a multipart/alternative body with a
 * text/plain and a text/html part, both UTF-8 quoted-printable. *out (NUL-
 * terminated, *len bytes) is owned by ar; AUTHC_ERR_LIMIT past
 * AUTHC__MAIL_MAX. */
authc_err authc__mime_build(authc_arena *ar, const authc__mail *m, char **out, size_t *len);

/* Pieces of the message, exposed for the tests. */
/* Appends text as quoted-printable (lines ≤ 76, CRLF, '.' at a line start
 * encoded). */
void authc__mime_qp(authc__buf *b, const char *text);
/* Appends a header value: as is when printable ASCII (and no "=?"),
 * otherwise as RFC 2047 B encoded words of ≤ 75 characters, folded, never
 * splitting a UTF-8 sequence. used = characters already on the line. */
void authc__mime_header_text(authc__buf *b, const char *text, size_t used);

/* Sends one message (blocking, bounded by the timeouts): MAIL FROM:<from>,
 * RCPT TO:<to>, DATA. AUTHC_ERR_TIMEOUT or AUTHC_ERR_IO on failure, with
 * the reason (libcurl's message and the last SMTP reply code) in err —
 * never the password or the message. */
authc_err authc__smtp_send(const authc__smtp *s, const char *from, const char *to,
                           const char *msg, size_t len, char *err, size_t errlen);

#endif

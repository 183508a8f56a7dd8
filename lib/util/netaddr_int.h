/* netaddr_int.h — IP addresses and CIDR lists: which peers are trusted
 * proxies, who the client is behind them, and the key a rate limit uses. */
#ifndef AUTHC_NETADDR_INT_H
#define AUTHC_NETADDR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits on what a setting or a header may hold. */
#define AUTHC__MAX_CIDRS     256   /* entries of AUTHC_TRUSTED_PROXIES */
#define AUTHC__MAX_XFF_HOPS  32    /* X-Forwarded-For hops looked at */
#define AUTHC__IP_STR        64    /* room for any address text we print */

/* An address (IPv4 kept as IPv4-mapped IPv6) with a prefix length in the
 * IPv6 space (an IPv4 /24 is stored as /120). */
typedef struct authc__cidr {
    uint8_t addr[16];
    uint8_t bits;
} authc__cidr;

/* A list of networks; built once at start-up, read-only afterwards. */
typedef struct authc__cidrs {
    authc__cidr v[AUTHC__MAX_CIDRS];
    size_t n;
} authc__cidrs;

/* Parses one address ("192.0.2.1", "2001:db8::1", "[2001:db8::1]",
 * "::ffff:192.0.2.1"; surrounding blanks allowed, no port) into addr.
 * *v4 says whether it was an IPv4 address. */
bool authc__ip_parse(const char *s, size_t n, uint8_t addr[16], bool *v4);

/* Parses a list of addresses or networks separated by commas or blanks
 * ("127.0.0.1, 10.0.0.0/8 ::1 fd00::/8"). Out-of-range prefixes, bad
 * addresses and more than AUTHC__MAX_CIDRS entries are refused: false,
 * with the offending entry named in why. An empty list is valid. */
bool authc__cidrs_parse(const char *spec, authc__cidrs *out, char *why, size_t whylen);

/* True when addr lies in one of the networks. */
bool authc__cidrs_match(const authc__cidrs *l, const uint8_t addr[16]);

/* The client's address as authc should see it. peer is the TCP peer (text).
 * When the peer is a trusted proxy, X-Forwarded-For (xff, may be NULL) is
 * walked from the right: trusted hops are skipped and the first untrusted
 * one is the client (a client-supplied left part is never believed); when
 * every hop is trusted, the left-most is used. Unparseable hops stop the
 * walk at the last good address. Writes the canonical text into out
 * (AUTHC__IP_STR bytes); false when peer itself does not parse (out then
 * holds peer copied, truncated). */
bool authc__client_ip(const authc__cidrs *trusted, const char *peer, const char *xff,
                      char *out, size_t outlen);

/* True when the peer is a trusted proxy (so its forwarded headers count). */
bool authc__peer_trusted(const authc__cidrs *trusted, const char *peer);

/* The TCP peer parsed once per request, for both questions above. */
typedef struct authc__peer {
    uint8_t addr[16];
    bool ok;        /* the peer's text parsed */
    bool trusted;   /* ok, and in the trusted list */
} authc__peer;

/* Parses peer (text, may be NULL) into *p and checks it against trusted;
 * returns p->ok. */
bool authc__peer_parse(const authc__cidrs *trusted, const char *peer, authc__peer *p);

/* authc__client_ip from a parsed peer (peer is its text, copied to out
 * when it did not parse). xff counts only when p->trusted. */
void authc__client_ip_of(const authc__cidrs *trusted, const authc__peer *p, const char *peer,
                         const char *xff, char *out, size_t outlen);

/* The value a trusted proxy appended to a comma-separated forwarded header
 * (X-Forwarded-Host, X-Forwarded-Proto): the right-most element, trimmed.
 * Points into a copy in out (outlen bytes); NULL when empty or too long. */
const char *authc__forwarded_last(const char *value, char *out, size_t outlen);

/* Key under which per-client limits count: the IPv4 address, or the /64
 * prefix of an IPv6 address ("2001:db8:1:2::/64"), since one host owns a
 * whole /64. Unparseable input is copied as is (bounded). */
void authc__ip_rate_key(const char *ip, char *out, size_t outlen);

/* Canonical text of addr (IPv4-mapped addresses as dotted quads). */
void authc__ip_format(const uint8_t addr[16], char *out, size_t outlen);

#endif

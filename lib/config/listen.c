/* listen.c — a program's listen address ("HOST:PORT", "[IPv6]:PORT") as a
 * socket address: one parser for `authc serve --listen` and apps embedding authc. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "authc/env.h"

bool authc_parse_listen_addr(const char *listen, struct sockaddr_storage *ss, unsigned *len, char *err,
                             size_t errlen)
{
    char host[INET6_ADDRSTRLEN + 8];
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    bool v6 = listen && listen[0] == '[';
    /* "[addr]:port": the colon after the bracket, never one inside it. */
    if (v6 && (!colon || colon == listen || colon[-1] != ']'))
        colon = NULL;
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    if (!colon || hl >= sizeof host || (v6 && hl < 3)) {
        snprintf(err, errlen, "--listen must be HOST:PORT, e.g. 127.0.0.1:3000 or [::1]:3000");
        return false;
    }
    memcpy(host, listen + v6, hl - 2 * v6);
    host[hl - 2 * v6] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1 || colon[1] == '-' || colon[1] == '+' ||
        colon[1] == ' ') {
        snprintf(err, errlen, "--listen: bad port in \"%.200s\"", listen);
        return false;
    }
    memset(ss, 0, sizeof *ss);
    if (v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        *len = sizeof *s6;
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) {
            snprintf(err, errlen, "--listen: \"%.64s\" is not an IPv6 address", host);
            return false;
        }
        return true;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    *len = sizeof *s4;
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
        snprintf(err, errlen, "--listen: \"%.64s\" is not an IPv4 address (IPv6 goes in brackets: [::1]:3000)",
                 host);
        return false;
    }
    return true;
}

bool authc_parse_listen(const char *listen, struct sockaddr_in *sa, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    unsigned len;
    if (!authc_parse_listen_addr(listen, &ss, &len, err, errlen))
        return false;
    if (ss.ss_family != AF_INET) {
        snprintf(err, errlen, "--listen: \"%.200s\" is not an IPv4 address", listen);
        return false;
    }
    memcpy(sa, &ss, sizeof *sa);
    return true;
}

/* listen.c — a program's listen address ("HOST:PORT", IPv4) as a socket
 * address: one parser for `authc serve --listen` and apps embedding authc. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authc/env.h"

bool authc_parse_listen(const char *listen, struct sockaddr_in *sa, char *err, size_t errlen)
{
    char host[256];
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    if (!colon || (size_t)(colon - listen) >= sizeof host) {
        snprintf(err, errlen, "--listen must be HOST:PORT, e.g. 127.0.0.1:3000");
        return false;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535 || end == colon + 1) {
        snprintf(err, errlen, "--listen: bad port in \"%s\"", listen);
        return false;
    }
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
        snprintf(err, errlen, "--listen: \"%.64s\" is not an IPv4 address", host);
        return false;
    }
    return true;
}

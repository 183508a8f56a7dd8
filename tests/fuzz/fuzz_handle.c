/* fuzz_handle.c — libFuzzer target for authc_handle: arbitrary method, URL,
 * headers, cookies and body must never crash, leak or yield a session. */
#include "fuzz.h"

static authc *instance(void)
{
    static authc *a;
    if (a)
        return a;
    authc_config *cfg = authc_config_new();
    char err[256];
    authc_config_set(cfg, "secret", "fuzz-secret-0123456789abcdefghijklmnopq", err, sizeof err);
    authc_config_set(cfg, "trust_host", "1", err, sizeof err);
    static const authc_credentials_field f[] = {{"username", NULL, NULL}, {"password", NULL, "password"}};
    authc_credentials_provider cp = {.fields = f, .nfields = 2, .authorize = fuzz_deny_all};
    authc_config_add_credentials(cfg, &cp);
    a = authc_new(cfg, err, sizeof err);
    if (!a)
        abort();
    return a;
}

/* Input: fields separated by '\n': method, url, then "Name: value"
 * headers until an empty line, then the body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *fields[3] = {NULL, NULL, NULL};
    char *p = buf;
    for (int i = 0; i < 2 && p; i++) {
        fields[i] = p;
        char *nl = memchr(p, '\n', (size_t)(buf + size - p));
        if (nl)
            *nl++ = '\0';
        p = nl;
    }
    authc_header hs[16];
    size_t nh;
    p = fuzz_header_lines(p, buf + size, hs, 16, &nh);
    authc_request r = {
        .method = fields[0] ? fields[0] : "GET",
        .url = fields[1] ? fields[1] : "/auth/session",
        .headers = hs,
        .nheaders = nh,
        .body = p,
        .body_len = p ? (size_t)(buf + size - p) : 0,
    };
    authc_response *res = NULL;
    authc_handle(instance(), &r, &res);
    if (!res)
        abort();
    /* No input may produce a session for a deny-all provider: a session
     * body always starts with {"user". */
    if (res->body_len >= 7 && !memcmp(res->body, "{\"user\"", 7))
        abort();
    authc_response_free(res);
    authc_session *s = NULL;
    authc_auth(instance(), &r, &s);
    if (s)
        abort();
    free(buf);
    return 0;
}

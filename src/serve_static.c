/* serve_static.c — `authc serve --static DIR`: an app's files beside the
 * API, never a path outside DIR, SPA fallback to index.html. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "serve_int.h"

static const char *mime_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    static const struct { const char *ext, *type; } T[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".jpg", "image/jpeg"}, {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"}, {".woff2", "font/woff2"}, {".webp", "image/webp"},
    };
    for (size_t i = 0; dot && i < sizeof T / sizeof *T; i++)
        if (!strcasecmp(dot, T[i].ext))
            return T[i].type;
    return "application/octet-stream";
}

/* realpath of a regular file, or false. */
static bool regular(const char *path, char *real)
{
    struct stat st;
    return realpath(path, real) && stat(real, &st) == 0 && S_ISREG(st.st_mode);
}

void serve__static(serve_server *sv, h2o_req_t *req, const char *target, size_t len)
{
    if (!h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD"))) {
        serve__send_error(req, 405, "\"Method not allowed.\"", false);
        return;
    }
    /* Whatever the caller checked: a path that starts with '/', has no
     * "..", and leaves room for "index.html". */
    char rel[4096];
    size_t ul = strcspn(target, "?#");
    if (ul > len)
        ul = len;
    if (ul == 0 || target[0] != '/' || ul >= sizeof rel - 16 || memmem(target, ul, "..", 2) ||
        memchr(target, '\0', ul)) {
        serve__send_error(req, 404, "\"Not found.\"", false);
        return;
    }
    memcpy(rel, target, ul);
    rel[ul] = '\0';
    if (rel[ul - 1] == '/')
        strcat(rel, "index.html");
    char path[PATH_MAX + sizeof rel], real[PATH_MAX];
    snprintf(path, sizeof path, "%s%s", sv->static_real, rel);
    if (!regular(path, real)) {
        /* An app route (no extension in its last segment) gets index.html. */
        if (strchr(strrchr(rel, '/'), '.')) {
            serve__send_error(req, 404, "\"Not found.\"", false);
            return;
        }
        snprintf(path, sizeof path, "%s/index.html", sv->static_real);
        if (!regular(path, real)) {
            serve__send_error(req, 404, "\"Not found.\"", false);
            return;
        }
    }
    size_t rl = strlen(sv->static_real);
    if (strncmp(real, sv->static_real, rl) != 0 || real[rl] != '/') {
        serve__send_error(req, 404, "\"Not found.\"", false);
        return;
    }
    const char *cc = strstr(real + rl, "/assets/") ? "public, max-age=31536000, immutable" : "no-cache";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cc, strlen(cc));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL,
                          H2O_STRLIT("nosniff"));
    const char *mime = mime_of(real);
    if (h2o_file_send(req, 200, "OK", real, h2o_iovec_init(mime, strlen(mime)), 0) != 0) {
        req->res.headers = (h2o_headers_t){NULL, 0, 0};
        serve__send_error(req, 404, "\"Not found.\"", false);
    }
}

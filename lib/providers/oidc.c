/* oidc.c — OpenID Connect discovery: fetches an issuer's metadata once,
 * checks the issuer matches, caches it (and its JWKS) for every sign-in. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/oauth_int.h"

/* Metadata is re-read after a day; a failed discovery is retried at most
 * every few seconds so a down IdP is not hammered. */
#define META_TTL_MS   (24LL * 3600 * 1000)
#define RETRY_GAP_MS  (5LL * 1000)

struct authc__oidc {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *issuer;
    const authc__http_opts *http;
    bool tenant_issuer;       /* Entra: "{tenantid}" in the issuer */
    authc__oidc_meta *cur;    /* newest; older ones hang off ->older */
    bool fetching;
    int64_t failed_ms;        /* last failure, for the retry gap */
    char failed_why[512];
    authc__jwks *jwks;
};

static void meta_free(authc__oidc_meta *m)
{
    while (m) {
        authc__oidc_meta *o = m->older;
        authc_arena_free(m->ar);
        m = o;
    }
}

/* Normalised href of an issuer (arena), or NULL. */
static const char *href(authc_arena *ar, const char *s)
{
    authc__url u;
    if (authc__url_parse(ar, s, &u))
        return NULL;
    return authc_arena_printf(ar, "%s%s%s%s", u.origin, u.path, u.query ? "?" : "", u.query ? u.query : "");
}

bool authc__issuer_equal(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return false;
    const char *x = href(ar, a), *y = href(ar, b);
    bool eq = x && y && !strcmp(x, y);
    authc_arena_free(ar);
    return eq;
}

static authc_err jwks_fetch(void *ud, authc_arena *ar, char **json, size_t *len, char *why, size_t whylen)
{
    authc__oidc *o = ud;
    const authc__oidc_meta *m;
    authc_err e = authc__oidc_get_meta(o, &m, why, whylen);
    if (e)
        return e;
    if (!m->jwks_uri) {
        snprintf(why, whylen, "the discovery document of %s has no jwks_uri", o->issuer);
        return AUTHC_ERR_INVALID;
    }
    authc__http_opts ho = *o->http;
    ho.max_response = AUTHC__JWKS_MAX_BYTES;
    authc__http_req rq = {.method = "GET", .url = m->jwks_uri,
                          .headers = {"Accept: application/json, application/jwk-set+json"}, .nheaders = 1,
                          .endpoint = "jwks"};
    authc__http_res rs;
    char w[256];
    e = authc__http_do(ar, &ho, &rq, &rs, w, sizeof w);
    if (e) {
        snprintf(why, whylen, "JWKS request to %s failed: %s", m->jwks_uri, w);
        return e;
    }
    if (rs.status != 200) {
        snprintf(why, whylen, "JWKS request to %s answered HTTP %ld", m->jwks_uri, rs.status);
        return AUTHC_ERR_IO;
    }
    *json = rs.body;
    *len = rs.len;
    return AUTHC_OK;
}

authc__oidc *authc__oidc_new(const char *issuer, const authc__http_opts *http, bool tenant_issuer)
{
    authc__oidc *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->issuer = strdup(issuer);
    o->http = http;
    o->tenant_issuer = tenant_issuer;
    o->jwks = authc__jwks_new(jwks_fetch, o);
    if (!o->issuer || !o->jwks) {
        free(o->issuer);
        authc__jwks_free(o->jwks);
        free(o);
        return NULL;
    }
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->cv, NULL);
    return o;
}

void authc__oidc_free(authc__oidc *o)
{
    if (!o)
        return;
    authc__jwks_free(o->jwks);
    meta_free(o->cur);
    free(o->issuer);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    free(o);
}

authc__jwks *authc__oidc_jwks(authc__oidc *o)
{
    return o->jwks;
}

static char *dup_str(authc_arena *ar, json_t *doc, const char *k)
{
    const char *s = json_string_value(json_object_get(doc, k));
    return s && *s ? authc_arena_strdup(ar, s) : NULL;
}

/* "{tenantid}" → the tenant of the configured issuer (Entra's common
 * endpoints publish a templated issuer). A string of ar. */
static char *entra_issuer(authc_arena *ar, const char *discovered, const char *configured)
{
    const char *t = strstr(configured, "microsoftonline.com/");
    char tenant[128] = "common";
    if (t) {
        t += strlen("microsoftonline.com/");
        size_t l = strcspn(t, "/");
        if (l > 0 && l < sizeof tenant) {
            memcpy(tenant, t, l);
            tenant[l] = '\0';
        }
    }
    const char *ph = strstr(discovered, "{tenantid}");
    if (!ph)
        return authc_arena_strdup(ar, discovered);
    return authc_arena_printf(ar, "%.*s%s%s", (int)(ph - discovered), discovered, tenant, ph + 10);
}

/* GET <issuer>/.well-known/openid-configuration and parse it. */
static authc_err discover(authc__oidc *o, authc__oidc_meta **out, char *why, size_t whylen)
{
    *out = NULL;
    authc_arena *ar = authc_arena_new();
    if (!ar)
        return AUTHC_ERR_NOMEM;
    size_t il = strlen(o->issuer);
    /* oauth4webapi appends the well-known suffix to the issuer's path. */
    const char *url = authc_arena_printf(ar, "%s%s.well-known/openid-configuration", o->issuer,
                                         il && o->issuer[il - 1] == '/' ? "" : "/");
    authc__http_opts ho = *o->http;
    ho.max_response = AUTHC__OAUTH_MAX_DISCOVERY;
    authc__http_req rq = {.method = "GET", .url = url, .headers = {"Accept: application/json"}, .nheaders = 1,
                          .endpoint = "discovery"};
    authc__http_res rs;
    char w[256];
    authc_err e = url ? authc__http_do(ar, &ho, &rq, &rs, w, sizeof w) : AUTHC_ERR_NOMEM;
    if (e) {
        snprintf(why, whylen, "discovery request to %s failed: %s", url ? url : "?", w);
        authc_arena_free(ar);
        return e;
    }
    if (rs.status != 200) {
        snprintf(why, whylen, "discovery request to %s answered HTTP %ld", url, rs.status);
        authc_arena_free(ar);
        return AUTHC_ERR_IO;
    }
    json_error_t je;
    json_t *doc = json_loadb(rs.body, rs.len, 0, &je);
    authc_arena_free(ar);
    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(why, whylen, "discovery document of %s is not a JSON object", o->issuer);
        return AUTHC_ERR_INVALID;
    }
    authc_arena *mar = NULL; /* the snapshot's own */
    authc__oidc_meta *m = authc__record_new(sizeof *m, &mar);
    if (!m) {
        json_decref(doc);
        return AUTHC_ERR_NOMEM;
    }
    m->ar = mar;
    const char *iss = json_string_value(json_object_get(doc, "issuer"));
    m->issuer = !iss ? NULL : o->tenant_issuer ? entra_issuer(mar, iss, o->issuer) : authc_arena_strdup(mar, iss);
    m->authorization_endpoint = dup_str(mar, doc, "authorization_endpoint");
    m->token_endpoint = dup_str(mar, doc, "token_endpoint");
    m->userinfo_endpoint = dup_str(mar, doc, "userinfo_endpoint");
    m->jwks_uri = dup_str(mar, doc, "jwks_uri");
    m->end_session_endpoint = dup_str(mar, doc, "end_session_endpoint");
    json_t *algs = json_object_get(doc, "id_token_signing_alg_values_supported");
    size_t i;
    json_t *v;
    json_array_foreach(algs, i, v) m->algs |= authc__alg_bit(json_string_value(v));
    json_array_foreach(json_object_get(doc, "code_challenge_methods_supported"), i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), "S256"))
            m->pkce_s256 = true;
    m->iss_param = json_is_true(json_object_get(doc, "authorization_response_iss_parameter_supported"));
    json_decref(doc);
    m->fetched_ms = authc__now_ms();
    if (!m->issuer || !authc__issuer_equal(m->issuer, o->issuer)) {
        snprintf(why, whylen, "discovery document issuer %.200s does not match the configured issuer %.200s",
                 m->issuer ? m->issuer : "(none)", o->issuer);
        meta_free(m);
        return AUTHC_ERR_INVALID;
    }
    if (!m->jwks_uri) {
        snprintf(why, whylen, "discovery document of %s has no jwks_uri (needed to verify id_tokens)", o->issuer);
        meta_free(m);
        return AUTHC_ERR_INVALID;
    }
    *out = m;
    return AUTHC_OK;
}

authc_err authc__oidc_get_meta(authc__oidc *o, const authc__oidc_meta **m, char *why, size_t whylen)
{
    *m = NULL;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        int64_t now = authc__now_ms();
        authc__oidc_meta *cur = o->cur;
        bool stale = cur && now - cur->fetched_ms > META_TTL_MS;
        if (cur && (!stale || o->fetching)) {
            /* Fresh, or someone is already refreshing: use what we have. */
            *m = cur;
            pthread_mutex_unlock(&o->mu);
            return AUTHC_OK;
        }
        if (o->fetching) {
            pthread_cond_wait(&o->cv, &o->mu);
            if (!o->cur) {
                snprintf(why, whylen, "%s", o->failed_why);
                pthread_mutex_unlock(&o->mu);
                return AUTHC_ERR_IO;
            }
            continue;
        }
        if (!cur && o->failed_ms && now - o->failed_ms < RETRY_GAP_MS) {
            snprintf(why, whylen, "%s (retrying in a few seconds)", o->failed_why);
            pthread_mutex_unlock(&o->mu);
            return AUTHC_ERR_IO;
        }
        break;
    }
    o->fetching = true;
    pthread_mutex_unlock(&o->mu);

    authc__oidc_meta *nm = NULL;
    char w[512] = "";
    authc_err e = discover(o, &nm, w, sizeof w);

    pthread_mutex_lock(&o->mu);
    o->fetching = false;
    if (nm) {
        nm->older = o->cur; /* readers may still hold it */
        o->cur = nm;
        o->failed_ms = 0;
    } else {
        o->failed_ms = authc__now_ms();
        snprintf(o->failed_why, sizeof o->failed_why, "%.500s", w);
    }
    pthread_cond_broadcast(&o->cv);
    *m = o->cur; /* on a failed refresh the stale copy still serves */
    pthread_mutex_unlock(&o->mu);
    if (*m)
        return AUTHC_OK;
    snprintf(why, whylen, "%s", w);
    return e ? e : AUTHC_ERR_IO;
}

/* cli_main.c — authc_adapter_cli <backend> <url>: drives one adapter from JSON
 * lines on stdin (for tests/e2e/adapters-interop.test.mjs, via with-servers.sh).
 *
 * First output line: {"ready":true,"backend":…,"url":…} (after migrate).
 * Then per input line {"op":"get_user","id":"…"} one output line
 * {"ok":true,"result":…} or {"ok":false,"err":<authc_err>}. Models use the
 * Auth.js member names; dates are epoch ms (null = absent). Ops: every
 * User/Account/Session/VerificationToken method of authc/adapter.h with the
 * same arguments as members (update_user takes "fields", the
 * AUTHC_USER_F_* mask), plus the four Authenticator methods (for
 * tests/e2e/drizzle-sqlite). EOF ends the program. Test tool, not product. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "authc.h"
#include "authc/adapter.h"

#define MAX_LINE (1 << 20)

static void log_cb(void *ud, const char *level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "[adapter %s] %s\n", level, msg);
}

/* ---- JSON → models (strings owned by the json_t / arena) --------------- */

static const char *s_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));  /* NULL if absent */
}

static int64_t t_of(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v)
                              : AUTHC_NO_TIME;
}

static authc_user user_in(json_t *o)
{
    authc_user u = {
        .id = s_of(o, "id"),
        .name = s_of(o, "name"),
        .email = s_of(o, "email"),
        .email_verified = t_of(o, "emailVerified"),
        .image = s_of(o, "image"),
        .fields = (unsigned)json_integer_value(json_object_get(o, "fields")),
    };
    return u;
}

static authc_account account_in(json_t *o)
{
    authc_account a = {
        .id = s_of(o, "id"),
        .user_id = s_of(o, "userId"),
        .type = s_of(o, "type"),
        .provider = s_of(o, "provider"),
        .provider_account_id = s_of(o, "providerAccountId"),
        .refresh_token = s_of(o, "refresh_token"),
        .access_token = s_of(o, "access_token"),
        .expires_at = t_of(o, "expires_at"),
        .token_type = s_of(o, "token_type"),
        .scope = s_of(o, "scope"),
        .id_token = s_of(o, "id_token"),
        .session_state = s_of(o, "session_state"),
    };
    return a;
}

static authc_session_row session_in(json_t *o)
{
    authc_session_row s = {
        .id = s_of(o, "id"),
        .session_token = s_of(o, "sessionToken"),
        .user_id = s_of(o, "userId"),
        .expires = t_of(o, "expires"),
    };
    return s;
}

static authc_authenticator authenticator_in(json_t *o)
{
    authc_authenticator a = {
        .credential_id = s_of(o, "credentialID"),
        .user_id = s_of(o, "userId"),
        .provider_account_id = s_of(o, "providerAccountId"),
        .credential_public_key = s_of(o, "credentialPublicKey"),
        .counter = (int64_t)json_integer_value(json_object_get(o, "counter")),
        .credential_device_type = s_of(o, "credentialDeviceType"),
        .credential_backed_up = json_is_true(json_object_get(o, "credentialBackedUp")),
        .transports = s_of(o, "transports"),
    };
    return a;
}

/* ---- models → JSON (new references) -------------------------------------- */

static json_t *js(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *jt(int64_t t)
{
    return t == AUTHC_NO_TIME ? json_null() : json_integer(t);
}

static json_t *user_out(const authc_user *u)
{
    if (!u)
        return json_null();
    return json_pack("{s:o,s:o,s:o,s:o,s:o}", "id", js(u->id), "name",
                     js(u->name), "email", js(u->email), "emailVerified",
                     jt(u->email_verified), "image", js(u->image));
}

static json_t *account_out(const authc_account *a)
{
    if (!a)
        return json_null();
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
                     "id", js(a->id), "userId", js(a->user_id), "type",
                     js(a->type), "provider", js(a->provider),
                     "providerAccountId", js(a->provider_account_id),
                     "refresh_token", js(a->refresh_token), "access_token",
                     js(a->access_token), "expires_at", jt(a->expires_at),
                     "token_type", js(a->token_type), "scope", js(a->scope),
                     "id_token", js(a->id_token), "session_state",
                     js(a->session_state));
}

static json_t *session_out(const authc_session_row *s)
{
    if (!s)
        return json_null();
    return json_pack("{s:o,s:o,s:o,s:o}", "id", js(s->id), "sessionToken",
                     js(s->session_token), "userId", js(s->user_id),
                     "expires", jt(s->expires));
}

static json_t *vt_out(const authc_verification_token *v)
{
    if (!v)
        return json_null();
    return json_pack("{s:o,s:o,s:o}", "identifier", js(v->identifier),
                     "token", js(v->token), "expires", jt(v->expires));
}

static json_t *authenticator_out(const authc_authenticator *a)
{
    if (!a)
        return json_null();
    return json_pack("{s:o,s:o,s:o,s:o,s:I,s:o,s:b,s:o}", "credentialID",
                     js(a->credential_id), "userId", js(a->user_id),
                     "providerAccountId", js(a->provider_account_id),
                     "credentialPublicKey", js(a->credential_public_key),
                     "counter", (json_int_t)a->counter, "credentialDeviceType",
                     js(a->credential_device_type), "credentialBackedUp",
                     (int)a->credential_backed_up, "transports",
                     js(a->transports));
}

/* ---- dispatch ---------------------------------------------------------- */

/* Runs one command; *result is a new reference (json null when none). */
static authc_err run(authc_adapter *ad, authc_arena *ar, json_t *c,
                     json_t **result)
{
    const char *op = s_of(c, "op");
    authc_err e = AUTHC_ERR_INVALID;
    authc_user *u = NULL;
    authc_account *a = NULL;
    authc_session_row *s = NULL;
    authc_verification_token *v = NULL;
    *result = NULL;
    if (!op)
        return AUTHC_ERR_INVALID;
    if (!strcmp(op, "create_user")) {
        authc_user in = user_in(json_object_get(c, "user"));
        e = ad->ops->create_user(ad, ar, &in, &u);
        *result = user_out(u);
    } else if (!strcmp(op, "get_user")) {
        e = ad->ops->get_user(ad, ar, s_of(c, "id"), &u);
        *result = user_out(u);
    } else if (!strcmp(op, "get_user_by_email")) {
        e = ad->ops->get_user_by_email(ad, ar, s_of(c, "email"), &u);
        *result = user_out(u);
    } else if (!strcmp(op, "get_user_by_account")) {
        e = ad->ops->get_user_by_account(ad, ar, s_of(c, "provider"),
                                    s_of(c, "providerAccountId"), &u);
        *result = user_out(u);
    } else if (!strcmp(op, "update_user")) {
        authc_user in = user_in(json_object_get(c, "user"));
        e = ad->ops->update_user(ad, ar, &in, &u);
        *result = user_out(u);
    } else if (!strcmp(op, "delete_user")) {
        e = ad->ops->delete_user(ad, ar, s_of(c, "id"));
    } else if (!strcmp(op, "link_account")) {
        authc_account in = account_in(json_object_get(c, "account"));
        e = ad->ops->link_account(ad, ar, &in, &a);
        *result = account_out(a);
    } else if (!strcmp(op, "unlink_account")) {
        e = ad->ops->unlink_account(ad, ar, s_of(c, "provider"),
                               s_of(c, "providerAccountId"));
    } else if (!strcmp(op, "get_account")) {
        e = ad->ops->get_account(ad, ar, s_of(c, "providerAccountId"),
                            s_of(c, "provider"), &a);
        *result = account_out(a);
    } else if (!strcmp(op, "create_session")) {
        authc_session_row in = session_in(json_object_get(c, "session"));
        e = ad->ops->create_session(ad, ar, &in, &s);
        *result = session_out(s);
    } else if (!strcmp(op, "get_session_and_user")) {
        e = ad->ops->get_session_and_user(ad, ar, s_of(c, "sessionToken"), &s, &u);
        *result = s ? json_pack("{s:o,s:o}", "session", session_out(s),
                                "user", user_out(u))
                    : json_null();
    } else if (!strcmp(op, "update_session")) {
        authc_session_row in = session_in(json_object_get(c, "session"));
        e = ad->ops->update_session(ad, ar, &in, &s);
        *result = session_out(s);
    } else if (!strcmp(op, "delete_session")) {
        e = ad->ops->delete_session(ad, ar, s_of(c, "sessionToken"), &s);
        *result = session_out(s);
    } else if (!strcmp(op, "create_verification_token")) {
        json_t *o = json_object_get(c, "token");
        authc_verification_token in = {.identifier = s_of(o, "identifier"),
                                       .token = s_of(o, "token"),
                                       .expires = t_of(o, "expires")};
        e = ad->ops->create_verification_token(ad, ar, &in);
    } else if (!strcmp(op, "use_verification_token")) {
        e = ad->ops->use_verification_token(ad, ar, s_of(c, "identifier"),
                                       s_of(c, "token"), &v);
        *result = vt_out(v);
    } else if (!strcmp(op, "create_authenticator") && ad->ops->create_authenticator) {
        authc_authenticator in =
            authenticator_in(json_object_get(c, "authenticator"));
        authc_authenticator *au = NULL;
        e = ad->ops->create_authenticator(ad, ar, &in, &au);
        *result = authenticator_out(au);
    } else if (!strcmp(op, "get_authenticator") && ad->ops->get_authenticator) {
        authc_authenticator *au = NULL;
        e = ad->ops->get_authenticator(ad, ar, s_of(c, "credentialID"), &au);
        *result = authenticator_out(au);
    } else if (!strcmp(op, "list_authenticators_by_user_id") &&
               ad->ops->list_authenticators_by_user_id) {
        authc_authenticator *list = NULL;
        size_t n = 0;
        e = ad->ops->list_authenticators_by_user_id(ad, ar, s_of(c, "userId"),
                                               &list, &n);
        *result = json_array();
        for (size_t i = 0; !e && *result && i < n; i++)
            json_array_append_new(*result, authenticator_out(&list[i]));
    } else if (!strcmp(op, "update_authenticator_counter") &&
               ad->ops->update_authenticator_counter) {
        authc_authenticator *au = NULL;
        e = ad->ops->update_authenticator_counter(
            ad, ar, s_of(c, "credentialID"),
            (int64_t)json_integer_value(json_object_get(c, "counter")), &au);
        *result = authenticator_out(au);
    }
    if (!*result)
        *result = json_null();
    return e;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s <backend> <url>  (JSON lines on stdin)\n",
                argv[0]);
        return 2;
    }
    char err[512];
    authc_adapter *ad = authc_adapter_open(argv[2], log_cb, NULL, err,
                                           sizeof err);
    if (!ad) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    if (ad->ops->migrate && ad->ops->migrate(ad) != AUTHC_OK) {
        fprintf(stderr, "migrate failed\n");
        authc_adapter_close(ad);
        return 1;
    }
    json_t *ready = json_pack("{s:b,s:s,s:s}", "ready", 1, "backend", argv[1],
                              "url", argv[2]);
    char *line = json_dumps(ready, JSON_COMPACT);
    printf("%s\n", line);
    fflush(stdout);
    free(line);
    json_decref(ready);

    char *buf = malloc(MAX_LINE);
    int rc = 0;
    while (buf && fgets(buf, MAX_LINE, stdin)) {
        json_t *cmd = json_loads(buf, 0, NULL);
        authc_arena *ar = authc_arena_new();
        json_t *res = NULL, *out;
        authc_err e = cmd && ar ? run(ad, ar, cmd, &res) : AUTHC_ERR_INVALID;
        if (e == AUTHC_OK)
            out = json_pack("{s:b,s:o}", "ok", 1, "result", res);
        else {
            out = json_pack("{s:b,s:i}", "ok", 0, "err", (int)e);
            json_decref(res);
        }
        char *s = out ? json_dumps(out, JSON_COMPACT) : NULL;
        printf("%s\n", s ? s : "{\"ok\":false,\"err\":-1}");
        fflush(stdout);
        free(s);
        json_decref(out);
        json_decref(cmd);
        authc_arena_free(ar);
    }
    free(buf);
    authc_adapter_close(ad);
    return rc;
}

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
#include "models.h"

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

/* Fills row (a zeroed model struct) from the members of o; strings stay
 * owned by o. Dates and expires_at are numbers here (null = absent). */
static void model_in(const m_model *m, json_t *o, void *row)
{
    for (size_t i = 0; i < m->n; i++) {
        const m_field *f = &m->f[i];
        json_t *v = json_object_get(o, f->name);
        if (f->kind == M_STR)
            *M_AT(row, f, const char *) = s_of(o, f->name);
        else if (f->kind == M_BOOL)
            *M_AT(row, f, bool) = json_is_true(v);
        else if (f->kind == M_INT)
            *M_AT(row, f, int64_t) = (int64_t)json_integer_value(v);
        else
            *M_AT(row, f, int64_t) = t_of(o, f->name);
    }
}

static authc_user user_in(json_t *o)
{
    authc_user u = {0};
    model_in(&m_user, o, &u);
    u.fields = (unsigned)json_integer_value(json_object_get(o, "fields"));
    return u;
}

/* ---- models → JSON (new references) -------------------------------------- */

/* The row as a JSON object in Auth.js member order, or null for no row. */
static json_t *model_out(const m_model *m, const void *row)
{
    if (!row)
        return json_null();
    json_t *o = json_object();
    for (size_t i = 0; i < m->n; i++) {
        const m_field *f = &m->f[i];
        json_t *v;
        if (f->kind == M_STR) {
            const char *s = *M_AT(row, f, const char *const);
            v = s ? json_string(s) : json_null();
        } else if (f->kind == M_BOOL) {
            v = json_boolean(*M_AT(row, f, const bool));
        } else {
            int64_t t = *M_AT(row, f, const int64_t);
            v = t == AUTHC_NO_TIME && f->kind != M_INT ? json_null() : json_integer(t);
        }
        json_object_set_new(o, f->name, v);
    }
    return o;
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
        *result = model_out(&m_user, u);
    } else if (!strcmp(op, "get_user")) {
        e = ad->ops->get_user(ad, ar, s_of(c, "id"), &u);
        *result = model_out(&m_user, u);
    } else if (!strcmp(op, "get_user_by_email")) {
        e = ad->ops->get_user_by_email(ad, ar, s_of(c, "email"), &u);
        *result = model_out(&m_user, u);
    } else if (!strcmp(op, "get_user_by_account")) {
        e = ad->ops->get_user_by_account(ad, ar, s_of(c, "provider"),
                                    s_of(c, "providerAccountId"), &u);
        *result = model_out(&m_user, u);
    } else if (!strcmp(op, "update_user")) {
        authc_user in = user_in(json_object_get(c, "user"));
        e = ad->ops->update_user(ad, ar, &in, &u);
        *result = model_out(&m_user, u);
    } else if (!strcmp(op, "delete_user")) {
        e = ad->ops->delete_user(ad, ar, s_of(c, "id"));
    } else if (!strcmp(op, "link_account")) {
        authc_account in = {0};
        model_in(&m_account, json_object_get(c, "account"), &in);
        e = ad->ops->link_account(ad, ar, &in, &a);
        *result = model_out(&m_account, a);
    } else if (!strcmp(op, "unlink_account")) {
        e = ad->ops->unlink_account(ad, ar, s_of(c, "provider"),
                               s_of(c, "providerAccountId"));
    } else if (!strcmp(op, "get_account")) {
        e = ad->ops->get_account(ad, ar, s_of(c, "providerAccountId"),
                            s_of(c, "provider"), &a);
        *result = model_out(&m_account, a);
    } else if (!strcmp(op, "create_session")) {
        authc_session_row in = {0};
        model_in(&m_session, json_object_get(c, "session"), &in);
        e = ad->ops->create_session(ad, ar, &in, &s);
        *result = model_out(&m_session, s);
    } else if (!strcmp(op, "get_session_and_user")) {
        e = ad->ops->get_session_and_user(ad, ar, s_of(c, "sessionToken"), &s, &u);
        *result = s ? json_pack("{s:o,s:o}", "session", model_out(&m_session, s),
                                "user", model_out(&m_user, u))
                    : json_null();
    } else if (!strcmp(op, "update_session")) {
        authc_session_row in = {0};
        model_in(&m_session, json_object_get(c, "session"), &in);
        e = ad->ops->update_session(ad, ar, &in, &s);
        *result = model_out(&m_session, s);
    } else if (!strcmp(op, "delete_session")) {
        e = ad->ops->delete_session(ad, ar, s_of(c, "sessionToken"), &s);
        *result = model_out(&m_session, s);
    } else if (!strcmp(op, "create_verification_token")) {
        json_t *o = json_object_get(c, "token");
        authc_verification_token in = {0};
        model_in(&m_vt, o, &in);
        e = ad->ops->create_verification_token(ad, ar, &in);
    } else if (!strcmp(op, "use_verification_token")) {
        e = ad->ops->use_verification_token(ad, ar, s_of(c, "identifier"),
                                       s_of(c, "token"), &v);
        *result = model_out(&m_vt, v);
    } else if (!strcmp(op, "create_authenticator") && ad->ops->create_authenticator) {
        authc_authenticator in = {0};
        model_in(&m_authn, json_object_get(c, "authenticator"), &in);
        authc_authenticator *au = NULL;
        e = ad->ops->create_authenticator(ad, ar, &in, &au);
        *result = model_out(&m_authn, au);
    } else if (!strcmp(op, "get_authenticator") && ad->ops->get_authenticator) {
        authc_authenticator *au = NULL;
        e = ad->ops->get_authenticator(ad, ar, s_of(c, "credentialID"), &au);
        *result = model_out(&m_authn, au);
    } else if (!strcmp(op, "list_authenticators_by_user_id") &&
               ad->ops->list_authenticators_by_user_id) {
        authc_authenticator *list = NULL;
        size_t n = 0;
        e = ad->ops->list_authenticators_by_user_id(ad, ar, s_of(c, "userId"),
                                               &list, &n);
        *result = json_array();
        for (size_t i = 0; !e && *result && i < n; i++)
            json_array_append_new(*result, model_out(&m_authn, &list[i]));
    } else if (!strcmp(op, "update_authenticator_counter") &&
               ad->ops->update_authenticator_counter) {
        authc_authenticator *au = NULL;
        e = ad->ops->update_authenticator_counter(
            ad, ar, s_of(c, "credentialID"),
            (int64_t)json_integer_value(json_object_get(c, "counter")), &au);
        *result = model_out(&m_authn, au);
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

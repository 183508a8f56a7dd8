/* misc.c — adapter tests outside the conformance checklist: the registry
 * (schemes, password-free errors), SQLite migration/Drizzle compatibility,
 * error logging, persistence, and the shared helpers of adapters_int.h. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "adapters/adapters_int.h"
#include "db_files.h"

/* ---- captured log lines --------------------------------------------------- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char logbuf[16384];

static void cap_log(void *ud, const char *level, const char *msg)
{
    (void)ud;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof logbuf - n, "%s: %s\n", level, msg);
    pthread_mutex_unlock(&log_mu);
}

static void log_reset(void) { logbuf[0] = '\0'; }

/* A fresh database path under the build/temp dir; owned by the caller. */
static char *tmp_db(const char *tag)
{
    const char *dir = getenv("AUTHC_TEST_TMPDIR");
    char *p = NULL;
    if (asprintf(&p, "%s/authc-misc-%s-%d.db", dir && *dir ? dir : "/tmp",
                 tag, (int)getpid()) < 0)
        return NULL;
    db_files_remove(p);
    return p;
}

static void rm_db(char *p)
{
    db_files_remove(p);
    free(p);
}

static authc_adapter *open_url(const char *fmt, const char *arg)
{
    char url[600], err[512];
    snprintf(url, sizeof url, fmt, arg);
    authc_adapter *ad = authc_adapter_open(url, cap_log, NULL, err, sizeof err);
    if (!ad)
        fprintf(stderr, "open %s: %s\n", url, err);
    return ad;
}

/* A fresh database file (*p, for rm_db) and the adapter opened on it. */
static authc_adapter *open_tmp(const char *tag, char **p)
{
    *p = tmp_db(tag);
    authc_adapter *ad = open_url("sqlite:%s", *p);
    assert_non_null(ad);
    return ad;
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "exec: %s\n", msg);
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

static long long query_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- registry ------------------------------------------------------------- */

static void test_registry_schemes(void **state)
{
    (void)state;
    char err[512];
    assert_null(authc_adapter_open(NULL, NULL, NULL, err, sizeof err));
    assert_true(err[0]);
    assert_null(authc_adapter_open("", NULL, NULL, err, sizeof err));
    assert_true(err[0]);

    authc_adapter *ad = authc_adapter_open("memory:", cap_log, NULL, err,
                                           sizeof err);
    assert_non_null(ad);
    assert_string_equal(ad->ops->name, "memory");
    assert_ptr_equal(ad->log, cap_log);
    authc_adapter_close(ad);

    char *p = tmp_db("schemes");
    const char *forms[] = {"sqlite:%s", "sqlite://%s", "file:%s"};
    for (size_t i = 0; i < 3; i++) {
        ad = open_url(forms[i], p);
        assert_non_null(ad);
        assert_string_equal(ad->ops->name, "sqlite");
        assert_int_equal(ad->ops->migrate(ad), AUTHC_OK);
        authc_adapter_close(ad);
    }
    assert_int_equal(query_int(p, "PRAGMA user_version"), 1);
    assert_int_equal(query_int(p, "SELECT count(*) FROM sqlite_master WHERE "
                                  "type = 'table' AND name = 'authenticator'"),
                     1);
    rm_db(p);

    assert_null(authc_adapter_open("mysql://bob:hunter2@db.example/app", NULL,
                                   NULL, err, sizeof err));
    assert_non_null(strstr(err, "mysql://bob:***@db.example/app"));
    assert_null(strstr(err, "hunter2"));

    assert_null(authc_adapter_open("sqlite:", NULL, NULL, err, sizeof err));
    assert_true(err[0]);
    assert_null(authc_adapter_open("sqlite:/nonexistent-dir-authc/x.db", NULL,
                                   NULL, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir-authc/x.db"));
}

/* A network backend that cannot connect (port 1) must not show the
 * password, neither in err nor in log lines of a lazily connecting one. */
static void check_no_password(const char *url)
{
    char err[512] = "";
    log_reset();
    authc_adapter *ad = authc_adapter_open(url, cap_log, NULL, err, sizeof err);
    if (ad) {
        authc_arena *ar = authc_arena_new();
        authc_user *u = NULL;
        assert_int_not_equal(ad->ops->get_user(ad, ar, "1", &u), AUTHC_OK);
        authc_arena_free(ar);
        authc_adapter_close(ad);
    } else {
        assert_true(err[0]);
    }
    assert_null(strstr(err, "hunter2"));
    assert_null(strstr(logbuf, "hunter2"));
}

static void test_registry_network_errors(void **state)
{
    (void)state;
    check_no_password("postgres://bob:hunter2@127.0.0.1:1/appdb?connect_timeout=2");
    check_no_password("postgresql://bob:hunter2@127.0.0.1:1/appdb");
    check_no_password("redis://:hunter2@127.0.0.1:1/0");
}

/* Malformed URLs that carry a password: no message may show it, however
 * the URL is broken (libpq quotes pieces of a URL it cannot parse). */
static void test_malformed_urls_hide_password(void **state)
{
    (void)state;
    static const char *const urls[] = {
        "postgres://bob:hunter2%zz@127.0.0.1:1/db",
        "postgres://bob:hunter2@[::1/db",
        "postgresql://bob:hunter2@127.0.0.1:1/db?nosuch=1",
        "postgres://bob:hunter2@127.0.0.1:1/d%zzb",
        "postgres://bob:hunter2@127.0.0.1:1/db?pool_size=x",
        "postgres://bob:hunter2@127.0.0.1:1/db?statement_timeout=1",
        "postgres://bob@127.0.0.1:1/db?password=hunter2%zz",
        "postgres://bob:hunter2/x@127.0.0.1:1/db",
        "postgres://bob:hunter2@127.0.0.1:port/db?connect_timeout=2",
        "redis://:hunter2@[::1/0",
        "redis://bob:hunter2@127.0.0.1:99999/0",
        "redis://:hunter2%00@127.0.0.1:1/0",
        "redis://hunter2@127.0.0.1:abc/0",
        "redis://:hunter2@127.0.0.1:1/0?pool_size=0",
        "redis://:hunter2@127.0.0.1:1/notadb",
        "redis://:hunter2@127.0.0.1:1/0?nosuch=1",
        "redis://:hunter2@ :1/0",
        "mysql://bob:hunter2@[::1/db",
    };
    for (size_t i = 0; i < sizeof urls / sizeof *urls; i++) {
        char err[512] = "";
        log_reset();
        authc_adapter *ad = authc_adapter_open(urls[i], cap_log, NULL, err,
                                               sizeof err);
        if (ad) /* none of them may open */
            fprintf(stderr, "opened: %s\n", urls[i]);
        assert_null(ad);
        assert_true(err[0]);
        if (strstr(err, "hunter2") || strstr(logbuf, "hunter2"))
            fprintf(stderr, "leak for %s: %s / %s\n", urls[i], err, logbuf);
        assert_null(strstr(err, "hunter2"));
        assert_null(strstr(logbuf, "hunter2"));
    }
}

/* The scrubber on its own: raw and percent-decoded passwords, query
 * passwords, lone Redis userinfo; other text stays. */
static void test_scrub_url_secrets(void **state)
{
    (void)state;
    char msg[256];
    snprintf(msg, sizeof msg, "bad token \"p@ss%%2Fw\" and p@ss/w here");
    authc__scrub_url_secrets(msg, sizeof msg, "postgres://u:p@ss%2Fw@h/db");
    assert_string_equal(msg, "bad token \"***\" and *** here");
    snprintf(msg, sizeof msg, "x=sekrit y=sekrit2");
    authc__scrub_url_secrets(msg, sizeof msg,
                             "postgres://h/db?password=sekrit2&a=1");
    assert_string_equal(msg, "x=sekrit y=***");
    snprintf(msg, sizeof msg, "AUTH lonepw failed for user u");
    authc__scrub_url_secrets(msg, sizeof msg, "redis://lonepw@h/0");
    assert_string_equal(msg, "AUTH *** failed for user u");
    snprintf(msg, sizeof msg, "user u at h");
    authc__scrub_url_secrets(msg, sizeof msg, "postgres://u@h/db");
    assert_string_equal(msg, "user u at h");
}

/* Mode bits of path, or -1 when it does not exist. */
static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* The database holds session and OAuth tokens: authc creates it, and
 * SQLite its -wal and -shm, readable by the owner only, whatever the
 * umask lets through. */
static void test_sqlite_file_modes(void **state)
{
    (void)state;
    mode_t old = umask(022); /* a usual umask: SQLite alone would give 0644 */
    char *p = tmp_db("modes");
    log_reset();
    authc_adapter *ad = open_url("sqlite:%s", p);
    assert_non_null(ad);
    assert_int_equal(ad->ops->migrate(ad), AUTHC_OK);
    authc_arena *ar = authc_arena_new();
    authc_user in = {.email = "modes@example.com"}, *u = NULL;
    assert_int_equal(ad->ops->create_user(ad, ar, &in, &u), AUTHC_OK);
    char side[600];
    assert_int_equal(mode_of(p), 0600);
    snprintf(side, sizeof side, "%s-wal", p);
    assert_int_equal(mode_of(side), 0600);
    snprintf(side, sizeof side, "%s-shm", p);
    assert_int_equal(mode_of(side), 0600);
    assert_null(strstr(logbuf, "readable by other users"));
    authc_arena_free(ar);
    authc_adapter_close(ad);
    rm_db(p);

    /* An existing file others can read: opened, not changed, warned about
     * through the adapter's log. */
    p = tmp_db("modes-open");
    exec_sql(p, "CREATE TABLE t (x)");
    assert_int_equal(chmod(p, 0644), 0);
    log_reset();
    ad = open_url("sqlite:%s", p);
    assert_non_null(ad);
    assert_non_null(strstr(logbuf, "warn: sqlite "));
    assert_non_null(strstr(logbuf, p));
    assert_non_null(strstr(logbuf, "readable by other users (mode 0644)"));
    assert_int_equal(mode_of(p), 0644);
    authc_adapter_close(ad);
    rm_db(p);
    umask(old);
}

/* ---- the public adapter interface ------------------------------------------ */

/* A user's own backend: one static const table, state in ctx. */
static int own_destroyed;

static authc_err own_get_user(authc_adapter *self, authc_arena *ar,
                              const char *id, authc_user **out)
{
    authc_user u = {.id = id, .email = self->ctx};
    *out = authc__copy_user(ar, &u);
    return *out ? AUTHC_OK : AUTHC_ERR_NOMEM;
}

static void own_destroy(authc_adapter *self)
{
    own_destroyed++;
    (void)self;
}

static const authc_adapter_ops OWN_OPS = {
    .name = "own",
    .get_user = own_get_user,
    .destroy = own_destroy,
};

/* Overrides get_user of a wrapped adapter, calling through to the base. */
static authc_err upper_get_user(authc_adapter *self, authc_arena *ar,
                                const char *id, authc_user **out)
{
    authc_err e = self->wrapped->ops->get_user(
        (authc_adapter *)self->wrapped, ar, id, out);
    if (!e && *out)
        (*out)->name = "wrapped";
    return e;
}

static void test_own_and_wrapped_adapters(void **state)
{
    (void)state;
    authc_adapter own = {.ops = &OWN_OPS, .ctx = "own@example.com"};
    authc_arena *ar = authc_arena_new();
    authc_user *u = NULL;
    assert_int_equal(own.ops->get_user(&own, ar, "7", &u), AUTHC_OK);
    assert_string_equal(u->email, "own@example.com");

    authc_adapter mine;
    authc_adapter_ops mine_ops;
    authc_adapter_wrap(&mine, &mine_ops, &own);
    mine_ops.get_user = upper_get_user;
    assert_ptr_equal(mine.wrapped, &own);
    assert_ptr_equal(mine.ctx, own.ctx);
    assert_string_equal(mine.ops->name, "own");
    assert_int_equal(mine.ops->get_user(&mine, ar, "7", &u), AUTHC_OK);
    assert_string_equal(u->name, "wrapped");
    assert_string_equal(u->email, "own@example.com");
    /* the base's table is untouched, and the wrapper owns nothing */
    assert_ptr_equal(OWN_OPS.get_user, own_get_user);
    authc_adapter_close(&mine);
    assert_int_equal(own_destroyed, 0);
    authc_adapter_close(&own);
    assert_int_equal(own_destroyed, 1);
    authc_adapter_close(NULL);
    authc_arena_free(ar);
}

/* ---- helpers of adapters_int.h ------------------------------------------- */

static void test_url_redact(void **state)
{
    (void)state;
    char out[256];
    const char *cases[][2] = {
        {"postgres://u:pw@h:5432/db", "postgres://u:***@h:5432/db"},
        {"postgres://u@h/db", "postgres://u@h/db"},
        {"postgres://h/db?sslmode=require&password=pw&x=1",
         "postgres://h/db?sslmode=require&password=***&x=1"},
        {"redis://:p@ss@h:6379/0", "redis://:***@h:6379/0"},
        {"redis://h:6379/0?prefix=a:", "redis://h:6379/0?prefix=a:"},
        {"sqlite:/tmp/x.db", "sqlite:/tmp/x.db"},
        {"host=h password=pw dbname=d", "host=h password=*** dbname=d"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        authc__url_redact(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
    /* truncation keeps the NUL and never shows a partial password */
    authc__url_redact("postgres://u:secretpw@h/db", out, 16);
    assert_int_equal(strlen(out), 15);
    assert_null(strstr(out, "secret"));
}

static void test_iso8601(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(authc__iso8601_parse("2024-01-02T03:04:05.678Z", &ms),
                     AUTHC_OK);
    assert_int_equal(ms, 1704164645678LL);
    assert_int_equal(authc__iso8601_parse("1970-01-01T00:00:00Z", &ms),
                     AUTHC_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(authc__iso8601_parse("2024-02-29 12:00:00.5+00:00", &ms),
                     AUTHC_OK);
    assert_int_equal(ms, 1709208000500LL);
    assert_int_equal(authc__iso8601_parse("1969-12-31T23:59:59.999Z", &ms),
                     AUTHC_OK);
    assert_int_equal(ms, -1);
    const char *bad[] = {"", "2024-01-02", "2024-13-02T00:00:00Z",
                         "2024-01-02T00:00:00", "2024-01-02T00:00:00+01:00",
                         "2024-01-02T00:00:00.Z", "x024-01-02T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(authc__iso8601_parse(bad[i], &ms), AUTHC_ERR_INVALID);
}

static void test_copies(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    authc_user u = {.id = "1", .name = NULL, .email = "a@b", .image = "i",
                    .email_verified = 5, .fields = 3};
    authc_user *c = authc__copy_user(ar, &u);
    assert_non_null(c);
    assert_ptr_not_equal(c->email, u.email);
    assert_string_equal(c->email, "a@b");
    assert_null(c->name);
    assert_int_equal(c->email_verified, 5);
    assert_null(authc__copy_user(ar, NULL));

    authc_user dst = {.id = "1", .name = "n", .email = "e", .image = "i",
                      .email_verified = 1};
    authc_user patch = {.name = "m", .email_verified = AUTHC_NO_TIME,
                        .fields = AUTHC_USER_F_NAME |
                                  AUTHC_USER_F_EMAIL_VERIFIED};
    authc__user_merge(&dst, &patch);
    assert_string_equal(dst.name, "m");
    assert_string_equal(dst.email, "e");
    assert_int_equal(dst.email_verified, AUTHC_NO_TIME);
    patch.fields = 0; /* all */
    authc__user_merge(&dst, &patch);
    assert_null(dst.email);
    assert_null(dst.image);
    authc_arena_free(ar);
}

/* ---- SQLite ----------------------------------------------------------------- */

/* Before migrate the tables are missing: the error is AUTHC_ERR_ADAPTER
 * with a log line naming the file and the method, and no token value. */
static void test_sqlite_error_logging(void **state)
{
    (void)state;
    char *p;
    authc_adapter *ad = open_tmp("errlog", &p);
    authc_arena *ar = authc_arena_new();
    authc_session_row *s = NULL;
    authc_user *u = NULL;
    log_reset();
    assert_int_equal(ad->ops->get_session_and_user(ad, ar, "tok-SECRET-123", &s, &u),
                     AUTHC_ERR_ADAPTER);
    assert_non_null(strstr(logbuf, p));
    assert_non_null(strstr(logbuf, "get_session_and_user"));
    assert_null(strstr(logbuf, "SECRET"));

    assert_int_equal(ad->ops->migrate(ad), AUTHC_OK);
    /* constraint failures: FK (no such user) and UNIQUE (same token) */
    log_reset();
    authc_session_row in = {.session_token = "tok-SECRET-456",
                            .user_id = "nobody", .expires = 1};
    assert_int_equal(ad->ops->create_session(ad, ar, &in, &s), AUTHC_ERR_ADAPTER);
    assert_non_null(strstr(logbuf, "create_session"));
    assert_non_null(strstr(logbuf, "FOREIGN KEY"));
    assert_null(strstr(logbuf, "SECRET"));

    authc_user nu = {.email = "dup@example.com",
                     .email_verified = AUTHC_NO_TIME};
    assert_int_equal(ad->ops->create_user(ad, ar, &nu, &u), AUTHC_OK);
    log_reset();
    assert_int_equal(ad->ops->create_user(ad, ar, &nu, &u), AUTHC_ERR_ADAPTER);
    assert_non_null(strstr(logbuf, "UNIQUE"));
    assert_null(u);

    authc_verification_token vt = {.identifier = "a@b",
                                   .token = "SECRET-vt", .expires = 2};
    assert_int_equal(ad->ops->create_verification_token(ad, ar, &vt), AUTHC_OK);
    log_reset();
    assert_int_equal(ad->ops->create_verification_token(ad, ar, &vt),
                     AUTHC_ERR_ADAPTER);
    assert_non_null(strstr(logbuf, "create_verification_token"));
    assert_null(strstr(logbuf, "SECRET"));

    authc_arena_free(ar);
    authc_adapter_close(ad);
    rm_db(p);
}

/* What a Drizzle app (drizzle-kit generate + migrate) leaves in the file,
 * written as drizzle-kit writes it. This one predates the authenticator
 * table, as apps made before WebAuthn support do. */
static const char DRIZZLE_DDL[] =
    "CREATE TABLE `__drizzle_migrations` (id SERIAL PRIMARY KEY, hash text "
    "NOT NULL, created_at numeric);\n"
    "CREATE TABLE `account` (\n"
    "\t`userId` text NOT NULL,\n\t`type` text NOT NULL,\n"
    "\t`provider` text NOT NULL,\n\t`providerAccountId` text NOT NULL,\n"
    "\t`refresh_token` text,\n\t`access_token` text,\n"
    "\t`expires_at` integer,\n\t`token_type` text,\n\t`scope` text,\n"
    "\t`id_token` text,\n\t`session_state` text,\n"
    "\tPRIMARY KEY(`provider`, `providerAccountId`),\n"
    "\tFOREIGN KEY (`userId`) REFERENCES `user`(`id`) ON UPDATE no action "
    "ON DELETE cascade\n);\n"
    "CREATE TABLE `session` (\n"
    "\t`sessionToken` text PRIMARY KEY NOT NULL,\n"
    "\t`userId` text NOT NULL,\n\t`expires` integer NOT NULL,\n"
    "\tFOREIGN KEY (`userId`) REFERENCES `user`(`id`) ON UPDATE no action "
    "ON DELETE cascade\n);\n"
    "CREATE TABLE `user` (\n"
    "\t`id` text PRIMARY KEY NOT NULL,\n\t`name` text,\n\t`email` text,\n"
    "\t`emailVerified` integer,\n\t`image` text\n);\n"
    "CREATE UNIQUE INDEX `user_email_unique` ON `user` (`email`);\n"
    "CREATE TABLE `verificationToken` (\n"
    "\t`identifier` text NOT NULL,\n\t`token` text NOT NULL,\n"
    "\t`expires` integer NOT NULL,\n"
    "\tPRIMARY KEY(`identifier`, `token`)\n);\n"
    "INSERT INTO `user` VALUES ('u-1', 'Ann', 'ann@example.com', "
    "1704164645678, NULL);\n"
    "INSERT INTO `session` VALUES ('s-1', 'u-1', 1893456000123);\n"
    "INSERT INTO `account` (userId, type, provider, providerAccountId, "
    "expires_at, token_type) VALUES ('u-1', 'oauth', 'github', '42', "
    "1700000000, 'bearer');\n";

static void test_sqlite_drizzle_file(void **state)
{
    (void)state;
    char *p = tmp_db("drizzle");
    exec_sql(p, DRIZZLE_DDL);
    authc_adapter *ad = open_url("sqlite:%s", p);
    assert_non_null(ad);
    assert_int_equal(ad->ops->migrate(ad), AUTHC_OK);
    assert_int_equal(ad->ops->migrate(ad), AUTHC_OK);
    /* nothing duplicated: still one index on user, data untouched */
    assert_int_equal(query_int(p, "SELECT count(*) FROM sqlite_master WHERE "
                                  "type = 'index' AND tbl_name = 'user' AND "
                                  "sql IS NOT NULL"), 1);
    assert_int_equal(query_int(p, "SELECT count(*) FROM user"), 1);
    assert_int_equal(query_int(p, "SELECT count(*) FROM __drizzle_migrations"),
                     0);

    authc_arena *ar = authc_arena_new();
    authc_session_row *s = NULL;
    authc_user *u = NULL;
    assert_int_equal(ad->ops->get_session_and_user(ad, ar, "s-1", &s, &u), AUTHC_OK);
    assert_non_null(s);
    assert_int_equal(s->expires, 1893456000123LL);
    assert_string_equal(u->name, "Ann");
    assert_int_equal(u->email_verified, 1704164645678LL);
    authc_account *a = NULL;
    assert_int_equal(ad->ops->get_account(ad, ar, "42", "github", &a), AUTHC_OK);
    assert_non_null(a);
    assert_int_equal(a->expires_at, 1700000000);
    assert_null(a->access_token);

    /* the authenticator table was added and works with the old rows */
    authc_authenticator in = {.credential_id = "Y3JlZA==", .user_id = "u-1",
                              .provider_account_id = "Y3JlZA==",
                              .credential_public_key = "pk", .counter = 3,
                              .credential_device_type = "singleDevice",
                              .credential_backed_up = false},
                        *out = NULL;
    assert_int_equal(ad->ops->create_authenticator(ad, ar, &in, &out), AUTHC_OK);
    assert_non_null(out);
    assert_false(out->credential_backed_up);
    assert_null(out->transports);
    /* and delete_user cascades through Drizzle's own FKs */
    assert_int_equal(ad->ops->delete_user(ad, ar, "u-1"), AUTHC_OK);
    assert_int_equal(query_int(p, "SELECT (SELECT count(*) FROM session) + "
                                  "(SELECT count(*) FROM account) + "
                                  "(SELECT count(*) FROM authenticator)"), 0);
    authc_arena_free(ar);
    authc_adapter_close(ad);
    assert_string_equal(
        (query_int(p, "SELECT 1 FROM pragma_journal_mode WHERE "
                      "journal_mode = 'wal'") == 1) ? "wal" : "not wal",
        "wal");
    rm_db(p);
}

/* A file with a `user` table of another shape is refused, not altered. */
static void test_sqlite_foreign_layout(void **state)
{
    (void)state;
    char *p = tmp_db("foreign");
    exec_sql(p, "CREATE TABLE user (id INTEGER PRIMARY KEY, login TEXT);");
    authc_adapter *ad = open_url("sqlite:%s", p);
    assert_non_null(ad);
    log_reset();
    assert_int_equal(ad->ops->migrate(ad), AUTHC_ERR_ADAPTER);
    assert_non_null(strstr(logbuf, p));
    assert_non_null(strstr(logbuf, "migrate"));
    authc_adapter_close(ad);
    /* rolled back: no half schema left behind, version untouched */
    assert_int_equal(query_int(p, "PRAGMA user_version"), 0);
    assert_int_equal(query_int(p, "SELECT count(*) FROM sqlite_master WHERE "
                                  "name = 'session'"), 0);
    /* and a newer schema version than ours is refused */
    exec_sql(p, "PRAGMA user_version = 99;");
    ad = open_url("sqlite:%s", p);
    assert_non_null(ad);
    assert_int_equal(ad->ops->migrate(ad), AUTHC_ERR_ADAPTER);
    authc_adapter_close(ad);
    rm_db(p);
}

/* Writes survive closing and reopening (a new process would see them). */
static void test_sqlite_persistence(void **state)
{
    (void)state;
    char *p;
    authc_adapter *ad = open_tmp("persist", &p);
    assert_int_equal(ad->ops->migrate(ad), AUTHC_OK);
    authc_arena *ar = authc_arena_new();
    authc_user in = {.email = "keep@example.com", .email_verified = 123},
               *u = NULL;
    assert_int_equal(ad->ops->create_user(ad, ar, &in, &u), AUTHC_OK);
    authc_session_row s = {.session_token = "t", .user_id = u->id,
                           .expires = 456}, *so = NULL;
    assert_int_equal(ad->ops->create_session(ad, ar, &s, &so), AUTHC_OK);
    authc_adapter_close(ad);

    ad = open_url("sqlite:%s", p);
    assert_non_null(ad);
    authc_user *u2 = NULL;
    assert_int_equal(ad->ops->get_session_and_user(ad, ar, "t", &so, &u2), AUTHC_OK);
    assert_non_null(so);
    assert_string_equal(u2->id, u->id);
    assert_int_equal(so->expires, 456);
    authc_arena_free(ar);
    authc_adapter_close(ad);
    rm_db(p);
}

/* The memory backend's test accessors refuse a foreign adapter. */
static void test_memory_peek_guard(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    char *p;
    authc_adapter *ad = open_tmp("peek", &p);
    authc_user *u = (authc_user *)1;
    assert_int_equal(
        authc__memory_peek(ad, ar, &authc__user_row, "x", NULL, &u),
        AUTHC_ERR_INVALID);
    assert_null(u);
    authc_adapter_close(ad);
    rm_db(p);
    authc_arena_free(ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_schemes),
        cmocka_unit_test(test_registry_network_errors),
        cmocka_unit_test(test_malformed_urls_hide_password),
        cmocka_unit_test(test_scrub_url_secrets),
        cmocka_unit_test(test_sqlite_file_modes),
        cmocka_unit_test(test_own_and_wrapped_adapters),
        cmocka_unit_test(test_url_redact),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_copies),
        cmocka_unit_test(test_sqlite_error_logging),
        cmocka_unit_test(test_sqlite_drizzle_file),
        cmocka_unit_test(test_sqlite_foreign_layout),
        cmocka_unit_test(test_sqlite_persistence),
        cmocka_unit_test(test_memory_peek_guard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* misc.c — store checks that need no server: URL handling, memory handles
 * (private/shared, max_entries), SQLite file mode and an unmigrated table,
 * and fail-closed answers with redacted logs when nothing listens. */
#include "../adapters/db_files.h"
#include "../unit/cmocka_main.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "authc.h"
#include "store/store_int.h"

/* Every log line, concatenated (for "does it name / leak" checks). */
static char logbuf[65536];
static int errors;

static void log_cb(void *ud, const char *level, const char *msg)
{
    (void)ud;
    if (strcmp(level, "error") == 0)
        errors++;
    size_t n = strlen(logbuf);
    snprintf(logbuf + n, sizeof logbuf - n, "[%s] %s\n", level, msg);
}

static void reset_log(void)
{
    logbuf[0] = '\0';
    errors = 0;
}

static authc_store *open_ok(const char *url)
{
    char err[512];
    authc_store *st = authc__store_open(url, log_cb, NULL, err, sizeof err);
    if (!st)
        fprintf(stderr, "open %s: %s\n", url, err);
    assert_non_null(st);
    return st;
}

static void test_bad_urls(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "ftp://u:s3cret@h/x", "mem:", "memory:?timeout=abc",
        "memory:?timeout=10", "memory:?pool_size=0", "sqlite:",
        "redis://u:s3cret@127.0.0.1:1/0?sweep_interval=-1",
        "memory:?max_entries=", "redis://127.0.0.1:6379/abc",
        "redis://u:s3cret@127.0.0.1:99999/0",
        "rediss://127.0.0.1/0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512] = "";
        assert_null(authc__store_open(bad[i], NULL, NULL, err, sizeof err));
        assert_true(err[0] != '\0');
        assert_null(strstr(err, "s3cret"));
    }
    assert_null(authc__store_open(NULL, NULL, NULL, NULL, 0));
    authc_store *st = open_ok("memory:?timeout=100&sweep_interval=0");
    assert_string_equal(authc__store_backend_name(st), "memory");
    authc__store_close(st);
    authc__store_close(NULL);
}

static void test_memory_handles(void **state)
{
    (void)state;
    authc_arena *ar = authc_arena_new();
    authc__store_val v;
    /* "memory:" handles are private. */
    authc_store *p1 = open_ok("memory:"), *p2 = open_ok("memory:");
    assert_int_equal(authc__store_set(p1, "t:k", "1", 1, 60000), AUTHC_OK);
    assert_int_equal(authc__store_get(p2, ar, "t:k", &v), AUTHC_OK);
    assert_null(v.data);
    authc__store_close(p1);
    authc__store_close(p2);
    /* "memory:NAME" handles share until the last one closes. */
    authc_store *n1 = open_ok("memory:shared"), *n2 = open_ok("memory:shared");
    authc_store *other = open_ok("memory:other");
    assert_int_equal(authc__store_set(n1, "t:k", "1", 1, 60000), AUTHC_OK);
    authc__store_close(n1);
    assert_int_equal(authc__store_get(n2, ar, "t:k", &v), AUTHC_OK);
    assert_string_equal((const char *)v.data, "1");
    assert_int_equal(authc__store_get(other, ar, "t:k", &v), AUTHC_OK);
    assert_null(v.data);
    authc__store_close(n2);
    authc__store_close(other);
    n1 = open_ok("memory:shared");
    assert_int_equal(authc__store_get(n1, ar, "t:k", &v), AUTHC_OK);
    assert_null(v.data);
    authc__store_close(n1);
    authc_arena_free(ar);
}

static void test_memory_max_entries(void **state)
{
    (void)state;
    authc_store *st = open_ok("memory:?max_entries=3");
    int64_t n;
    assert_int_equal(authc__store_set(st, "t:a", "1", 1, 100), AUTHC_OK);
    assert_int_equal(authc__store_set(st, "t:b", "1", 1, 60000), AUTHC_OK);
    assert_int_equal(authc__store_incr(st, "t:c", 1, 60000, &n), AUTHC_OK);
    reset_log();
    assert_int_equal(authc__store_set(st, "t:d", "1", 1, 60000),
                     AUTHC_ERR_LIMIT);
    assert_int_equal(authc__store_incr(st, "t:d", 1, 60000, &n),
                     AUTHC_ERR_LIMIT);
    assert_non_null(strstr(logbuf, "full (max_entries=3)"));
    /* Replacing an existing key needs no room. */
    assert_int_equal(authc__store_set(st, "t:b", "2", 1, 60000), AUTHC_OK);
    /* Once t:a expires there is room again (the full store sweeps). */
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);
    assert_int_equal(authc__store_set(st, "t:d", "1", 1, 60000), AUTHC_OK);
    authc__store_close(st);
}

/* A fresh SQLite file under AUTHC_TEST_TMPDIR: its path, and in url the
 * store URL for it with opts (a query string, or "") appended. */
static void db_url(char path[1024], char url[1200], const char *name,
                   const char *opts)
{
    const char *dir = getenv("AUTHC_TEST_TMPDIR");
    snprintf(path, 1024, "%s/%s-%d.db", dir ? dir : "/tmp", name,
             (int)getpid());
    db_files_remove(path);
    snprintf(url, 1200, "sqlite:%s%s", path, opts);
}

/* Every write fails closed: an error, and no "it was set" or count. */
static void writes_fail_closed(authc_store *st, int64_t ttl)
{
    bool b = true;
    int64_t n = 3;
    assert_int_equal(authc__store_set(st, "t:k", "2", 1, ttl),
                     AUTHC_ERR_ADAPTER);
    assert_int_equal(authc__store_set_nx(st, "t:j", "2", 1, ttl, &b),
                     AUTHC_ERR_ADAPTER);
    assert_false(b);
    assert_int_equal(authc__store_incr(st, "t:n", 1, ttl, &n),
                     AUTHC_ERR_ADAPTER);
    assert_int_equal(n, 0);
}

static void test_sqlite_file(void **state)
{
    (void)state;
    char path[1024], url[1200];
    db_url(path, url, "store-misc", "");
    reset_log();
    authc_store *st = open_ok(url);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* Not migrated: every call fails closed and says what to do. */
    authc_arena *ar = authc_arena_new();
    authc__store_val v;
    assert_int_equal(authc__store_get(st, ar, "t:k", &v), AUTHC_ERR_ADAPTER);
    writes_fail_closed(st, 1000);
    assert_int_equal(authc__store_ping(st), AUTHC_ERR_ADAPTER);
    assert_non_null(strstr(logbuf, "authc migrate"));
    assert_non_null(strstr(logbuf, path));
    assert_int_equal(authc__store_migrate(st), AUTHC_OK);
    assert_int_equal(authc__store_ping(st), AUTHC_OK);
    assert_int_equal(authc__store_set(st, "t:k", "1", 1, 1000), AUTHC_OK);
    assert_non_null(strstr(logbuf, "reachable again"));
    authc__store_close(st);
    authc_arena_free(ar);
    db_files_remove(path);
}

/* Another process holding SQLite's write lock past the timeout: writes
 * fail closed (reads go on under WAL), and work again once it is gone. */
static void test_sqlite_locked(void **state)
{
    (void)state;
    char path[1024], url[1200];
    db_url(path, url, "store-lock", "?timeout=200");
    authc_store *st = open_ok(url);
    assert_int_equal(authc__store_migrate(st), AUTHC_OK);
    assert_int_equal(authc__store_set(st, "t:k", "1", 1, 60000), AUTHC_OK);
    sqlite3 *other;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
                     SQLITE_OK);
    reset_log();
    writes_fail_closed(st, 60000);
    bool b = true;
    int64_t n;
    assert_int_equal(authc__store_delete(st, "t:k", &b), AUTHC_ERR_ADAPTER);
    assert_non_null(strstr(logbuf, "locked beyond the timeout"));
    authc_arena *ar = authc_arena_new();
    authc__store_val v;
    assert_int_equal(authc__store_get(st, ar, "t:k", &v), AUTHC_OK);
    assert_string_equal((const char *)v.data, "1");
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(authc__store_incr(st, "t:n", 1, 60000, &n), AUTHC_OK);
    assert_int_equal(n, 1);
    authc__store_close(st);
    authc_arena_free(ar);
    db_files_remove(path);
}

/* Nothing listens on port 1: every call is an error, quickly refused, and
 * the log names the store without its password. */
static void refused(const char *url)
{
    reset_log();
    authc_store *st = open_ok(url);
    authc_arena *ar = authc_arena_new();
    authc__store_val v;
    bool b = true;
    int64_t n = 5;
    const char *keys[2] = {"t:a", "t:b"};
    authc__store_val vals[2];
    assert_int_equal(authc__store_ping(st), AUTHC_ERR_ADAPTER);
    assert_int_equal(authc__store_get(st, ar, "t:k", &v), AUTHC_ERR_ADAPTER);
    assert_null(v.data);
    assert_int_equal(authc__store_mget(st, ar, keys, 2, vals),
                     AUTHC_ERR_ADAPTER);
    assert_int_equal(authc__store_set(st, "t:k", "1", 1, 1000),
                     AUTHC_ERR_ADAPTER);
    assert_int_equal(authc__store_set_nx(st, "t:k", "1", 1, 1000, &b),
                     AUTHC_ERR_ADAPTER);
    assert_false(b);
    b = true;
    assert_int_equal(authc__store_renew_if_owner(st, "t:k", "o", 1000, &b),
                     AUTHC_ERR_ADAPTER);
    assert_false(b);
    assert_int_equal(authc__store_delete_if_owner(st, "t:k", "o", &b),
                     AUTHC_ERR_ADAPTER);
    assert_int_equal(authc__store_delete(st, "t:k", &b), AUTHC_ERR_ADAPTER);
    assert_int_equal(authc__store_incr(st, "t:n", 1, 1000, &n),
                     AUTHC_ERR_ADAPTER);
    assert_int_equal(n, 0);
    assert_true(errors >= 9);
    assert_non_null(strstr(logbuf, "127.0.0.1:1"));
    assert_non_null(strstr(logbuf, "***"));
    assert_null(strstr(logbuf, "s3cret"));
    authc__store_close(st);
    authc_arena_free(ar);
}

static void test_refused_redis(void **state)
{
    (void)state;
    refused("redis://user:s3cret@127.0.0.1:1/0?prefix=x:&connect_timeout=500");
}

static void test_refused_postgres(void **state)
{
    (void)state;
    refused("postgres://user:s3cret@127.0.0.1:1/db?connect_timeout=500");
}

TU_MAIN(NULL, NULL,
        cmocka_unit_test(test_bad_urls), cmocka_unit_test(test_memory_handles),
        cmocka_unit_test(test_memory_max_entries), cmocka_unit_test(test_sqlite_file),
        cmocka_unit_test(test_sqlite_locked), cmocka_unit_test(test_refused_redis),
        cmocka_unit_test(test_refused_postgres))

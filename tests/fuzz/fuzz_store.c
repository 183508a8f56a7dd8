/* fuzz_store.c — the shared store's values (lib/store): the counter parser
 * against strtoll, and random operation sequences on the memory backend (even
 * input sizes) or the SQLite backend (odd) checked against a model of four keys
 * (no expiry within a run). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"
#include "store/store_be_int.h"
#include "store/store_int.h"

#define NKEYS 4
#define TTL (3600 * 1000)

typedef struct model {
    bool live;
    uint8_t v[32];
    size_t n;
} model;

/* The counter parser agrees with strtoll on plain decimal text. */
static void parse_check(const uint8_t *p, size_t n)
{
    int64_t got;
    bool ok = authc__store_parse_i64(p, n, &got);
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    bool plain = strspn(tmp + (tmp[0] == '-'), "0123456789") == n - (tmp[0] == '-') && n > (size_t)(tmp[0] == '-');
    errno = 0;
    char *e;
    long long v = strtoll(tmp, &e, 10);
    if (plain && errno != ERANGE)
        FUZZ_CHECK(ok && got == v, "counter \"%s\" parsed as %s", tmp, ok ? "another value" : "invalid");
    if (ok)
        FUZZ_CHECK(!*e && errno != ERANGE && got == v, "accepted \"%s\" that strtoll reads otherwise", tmp);
}

/* The SQLite store's file (and its WAL files), removed at exit. */
static char g_db[64];

static void remove_db(void)
{
    char p[80];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", g_db, suffix[i]);
        unlink(p);
    }
}

/* The two backends, opened once per process, closed at exit (valgrind
 * runs the replays: SQLite's memory must not show as lost). */
static authc_store *mem, *lite;

static void close_stores(void)
{
    authc__store_close(lite);
    authc__store_close(mem);
    lite = mem = NULL;
    remove_db();
}

static authc_store *store_for(size_t size)
{
    char err[256], url[80];
    if (!mem && !(mem = authc__store_open("memory:", NULL, NULL, err, sizeof err)))
        abort();
    if (!lite) {
        snprintf(g_db, sizeof g_db, "%s/authc-fuzz-store-%ld.db", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
        remove_db();
        atexit(close_stores);
        snprintf(url, sizeof url, "sqlite:%s", g_db);
        if (!(lite = authc__store_open(url, NULL, NULL, err, sizeof err)) || authc__store_migrate(lite)) {
            fprintf(stderr, "fuzz_store: %s\n", err);
            abort();
        }
    }
    return size & 1 ? lite : mem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    parse_check(data, size < 40 ? size : 40);
    authc_store *st = store_for(size);
    static const char *const keys[NKEYS] = {"fz:a", "fz:b", "fz:c", "fz:d"};
    model m[NKEYS] = {0};
    for (size_t k = 0; k < NKEYS; k++)
        authc__store_delete(st, keys[k], NULL);
    authc_arena *ar = authc_arena_new();
    for (size_t i = 0; i + 2 < size;) {
        uint8_t op = data[i], k = data[i + 1] % NKEYS, vl = data[i + 2] % 9;
        i += 3;
        if (i + vl > size)
            vl = (uint8_t)(size - i);
        const uint8_t *val = data + i;
        i += vl;
        model *mk = &m[k];
        switch (op % 6) {
        case 0: /* set */
            FUZZ_CHECK(authc__store_set(st, keys[k], val, vl, TTL) == AUTHC_OK, "set");
            mk->live = true, mk->n = vl, memcpy(mk->v, val, vl);
            break;
        case 1: { /* set_nx */
            bool stored;
            authc_err e = authc__store_set_nx(st, keys[k], val, vl, TTL, &stored);
            FUZZ_CHECK(e == AUTHC_OK, "set_nx: %s", authc_strerror(e));
            FUZZ_CHECK(stored == !mk->live, "set_nx stored=%d with the key %s", stored, mk->live ? "live" : "absent");
            if (stored)
                mk->live = true, mk->n = vl, memcpy(mk->v, val, vl);
            break;
        }
        case 2: { /* get */
            authc__store_val v;
            FUZZ_CHECK(authc__store_get(st, ar, keys[k], &v) == AUTHC_OK, "get");
            FUZZ_CHECK(!v.data == !mk->live, "get: presence differs from the model");
            if (v.data)
                FUZZ_CHECK(v.len == mk->n && !memcmp(v.data, mk->v, v.len) && v.data[v.len] == 0,
                           "get: value differs from the model");
            break;
        }
        case 3: { /* delete */
            bool deleted;
            FUZZ_CHECK(authc__store_delete(st, keys[k], &deleted) == AUTHC_OK, "delete");
            FUZZ_CHECK(deleted == mk->live, "delete: deleted=%d", deleted);
            mk->live = false;
            break;
        }
        case 4: { /* incr */
            int64_t by = (int64_t)(int8_t)(vl ? val[0] : 1), out = 0, cur = 0, want;
            bool counter = !mk->live || authc__store_parse_i64(mk->v, mk->n, &cur);
            bool fits = counter && authc__store_add_i64(cur, by, &want);
            authc_err e = authc__store_incr(st, keys[k], by, TTL, &out);
            if (!fits) {
                FUZZ_CHECK(e == AUTHC_ERR_INVALID, "incr of a non-counter: %s", authc_strerror(e));
                break;
            }
            FUZZ_CHECK(e == AUTHC_OK && out == want, "incr: %lld, model %lld", (long long)out, (long long)want);
            mk->live = true;
            mk->n = (size_t)snprintf((char *)mk->v, sizeof mk->v, "%lld", (long long)want);
            break;
        }
        default: { /* owner operations with the value as owner */
            char owner[16];
            snprintf(owner, sizeof owner, "%.*s", (int)vl, (const char *)val);
            size_t ol = strlen(owner);
            bool is_owner = mk->live && mk->n == ol && !memcmp(mk->v, owner, ol), done;
            if (!ol) { /* no owner is a caller error */
                FUZZ_CHECK(authc__store_delete_if_owner(st, keys[k], owner, &done) == AUTHC_ERR_INVALID && !done,
                           "empty owner accepted");
                break;
            }
            if (op & 8) {
                FUZZ_CHECK(authc__store_renew_if_owner(st, keys[k], owner, TTL, &done) == AUTHC_OK, "renew");
                FUZZ_CHECK(done == is_owner, "renew_if_owner: %d", done);
            } else {
                authc_err de = authc__store_delete_if_owner(st, keys[k], owner, &done);
                FUZZ_CHECK(de == AUTHC_OK, "delete_if_owner(\"%s\"): %s", owner, authc_strerror(de));
                FUZZ_CHECK(done == is_owner, "delete_if_owner: %d", done);
                if (done)
                    mk->live = false;
            }
            break;
        }
        }
    }
    authc_arena_free(ar);
    return 0;
}

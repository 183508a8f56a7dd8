/* fuzz_config.c — the NAME=value settings file and everything built from it
 * (lib/config: secrets, URLs, providers, email, passkeys), and the
 * credentials users file. Settings that name files, databases or remote
 * issuers are left out (they would read the machine or the network). */
#include <argon2.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include "authc/env.h"
#include "config/env_int.h"
#include "config/users_int.h"
#include "fuzz.h"

/* Each users-file load hashes its timing-equaliser dummy at the costliest
 * parameters the file names (up to hundreds of MiB): argon2's cost, not the
 * parser's, and it held this target to ~200 inputs a second. The harness
 * takes libargon2's argon2id_hash_encoded at its minimum cost instead (the
 * encoded string then names that cost; nothing here verifies with it). */
int argon2id_hash_encoded(const uint32_t t_cost, const uint32_t m_cost, const uint32_t parallelism,
                          const void *pwd, const size_t pwdlen, const void *salt,
                          const size_t saltlen, const size_t hashlen, char *encoded,
                          const size_t encodedlen)
{
    typedef int (*hash_fn)(uint32_t, uint32_t, uint32_t, const void *, size_t, const void *,
                           size_t, size_t, char *, size_t);
    static hash_fn real;
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "argon2id_hash_encoded");
    FUZZ_CHECK(real, "libargon2's argon2id_hash_encoded not found");
    FUZZ_CHECK(t_cost >= 1 && parallelism >= 1 && m_cost >= 8 * parallelism, "argon2 costs %u/%u/%u",
               t_cost, m_cost, parallelism);
    return real(1, 8, 1, pwd, pwdlen, salt, saltlen, hashlen, encoded, encodedlen);
}

static void quiet(void *ud, const char *level, const char *msg)
{
    (void)ud; (void)level; (void)msg;
}

/* STORE: AUTHC_STORE names a database (sqlite:NAME created a file named by
 * the input in the working directory) or a Redis/PostgreSQL server. */
static bool risky(const char *name)
{
    static const char *const words[] = {"FILE", "DATABASE", "ISSUER", "WELLKNOWN", "CA", "PATH", "DIR",
                                        "SERVER", "ENDPOINT", "URL", "STORE"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strstr(name, words[i]) && strcmp(name, "AUTH_URL"))
            return true;
    return false;
}

static void settings(const char *path)
{
    authc_settings *s = authc_settings_new();
    char err[2048];
    if (!s)
        abort();
    if (authc_settings_load_file(s, path, err, sizeof err) == AUTHC_OK) {
        bool safe = true;
        for (size_t i = 0; i < authc__settings_count(s); i++) {
            const char *name = authc__settings_name(s, i);
            FUZZ_CHECK(name && *name && authc_settings_get(s, name), "setting %zu unreadable", i);
            safe = safe && !risky(name);
        }
        authc_env_options o = {.log = quiet};
        authc_resources *res = NULL;
        authc_config *cfg = safe ? authc_config_from_settings(s, &o, &res, err, sizeof err) : NULL;
        if (cfg) {
            authc *a = authc_new(cfg, err, sizeof err);
            authc_free(a);
        }
        if (res)
            authc_resources_free(res);
    }
    authc_settings_free(s);
}

/* Input: byte 0 even → a settings file, odd → a users file. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    int fd = memfd_create("fuzz", 0);
    if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
        abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (data[0] % 2 == 0) {
        settings(path);
    } else {
        char err[512];
        authc__users *u = authc__users_load(path, err, sizeof err);
        if (u) {
            size_t lines = 1;
            for (size_t i = 1; i < size; i++)
                lines += data[i] == '\n';
            FUZZ_CHECK(authc__users_count(u) <= lines, "more users than lines");
            authc__users_free(u);
        } else {
            FUZZ_CHECK(err[0], "refused without a reason");
        }
    }
    close(fd);
    return 0;
}

/* fuzz_adapters.c — what the database backends parse from stored rows and
 * settings (lib/adapters/registry.c): ISO-8601 dates as the Redis and SQL
 * rows hold them, and URL redaction for messages. The Redis JSON row codec
 * is static in lib/adapters/redis.c and not reachable from here. */
#include "adapters/adapters_int.h"
#include "fuzz.h"
#include "util/util_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = fuzz_cstr(data, size);
    int64_t ms;
    if (authc__iso8601_parse(s, &ms) == AUTHC_OK) {
        /* What JS toISOString writes parses back to the same instant. */
        char iso[32];
        authc__iso8601(iso, ms);
        int64_t again;
        FUZZ_CHECK(authc__iso8601_parse(iso, &again) == AUTHC_OK && again == ms,
                   "%s does not round-trip", iso);
        /* (Day overflow such as Feb 30 rolls over, as V8's Date does.) */
    }
    char out[512];
    authc__url_redact(s, out, sizeof out);
    FUZZ_CHECK(memchr(out, '\0', sizeof out), "redacted URL not terminated");
    /* scheme://user:password@host: the password never survives. */
    const char *ss = strstr(s, "://");
    if (ss && !strpbrk(s, "?#")) {
        const char *at = strchr(ss + 3, '@'), *colon = strchr(ss + 3, ':');
        if (at && colon && colon < at && at - colon > 6 && !memchr(ss + 3, '/', (size_t)(at - ss - 3))) {
            char pw[256];
            snprintf(pw, sizeof pw, "%.*s@", (int)(at - colon - 1), colon + 1);
            /* Only when the password occurs once in the whole input. */
            const char *first = strstr(s, pw);
            if (first && !strstr(first + 1, pw) && strlen(s) < sizeof out)
                FUZZ_CHECK(!strstr(out, pw), "password left in %s", out);
        }
    }
    free(s);
    return 0;
}

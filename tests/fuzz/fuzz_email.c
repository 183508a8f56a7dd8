/* fuzz_email.c — address normalisation (lib/providers/email*.c: NFKC, JS
 * toLowerCase, trim, the Auth.js refusals), the sign-in link and the
 * client key that rate limits use. */
#include "fuzz.h"
#include "providers/email_int.h"
#include "providers/email_unicode_int.h"
#include "authc/email.h"

static bool utf8_ok(const unsigned char *s)
{
    while (*s) {
        size_t n = *s < 0x80 ? 1 : (*s >> 5) == 6 ? 2 : (*s >> 4) == 14 ? 3 : (*s >> 3) == 30 ? 4 : 0;
        if (!n)
            return false;
        for (size_t i = 1; i < n; i++)
            if ((s[i] & 0xc0) != 0x80)
                return false;
        s += n;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8 * 1024)
        return 0;
    char *s = fuzz_cstr(data, size);
    authc_arena *ar = authc_arena_new();
    const char *out = NULL;
    if (authc_email_normalize(ar, s, &out) == AUTHC_OK) {
        FUZZ_CHECK(out && utf8_ok((const unsigned char *)out), "normalised address not UTF-8");
        const char *at = strchr(out, '@');
        FUZZ_CHECK(at && at != out && at[1] && !strchr(at + 1, '@'), "not exactly one @ with two sides");
        FUZZ_CHECK(!strchr(out, '"') && !strchr(at, ','), "quote or comma left");
        /* (Not idempotent, as in Auth.js: "x@\f,b" gives "x@\f", which
         * trims to "x@" the next time; the sign-in refuses it later.) */
        char *link = authc__email_link(ar, "http://localhost:3000", "/auth", "email", "/", "tok", out);
        FUZZ_CHECK(link, "link");
        for (const char *p = link; *p; p++)
            FUZZ_CHECK((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f && *p != '"' && *p != '<',
                       "link has 0x%02x", (unsigned char)*p);
    }
    char *folded = NULL;
    if (authc__eu_js_fold(ar, (const char *)data, size, &folded) == AUTHC_OK)
        FUZZ_CHECK(folded && utf8_ok((const unsigned char *)folded), "fold output not UTF-8");
    unsigned char key[64];
    size_t kl = authc__email_client_key(s, key);
    FUZZ_CHECK(kl <= 64, "client key too long");
    authc_arena_free(ar);
    free(s);
    return 0;
}

/* test_encoding.c — direct unit tests of lib/util/encoding.c: base64url and
 * base64 against OpenSSL's encoder, strict decoding (alphabet, padding,
 * canonical bits, bounds) and hex. */
#include "cmocka_main.h"

#include <openssl/evp.h>

#include "util/util_int.h"

#include "arena_fixture.h"

/* Reference encodings from OpenSSL: padded standard, and the base64url
 * form derived from it (+/ → -_, no '='). */
static void reference(const uint8_t *in, size_t n, char *std, char *url)
{
    int l = EVP_EncodeBlock((unsigned char *)std, in, (int)n);
    for (int i = 0; i <= l; i++) {
        char c = std[i];
        url[i] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    char *eq = strchr(url, '=');
    if (eq)
        *eq = '\0';
}

static void test_roundtrip_vs_openssl(void **state)
{
    (void)state;
    uint8_t in[200];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 37 + 11); /* covers every 6-bit group */
    for (size_t n = 0; n <= sizeof in; n++) {
        char std[300], url[300];
        reference(in, n, std, url);
        char *e = authc__b64url_encode(ar, in, n);
        assert_string_equal(e, url);
        char to[300];
        assert_int_equal(authc__b64url_encode_to(to, in, n), strlen(url));
        assert_string_equal(to, url);
        assert_string_equal(authc__b64_encode(ar, in, n), std);
        size_t ol = 999;
        uint8_t *d = authc__b64url_decode(ar, url, strlen(url), &ol);
        assert_non_null(d);
        assert_int_equal(ol, n);
        assert_memory_equal(d, in, n);
        d = authc__b64_decode(ar, std, strlen(std), &ol);
        assert_non_null(d);
        assert_int_equal(ol, n);
        assert_memory_equal(d, in, n);
    }
}

static bool in_alphabet(int c, bool url)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (url ? (c == '-' || c == '_') : (c == '+' || c == '/'));
}

static void test_every_byte(void **state)
{
    (void)state;
    /* c then 'A': two characters make one byte, and 'A' leaves the unused
     * low bits zero, so only c's membership decides. */
    for (int c = 0; c < 256; c++) {
        char s[3] = {(char)c, 'A', 0};
        size_t ol;
        uint8_t buf[4];
        bool u = authc__b64url_decode_to(buf, sizeof buf, s, 2) >= 0;
        bool st = authc__b64_decode(ar, s, 2, &ol) != NULL;
        assert_int_equal(u, in_alphabet(c, true));
        assert_int_equal(st, in_alphabet(c, false));
        /* and in the last position of a full quad */
        char q[5] = {'Q', 'U', 'J', (char)c, 0};
        assert_int_equal(authc__b64url_decode_to(buf, sizeof buf, q, 4) >= 0, in_alphabet(c, true));
        /* every position of a quad (each has its own decoding table), in
         * both alphabets, and a tail's second character */
        for (int pos = 0; pos < 4; pos++) {
            char w[9] = "QUJDQUJD";
            w[4 + pos] = (char)c;
            assert_int_equal(authc__b64url_decode_to(buf, sizeof buf, w, 8) >= 0, false); /* cap 4 */
            uint8_t big[8];
            assert_int_equal(authc__b64url_decode_to(big, sizeof big, w, 8) >= 0, in_alphabet(c, true));
            assert_int_equal(authc__b64_decode(ar, w, 8, &ol) != NULL, in_alphabet(c, false));
        }
        char t[4] = {'Q', (char)c, 0, 0};
        bool zero_low = (c == 'A' || c == 'Q' || c == 'g' || c == 'w'); /* low 4 bits of the value 0 */
        assert_int_equal(authc__b64url_decode_to(buf, sizeof buf, t, 2) >= 0, zero_low);
    }
}

static void test_strict_decoding(void **state)
{
    (void)state;
    size_t ol;
    uint8_t out[16];
    /* base64url takes no padding, no spaces, no other alphabet */
    static const char *const bad_url[] = {"QQ==", "QQ=", "Q", "QUJDR", "QU JD", "QUJD\n", "a+b/", "QR", "QUJ",
                                          "QUJ=", "=QUJ"};
    for (size_t i = 0; i < sizeof bad_url / sizeof *bad_url; i++)
        assert_null(authc__b64url_decode(ar, bad_url[i], strlen(bad_url[i]), &ol));
    /* "QR" and "QUJ" leave non-zero unused bits (rejected); "QQ" and "QUI"
     * are the canonical forms of the same bytes */
    assert_non_null(authc__b64url_decode(ar, "QQ", 2, &ol));
    assert_int_equal(ol, 1);
    assert_non_null(authc__b64url_decode(ar, "QUI", 3, &ol));
    assert_int_equal(ol, 2);
    /* embedded NUL is not skipped */
    assert_null(authc__b64url_decode(ar, "QU\0D", 4, &ol));
    /* empty input is the empty string */
    uint8_t *e = authc__b64url_decode(ar, "", 0, &ol);
    assert_non_null(e);
    assert_int_equal(ol, 0);

    /* standard base64: padding optional, but exactly right when present */
    static const char *const ok_std[] = {"QQ==", "QQ", "QUI=", "QUI", "QUJD", "a+b/"};
    for (size_t i = 0; i < sizeof ok_std / sizeof *ok_std; i++)
        assert_non_null(authc__b64_decode(ar, ok_std[i], strlen(ok_std[i]), &ol));
    static const char *const bad_std[] = {"QQ=", "QQ===", "QUI==", "QUJD=", "QUJD==", "=", "==", "Q===",
                                          "QQ=A", "a-b_", "QR==", "QUI"  "\xff"};
    for (size_t i = 0; i < sizeof bad_std / sizeof *bad_std; i++)
        assert_null(authc__b64_decode(ar, bad_std[i], strlen(bad_std[i]), &ol));

    /* decode_to: cap is exact, never exceeded */
    assert_int_equal(authc__b64url_decode_to(out, 3, "QUJD", 4), 3);
    assert_memory_equal(out, "ABC", 3);
    memset(out, 0x55, sizeof out);
    assert_int_equal(authc__b64url_decode_to(out, 2, "QUJD", 4), -1);
    assert_int_equal(out[0], 0x55); /* nothing written when it does not fit */
    assert_int_equal(authc__b64url_decode_to(out, 1, "QUI", 3), -1);
    assert_int_equal(authc__b64url_decode_to(out, 2, "QUI", 3), 2);
}

static void test_hex(void **state)
{
    (void)state;
    char out[2 * 5 + 1];
    memset(out, 'z', sizeof out);
    authc__hex(out, (const uint8_t *)"\x00\x0f\xa5\xff\x10", 5);
    assert_string_equal(out, "000fa5ff10");
    authc__hex(out, NULL, 0);
    assert_string_equal(out, "");
    /* every byte against printf */
    uint8_t all[256];
    char got[513], want[3];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    authc__hex(got, all, sizeof all);
    for (int i = 0; i < 256; i++) {
        snprintf(want, sizeof want, "%02x", i);
        assert_memory_equal(got + 2 * i, want, 2);
    }
    assert_int_equal(got[512], '\0');
}

TU_MAIN(arena_setup, arena_teardown,
        cmocka_unit_test(test_roundtrip_vs_openssl), cmocka_unit_test(test_every_byte),
        cmocka_unit_test(test_strict_decoding), cmocka_unit_test(test_hex))

/* pages_lang.c — picks the language of the built-in pages from a configured
 * override or the Accept-Language header (RFC 9110 §12.5.4 with q-values). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/pages_int.h"

/* Only this much of the header is looked at; a browser sends < 200 bytes,
 * so the rest of a huge header is noise we do not spend time on. */
#define AL_MAX_BYTES 4096u
#define AL_MAX_ITEMS 64u
#define TAG_MAX 63u

typedef enum { PICK_NONE = -1, PICK_EN = AUTHC__LANG_EN, PICK_ZH = AUTHC__LANG_ZH } pick;

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_alpha(char c)
{
    c = lower(c);
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Case-insensitive equality of s[0..n) with the lowercase word w. */
static bool word_is(const char *s, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (n != wl)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != w[i])
            return false;
    return true;
}

/* Maps a language tag (already checked to be alnum subtags joined by '-')
 * to a page language. Only Simplified Chinese is shipped, so Traditional
 * variants (Hant, TW, HK, MO) are "not available" and the caller moves on
 * to the next preference. */
static pick tag_lang(const char *t, size_t n)
{
    if (n == 1 && t[0] == '*')
        return PICK_EN; /* any language: ours by default */
    size_t p = 0;
    while (p < n && t[p] != '-')
        p++;
    if (word_is(t, p, "en"))
        return PICK_EN;
    if (!word_is(t, p, "zh"))
        return PICK_NONE;
    bool hans = false, hant = false, region = false, simplified_region = false;
    size_t i = p;
    while (i < n) {
        size_t s = ++i; /* skip '-' */
        while (i < n && t[i] != '-')
            i++;
        size_t sl = i - s;
        if (word_is(t + s, sl, "hans"))
            hans = true;
        else if (word_is(t + s, sl, "hant"))
            hant = true;
        else if ((sl == 2 && is_alpha(t[s]) && is_alpha(t[s + 1])) ||
                 (sl == 3 && is_digit(t[s]) && is_digit(t[s + 1]) && is_digit(t[s + 2]))) {
            region = true;
            if (word_is(t + s, sl, "cn") || word_is(t + s, sl, "sg"))
                simplified_region = true;
        }
    }
    if (hant)
        return PICK_NONE;
    if (hans || !region || simplified_region)
        return PICK_ZH;
    return PICK_NONE;
}

/* A language-range: "*" or 1-8 letters, then "-" and 1-8 alphanumerics. */
static bool tag_valid(const char *t, size_t n)
{
    if (n == 1 && t[0] == '*')
        return true;
    if (n == 0 || n > TAG_MAX)
        return false;
    size_t run = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '-') {
            if (run == 0)
                return false;
            run = 0;
            first = false;
            continue;
        }
        if (!(is_alpha(c) || (!first && is_digit(c))) || ++run > 8)
            return false;
    }
    return run > 0;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in
 * thousandths; -1 when malformed. */
static int parse_q(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000;
    if (n == 1)
        return q;
    if (s[1] != '.' || n > 5)
        return -1;
    int scale = 100;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (!is_digit(s[i]) || (q == 1000 && s[i] != '0'))
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q;
}

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses one list element: OWS range [OWS ";" OWS "q=" qvalue] OWS. */
static bool parse_item(const char *s, size_t n, pick *lang, int *q)
{
    size_t i = 0;
    while (i < n && ows(s[i]))
        i++;
    size_t ts = i;
    while (i < n && !ows(s[i]) && s[i] != ';')
        i++;
    if (!tag_valid(s + ts, i - ts))
        return false;
    *lang = tag_lang(s + ts, i - ts);
    *q = 1000;
    while (i < n && ows(s[i]))
        i++;
    if (i == n)
        return true;
    if (s[i++] != ';')
        return false;
    while (i < n && ows(s[i]))
        i++;
    if (i + 2 > n || lower(s[i]) != 'q' || s[i + 1] != '=')
        return false;
    i += 2;
    size_t qs = i;
    while (i < n && !ows(s[i]))
        i++;
    *q = parse_q(s + qs, i - qs);
    while (i < n && ows(s[i]))
        i++;
    return *q >= 0 && i == n;
}

static authc__lang from_accept_language(const char *al)
{
    if (!al)
        return AUTHC__LANG_EN;
    size_t n = strnlen(al, AL_MAX_BYTES);
    authc__lang best = AUTHC__LANG_EN;
    int best_q = 0; /* q=0 means "not acceptable": it never wins */
    size_t i = 0;
    for (unsigned items = 0; i < n && items < AL_MAX_ITEMS; items++) {
        size_t s = i;
        while (i < n && al[i] != ',')
            i++;
        pick lang;
        int q;
        /* Strictly greater keeps the earlier element on equal q. */
        if (parse_item(al + s, i - s, &lang, &q) && lang != PICK_NONE && q > best_q) {
            best = (authc__lang)lang;
            best_q = q;
        }
        i++; /* past ',' */
    }
    return best;
}

authc__lang authc__lang_pick(const char *override, const char *accept_language)
{
    if (override && *override && !word_is(override, strnlen(override, 8), "auto")) {
        size_t n = strnlen(override, TAG_MAX + 1);
        if (tag_valid(override, n)) {
            pick p = tag_lang(override, n);
            if (p != PICK_NONE)
                return (authc__lang)p;
        }
        /* An override we do not ship falls back to negotiation. */
    }
    return from_accept_language(accept_language);
}

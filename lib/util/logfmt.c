/* logfmt.c — the one log-line formatter (text or JSON): every field is
 * escaped here, so no caller can let input forge or split a log line. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authc/log.h"
#include "util/parse_int.h"

typedef struct lb {
    char *p;
    size_t len, lim; /* lim = cap minus the room kept for the trailer */
    bool cut;
} lb;

static void raw(lb *b, const char *s, size_t n)
{
    if (b->cut || b->len + n > b->lim) {
        b->cut = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void raws(lb *b, const char *s)
{
    raw(b, s, strlen(s));
}

/* Appends s escaped; quote adds the surrounding quotes. */
static void esc(lb *b, const char *s, bool json, bool quote)
{
    if (quote)
        raw(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p && !b->cut;) {
        char tmp[8];
        unsigned c = *p;
        if (c >= 0x80) {
            /* strict UTF-8 (parse_int.h); a valid sequence holds no NUL */
            size_t n = authc__utf8_next(p, strnlen((const char *)p, 4), NULL);
            if (n) {
                raw(b, (const char *)p, n);
                p += n;
                continue;
            }
            raws(b, json ? "\\ufffd" : (snprintf(tmp, sizeof tmp, "\\x%02x", c), tmp));
        } else if (c == '\n') {
            raws(b, "\\n");
        } else if (c == '\r') {
            raws(b, "\\r");
        } else if (c == '\t') {
            raws(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(tmp, sizeof tmp, json ? "\\u%04x" : "\\x%02x", c);
            raws(b, tmp);
        } else if ((c == '"' || c == '\\') && (json || quote)) {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            raw(b, tmp, 2);
        } else {
            raw(b, (const char *)p, 1);
        }
        p++;
    }
    if (quote) {
        /* One byte is always kept for this quote, so a cut string still
         * closes and a JSON line stays valid. */
        b->p[b->len++] = '"';
    }
}

/* Text values are quoted when they would otherwise be ambiguous. */
static bool needs_quotes(const char *v)
{
    return !*v || strpbrk(v, " =\"\\") != NULL;
}

static void timestamp(char out[32])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

size_t authc_log_format(char *out, size_t cap, bool json, const char *level, const char *msg,
                        const authc_log_field *fields, size_t nfields)
{
    static const char TEXT_TAIL[] = "\xe2\x80\xa6\n", JSON_TAIL[] = ",\"truncated\":true}\n";
    size_t keep = json ? sizeof JSON_TAIL : sizeof TEXT_TAIL;
    if (!out || cap < 128)
        return 0; /* too small to hold even the fixed members */
    lb b = {out, 0, cap - keep - 1, false};
    size_t good = 0; /* JSON: end of the last complete member */
    char ts[32];
    timestamp(ts);
    level = level ? level : "info";
    msg = msg ? msg : "";
    if (json) {
        raws(&b, "{\"ts\":\"");
        raws(&b, ts);
        raws(&b, "\",\"level\":");
        esc(&b, level, true, true);
        raws(&b, ",\"msg\":");
        esc(&b, msg, true, true);
        good = b.len;
    } else {
        raws(&b, ts);
        raws(&b, " ");
        esc(&b, level, false, false);
        for (size_t i = strlen(level); i < 5; i++)
            raw(&b, " ", 1); /* levels line up as "info " / "error" */
        raws(&b, " ");
        esc(&b, msg, false, false);
    }
    for (size_t i = 0; i < nfields && !b.cut; i++) {
        const authc_log_field *f = &fields[i];
        if (!f->key || !f->value)
            continue;
        raws(&b, json ? ",\"" : " ");
        esc(&b, f->key, json, false);
        raws(&b, json ? "\":" : "=");
        esc(&b, f->value, json, json ? !f->number : needs_quotes(f->value));
        if (!b.cut)
            good = b.len;
    }
    if (json)
        raws(&b, "}\n");
    else
        raws(&b, "\n");
    if (b.cut) {
        if (json) {
            /* Drop the member that did not fit; a cut msg was closed. */
            b.len = good ? good : b.len;
            memcpy(out + b.len, JSON_TAIL, sizeof JSON_TAIL - 1);
            b.len += sizeof JSON_TAIL - 1;
        } else {
            memcpy(out + b.len, TEXT_TAIL, sizeof TEXT_TAIL - 1);
            b.len += sizeof TEXT_TAIL - 1;
        }
    }
    out[b.len] = '\0';
    return b.len;
}

static atomic_bool g_json;

void authc_log_set_json(bool json)
{
    atomic_store(&g_json, json);
}

bool authc_log_is_json(void)
{
    return atomic_load(&g_json);
}

void authc_log_write(const char *level, const char *msg, const authc_log_field *fields, size_t nfields)
{
    char line[AUTHC_LOG_LINE_MAX];
    size_t n = authc_log_format(line, sizeof line, authc_log_is_json(), level, msg, fields, nfields);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(STDERR_FILENO, line + off, n - off);
        if (w <= 0)
            return; /* a log that cannot be written is dropped, never fatal */
        off += (size_t)w;
    }
}

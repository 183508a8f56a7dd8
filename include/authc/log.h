/* authc/log.h — one log-line format for the library and the server: plain
 * text or one JSON object per line, control characters always escaped. */
#ifndef AUTHC_LOG_H
#define AUTHC_LOG_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct authc_log_field {
    const char *key;    /* a fixed name such as "request_id"; never user input */
    const char *value;  /* any text (escaped on output); NULL = field left out */
    bool number;        /* value is a decimal number: unquoted in JSON */
} authc_log_field;

/* Formats one log line (with a trailing newline) into out (cap bytes):
 * text — "2026-12-03T09:00:00.123Z info  msg key=value key=\"a b\"";
 * json — {"ts":"…","level":"info","msg":"…","key":"value",…}.
 * Every byte below 0x20, 0x7f and invalid UTF-8 in msg or a value is
 * escaped (\n, \r, \t, \u00XX or \xXX), so input can never forge a line.
 * A line that would not fit is cut and ends with "…" (text) or a valid
 * JSON object with "truncated":true. Returns the length written. */
size_t authc_log_format(char *out, size_t cap, bool json, const char *level, const char *msg,
                        const authc_log_field *fields, size_t nfields);

/* Longest line authc_log_format produces with the default buffer. */
#define AUTHC_LOG_LINE_MAX 4096

/* The format of the process's stderr log (authc_log_stderr and
 * authc_log_write): text by default; set once at start-up
 * (AUTHC_LOG_FORMAT=json). */
void authc_log_set_json(bool json);
bool authc_log_is_json(void);
/* Formats one line and writes it to stderr in one write(2), so lines of
 * concurrent threads never interleave. */
void authc_log_write(const char *level, const char *msg, const authc_log_field *fields, size_t nfields);

#ifdef __cplusplus
}
#endif
#endif

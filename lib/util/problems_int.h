/* problems_int.h — the one way libauthc and the program report configuration
 * problems: an append-only list, each naming its setting and what to do.
 *
 * Checks never stop at the first problem: they add every one they find and
 * the caller renders the list once, one problem per line, so a user fixes
 * everything in one go. Usage:
 *
 *     authc__problems pr = {0};
 *     authc__problem(&pr, "AUTH_SECRET", "is not set; set it to …");
 *     if (authc__problems_count(&pr)) authc__problems_render(&pr, err, errlen);
 *     authc__problems_clear(&pr);
 *
 * Adding never fails from the caller's side: on out-of-memory or past
 * AUTHC__PROBLEMS_MAX the list keeps count and the rendering says so. */
#ifndef AUTHC_PROBLEMS_INT_H
#define AUTHC_PROBLEMS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define AUTHC__PROBLEMS_MAX 100   /* kept; more are only counted */
#define AUTHC__PROBLEM_TEXT_MAX 1024

typedef struct authc__problem_item {
    char *setting; /* heap, NULL when the problem has no single setting */
    char *text;    /* heap: what is wrong and what to do */
} authc__problem_item;

/* Zero-initialise ({0}) before use; release with authc__problems_clear. */
typedef struct authc__problems {
    authc__problem_item *items; /* heap, owned by the list */
    size_t n, cap;
    size_t dropped;             /* problems counted but not kept (OOM or past MAX) */
} authc__problems;

/* Appends one problem. setting names the setting as the user writes it
 * ("AUTH_SECRET", "theme.brandColor") or is NULL; fmt says what is wrong
 * and what to do, without a trailing newline (newlines inside become
 * spaces so that one problem stays one line). Both are copied. */
void authc__problem(authc__problems *p, const char *setting, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends every problem of src (a sub-check's list) to dst. */
void authc__problems_merge(authc__problems *dst, const authc__problems *src);
/* Problems added so far, kept or not. */
size_t authc__problems_count(const authc__problems *p);
/* The i-th kept problem (i < p->n), owned by p. */
const authc__problem_item *authc__problems_at(const authc__problems *p, size_t i);
/* Writes "SETTING: text" (or "text"), one per line, lines joined by '\n'
 * with no trailing newline, NUL-terminated into out (cap bytes; truncated
 * at a line boundary where possible, ending in "…" when cut). Returns the
 * length the whole rendering needs, like snprintf. */
size_t authc__problems_render(const authc__problems *p, char *out, size_t cap);
/* Writes each problem as "<prefix>SETTING: text\n" to f. */
void authc__problems_print(const authc__problems *p, FILE *f, const char *prefix);
/* Frees everything; the list is empty and reusable afterwards. */
void authc__problems_clear(authc__problems *p);

#endif

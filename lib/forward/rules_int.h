/* rules_int.h — forward-auth access rules: the ordered AUTHC_FORWARD_RULES
 * file, oauth2-proxy's allowed_* query parameters, and the decision. */
#ifndef AUTHC_FORWARD_RULES_INT_H
#define AUTHC_FORWARD_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "authc.h"

#define AUTHC__RULES_MAX        1024     /* rules in one file */
#define AUTHC__RULES_FILE_MAX   (1 << 20) /* bytes */
#define AUTHC__RULE_LINE_MAX    4096
#define AUTHC__RULE_LIST_MAX    64       /* entries in one users=/emails=/... list */
#define AUTHC__EXPLAIN_MAX      512
#define AUTHC__RULE_REGEX_MAX   256      /* bytes of one path~= expression */
#define AUTHC__RULE_REGEX_REPEAT_MAX 255 /* m and n of {m,n} */

typedef enum authc__fwd_policy {
    AUTHC__FWD_BYPASS,        /* no session needed */
    AUTHC__FWD_DENY,          /* 403 for everyone */
    AUTHC__FWD_AUTHENTICATED, /* a session that meets the rule's conditions */
} authc__fwd_policy;

/* What a forwarded request is about, and who (if anyone) is signed in. */
typedef struct authc__fwd_subject {
    bool signed_in;
    const char *user_id;
    const char *email;
    const char *name;
    const char *const *groups; /* n_groups entries */
    size_t n_groups;
    const char *provider;      /* provider of the sign-in, NULL when unknown */
} authc__fwd_subject;

typedef struct authc__fwd_target {
    const char *host;   /* host[:port] of the protected URL, lowercase or not */
    const char *path;   /* path without the query, as sent */
    const char *method; /* "GET", ... */
} authc__fwd_target;

typedef enum authc__fwd_result {
    AUTHC__FWD_ALLOW,           /* 200 */
    AUTHC__FWD_NEED_SESSION,    /* 401 / 302 / 303 */
    AUTHC__FWD_FORBIDDEN,       /* 403 */
} authc__fwd_result;

typedef struct authc__rules authc__rules;

/* Parses a rules file's text (see docs/forward-auth.md for the syntax).
 * Returns the rules (caller frees with authc__rules_free) or NULL with
 * "line N: reason" in why. An empty text is a valid empty rule set. */
authc__rules *authc__rules_parse(const char *text, size_t len, char *why, size_t whylen);
/* Reads and parses FILE (at most AUTHC__RULES_FILE_MAX bytes). */
authc__rules *authc__rules_load(const char *file, char *why, size_t whylen);
void authc__rules_free(authc__rules *r);

/* NULL when a path~= expression is cheap enough to compile, else why not:
 * over AUTHC__RULE_REGEX_MAX bytes, a back-reference, a repetition of a
 * repetition ("a++", "(a+)*"), a count over AUTHC__RULE_REGEX_REPEAT_MAX or
 * groups nested over 16 deep. glibc's regcomp grows exponentially in
 * nested repetition (18 stacked '+' take 170 MB). Static string. */
const char *authc__regex_cost_check(const char *re);
size_t authc__rules_count(const authc__rules *r);

/* The oauth2-proxy style per-request conditions (each a comma list; NULL
 * or empty = not given). All given ones must hold. */
typedef struct authc__fwd_query {
    const char *allowed_emails;
    const char *allowed_email_domains;
    const char *allowed_users;
    const char *allowed_groups;
} authc__fwd_query;

/* Decides a forwarded request. rules may be NULL (no file: every signed-in
 * user passes). explain (may be NULL) receives a one-line reason naming
 * the rule line that decided. The path is normalised (percent-decoding of
 * unreserved characters, dot segments removed) before matching, so
 * "/public/../admin" is judged as "/admin". */
authc__fwd_result authc__forward_decide(const authc__rules *rules, const authc__fwd_query *q,
                                        const authc__fwd_target *t, const authc__fwd_subject *s,
                                        char *explain, size_t explainlen);

/* Case-insensitive glob: '*' any run (also empty), '?' one character.
 * Used for host rules and AUTHC_REDIRECT_ALLOWED_HOSTS. */
bool authc__glob_match(const char *glob, const char *s);

/* Normalises a URL path for matching into out (outlen bytes): decodes
 * %-escapes of unreserved characters, collapses "//", removes "." and ".."
 * segments. false when it cannot be made safe (an encoded '/', '\\' or
 * NUL, or too long): the caller then treats the target as unusable. */
bool authc__path_normalize(const char *path, char *out, size_t outlen);

#endif

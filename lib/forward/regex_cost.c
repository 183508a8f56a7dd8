/* regex_cost.c — refuses path~= expressions whose compiled size or match
 * time can explode before they reach glibc's regcomp (found by fuzz_forward). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "forward/rules_int.h"

#define NEST_MAX 16 /* open groups */

typedef enum { T_START, T_ATOM, T_QUANT, T_GROUP_Q } tok;

/* Skips a bracket expression starting at s ('['); returns what follows
 * the closing ']' (or the end of the string: regcomp reports that). */
static const char *skip_bracket(const char *s)
{
    s++;
    if (*s == '^')
        s++;
    if (*s == ']')
        s++;
    while (*s && *s != ']') {
        if (s[0] == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
            char close[3] = {s[1], ']', '\0'};
            const char *e = strstr(s + 2, close);
            s = e ? e + 2 : s + strlen(s);
        } else {
            s++;
        }
    }
    return *s ? s + 1 : s;
}

/* Reads an interval "{m}", "{m,}" or "{m,n}" at s; false when it is not
 * one or a bound is over AUTHC__RULE_REGEX_REPEAT_MAX. *end: after '}'. */
static bool interval(const char *s, const char **end)
{
    s++;
    for (int part = 0; part < 2; part++) {
        int v = 0, digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++)
            if ((v = v * 10 + (*s - '0')) > AUTHC__RULE_REGEX_REPEAT_MAX)
                return false;
        if (!digits && part == 0)
            return false;
        if (*s == '}') {
            *end = s + 1;
            return true;
        }
        if (*s != ',' || part == 1)
            return false;
        s++;
    }
    return false;
}

const char *authc__regex_cost_check(const char *re)
{
    if (strlen(re) > AUTHC__RULE_REGEX_MAX)
        return "longer than 256 bytes";
    /* has_q[d]: whether the group open at depth d holds a repetition. A
     * repetition of something that holds one, or of a repetition, makes
     * glibc's automaton grow exponentially ("a++++", "((a+)+)+"). */
    bool has_q[NEST_MAX + 1] = {false};
    int depth = 0;
    tok prev = T_START;
    for (const char *s = re; *s;) {
        const char *next = s + 1;
        switch (*s) {
        case '\\':
            if (s[1] >= '1' && s[1] <= '9')
                return "back-references are not allowed";
            next = s[1] ? s + 2 : s + 1;
            prev = T_ATOM;
            break;
        case '[':
            next = skip_bracket(s);
            prev = T_ATOM;
            break;
        case '(':
            if (depth == NEST_MAX)
                return "groups nested deeper than 16";
            has_q[++depth] = false;
            prev = T_START;
            break;
        case ')':
            if (depth > 0) {
                bool q = has_q[depth--];
                has_q[depth] |= q;
                prev = q ? T_GROUP_Q : T_ATOM;
            } else {
                prev = T_ATOM;
            }
            break;
        case '|':
            prev = T_START;
            break;
        case '{':
            if (!(s[1] >= '0' && s[1] <= '9')) {
                prev = T_ATOM; /* a literal brace; regcomp judges it */
                break;
            }
            if (!interval(s, &next))
                return "a repetition count over 255 or malformed";
            __attribute__((fallthrough)); /* an interval is a repetition */
        case '*':
        case '+':
        case '?':
            if (prev == T_QUANT)
                return "a repetition of a repetition";
            if (prev == T_GROUP_Q)
                return "a repeated group that holds a repetition";
            has_q[depth] = true;
            prev = T_QUANT;
            break;
        default:
            prev = T_ATOM;
        }
        s = next;
    }
    return NULL;
}

/* cmocka_main.h — what a cmocka unit test needs: cmocka's prerequisite headers,
 * TU_MAIN (one main() running the file's tests as a group) and TU_HAS_ALL. */
#ifndef AUTHC_CMOCKA_MAIN_H
#define AUTHC_CMOCKA_MAIN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Fails the test unless hay contains every needle (a NULL-terminated list;
 * TU_HAS_ALL writes the list). */
static inline void tu_has_all(const char *hay, const char *const *needles)
{
    for (; *needles; needles++)
        if (!hay || !strstr(hay, *needles))
            fail_msg("missing \"%s\" in:\n%s", *needles, hay ? hay : "(null)");
}
#define TU_HAS_ALL(hay, ...) tu_has_all(hay, (const char *const[]){__VA_ARGS__, NULL})

/* Defines main(): runs the CMUnitTest entries given after the group fixtures
 * (NULL for none) as one group; exits with the number of failures. */
#define TU_MAIN(group_setup, group_teardown, ...)                                \
    int main(void)                                                              \
    {                                                                           \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                        \
        return cmocka_run_group_tests(tests, group_setup, group_teardown);      \
    }

#endif

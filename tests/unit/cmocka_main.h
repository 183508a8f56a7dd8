/* cmocka_main.h — what a cmocka unit test file needs: cmocka's prerequisite
 * headers, and TU_MAIN, the one main() that runs the file's tests as a group. */
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

/* Defines main(): runs the CMUnitTest entries given after the group fixtures
 * (NULL for none) as one group; exits with the number of failures. */
#define TU_MAIN(group_setup, group_teardown, ...)                                \
    int main(void)                                                              \
    {                                                                           \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                        \
        return cmocka_run_group_tests(tests, group_setup, group_teardown);      \
    }

#endif

/* store_test.h — what the store conformance suite's files share: the kind
 * and URL under test, a logger and the fault checks (fault.c). */
#ifndef AUTHC_STORE_TEST_H
#define AUTHC_STORE_TEST_H

#include "authc.h"
#include "store/store_int.h"

extern const char *g_kind;   /* memory|sqlite|postgres|redis */
extern const char *g_url;

void st_sleep_ms(int ms);
/* Prints every line to stderr. */
void st_log(void *ud, const char *level, const char *msg);
/* Opens url logging through log and migrates it: the handle (owned by
 * the caller, authc__store_close), or NULL with the reason on stderr. */
authc_store *st_open(const char *url, authc_log_fn log);
/* Server stopped / restarted / frozen / thawed under live handles (needs
 * the AUTHC_SERVER_* commands of with-servers.sh). Returns the number of
 * failed checks. */
int st_run_fault_tests(void);

#endif

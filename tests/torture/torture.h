/* torture.h — the allocation-failure switch of tests/torture/alloc.c, used
 * by the route driver in torture.c. */
#ifndef AUTHC_TORTURE_H
#define AUTHC_TORTURE_H

#include <stdbool.h>

/* From now on, on this thread, the fail_at-th allocation fails (1-based;
 * 0 = count only). */
void torture_arm(long fail_at);
/* Stops counting; *seen = allocations counted. True when one failed. */
bool torture_disarm(long *seen);
/* Heap blocks currently live (for the leak check around one run). */
long torture_live(void);

#endif

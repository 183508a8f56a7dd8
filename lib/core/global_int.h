/* global_int.h — the pieces of authc_global_init/cleanup that live in the
 * core (global.c runs them under its lock, in order, and undoes them). */
#ifndef AUTHC_GLOBAL_INT_H
#define AUTHC_GLOBAL_INT_H

#include "authc.h"

/* csrf.c: the SHA-256 fetched once and the per-thread digest context key. */
authc_err authc__csrf_global_init(void);
void authc__csrf_global_cleanup(void);

#endif

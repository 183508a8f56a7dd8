/* memory_int.h — the memory backend's storage: a string-keyed hash table
 * and heap copies of the rows (memory_table.c), used by memory.c. */
#ifndef AUTHC_MEMORY_INT_H
#define AUTHC_MEMORY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/adapters_int.h"

/* ---- a small string-keyed chained hash table ---------------------------- */

typedef struct authc__mt_node {
    struct authc__mt_node *next;
    char *key;          /* owned */
    void *row;          /* owned; freed by the table's owner */
} authc__mt_node;

typedef struct authc__mt {
    authc__mt_node **b;
    size_t nb, n;
} authc__mt;

/* The row stored under key, or NULL. */
void *authc__mt_get(const authc__mt *t, const char *key);
/* Inserts key (copied) → row. The key must not exist. false on OOM. */
bool authc__mt_put(authc__mt *t, const char *key, void *row);
/* Stores row under an existing key (the old row is the caller's). */
void authc__mt_replace(const authc__mt *t, const char *key, void *row);
/* Unlinks key and returns its row (caller frees), NULL when absent. */
void *authc__mt_del(authc__mt *t, const char *key);
/* Deletes (and frees) every d-row whose "userId" equals uid. */
void authc__mt_cascade(authc__mt *t, const char *uid, const authc__row_desc *d);
/* Frees every node (and its d-row when d is non-NULL) and the buckets. */
void authc__mt_clear(authc__mt *t, const authc__row_desc *d);
/* Composite key "len:a" + b, so ("ab","c") and ("a","bc") differ.
 * Returns a heap string the caller frees, NULL on OOM. */
char *authc__mt_key2(const char *a, const char *b);

/* ---- heap rows ------------------------------------------------------------
 * Deep heap copies (caller frees with authc__row_free), NULL on OOM.
 * As in the Drizzle layout, stored accounts and sessions have no id and a
 * stored user has fields = 0. */
authc_user *authc__mem_user_heap(const authc_user *in);
authc_account *authc__mem_account_heap(const authc_account *in);
authc_session_row *authc__mem_session_heap(const authc_session_row *in);
authc_verification_token *authc__mem_vt_heap(
    const authc_verification_token *in);
authc_authenticator *authc__mem_authn_heap(const authc_authenticator *in);

/* Rows are freed with authc__row_free and their descriptor
 * (authc__user_row, …). */

#endif

/* account_tokens.c — the merge rule of update_account_tokens (adapter.h),
 * shared by the backends that read, change and write a whole account. */
#include "adapters/adapters_int.h"

void authc__account_tokens_merge(authc_account *dst, const authc_account *patch)
{
    /* Rotation always replaces these three; a refresh answer without an
     * id_token, scope or token_type leaves the stored ones. */
    dst->access_token = patch->access_token;
    dst->refresh_token = patch->refresh_token;
    dst->expires_at = patch->expires_at;
    if (patch->id_token)
        dst->id_token = patch->id_token;
    if (patch->token_type)
        dst->token_type = patch->token_type;
    if (patch->scope)
        dst->scope = patch->scope;
}

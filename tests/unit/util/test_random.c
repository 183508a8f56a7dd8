/* test_random.c — direct unit tests of authc__random (lib/util/misc.c): the
 * per-thread block of CSPRNG bytes is never handed out twice, not across fork. */
#include "cmocka_main.h"

#include <sys/wait.h>
#include <unistd.h>

#include "util/util_int.h"

static void draws_differ(void **s)
{
    (void)s;
    assert_int_equal(authc_global_init(), AUTHC_OK);
    unsigned char a[32], b[32];
    assert_int_equal(authc__random(a, sizeof a), AUTHC_OK);
    assert_int_equal(authc__random(b, sizeof b), AUTHC_OK);
    assert_memory_not_equal(a, b, sizeof a);
    /* past the block and past the size served from it */
    for (int i = 0; i < 100; i++)
        assert_int_equal(authc__random(a, sizeof a), AUTHC_OK);
    unsigned char big[4096];
    assert_int_equal(authc__random(big, sizeof big), AUTHC_OK);
    assert_int_equal(authc__random(big, ((size_t)1 << 20) + 1), AUTHC_ERR_LIMIT);
}

/* A child and its parent take their next bytes after the fork: they must
 * differ (a copied block would give both the same bytes). */
static void fork_child_gets_fresh_bytes(void **s)
{
    (void)s;
    assert_int_equal(authc_global_init(), AUTHC_OK);
    unsigned char warm[16], mine[32], theirs[32];
    assert_int_equal(authc__random(warm, sizeof warm), AUTHC_OK); /* a block is buffered */
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsigned char c[32];
        int ok = authc__random(c, sizeof c) == AUTHC_OK && write(fd[1], c, sizeof c) == sizeof c;
        _exit(ok ? 0 : 1);
    }
    close(fd[1]);
    assert_int_equal(authc__random(mine, sizeof mine), AUTHC_OK);
    assert_int_equal(read(fd[0], theirs, sizeof theirs), (ssize_t)sizeof theirs);
    close(fd[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_memory_not_equal(mine, theirs, sizeof mine);
}

TU_MAIN(NULL, NULL, cmocka_unit_test(draws_differ), cmocka_unit_test(fork_child_gets_fresh_bytes))

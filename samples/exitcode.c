/* exitcode.c - allocates and frees one block, then exits with status 3.
 *
 * Used to check that memlens exits with its target's own exit status and
 * records it (processes[0].exit = {"code": 3}).
 *
 * Expected answer: no leaks of any kind (all four kinds 0 blocks, 0 bytes).
 * `exitcode --expect` prints the figures as JSON and exits 0 before it
 * allocates anything; the measured run prints nothing.
 */

/* The answer above depends on every allocation and every named frame being
 * there as written: keep -O0 and no inlining even when the build's CFLAGS
 * (which automake places after the per-target flags) say -O2. */
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_STATUS 3

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[],"
           "\"exit_code\":%d}\n", EXIT_STATUS);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();

    char *p = malloc(64);
    memset(p, 'x', 64);
    free(p);
    exit(EXIT_STATUS);
}

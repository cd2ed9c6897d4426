/* aslimit.c - a program that limits its own address space (RLIMIT_AS).
 *
 * usage: aslimit malloc        limit to 1 GiB, then malloc 200 MiB
 *        aslimit exec PROG...  limit to 48 MiB, then exec PROG
 * malloc: sets RLIMIT_AS to 1 GiB, mallocs 200 MiB, prints
 * "malloc 209715200: ok" (or "failed"), writes every page, frees it, then
 * leaks 32 bytes in leak_under_limit() and exits 0. Natively the malloc
 * succeeds: the program itself maps a few MiB. Expected answer under a tool:
 * the same line, and definitely lost 1 block / 32 bytes by leak_under_limit.
 * exec: PROG runs with 48 MiB of address space, enough for a small program
 * natively; a tool that needs more than the rest must say it could not
 * record PROG rather than report that it saw no allocation.
 */
#pragma GCC optimize("O0")
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define LIMIT_MALLOC (1ul << 30)
#define LIMIT_EXEC (48ul << 20)
#define BIG (200ul << 20)

__attribute__((noinline)) static void leak_under_limit(void)
{
    volatile char *p = malloc(32);
    p[0] = 1;
}

static int limit(unsigned long bytes)
{
    struct rlimit rl = {bytes, bytes};
    return setrlimit(RLIMIT_AS, &rl);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "exec") == 0) {
        if (limit(LIMIT_EXEC) != 0) return 2;
        execvp(argv[2], argv + 2);
        return 127;
    }
    if (argc < 2 || strcmp(argv[1], "malloc") != 0) {
        fprintf(stderr, "usage: aslimit malloc | aslimit exec PROG...\n");
        return 2;
    }
    if (limit(LIMIT_MALLOC) != 0) return 2;
    char *p = malloc(BIG);
    printf("malloc %lu: %s\n", BIG, p ? "ok" : "failed");
    fflush(stdout);
    if (p) {
        memset(p, 1, BIG);
        free(p);
    }
    leak_under_limit();
    return 0;
}

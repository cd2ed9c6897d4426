/* euid.c - prints its effective user id, then leaks 16 bytes in leak_euid().
 *
 * usage: euid        (the tests install a set-user-ID copy of it)
 * Expected answer: it prints the effective uid the kernel gave it: its
 * owner's for a set-user-ID copy run natively, the caller's under a tracer
 * without CAP_SYS_PTRACE (ptrace drops the privileges); definitely lost
 * 1 block / 16 bytes by leak_euid whenever the loader honoured LD_PRELOAD
 * (not in secure-execution mode, i.e. when no privilege was gained).
 */
#pragma GCC optimize("O0")
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) static void leak_euid(void)
{
    volatile char *p = malloc(16);
    p[0] = 1;
}

int main(void)
{
    printf("%d\n", (int)geteuid());
    leak_euid();
    return 0;
}

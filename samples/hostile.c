/* hostile.c - a program that makes life hard for a tool that watches it.
 *
 * usage: hostile MODE [PROGRAM]
 *   closefds      close every descriptor, then leak 64 bytes in leak_after_close()
 *   clearenv P    clear the whole environment, then exec P
 *   unsetpreload P   unset LD_PRELOAD only, then exec P
 *   emptyenv P    exec P with an empty environment array
 *   rlimit        lower RLIMIT_NOFILE and RLIMIT_STACK, then leak 64 bytes
 *   segv          leak 48 bytes in lose(), keep 100 bytes in `keep`, then SIGSEGV
 *   abort         the same, then abort()
 *   kill          the same, then SIGKILL itself (as the OOM killer would)
 *   pause         the same, then wait for a signal
 *   usr1          the same, then wait for SIGUSR1, whose handler leaks 32 bytes
 *                 in on_usr1() and lets main return 0
 * Expected: closefds and rlimit: definitely lost 1 block / 64 bytes;
 * segv, abort, kill, pause: definitely lost 1 / 48 (lose), still reachable
 * 1 / 100; usr1: definitely lost 2 / 80 (lose, on_usr1), still reachable
 * 1 / 100; the exec modes: whatever PROGRAM states.
 */
#pragma GCC optimize("O0")
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

void *keep;   /* visible: a static written but never read may be optimised away */

__attribute__((noinline)) static void lose(void)
{
    volatile char *p = malloc(48);
    p[0] = 1;
}

__attribute__((noinline)) static void leak_after_close(void)
{
    volatile char *p = malloc(64);
    p[0] = 1;
}

static volatile sig_atomic_t got_usr1;

__attribute__((noinline)) static void on_usr1(int sig)
{
    (void)sig;
    volatile char *p = malloc(32);   /* not async-signal-safe in general; fine here */
    p[0] = 1;
    got_usr1 = 1;
}

static int crash(const char *how)
{
    keep = malloc(100);
    lose();
    if (strcmp(how, "segv") == 0) *(volatile int *)0 = 1;
    if (strcmp(how, "abort") == 0) abort();
    if (strcmp(how, "kill") == 0) kill(getpid(), SIGKILL);
    if (strcmp(how, "pause") == 0) pause();
    if (strcmp(how, "usr1") == 0) {
        signal(SIGUSR1, on_usr1);
        while (!got_usr1) pause();
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *prog = argc > 2 ? argv[2] : "/bin/true";
    if (strcmp(mode, "closefds") == 0) {
        for (int fd = 0; fd < 65536; fd++) close(fd);
        leak_after_close();
        return 0;
    }
    if (strcmp(mode, "rlimit") == 0) {
        struct rlimit r = {64, 64};
        setrlimit(RLIMIT_NOFILE, &r);
        r.rlim_cur = r.rlim_max = 1 << 20;
        setrlimit(RLIMIT_STACK, &r);
        leak_after_close();
        return 0;
    }
    if (strcmp(mode, "clearenv") == 0) {
        clearenv();
        execl(prog, prog, (char *)NULL);
        return 127;
    }
    if (strcmp(mode, "unsetpreload") == 0) {
        unsetenv("LD_PRELOAD");
        execl(prog, prog, (char *)NULL);
        return 127;
    }
    if (strcmp(mode, "emptyenv") == 0) {
        char *argv2[] = {(char *)prog, NULL}, *envp[] = {NULL};
        execve(prog, argv2, envp);
        return 127;
    }
    return crash(mode);
}

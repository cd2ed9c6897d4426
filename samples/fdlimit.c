/* fdlimit.c - a program with no free descriptor slot.
 *
 * usage: fdlimit fill   fill every slot, then fork a leaking child
 *        fdlimit exec   lower RLIMIT_NOFILE to 3, then exec itself leaking
 * fill: lowers RLIMIT_NOFILE to 64 (soft and hard), opens /dev/null until
 * open fails with EMFILE, then forks; the child leaks 40 bytes in
 * leak_in_child() and exits 0; the parent waits for it and exits 0.
 * exec: closes stdin and lowers RLIMIT_NOFILE to 3 (soft and hard), then
 * execs itself as `fdlimit hold`, which starts with one free slot (the
 * loader takes it and gives it back for each library it opens), takes it
 * with open("/dev/null"), leaks 40 bytes in leak_in_child() and exits 0.
 *
 * Expected answer, both modes: the process that leaks (the forked child,
 * or the new image) has definitely lost 1 block / 40 bytes by
 * leak_in_child; the other loses nothing; exit status 0.
 */
#pragma GCC optimize("O0")
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static void leak_in_child(void)
{
    volatile char *p = malloc(40);
    p[0] = 1;
}

/* Overwrite the registers and the dead stack that held the pointer. */
__attribute__((noinline)) static void clobber(void)
{
    volatile char buf[512];
    memset((char *)buf, 0, sizeof buf);
}

static int limit(rlim_t n)
{
    struct rlimit rl = {n, n};
    return setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        close(0);               /* one slot, as the loader needs to open libraries */
        if (limit(3) != 0) return 2;
        execl("/proc/self/exe", argv[0], "hold", (char *)NULL);
        return 127;
    }
    if (argc > 1 && strcmp(argv[1], "hold") == 0) {
        if (open("/dev/null", O_RDONLY) < 0) return 3;     /* the last slot */
        leak_in_child();
        clobber();
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "fill") != 0) {
        fprintf(stderr, "usage: fdlimit fill | fdlimit exec\n");
        return 2;
    }
    if (limit(64) != 0) return 2;
    while (open("/dev/null", O_RDONLY) >= 0) {}
    if (errno != EMFILE) return 3;
    pid_t pid = fork();
    if (pid == 0) {
        leak_in_child();
        clobber();
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

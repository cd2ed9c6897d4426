/* forkexec.c - a process that forks twice, one child execs: one report each.
 *
 * Expected answer (memcheck's rules; every size a multiple of 16):
 *   parent   (pid P): leak_before_fork 96 bytes + leak_after_children 304
 *            bytes, both definitely lost: definite 2 blocks / 400 bytes.
 *   child 1  (forked, no exec): inherits the parent's heap at the fork, so
 *            leak_before_fork's 96 bytes are lost there too, plus its own
 *            leak_in_child 208 bytes: definite 2 blocks / 304 bytes.
 *   child 2  (forked, execs samples/leaky): leaky's own answer (see leaky.c):
 *            definite 5 / 624, indirect 2 / 256, possible 1 / 128,
 *            reachable 5 / 432.
 * No kind other than these is present in the parent or child 1.
 * `forkexec --expect` prints this as JSON, in process start order.
 */
#pragma GCC optimize("O0")
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char leaky_path[4096];

__attribute__((noinline)) static void leak_before_fork(void)
{
    volatile char *p = malloc(96);
    p[0] = 1;
}

__attribute__((noinline)) static void leak_in_child(void)
{
    volatile char *p = malloc(208);
    p[0] = 2;
}

__attribute__((noinline)) static void leak_after_children(void)
{
    volatile char *p = malloc(304);
    p[0] = 3;
}

/* Zero dead stack so no stale copy of a pointer survives below main. */
__attribute__((noinline)) static void scrub_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

static int expect(void)
{
    printf("{\"processes\":["
           "{\"definite\":{\"blocks\":2,\"bytes\":400},\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[\"leak_before_fork\",\"leak_after_children\"]},"
           "{\"definite\":{\"blocks\":2,\"bytes\":304},\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[\"leak_before_fork\",\"leak_in_child\"]},"
           "{\"exec\":\"leaky\"}]}\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) return expect();
    char self[4096];
    snprintf(self, sizeof self, "%s", argv[0]);   /* dirname writes into its argument */
    snprintf(leaky_path, sizeof leaky_path, "%s/leaky", dirname(self));
    leak_before_fork();
    pid_t a = fork();
    if (a == 0) {
        leak_in_child();
        scrub_stack();
        exit(0);
    }
    pid_t b = fork();
    if (b == 0) {
        execl(leaky_path, leaky_path, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(a, &st, 0);
    waitpid(b, &st, 0);
    leak_after_children();
    scrub_stack();
    return 0;
}

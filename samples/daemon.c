/* daemon.c - a program that starts a daemon (double fork) and exits at once.
 *
 * usage: daemon SECONDS PIDFILE [PROGRAM [ARGS...]]
 * The parent forks a child and waits for it; the child forks the daemon and
 * exits 0; the parent then leaks 24 bytes in leak_in_parent() and exits 0.
 * The daemon starts a session of its own, points its standard descriptors
 * at /dev/null, writes its pid to PIDFILE, sleeps SECONDS, then either execs
 * PROGRAM with ARGS, or leaks 40 bytes in leak_in_daemon() and exits 0.
 *
 * Expected answer: the program (the parent) exits 0 at once, having lost
 * 1 block / 24 bytes in leak_in_parent; the middle child loses nothing; the
 * daemon, SECONDS later, loses 1 block / 40 bytes in leak_in_daemon (or
 * whatever PROGRAM states). A tool that returns when the program it started
 * exits, as valgrind does, returns at once, before the daemon has ended.
 */
#pragma GCC optimize("O0")
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) static void leak_in_parent(void)
{
    volatile char *p = malloc(24);
    p[0] = 1;
}

__attribute__((noinline)) static void leak_in_daemon(void)
{
    volatile char *p = malloc(40);
    p[0] = 1;
}

static void daemon_main(double seconds, const char *pidfile, char **program)
{
    setsid();
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; fd++) dup2(null, fd);
    FILE *f = fopen(pidfile, "w");
    if (f) {
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    if (program[0]) {
        execvp(program[0], program);
        _exit(127);
    }
    leak_in_daemon();
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: daemon SECONDS PIDFILE [PROGRAM [ARGS...]]\n");
        return 2;
    }
    pid_t child = fork();
    if (child < 0) return 1;
    if (child == 0) {
        if (fork() == 0) daemon_main(atof(argv[1]), argv[2], argv + 3);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    leak_in_parent();
    return 0;
}

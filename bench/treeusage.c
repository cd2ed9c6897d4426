/* treeusage.c - run a command and report what its whole process tree used.
 *
 * usage: treeusage OUT cmd [args...]
 * Runs cmd, waits for it, and writes to the file OUT one line:
 *   "status=S utime=U stime=T maxrss_kib=M"
 * where U and T (seconds) are the CPU times of cmd and of every descendant
 * it reaped, and M is the largest maximum RSS among them (getrusage's
 * RUSAGE_CHILDREN semantics).  bench/measure.py starts workloads through it
 * because a child forked from a large parent (the Python interpreter)
 * counts the parent's resident memory in its own maximum RSS until it execs;
 * this program is small, so the figure is the command's own.
 * Exits with cmd's status (128+N when it died of signal N).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static double secs(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: treeusage OUT cmd [args...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("treeusage: fork");
        return 125;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("treeusage: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("treeusage: wait4");
        return 125;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 125;
    }
    fprintf(out, "status=%d utime=%.6f stime=%.6f maxrss_kib=%ld\n", code,
            secs(ru.ru_utime), secs(ru.ru_stime), ru.ru_maxrss);
    fclose(out);
    return code;
}

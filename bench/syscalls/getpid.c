/* getpid.c - a loop of unwatched syscalls: getpid, 10,000,000 times by default.
 *
 * memlens's seccomp filter lets getpid run without a stop, so the loop
 * should take about as long under memlens as natively; what is left is the
 * kernel's cost of running a seccomp filter on every syscall.  With
 * "filter" the program installs, natively, a filter of the same shape
 * (an architecture check and 16 comparisons, every one of which lets the
 * call through) to measure that cost alone.  Prints the loop's own time on
 * stderr as "loop_seconds=S cpu_seconds=C calls=N" (wall and CPU time).
 * usage: getpid [N] [filter]
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define COMPARES 16

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A filter as long as memlens's whose every path returns ALLOW. */
static int install_filter(void)
{
    struct sock_filter prog[COMPARES + 5];
    size_t n = 0;
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, arch));
    prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                             offsetof(struct seccomp_data, nr));
    for (unsigned i = 0; i < COMPARES; i++)      /* numbers no program uses */
        prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 100000 + i, 0, 0);
    prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000L;
    if (argc > 2 && strcmp(argv[2], "filter") == 0 && install_filter() != 0) {
        perror("getpid: seccomp");
        return 1;
    }
    long sum = 0;
    double t0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < n; i++)
        sum += syscall(SYS_getpid);      /* a real syscall every time */
    double t = seconds(CLOCK_MONOTONIC) - t0, c = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    fprintf(stderr, "loop_seconds=%.6f cpu_seconds=%.6f calls=%ld\n", t, c, n);
    return sum == 0;                     /* keep the loop */
}

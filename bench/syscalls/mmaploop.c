/* mmaploop.c - a loop of watched syscalls: N mmap/munmap pairs of one
 * anonymous page (200,000 pairs by default).
 *
 * Each call stops the process twice under memlens (the seccomp stop at
 * entry, the syscall-exit stop for the result).  By default the calls go
 * through libc's mmap and munmap, which memlens's shim also records with
 * their stacks; with "raw" they go straight to the kernel (syscall(2)),
 * which measures the tracer's stops alone.  Prints the loop's own time on
 * stderr as "loop_seconds=S cpu_seconds=C calls=2N" (wall time, and
 * this process's CPU time, which leaves out the tracer's).
 * usage: mmaploop [N] [raw]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000L;
    int raw = argc > 2 && strcmp(argv[2], "raw") == 0;
    double t0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < n; i++) {
        void *p;
        if (raw)
            p = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        else
            p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return 1;
        if (raw)
            syscall(SYS_munmap, p, 4096);
        else
            munmap(p, 4096);
    }
    double t = seconds(CLOCK_MONOTONIC) - t0, c = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
    fprintf(stderr, "loop_seconds=%.6f cpu_seconds=%.6f calls=%ld\n", t, c, 2 * n);
    return 0;
}

/* getpid.c - a loop of unwatched syscalls: getpid, 10,000,000 times by default.
 *
 * memlens's seccomp filter lets getpid run without a stop, so the loop
 * should take as long under memlens as natively.  Prints the loop's own
 * time on stderr as "loop_seconds=S calls=N".
 * usage: getpid [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000L;
    long sum = 0;
    double t0 = now();
    for (long i = 0; i < n; i++)
        sum += syscall(SYS_getpid);      /* a real syscall every time */
    double t = now() - t0;
    fprintf(stderr, "loop_seconds=%.6f calls=%ld\n", t, n);
    return sum == 0;                     /* keep the loop */
}

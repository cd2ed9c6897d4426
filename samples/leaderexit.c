/* leaderexit.c - the main thread ends with pthread_exit; a worker exits later.
 *
 * usage: leaderexit [SECONDS]
 * main() starts one worker and calls pthread_exit: the thread-group leader
 * is a zombie from then on. The worker runs SECONDS seconds (default 0.2),
 * mallocing and freeing 16 bytes every 10 ms, then leaks 32 bytes in
 * leak_in_worker() and calls exit(0), which ends the whole process.
 *
 * Expected answer: exit status 0, definitely lost 1 block / 32 bytes, made by
 * leak_in_worker; natively the program ends after SECONDS. A tool that waits
 * at exit_group for the leader, which has already passed its own exit, hangs.
 */
#pragma GCC optimize("O0")
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static double seconds = 0.2;

__attribute__((noinline)) static void leak_in_worker(void)
{
    volatile char *p = malloc(32);
    p[0] = 1;
}

static void *worker(void *arg)
{
    (void)arg;
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (long i = 0; i < (long)(seconds * 100); i++) {
        free(malloc(16));
        nanosleep(&tick, NULL);
    }
    leak_in_worker();
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc > 1) seconds = atof(argv[1]);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0) return 1;
    pthread_exit(NULL);
}

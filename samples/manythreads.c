/* manythreads.c - many threads allocating at the same time: no event lost.
 *
 * usage: manythreads [THREADS]   (default 1000)
 * Every thread waits at a barrier until all exist, then makes 100 mallocs of
 * 32 bytes in worker(), frees 99 of them and keeps the last in its slot of a
 * global array, then drops every second slot's pointer before exiting; so:
 *   from worker(): THREADS*100 allocations, THREADS*99 frees;
 *   definitely lost: THREADS/2 blocks of 32 bytes (odd slots, pointer dropped);
 *   still reachable: THREADS - THREADS/2 blocks of 32 bytes (even slots).
 * Thread stacks are mapped by the program itself so that glibc's per-thread
 * internals stay out of the figures (see threads.c).
 * `manythreads --expect [THREADS]` prints the worker figures as JSON.
 */
#pragma GCC optimize("O0")
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define STACK_SIZE (64 * 1024)

void *slots[100000];      /* visible: a static that is only written may be optimised away */
static pthread_barrier_t barrier;

__attribute__((noinline)) static void *worker(void *arg)
{
    long i = (long)arg;
    void *p[100];
    pthread_barrier_wait(&barrier);
    for (int k = 0; k < 100; k++) p[k] = malloc(32);
    for (int k = 0; k < 99; k++) free(p[k]);
    slots[i] = p[99];
    if (i % 2) slots[i] = NULL;
    memset(p, 0, sizeof p);
    return NULL;
}

int main(int argc, char **argv)
{
    int expect = argc > 1 && strcmp(argv[1], "--expect") == 0;
    long n = argc > 1 + expect ? atol(argv[1 + expect]) : 1000;
    if (n < 2 || n > 100000) return 2;
    if (expect) {
        printf("{\"threads\":%ld,\"worker_allocs\":%ld,\"worker_frees\":%ld,"
               "\"definite\":{\"blocks\":%ld,\"bytes\":%ld},"
               "\"reachable\":{\"blocks\":%ld,\"bytes\":%ld}}\n",
               n, n * 100, n * 99, n / 2, n / 2 * 32, n - n / 2, (n - n / 2) * 32);
        return 0;
    }
    pthread_t *t = calloc((size_t)n, sizeof *t);
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    for (long i = 0; i < n; i++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        void *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        pthread_attr_setstack(&a, stack, STACK_SIZE);
        if (pthread_create(&t[i], &a, worker, (void *)i) != 0) return 3;
        pthread_attr_destroy(&a);
    }
    for (long i = 0; i < n; i++) pthread_join(t[i], NULL);
    free(t);
    return 0;
}

/* threads.c - four threads that leak, keep and free known blocks.
 *
 * Thread k (k = 0..3) runs worker(), which waits for the others at a
 * barrier (so that all four allocate at the same time, from their own
 * malloc arenas) and then:
 * - calls its own leak function, leak_in_thread<k>(), which leaks k + 1
 *   blocks of 64 * (k + 1) bytes (definitely lost);
 * - calls keep_in_thread(), which stores 2 blocks of 48 bytes in the global
 *   g_keep[k] (still reachable);
 * - calls churn_in_thread(), which allocates 3 blocks and frees them.
 * main joins every thread before it returns.
 *
 * Expected answer (valgrind --leak-check=full --run-libc-freeres=no agrees):
 *
 *   kind              blocks  bytes   made by
 *   definitely lost       10   1920   leak_in_thread0  1 x  64 =   64
 *                                     leak_in_thread1  2 x 128 =  256
 *                                     leak_in_thread2  3 x 192 =  576
 *                                     leak_in_thread3  4 x 256 = 1024
 *   indirectly lost        0      0
 *   possibly lost          0      0
 *   still reachable        8    384   keep_in_thread   4 threads x 2 x 48
 *
 *   definite functions: leak_in_thread0 leak_in_thread1 leak_in_thread2
 *                       leak_in_thread3
 *
 * glibc allocates each thread's stack with mmap, not malloc, but it does
 * calloc a small thread-control array (the DTV, 272 bytes with glibc 2.36)
 * for every new thread.  A joined thread's stack stays in glibc's stack
 * cache together with its DTV, and the TCB on that cached stack points one
 * entry past the DTV's start - an interior pointer, so valgrind would add
 * one possibly lost block per thread.  To keep the answer free of glibc
 * internals, the threads run on stacks that this program maps itself
 * (pthread_attr_setstack): glibc frees the DTV of a thread with a user stack
 * when the thread is joined, and main unmaps the stacks after the joins, so
 * neither a glibc block nor a dead thread's stack is left at exit.
 *
 * `threads --expect` prints the figures as JSON and exits before it
 * allocates anything; the measured run prints nothing.
 * Every lost pointer lives only in a dead frame that scrub_stack() clears
 * (in each thread before it returns, and in main before it returns), and
 * every lost size is a multiple of 16 (see leaky.c for why).
 */

/* The answer above depends on every allocation and every named frame being
 * there as written: keep -O0 and no inlining even when the build's CFLAGS
 * (which automake places after the per-target flags) say -O2. */
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NTHREADS 4
#define STACK_SIZE (1024 * 1024)

char *g_keep[NTHREADS][2];            /* still reachable */
static pthread_barrier_t g_start;

static void drop(void *p)
{
    (void)p;
}

static void leak_blocks(int count, size_t size)
{
    for (int i = 0; i < count; i++) {
        char *p = malloc(size);
        memset(p, 'L', size);
        drop(p);
    }
}

void leak_in_thread0(void) { leak_blocks(1, 64); }
void leak_in_thread1(void) { leak_blocks(2, 128); }
void leak_in_thread2(void) { leak_blocks(3, 192); }
void leak_in_thread3(void) { leak_blocks(4, 256); }

static void (*const leakers[NTHREADS])(void) = {
    leak_in_thread0, leak_in_thread1, leak_in_thread2, leak_in_thread3,
};

void keep_in_thread(int k)
{
    for (int i = 0; i < 2; i++) {
        g_keep[k][i] = malloc(48);
        memset(g_keep[k][i], 'K', 48);
    }
}

void churn_in_thread(void)
{
    char *a = malloc(24);
    char *b = calloc(10, 10);
    char *c = malloc(500);
    c = realloc(c, 2000);
    free(b);
    free(a);
    free(c);
}

void scrub_stack(void)
{
    volatile char area[64 * 1024];
    memset((char *)area, 0, sizeof area);
}

static void *worker(void *arg)
{
    int k = (int)(long)arg;

    pthread_barrier_wait(&g_start);
    leakers[k]();
    keep_in_thread(k);
    churn_in_thread();
    scrub_stack();
    return NULL;
}

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":10,\"bytes\":1920},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":8,\"bytes\":384},"
           "\"definite_functions\":[\"leak_in_thread0\",\"leak_in_thread1\","
           "\"leak_in_thread2\",\"leak_in_thread3\"],"
           "\"exit_code\":0}\n");
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t tid[NTHREADS];
    void *stacks[NTHREADS];

    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();

    if (pthread_barrier_init(&g_start, NULL, NTHREADS) != 0)
        return 1;
    for (long k = 0; k < NTHREADS; k++) {
        pthread_attr_t attr;

        stacks[k] = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stacks[k] == MAP_FAILED)
            return 1;
        pthread_attr_init(&attr);
        pthread_attr_setstack(&attr, stacks[k], STACK_SIZE);
        if (pthread_create(&tid[k], &attr, worker, (void *)k) != 0)
            return 1;
        pthread_attr_destroy(&attr);
    }
    for (int k = 0; k < NTHREADS; k++)
        pthread_join(tid[k], NULL);
    for (int k = 0; k < NTHREADS; k++)
        munmap(stacks[k], STACK_SIZE);
    pthread_barrier_destroy(&g_start);
    scrub_stack();
    return 0;
}

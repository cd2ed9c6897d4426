/* fragarenas.c - four threads allocate at once, each from its own malloc arena.
 *
 * Thread k (k = 0..3) waits at a barrier until all four run, then
 * arena_work(k) allocates 1,000 blocks of 256 * (k + 1) bytes and frees
 * every other one; the 500 survivors stay in the global g_blocks[k].  The
 * threads wait at a second barrier before they return, so that no thread
 * ends (and gives its arena back for reuse) before every thread has
 * allocated: glibc then gives each thread an arena of its own (it creates
 * up to 8 per CPU before it shares one), a non-main arena whose heap is a
 * 64 MiB-aligned mapping.  main allocates nothing itself (pthread_create's
 * own blocks go to the main heap).
 *
 * Expected answer:
 *   four arena heaps whose live bytes are, in some order,
 *     500 x   256 = 128,000   (thread 0)
 *     500 x   512 = 256,000   (thread 1)
 *     500 x   768 = 384,000   (thread 2)
 *     500 x 1,024 = 512,000   (thread 3)
 *   2,000 blocks, 1,280,000 bytes, made by arena_work, all still reachable.
 *   The blocks are below glibc's 128 KiB mmap threshold: none is mmapped.
 *
 * The threads run on stacks that this program maps itself (see threads.c
 * for why: no glibc block is left for a dead thread).
 * `fragarenas --expect` prints the answer as JSON and exits before it
 * allocates anything; the measured run prints nothing but glibc's own
 * figures, last, to stderr (see mallinfo.h).
 */
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
#include "mallinfo.h"

#define NTHREADS 4
#define NBLOCKS 1000
#define STACK_SIZE (1024 * 1024)

char *g_blocks[NTHREADS][NBLOCKS];
static pthread_barrier_t g_start, g_done;

void arena_work(int k)
{
    size_t size = 256 * (size_t)(k + 1);
    for (int i = 0; i < NBLOCKS; i++) {
        g_blocks[k][i] = malloc(size);
        memset(g_blocks[k][i], 'A' + k, size);
    }
    for (int i = 1; i < NBLOCKS; i += 2) {
        free(g_blocks[k][i]);
        g_blocks[k][i] = NULL;
    }
}

static void *worker(void *arg)
{
    int k = (int)(long)arg;
    pthread_barrier_wait(&g_start);
    arena_work(k);
    pthread_barrier_wait(&g_done);
    return NULL;
}

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":%d,\"bytes\":%d},"
           "\"site_function\":\"arena_work\","
           "\"arena_live_bytes\":[128000,256000,384000,512000],"
           "\"exit_code\":0}\n",
           NTHREADS * NBLOCKS / 2, 1280000);
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t tid[NTHREADS];
    void *stacks[NTHREADS];

    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();
    if (pthread_barrier_init(&g_start, NULL, NTHREADS) != 0 ||
        pthread_barrier_init(&g_done, NULL, NTHREADS) != 0)
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
    print_mallinfo();
    return 0;
}

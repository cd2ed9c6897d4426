/* churn.c - allocation churn through many distinct deep call paths.
 *
 * Each thread keeps SLOTS live blocks; one operation frees a random slot and
 * allocates a block of a random size (16..1024 bytes) in its place, through
 * a chain of 10 non-inlined functions.  Every level has 4 variants, so the
 * path (one of PATHS fixed random choices) gives the allocation its own call
 * stack: PATHS distinct stacks, 10 frames between main and malloc.
 * Every block is freed at the end (nothing leaks).
 *
 * usage: churn [OPS [THREADS [PATHS [SLOTS]]]]
 *   OPS      free+malloc pairs in all (default 20000000), split among threads
 *   THREADS  worker threads (default 1: the main thread does the work)
 *   PATHS    distinct call paths (default 1024)
 *   SLOTS    live blocks per thread (default 4096)
 * Prints "loop_seconds=S cpu_seconds=C ops=N" on stderr (the loop's wall
 * and CPU time, all threads).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NOIPA __attribute__((noipa))
/* Keep the call a real call (no tail call), so every level is a frame. */
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

typedef void *(*level_fn)(uint32_t path, size_t size);

static NOIPA void *leaf(uint32_t path, size_t size)
{
    void *p = malloc(size);
    KEEP(p);
    if (p) *(volatile char *)p = (char)path;
    return p;
}

/* LEVEL(n, next): four variants of level n, each calling level next. */
#define VARIANT(n, v, next)                                                   \
    static NOIPA void *lv##n##_##v(uint32_t path, size_t size)                \
    {                                                                         \
        void *p = next[(path >> 2) & 3](path >> 2, size);           \
        KEEP(p);                                                              \
        return p;                                                             \
    }
#define LEVEL(n, next)                                                        \
    VARIANT(n, 0, next) VARIANT(n, 1, next) VARIANT(n, 2, next)               \
    VARIANT(n, 3, next)                                                       \
    static const level_fn L##n[4] = {lv##n##_0, lv##n##_1, lv##n##_2, lv##n##_3};

static const level_fn L9[4] = {leaf, leaf, leaf, leaf};
LEVEL(8, L9)
LEVEL(7, L8)
LEVEL(6, L7)
LEVEL(5, L6)
LEVEL(4, L5)
LEVEL(3, L4)
LEVEL(2, L3)
LEVEL(1, L2)
LEVEL(0, L1)

static uint64_t opt_ops = 20000000, opt_paths = 1024, opt_slots = 4096;
static uint32_t *g_paths;

static inline uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

struct worker {
    pthread_t th;
    uint64_t ops, seed;
};

static NOIPA void *work(void *arg)
{
    struct worker *w = arg;
    void **slot = calloc(opt_slots, sizeof *slot);
    uint64_t s = w->seed;

    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t r = next_rand(&s);
        size_t k = (size_t)(r % opt_slots);
        free(slot[k]);
        uint32_t path = g_paths[(r >> 20) % opt_paths];
        size_t size = 16 + (size_t)((r >> 40) % 1009);
        slot[k] = L0[path & 3](path, size);
    }
    for (uint64_t k = 0; k < opt_slots; k++)
        free(slot[k]);
    free(slot);
    KEEP(w);
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned threads = 1;
    if (argc > 1) opt_ops = strtoull(argv[1], NULL, 0);
    if (argc > 2) threads = (unsigned)strtoul(argv[2], NULL, 0);
    if (argc > 3) opt_paths = strtoull(argv[3], NULL, 0);
    if (argc > 4) opt_slots = strtoull(argv[4], NULL, 0);
    if (threads < 1 || opt_paths < 1 || opt_slots < 1) {
        fprintf(stderr, "usage: churn [OPS [THREADS [PATHS [SLOTS]]]]\n");
        return 2;
    }
    /* Distinct paths: each a 20-bit choice of variants (2 bits a level). */
    g_paths = malloc(opt_paths * sizeof *g_paths);
    for (uint64_t i = 0; i < opt_paths; i++)
        g_paths[i] = (uint32_t)(i * 0x9e3779b1u) & 0xfffff;   /* odd multiplier: distinct */

    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    struct worker *w = calloc(threads, sizeof *w);
    for (unsigned t = 0; t < threads; t++) {
        w[t].ops = opt_ops / threads + (t < opt_ops % threads);
        w[t].seed = 0x2545f4914f6cdd1dull * (t + 1);
    }
    if (threads == 1) {
        work(&w[0]);
    } else {
        for (unsigned t = 0; t < threads; t++)
            if (pthread_create(&w[t].th, NULL, work, &w[t]) != 0) {
                perror("pthread_create");
                return 1;
            }
        for (unsigned t = 0; t < threads; t++)
            pthread_join(w[t].th, NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    free(w);
    free(g_paths);
    fprintf(stderr, "loop_seconds=%.6f cpu_seconds=%.6f ops=%llu\n",
            (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
            (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9,
            (unsigned long long)opt_ops);
    return 0;
}

/* manyrecords.c - N definitely lost blocks, each from its own call stack.
 *
 * The HTML load benchmark's workload (bench/htmlload.sh): a report with
 * N loss records.  The path number's base-4 digits, lowest first, choose
 * which of step0..step3 each level calls, DEPTH levels deep; every call is
 * its own call site (each step function has its own switch), so each path
 * 0..N-1 (N <= 4^DEPTH = 16384) reaches malloc through its own return
 * addresses, one frame per level: malloc, DEPTH steps and main fit in the
 * default --num-callers=12, and the N stacks make N records of 1 block.
 * Every block is dropped, so all N are definitely lost; block i is
 * 16 + i % 64 bytes.  Build with -O0 -fno-inline so every level is a frame.
 *
 * usage: manyrecords [N]   (default 10000)
 */
#include <stdlib.h>

#define DEPTH 7

static void step0(unsigned path, int level, size_t size);
static void step1(unsigned path, int level, size_t size);
static void step2(unsigned path, int level, size_t size);
static void step3(unsigned path, int level, size_t size);

/* The allocation at the last level, else the call its digit chooses. */
#define STEP_BODY                                                   \
    if (level == DEPTH) {                                           \
        volatile char *p = malloc(size);                            \
        if (p)                                                      \
            p[0] = 1;                                               \
        return;                 /* the only pointer is dropped */   \
    }                                                               \
    switch ((path >> (2 * level)) & 3) {                            \
    case 0: step0(path, level + 1, size); break;                    \
    case 1: step1(path, level + 1, size); break;                    \
    case 2: step2(path, level + 1, size); break;                    \
    default: step3(path, level + 1, size); break;                   \
    }                                                               \
    __asm__ volatile("" ::: "memory")  /* no tail call: a frame per level */

static void step0(unsigned path, int level, size_t size) { STEP_BODY; }
static void step1(unsigned path, int level, size_t size) { STEP_BODY; }
static void step2(unsigned path, int level, size_t size) { STEP_BODY; }
static void step3(unsigned path, int level, size_t size) { STEP_BODY; }

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 10000;

    if (n > 1u << (2 * DEPTH))
        n = 1u << (2 * DEPTH);
    for (unsigned i = 0; i < n; i++)
        step0(i, 0, 16 + i % 64);
    return 0;
}

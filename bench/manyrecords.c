/* manyrecords.c - N definitely lost blocks, each from its own call stack.
 *
 * The HTML load benchmark's workload (bench/htmlload.sh): a report with
 * N loss records.  walk() descends DEPTH levels; at each level it calls one
 * of four functions chosen by two bits of the path number, so each path
 * 0..N-1 (N <= 4^DEPTH = 16384) reaches malloc through its own sequence of
 * return addresses: N distinct stacks, N records of 1 block each.  Every
 * block is dropped, so all N are definitely lost; block i is 16 + i % 64
 * bytes.  Build with -O0 -fno-inline so every level is a real frame.
 *
 * usage: manyrecords [N]   (default 10000)
 */
#include <stdlib.h>

#define DEPTH 7

static void walk(unsigned path, int level, size_t size);

static void step0(unsigned p, int l, size_t s) { walk(p, l, s); }
static void step1(unsigned p, int l, size_t s) { walk(p, l, s); }
static void step2(unsigned p, int l, size_t s) { walk(p, l, s); }
static void step3(unsigned p, int l, size_t s) { walk(p, l, s); }

static void walk(unsigned path, int level, size_t size)
{
    if (level == DEPTH) {
        volatile char *p = malloc(size);
        if (p)
            p[0] = 1;
        return;                 /* the only pointer is dropped here */
    }
    switch ((path >> (2 * level)) & 3) {
    case 0: step0(path, level + 1, size); break;
    case 1: step1(path, level + 1, size); break;
    case 2: step2(path, level + 1, size); break;
    default: step3(path, level + 1, size); break;
    }
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 10000;

    if (n > 1u << (2 * DEPTH))
        n = 1u << (2 * DEPTH);
    for (unsigned i = 0; i < n; i++)
        walk(i, 0, 16 + i % 64);
    return 0;
}

/* deepstacks.c - one allocation through each of PATHS distinct call stacks: the
 * workload for memlens's stack table at scale (every stack must be kept as
 * its own record, none merged).
 *
 * Each allocation goes down PAD frames of plain recursion, then 10 levels of
 * four non-inlined variants each (the path number's base-4 digits choose the
 * variant), then malloc: 4^10 = 1,048,576 distinct stacks at most, PAD + 10
 * + main's frames deep (PAD 34 gives stacks that fill --num-callers=48).
 * Every block (16 bytes) is kept in a global array, so all of them are
 * still reachable: PATHS reachable records of one block each, plus the
 * array's own record.  Nothing is freed.  It prints "paths=N" on stderr.
 *
 * usage: deepstacks [PATHS [PAD]]   (defaults 1048576 and 34)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NOIPA __attribute__((noipa))
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

typedef void *(*level_fn)(uint32_t path, int level);
static const level_fn *g_levels[10];
static void **volatile g_keep;   /* the root of every block (volatile: a static only stored to is dropped) */

static NOIPA void *leaf(void)
{
    void *p = malloc(16);
    KEEP(p);
    return p;
}

static NOIPA void *down(uint32_t path, int level)
{
    if (level == 10) return leaf();
    void *p = g_levels[level][path & 3](path >> 2, level + 1);
    KEEP(p);
    return p;
}

#define VARIANT(v) \
    static NOIPA void *variant_##v(uint32_t path, int level) \
    { void *p = down(path, level); KEEP(p); return p; }
VARIANT(0) VARIANT(1) VARIANT(2) VARIANT(3)
static const level_fn g_variants[4] = { variant_0, variant_1, variant_2, variant_3 };

/* The ten levels share the four variants: a stack's sequence of return
 * addresses into variant_0..3 spells the path's ten digits, so distinct
 * paths give distinct stacks. */
static NOIPA void *pad(uint32_t path, int n)
{
    if (n == 0) return down(path, 0);
    void *p = pad(path, n - 1);
    KEEP(p);
    return p;
}

int main(int argc, char **argv)
{
    uint32_t paths = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1u << 20;
    int depth = argc > 2 ? atoi(argv[2]) : 34;
    if (paths == 0 || paths > 1u << 20 || depth < 0) {
        fprintf(stderr, "usage: deepstacks [PATHS <= 1048576 [PAD]]\n");
        return 2;
    }
    for (int i = 0; i < 10; i++) g_levels[i] = g_variants;
    void **keep = malloc(paths * sizeof *keep);
    if (!keep) {
        perror("malloc");
        return 1;
    }
    for (uint32_t i = 0; i < paths; i++) keep[i] = pad(i, depth);
    g_keep = keep;
    KEEP(g_keep);
    fprintf(stderr, "paths=%u\n", paths);
    return 0;
}

/* live.c - a program that keeps millions of heap blocks live to its exit:
 * the workload for memlens's exit analysis at scale (reachability over the
 * whole heap, symbolization, report).
 *
 * It allocates BLOCKS blocks (default 2,000,000) of 32..992 bytes (about
 * 1 GiB in all) through 64 distinct call paths and fills them with
 * non-pointer bytes.  An index (one block of BLOCKS pointers, reached from
 * a global) points at every block, except that every 1000th block is left
 * out of the index: it is definitely lost, and the block chained from its
 * first word (the next one, also left out of the index) is indirectly lost.
 * Nothing is freed.  It prints its own answer on stderr:
 *   "blocks=N definite=D indirect=I reachable=R bytes=B"
 * (R counts the index block too).
 *
 * usage: live [BLOCKS [MAXBYTES [MINBYTES]]]
 *   MAXBYTES  largest block (default 992)
 *   MINBYTES  smallest block (default 32, at least 16: a block holds its
 *             chain word and at least one byte more)
 * (bench/run.sh's `small` workload is `live 10000000 48 16`.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOIPA __attribute__((noipa))
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

static void **g_index;   /* the root: every block the program still knows */
static size_t g_min = 32;     /* block sizes: g_min .. g_min + g_span - 1 */
static size_t g_span = 961;

static NOIPA void *leaf(size_t n)
{
    void *p = malloc(n);
    KEEP(p);
    return p;
}

typedef void *(*alloc_fn)(uint32_t path, size_t n);

static NOIPA void *l2_0(uint32_t path, size_t n) { (void)path; void *p = leaf(n); KEEP(p); return p; }
static NOIPA void *l2_1(uint32_t path, size_t n) { (void)path; void *p = leaf(n); KEEP(p); return p; }
static NOIPA void *l2_2(uint32_t path, size_t n) { (void)path; void *p = leaf(n); KEEP(p); return p; }
static NOIPA void *l2_3(uint32_t path, size_t n) { (void)path; void *p = leaf(n); KEEP(p); return p; }
static const alloc_fn L2[4] = { l2_0, l2_1, l2_2, l2_3 };

#define L1(v) \
    static NOIPA void *l1_##v(uint32_t path, size_t n) \
    { void *p = L2[(path >> 2) & 3](path >> 2, n); KEEP(p); return p; }
L1(0) L1(1) L1(2) L1(3)
static const alloc_fn L1s[4] = { l1_0, l1_1, l1_2, l1_3 };

#define L0(v) \
    static NOIPA void *l0_##v(uint32_t path, size_t n) \
    { void *p = L1s[(path >> 2) & 3](path >> 2, n); KEEP(p); return p; }
L0(0) L0(1) L0(2) L0(3)
static const alloc_fn L0s[4] = { l0_0, l0_1, l0_2, l0_3 };

static inline uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* A block: its first word chains to another block (or NULL), the rest is
 * bytes that never look like a heap address. */
static void *make_block(uint64_t *seed, size_t *bytes)
{
    uint64_t r = next_rand(seed);
    size_t n = g_min + (size_t)((r >> 8) % g_span);
    uint32_t path = (uint32_t)(r >> 40) & 63;
    void **p = L0s[path & 3](path, n);
    if (!p) {
        perror("malloc");
        exit(1);
    }
    p[0] = NULL;
    memset(p + 1, 0x11, n - sizeof(void *));   /* n >= 16 */
    *bytes += n;
    return p;
}

int main(int argc, char **argv)
{
    uint64_t blocks = argc > 1 ? strtoull(argv[1], NULL, 0) : 2000000;
    uint64_t seed = 0x2545f4914f6cdd1dull, definite = 0, indirect = 0;
    size_t bytes = 0;
    size_t max = argc > 2 ? strtoull(argv[2], NULL, 0) : 992;
    size_t min = argc > 3 ? strtoull(argv[3], NULL, 0) : 32;

    if (min < 16 || max < min) {
        fprintf(stderr, "usage: live [BLOCKS [MAXBYTES [MINBYTES >= 16]]]\n");
        return 2;
    }
    g_min = min;
    g_span = max - min + 1;

    g_index = calloc(blocks, sizeof *g_index);
    if (!g_index) {
        perror("calloc");
        return 1;
    }
    for (uint64_t i = 0; i < blocks; i++) {
        void **p = make_block(&seed, &bytes);
        if (i % 1000 == 0 && i + 1 < blocks) {
            p[0] = make_block(&seed, &bytes);   /* lost with its parent */
            KEEP(p);
            definite++;
            indirect++;
            i++;
            continue;
        }
        g_index[i] = p;
    }
    fprintf(stderr, "blocks=%llu definite=%llu indirect=%llu reachable=%llu bytes=%zu\n",
            (unsigned long long)blocks, (unsigned long long)definite,
            (unsigned long long)indirect,
            (unsigned long long)(blocks - definite - indirect + 1),
            bytes + (size_t)blocks * sizeof *g_index);
    return 0;
}

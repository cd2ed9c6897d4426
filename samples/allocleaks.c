/* allocleaks.c - the same leaks whatever malloc the program runs with.
 *
 * Run as it is (glibc), or with jemalloc, tcmalloc or mimalloc preloaded
 * or linked: the answer does not depend on the allocator.  Each leak size
 * lands in a different class of allocator: 100 bytes (a small-size class),
 * 5000 bytes (a larger class), 1 MiB (a large allocation) and 64 MiB (a
 * huge one, mapped on its own).  Each block's first bytes are written.
 *
 *   lose_sizes()  malloc 64 MiB, 1 MiB, 5000, 100; pointers dropped
 *   lose_tree()   a 48-byte node holding two children of 32 and 200 bytes,
 *                 node pointer dropped: the children are indirectly lost
 *   keep_some()   g_keep[0..2] = malloc 64, 4096, 300000: still reachable
 *   g_inner       = malloc(512) + 128: only an interior pointer, possibly lost
 *
 * Expected answer:
 *   definitely lost   5 blocks  68,162,588 bytes   67108864 + 1048576 + 5000 +
 *                                                  100 + 48 (the node)
 *   indirectly lost   2 blocks         232 bytes   32 + 200
 *   possibly lost     1 block          512 bytes
 *   still reachable   3 blocks     304,160 bytes   64 + 4096 + 300000
 *
 * The allocator may add blocks of its own: tcmalloc's constructor makes two
 * with operator new (an 8-byte MallocExtension registration, definitely
 * lost, and a 16-byte one still reachable), which memcheck reports as well.
 * memcheck itself places the 64 MiB block at low addresses, where some
 * integer word of the process falls inside it: it may call the block
 * possibly lost.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O0", "no-inline")
#endif
#include <stdlib.h>
#include <string.h>

#include "scrub.h"

void *g_keep[3];
char *g_inner;

static void *made(size_t n)
{
    char *p = malloc(n);
    if (!p)
        abort();
    memset(p, 'a', n < 64 ? n : 64);
    return p;
}

static void lose_sizes(void)
{
    static const size_t sizes[] = {64u << 20, 1u << 20, 5000, 100};
    for (int i = 0; i < 4; i++)
        made(sizes[i]);
}

static void lose_tree(void)
{
    void **node = made(48);
    node[0] = made(32);
    node[1] = made(200);
    memset(node + 2, 0, 32);
}

static void keep_some(void)
{
    g_keep[0] = made(64);
    g_keep[1] = made(4096);
    g_keep[2] = made(300000);
    g_inner = (char *)made(512) + 128;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        static const unsigned long k[8] = {5, 68162588, 2, 232, 1, 512, 3, 304160};
        return expect_kinds(k);
    }
    lose_sizes();
    lose_tree();
    keep_some();
    scrub_stack();
    return 0;
}

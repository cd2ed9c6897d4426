/* manystacks.c - 2^BITS distinct allocation stacks, then one leak.
 *
 * usage: manystacks [BITS]     (default 20: 1,048,576 stacks)
 * walk() recurses BITS levels and at each level calls itself from one of two
 * call sites, chosen by one bit of the path number, so each of the 2^BITS
 * paths reaches leaf() by a stack of its own; leaf() mallocs 16 bytes and
 * frees them. Then leak_after_many() leaks 24 bytes, from a stack first seen
 * after all the others.
 *
 * Expected answer (with --num-callers at least BITS + 8, e.g. 48): definitely
 * lost 1 block / 24 bytes, its stack naming leak_after_many; nothing else
 * lost. A stack table that fills before the end gives that block no stack.
 */
#pragma GCC optimize("O0")
#include <stdlib.h>

static int bits = 20;

__attribute__((noinline)) static void leaf(void)
{
    free(malloc(16));
}

__attribute__((noinline)) static void walk(int depth, unsigned long path)
{
    if (depth == bits) {
        leaf();
        return;
    }
    if (path & 1)
        walk(depth + 1, path >> 1);     /* one call site ... */
    else
        walk(depth + 1, path >> 1);     /* ... or the other: a return address apart */
}

__attribute__((noinline)) static void leak_after_many(void)
{
    volatile char *p = malloc(24);
    p[0] = 1;
}

int main(int argc, char **argv)
{
    if (argc > 1) bits = atoi(argv[1]);
    for (unsigned long path = 0; path < (1ul << bits); path++)
        walk(0, path);
    leak_after_many();
    return 0;
}

/* cliques.c - a lost cycle whose blocks glibc places against allocation order.
 *
 * make_hole() allocates 24 bytes and frees them: glibc keeps the chunk in
 * its tcache.  lose_cycle() then allocates a (56 bytes, from the top of the
 * heap) and b (24 bytes, the freed chunk again, below a), points each at
 * the other and lets both go.
 *
 * memcheck names the lowest-addressed block of a lost cycle definitely
 * lost and the rest indirectly lost; its allocator hands out addresses in
 * allocation order, so under valgrind a, allocated first, is the leader.
 * Expected answer:
 *   definitely lost   1 block    56 bytes   a
 *   indirectly lost   1 block    24 bytes   b
 *   possibly lost     0
 *   still reachable   0
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O0", "no-inline")
#endif
#include <stdlib.h>
#include <string.h>

#include "scrub.h"

struct link { struct link *other; char pad[48]; };   /* a: 56 bytes */

static void make_hole(void)
{
    free(malloc(24));
}

static void lose_cycle(void)
{
    struct link *a = malloc(sizeof *a);
    void **b = malloc(24);
    memset(a, 0, sizeof *a);
    memset(b, 0, 24);
    a->other = (struct link *)b;
    b[0] = a;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        static const unsigned long k[8] = {1, 56, 1, 24, 0, 0, 0, 0};
        return expect_kinds(k);
    }
    make_hole();
    lose_cycle();
    scrub_stack();
    return 0;
}

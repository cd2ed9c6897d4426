/* chunkhdr.c - a pointer to a block's chunk header, as Perl keeps them.
 *
 * p and q are 200-byte blocks that glibc carved one after the other from
 * the top of the heap: q = p + 208 (the first such pair of a few tried;
 * the blocks of the others are freed).
 * g_q keeps q; g_head keeps q - 16, the address of q's chunk header, which
 * under glibc lies inside p's last 8 bytes (p + 192).  Nothing else points
 * at p.
 *
 * Under valgrind q - 16 falls in a redzone, inside no block, so p is
 * definitely lost.  Expected answer:
 *   definitely lost   1 block   200 bytes   p
 *   indirectly lost   0
 *   possibly lost     0
 *   still reachable   1 block   200 bytes   q
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O0", "no-inline")
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scrub.h"

char *g_q;
char *g_head;
static int g_adjacent;

static void keep_header(void)
{
    char *spare[8], *p = malloc(200), *q = malloc(200);
    int n = 0;
    /* The first blocks may straddle something the runtime allocated in
     * between: take the first adjacent pair, free the others. */
    while (q != p + 208 && n < 8) {
        spare[n++] = p;
        p = q;
        q = malloc(200);
    }
    g_adjacent = q == p + 208;
    memset(p, 'p', 200);
    memset(q, 'q', 200);
    g_q = q;
    g_head = q - 16;
    while (n > 0)
        free(spare[--n]);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        static const unsigned long k[8] = {1, 200, 0, 0, 0, 0, 1, 200};
        return expect_kinds(k);
    }
    keep_header();
    scrub_stack();
    if (!g_adjacent)
        fputs("chunkhdr: the two blocks are not adjacent (not glibc?)\n", stderr);
    return 0;
}

/* freehead.c - a pointer to a freed chunk's header, deep in a large heap.
 *
 * The heap is read in two parts at exit when it is 4 MiB or more
 * (tracer/heapread.c), each part walking glibc's chunks from its own start;
 * this sample puts the chunk that matters in the second part.
 *
 * fill() makes FILL blocks of 1,000 bytes (chunks of 1,008), all kept in
 * g_fill: about 5 MB of brk heap (mallopt pins the mmap threshold at
 * 64 MiB so that none is mmapped).  Then e, a, b and c, 1,000 bytes each,
 * come one after the other from the top of the heap: a = e + 1,008 and so
 * on.  e and b are freed (their chunks go to the tcache: still chunks, no
 * live blocks), so a chunk walk reaches b's header only through e's, which
 * no live block's header gives.  g_head keeps b - 16, the address of b's
 * chunk header, which lies inside a's last 8 bytes; g_c keeps c.  Nothing
 * else points at a.
 *
 * A word equal to the header of a chunk that is not a live block is
 * malloc's, not a pointer into a: a is definitely lost.  Under valgrind
 * b - 16 lies in the redzone of a freed block, inside no live block: the
 * same answer.  Expected:
 *   definitely lost   1 block       1,000 bytes            a
 *   indirectly lost   0
 *   possibly lost     0
 *   still reachable   FILL + 2      FILL x 1,000 + FILL x 8 (g_fill) + 1,000 (c)
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O0", "no-inline")
#endif
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scrub.h"

#define FILL 5000
#define SIZE 1000

char **g_fill;
char *g_head;
char *g_c;
static int g_adjacent;

static void fill(void)
{
    g_fill = malloc(FILL * sizeof *g_fill);
    for (int i = 0; i < FILL; i++) {
        g_fill[i] = malloc(SIZE);
        memset(g_fill[i], 'f', SIZE);
    }
}

static void keep_free_header(void)
{
    char *e = malloc(SIZE), *a = malloc(SIZE), *b = malloc(SIZE), *c = malloc(SIZE);
    g_adjacent = a == e + 1008 && b == a + 1008 && c == b + 1008;
    memset(a, 'a', SIZE);
    memset(c, 'c', SIZE);
    free(e);
    free(b);
    g_head = b - 16;
    g_c = c;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        static const unsigned long k[8] = {1, SIZE, 0, 0, 0, 0, FILL + 2,
                                           FILL * SIZE + FILL * 8 + SIZE};
        return expect_kinds(k);
    }
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    fill();
    keep_free_header();
    scrub_stack();
    if (!g_adjacent)
        fputs("freehead: e, a, b and c are not adjacent (not glibc?)\n", stderr);
    return 0;
}

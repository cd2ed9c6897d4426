/* growing.c - a program whose leaks grow with its argument N (--load --diff).
 *
 * `growing N` (N >= 1) leaves, all definitely lost:
 *
 *   made by          blocks   bytes        what
 *   leak_steady           2     160        2 x malloc(80), whatever N is
 *   leak_per_item         N     N * 48     one malloc(48) per item
 *   leak_when_big    N >= 4 ?   1 : 0      one malloc(256) once N reaches 4
 *
 * so between `growing 2` and `growing 5` the diff names leak_per_item as
 * grown by 3 blocks and 144 bytes (5 * 48 - 2 * 48), leak_when_big as new
 * (1 block, 256 bytes) and leak_steady not at all.  `growing --expect N`
 * prints those figures as JSON and allocates nothing.
 *
 * As in leaky.c: every size is a multiple of 16, nothing keeps a pointer to
 * a lost block, and scrub_stack() clears the dead frames before the exit.
 */
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEADY_BLOCKS 2
#define STEADY_SIZE 80
#define ITEM_SIZE 48
#define BIG_FROM 4
#define BIG_SIZE 256

void *volatile g_sink;          /* each block passes through here, then is forgotten */

void leak_steady(void)
{
    for (int i = 0; i < STEADY_BLOCKS; i++) g_sink = malloc(STEADY_SIZE);
    g_sink = NULL;
}

void leak_per_item(long n)
{
    for (long i = 0; i < n; i++) g_sink = malloc(ITEM_SIZE);
    g_sink = NULL;
}

void leak_when_big(long n)
{
    if (n >= BIG_FROM) g_sink = malloc(BIG_SIZE);
    g_sink = NULL;
}

void scrub_stack(void)
{
    volatile char area[64 * 1024];
    memset((char *)area, 0, sizeof area);
}

static int print_expect(long n)
{
    int big = n >= BIG_FROM;
    printf("{\"n\":%ld,\"definite\":{\"blocks\":%ld,\"bytes\":%ld},"
           "\"sites\":{\"leak_steady\":{\"blocks\":%d,\"bytes\":%d},"
           "\"leak_per_item\":{\"blocks\":%ld,\"bytes\":%ld},"
           "\"leak_when_big\":{\"blocks\":%d,\"bytes\":%d}}}\n",
           n, STEADY_BLOCKS + n + big, STEADY_BLOCKS * STEADY_SIZE + n * ITEM_SIZE + big * BIG_SIZE,
           STEADY_BLOCKS, STEADY_BLOCKS * STEADY_SIZE, n, n * ITEM_SIZE, big, big * BIG_SIZE);
    return 0;
}

int main(int argc, char **argv)
{
    int expect = argc > 1 && strcmp(argv[1], "--expect") == 0;
    const char *arg = argc > 1 + expect ? argv[1 + expect] : "1";
    long n = strtol(arg, NULL, 10);
    if (n < 1 || n > 100000) return 2;
    if (expect) return print_expect(n);
    leak_steady();
    leak_per_item(n);
    leak_when_big(n);
    scrub_stack();
    return 0;
}

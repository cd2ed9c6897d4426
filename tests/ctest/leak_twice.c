/* leak_twice.c - two blocks dropped from two different call sites: two
 * loss records of one definitely lost block each ("Memory Leak" 2). */
#include <stdlib.h>

static void *volatile g_sink;

__attribute__((noinline)) static void first(void) { g_sink = malloc(10); g_sink = NULL; }
__attribute__((noinline)) static void second(void) { g_sink = malloc(20); g_sink = NULL; }

int main(void)
{
    first();
    second();
    return 0;
}

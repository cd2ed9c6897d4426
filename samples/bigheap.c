/* bigheap.c - millions of live blocks at exit: nothing lost, nothing miscounted.
 *
 * usage: bigheap [N]   (default 10000000)
 * keep_all() mallocs an array of N pointers (one block of N*8 bytes, held by
 * the global `table`) and N blocks of 16 bytes stored in it; drop_some()
 * then sets every 1000th entry to NULL without freeing, so at exit:
 *   still reachable: N - N/1000 + 1 blocks, (N - N/1000) * 16 + N*8 bytes;
 *   definitely lost: N/1000 blocks of 16 bytes (allocated in keep_all);
 *   allocations: N + 1 calls, no frees.
 * `bigheap --expect [N]` prints this as JSON.
 */
#pragma GCC optimize("O0")
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void **table;   /* visible: a static written but never read may be optimised away */

__attribute__((noinline)) static void keep_all(long n)
{
    table = malloc((size_t)n * sizeof *table);
    for (long i = 0; i < n; i++) table[i] = malloc(16);
}

__attribute__((noinline)) static void drop_some(long n)
{
    for (long i = 0; i < n; i += 1000) table[i] = NULL;
}

int main(int argc, char **argv)
{
    int expect = argc > 1 && strcmp(argv[1], "--expect") == 0;
    long n = argc > 1 + expect ? atol(argv[1 + expect]) : 10000000;
    long lost = (n + 999) / 1000;
    if (n < 1000) return 2;
    if (expect) {
        printf("{\"calls\":%ld,\"frees\":0,\"definite\":{\"blocks\":%ld,\"bytes\":%ld},"
               "\"indirect\":{\"blocks\":0,\"bytes\":0},\"possible\":{\"blocks\":0,\"bytes\":0},"
               "\"reachable\":{\"blocks\":%ld,\"bytes\":%ld}}\n",
               n + 1, lost, lost * 16, n - lost + 1, (n - lost) * 16 + n * 8);
        return 0;
    }
    keep_all(n);
    drop_some(n);
    return 0;
}

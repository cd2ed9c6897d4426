/* mallinfo.c - fragments the heap, then prints glibc's own figures for it.
 *
 * churn() allocates 6,000 blocks whose sizes a fixed pseudo-random sequence
 * draws between 16 and 8,015 bytes, then frees the two thirds of them that
 * the same sequence picks, leaving free chunks of every size between the
 * survivors.  keep_big() allocates one 300,000-byte block, above glibc's
 * default 128 KiB mmap threshold, so the heap also has an mmapped chunk.
 * Last, print_mallinfo() (mallinfo.h) writes glibc's mallinfo2() and the
 * [heap] Rss from /proc/self/smaps to stderr as one line of JSON.
 *
 * Expected answer: whatever glibc says on that line, for the same heap:
 *   memlens's extent_bytes summed over the main and arena heaps = arena,
 *   its free_bytes over the same parts = fordblks (each within 5%: glibc
 *   counts tcache entries and its own per-thread tcache block as in use,
 *   memlens counts every byte outside a live chunk as free);
 *   the mmapped part holds one chunk of 300,000 bytes requested
 *   (hblks = 1, hblkhd = its mapping);
 *   the main heap's resident_bytes = heap_rss.
 * Leak kinds: the survivors (about a third of the 6,000) and the big block
 * are still reachable (g_blocks and g_big hold them); their exact count and
 * bytes depend only on the sequence, and --expect replays it to print them.
 *
 * `mallinfo --expect` prints the leak answer as JSON and exits before it
 * allocates anything.
 */
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mallinfo.h"

#define NBLOCKS 6000
#define BIG_SIZE 300000

char *g_blocks[NBLOCKS];
char *g_big;

/* The fixed sequence: a 32-bit linear congruential generator. */
static uint32_t next(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static size_t size_of(uint32_t r)
{
    return 16 + r % 8000;
}

static int is_freed(uint32_t r)
{
    return r % 3 != 0;
}

void churn(void)
{
    uint32_t st = 12345;
    for (int i = 0; i < NBLOCKS; i++) {
        size_t size = size_of(next(&st));
        g_blocks[i] = malloc(size);
        memset(g_blocks[i], 'M', size);
    }
    for (int i = 0; i < NBLOCKS; i++)
        if (is_freed(next(&st))) {
            free(g_blocks[i]);
            g_blocks[i] = NULL;
        }
}

void keep_big(void)
{
    g_big = malloc(BIG_SIZE);
    memset(g_big, 'B', BIG_SIZE);
}

/* Replays the sequence without allocating: the survivors' count and bytes. */
static int print_expect(void)
{
    uint32_t st = 12345;
    size_t sizes[NBLOCKS];
    unsigned long blocks = 1, bytes = BIG_SIZE;
    for (int i = 0; i < NBLOCKS; i++)
        sizes[i] = size_of(next(&st));
    for (int i = 0; i < NBLOCKS; i++)
        if (!is_freed(next(&st))) {
            blocks++;
            bytes += sizes[i];
        }
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":%lu,\"bytes\":%lu},"
           "\"mmapped_live_bytes\":%d,"
           "\"exit_code\":0}\n", blocks, bytes, BIG_SIZE);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();
    churn();
    keep_big();
    print_mallinfo();
    return 0;
}

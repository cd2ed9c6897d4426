/* fraghole.c - a heap whose free space is one big gap: external fragmentation near 0.
 *
 * make_blocks() allocates 4,096 blocks of 2,000 bytes.  glibc serves them
 * from the brk heap back to back, in chunks of 2,016 bytes (2,000 + the
 * 8-byte size word, rounded up to 16).  free_middle() frees the contiguous
 * middle run, blocks 1,024 to 3,071: glibc coalesces them (2,016-byte chunks
 * are too big for tcache and fastbins) into one free chunk of
 * 2,048 x 2,016 = 4,128,768 bytes.
 *
 * Expected answer:
 *   live blocks        2,048 x 2,000 = 4,096,000 bytes, all made by
 *                      make_blocks, all still reachable (g_blocks holds them)
 *   largest free gap   at least 4,128,768 bytes
 *   free bytes         that gap, the top chunk (at most M_TOP_PAD = 128 KiB
 *                      plus one chunk and a page) and whatever few bytes
 *                      libc freed before main: so external fragmentation
 *                      1 - largest / free is at most 0.1 (about 0.03)
 *   internal fragmentation  8 bytes per block (usable size 2,008 = chunk
 *                      size - 8): 2,048 x 8 = 16,384 bytes of the heap's
 *                      internal fragmentation come from make_blocks
 *
 * mallopt(M_MMAP_THRESHOLD) pins the threshold at 1 MiB so that no block is
 * mmapped and the answer does not depend on glibc's dynamic threshold.
 *
 * `fraghole --expect` prints the answer as JSON and exits before it
 * allocates anything.  The measured run prints nothing but glibc's own
 * figures, last, to stderr (see mallinfo.h).
 */
#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mallinfo.h"

#define NBLOCKS 4096
#define BLOCK_SIZE 2000
#define HOLE_FIRST 1024
#define HOLE_BLOCKS 2048

char *g_blocks[NBLOCKS];        /* keeps the survivors still reachable */

void make_blocks(void)
{
    for (int i = 0; i < NBLOCKS; i++) {
        g_blocks[i] = malloc(BLOCK_SIZE);
        memset(g_blocks[i], 'H', BLOCK_SIZE);
    }
}

void free_middle(void)
{
    for (int i = HOLE_FIRST; i < HOLE_FIRST + HOLE_BLOCKS; i++) {
        free(g_blocks[i]);
        g_blocks[i] = NULL;
    }
}

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":%d,\"bytes\":%d},"
           "\"site_function\":\"make_blocks\",\"site_live_bytes\":%d,"
           "\"largest_free_bytes_at_least\":%d,"
           "\"external_fragmentation_at_most\":0.1,"
           "\"exit_code\":0}\n",
           NBLOCKS - HOLE_BLOCKS, (NBLOCKS - HOLE_BLOCKS) * BLOCK_SIZE,
           (NBLOCKS - HOLE_BLOCKS) * BLOCK_SIZE,
           HOLE_BLOCKS * 2016);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    make_blocks();
    free_middle();
    print_mallinfo();
    return 0;
}

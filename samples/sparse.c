/* sparse.c - a large anonymous mapping that holds no heap block, only a
 * pointer to one: what a custom allocator's arena or a buffer pool looks
 * like to memlens.
 *
 * usage: sparse [written]
 * main() maps private anonymous memory (MAP_NORESERVE, so that the kernel
 * merges it with no neighbour) and writes into it, 5/8 of the way in, the
 * only pointer to a 40-byte block from keep_in_sparse().  It also loses a
 * 24-byte block from lose().
 *   (no argument)  8 GiB mapped; only the page with the pointer is touched,
 *                  the rest reads as zeros and holds no pointer
 *   written        256 MiB mapped and every byte of it written
 *
 * Expected answer, both ways:
 *   definitely lost: 1 block, 24 bytes (lose)
 *   still reachable: 1 block, 40 bytes (held from the mapping)
 *   nothing indirectly or possibly lost
 *   memlens keeps no copy of the mapping (MEMLENS_STATS=1 prints
 *        captured_bytes, the bytes copied, and scanned_bytes, those only
 *        read): untouched pages are not read at all, and written ones are
 *        read and scanned, not kept
 *
 * `sparse --expect [written]` prints the same as JSON (with the mapping's
 * size and whether it is written) and exits before it does anything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SPARSE_MAPPING (8ul << 30)
#define WRITTEN_MAPPING (256ul << 20)

void *keep;   /* visible: a static written but never read may be optimised away */

static int print_expect(unsigned long mapping, int written)
{
    printf("{\"definite\":{\"blocks\":1,\"bytes\":24},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":1,\"bytes\":40},"
           "\"definite_functions\":[\"lose\"],\"exit_code\":0,"
           "\"mapping_bytes\":%lu,\"written\":%s}\n", mapping, written ? "true" : "false");
    return 0;
}

__attribute__((noinline)) void *keep_in_sparse(void)
{
    void *volatile p = malloc(40);   /* volatile: no tail call, the frame stays */
    return p;
}

__attribute__((noinline)) void lose(void)
{
    void *volatile p = malloc(24);
    p = NULL;
}

int main(int argc, char **argv)
{
    int written = 0, expect = 0;
    for (int i = 1; i < argc; i++) {
        written |= strcmp(argv[i], "written") == 0;
        expect |= strcmp(argv[i], "--expect") == 0;
    }
    unsigned long mapping = written ? WRITTEN_MAPPING : SPARSE_MAPPING;
    if (expect)
        return print_expect(mapping, written);
    char *map = mmap(NULL, mapping, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        perror("sparse: mmap");
        return 2;
    }
    if (written) memset(map, 's', mapping);
    void *block = keep_in_sparse();
    memcpy(map + mapping / 8 * 5, &block, sizeof block);
    block = NULL;
    keep = map;
    lose();
    return 0;
}

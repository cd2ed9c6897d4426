/* sparse.c - a large anonymous mapping of which the program touches one page.
 *
 * main() maps 8 GiB of private anonymous memory (MAP_NORESERVE, so that the
 * kernel merges it with no neighbour) and writes into one page of it, at
 * 5 GiB, the only pointer to a 40-byte block from keep_in_sparse().  It
 * also loses a 24-byte block from lose().  The rest of the mapping is never
 * touched: it reads as zeros and holds no pointer.
 *
 * Expected answer:
 *   definitely lost: 1 block, 24 bytes (lose)
 *   still reachable: 1 block, 40 bytes (held from the mapping's one page)
 *   nothing indirectly or possibly lost
 *   the exit snapshot need not read the untouched pages: memlens reads far
 *        less than the 8 GiB (MEMLENS_STATS=1 prints captured_bytes)
 *
 * `sparse --expect` prints the same as JSON and exits before it does
 * anything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAPPING (8ul << 30)
#define AT (5ul << 30)

void *keep;   /* visible: a static written but never read may be optimised away */

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":1,\"bytes\":24},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":1,\"bytes\":40},"
           "\"definite_functions\":[\"lose\"],\"exit_code\":0,"
           "\"mapping_bytes\":%lu}\n", MAPPING);
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
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();
    char *map = mmap(NULL, MAPPING, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        perror("sparse: mmap");
        return 2;
    }
    void *block = keep_in_sparse();
    memcpy(map + AT, &block, sizeof block);
    block = NULL;
    keep = map;
    lose();
    return 0;
}

/* mremap.c - a mapping that mremap grows and moves.
 *
 * grow_and_move() maps 4 anonymous read-write pages (4 KiB each) and writes
 * all four; it maps one page right after them (MAP_FIXED_NOREPLACE: if
 * something is already there, that blocks growing in place just as well),
 * so that mremap(old, 4 pages, 13 pages, MREMAP_MAYMOVE) cannot grow the
 * mapping where it is and moves it.  The blocking page is unmapped, then
 * pages 10 and 11 of the moved mapping are written.  The moved mapping is
 * never unmapped.
 *
 * The mappings are MAP_NORESERVE so that the kernel does not merge them
 * with a neighbouring anonymous mapping: the region at exit is exactly the
 * moved mapping.
 *
 * Expected answer:
 *   regions: at the new address (printed on stderr) a region of kind
 *        "mmap-anon", perms rw-p, 53,248 bytes (13 pages), 24,576 of them
 *        resident (the 4 pages that moved with it + 2), origin "mremap"
 *   mapping_leaks: one record, 1 mapping, 53,248 bytes, 24,576 resident,
 *        its stack names grow_and_move
 *   syscalls made by this program itself, lower bounds on the counts:
 *        mmap >= 2, mremap >= 1
 *   no heap leak of any kind (it never calls malloc)
 *
 * `mremap --expect` prints the same as JSON and exits before it does
 * anything else.  The measured run prints, as its last act, on stderr,
 * "mremap: moved 0xOLD -> 0xNEW".
 */

#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096
#define OLD_PAGES 4
#define NEW_PAGES 13
#define FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

static char *g_old, *g_new;

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[],\"exit_code\":0,"
           "\"shm\":[],"
           "\"region\":{\"kind\":\"mmap-anon\",\"perms\":\"rw-p\",\"size\":%d,"
           "\"resident\":%d,\"origin\":\"mremap\"},"
           "\"mapping_leaks\":["
           "{\"function\":\"grow_and_move\",\"mappings\":1,\"bytes\":%d,\"resident_bytes\":%d}],"
           "\"syscalls_at_least\":{\"mmap\":2,\"mremap\":1}}\n",
           NEW_PAGES * PAGE, 6 * PAGE, NEW_PAGES * PAGE, 6 * PAGE);
    return 0;
}

int grow_and_move(void)
{
    g_old = mmap(NULL, OLD_PAGES * PAGE, PROT_READ | PROT_WRITE, FLAGS, -1, 0);
    if (g_old == MAP_FAILED)
        return -1;
    memset(g_old, 'm', OLD_PAGES * PAGE);
    char *block = mmap(g_old + OLD_PAGES * PAGE, PAGE, PROT_READ, FLAGS | MAP_FIXED_NOREPLACE,
                       -1, 0);
    g_new = mremap(g_old, OLD_PAGES * PAGE, NEW_PAGES * PAGE, MREMAP_MAYMOVE);
    if (block != MAP_FAILED)
        munmap(block, PAGE);
    if (g_new == MAP_FAILED || g_new == g_old)
        return -1;
    g_new[10 * PAGE] = 'x';
    g_new[11 * PAGE] = 'y';
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();
    if (sysconf(_SC_PAGESIZE) != PAGE) {
        fprintf(stderr, "mremap: the answer assumes 4 KiB pages\n");
        return 2;
    }

    int bad = grow_and_move() != 0;
    if (bad)
        fprintf(stderr, "mremap: the mapping did not move\n");
    fprintf(stderr, "mremap: moved %p -> %p\n", (void *)g_old, (void *)g_new);
    return bad;
}

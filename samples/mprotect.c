/* mprotect.c - mprotect turns the tail of a mapping read-only.
 *
 * protect_tail() maps 8 anonymous read-write pages (4 KiB each), writes
 * all eight, then mprotect(PROT_READ)s the last 3.  The kernel splits the
 * mapping in two.  It is never unmapped.
 *
 * The mapping is MAP_NORESERVE so that the kernel does not merge it with a
 * neighbouring anonymous mapping: the two regions at exit are exactly its
 * two parts.
 *
 * Expected answer:
 *   regions: at the address printed on stderr, a region of kind
 *        "mmap-anon", perms rw-p, 20,480 bytes (5 pages), all resident;
 *        right after it a region of kind "mmap-anon", perms r--p, 12,288
 *        bytes (3 pages), all resident; both origin "mmap"
 *   mapping_leaks: one record, 1 mapping, 32,768 bytes, 32,768 resident,
 *        its stack names protect_tail
 *   syscalls made by this program itself, lower bounds on the counts:
 *        mmap >= 1, mprotect >= 1
 *   no heap leak of any kind (it never calls malloc)
 *
 * `mprotect --expect` prints the same as JSON and exits before it does
 * anything else.  The measured run prints, as its last act, on stderr,
 * "mprotect: mapping at 0xADDR".
 */

#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
#define PAGES 8
#define RO_PAGES 3

static char *g_map;

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[],\"exit_code\":0,"
           "\"shm\":[],"
           "\"regions\":["
           "{\"offset\":0,\"kind\":\"mmap-anon\",\"perms\":\"rw-p\",\"size\":%d,"
           "\"resident\":%d,\"origin\":\"mmap\"},"
           "{\"offset\":%d,\"kind\":\"mmap-anon\",\"perms\":\"r--p\",\"size\":%d,"
           "\"resident\":%d,\"origin\":\"mmap\"}],"
           "\"mapping_leaks\":["
           "{\"function\":\"protect_tail\",\"mappings\":1,\"bytes\":%d,\"resident_bytes\":%d}],"
           "\"syscalls_at_least\":{\"mmap\":1,\"mprotect\":1}}\n",
           (PAGES - RO_PAGES) * PAGE, (PAGES - RO_PAGES) * PAGE,
           (PAGES - RO_PAGES) * PAGE, RO_PAGES * PAGE, RO_PAGES * PAGE,
           PAGES * PAGE, PAGES * PAGE);
    return 0;
}

int protect_tail(void)
{
    g_map = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (g_map == MAP_FAILED)
        return -1;
    memset(g_map, 'r', PAGES * PAGE);
    return mprotect(g_map + (PAGES - RO_PAGES) * PAGE, RO_PAGES * PAGE, PROT_READ);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();
    if (sysconf(_SC_PAGESIZE) != PAGE) {
        fprintf(stderr, "mprotect: the answer assumes 4 KiB pages\n");
        return 2;
    }

    int bad = protect_tail() != 0;
    if (bad)
        perror("mprotect");
    fprintf(stderr, "mprotect: mapping at %p\n", (void *)g_map);
    return bad;
}

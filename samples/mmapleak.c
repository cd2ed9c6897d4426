/* mmapleak.c - anonymous mappings the program makes and never unmaps.
 *
 * Every mapping is private, anonymous and read-write (pages are 4 KiB):
 *
 *   function       mappings  pages  touched  never unmapped
 *   leak_pages            1      7        3  28,672 bytes, 12,288 resident
 *   leak_twice            2      5        2  40,960 bytes, 16,384 resident
 *                                            (one call site in a loop: one
 *                                            stack, two mappings)
 *   leak_trimmed          1      9        2  maps 9 pages, writes the first
 *                                            and the last, then unmaps the
 *                                            last 4: 20,480 bytes, 4,096
 *                                            resident
 *   leak_after_trim       1      4        4  16,384 bytes, 16,384 resident
 *                                            (the kernel tends to place it
 *                                            in the hole leak_trimmed left:
 *                                            neither may count the other)
 *   map_and_unmap         1     11       11  unmapped again: not reported
 *
 * Expected answer:
 *   mapping_leaks: four records (one per leaking function), 5 mappings,
 *        106,496 bytes, 49,152 resident in all, as in the table
 *   syscalls made by this program itself, lower bounds on the counts:
 *        mmap >= 6, munmap >= 2
 *   no heap leak of any kind (it never calls malloc)
 *
 * `mmapleak --expect` prints the same as JSON and exits before it does
 * anything else; the measured run prints nothing.  The addresses are kept
 * in globals: what leaks is the mapping itself, which nobody unmaps.
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

char *g_pages, *g_twice[2], *g_trimmed, *g_after_trim;

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[],\"exit_code\":0,"
           "\"shm\":[],"
           "\"mapping_leaks\":["
           "{\"function\":\"leak_pages\",\"mappings\":1,\"bytes\":%d,\"resident_bytes\":%d},"
           "{\"function\":\"leak_twice\",\"mappings\":2,\"bytes\":%d,\"resident_bytes\":%d},"
           "{\"function\":\"leak_trimmed\",\"mappings\":1,\"bytes\":%d,\"resident_bytes\":%d},"
           "{\"function\":\"leak_after_trim\",\"mappings\":1,\"bytes\":%d,\"resident_bytes\":%d}],"
           "\"not_leaking_functions\":[\"map_and_unmap\"],"
           "\"syscalls_at_least\":{\"mmap\":6,\"munmap\":2}}\n",
           7 * PAGE, 3 * PAGE, 2 * 5 * PAGE, 2 * 2 * PAGE,
           5 * PAGE, 1 * PAGE, 4 * PAGE, 4 * PAGE);
    return 0;
}

static char *map_anon(size_t pages)
{
    char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Write one byte in each of the first n pages of p. */
static void touch(char *p, size_t first, size_t n)
{
    for (size_t i = first; i < first + n; i++)
        p[i * PAGE] = (char)i;
}

int leak_pages(void)
{
    g_pages = mmap(NULL, 7 * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_pages == MAP_FAILED)
        return -1;
    touch(g_pages, 0, 3);
    return 0;
}

int leak_twice(void)
{
    for (int i = 0; i < 2; i++) {
        g_twice[i] = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (g_twice[i] == MAP_FAILED)
            return -1;
        touch(g_twice[i], 0, 2);
    }
    return 0;
}

int leak_trimmed(void)
{
    g_trimmed = mmap(NULL, 9 * PAGE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_trimmed == MAP_FAILED)
        return -1;
    touch(g_trimmed, 0, 1);
    touch(g_trimmed, 8, 1);
    return munmap(g_trimmed + 5 * PAGE, 4 * PAGE);
}

int leak_after_trim(void)
{
    g_after_trim = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_after_trim == MAP_FAILED)
        return -1;
    touch(g_after_trim, 0, 4);
    return 0;
}

int map_and_unmap(void)
{
    char *p = map_anon(11);
    if (!p)
        return -1;
    touch(p, 0, 11);
    return munmap(p, 11 * PAGE);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();
    if (sysconf(_SC_PAGESIZE) != PAGE) {
        fprintf(stderr, "mmapleak: the answer assumes 4 KiB pages\n");
        return 2;
    }

    int bad = 0;
    bad |= map_and_unmap();
    bad |= leak_pages();
    bad |= leak_twice();
    bad |= leak_trimmed();
    bad |= leak_after_trim();
    if (bad)
        perror("mmapleak");
    return bad != 0;
}

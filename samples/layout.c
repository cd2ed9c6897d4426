/* layout.c - a plain C program whose memory map memlens must describe.
 *
 * It has initialized globals (.data: g_table), 64 KiB of zeroed globals
 * (.bss: g_zeroed, larger than a page so the kernel maps it anonymously
 * after the program's data), one heap block of 1,024 bytes kept in the
 * global g_block (so the brk heap exists), and its main thread's stack.
 * It writes three pages of g_zeroed.
 *
 * As its very last act, main reads /proc/self/maps (open/read into a
 * static buffer: no allocation) and writes its [heap] and [stack] lines to
 * stderr, each prefixed with "layout: ".  Nothing allocates afterwards, so
 * the [heap] at the exit snapshot is the one printed; the [stack] ends at
 * the same address, though the exit path may grow it downwards.
 *
 * Expected answer:
 *   regions: among them kinds text, data, bss, heap and stack; [heap] with
 *        the start and end printed on stderr
 *   still reachable: 1 block, 1,024 bytes (g_block); nothing lost
 *   no shm, no mapping leak; brk >= 1 (the heap had to be made)
 *
 * `layout --expect` prints the same as JSON and exits before it does
 * anything else.
 */

#if defined(__clang__)
#pragma clang optimize off
#elif defined(__GNUC__)
#pragma GCC optimize("O0", "no-inline")
#endif

#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 1024

long g_table[64] = { 1, 2, 3, 4, 5, 6, 7, 8 };
char g_zeroed[64 * 1024];
char *g_block;
static char g_maps[256 * 1024];

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":1,\"bytes\":%d},"
           "\"definite_functions\":[],\"exit_code\":0,"
           "\"kinds\":[\"text\",\"data\",\"bss\",\"heap\",\"stack\"],"
           "\"shm\":[],\"mapping_leaks\":[],"
           "\"syscalls_at_least\":{\"brk\":1}}\n", BLOCK);
    return 0;
}

void use_memory(void)
{
    g_block = malloc(BLOCK);
    memset(g_block, 'h', BLOCK);
    for (int i = 0; i < 3; i++)
        g_zeroed[i * 4096 + 100] = (char)g_table[i];
}

static int ends_with(const char *s, size_t len, const char *tail)
{
    size_t n = strlen(tail);
    return len >= n && memcmp(s + len - n, tail, n) == 0;
}

/* Write the [heap] and [stack] lines of /proc/self/maps to stderr. */
void print_own_maps(void)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return;
    size_t len = 0;
    ssize_t got;
    while (len < sizeof g_maps && (got = read(fd, g_maps + len, sizeof g_maps - len)) > 0)
        len += (size_t)got;
    close(fd);
    for (size_t at = 0; at < len;) {
        char *nl = memchr(g_maps + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (g_maps + at)) : len - at;
        if (ends_with(g_maps + at, n, "[heap]") || ends_with(g_maps + at, n, "[stack]")) {
            write(2, "layout: ", 8);
            write(2, g_maps + at, n);
            write(2, "\n", 1);
        }
        at += n + 1;
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();

    use_memory();
    print_own_maps();
    return 0;
}

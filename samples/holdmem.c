/* holdmem.c - a program with a large, fully written mapping, for the case
 * where memlens has no room left to copy it at exit.
 *
 * main() maps 512 MiB of private anonymous memory and writes all of it,
 * stores in its last word the only pointer to a 64-byte block from
 * keep_in_mapping(), then waits in pause() until a signal (SIGUSR1) ends
 * the wait, and returns 0.
 *
 * Expected answer:
 *   with room for the copy: still reachable 1 block, 64 bytes; nothing lost
 *   without it (the test lowers memlens's RLIMIT_AS while the program
 *        waits): unread_bytes >= 512 MiB, and the block, whose only pointer
 *        lay in the uncopied mapping, counts as definitely lost
 *
 * `holdmem --expect` prints the sizes as JSON and exits.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAPPING (512ul << 20)

void *keep;   /* visible: a static written but never read may be optimised away */
static volatile sig_atomic_t woken;

static void wake(int sig)
{
    (void)sig;
    woken = 1;
}

__attribute__((noinline)) void *keep_in_mapping(void)
{
    void *volatile p = malloc(64);   /* volatile: no tail call, the frame stays */
    return p;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        printf("{\"mapping_bytes\":%lu,\"block_bytes\":64}\n", MAPPING);
        return 0;
    }
    char *map = mmap(NULL, MAPPING, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        perror("holdmem: mmap");
        return 2;
    }
    memset(map, 'h', MAPPING);
    void *block = keep_in_mapping();
    memcpy(map + MAPPING - sizeof block, &block, sizeof block);
    block = NULL;
    keep = map;
    signal(SIGUSR1, wake);
    while (!woken) pause();
    return 0;
}

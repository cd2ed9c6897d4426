/* holdmem.c - a large, fully written heap block, for the case where memlens
 * has no room left to copy it at exit.
 *
 * main() allocates a 512 MiB buffer with malloc (glibc maps it on its own),
 * writes all of it, stores in its last word the only pointer to a 64-byte
 * block from keep_in_mapping(), keeps the buffer in a global, then waits in
 * pause() until a signal (SIGUSR1) ends the wait, and returns 0.
 *
 * Expected answer:
 *   with room for the copy: still reachable 2 blocks, the buffer and the
 *        64-byte block; nothing lost
 *   without it (the test lowers memlens's RLIMIT_AS while the program
 *        waits): uncopied_bytes >= 512 MiB, the buffer scanned instead of
 *        copied, and the same answer: both blocks still reachable
 *
 * `holdmem --expect` prints the sizes as JSON and exits.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUFFER (512ul << 20)

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
        printf("{\"buffer_bytes\":%lu,\"block_bytes\":64}\n", BUFFER);
        return 0;
    }
    char *buf = malloc(BUFFER);
    if (!buf) {
        perror("holdmem: malloc");
        return 2;
    }
    memset(buf, 'h', BUFFER);
    void *block = keep_in_mapping();
    memcpy(buf + BUFFER - sizeof block, &block, sizeof block);
    block = NULL;
    keep = buf;
    signal(SIGUSR1, wake);
    while (!woken) pause();
    return 0;
}

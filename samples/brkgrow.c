/* brkgrow.c - a heap that brk grows step by step, then fails to grow.
 *
 * grow_heap() moves the break with the raw brk syscall (no malloc is ever
 * called): it asks for the current break, then grows it 8 times by 64 KiB.
 * Then it lowers its soft RLIMIT_DATA to 16 MiB and asks for 256 MiB more:
 * the kernel refuses, the break stays where it was, and the limit is put
 * back.
 *
 * Expected answer:
 *   the heap-size timeline (JSON `timeline`, brk_bytes) ends at 524,288
 *        bytes (8 x 64 KiB) and never shows more: the refused growth is
 *        not drawn
 *   regions: the region holding the heap start (printed on stderr) is of
 *        kind "heap" and ends at the final break rounded up to a page
 *   syscalls made by this program itself, lower bounds on the counts:
 *        brk >= 10 (the query, 8 growths, the refused one)
 *   no heap leak of any kind, no mapping leak
 *
 * `brkgrow --expect` prints the same as JSON and exits before it does
 * anything else.  The measured run prints, as its last act, on stderr,
 * "brkgrow: start 0xSTART end 0xEND refused 1".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STEP (64u << 10)
#define STEPS 8
#define LIMIT (16ul << 20)
#define TOO_MUCH (256ul << 20)

static uintptr_t brk_to(uintptr_t want)
{
    return (uintptr_t)syscall(SYS_brk, want);
}

static int print_expect(void)
{
    printf("{\"definite\":{\"blocks\":0,\"bytes\":0},"
           "\"indirect\":{\"blocks\":0,\"bytes\":0},"
           "\"possible\":{\"blocks\":0,\"bytes\":0},"
           "\"reachable\":{\"blocks\":0,\"bytes\":0},"
           "\"definite_functions\":[],\"exit_code\":0,\"shm\":[],\"mapping_leaks\":[],"
           "\"heap_bytes\":%u,\"syscalls_at_least\":{\"brk\":%d}}\n",
           STEP * STEPS, STEPS + 2);
    return 0;
}

/* Grows the heap; returns how many growths the kernel refused (1 expected). */
int grow_heap(uintptr_t *start, uintptr_t *end)
{
    *start = brk_to(0);
    for (unsigned i = 1; i <= STEPS; i++)
        if (brk_to(*start + i * STEP) != *start + i * STEP) return -1;
    struct rlimit old, low;
    if (getrlimit(RLIMIT_DATA, &old) != 0) return -1;
    low = old;
    low.rlim_cur = LIMIT;
    if (setrlimit(RLIMIT_DATA, &low) != 0) return -1;
    uintptr_t got = brk_to(*start + STEPS * STEP + TOO_MUCH);
    setrlimit(RLIMIT_DATA, &old);
    *end = brk_to(*start + STEPS * STEP);       /* where it stays: no move */
    memset((void *)*start, 'b', STEPS * STEP);  /* the heap is really there */
    return got == *start + STEPS * STEP;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0)
        return print_expect();
    uintptr_t start = 0, end = 0;
    int refused = grow_heap(&start, &end);
    fprintf(stderr, "brkgrow: start %#lx end %#lx refused %d\n",
            (unsigned long)start, (unsigned long)end, refused);
    return refused == 1 ? 0 : 1;
}

/* scrub.h - what the accuracy samples share: a stack scrub and --expect.
 *
 * scrub_stack() overwrites the dead stack below its caller, so that no
 * stale copy of a pointer left by an earlier call (the sample's own
 * functions, malloc, an interposed allocator) decides what is reachable:
 * only the globals a sample names do.  expect_kinds() prints the four leak
 * kinds as `SAMPLE --expect` does (the JSON the tests read).
 */
#ifndef SAMPLES_SCRUB_H
#define SAMPLES_SCRUB_H

#include <stdio.h>
#include <string.h>

static void __attribute__((noinline, unused)) scrub_stack(void)
{
    volatile char area[64 * 1024];
    memset((char *)area, 0, sizeof area);
}

/* blocks and bytes of definite, indirect, possible, reachable. */
static int __attribute__((unused)) expect_kinds(const unsigned long k[8])
{
    printf("{\"definite\":{\"blocks\":%lu,\"bytes\":%lu},"
           "\"indirect\":{\"blocks\":%lu,\"bytes\":%lu},"
           "\"possible\":{\"blocks\":%lu,\"bytes\":%lu},"
           "\"reachable\":{\"blocks\":%lu,\"bytes\":%lu}}\n",
           k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]);
    return 0;
}

#endif

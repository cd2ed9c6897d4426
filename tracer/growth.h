/* growth.h - memlens -p --interval: the sites whose unfreed bytes keep growing.
 *
 * Every interval the caller hands in a copy of the live blocks recorded so
 * far; a sample sums their bytes per allocation stack and compares the sums
 * with the previous sample's.  Owns the previous sample (stack id, bytes,
 * blocks, how many samples in a row the bytes grew) and the history of
 * every sample's top sites, for the reports.
 */
#ifndef ML_GROWTH_H
#define ML_GROWTH_H

#include <stdio.h>
#include "blocks.h"
#include "leaks.h"

struct ml_growth;

struct ml_growth *ml_growth_new(void);
void ml_growth_free(struct ml_growth *g);
/* Take a sample of blocks at `seconds` after recording started and print,
 * as "==PID== " lines on out, the sites (at most `top`) whose unfreed bytes
 * grew since the previous sample, largest growth first, each with its rate
 * and the function that allocates (symbolized from the process's maps).
 * Returns the number of growing sites, or -ENOMEM. */
int ml_growth_sample(struct ml_growth *g, const struct ml_blocks *blocks, double seconds,
                     int pid, struct ml_stack_source stacks, FILE *out, int top);
/* Every sample taken so far into out->growth (JSON "growth", the HTML's
 * growth card), each site's stack symbolized with sym.  Returns 0 or -ENOMEM. */
int ml_growth_report(const struct ml_growth *g, struct ml_stack_source stacks,
                     struct ml_symbolizer *sym, unsigned max_frames, unsigned style,
                     struct ml_proc_report *out);

#endif

/* phases.h - how long each step of the exit analysis took (MEMLENS_STATS=1).
 *
 * ml_phase_done("name", start) prints "memlens-stats: pid=P phase=name
 * seconds=S" on stderr when MEMLENS_STATS=1, for bench/ and for anyone
 * asking where the time at exit goes, and ml_stat() a count the same way;
 * otherwise they do nothing.  Owns nothing.
 */
#ifndef ML_PHASES_H
#define ML_PHASES_H

#include <stdio.h>
#include <stdlib.h>
#include "procs.h"

static inline int ml_stats_on(void)
{
    static int on = -1;
    if (on < 0) {
        const char *e = getenv("MEMLENS_STATS");
        on = e && e[0] == '1';
    }
    return on;
}

static inline void ml_phase_done(int pid, const char *name, double start)
{
    if (ml_stats_on())
        fprintf(stderr, "memlens-stats: pid=%d phase=%s seconds=%.3f\n", pid, name, ml_now() - start);
}

/* "memlens-stats: pid=P NAME=VALUE" when MEMLENS_STATS=1. */
static inline void ml_stat(int pid, const char *name, unsigned long long value)
{
    if (ml_stats_on()) fprintf(stderr, "memlens-stats: pid=%d %s=%llu\n", pid, name, value);
}

#endif

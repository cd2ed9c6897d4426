/* progress.h - how far a long exit analysis has come.
 *
 * The analysis (leaks.c, frag.c) names its current phase and counts the
 * blocks it has done; the tracer's progress line (tracer/progress.c) reads
 * them from another thread.  One writer (the analysis), one reader; the
 * fields are atomics so that the reader never sees a torn value.  A NULL
 * struct ml_progress * is allowed everywhere and means "nobody asks".
 */
#ifndef ML_PROGRESS_H
#define ML_PROGRESS_H

#include <stdatomic.h>
#include <stdint.h>

struct ml_progress {
    _Atomic(const char *) phase;    /* "leak kinds", "heap pages", ...; a string literal */
    _Atomic uint64_t done, total;   /* blocks */
};

static inline void ml_progress_phase(struct ml_progress *p, const char *phase, uint64_t total)
{
    if (!p) return;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    atomic_store_explicit(&p->total, total, memory_order_relaxed);
    atomic_store_explicit(&p->phase, phase, memory_order_release);
}

static inline void ml_progress_done(struct ml_progress *p, uint64_t done)
{
    if (p) atomic_store_explicit(&p->done, done, memory_order_relaxed);
}

#endif

/* shim.h - interposition layer of libmemlens.so.
 *
 * shim.c defines the exported allocation entry points (the malloc family and
 * every C++ operator new/delete), finds the real functions, serves the few
 * allocations made before they are known from a static buffer, and holds the
 * per-thread re-entrancy guard that makes every allocation made inside the
 * shim (or inside a real operator new, or the unwinder) pass straight through.
 *
 * Other modules use the export macro and the guard (fdshim.c's interposers).
 */
#ifndef MEMLENS_PRELOAD_SHIM_H
#define MEMLENS_PRELOAD_SHIM_H

/* The library is built with -fvisibility=hidden: only interposers are public. */
#define ML_EXPORT __attribute__((visibility("default")))

/* Per-thread data must live in the static TLS block: no allocation on access. */
#define ML_TLS __thread __attribute__((tls_model("initial-exec")))

#define ML_LIKELY(x)   __builtin_expect(!!(x), 1)
#define ML_UNLIKELY(x) __builtin_expect(!!(x), 0)

#include <stdbool.h>

/* The re-entrancy guard of the calling thread: take it (false when this
 * thread is inside the shim already) and release what was taken. */
bool ml_guard_take(void);
void ml_guard_release(void);

#endif

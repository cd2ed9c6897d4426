/* views.h - the mappings of the session file in libmemlens.so.
 *
 * The session file is large and sparse (include/memlens/session.h); the
 * shim maps only the part in use. Each view maps the file from offset 0;
 * a larger one is made with mremap and old size 0 (the same pages again:
 * no descriptor is needed, so a process that uses every descriptor slot
 * still grows its session), and the smaller ones stay mapped because other
 * threads may hold pointers into them. Sizes at least double, so all views
 * together take at most twice the address space of the largest one.
 *
 * Owns the views of the current session and their lock.
 */
#ifndef MEMLENS_PRELOAD_VIEWS_H
#define MEMLENS_PRELOAD_VIEWS_H

#include <stdint.h>

struct ml_header;

/* The session now mapped at base (size bytes), or none (base NULL): the
 * views of the previous session are unmapped, but for base itself. */
void ml_views_reset(void *base, uint64_t size);

/* The largest view, first grown to reach `end` bytes; NULL when it cannot
 * grow (the address space is exhausted, or end lies past the file). */
void *ml_view(uint64_t end);

/* Bytes of the session's growing area, aligned to `align` (a power of
 * two) and mapped: their offset in the area, or UINT64_MAX when there is
 * no room. */
uint64_t ml_view_reserve(struct ml_header *hdr, uint64_t bytes, uint64_t align);

#endif

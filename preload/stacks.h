/* stacks.h - call-stack capture and the shared stack table.
 *
 * stacks.c owns the unwinder set-up, the address range of the shim's own code
 * (frames inside it are never reported), a small per-thread cache, and the
 * insertion of stacks into the session's deduplicated stack table.
 */
#ifndef MEMLENS_PRELOAD_STACKS_H
#define MEMLENS_PRELOAD_STACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ml_header;

/* Once per process, before the first capture. */
void ml_stacks_init(void);

/* The loaded object holding code address addr: its executable range, and
 * the calling thread's block of its thread-local storage (NULL, 0: none). */
struct ml_object {
    uintptr_t text_lo, text_hi;
    const void *tls;
    size_t tls_size;
};
/* False (out zeroed) when no object holds addr. */
bool ml_object_at(const void *addr, struct ml_object *out);

/* Capture the caller's stack (at most max_frames return addresses, innermost
 * first, shim frames dropped) and return its id in the session whose
 * header is hdr; gen identifies that session for the per-thread cache.
 * Returns 0 when the stack is empty or the table is full. */
uint32_t ml_stack_id(struct ml_header *hdr, uint32_t gen, uint32_t max_frames);

#endif

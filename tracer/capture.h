/* capture.h - taking a process's exit snapshot while its memory is intact.
 *
 * Called with every thread of the process stopped (at PTRACE_EVENT_EXIT):
 * reads /proc/PID/maps, smaps, pagemap and the memory that reachability
 * needs, with process_vm_readv on two threads.  The heaps (the brk heap,
 * and the mappings that hold live blocks) are read in pieces by
 * heapread.c, which keeps only what the analysis reads of them; other
 * writable regions (roots) and the read-only ones of loaded objects (for
 * vtables) are copied, skipping pages never written; a large anonymous
 * mapping that holds no block is scanned through a small buffer and only
 * its possible pointers are kept.  When memory runs short, what cannot be
 * copied is scanned the same way, and what cannot be scanned is counted
 * as unread (the report says both).  Fills the caller's snapshot and
 * keeps nothing of its own past the call.
 */
#ifndef ML_CAPTURE_H
#define ML_CAPTURE_H

#include <stddef.h>
#include "blocks.h"
#include "snapshot.h"

/* threads: registers gathered by the caller, copied into the snapshot.
 * blocks: the process's live blocks, or NULL; with them, a large private
 * anonymous mapping that holds none is scanned for words that may point at
 * a block instead of copied (ml_region.words).
 * Returns 0 or -errno; on failure the snapshot is left as far as it got. */
int ml_capture(int pid, const struct ml_thread_state *threads, size_t nthreads,
               const struct ml_blocks *blocks, struct ml_snapshot *out);
/* Read a whole /proc file into a NUL-terminated buffer (caller frees). */
char *ml_read_proc_file(int pid, const char *name, size_t *len);

#endif

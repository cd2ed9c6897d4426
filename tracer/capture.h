/* capture.h - taking a process's exit snapshot while its memory is intact.
 *
 * Called with every thread of the process stopped (at PTRACE_EVENT_EXIT):
 * reads /proc/PID/maps, smaps, pagemap and the bytes of the regions that
 * reachability needs (writable ones as roots and heap, read-only ones of
 * loaded objects for vtables), with process_vm_readv on two threads.
 * Pages never written are not read; a large mapping that holds no block is
 * scanned through a small buffer and only its possible pointers are kept.
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

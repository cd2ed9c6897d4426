/* heapread.h - reading the heaps without copying them.
 *
 * At the exit snapshot, the brk heap, and the arenas and allocator
 * mappings that hold live blocks (every private anonymous mapping when no
 * block is live) are read a piece at a time, on two threads, and only what the analysis reads of them is kept (DESIGN, step
 * 4): the words that may point at a block or be a vtable pointer, the
 * headers of the brk heap's chunks that are not live blocks, an arena's
 * first 64 KiB, an mmapped chunk's prev_size (the region's `words`), and
 * per live block its header word and the shape of its first words that
 * memcheck's heuristics test (the snapshot's `heads`).  memlens's memory
 * then grows with the live blocks and the pointers among them, not with
 * the heap.  Owns its buffers while it reads.
 */
#ifndef ML_HEAPREAD_H
#define ML_HEAPREAD_H

#include <stddef.h>
#include <stdint.h>
#include "blocks.h"
#include "snapshot.h"

/* Read len bytes of pid's memory at src into dst; a range that cannot be
 * read whole is read page by page, and unreadable pages stay as they were. */
void ml_read_remote(int pid, unsigned char *dst, uint64_t src, uint64_t len);

/* Give the snapshot the per-block arrays for the blocks of a frozen table
 * (ml_blocks_frozen): 0, or -ENOMEM (nothing is read sparsely then). */
int ml_heapread_prepare(struct ml_snapshot *snap, const struct ml_blocks *blocks);
/* Whether region r holds one of those blocks. */
int ml_heapread_holds_block(const struct ml_snapshot *snap, const struct ml_region *r);
/* Read every region whose `sparse` is set, after the regions the vtable
 * test reads (file mappings) were copied.  A region there is no memory
 * for is left unread (sparse and words cleared). */
void ml_heapread_run(int pid, struct ml_snapshot *snap);

#endif

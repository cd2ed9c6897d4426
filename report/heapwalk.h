/* heapwalk.h - glibc malloc's view of the captured heap.
 *
 * Knows glibc's chunk layout (size word before each block with the
 * PREV_INUSE, IS_MMAPPED and NON_MAIN_ARENA bits; 64 MiB-aligned heaps of
 * non-main arenas starting with a heap_info).  Finds the address ranges
 * malloc owns (never roots: free chunks and malloc's own records live there)
 * and the chunk headers that are not live blocks (free chunks, the top
 * chunk): a word equal to one of those is allocator metadata, not a
 * reference to the live block whose tail it happens to overlap.
 */
#ifndef ML_HEAPWALK_H
#define ML_HEAPWALK_H

#include <stddef.h>
#include <stdint.h>
#include "blocks.h"
#include "snapshot.h"

struct ml_range { uint64_t start, end; };

struct ml_heap_layout {
    struct ml_range *owned;   /* sorted, disjoint: brk heap, arena heaps, mmapped chunks */
    size_t nowned;
    uint64_t *meta;           /* sorted chunk headers of non-live chunks */
    size_t nmeta;
    struct ml_range *mapped;  /* sorted, disjoint: what the allocator, glibc's or another,
                                 mapped for itself (ml_heap_add_mapped); never roots */
    size_t nmapped;
};

#define ML_HEAP_MAX_SIZE (64ull << 20)   /* glibc HEAP_MAX_SIZE on 64-bit */

/* blocks: live blocks sorted by address. Returns 0 or -errno. */
int ml_heap_layout_build(const struct ml_snapshot *snap, const struct ml_block *blocks,
                         size_t n, struct ml_heap_layout *out);
void ml_heap_layout_free(struct ml_heap_layout *h);
/* Add n ranges (any order) that the allocator mapped for itself. Returns 0 or -ENOMEM. */
int ml_heap_add_mapped(struct ml_heap_layout *h, const struct ml_range *r, size_t n);
/* 1 when addr lies in a malloc-owned range. */
int ml_heap_owns(const struct ml_heap_layout *h, uint64_t addr);
/* 1 when addr is the header of a chunk that is not a live block. */
int ml_heap_is_meta(const struct ml_heap_layout *h, uint64_t addr);
/* Index of the block containing addr ([addr, addr+max(size,1))), or -1. */
long ml_block_index(const struct ml_block *blocks, size_t n, uint64_t addr);
/* Index of the first of the sorted blocks at or above addr (n when none). */
size_t ml_block_first_at(const struct ml_block *blocks, size_t n, uint64_t addr);

#endif

/* addrindex.h - which live block holds an address, in constant time.
 *
 * Built once over the live blocks sorted by address (disjoint), for the
 * reachability scan, which asks for every word of every root and block.
 * A hash table keyed by 4 KiB page number gives, for each page that some
 * block touches, the first and last index of the blocks touching it; a
 * lookup is one probe and a search among those few blocks.  Pages no
 * block touches answer "none" at once, which is what most words of data
 * get.  Owns the table; the blocks stay the caller's.
 */
#ifndef ML_ADDRINDEX_H
#define ML_ADDRINDEX_H

#include <stddef.h>
#include <stdint.h>
#include "blocks.h"

struct ml_addr_page;

struct ml_addr_index {
    const struct ml_block *blocks;
    size_t n;
    struct ml_addr_page *slots;   /* open addressing, page UINT64_MAX = empty */
    size_t mask;
    uint64_t lo, hi;              /* every block lies in [lo, hi) */
};

/* blocks: sorted by address, disjoint. Returns 0 or -ENOMEM. */
int ml_addr_index_build(struct ml_addr_index *x, const struct ml_block *blocks, size_t n);
/* Index of the block containing addr ([addr, addr + max(size, 1))), or -1. */
long ml_addr_index_find(const struct ml_addr_index *x, uint64_t addr);
void ml_addr_index_free(struct ml_addr_index *x);

#endif

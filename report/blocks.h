/* blocks.h - the live-block model: every heap block the target holds.
 *
 * The blocks of each 4 KiB page in a small array by address, found through
 * a hash directory of pages, fed by the allocation events of one process in
 * sequence order (blocks.c says why pages).  It owns the blocks
 * and the allocation statistics (calls, bytes, peak).
 */
#ifndef ML_BLOCKS_H
#define ML_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

struct ml_block {
    uint64_t addr;
    uint64_t size;        /* requested bytes */
    uint64_t seq;         /* sequence number of the allocation */
    uint32_t stack;       /* stack id in the process's session, 0 = none */
    uint16_t fn;          /* enum ml_alloc_fn */
    uint8_t kind;         /* enum ml_leak_kind, set by reach */
    uint8_t flags;
};

struct ml_alloc_stats {
    uint64_t calls;           /* allocation calls that returned a block */
    uint64_t frees;           /* frees of known blocks */
    uint64_t bytes;           /* total bytes requested */
    uint64_t live_blocks, live_bytes, peak_live_bytes;
    uint64_t unknown_frees;   /* frees of pointers never seen allocated */
};

struct ml_blocks;

struct ml_blocks *ml_blocks_new(void);
void ml_blocks_free(struct ml_blocks *b);
/* Record an allocation; an address already live is replaced (its old block is lost). */
int ml_blocks_alloc(struct ml_blocks *b, const struct ml_block *blk);
/* Record a free; returns 1 when the address was live, 0 otherwise. NULL is ignored. */
int ml_blocks_release(struct ml_blocks *b, uint64_t addr);
/* Start loading the slots where addr lives or would go: called a few events
 * ahead of the ml_blocks_alloc or ml_blocks_release for addr, it hides the
 * cache miss of a large table.  Changes nothing. */
void ml_blocks_prefetch(const struct ml_blocks *b, uint64_t addr);
const struct ml_block *ml_blocks_find(const struct ml_blocks *b, uint64_t addr);
const struct ml_alloc_stats *ml_blocks_stats(const struct ml_blocks *b);
/* A copy of the whole table, statistics included (a forked child's heap). */
struct ml_blocks *ml_blocks_clone(const struct ml_blocks *b);
/* Rewrite every block's stack id with map(ctx, id). */
void ml_blocks_map_stacks(struct ml_blocks *b, uint32_t (*map)(void *ctx, uint32_t id), void *ctx);
/* Call fn for every live block, in no particular order. */
void ml_blocks_each(const struct ml_blocks *b, void (*fn)(void *ctx, const struct ml_block *blk),
                    void *ctx);
/* Copy out the live blocks sorted by address; caller frees *out. Returns count or -1. */
long ml_blocks_sorted(const struct ml_blocks *b, struct ml_block **out);
/* Turn the table into the live blocks sorted by address, in its own memory
 * trimmed to them: for the exit, when no more events come, so that the
 * snapshot is taken beside 32 bytes a block and nothing else.
 * Every call works on it as before (lookups by binary search; an allocation
 * or free makes it a table of pages again). */
void ml_blocks_freeze(struct ml_blocks *b);
/* The blocks by address of a frozen table (*n of them), NULL when it is not
 * frozen; valid until the next event or ml_blocks_take_sorted, which hands
 * out the same array. */
const struct ml_block *ml_blocks_frozen(const struct ml_blocks *b, size_t *n);
/* ml_blocks_sorted moving the blocks out: they are sorted in the table's
 * own memory, which the caller then owns and frees, and the table is left
 * empty (its statistics unchanged).  No second copy of every block is made.
 * Returns count, or -1 (table unchanged) when out of memory. */
long ml_blocks_take_sorted(struct ml_blocks *b, struct ml_block **out);

#endif

/* reach.h - memcheck's reachability rules over an exit snapshot.
 *
 * Roots: the general-purpose registers of every live thread, each thread's
 * stack from its stack pointer up, and every other readable and writable
 * mapping except malloc-owned memory (glibc's, and what any allocator mapped
 * for itself), the session and the shim's own data.
 * Start pointers make a block reachable, interior pointers only possibly
 * reachable (unless one of memcheck's heuristics recognises them); blocks
 * reached only from definitely lost blocks are indirectly lost.
 */
#ifndef ML_REACH_H
#define ML_REACH_H

#include <stddef.h>
#include <stdint.h>
#include "blocks.h"
#include "heapwalk.h"
#include "snapshot.h"

enum ml_heuristic {
    ML_HEUR_STDSTRING = 1u << 0, ML_HEUR_LENGTH64 = 1u << 1,
    ML_HEUR_NEWARRAY = 1u << 2, ML_HEUR_MULTIPLEINHERITANCE = 1u << 3,
    ML_HEUR_ALL = 0xfu,
};

#define ML_HEUR_COUNT 4

/* A reachable block that only an interior pointer a heuristic accepts
 * reaches (memcheck's "reachable via heuristic"): ml_reach_classify puts
 * that heuristic's bit index + 1 in the low bits of its flags; 0 otherwise. */
#define ML_REACH_HEUR_MASK 0x7u

/* memcheck's name of one heuristic bit ("stdstring"), NULL for another value. */
const char *ml_heuristic_name(unsigned bit);

/* The ML_SHAPE_* bits (snapshot.h) of a block of `size` bytes whose first
 * two words are w0 and w1 (0 past its end): what the heuristics test of a
 * block itself, for a capture that keeps no copy of it. */
unsigned ml_reach_shape(const struct ml_snapshot *snap, uint64_t size, uint64_t w0, uint64_t w1);
/* Whether a word of value v may be a vtable pointer (the multipleinheritance
 * heuristic's test): such words of a sparse region are kept. */
int ml_reach_may_be_vtable(const struct ml_snapshot *snap, uint64_t v);

/* Classify blocks (sorted by address) in place: blocks[i].kind receives an
 * enum ml_leak_kind, blocks[i].flags the heuristic (ML_REACH_HEUR_MASK).  indirect (n entries, may be NULL) receives for each
 * definitely lost block the bytes it keeps indirectly lost.  Returns 0 or -errno. */
int ml_reach_classify(const struct ml_snapshot *snap, const struct ml_heap_layout *heap,
                      struct ml_block *blocks, size_t n, unsigned heuristics,
                      uint64_t *indirect);

#endif

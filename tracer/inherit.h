/* inherit.h - the heap a forked child starts with.
 *
 * At fork the child holds a copy of its parent's heap, as under valgrind:
 * its report counts those blocks too.  The copy keeps the parent's stacks
 * by value in a store of its own (the parent may end first), and their ids
 * get ML_INHERITED_BIT so they never mix with the child's own stack ids.
 * The same holds for the records of who opened its descriptors (--track-fds):
 * at a fork they are the parent's, as valgrind reports them.
 * Owns the copied blocks (until a session takes them), the descriptor
 * records and the stack store.
 */
#ifndef ML_INHERIT_H
#define ML_INHERIT_H

#include <stddef.h>
#include "blocks.h"
#include "leaks.h"
#include "openfds.h"

#define ML_INHERITED_BIT 0x80000000u

struct ml_inherit {
    struct ml_blocks *blocks;       /* the copied heap; NULL once taken or when none */
    struct ml_kept_stack { uint32_t depth; uint64_t *frames; } *stacks;
    size_t nstacks;
    struct ml_fd_table fds;         /* the parent's descriptor records, stacks kept here */
};

/* Fill child from the parent's blocks, resolving their stacks through src.
 * Returns 0 or -ENOMEM (child left empty). */
int ml_inherit_copy(struct ml_inherit *child, const struct ml_blocks *parent,
                    struct ml_stack_source src);
/* Add the parent's descriptor records (stacks resolved through src) to
 * child, after ml_inherit_copy.  Returns 0 or -ENOMEM (no records then). */
int ml_inherit_fds(struct ml_inherit *child, const struct ml_fd_table *parent,
                   struct ml_stack_source src);
/* Frames of an id with ML_INHERITED_BIT, or NULL. */
const uint64_t *ml_inherit_frames(const struct ml_inherit *inh, uint32_t id, uint32_t *depth);
void ml_inherit_free(struct ml_inherit *inh);

#endif

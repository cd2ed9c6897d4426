/* stacktab.h - the resolved stacks of one process report, frames shared.
 *
 * A million leak records of 48 frames name the same few hundred frames
 * (function, file, line, module) over and over, and their stacks share
 * most of their outer frames.  The table keeps each distinct frame once
 * and each stack as a node of a tree grown from the outermost frame: a
 * node is a frame and its caller's node, so a record's stack is the node of
 * its innermost frame, and stacks with the same callers share their nodes.
 * Owns the frames, the nodes and the frames' strings (a pool: equal strings
 * are one pointer) until ml_stacktab_free.
 */
#ifndef ML_STACKTAB_H
#define ML_STACKTAB_H

#include <stddef.h>
#include "model.h"

struct ml_strpool;

struct ml_stacktab *ml_stacktab_new(void);
void ml_stacktab_free(struct ml_stacktab *t);

/* The pool the strings of frames given to ml_stacktab_put must come from. */
struct ml_strpool *ml_stacktab_strings(struct ml_stacktab *t);

/* Make *st the stack of frames f[0..n) (innermost first; their strings
 * t's pool's), shared with the stacks t already holds.  Returns 0 or
 * -ENOMEM (then *st is left as it was). */
int ml_stacktab_put(struct ml_stacktab *t, const struct ml_frame_out *f, size_t n,
                    struct ml_stack_out *st);

/* The frames of st innermost first: out[i] for i < st->nframes; out
 * holds at least st->nframes pointers. */
void ml_stack_frames(const struct ml_stack_out *st, const struct ml_frame_out **out);

/* The frames of st innermost first, as a new array (caller frees): NULL
 * when st has no frames, or with errno ENOMEM. */
const struct ml_frame_out **ml_stack_view(const struct ml_stack_out *st);

/* The frame and the caller's node of node, innermost to outermost: the
 * first is st->top, the last frame's caller is ML_STACK_ROOT. */
#define ML_STACK_ROOT 0u
const struct ml_frame_out *ml_stack_node(const struct ml_stacktab *t, uint32_t node,
                                         uint32_t *caller);

/* Bytes t holds for frames and nodes (MEMLENS_STATS). */
size_t ml_stacktab_bytes(const struct ml_stacktab *t);

#endif

/* leaks.h - from live blocks and an exit snapshot to a process report.
 *
 * Runs the heap walk and the reachability scan, groups blocks into records
 * by (kind, allocation stack, allocating function) as memcheck does, sorts
 * them in memcheck's order, symbolizes their stacks and fills the summary.
 */
#ifndef ML_LEAKS_H
#define ML_LEAKS_H

#include <stdint.h>
#include "blocks.h"
#include "memtrace.h"
#include "model.h"
#include "progress.h"
#include "snapshot.h"
#include "suppress.h"
#include "symbols.h"

struct ml_stack_source {
    /* Frames (return addresses, innermost first) of stack id, or NULL;
     * valid until this thread's next call. */
    const uint64_t *(*frames)(void *ctx, uint32_t id, uint32_t *depth);
    void *ctx;
    /* Where the stacks resolved from here keep their frames: the process
     * report's table (stacktab.h); NULL: they are left without frames. */
    struct ml_stacktab *into;
};

/* How stacks are shown: all frames below main too (--show-below-main=yes;
 * else they end with one "(below main)" frame, or at main), C++ functions
 * by their linkage names (--demangle=no). */
enum { ML_STACK_BELOW_MAIN = 1u, ML_STACK_MANGLED = 2u };

struct ml_leak_input {
    const struct ml_snapshot *snap;   /* memory and registers at exit */
    struct ml_blocks *blocks;         /* live blocks at exit: ml_leaks_build moves them out */
    struct ml_stack_source stacks;
    struct ml_symbolizer *sym;        /* NULL: frames are left unresolved */
    unsigned heuristics;              /* enum ml_heuristic bits */
    unsigned max_frames;              /* frames kept per stack (--num-callers) */
    unsigned stack_style;             /* ML_STACK_* */
    struct ml_block **sorted;         /* not NULL: receives the live blocks sorted by
                                         address (caller frees), *nsorted their count */
    size_t *nsorted;
    const struct ml_suppressions *supp;   /* NULL: nothing is suppressed */
    /* The memory map as the syscall watcher saw it (NULL: unknown): what the
     * allocator mapped for itself there is never a root. */
    const struct ml_memtrace *mt;
    /* The allocator's thread-local storage in every thread, when it is not
     * the C library's: offset from the thread pointer and size (0: none). */
    int64_t alloc_tls;
    uint64_t alloc_tls_size;
    /* Attach mode: memory that is not a tracked block (blocks from before
     * the attach among it) is a root, so nothing is called lost only
     * because the pointer to it lives in an older block. */
    int unknown_is_root;
    /* Attach mode: seconds after recording started at which event seq
     * happened, and when the snapshot was taken; NULL: no ages. */
    double (*seq_seconds)(void *ctx, uint64_t seq);
    void *seq_ctx;
    double snapshot_seconds;
    struct ml_progress *progress;     /* NULL: nobody watches (progress.h) */
};

/* Fill out's alloc, summary, records and scanned fields; records that a
 * suppression matches are marked and counted as suppressed. Returns 0 or -errno. */
int ml_leaks_build(const struct ml_leak_input *in, struct ml_proc_report *out);

/* Mark the records of out that a suppression of supp matches (NULL: none)
 * and move their blocks and bytes from their kind's totals to the
 * suppressed ones, after undoing any earlier marks: a loaded report gets
 * new suppressions this way (--load).  Returns 0 or -ENOMEM. */
int ml_leaks_suppress(const struct ml_suppressions *supp, struct ml_proc_report *out);

/* Symbolize stack id into st (its frames in src.into) as style
 * (ML_STACK_*) asks; top_function, when not NULL, is put first as the
 * allocator's own frame, as valgrind names it.  Returns 0 or -ENOMEM. */
int ml_stack_resolve(struct ml_stack_source src, struct ml_symbolizer *sym, unsigned max_frames,
                     unsigned style, uint32_t id, const char *top_function,
                     struct ml_stack_out *st);

/* Name of the allocating function as memcheck prints it ("malloc", "operator new[](unsigned long)"). */
const char *ml_alloc_fn_name(unsigned fn);

#endif

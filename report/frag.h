/* frag.h - heap fragmentation and page residency at exit.
 *
 * From the exit snapshot and the live blocks, measures the glibc heap as
 * DESIGN.md ("Fragmentation and residency") defines it: the brk heap, every
 * non-main arena heap and the mmapped chunks, each as one part of
 * struct ml_heap_out, plus their totals, a free-gap histogram, the
 * allocation sites that pin resident pages, what malloc_trim(0) could give
 * back, and a page strip of the brk heap.  Also answers how many bytes of an
 * address range are resident or swapped out (leak records use it).
 *
 * glibc knowledge used here (x86_64): a chunk's size word sits 8 bytes
 * before the block and carries IS_MMAPPED (2) and NON_MAIN_ARENA (4); a
 * non-main arena's heap is 64 MiB-aligned and starts with a heap_info
 * {ar_ptr, prev, size, mprotect_size[, pagesize]}; the first heap of an
 * arena holds its struct malloc_state right after the heap_info.
 */
#ifndef ML_FRAG_H
#define ML_FRAG_H

#include <stddef.h>
#include <stdint.h>
#include "blocks.h"
#include "leaks.h"
#include "model.h"
#include "snapshot.h"

#define ML_FRAG_MAX_SITES 50    /* sites kept in the report, worst first */

struct ml_frag_input {
    const struct ml_snapshot *snap;     /* scanned: data and pages of the heap regions */
    const struct ml_block *blocks;      /* live blocks, sorted by address */
    size_t nblocks;
    struct ml_stack_source stacks;      /* to symbolize the kept sites */
    struct ml_symbolizer *sym;          /* NULL: frames left unresolved */
    unsigned max_frames;                /* frames kept per stack (--num-callers) */
    unsigned stack_style;               /* ML_STACK_* (leaks.h) */
    struct ml_progress *progress;       /* NULL: nobody watches (progress.h) */
    uint64_t real_malloc;               /* the malloc the program calls, 0 unknown */
};

/* Fill *out (present = 1 on success; left zeroed when the snapshot was not
 * scanned).  Linear in blocks and heap pages.  Returns 0 or -ENOMEM; on
 * failure present stays 0 and what *out already holds is released with
 * the report that owns it (ml_proc_report_free). */
int ml_frag_build(const struct ml_frag_input *in, struct ml_heap_out *out);

/* Bytes of [start, end) on pages that are present in RAM (*resident) and on
 * pages swapped out (*swapped), from the snapshot's pagemap bits.  Pages
 * whose presence was not read count as neither. */
void ml_frag_span_pages(const struct ml_snapshot *snap, uint64_t start, uint64_t end,
                        uint64_t *resident, uint64_t *swapped);

/* "main heap", "arena heap", "mmapped chunks" / the JSON key "main", ... */
const char *ml_heap_kind_text(enum ml_heap_kind kind);
const char *ml_heap_kind_key(enum ml_heap_kind kind);

#endif

/* reach.c - memcheck's leak kinds: root scan, mark propagation, cliques.
 *
 * Owns only its working state (per-block state, pending flags, mark stack)
 * for the duration of one classification.
 */
#include "reach.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "addrindex.h"
#include "model.h"

enum state { UNREACHED = 0, POSSIBLE, REACHABLE, INDIRECT };

struct reach {
    const struct ml_snapshot *snap;
    const struct ml_heap_layout *heap;
    struct ml_block *blocks;
    size_t n;
    unsigned heuristics;
    unsigned char *state, *pending;
    uint32_t *stack;         /* block indices: n < UINT32_MAX (as the address index) */
    size_t depth;
    uint64_t *indirect;      /* per block: bytes collected as clique leader */
    unsigned char *heur;     /* per block: heuristic bit index + 1 that alone reached it */
    long clique;             /* -1 outside the clique pass */
    uint64_t lo, span;       /* every block lies in [lo, lo + span) */
    struct ml_addr_index index;  /* slots NULL: out of memory, binary search instead */
    const struct ml_region *last;    /* the region of the last block scanned */
    unsigned char *kept;     /* per block, a bit: a sparse region keeps a word inside it
                                (NULL: not known, search every block) */
};

/* The region holding addr, the last one found first (blocks come off the
 * mark stack near each other more often than not). */
static const struct ml_region *region_of(struct reach *r, uint64_t addr)
{
    const struct ml_region *reg = r->last;
    if (reg && addr >= reg->start && addr < reg->end) return reg;
    return r->last = ml_snapshot_find(r->snap, addr);
}

/* The kept bits: one merge of the sparse regions' words with the blocks,
 * so that a block holding none (most, in a heap of data) is not searched. */
static void mark_kept(struct reach *r)
{
    size_t n = r->n;
    if (!(r->kept = calloc(n / 8 + 1, 1))) return;
    for (size_t i = 0; i < r->snap->nregions; i++) {
        const struct ml_region *reg = &r->snap->regions[i];
        if (!reg->sparse) continue;
        size_t k = ml_block_first_at(r->blocks, n, reg->start);
        if (k) k--;                                  /* a block that starts before it */
        for (size_t w = 0; w < reg->nwords; w++) {
            uint64_t a = reg->words[w].addr;
            while (k < n && r->blocks[k].addr + r->blocks[k].size <= a) k++;
            if (k < n && r->blocks[k].addr <= a) r->kept[k / 8] |= (unsigned char)(1u << (k % 8));
        }
    }
}

static void push(struct reach *r, size_t i)
{
    if (r->pending[i]) return;
    r->pending[i] = 1;
    r->stack[r->depth++] = (uint32_t)i;   /* each block is pending at most once: n slots suffice */
}

/* Address of captured target memory, or NULL. */
static const unsigned char *mem_at(const struct ml_snapshot *snap, uint64_t addr, uint64_t len)
{
    const struct ml_region *reg = ml_snapshot_find(snap, addr);
    if (!reg || !reg->data || addr + len > reg->end) return NULL;
    return reg->data + (addr - reg->start);
}

static int in_exec_file(const struct ml_snapshot *snap, uint64_t addr)
{
    const struct ml_region *reg = ml_snapshot_find(snap, addr);
    return reg && reg->perms[2] == 'x' && reg->path[0] == '/';
}

/* memcheck's vtable test: addr lies in a readable file mapping, and among
 * the words from addr up to 20 words on (inclusive, within the mapping)
 * two non-NULL ones point into executable file mappings before any
 * non-NULL one points elsewhere: a word that is not a code address ends
 * the test, it is not skipped. */
static int looks_like_vtable(const struct ml_snapshot *snap, uint64_t addr)
{
    if (addr < 4096 || (addr & 7)) return 0;
    const struct ml_region *reg = ml_snapshot_find(snap, addr);
    if (!reg || !reg->data || reg->path[0] != '/' || reg->perms[0] != 'r') return 0;
    uint64_t last = addr + 20 * 8;
    if (last > reg->end - 8) last = reg->end - 8;
    int found = 0;
    for (uint64_t a = addr; a <= last; a += 8) {
        uint64_t v;
        memcpy(&v, reg->data + (a - reg->start), 8);
        if (!v) continue;
        if (!in_exec_file(snap, v)) return 0;
        if (++found == 2) return 1;
    }
    return 0;
}

unsigned ml_reach_shape(const struct ml_snapshot *snap, uint64_t size, uint64_t w0, uint64_t w1)
{
    unsigned shape = 0;
    if (size >= 24 && 24 + w1 + 1 == size && w0 <= w1) shape |= ML_SHAPE_STDSTRING;
    if (w0 > 0 && size - 8 == w0) shape |= ML_SHAPE_LENGTH64;
    if (w0 > 0 && size >= 8 && (size - 8) % w0 == 0) shape |= ML_SHAPE_NEWARRAY;
    if (!(w0 & 7) && looks_like_vtable(snap, w0)) shape |= ML_SHAPE_VTABLE;
    return shape;
}

int ml_reach_may_be_vtable(const struct ml_snapshot *snap, uint64_t v)
{
    return !(v & 7) && looks_like_vtable(snap, v);
}

/* The shape of block i and the word at addr inside it, from its copy or
 * from what a sparse capture kept; 0 when neither is there. */
static int block_words(const struct reach *r, size_t i, uint64_t addr, unsigned *shape,
                       uint64_t *at)
{
    const struct ml_block *b = &r->blocks[i];
    const unsigned char *d = mem_at(r->snap, b->addr, b->size);
    if (d) {
        uint64_t w0 = 0, w1 = 0;
        if (b->size >= 8) memcpy(&w0, d, 8);
        if (b->size >= 16) memcpy(&w1, d + 8, 8);
        *shape = ml_reach_shape(r->snap, b->size, w0, w1);
        if (addr + 8 <= b->addr + b->size) memcpy(at, d + (addr - b->addr), 8);
        return 1;
    }
    if (!ml_snapshot_head(r->snap, r->blocks, i, NULL, shape)) return 0;
    const struct ml_region *reg = ml_snapshot_find(r->snap, addr);
    if (!reg || !ml_region_kept_word(reg, addr, at)) *at = 0;   /* not kept: no vtable pointer */
    return 1;
}

/* The enabled heuristic (its bit) that accepts interior pointer ptr into
 * block i, or 0. */
static unsigned heuristic_match(const struct reach *r, size_t i, uint64_t ptr)
{
    const struct ml_block *b = &r->blocks[i];
    uint64_t off = ptr - b->addr, at = 0;
    unsigned shape;
    if (!block_words(r, i, ptr, &shape, &at)) return 0;
    if ((r->heuristics & ML_HEUR_STDSTRING) && off == 24 && (shape & ML_SHAPE_STDSTRING))
        return ML_HEUR_STDSTRING;
    if ((r->heuristics & ML_HEUR_LENGTH64) && off == 8 && (shape & ML_SHAPE_LENGTH64))
        return ML_HEUR_LENGTH64;
    if ((r->heuristics & ML_HEUR_NEWARRAY) && off == 8 && (shape & ML_SHAPE_NEWARRAY))
        return ML_HEUR_NEWARRAY;
    if ((r->heuristics & ML_HEUR_MULTIPLEINHERITANCE) && !(off & 7) && off + 8 <= b->size &&
        (shape & ML_SHAPE_VTABLE) && ml_reach_may_be_vtable(r->snap, at))
        return ML_HEUR_MULTIPLEINHERITANCE;
    return 0;
}

/* Whether v, inside block i, points at the chunk header of the live block
 * that follows it in glibc's heap (the 16 bytes before that block, whose
 * first 8 overlap block i's last usable bytes): such a word ("body - 16")
 * refers to the next block's chunk, not into block i.  Under valgrind it
 * falls in a redzone and points into no block. */
static int at_next_header(const struct reach *r, size_t i, uint64_t v)
{
    if (i + 1 >= r->n) return 0;
    uint64_t next = r->blocks[i + 1].addr;
    return v >= next - 16 && v < next && ml_heap_owns(r->heap, v);
}

/* A word found in a root or a reachable/possible block (memcheck's
 * lc_push_without_clique_if_a_chunk_ptr). */
static void found_pointer(struct reach *r, uint64_t v, int prior_definite)
{
    long i = r->index.slots ? ml_addr_index_find(&r->index, v) : ml_block_index(r->blocks, r->n, v);
    if (i < 0) return;
    struct ml_block *b = &r->blocks[i];
    int start = v == b->addr;
    if (!start && (ml_heap_is_meta(r->heap, v) || at_next_header(r, (size_t)i, v))) return;
    if (r->clique >= 0) {                       /* clique pass */
        if (r->state[i] != UNREACHED || i == r->clique) return;
        r->indirect[r->clique] += b->size + r->indirect[i];
        r->indirect[i] = 0;
        r->state[i] = INDIRECT;
        push(r, (size_t)i);
        return;
    }
    if (r->state[i] == REACHABLE) {
        if (start) r->heur[i] = 0;              /* reached without the heuristic too */
        return;
    }
    unsigned via = !start && r->heuristics ? heuristic_match(r, (size_t)i, v) : 0;
    if ((start || via) && prior_definite) {
        r->state[i] = REACHABLE;
        r->heur[i] = via ? (uint8_t)(__builtin_ctz(via) + 1) : 0;
        push(r, (size_t)i);
    } else if (r->state[i] == UNREACHED) {
        r->state[i] = POSSIBLE;
        push(r, (size_t)i);
    }
}

static void scan_words(struct reach *r, const unsigned char *d, uint64_t addr, uint64_t end,
                       int prior_definite)
{
    uint64_t a = (addr + 7) & ~7ull, lo = r->lo, span = r->span;
    for (; a + 8 <= end; a += 8) {
        uint64_t v;
        memcpy(&v, d + (a - addr), 8);
        if (v - lo < span && v >= 4096)   /* most words point at no block: one compare */
            found_pointer(r, v, prior_definite);
    }
}

/* The kept words of a region that was scanned, not copied, in [a, end). */
static void scan_kept_words(struct reach *r, const struct ml_region *reg, uint64_t a, uint64_t end,
                            int prior_definite)
{
    size_t lo = 0, hi = reg->nwords;             /* first word at or above a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (reg->words[mid].addr < a) lo = mid + 1;
        else hi = mid;
    }
    for (size_t k = lo; k < reg->nwords && reg->words[k].addr + 8 <= end; k++)
        found_pointer(r, reg->words[k].value, prior_definite);
}

/* Scan [a, end) of a root region page by page, passing over pages that were
 * never written (a large, sparsely used mapping was not copied either). */
static void scan_root_words(struct reach *r, const struct ml_region *reg, uint64_t a, uint64_t end)
{
    if (reg->words) {
        scan_kept_words(r, reg, a, end, 1);
        return;
    }
    if (!reg->pages) {
        scan_words(r, reg->data + (a - reg->start), a, end, 1);
        return;
    }
    while (a < end) {
        uint64_t next = (a & ~(uint64_t)(ML_PAGE_SIZE - 1)) + ML_PAGE_SIZE;
        if (next > end) next = end;
        if (!ml_region_untouched(reg, a - reg->start, next - a))
            scan_words(r, reg->data + (a - reg->start), a, next, 1);
        a = next;
    }
}

/* Scan a root region, skipping the sorted, disjoint ranges in skip. */
static void scan_root_range(struct reach *r, const struct ml_region *reg,
                            const struct ml_range *skip, size_t nskip)
{
    uint64_t a = reg->start;
    for (size_t k = 0; k < nskip && a < reg->end; k++) {
        const struct ml_range *o = &skip[k];
        if (o->end <= a || o->start >= reg->end) continue;
        if (o->start > a) scan_root_words(r, reg, a, o->start);
        a = o->end;
    }
    if (a < reg->end) scan_root_words(r, reg, a, reg->end);
}

static int is_shim_region(const struct ml_snapshot *snap, size_t i)
{
    const struct ml_region *reg = &snap->regions[i];
    const char *p = reg->path;
    if (reg->kind == ML_RK_BSS && i > 0) p = snap->regions[i - 1].path;
    const char *base = strrchr(p, '/');
    return base && strcmp(base + 1, "libmemlens.so") == 0;
}

static int cmp_range_start(const void *a, const void *b)
{
    const struct ml_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Among threads whose stack bounds are unknown, whether sp is the lowest in
 * reg: only below that one is the mapping surely dead. */
static int lowest_unknown(const struct ml_snapshot *snap, const struct ml_region *reg, uint64_t sp)
{
    for (size_t t = 0; t < snap->nthreads; t++) {
        const struct ml_thread_state *o = &snap->threads[t];
        if (!o->stack_lo && o->sp >= reg->start && o->sp < sp) return 0;
    }
    return 1;
}

/* What is never a root: malloc-owned memory (glibc's heaps and chunks, and
 * whatever the allocator mapped for itself) and each thread's stack below
 * its stack pointer (from the stack's low end when known, else from the
 * start of the mapping holding it).  Sorted and merged. */
static struct ml_range *dead_ranges(const struct reach *r, size_t *n)
{
    const struct ml_snapshot *snap = r->snap;
    size_t cap = r->heap->nowned + r->heap->nmapped + snap->nthreads, k = 0;
    struct ml_range *v = malloc((cap ? cap : 1) * sizeof *v);
    if (!v) return NULL;
    memcpy(v, r->heap->owned, r->heap->nowned * sizeof *v);
    k = r->heap->nowned;
    if (r->heap->nmapped) memcpy(v + k, r->heap->mapped, r->heap->nmapped * sizeof *v);
    k += r->heap->nmapped;
    for (size_t t = 0; t < snap->nthreads; t++) {
        const struct ml_thread_state *th = &snap->threads[t];
        const struct ml_region *reg = ml_snapshot_find(snap, th->sp);
        if (!reg) continue;
        uint64_t lo = th->stack_lo && th->stack_lo <= th->sp ? th->stack_lo : reg->start;
        if (lo < reg->start) lo = reg->start;
        if (!th->stack_lo && !lowest_unknown(snap, reg, th->sp)) continue;
        if (lo < th->sp) v[k++] = (struct ml_range){lo, th->sp};
    }
    qsort(v, k, sizeof *v, cmp_range_start);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && v[i].start <= v[m - 1].end) {
            if (v[i].end > v[m - 1].end) v[m - 1].end = v[i].end;
        } else {
            v[m++] = v[i];
        }
    }
    *n = m;
    return v;
}

static void scan_roots(struct reach *r)
{
    const struct ml_snapshot *snap = r->snap;
    size_t nskip = 0;
    struct ml_range *skip = dead_ranges(r, &nskip);
    for (size_t i = 0; i < snap->nregions; i++) {
        const struct ml_region *reg = &snap->regions[i];
        if ((!reg->data && !reg->words) || reg->perms[0] != 'r' || reg->perms[1] != 'w') continue;
        if (reg->kind == ML_RK_SESSION || is_shim_region(snap, i)) continue;
        if (skip) scan_root_range(r, reg, skip, nskip);
        else scan_root_range(r, reg, r->heap->owned, r->heap->nowned);
    }
    free(skip);
    static const int gp[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 19};
    for (size_t t = 0; t < snap->nthreads; t++) {
        if (snap->threads[t].exited) continue;
        for (size_t k = 0; k < sizeof gp / sizeof gp[0]; k++)
            if (snap->threads[t].regs[gp[k]] >= 4096)
                found_pointer(r, snap->threads[t].regs[gp[k]], 1);
    }
}

/* Ask for the first bytes of the block popped next while this one is
 * scanned: blocks come off the stack in no order the hardware can guess,
 * and the scan of a heap much larger than the caches waits on memory. */
static void prefetch_next(const struct reach *r)
{
    if (!r->depth) return;
    const struct ml_block *b = &r->blocks[r->stack[r->depth - 1]];
    const unsigned char *d = mem_at(r->snap, b->addr, b->size);
    if (!d) return;
    uint64_t len = b->size < 512 ? b->size : 512;
    for (uint64_t off = 0; off < len; off += 64) __builtin_prefetch(d + off);
}

static void process_stack(struct reach *r)
{
    while (r->depth) {
        size_t i = r->stack[--r->depth];
        r->pending[i] = 0;
        prefetch_next(r);
        const struct ml_block *b = &r->blocks[i];
        const struct ml_region *reg = region_of(r, b->addr);
        int prior = r->state[i] != POSSIBLE;
        if (!reg) continue;
        if (reg->data && b->addr + b->size <= reg->end) {
            scan_words(r, reg->data + (b->addr - reg->start), b->addr, b->addr + b->size, prior);
        } else if (reg->words && (!reg->sparse || !r->kept || (r->kept[i / 8] >> (i % 8) & 1))) {
            scan_kept_words(r, reg, b->addr, b->addr + b->size, prior);   /* not copied */
        }
    }
}

static int cmp_seq(const void *a, const void *b, void *ctx)
{
    const struct ml_block *blocks = ctx;
    uint64_t x = blocks[*(const size_t *)a].seq, y = blocks[*(const size_t *)b].seq;
    return x < y ? -1 : x > y;
}

/* Collect what is left unreached into cliques.  memcheck takes leaders in
 * address order, and under valgrind's allocator, which does not reuse
 * freed memory soon, address order is allocation order; glibc's addresses
 * follow it less often, so leaders are taken in allocation order. */
static int find_cliques(struct reach *r)
{
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++) m += r->state[i] == UNREACHED;
    size_t *order = malloc((m + 1) * sizeof *order);   /* only the unreached: few, usually */
    if (!order) return -ENOMEM;
    m = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->state[i] == UNREACHED) order[m++] = i;
    qsort_r(order, m, sizeof *order, cmp_seq, r->blocks);
    for (size_t k = 0; k < m; k++) {
        size_t i = order[k];
        if (r->state[i] != UNREACHED) continue;
        r->clique = (long)i;
        push(r, i);
        process_stack(r);
    }
    free(order);
    return 0;
}

const char *ml_heuristic_name(unsigned bit)
{
    switch (bit) {
    case ML_HEUR_STDSTRING: return "stdstring";
    case ML_HEUR_LENGTH64: return "length64";
    case ML_HEUR_NEWARRAY: return "newarray";
    case ML_HEUR_MULTIPLEINHERITANCE: return "multipleinheritance";
    default: return NULL;
    }
}

static const unsigned char kind_of[] = {
    [UNREACHED] = ML_LK_DEFINITE, [POSSIBLE] = ML_LK_POSSIBLE,
    [REACHABLE] = ML_LK_REACHABLE, [INDIRECT] = ML_LK_INDIRECT,
};

int ml_reach_classify(const struct ml_snapshot *snap, const struct ml_heap_layout *heap,
                      struct ml_block *blocks, size_t n, unsigned heuristics,
                      uint64_t *indirect)
{
    struct reach r = {.snap = snap, .heap = heap, .blocks = blocks, .n = n,
                      .heuristics = heuristics, .clique = -1};
    r.state = calloc(n + 1, 1);
    r.pending = calloc(n + 1, 1);
    r.stack = n < UINT32_MAX ? malloc((n + 1) * sizeof *r.stack) : NULL;
    /* The leaders' bytes are summed in the caller's array when there is one:
     * at ten million blocks a second one is 80 MB more. */
    r.indirect = indirect ? memset(indirect, 0, n * sizeof *indirect) : calloc(n + 1, sizeof *r.indirect);
    r.heur = calloc(n + 1, 1);
    int rc = -ENOMEM;
    if (!r.state || !r.pending || !r.stack || (n && !r.indirect) || !r.heur) goto out;
    ml_addr_index_build(&r.index, blocks, n);   /* on failure the scan is slower, not wrong */
    if (n) {
        uint64_t end = blocks[n - 1].addr + (blocks[n - 1].size ? blocks[n - 1].size : 1);
        r.lo = blocks[0].addr;
        r.span = end - r.lo;
    }
    mark_kept(&r);             /* on failure every block is searched: slower, not wrong */
    scan_roots(&r);
    process_stack(&r);
    rc = find_cliques(&r);
    if (rc) goto out;
    for (size_t i = 0; i < n; i++) {
        blocks[i].kind = kind_of[r.state[i]];
        blocks[i].flags = (uint8_t)((blocks[i].flags & ~ML_REACH_HEUR_MASK) |
                                    (r.state[i] == REACHABLE ? r.heur[i] : 0));
        if (indirect) indirect[i] = r.state[i] == UNREACHED ? r.indirect[i] : 0;
    }
    rc = 0;
out:
    ml_addr_index_free(&r.index);
    free(r.kept);
    free(r.state);
    free(r.pending);
    free(r.stack);
    if (r.indirect != indirect) free(r.indirect);
    free(r.heur);
    return rc;
}

/* leaks.c - leak records and summary of one process (see leaks.h). */
#include "leaks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "frag.h"
#include "heapwalk.h"
#include "memlens/session.h"
#include "reach.h"
#include "stacktab.h"
#include "strpool.h"
#include "tlsfix.h"

const char *ml_alloc_fn_name(unsigned fn)
{
    switch (fn) {
    case ML_FN_MALLOC: return "malloc";
    case ML_FN_CALLOC: return "calloc";
    case ML_FN_REALLOC: return "realloc";
    case ML_FN_REALLOCARRAY: return "reallocarray";
    case ML_FN_POSIX_MEMALIGN: return "posix_memalign";
    case ML_FN_ALIGNED_ALLOC: return "aligned_alloc";
    case ML_FN_MEMALIGN: return "memalign";
    case ML_FN_VALLOC: return "valloc";
    case ML_FN_PVALLOC: return "pvalloc";
    case ML_FN_NEW: return "operator new(unsigned long)";
    case ML_FN_NEW_ARRAY: return "operator new[](unsigned long)";
    default: return "???";
    }
}

/* A group of blocks sharing kind, stack and allocating function. */
struct group {
    uint8_t kind;
    uint16_t fn;
    uint32_t stack;
    uint64_t blocks, bytes, indirect, first_seq, last_seq;
    uint64_t resident, swapped;       /* bytes of its blocks on such pages */
    struct ml_totals via_heuristic[ML_HEUR_COUNT];
};

/* memcheck's order: total bytes, kind, blocks, then first seen. */
static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    uint64_t tx = x->bytes + x->indirect, ty = y->bytes + y->indirect;
    if (tx != ty) return tx < ty ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    if (x->blocks != y->blocks) return x->blocks < y->blocks ? -1 : 1;
    return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* Attach mode: of the heap, only the tracked blocks are left out of the
 * roots (blocks: sorted by address, disjoint). Returns 0 or -ENOMEM. */
static int only_blocks_owned(struct ml_heap_layout *heap, const struct ml_block *blocks, size_t n)
{
    struct ml_range *r = malloc((n ? n : 1) * sizeof *r);
    if (!r) return -ENOMEM;
    for (size_t i = 0; i < n; i++) r[i] = (struct ml_range){blocks[i].addr, blocks[i].addr + blocks[i].size};
    free(heap->owned);
    heap->owned = r;
    heap->nowned = n;
    return 0;
}

/* The groups being built: an open-addressing table of indices into g,
 * keyed by (kind, stack, fn). */
struct group_table {
    struct group *g;
    size_t ng, cap;          /* groups, and room in g */
    uint32_t *slot;          /* index + 1 into g; 0 = empty */
    size_t mask;
};

static size_t group_hash(const struct ml_block *b, size_t mask)
{
    uint64_t h = ((uint64_t)b->stack << 24 | (uint64_t)b->fn << 8 | b->kind) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & mask;
}

static int same_key(const struct group *g, const struct ml_block *b)
{
    return g->kind == b->kind && g->stack == b->stack && g->fn == b->fn;
}

/* Double the slots (and room) of t. Returns 0 or -1. */
static int group_table_grow(struct group_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    struct group *g = realloc(t->g, cap * sizeof *g);
    uint32_t *slot = calloc(cap * 2, sizeof *slot);
    if (!g || !slot) {
        if (g) t->g = g;
        free(slot);
        return -1;
    }
    t->g = g;
    t->cap = cap;
    free(t->slot);
    t->slot = slot;
    t->mask = cap * 2 - 1;
    for (size_t i = 0; i < t->ng; i++) {
        struct ml_block key = {.kind = g[i].kind, .stack = g[i].stack, .fn = g[i].fn};
        size_t s = group_hash(&key, t->mask);
        while (slot[s]) s = (s + 1) & t->mask;
        slot[s] = (uint32_t)i + 1;
    }
    return 0;
}

/* The group of b, made when new; NULL when out of memory. */
static struct group *group_of(struct group_table *t, const struct ml_block *b)
{
    if (t->ng == t->cap && group_table_grow(t) != 0) return NULL;
    size_t s = group_hash(b, t->mask);
    for (; t->slot[s]; s = (s + 1) & t->mask)
        if (same_key(&t->g[t->slot[s] - 1], b)) return &t->g[t->slot[s] - 1];
    t->slot[s] = (uint32_t)t->ng + 1;
    struct group *g = &t->g[t->ng++];
    *g = (struct group){.kind = b->kind, .fn = b->fn, .stack = b->stack,
                        .first_seq = b->seq, .last_seq = b->seq};
    return g;
}

/* Group classified blocks by (kind, stack, fn) in memcheck's order.
 * Linear in blocks.  Returns the count of groups, or -1. */
static long make_groups(const struct ml_snapshot *snap, const struct ml_block *blocks,
                        const uint64_t *indirect, size_t n, struct group **out)
{
    struct group_table t = {0};
    if (group_table_grow(&t) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        const struct ml_block *b = &blocks[i];
        struct group *g = group_of(&t, b);
        if (!g) {
            free(t.g);
            free(t.slot);
            return -1;
        }
        g->blocks++;
        g->bytes += b->size;
        g->indirect += indirect ? indirect[i] : 0;
        uint64_t res, swp;
        ml_frag_span_pages(snap, b->addr, b->addr + b->size, &res, &swp);
        g->resident += res;
        g->swapped += swp;
        unsigned h = b->kind == ML_LK_REACHABLE ? b->flags & ML_REACH_HEUR_MASK : 0;
        if (h && h <= ML_HEUR_COUNT) {
            g->via_heuristic[h - 1].blocks++;
            g->via_heuristic[h - 1].bytes += b->size;
        }
        if (b->seq < g->first_seq) g->first_seq = b->seq;
        if (b->seq > g->last_seq) g->last_seq = b->seq;
    }
    free(t.slot);
    qsort(t.g, t.ng, sizeof *t.g, cmp_group);
    *out = t.g;
    return (long)t.ng;
}

/* Frames being resolved, innermost first, before they go to the table;
 * their strings are the table's pool's. */
struct frames_tmp {
    struct ml_frame_out *v;
    size_t n, cap;
    struct ml_strpool *pool;
};

static char *keep_str(const struct frames_tmp *st, const char *s)
{
    return s ? ml_strpool_get(st->pool, s) : NULL;
}

/* The linkage name of a synthetic top frame, as suppressions name it:
 * C names are their own, operator new is _Znwm; NULL when not known. */
static const char *top_linkage_name(const char *function)
{
    static const char *const cxx[][2] = {
        {"operator new(unsigned long)", "_Znwm"},
        {"operator new[](unsigned long)", "_Znam"},
    };
    for (size_t i = 0; i < sizeof cxx / sizeof cxx[0]; i++)
        if (strcmp(function, cxx[i][0]) == 0)
            return cxx[i][1];
    return function[strspn(function, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")] ? NULL : function;
}

static int add_frame(struct frames_tmp *st, const struct ml_symframe *f, const char *function)
{
    if (st->n == st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 64;
        struct ml_frame_out *p = realloc(st->v, ncap * sizeof *p);
        if (!p) return -ENOMEM;
        st->v = p;
        st->cap = ncap;
    }
    struct ml_frame_out *o = &st->v[st->n++];
    o->address = f ? f->address : 0;
    o->function = keep_str(st, function ? function : f ? f->function : NULL);
    o->file = f ? keep_str(st, f->file) : NULL;
    o->line = f ? f->line : 0;
    o->module = f ? keep_str(st, f->module) : NULL;
    o->inlined = f ? f->inlined : 0;
    o->mangled = keep_str(st, f ? f->linkage_name : function ? top_linkage_name(function) : NULL);
    o->aliases[0] = f ? keep_str(st, f->aliases[0]) : NULL;
    o->aliases[1] = f ? keep_str(st, f->aliases[1]) : NULL;
    return 0;
}

/* The allocator's own frame: memlens's interposer of that function. */
static int add_top_frame(struct frames_tmp *st, struct ml_symbolizer *sym, const char *function)
{
    if (add_frame(st, NULL, function)) return -ENOMEM;
    const char *linkage = top_linkage_name(function), *module = NULL;
    uint64_t addr = linkage ? ml_symbol_address(sym, "libmemlens.so", linkage, &module) : 0;
    struct ml_frame_out *o = &st->v[st->n - 1];
    o->address = addr;
    if (module && !(o->module = keep_str(st, module))) return -ENOMEM;
    return 0;
}

/* The allocator frames valgrind (3.19) shows for top_function: its
 * aligned_alloc, valloc and pvalloc are its memalign, and its posix_memalign
 * calls memalign; the others are shown by their own name. */
static size_t valgrind_alloc_frames(const char *top_function, const char *out[2])
{
    static const char *const memalign_family[] = {"aligned_alloc", "valloc", "pvalloc"};
    out[0] = top_function;
    if (strcmp(top_function, "posix_memalign") == 0) {
        out[0] = "memalign";
        out[1] = top_function;
        return 2;
    }
    for (size_t i = 0; i < sizeof memalign_family / sizeof memalign_family[0]; i++)
        if (strcmp(top_function, memalign_family[i]) == 0) out[0] = "memalign";
    return 1;
}

/* Shape the frame just added as style asks.  Returns 1 when the stack ends
 * with it: valgrind stops at main, or at the first frame below main, which
 * it calls "(below main)". */
static int style_frame(const struct frames_tmp *st, struct ml_frame_out *o, unsigned style)
{
    if ((style & ML_STACK_MANGLED) && o->mangled) o->function = o->mangled;
    if (style & ML_STACK_BELOW_MAIN) return 0;
    if (ml_below_main(o->function)) {
        char *b = keep_str(st, "(below main)");
        if (b) {              /* its own name stays one suppressions may use */
            char **slot = !o->aliases[1] ? &o->aliases[1] : !o->aliases[0] ? &o->aliases[0] : NULL;
            if (slot) *slot = o->function;
            o->function = b;
        }
        o->mangled = NULL;
        return 1;
    }
    return o->function && strcmp(o->function, "main") == 0 && !o->inlined;
}

/* Resolve the frames of stack id into st->v. */
static int resolve_frames(struct ml_stack_source src, struct ml_symbolizer *sym,
                          unsigned max_frames, unsigned style, uint32_t id,
                          const char *top_function, struct frames_tmp *st)
{
    uint32_t depth = 0;
    const uint64_t *frames = src.frames ? src.frames(src.ctx, id, &depth) : NULL;
    if (top_function) {
        const char *shown[2];
        for (size_t i = 0, n = valgrind_alloc_frames(top_function, shown); i < n; i++)
            if (add_top_frame(st, sym, shown[i])) return -ENOMEM;
    }
    if (max_frames && depth > max_frames) depth = max_frames;
    int ended = 0;
    for (uint32_t i = 0; frames && i < depth && !ended; i++) {
        struct ml_symframe sf[16];
        int k = 1;
        if (sym) {
            k = ml_symbolize(sym, frames[i], 1, sf, 16);
        } else {
            memset(sf, 0, sizeof sf[0]);
            sf[0].address = frames[i];
        }
        for (int j = 0; j < k && !ended; j++) {
            if (add_frame(st, &sf[j], NULL)) return -ENOMEM;
            ended = style_frame(st, &st->v[st->n - 1], style);
        }
    }
    return 0;
}

int ml_stack_resolve(struct ml_stack_source src, struct ml_symbolizer *sym, unsigned max_frames,
                     unsigned style, uint32_t id, const char *top_function,
                     struct ml_stack_out *st)
{
    *st = (struct ml_stack_out){0};
    if (!src.into) return 0;
    struct frames_tmp tmp = {.pool = ml_stacktab_strings(src.into)};
    int rc = resolve_frames(src, sym, max_frames, style, id, top_function, &tmp);
    if (rc == 0) rc = ml_stacktab_put(src.into, tmp.v, tmp.n, st);
    free(tmp.v);
    return rc;
}

static int fill_records(const struct ml_leak_input *in, struct group *g, size_t ng,
                        struct ml_proc_report *out)
{
    out->records = calloc(ng ? ng : 1, sizeof *out->records);
    if (!out->records) return -ENOMEM;
    for (size_t i = 0; i < ng; i++) {
        struct ml_leak_record *rec = &out->records[i];
        rec->kind = g[i].kind;
        rec->blocks = g[i].blocks;
        rec->bytes = g[i].bytes;
        rec->indirect_bytes = g[i].indirect;
        rec->resident_bytes = g[i].resident;
        rec->swapped_bytes = g[i].swapped;
        memcpy(rec->via_heuristic, g[i].via_heuristic, sizeof rec->via_heuristic);
        if (in->seq_seconds) {
            rec->has_age = 1;
            rec->age_oldest = in->snapshot_seconds - in->seq_seconds(in->seq_ctx, g[i].first_seq);
            rec->age_newest = in->snapshot_seconds - in->seq_seconds(in->seq_ctx, g[i].last_seq);
        }
        out->nrecords = i + 1;
        out->summary[rec->kind].blocks += rec->blocks;
        out->summary[rec->kind].bytes += rec->bytes;
        if (ml_stack_resolve(in->stacks, in->sym, in->max_frames, in->stack_style, g[i].stack,
                             ml_alloc_fn_name(g[i].fn), &rec->stack))
            return -ENOMEM;
    }
    return 0;
}

int ml_leaks_suppress(const struct ml_suppressions *supp, struct ml_proc_report *out)
{
    for (size_t i = 0; i < out->nrecords; i++) {     /* undo what matched before */
        struct ml_leak_record *rec = &out->records[i];
        if (!rec->suppressed) continue;
        out->summary[ML_LK_SUPPRESSED].blocks -= rec->blocks;
        out->summary[ML_LK_SUPPRESSED].bytes -= rec->bytes;
        out->summary[rec->kind].blocks += rec->blocks;
        out->summary[rec->kind].bytes += rec->bytes;
        free(rec->suppression);
        free(rec->suppression_file);
        rec->suppression = rec->suppression_file = NULL;
        rec->suppression_line = 0;
        rec->suppressed = 0;
    }
    for (size_t i = 0; supp && i < out->nrecords; i++) {
        struct ml_leak_record *rec = &out->records[i];
        const char *file = NULL;
        int line = 0;
        const char *name = ml_suppressions_match_at(supp, rec->kind, &rec->stack, &file, &line);
        if (!name)
            continue;
        if (!(rec->suppression = strdup(name)) || (file && !(rec->suppression_file = strdup(file))))
            return -ENOMEM;
        rec->suppression_line = line;
        rec->suppressed = 1;
        out->summary[rec->kind].blocks -= rec->blocks;
        out->summary[rec->kind].bytes -= rec->bytes;
        out->summary[ML_LK_SUPPRESSED].blocks += rec->blocks;
        out->summary[ML_LK_SUPPRESSED].bytes += rec->bytes;
    }
    return 0;
}

/* The mappings made inside allocation calls, whichever malloc made them
 * (jemalloc's, tcmalloc's and mimalloc's own records point at every block),
 * and the allocator's thread-local storage. */
static int add_allocator_maps(struct ml_heap_layout *heap, const struct ml_leak_input *in)
{
    const struct ml_memtrace *mt = in->mt;
    size_t nmaps = mt ? mt->nmaps : 0, k = 0;
    struct ml_range *v = malloc((nmaps + in->snap->nthreads + 1) * sizeof *v);
    if (!v) return -ENOMEM;
    for (size_t i = 0; i < nmaps; i++)
        if (mt->maps[i].allocator) v[k++] = (struct ml_range){mt->maps[i].start, mt->maps[i].end};
    for (size_t t = 0; in->alloc_tls_size && t < in->snap->nthreads; t++) {
        if (in->snap->threads[t].exited) continue;
        uint64_t at = in->snap->threads[t].regs[ML_REG_FS_BASE] + (uint64_t)in->alloc_tls;
        v[k++] = (struct ml_range){at, at + in->alloc_tls_size};   /* jemalloc's thread caches */
    }
    int rc = ml_heap_add_mapped(heap, v, k);
    free(v);
    return rc;
}

int ml_leaks_build(const struct ml_leak_input *in, struct ml_proc_report *out)
{
    struct ml_block *blocks = NULL;
    ml_progress_phase(in->progress, "sorting the live blocks", ml_blocks_stats(in->blocks)->live_blocks);
    long n = ml_blocks_take_sorted(in->blocks, &blocks);
    if (n < 0) return -ENOMEM;
    out->alloc = *ml_blocks_stats(in->blocks);
    out->scanned = in->snap && in->snap->scanned;
    out->unread_bytes = in->snap ? in->snap->unread_bytes : 0;
    out->uncopied_bytes = in->snap ? in->snap->uncopied_bytes : 0;
    if (n > 0 && in->snap && in->snap->nregions) {     /* no block: no DTV to correct */
        uint64_t cut = ml_tls_fix_blocks(blocks, (size_t)n, in, ml_tls_extra_modules(in->snap));
        out->alloc.live_bytes -= cut;
    }
    uint64_t *indirect = calloc((size_t)n + 1, sizeof *indirect);
    struct ml_heap_layout heap = {0};
    int rc = indirect ? 0 : -ENOMEM;
    ml_progress_phase(in->progress, "leak kinds", (uint64_t)n);
    if (rc == 0 && out->scanned) {
        rc = ml_heap_layout_build(in->snap, blocks, (size_t)n, &heap);
        if (rc == 0) rc = add_allocator_maps(&heap, in);
        if (rc == 0 && in->unknown_is_root) rc = only_blocks_owned(&heap, blocks, (size_t)n);
        if (rc == 0)
            rc = ml_reach_classify(in->snap, &heap, blocks, (size_t)n, in->heuristics, indirect);
    } else {
        for (long i = 0; i < n; i++) blocks[i].kind = ML_LK_DEFINITE;  /* unclassified */
    }
    ml_progress_phase(in->progress, "loss records by stack", (uint64_t)n);
    struct group *g = NULL;
    long ng = rc == 0 ? make_groups(in->snap, blocks, indirect, (size_t)n, &g) : -1;
    if (rc == 0 && ng < 0) rc = -ENOMEM;
    ml_progress_phase(in->progress, "symbolizing the loss records", 0);
    if (rc == 0) rc = fill_records(in, g, (size_t)ng, out);
    if (rc == 0) rc = ml_leaks_suppress(in->supp, out);
    ml_heap_layout_free(&heap);
    free(g);
    free(indirect);
    if (rc == 0 && in->sorted) {             /* handed over for ml_frag_build */
        *in->sorted = blocks;
        *in->nsorted = (size_t)n;
        blocks = NULL;
    }
    free(blocks);
    return rc;
}

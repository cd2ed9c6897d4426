/* frag.c - heap fragmentation, its culprits and page residency (see frag.h).
 *
 * A heap (the brk heap or one arena heap) is measured in one pass over its
 * live blocks in address order: each block's chunk is read from its size
 * word, the ranges between live chunks are its free gaps, and every page the
 * heap spans gets an owner (no live data, one allocation site, several, or
 * malloc's own header).  A second pass over the pages, with their pagemap
 * bits, gives residency, resident free pages and each site's pinned pages.
 * Mmapped chunks are measured one by one.  Everything is linear in blocks
 * plus pages; the only sort is the one of the sites.
 *
 * A free gap is taken as one free chunk, as after malloc_trim()'s
 * consolidation; tcache entries look in use to glibc but are free here.
 *
 * Owns, while it runs: the heaps found, the page owner table of the heap
 * being measured and the site table.  The finished figures, the kept sites
 * (with their symbolized stacks) and the page strip go to the caller's
 * struct ml_heap_out, which the report owning it frees.
 */
#include "frag.h"
#include "heapwalk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE              ((uint64_t)ML_PAGE_SIZE)
#define CHUNK_HDR         16u     /* prev_size and size words before a block */
#define SIZE_BITS         7ull
#define IS_MMAPPED        2u
#define NON_MAIN_ARENA    4u
#define MINSIZE           32u
#define FREE_CHUNK_HDR    48u     /* sizeof(struct malloc_chunk): kept by mtrim() */
#define MALLOC_STATE_SIZE 2200u   /* sizeof(struct malloc_state), x86_64 glibc >= 2.27 */
#define ARENA_HEAP_MAX    (64ull << 20)   /* HEAP_MAX_SIZE: arena heaps' alignment */
#define NBUCKETS          (sizeof ((struct ml_heap_out *)0)->gap_histogram / sizeof(uint64_t))

enum { OWNER_NONE = -1, OWNER_SHARED = -2, OWNER_MALLOC = -3 };

static const char *const kind_text[] = {"main heap", "arena heap", "mmapped chunks"};
static const char *const kind_key[] = {"main", "arena", "mmapped"};

const char *ml_heap_kind_text(enum ml_heap_kind kind)
{
    return (unsigned)kind < 3 ? kind_text[kind] : "heap";
}

const char *ml_heap_kind_key(enum ml_heap_kind kind)
{
    return (unsigned)kind < 3 ? kind_key[kind] : "other";
}

/* ---- captured memory and pages -------------------------------------------- */

/* Region lookups cached: consecutive queries mostly hit the same region. */
struct pager {
    const struct ml_snapshot *snap;
    const struct ml_region *r;
};

static const struct ml_region *pager_region(struct pager *p, uint64_t addr)
{
    if (!p->r || addr < p->r->start || addr >= p->r->end)
        p->r = ml_snapshot_find(p->snap, addr);
    return p->r;
}

static unsigned pager_bits(struct pager *p, uint64_t addr)
{
    const struct ml_region *r = pager_region(p, addr);
    return r && r->pages ? r->pages[(addr - r->start) / PAGE] : 0;
}

static int pager_word(struct pager *p, uint64_t addr, uint64_t *w)
{
    const struct ml_region *r = pager_region(p, addr);
    if (r && r->sparse) return ml_snapshot_read_word(p->snap, addr, w);
    if (!r || !r->data || addr + 8 > r->end) return 0;
    memcpy(w, r->data + (addr - r->start), 8);
    return 1;
}

/* Start loading the word at addr, if it lies in the region at hand. */
static void pager_prefetch(const struct pager *p, uint64_t addr)
{
    const struct ml_region *r = p->r;
    if (r && r->data && addr - r->start < r->end - r->start) __builtin_prefetch(r->data + (addr - r->start));
}

static void span_pages(struct pager *p, uint64_t start, uint64_t end,
                       uint64_t *resident, uint64_t *swapped)
{
    for (uint64_t a = start; a < end;) {
        uint64_t next = (a & ~(PAGE - 1)) + PAGE, len = (next < end ? next : end) - a;
        unsigned bits = pager_bits(p, a);
        if (bits & ML_PAGE_PRESENT) *resident += len;
        else if (bits & ML_PAGE_SWAPPED) *swapped += len;
        a += len;
    }
}

void ml_frag_span_pages(const struct ml_snapshot *snap, uint64_t start, uint64_t end,
                        uint64_t *resident, uint64_t *swapped)
{
    struct pager p = {.snap = snap};
    *resident = *swapped = 0;
    if (snap) span_pages(&p, start, end, resident, swapped);
}

/* ---- allocation sites ------------------------------------------------------ */

struct site {
    uint32_t stack;
    uint16_t fn;
    uint64_t blocks, live, resident, pinned;
};

/* Sites in insertion order, found by (stack, fn) through open addressing. */
struct sites {
    struct site *v;
    size_t n, cap;
    int32_t *slot;               /* index into v, -1 empty */
    size_t mask;
};

static uint64_t site_key(uint32_t stack, uint16_t fn)
{
    return (uint64_t)stack << 16 | fn;
}

static size_t site_hash(uint64_t key, size_t mask)
{
    key *= 0x9e3779b97f4a7c15ull;
    return (size_t)(key ^ key >> 29) & mask;
}

static size_t site_probe(const struct sites *s, uint32_t stack, uint16_t fn)
{
    uint64_t key = site_key(stack, fn);
    size_t i = site_hash(key, s->mask);
    while (s->slot[i] >= 0 && site_key(s->v[s->slot[i]].stack, s->v[s->slot[i]].fn) != key)
        i = (i + 1) & s->mask;
    return i;
}

static int sites_grow(struct sites *s)
{
    size_t nslots = s->slot ? (s->mask + 1) * 2 : 1024;
    int32_t *slot = malloc(nslots * sizeof *slot);
    struct site *v = realloc(s->v, nslots / 2 * sizeof *v);
    if (v) s->v = v;
    if (!slot || !v) {
        free(slot);
        return -ENOMEM;
    }
    memset(slot, 0xff, nslots * sizeof *slot);
    free(s->slot);
    s->slot = slot;
    s->mask = nslots - 1;
    s->cap = nslots / 2;
    for (size_t k = 0; k < s->n; k++) slot[site_probe(s, s->v[k].stack, s->v[k].fn)] = (int32_t)k;
    return 0;
}

/* Index of the block's site, added when new; -1 when out of memory. */
static long site_of(struct sites *s, const struct ml_block *b)
{
    if (s->n == s->cap && sites_grow(s)) return -1;
    size_t i = site_probe(s, b->stack, b->fn);
    if (s->slot[i] < 0) {
        s->v[s->n] = (struct site){.stack = b->stack, .fn = b->fn};
        s->slot[i] = (int32_t)s->n++;
    }
    return s->slot[i];
}

static void sites_free(struct sites *s)
{
    free(s->v);
    free(s->slot);
}

/* Most pinned pages first, then most live bytes; ties in a fixed order. */
static int cmp_site(const void *a, const void *b)
{
    const struct site *x = a, *y = b;
    if (x->pinned != y->pinned) return x->pinned > y->pinned ? -1 : 1;
    if (x->live != y->live) return x->live > y->live ? -1 : 1;
    uint64_t kx = site_key(x->stack, x->fn), ky = site_key(y->stack, y->fn);
    return kx < ky ? -1 : kx > ky;
}

/* ---- the heaps in the snapshot ----------------------------------------------- */

struct heap {
    enum ml_heap_kind kind;
    uint64_t base, first, end;   /* extent [base, end); [base, first) is malloc's own */
    uint64_t after_info;         /* arena heaps: the end of the heap_info */
};

struct heaps { struct heap *v; size_t n, cap; };

static int heaps_push(struct heaps *h, const struct heap *item)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        struct heap *v = realloc(h->v, cap * sizeof *v);
        if (!v) return -ENOMEM;
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = *item;
    return 0;
}

/* The brk heap: the [heap] region (and [heap] regions right after it). */
static int find_main_heap(const struct ml_snapshot *snap, struct heaps *out)
{
    for (size_t i = 0; i < snap->nregions; i++) {
        if (snap->regions[i].kind != ML_RK_HEAP) continue;
        struct heap h = {ML_HEAP_MAIN, snap->regions[i].start, snap->regions[i].start,
                         snap->regions[i].end, 0};
        while (i + 1 < snap->nregions && snap->regions[i + 1].kind == ML_RK_HEAP &&
               snap->regions[i + 1].start == h.end)
            h.end = snap->regions[++i].end;
        return heaps_push(out, &h);
    }
    return 0;
}

/* An arena heap at base inside r, recognized by its heap_info: ar_ptr's
 * offset in its own 64 MiB unit is sizeof(heap_info) (32, or 48 from glibc
 * 2.35), size is whole pages within mprotect_size, which is within 64 MiB.
 * The first heap of an arena holds the malloc_state after the heap_info. */
static int arena_heap_at(const struct ml_snapshot *snap, const struct ml_region *r, uint64_t base,
                         struct heap *h)
{
    uint64_t w[4];
    if (base + sizeof w > r->end) return 0;
    for (int k = 0; k < 4; k++)
        if (!ml_snapshot_read_word(snap, base + 8 * (uint64_t)k, &w[k])) return 0;
    uint64_t ar = w[0], size = w[2], mprotect_size = w[3], hsz = ar & (ARENA_HEAP_MAX - 1);
    if ((hsz != 32 && hsz != 48) || size % PAGE || size < PAGE || size > mprotect_size ||
        mprotect_size > ARENA_HEAP_MAX || base + size > r->end)
        return 0;
    uint64_t state = ar == base + hsz ? MALLOC_STATE_SIZE : 0;
    *h = (struct heap){ML_HEAP_ARENA, base, base + ((hsz + state + 15) & ~15ull), base + size,
                       base + hsz};
    return 1;
}

static int find_arena_heaps(const struct ml_snapshot *snap, struct heaps *out)
{
    for (size_t i = 0; i < snap->nregions; i++) {
        const struct ml_region *r = &snap->regions[i];
        int anon = r->kind == ML_RK_MMAP_ANON || r->kind == ML_RK_BSS;   /* .bss: when next to one */
        if (!anon || strcmp(r->perms, "rw-p") != 0 || (!r->data && !r->sparse)) continue;
        uint64_t base = (r->start + ARENA_HEAP_MAX - 1) & ~(ARENA_HEAP_MAX - 1);
        for (; base < r->end; base += ARENA_HEAP_MAX) {
            struct heap h;
            if (arena_heap_at(snap, r, base, &h) && heaps_push(out, &h)) return -ENOMEM;
        }
    }
    return 0;
}

/* ---- measuring ----------------------------------------------------------------- */

struct ctx {
    const struct ml_frag_input *in;
    struct pager pg;
    struct sites sites;
    struct ml_heap_out *out;
};

/* Whether walking chunk sizes from `at` lands exactly on `target`. */
static int chunks_reach(struct ctx *c, uint64_t at, uint64_t target)
{
    uint64_t w;
    while (at < target) {
        if (!pager_word(&c->pg, at + 8, &w) || (w & ~SIZE_BITS) < MINSIZE ||
            (w & ~SIZE_BITS) % 16)
            return 0;
        at += w & ~SIZE_BITS;
    }
    return at == target;
}

/* glibc's first allocation in a fresh arena (the brk heap, or an arena's
 * first heap) is the tcache of the thread that made it: a chunk of 0x290
 * bytes (0x250 before glibc 2.30), in use (the next chunk's PREV_INUSE bit)
 * and no block of the program.  Count it as malloc's own, not as free. */
static void skip_tcache(struct ctx *c, struct heap *h, uint64_t first_live_chunk)
{
    uint64_t w, next;
    if (h->kind == ML_HEAP_ARENA && h->first == h->after_info) return;
    if (!pager_word(&c->pg, h->first + 8, &w)) return;
    uint64_t sz = w & ~SIZE_BITS;
    if ((sz != 0x290 && sz != 0x250) || h->first + sz > first_live_chunk ||
        !pager_word(&c->pg, h->first + sz + 8, &next) || !(next & 1))
        return;
    h->first += sz;
}

/* glibc's chunk size for a request, when the size word cannot be trusted. */
static uint64_t request2size(uint64_t req)
{
    uint64_t sz = (req + 8 + 15) & ~15ull;
    return sz < MINSIZE ? MINSIZE : sz;
}

/* The word before block b (its chunk's size), kept by a sparse capture or read. */
static int block_size_word(struct ctx *c, const struct ml_block *b, uint64_t *w)
{
    size_t i = (size_t)(b - c->in->blocks);
    return ml_snapshot_head(c->in->snap, c->in->blocks, i, w, NULL) ||
           pager_word(&c->pg, b->addr - 8, w);
}

static uint64_t heap_chunk_size(struct ctx *c, const struct heap *h, const struct ml_block *b)
{
    uint64_t w, cs = b->addr - CHUNK_HDR;
    if (!block_size_word(c, b, &w)) return request2size(b->size);
    uint64_t sz = w & ~SIZE_BITS;
    int in_arena = (w & NON_MAIN_ARENA) != 0;
    if ((w & IS_MMAPPED) || in_arena != (h->kind == ML_HEAP_ARENA) || sz < MINSIZE ||
        sz % 16 || sz - 8 < b->size || cs + sz > h->end)
        return request2size(b->size);
    return sz;
}

/* Give pages of [from, to) to `who`; a page with two owners is shared. */
/* Who owns each heap page (a site, several, malloc itself or none) and how
 * many of its bytes live chunks cover. */
struct page_use {
    int32_t *own;
    uint16_t *used;
    uint64_t base;
};

static void mark(struct page_use *pu, uint64_t from, uint64_t to, int32_t who)
{
    if (to <= from) return;
    for (uint64_t k = (from - pu->base) / PAGE, last = (to - 1 - pu->base) / PAGE; k <= last; k++) {
        uint64_t lo = pu->base + k * PAGE, hi = lo + PAGE;
        if (lo < from) lo = from;
        if (hi > to) hi = to;
        pu->own[k] = pu->own[k] == OWNER_NONE || pu->own[k] == who ? who : OWNER_SHARED;
        pu->used[k] = (uint16_t)(pu->used[k] + (hi - lo) <= PAGE ? pu->used[k] + (hi - lo) : PAGE);
    }
}

static unsigned gap_bucket(uint64_t len)
{
    unsigned b = 0;
    while (b + 1 < NBUCKETS && len >= (32ull << b)) b++;
    return b;
}

/* Resident bytes malloc_trim(0) gives back of the free chunk [from, to):
 * mtrim() drops the whole pages past a binned chunk's header and list
 * pointers; systrim() shrinks the brk heap's top chunk to MINSIZE, in whole
 * pages.  An arena's top chunk is in no bin and is left alone. */
static uint64_t trimmable(struct ctx *c, const struct heap *h, uint64_t from, uint64_t to, int top)
{
    uint64_t lo, hi = to, res = 0, swp = 0;
    if (top && h->kind != ML_HEAP_MAIN) return 0;
    if (top) {
        if (to - from <= MINSIZE + 1) return 0;
        lo = to - ((to - from - MINSIZE - 1) & ~(PAGE - 1));
    } else {
        lo = (from + FREE_CHUNK_HDR + PAGE - 1) & ~(PAGE - 1);
        if (lo >= to) return 0;
        hi = lo + ((to - lo) & ~(PAGE - 1));
    }
    span_pages(&c->pg, lo, hi, &res, &swp);
    return res;
}

/* A free gap; the top chunk (the heap's last gap) is not in the histogram. */
static void add_gap(struct ctx *c, const struct heap *h, struct ml_heap_figures *f,
                    uint64_t from, uint64_t to, int top)
{
    uint64_t len = to - from;
    f->free_bytes += len;
    if (len > f->largest_free_bytes) f->largest_free_bytes = len;
    if (!top) c->out->gap_histogram[gap_bucket(len)]++;
    f->trimmable_bytes += trimmable(c, h, from, to, top);
}

static void count_block(struct ctx *c, struct ml_heap_figures *f, long s,
                        const struct ml_block *b, uint64_t usable)
{
    struct site *site = &c->sites.v[s];
    uint64_t swapped = 0;
    f->live_bytes += b->size;
    f->usable_bytes += usable;
    site->blocks++;
    site->live += b->size;
    span_pages(&c->pg, b->addr, b->addr + b->size, &site->resident, &swapped);
}

/* Residency, resident free pages, pinned pages and the page strip.  A page
 * is pinned by a site (DESIGN) when it is resident, that site's blocks are
 * its only live data, and at least half of it is free: a densely packed
 * heap pins nothing. */
static void page_pass(struct ctx *c, const struct page_use *pu, size_t npages,
                      struct ml_heap_figures *f, unsigned char *map)
{
    const int32_t *own = pu->own;
    for (size_t k = 0; k < npages; k++) {
        int present = (pager_bits(&c->pg, pu->base + k * PAGE) & ML_PAGE_PRESENT) != 0;
        if (present) f->resident_bytes += PAGE;
        if (present && own[k] == OWNER_NONE) f->resident_free_pages++;
        if (present && own[k] >= 0 && pu->used[k] <= PAGE / 2) c->sites.v[own[k]].pinned++;
        if (map)
            map[k] = own[k] != OWNER_NONE ? ML_PAGE_LIVE
                     : present ? ML_PAGE_FREE_RESIDENT : ML_PAGE_FREE_RELEASED;
    }
}

static void finish_figures(struct ml_heap_figures *f)
{
    f->internal_fragmentation_bytes = f->usable_bytes - f->live_bytes;
    f->external_fragmentation = f->free_bytes && f->largest_free_bytes < f->free_bytes
        ? 1.0 - (double)f->largest_free_bytes / (double)f->free_bytes : 0.0;
}

/* The chunk walk of one heap over its blocks [i0, i1). */
static int walk_heap(struct ctx *c, const struct heap *h, size_t i0, size_t i1,
                     struct page_use *pu, struct ml_heap_figures *f)
{
    uint64_t cursor = h->first;
    mark(pu, h->base, h->first, OWNER_MALLOC);
    for (size_t i = i0; i < i1; i++) {
        const struct ml_block *b = &c->in->blocks[i];
        if (i + 32 < i1) pager_prefetch(&c->pg, c->in->blocks[i + 32].addr - 8);   /* a size word ahead */
        if ((i & 0xffff) == 0) ml_progress_done(c->in->progress, i);
        long s = site_of(&c->sites, b);
        if (s < 0) return -ENOMEM;
        uint64_t sz = heap_chunk_size(c, h, b), cs = b->addr - CHUNK_HDR, ce = cs + sz;
        if (cs < cursor) cs = cursor;           /* overlaps the previous chunk: count once */
        if (ce > h->end) ce = h->end;
        if (cs > cursor) add_gap(c, h, f, cursor, cs, 0);
        mark(pu, cs, ce, (int32_t)s);
        if (ce > cursor) cursor = ce;
        count_block(c, f, s, b, sz - 8);
    }
    if (cursor < h->end) add_gap(c, h, f, cursor, h->end, 1);
    return 0;
}

static int measure_heap(struct ctx *c, struct heap *h, struct ml_heap_part *part)
{
    const struct ml_block *blocks = c->in->blocks;
    size_t i0 = ml_block_first_at(blocks, c->in->nblocks, h->first + CHUNK_HDR);
    size_t i1 = ml_block_first_at(blocks, c->in->nblocks, h->end);
    /* An arena's first chunk is computed from glibc's struct sizes: when the
     * chunks from there do not lead to the first live block, count the
     * malloc_state as free rather than misplace every gap. */
    if (h->kind == ML_HEAP_ARENA && i0 < i1 && !chunks_reach(c, h->first, blocks[i0].addr - CHUNK_HDR))
        h->first = h->after_info;
    skip_tcache(c, h, i0 < i1 ? blocks[i0].addr - CHUNK_HDR : h->end);
    uint64_t pbase = h->base & ~(PAGE - 1);
    size_t npages = (size_t)((h->end - pbase + PAGE - 1) / PAGE);
    struct page_use pu = {malloc((npages ? npages : 1) * sizeof *pu.own),
                          calloc(npages ? npages : 1, sizeof *pu.used), pbase};
    unsigned char *map = h->kind == ML_HEAP_MAIN ? malloc(npages ? npages : 1) : NULL;
    if (!pu.own || !pu.used || (h->kind == ML_HEAP_MAIN && !map)) {
        free(pu.own);
        free(pu.used);
        free(map);
        return -ENOMEM;
    }
    memset(pu.own, 0xff, npages * sizeof *pu.own);     /* OWNER_NONE */
    *part = (struct ml_heap_part){.kind = h->kind, .start = h->base, .end = h->end};
    part->fig.extent_bytes = h->end - h->base;
    int rc = walk_heap(c, h, i0, i1, &pu, &part->fig);
    if (rc == 0) page_pass(c, &pu, npages, &part->fig, map);
    if (rc == 0 && map) {
        c->out->page_map = map;
        c->out->npages = npages;
        c->out->page_map_start = pbase;
    } else {
        free(map);
    }
    free(pu.own);
    free(pu.used);
    finish_figures(&part->fig);
    return rc;
}

/* One mmapped chunk: its mapping is [chunk - prev_size, chunk + size). */
static int measure_mmapped_block(struct ctx *c, const struct ml_block *b, struct ml_heap_part *part)
{
    uint64_t cs = b->addr - CHUNK_HDR, w, prev;
    if (!block_size_word(c, b, &w) || !(w & IS_MMAPPED) || !pager_word(&c->pg, cs, &prev))
        return 0;
    uint64_t sz = w & ~SIZE_BITS, ms = cs - prev, me = cs + sz;
    if (prev > cs || ms % PAGE || me % PAGE || sz < b->size + CHUNK_HDR) return 0;
    long s = site_of(&c->sites, b);
    if (s < 0) return -ENOMEM;
    struct ml_heap_figures *f = &part->fig;
    if (f->extent_bytes == 0 || ms < part->start) part->start = ms;
    if (me > part->end) part->end = me;
    f->extent_bytes += me - ms;
    f->free_bytes += prev;
    if (prev > f->largest_free_bytes) f->largest_free_bytes = prev;
    count_block(c, f, s, b, sz - CHUNK_HDR);
    for (uint64_t pg = ms; pg < me; pg += PAGE) {
        if (!(pager_bits(&c->pg, pg) & ML_PAGE_PRESENT)) continue;
        f->resident_bytes += PAGE;
        if (pg + PAGE <= cs) f->resident_free_pages++;   /* the block fills the rest: pins none */
    }
    return 0;
}

/* Blocks outside every heap that are mmapped chunks. */
static int measure_mmapped(struct ctx *c, const struct heaps *hs, struct ml_heap_part *part)
{
    size_t k = 0;
    *part = (struct ml_heap_part){.kind = ML_HEAP_MMAPPED};
    for (size_t i = 0; i < c->in->nblocks; i++) {
        const struct ml_block *b = &c->in->blocks[i];
        while (k < hs->n && hs->v[k].end <= b->addr) k++;
        if (k < hs->n && b->addr >= hs->v[k].base) continue;     /* measured with its heap */
        if (measure_mmapped_block(c, b, part)) return -ENOMEM;
    }
    finish_figures(&part->fig);
    return 0;
}

static int cmp_heap(const void *a, const void *b)
{
    const struct heap *x = a, *y = b;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return x->base < y->base ? -1 : x->base > y->base;
}

static int cmp_base(const void *a, const void *b)
{
    const struct heap *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

static void add_figures(struct ml_heap_figures *t, const struct ml_heap_figures *f)
{
    t->extent_bytes += f->extent_bytes;
    t->live_bytes += f->live_bytes;
    t->usable_bytes += f->usable_bytes;
    t->free_bytes += f->free_bytes;
    if (f->largest_free_bytes > t->largest_free_bytes) t->largest_free_bytes = f->largest_free_bytes;
    t->resident_bytes += f->resident_bytes;
    t->resident_free_pages += f->resident_free_pages;
    t->trimmable_bytes += f->trimmable_bytes;
}

/* Parts: the main heap, arena heaps by address, then the mmapped chunks. */
static int measure_all(struct ctx *c, struct heaps *hs)
{
    struct ml_heap_out *out = c->out;
    qsort(hs->v, hs->n, sizeof *hs->v, cmp_heap);   /* main, then arenas by address */
    out->parts = calloc(hs->n + 1, sizeof *out->parts);
    if (!out->parts) return -ENOMEM;
    for (size_t i = 0; i < hs->n; i++) {
        int rc = measure_heap(c, &hs->v[i], &out->parts[out->nparts]);
        if (rc) return rc;
        add_figures(&out->total, &out->parts[out->nparts++].fig);
    }
    qsort(hs->v, hs->n, sizeof *hs->v, cmp_base);
    int rc = measure_mmapped(c, hs, &out->parts[out->nparts]);
    if (rc) return rc;
    if (out->parts[out->nparts].fig.extent_bytes)
        add_figures(&out->total, &out->parts[out->nparts++].fig);
    finish_figures(&out->total);
    return 0;
}

/* The worst ML_FRAG_MAX_SITES sites, with their stacks symbolized. */
static int keep_sites(struct ctx *c)
{
    struct sites *s = &c->sites;
    struct ml_heap_out *out = c->out;
    size_t keep = s->n < ML_FRAG_MAX_SITES ? s->n : ML_FRAG_MAX_SITES;
    if (s->n) qsort(s->v, s->n, sizeof *s->v, cmp_site);
    out->sites = calloc(keep ? keep : 1, sizeof *out->sites);
    if (!out->sites) return -ENOMEM;
    for (size_t i = 0; i < keep; i++) {
        struct ml_heap_site *o = &out->sites[out->nsites++];
        o->blocks = s->v[i].blocks;
        o->live_bytes = s->v[i].live;
        o->resident_bytes = s->v[i].resident;
        o->pinned_pages = s->v[i].pinned;
        if (ml_stack_resolve(c->in->stacks, c->in->sym, c->in->max_frames, c->in->stack_style,
                             s->v[i].stack,
                             ml_alloc_fn_name(s->v[i].fn), &o->stack))
            return -ENOMEM;
    }
    return 0;
}

/* Which object's malloc the program calls: the figures read glibc's chunks,
 * so with another allocator they cover glibc's heap only. */
static int name_malloc(const struct ml_frag_input *in, struct ml_heap_out *out)
{
    const struct ml_region *r = in->real_malloc ? ml_snapshot_find(in->snap, in->real_malloc) : NULL;
    if (!r || !r->path[0]) return 0;
    if (!(out->malloc_path = strdup(r->path))) return -ENOMEM;
    const char *base = strrchr(r->path, '/');
    base = base ? base + 1 : r->path;
    out->glibc_only = strncmp(base, "libc.so", 7) != 0 && strncmp(base, "libc-", 5) != 0;
    return 0;
}

int ml_frag_build(const struct ml_frag_input *in, struct ml_heap_out *out)
{
    memset(out, 0, sizeof *out);
    if (!in->snap || !in->snap->scanned) return 0;
    if (name_malloc(in, out)) return -ENOMEM;
    struct ctx c = {.in = in, .pg = {.snap = in->snap}, .out = out};
    struct heaps hs = {0};
    int rc = find_main_heap(in->snap, &hs);
    if (rc == 0) rc = find_arena_heaps(in->snap, &hs);
    ml_progress_phase(in->progress, "heap pages", in->nblocks);
    if (rc == 0) rc = measure_all(&c, &hs);
    ml_progress_phase(in->progress, "fragmentation culprits", 0);
    if (rc == 0) rc = keep_sites(&c);
    out->present = rc == 0;
    free(hs.v);
    sites_free(&c.sites);
    return rc;
}

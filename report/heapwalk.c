/* heapwalk.c - malloc-owned ranges and metadata chunk headers (see heapwalk.h). */
#include "heapwalk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_HDR 16u
#define SIZE_BITS 7u
#define IS_MMAPPED 2u
#define NON_MAIN_ARENA 4u

struct vec { void *p; size_t n, cap, elem; };

static int vec_push(struct vec *v, const void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        void *p = realloc(v->p, cap * v->elem);
        if (!p) return -ENOMEM;
        v->p = p;
        v->cap = cap;
    }
    memcpy((char *)v->p + v->n * v->elem, item, v->elem);
    v->n++;
    return 0;
}

long ml_block_index(const struct ml_block *blocks, size_t n, uint64_t addr)
{
    size_t lo = 0, hi = n;           /* find the last block with start <= addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (blocks[mid].addr <= addr) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return -1;
    const struct ml_block *b = &blocks[lo - 1];
    uint64_t len = b->size ? b->size : 1;
    return addr - b->addr < len ? (long)(lo - 1) : -1;
}

size_t ml_block_first_at(const struct ml_block *blocks, size_t n, uint64_t addr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (blocks[mid].addr < addr) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The size word of the chunk at c in region r: from its copy, or, in a
 * sparse region, from the heads of live block k (when c holds it) or the
 * kept words; 0 when not captured. */
static int chunk_size_word(const struct ml_snapshot *snap, const struct ml_region *r, uint64_t c,
                           const struct ml_block *blocks, size_t k, int live, uint64_t *sz)
{
    if (r->data) {
        memcpy(sz, r->data + (c + 8 - r->start), 8);
        return 1;
    }
    if (live && ml_snapshot_head(snap, blocks, k, sz, NULL)) return 1;
    return ml_region_kept_word(r, c + 8, sz);
}

/* Walk the chunks of region r (its bytes captured, or kept sparsely) and
 * collect the headers of non-live ones.  Chunks come in address order, so
 * a cursor over the sorted blocks tells which are live. */
static int walk_chunks(const struct ml_snapshot *snap, const struct ml_region *r,
                       const struct ml_block *blocks, size_t n, struct vec *meta)
{
    uint64_t c = (r->start + 15) & ~15ull;
    size_t k = ml_block_first_at(blocks, n, c);
    while (c + CHUNK_HDR <= r->end) {
        uint64_t sz = 0, user = c + CHUNK_HDR;
        while (k < n && blocks[k].addr < user) k++;
        if (r->data && k + 8 < n && blocks[k + 8].addr - 8 - r->start < r->end - r->start)
            __builtin_prefetch(r->data + (blocks[k + 8].addr - 8 - r->start));  /* a chunk ahead */
        int live = k < n && blocks[k].addr == user;
        if (!chunk_size_word(snap, r, c, blocks, k, live, &sz)) sz = 0;
        sz &= ~(uint64_t)SIZE_BITS;
        if (!live && vec_push(meta, &c)) return -ENOMEM;
        if (sz < 32 || c + sz > r->end) break;  /* the top chunk, or a short last piece */
        c += sz;
    }
    return 0;
}

/* The range malloc owns around block i outside the brk heap, or {0,0}. */
static struct ml_range block_owner(const struct ml_snapshot *snap, const struct ml_block *blocks,
                                   size_t i)
{
    struct ml_range r = {0, 0};
    uint64_t c = blocks[i].addr - CHUNK_HDR, sz, prev;
    if (!ml_snapshot_head(snap, blocks, i, &sz, NULL) && !ml_snapshot_read_word(snap, c + 8, &sz))
        return r;
    if (sz & IS_MMAPPED) {
        if (!ml_snapshot_read_word(snap, c, &prev)) return r;
        r.start = c - prev;
        r.end = c + (sz & ~(uint64_t)SIZE_BITS);
    } else if (sz & NON_MAIN_ARENA) {
        uint64_t base = c & ~(ML_HEAP_MAX_SIZE - 1), hsize;
        if (!ml_snapshot_read_word(snap, base + 16, &hsize) || hsize > ML_HEAP_MAX_SIZE) return r;
        r.start = base;
        r.end = base + hsize;
    }
    return r;
}

static int cmp_range(const void *a, const void *b)
{
    const struct ml_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort and merge overlapping ranges in place; returns the new count. */
static size_t merge_ranges(struct ml_range *r, size_t n)
{
    if (n == 0) return 0;
    qsort(r, n, sizeof *r, cmp_range);
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (r[i].start <= r[k].end) {
            if (r[i].end > r[k].end) r[k].end = r[i].end;
        } else {
            r[++k] = r[i];
        }
    }
    return k + 1;
}

int ml_heap_layout_build(const struct ml_snapshot *snap, const struct ml_block *blocks,
                         size_t n, struct ml_heap_layout *out)
{
    struct vec owned = {.elem = sizeof(struct ml_range)}, meta = {.elem = sizeof(uint64_t)};
    int rc = 0;
    for (size_t i = 0; i < snap->nregions && rc == 0; i++) {
        const struct ml_region *r = &snap->regions[i];
        if (r->kind != ML_RK_HEAP) continue;
        struct ml_range range = {r->start, r->end};
        rc = vec_push(&owned, &range);
        if (rc == 0 && (r->data || r->sparse)) rc = walk_chunks(snap, r, blocks, n, &meta);
    }
    const struct ml_region *r = NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!r || blocks[i].addr < r->start || blocks[i].addr >= r->end)
            r = ml_snapshot_find(snap, blocks[i].addr);   /* blocks are sorted: rarely */
        if (r && r->kind == ML_RK_HEAP) continue;
        struct ml_range range = block_owner(snap, blocks, i);
        if (range.end > range.start) rc = vec_push(&owned, &range);
    }
    if (rc) {
        free(owned.p);
        free(meta.p);
        return rc;
    }
    out->owned = owned.p;
    out->nowned = merge_ranges(owned.p, owned.n);
    out->meta = meta.p;
    out->nmeta = meta.n;
    if (meta.n) qsort(meta.p, meta.n, sizeof(uint64_t), cmp_u64);
    return 0;
}

int ml_heap_add_mapped(struct ml_heap_layout *h, const struct ml_range *r, size_t n)
{
    if (!n) return 0;
    struct ml_range *v = realloc(h->mapped, (h->nmapped + n) * sizeof *v);
    if (!v) return -ENOMEM;
    memcpy(v + h->nmapped, r, n * sizeof *v);
    h->mapped = v;
    h->nmapped = merge_ranges(v, h->nmapped + n);
    return 0;
}

void ml_heap_layout_free(struct ml_heap_layout *h)
{
    free(h->owned);
    free(h->meta);
    free(h->mapped);
    memset(h, 0, sizeof *h);
}

int ml_heap_owns(const struct ml_heap_layout *h, uint64_t addr)
{
    size_t lo = 0, hi = h->nowned;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (addr < h->owned[mid].start) hi = mid;
        else if (addr >= h->owned[mid].end) lo = mid + 1;
        else return 1;
    }
    return 0;
}

int ml_heap_is_meta(const struct ml_heap_layout *h, uint64_t addr)
{
    return h->nmeta && bsearch(&addr, h->meta, h->nmeta, sizeof(uint64_t), cmp_u64) != NULL;
}

/* addrindex.c - page-keyed index of the live blocks (see addrindex.h). */
#include "addrindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SHIFT 12
#define EMPTY UINT64_MAX

struct ml_addr_page {
    uint64_t page;
    uint32_t first, last;         /* blocks touching the page, by index */
};

static uint64_t end_of(const struct ml_block *b)
{
    return b->addr + (b->size ? b->size : 1);
}

/* Distinct pages the blocks touch (sorted blocks: pages never go back). */
static size_t count_pages(const struct ml_block *blocks, size_t n)
{
    size_t pages = 0;
    uint64_t seen = EMPTY;         /* last page counted */
    for (size_t i = 0; i < n; i++) {
        uint64_t p0 = blocks[i].addr >> PAGE_SHIFT, p1 = (end_of(&blocks[i]) - 1) >> PAGE_SHIFT;
        if (seen != EMPTY && p0 <= seen) p0 = seen + 1;
        if (p0 <= p1) pages += p1 - p0 + 1;
        if (seen == EMPTY || p1 > seen) seen = p1;
    }
    return pages;
}

static size_t slot_of(const struct ml_addr_index *x, uint64_t page)
{
    return (size_t)((page * 0x9E3779B97F4A7C15ull) >> 17) & x->mask;
}

static struct ml_addr_page *probe(const struct ml_addr_index *x, uint64_t page)
{
    size_t i = slot_of(x, page);
    while (x->slots[i].page != page && x->slots[i].page != EMPTY) i = (i + 1) & x->mask;
    return &x->slots[i];
}

int ml_addr_index_build(struct ml_addr_index *x, const struct ml_block *blocks, size_t n)
{
    memset(x, 0, sizeof *x);
    size_t pages = count_pages(blocks, n), cap = 64;
    while (cap < pages * 2) cap *= 2;
    if (n >= UINT32_MAX || !(x->slots = malloc(cap * sizeof *x->slots))) return -ENOMEM;
    for (size_t i = 0; i < cap; i++) x->slots[i].page = EMPTY;
    x->mask = cap - 1;
    x->blocks = blocks;
    x->n = n;
    x->lo = n ? blocks[0].addr : 1;
    x->hi = n ? end_of(&blocks[n - 1]) : 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t p1 = (end_of(&blocks[i]) - 1) >> PAGE_SHIFT;
        for (uint64_t p = blocks[i].addr >> PAGE_SHIFT; p <= p1; p++) {
            struct ml_addr_page *e = probe(x, p);
            if (e->page == EMPTY) *e = (struct ml_addr_page){.page = p, .first = (uint32_t)i};
            e->last = (uint32_t)i;
        }
    }
    return 0;
}

long ml_addr_index_find(const struct ml_addr_index *x, uint64_t addr)
{
    if (addr - x->lo >= x->hi - x->lo) return -1;   /* outside every block, one compare */
    const struct ml_addr_page *e = probe(x, addr >> PAGE_SHIFT);
    if (e->page == EMPTY) return -1;
    size_t lo = e->first, hi = (size_t)e->last + 1;   /* last block with start <= addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->blocks[mid].addr <= addr) lo = mid + 1;
        else hi = mid;
    }
    if (lo == e->first) return -1;
    const struct ml_block *b = &x->blocks[lo - 1];
    return addr < end_of(b) ? (long)(lo - 1) : -1;
}

void ml_addr_index_free(struct ml_addr_index *x)
{
    free(x->slots);
    memset(x, 0, sizeof *x);
}

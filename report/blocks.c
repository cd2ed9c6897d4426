/* blocks.c - the live-block table: the blocks of each 4 KiB page of the
 * address space in one small array sorted by address (a page's bucket),
 * and a hash directory from page number to bucket.
 *
 * Heaps mostly hand out addresses in increasing order, so the next
 * allocation usually lands in the page of the previous one: its insert is
 * an append to a bucket that is still in the cache, found without the
 * directory (the last bucket used is remembered).  A table hashed on each
 * block's address instead misses the cache on every insert once it holds
 * millions of blocks, and the program ends up waiting for the tracer.
 * Frees find the page's bucket through the directory (a few bytes a page:
 * it stays in the cache longer than the blocks) and search it.
 *
 * ml_blocks_freeze turns the table into one array of the live blocks by
 * address (the buckets in page order), freeing the buckets as it goes.
 *
 * Owns the buckets, the directory and the allocation statistics of one
 * process.
 */
#include "blocks.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SHIFT 12
#define DIR_MIN 1024u          /* directory slots to start with; a power of two */
#define TRIM_AFTER (1u << 20)  /* blocks freed by a freeze before the heap is trimmed */

struct bucket {
    uint32_t n, cap;
    struct ml_block e[];       /* n blocks by address, cap of room */
};

struct dirslot {
    uint64_t key;              /* page number + 1; 0 = an empty slot */
    struct bucket *b;
};

struct ml_blocks {
    struct dirslot *dir;
    size_t dmask;              /* directory capacity - 1, a power of two */
    size_t pages;              /* buckets in the directory */
    uint64_t last_key;         /* the bucket of the last event, or 0 */
    struct bucket *last;
    size_t count;              /* live blocks */
    struct ml_block *frozen;   /* ml_blocks_freeze: the count blocks by address */
    int sorted;                /* frozen holds them (and the directory is empty) */
    struct ml_alloc_stats stats;
};

static uint64_t key_of(uint64_t addr)
{
    return (addr >> PAGE_SHIFT) + 1;
}

static size_t home_of(const struct ml_blocks *b, uint64_t key)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29)) & b->dmask;
}

struct ml_blocks *ml_blocks_new(void)
{
    struct ml_blocks *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->dmask = DIR_MIN - 1;
    b->dir = calloc(DIR_MIN, sizeof *b->dir);
    if (!b->dir) {
        free(b);
        return NULL;
    }
    return b;
}

static void free_buckets(struct ml_blocks *b)
{
    for (size_t i = 0; i <= b->dmask; i++) free(b->dir[i].b);
}

void ml_blocks_free(struct ml_blocks *b)
{
    if (!b) return;
    free_buckets(b);
    free(b->dir);
    free(b->frozen);
    free(b);
}

/* ---- the directory ------------------------------------------------------ */

static struct dirslot *dir_find(const struct ml_blocks *b, uint64_t key)
{
    for (size_t i = home_of(b, key);; i = (i + 1) & b->dmask) {
        struct dirslot *d = &b->dir[i];
        if (d->key == key) return d;
        if (d->key == 0) return NULL;
    }
}

static void dir_place(struct ml_blocks *b, uint64_t key, struct bucket *bk)
{
    size_t i = home_of(b, key);
    while (b->dir[i].key != 0) i = (i + 1) & b->dmask;
    b->dir[i] = (struct dirslot){key, bk};
}

/* A directory twice as large, when this one is 70% full: a page a slot
 * (16 bytes), so even 10 million blocks of one page each rehash in a
 * fraction of a second. */
static int dir_grow(struct ml_blocks *b)
{
    struct dirslot *old = b->dir;
    size_t oldmask = b->dmask;
    if (!(b->dir = calloc((oldmask + 1) * 2, sizeof *b->dir))) {
        b->dir = old;
        return -1;
    }
    b->dmask = oldmask * 2 + 1;
    for (size_t i = 0; i <= oldmask; i++)
        if (old[i].key) dir_place(b, old[i].key, old[i].b);
    free(old);
    return 0;
}

/* Remove a slot, shifting back the entries of its probe run (no tombstones). */
static void dir_erase(struct ml_blocks *b, struct dirslot *d)
{
    size_t i = (size_t)(d - b->dir), j = i;
    for (;;) {
        j = (j + 1) & b->dmask;
        if (b->dir[j].key == 0) break;
        size_t home = home_of(b, b->dir[j].key);
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            b->dir[i] = b->dir[j];
            i = j;
        }
    }
    b->dir[i] = (struct dirslot){0, NULL};
    b->pages--;
}

/* The bucket of a page, or NULL; remembered for the next event. */
static struct bucket *bucket_of(struct ml_blocks *b, uint64_t key)
{
    if (key == b->last_key) return b->last;
    struct dirslot *d = dir_find(b, key);
    if (!d) return NULL;
    b->last_key = key;
    return b->last = d->b;
}

/* ---- buckets ------------------------------------------------------------ */

/* Index of the first block at or above addr (the fast answer first: an
 * address above every block of the page). */
static uint32_t lower_bound(const struct bucket *bk, uint64_t addr)
{
    uint32_t lo = 0, hi = bk->n;
    if (hi == 0 || bk->e[hi - 1].addr < addr) return hi;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (bk->e[mid].addr < addr) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static struct bucket *bucket_alloc(uint32_t cap)
{
    struct bucket *bk = malloc(sizeof *bk + (size_t)cap * sizeof bk->e[0]);
    if (bk) {
        bk->n = 0;
        bk->cap = cap;
    }
    return bk;
}

/* Room for one more block in the bucket of key (created when absent);
 * NULL when out of memory.  Buckets grow by half: a page of small blocks
 * ends with about 20% of its bucket unused. */
static struct bucket *room_in(struct ml_blocks *b, uint64_t key, struct bucket *bk)
{
    if (!bk) {
        if ((b->pages + 1) * 10 > (b->dmask + 1) * 7 && dir_grow(b) != 0) return NULL;
        if (!(bk = bucket_alloc(2))) return NULL;
        dir_place(b, key, bk);
        b->pages++;
    } else if (bk->n == bk->cap) {
        uint32_t cap = bk->cap + bk->cap / 2 + 1;
        struct bucket *grown = realloc(bk, sizeof *bk + (size_t)cap * sizeof bk->e[0]);
        if (!grown) return NULL;
        grown->cap = cap;
        dir_find(b, key)->b = grown;
        bk = grown;
    }
    b->last_key = key;
    return b->last = bk;
}

/* ---- the sorted form (ml_blocks_freeze) ------------------------------------ */

static int by_key(const void *x, const void *y)
{
    uint64_t a = ((const struct dirslot *)x)->key, c = ((const struct dirslot *)y)->key;
    return a < c ? -1 : a > c;
}

/* The directory's used slots by page, packed at its front; returns their number. */
static size_t pages_in_order(struct ml_blocks *b)
{
    size_t n = 0;
    for (size_t i = 0; i <= b->dmask; i++)
        if (b->dir[i].key) b->dir[n++] = b->dir[i];
    qsort(b->dir, n, sizeof *b->dir, by_key);
    return n;
}

/* Copy the blocks of the first n slots of an ordered directory to dst,
 * freeing each bucket after it when `consume`. */
static void concat(struct dirslot *pages, size_t n, struct ml_block *dst, int consume)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(dst, pages[i].b->e, pages[i].b->n * sizeof *dst);
        dst += pages[i].b->n;
        if (consume) free(pages[i].b);
    }
}

/* Make fresh (DIR_MIN empty slots) the directory, dropping the old one
 * whose buckets were consumed. */
static void dir_reset(struct ml_blocks *b, struct dirslot *fresh)
{
    free(b->dir);
    b->dir = fresh;
    b->dmask = DIR_MIN - 1;
    b->pages = 0;
    b->last_key = 0;
    b->last = NULL;
}

/* The live blocks by address in one array (the caller's), the buckets
 * freed and the directory left empty; NULL when out of memory (the table
 * is then unchanged). */
static struct ml_block *drain_sorted(struct ml_blocks *b)
{
    struct ml_block *arr = malloc((b->count ? b->count : 1) * sizeof *arr);
    struct dirslot *fresh = calloc(DIR_MIN, sizeof *fresh);
    if (!arr || !fresh) {
        free(arr);
        free(fresh);
        return NULL;
    }
    size_t n = pages_in_order(b);
    concat(b->dir, n, arr, 1);
    dir_reset(b, fresh);
    if (b->count >= TRIM_AFTER) malloc_trim(0);   /* the buckets' pages back to the system */
    return arr;
}

/* From the sorted array back to buckets, for an event after a freeze. */
static int thaw(struct ml_blocks *b)
{
    size_t i = 0;
    while (i < b->count) {
        uint64_t key = key_of(b->frozen[i].addr);
        size_t j = i;
        while (j < b->count && key_of(b->frozen[j].addr) == key) j++;
        if ((b->pages + 1) * 10 > (b->dmask + 1) * 7 && dir_grow(b) != 0) return -1;
        struct bucket *bk = bucket_alloc((uint32_t)(j - i) + 1);
        if (!bk) return -1;
        memcpy(bk->e, &b->frozen[i], (j - i) * sizeof bk->e[0]);
        bk->n = (uint32_t)(j - i);
        dir_place(b, key, bk);
        b->pages++;
        i = j;
    }
    free(b->frozen);
    b->frozen = NULL;
    b->sorted = 0;
    return 0;
}

/* ---- events ---------------------------------------------------------------- */

void ml_blocks_prefetch(const struct ml_blocks *b, uint64_t addr)
{
    uint64_t key = key_of(addr);
    if (b->sorted || key == b->last_key) return;
    __builtin_prefetch(&b->dir[home_of(b, key)], 0, 1);
}

int ml_blocks_alloc(struct ml_blocks *b, const struct ml_block *blk)
{
    if (blk->addr <= 1) return 0;   /* never a block */
    if (b->sorted && thaw(b) != 0) return -1;
    uint64_t key = key_of(blk->addr);
    struct bucket *bk = bucket_of(b, key);
    uint32_t at = bk ? lower_bound(bk, blk->addr) : 0;
    b->stats.calls++;
    b->stats.bytes += blk->size;
    if (bk && at < bk->n && bk->e[at].addr == blk->addr) {   /* reused without a free we saw */
        b->stats.live_bytes -= bk->e[at].size;
        bk->e[at] = *blk;
    } else {
        if (!(bk = room_in(b, key, bk))) return -1;
        memmove(&bk->e[at + 1], &bk->e[at], (bk->n - at) * sizeof bk->e[0]);
        bk->e[at] = *blk;
        bk->n++;
        b->count++;
        b->stats.live_blocks++;
    }
    b->stats.live_bytes += blk->size;
    if (b->stats.live_bytes > b->stats.peak_live_bytes)
        b->stats.peak_live_bytes = b->stats.live_bytes;
    return 0;
}

int ml_blocks_release(struct ml_blocks *b, uint64_t addr)
{
    if (addr == 0 || (b->sorted && thaw(b) != 0)) return 0;
    uint64_t key = key_of(addr);
    struct bucket *bk = bucket_of(b, key);
    uint32_t at = bk ? lower_bound(bk, addr) : 0;
    if (!bk || at == bk->n || bk->e[at].addr != addr) {
        b->stats.unknown_frees++;
        return 0;
    }
    b->stats.frees++;
    b->stats.live_blocks--;
    b->stats.live_bytes -= bk->e[at].size;
    b->count--;
    memmove(&bk->e[at], &bk->e[at + 1], (bk->n - at - 1) * sizeof bk->e[0]);
    if (--bk->n == 0) {
        dir_erase(b, dir_find(b, key));
        free(bk);
        b->last_key = 0;
        b->last = NULL;
    }
    return 1;
}

/* ---- views ------------------------------------------------------------------ */

static const struct ml_block *find_sorted(const struct ml_blocks *b, uint64_t addr)
{
    size_t lo = 0, hi = b->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->frozen[mid].addr < addr) lo = mid + 1;
        else hi = mid;
    }
    return lo < b->count && b->frozen[lo].addr == addr ? &b->frozen[lo] : NULL;
}

const struct ml_block *ml_blocks_find(const struct ml_blocks *b, uint64_t addr)
{
    if (addr <= 1) return NULL;
    if (b->sorted) return find_sorted(b, addr);
    const struct dirslot *d = dir_find(b, key_of(addr));
    if (!d) return NULL;
    uint32_t at = lower_bound(d->b, addr);
    return at < d->b->n && d->b->e[at].addr == addr ? &d->b->e[at] : NULL;
}

const struct ml_alloc_stats *ml_blocks_stats(const struct ml_blocks *b)
{
    return &b->stats;
}

struct ml_blocks *ml_blocks_clone(const struct ml_blocks *b)
{
    struct ml_blocks *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    *c = *b;
    c->last_key = 0;
    c->last = NULL;
    c->frozen = NULL;
    c->dir = calloc(b->dmask + 1, sizeof *c->dir);
    if (!c->dir) goto fail;
    if (b->sorted && !(c->frozen = malloc((b->count ? b->count : 1) * sizeof *c->frozen))) goto fail;
    if (b->sorted) memcpy(c->frozen, b->frozen, b->count * sizeof *c->frozen);
    for (size_t i = 0; i <= b->dmask; i++) {
        const struct bucket *bk = b->dir[i].b;
        if (!bk) continue;
        size_t bytes = sizeof *bk + (size_t)bk->cap * sizeof bk->e[0];
        if (!(c->dir[i].b = malloc(bytes))) goto fail;
        memcpy(c->dir[i].b, bk, bytes);
        c->dir[i].key = b->dir[i].key;
    }
    return c;
fail:
    ml_blocks_free(c);
    return NULL;
}

void ml_blocks_each(const struct ml_blocks *b, void (*fn)(void *ctx, const struct ml_block *blk),
                    void *ctx)
{
    for (size_t i = 0; b->sorted && i < b->count; i++) fn(ctx, &b->frozen[i]);
    for (size_t i = 0; i <= b->dmask; i++)
        for (uint32_t k = 0; b->dir[i].b && k < b->dir[i].b->n; k++) fn(ctx, &b->dir[i].b->e[k]);
}

void ml_blocks_map_stacks(struct ml_blocks *b, uint32_t (*map)(void *ctx, uint32_t id), void *ctx)
{
    for (size_t i = 0; b->sorted && i < b->count; i++)
        b->frozen[i].stack = map(ctx, b->frozen[i].stack);
    for (size_t i = 0; i <= b->dmask; i++)
        for (uint32_t k = 0; b->dir[i].b && k < b->dir[i].b->n; k++)
            b->dir[i].b->e[k].stack = map(ctx, b->dir[i].b->e[k].stack);
}

long ml_blocks_sorted(const struct ml_blocks *b, struct ml_block **out)
{
    struct ml_block *arr = malloc((b->count ? b->count : 1) * sizeof *arr);
    if (!arr) return -1;
    if (b->sorted) {
        memcpy(arr, b->frozen, b->count * sizeof *arr);
    } else {
        struct dirslot *pages = malloc((b->pages ? b->pages : 1) * sizeof *pages);
        if (!pages) {
            free(arr);
            return -1;
        }
        size_t n = 0;
        for (size_t i = 0; i <= b->dmask; i++)
            if (b->dir[i].key) pages[n++] = b->dir[i];
        qsort(pages, n, sizeof *pages, by_key);
        concat(pages, n, arr, 0);
        free(pages);
    }
    *out = arr;
    return (long)b->count;
}

void ml_blocks_freeze(struct ml_blocks *b)
{
    if (b->sorted) return;
    struct ml_block *arr = drain_sorted(b);
    if (!arr) return;            /* out of memory: stays a table, which answers the same */
    b->frozen = arr;
    b->sorted = 1;
}

const struct ml_block *ml_blocks_frozen(const struct ml_blocks *b, size_t *n)
{
    *n = b->sorted ? b->count : 0;
    return b->sorted ? b->frozen : NULL;
}

long ml_blocks_take_sorted(struct ml_blocks *b, struct ml_block **out)
{
    struct ml_block *arr = b->sorted ? b->frozen : drain_sorted(b);
    if (!arr) return -1;
    long n = (long)b->count;
    b->frozen = NULL;
    b->sorted = 0;
    b->count = 0;
    *out = arr;
    return n;
}

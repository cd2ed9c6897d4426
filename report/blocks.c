/* blocks.c - the live-block table: open addressing on the block address,
 * linear probing, backward-shift deletion (no tombstones).
 *
 * The table grows incrementally: a full table becomes the "old" one, read
 * only, and every later insert or delete moves a few of its slots into the
 * new, twice larger table.  A grow at a few million blocks would otherwise
 * stop the drainer for tens of milliseconds, long enough for the program's
 * event rings to fill and the program to wait.  An entry taken out of the
 * old table becomes a tombstone there (lookups probe past it).
 *
 * Owns the block slots and the allocation statistics of one process.
 */
#include "blocks.h"

#include <stdlib.h>
#include <string.h>

#define TOMB 1u              /* an old-table slot whose entry has left */
#define MIGRATE_STEP 8       /* old slots moved per insert or delete */

struct ml_blocks {
    struct ml_block *slots;   /* addr == 0 marks an empty slot */
    size_t mask;              /* capacity - 1, capacity a power of two */
    size_t count;             /* live blocks, in both tables */
    struct ml_block *old;     /* the table being emptied, or NULL */
    size_t oldmask, moved;    /* its capacity - 1; slots below moved are done */
    int sorted;               /* ml_blocks_freeze: slots holds the count live blocks by
                                 address (mask = count - 1, or 0 and one empty slot) */
    struct ml_alloc_stats stats;
};

static size_t hash_of(uint64_t addr)
{
    uint64_t h = (addr >> 4) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29));
}

static size_t slot_of(const struct ml_blocks *b, uint64_t addr)
{
    return hash_of(addr) & b->mask;
}

struct ml_blocks *ml_blocks_new(void)
{
    struct ml_blocks *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->mask = 1023;
    b->slots = calloc(b->mask + 1, sizeof *b->slots);
    if (!b->slots) {
        free(b);
        return NULL;
    }
    return b;
}

void ml_blocks_free(struct ml_blocks *b)
{
    if (!b) return;
    free(b->slots);
    free(b->old);
    free(b);
}

void ml_blocks_prefetch(const struct ml_blocks *b, uint64_t addr)
{
    if (b->sorted) return;
    __builtin_prefetch(&b->slots[slot_of(b, addr)], 1, 1);
    if (b->old) __builtin_prefetch(&b->old[hash_of(addr) & b->oldmask], 0, 1);
}

static struct ml_block *lookup_new(const struct ml_blocks *b, uint64_t addr)
{
    for (size_t i = slot_of(b, addr);; i = (i + 1) & b->mask) {
        struct ml_block *s = &b->slots[i];
        if (s->addr == addr) return s;
        if (s->addr == 0) return NULL;
    }
}

static struct ml_block *lookup_old(const struct ml_blocks *b, uint64_t addr)
{
    if (!b->old) return NULL;
    for (size_t i = hash_of(addr) & b->oldmask;; i = (i + 1) & b->oldmask) {
        struct ml_block *s = &b->old[i];
        if (s->addr == addr) return s;
        if (s->addr == 0) return NULL;
    }
}

static void place(struct ml_blocks *b, const struct ml_block *blk)
{
    size_t i = slot_of(b, blk->addr);
    while (b->slots[i].addr != 0) i = (i + 1) & b->mask;
    b->slots[i] = *blk;
}

/* Move up to k slots of the old table into the new one. */
static void migrate(struct ml_blocks *b, size_t k)
{
    if (!b->old) return;
    for (; k && b->moved <= b->oldmask; k--, b->moved++) {
        struct ml_block *s = &b->old[b->moved];
        if (s->addr <= TOMB) continue;   /* empty slots stay empty: they end probe runs */
        place(b, s);
        s->addr = TOMB;
    }
    if (b->moved > b->oldmask) {
        free(b->old);
        b->old = NULL;
    }
}

/* Start moving into a table twice as large; the current one must be done
 * moving first.  calloc'ed: fresh zero pages, faulted in as the table
 * fills rather than all at once while the program waits. */
static int grow(struct ml_blocks *b)
{
    migrate(b, (size_t)-1);
    struct ml_block *slots = calloc((b->mask + 1) * 2, sizeof *slots);
    if (!slots) return -1;
    b->old = b->slots;
    b->oldmask = b->mask;
    b->moved = 0;
    b->slots = slots;
    b->mask = b->mask * 2 + 1;
    return 0;
}

/* Back from sorted to a hash table, for an event after ml_blocks_freeze. */
static int thaw(struct ml_blocks *b)
{
    size_t cap = 1024;
    while ((b->count + 1) * 10 > cap * 7) cap *= 2;
    struct ml_block *sorted = b->slots, *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    b->slots = slots;
    b->mask = cap - 1;
    b->sorted = 0;
    for (size_t i = 0; i < b->count; i++) place(b, &sorted[i]);
    free(sorted);
    return 0;
}

int ml_blocks_alloc(struct ml_blocks *b, const struct ml_block *blk)
{
    if (blk->addr <= TOMB) return 0;   /* never a block: NULL (or the tombstone mark) */
    if (b->sorted && thaw(b) != 0) return -1;
    migrate(b, MIGRATE_STEP);
    struct ml_block *s = lookup_new(b, blk->addr);
    b->stats.calls++;
    b->stats.bytes += blk->size;
    if (s) {                       /* address reused without a free we saw */
        b->stats.live_bytes -= s->size;
        *s = *blk;
    } else if ((s = lookup_old(b, blk->addr)) != NULL) {
        b->stats.live_bytes -= s->size;
        s->addr = TOMB;
        place(b, blk);
    } else {
        if ((b->count + 1) * 10 > (b->mask + 1) * 7 && grow(b) != 0) return -1;
        place(b, blk);
        b->count++;
        b->stats.live_blocks++;
    }
    b->stats.live_bytes += blk->size;
    if (b->stats.live_bytes > b->stats.peak_live_bytes)
        b->stats.peak_live_bytes = b->stats.live_bytes;
    return 0;
}

/* Remove slot i of the new table, shifting back the entries of its probe run. */
static void erase(struct ml_blocks *b, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & b->mask;
        if (b->slots[j].addr == 0) break;
        size_t home = slot_of(b, b->slots[j].addr);
        /* Move j to i when its home does not lie cyclically in (i, j]. */
        int stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            b->slots[i] = b->slots[j];
            i = j;
        }
    }
    memset(&b->slots[i], 0, sizeof b->slots[i]);
}

int ml_blocks_release(struct ml_blocks *b, uint64_t addr)
{
    if (addr == 0 || (b->sorted && thaw(b) != 0)) return 0;
    migrate(b, MIGRATE_STEP);
    struct ml_block *s = lookup_new(b, addr), *o = s ? NULL : lookup_old(b, addr);
    if (!s && !o) {
        b->stats.unknown_frees++;
        return 0;
    }
    b->stats.frees++;
    b->stats.live_blocks--;
    b->stats.live_bytes -= s ? s->size : o->size;
    b->count--;
    if (s) erase(b, (size_t)(s - b->slots));
    else o->addr = TOMB;
    return 1;
}

static const struct ml_block *find_sorted(const struct ml_blocks *b, uint64_t addr)
{
    size_t lo = 0, hi = b->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->slots[mid].addr < addr) lo = mid + 1;
        else hi = mid;
    }
    return lo < b->count && b->slots[lo].addr == addr ? &b->slots[lo] : NULL;
}

const struct ml_block *ml_blocks_find(const struct ml_blocks *b, uint64_t addr)
{
    if (addr <= TOMB) return NULL;
    if (b->sorted) return find_sorted(b, addr);
    const struct ml_block *s = lookup_new(b, addr);
    return s ? s : lookup_old(b, addr);
}

const struct ml_alloc_stats *ml_blocks_stats(const struct ml_blocks *b)
{
    return &b->stats;
}

static struct ml_block *copy_slots(const struct ml_block *slots, size_t mask)
{
    struct ml_block *c = malloc((mask + 1) * sizeof *c);
    if (c) memcpy(c, slots, (mask + 1) * sizeof *c);
    return c;
}

struct ml_blocks *ml_blocks_clone(const struct ml_blocks *b)
{
    struct ml_blocks *c = malloc(sizeof *c);
    if (!c) return NULL;
    *c = *b;
    c->slots = copy_slots(b->slots, b->mask);
    c->old = b->old ? copy_slots(b->old, b->oldmask) : NULL;
    if (!c->slots || (b->old && !c->old)) {
        ml_blocks_free(c);
        return NULL;
    }
    return c;
}

void ml_blocks_each(const struct ml_blocks *b, void (*fn)(void *ctx, const struct ml_block *blk),
                    void *ctx)
{
    for (size_t i = 0; i <= b->mask; i++)
        if (b->slots[i].addr) fn(ctx, &b->slots[i]);
    for (size_t i = 0; b->old && i <= b->oldmask; i++)
        if (b->old[i].addr > TOMB) fn(ctx, &b->old[i]);
}

void ml_blocks_map_stacks(struct ml_blocks *b, uint32_t (*map)(void *ctx, uint32_t id), void *ctx)
{
    for (size_t i = 0; i <= b->mask; i++)
        if (b->slots[i].addr) b->slots[i].stack = map(ctx, b->slots[i].stack);
    for (size_t i = 0; b->old && i <= b->oldmask; i++)
        if (b->old[i].addr > TOMB) b->old[i].stack = map(ctx, b->old[i].stack);
}

#define DIGIT_BITS 8
#define DIGITS (1u << DIGIT_BITS)
#define SMALL_SORT 32           /* runs this short are sorted by insertion */

static void insertion_by_addr(struct ml_block *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct ml_block v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1].addr > v.addr; j--) a[j] = a[j - 1];
        a[j] = v;
    }
}

static unsigned digit_of(uint64_t addr, int shift)
{
    uint64_t d = shift >= 0 ? addr >> shift : addr << -shift;
    return (unsigned)(d & (DIGITS - 1));
}

/* Sort n blocks by address in place: MSD radix sort, 8 bits a level from
 * the highest bit in which the addresses differ, each level permuting its
 * run by cycles (no second array: at ten million blocks that would be
 * 320 MiB more).  Bits below low are the same in every address. */
static void radix_in_place(struct ml_block *a, size_t n, int shift, int low)
{
    if (n < SMALL_SORT) {
        insertion_by_addr(a, n);
        return;
    }
    size_t count[DIGITS] = {0}, next[DIGITS], end[DIGITS];
    for (size_t i = 0; i < n; i++) count[digit_of(a[i].addr, shift)]++;
    for (size_t d = 0, sum = 0; d < DIGITS; d++) {
        next[d] = sum;
        sum += count[d];
        end[d] = sum;
    }
    for (unsigned d = 0; d < DIGITS; d++)
        while (next[d] < end[d]) {
            struct ml_block v = a[next[d]];
            for (unsigned e = digit_of(v.addr, shift); e != d; e = digit_of(v.addr, shift)) {
                struct ml_block t = a[next[e]];
                a[next[e]++] = v;
                v = t;
            }
            a[next[d]++] = v;
        }
    if (shift <= low) return;        /* this digit held the last bits that differ */
    for (unsigned d = 0; d < DIGITS; d++)
        if (count[d] > 1) radix_in_place(a + end[d] - count[d], count[d], shift - DIGIT_BITS, low);
}

static void sort_by_addr(struct ml_block *a, size_t n)
{
    uint64_t differ = 0;
    for (size_t i = 1; i < n; i++) differ |= a[i].addr ^ a[0].addr;
    if (!differ) return;
    int high = 63 - __builtin_clzll(differ), low = __builtin_ctzll(differ);
    radix_in_place(a, n, high - (DIGIT_BITS - 1), low);
}

/* Copy the live blocks of both tables to the front of dst (which may be
 * the new table itself: its entries only move down). */
static size_t gather(const struct ml_blocks *b, struct ml_block *dst)
{
    size_t n = 0;
    for (size_t i = 0; i <= b->mask; i++)
        if (b->slots[i].addr) dst[n++] = b->slots[i];
    for (size_t i = 0; b->old && i <= b->oldmask; i++)
        if (b->old[i].addr > TOMB) dst[n++] = b->old[i];
    return n;
}

long ml_blocks_sorted(const struct ml_blocks *b, struct ml_block **out)
{
    struct ml_block *arr = malloc((b->count ? b->count : 1) * sizeof *arr);
    if (!arr) return -1;
    size_t n = gather(b, arr);
    if (!b->sorted) sort_by_addr(arr, n);
    *out = arr;
    return (long)n;
}

void ml_blocks_freeze(struct ml_blocks *b)
{
    if (b->sorted) return;
    size_t n = gather(b, b->slots);     /* the new table has room: see take_sorted */
    sort_by_addr(b->slots, n);
    if (n == 0) memset(&b->slots[0], 0, sizeof b->slots[0]);
    struct ml_block *fit = realloc(b->slots, (n ? n : 1) * sizeof *fit);
    if (fit) b->slots = fit;
    free(b->old);
    b->old = NULL;
    b->mask = n ? n - 1 : 0;
    b->sorted = 1;
}

long ml_blocks_take_sorted(struct ml_blocks *b, struct ml_block **out)
{
    struct ml_block *fresh = calloc(1024, sizeof *fresh);
    if (!fresh) return -1;
    /* The new table has room for every block: it is at least twice the old
     * one, and a grow starts before the old one is 70% full. */
    size_t n = gather(b, b->slots);
    if (!b->sorted) sort_by_addr(b->slots, n);
    struct ml_block *arr = realloc(b->slots, (n ? n : 1) * sizeof *arr);
    *out = arr ? arr : b->slots;
    free(b->old);
    b->old = NULL;
    b->slots = fresh;
    b->mask = 1023;
    b->count = 0;
    b->sorted = 0;
    return (long)n;
}

/* heapread.c - the heaps that hold live blocks, read in pieces (see heapread.h). */
#include "heapread.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "heapwalk.h"
#include "reach.h"

#define PIECE (1ul << 20)
#define AFTER 32u                 /* bytes read past a piece: the first words of a block
                                     whose header ends it */
#define IS_MMAPPED 2u
#define SIZE_BITS 7u
#define ARENA_ALIGN ML_HEAP_MAX_SIZE   /* arena heaps start 64 MiB-aligned */
#define ARENA_KEEP (64ul << 10)   /* an arena heap's first bytes, kept whole: heap_info,
                                     malloc_state, its first chunks */
#define SPLIT_MIN (4 * PIECE)     /* a region this large is read as two parts (fraghole.c's
                                     heap is, so test_frag checks a split walk) */

void ml_read_remote(int pid, unsigned char *dst, uint64_t src, uint64_t len)
{
    struct iovec local = {dst, len}, remote = {(void *)src, len};
    ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (got == (ssize_t)len) return;
    for (uint64_t off = got > 0 ? (uint64_t)got & ~4095ul : 0; off < len;) {
        uint64_t page_end = ((src + off) | 4095ul) + 1, n = page_end - (src + off);
        if (n > len - off) n = len - off;
        struct iovec l = {dst + off, n}, rm = {(void *)(src + off), n};
        process_vm_readv(pid, &l, 1, &rm, 1, 0);
        off += n;
    }
}

/* ---- what is read: parts of regions ------------------------------------------ */

/* One part of a sparse region, read by one thread: [start, end).  Its
 * words come out sorted; the parts of a region are joined in order. */
struct part {
    struct ml_region *r;
    uint64_t start, end;
    uint64_t walk;            /* the brk heap's first chunk in it; 0: no chunk walk */
    size_t k;                 /* the first block whose header lies in it */
    struct ml_word *words;
    size_t nwords, wcap;
    uint64_t scanned;
    int rc;
};

struct job {
    int pid;
    const struct ml_snapshot *snap;
    struct ml_heads *heads;
    const struct ml_block *blocks;
    size_t n;
    uint64_t lo, hi;              /* every live block lies in [lo, hi) */
    uint64_t file_lo, file_hi;    /* the file mappings lie in [file_lo, file_hi) */
    struct part *parts;
    size_t nparts;
    size_t next;                  /* the next part to take (atomic) */
};

/* One thread's buffer: [b0, b1) of the region at hand, and the addresses
 * of the current piece to keep whatever their value. */
struct reader {
    const struct job *job;
    unsigned char *buf;
    uint64_t b0, b1;
    uint64_t *extra;
    size_t nextra, extracap;
};

static uint64_t buf_word(const struct reader *rd, uint64_t addr)
{
    uint64_t v = 0;
    if (addr >= rd->b0 && addr + 8 <= rd->b1) memcpy(&v, rd->buf + (addr - rd->b0), 8);
    return v;
}

static int add_extra(struct reader *rd, uint64_t addr)
{
    if (rd->nextra == rd->extracap) {
        size_t cap = rd->extracap ? rd->extracap * 2 : 1024;
        uint64_t *v = realloc(rd->extra, cap * sizeof *v);
        if (!v) return -ENOMEM;
        rd->extra = v;
        rd->extracap = cap;
    }
    rd->extra[rd->nextra++] = addr;
    return 0;
}

static int cmp_addr(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The live blocks from *k on whose header starts below a1: their header
 * word and shape; an mmapped chunk's prev_size is kept. */
static int note_heads(struct reader *rd, const struct part *p, uint64_t a1, size_t *k)
{
    const struct job *j = rd->job;
    for (; *k < j->n && j->blocks[*k].addr < a1 + 16 && j->blocks[*k].addr < p->r->end; (*k)++) {
        const struct ml_block *b = &j->blocks[*k];
        uint64_t sw = b->addr - 8 >= p->r->start ? buf_word(rd, b->addr - 8) : 0;
        uint64_t w0 = b->size >= 8 ? buf_word(rd, b->addr) : 0;
        uint64_t w1 = b->size >= 16 ? buf_word(rd, b->addr + 8) : 0;
        j->heads->size_word[*k] = sw;
        j->heads->shape[*k] = (unsigned char)(ml_reach_shape(j->snap, b->size, w0, w1) | ML_SHAPE_KEPT);
        if ((sw & IS_MMAPPED) && b->addr - 16 >= p->r->start && add_extra(rd, b->addr - 16))
            return -ENOMEM;
    }
    return 0;
}

/* The brk heap's chunk walk (heapwalk.c's) through chunks starting below
 * a1: the headers of chunks that are not live blocks are kept.  *c: the
 * next chunk, 0 when the walk has ended; *k: a cursor over the blocks. */
static int walk_piece(struct reader *rd, const struct part *p, uint64_t a1, uint64_t *c, size_t *k)
{
    const struct job *j = rd->job;
    while (*c && *c < a1 && *c + 16 <= p->r->end) {
        uint64_t sz = buf_word(rd, *c + 8) & ~(uint64_t)SIZE_BITS, user = *c + 16;
        while (*k < j->n && j->blocks[*k].addr < user) (*k)++;
        if (!(*k < j->n && j->blocks[*k].addr == user) && (add_extra(rd, *c) || add_extra(rd, *c + 8)))
            return -ENOMEM;
        *c = sz < 32 || *c + sz > p->r->end ? 0 : *c + sz;
    }
    return 0;
}

static int keep_word(struct part *p, uint64_t addr, uint64_t v)
{
    if (p->nwords == p->wcap) {
        size_t cap = p->wcap ? p->wcap * 2 : 1024;
        struct ml_word *w = realloc(p->words, cap * sizeof *w);
        if (!w) return -ENOMEM;
        p->words = w;
        p->wcap = cap;
    }
    p->words[p->nwords++] = (struct ml_word){addr, v};
    return 0;
}

/* An arena heap's first bytes (heapread.h): kept whole. */
static int arena_head(const struct part *p, uint64_t a)
{
    return p->r->kind != ML_RK_HEAP && (a & (ARENA_ALIGN - 1)) < ARENA_KEEP;
}

/* filter_piece when no block is live: no word can point at one, so only
 * the brk heap's chunk headers (the extra addresses) and the arena heads
 * are kept, without looking at the rest. */
static int filter_no_blocks(struct reader *rd, struct part *p, uint64_t a0, uint64_t a1)
{
    if (p->r->kind == ML_RK_HEAP) {
        for (size_t e = 0; e < rd->nextra; e++) {
            uint64_t a = rd->extra[e];
            if ((e && a == rd->extra[e - 1]) || a < a0 || a + 8 > a1) continue;
            if (keep_word(p, a, buf_word(rd, a))) return -ENOMEM;
        }
        return 0;
    }
    for (uint64_t base = a0 & ~(ARENA_ALIGN - 1); base < a1; base += ARENA_ALIGN)
        for (uint64_t a = base > a0 ? base : (a0 + 7) & ~7ull; a + 8 <= a1 && a < base + ARENA_KEEP; a += 8)
            if (keep_word(p, a, buf_word(rd, a))) return -ENOMEM;
    return 0;
}

/* Keep the words of [a0, a1) the analysis may read (heapread.h). */
static int filter_piece(struct reader *rd, struct part *p, uint64_t a0, uint64_t a1)
{
    const struct job *j = rd->job;
    size_t e = 0;
    qsort(rd->extra, rd->nextra, sizeof *rd->extra, cmp_addr);
    if (j->n == 0) return filter_no_blocks(rd, p, a0, a1);
    for (uint64_t a = (a0 + 7) & ~7ull; a + 8 <= a1; a += 8) {
        uint64_t v = buf_word(rd, a);
        while (e < rd->nextra && rd->extra[e] < a) e++;
        int extra = e < rd->nextra && rd->extra[e] == a;
        int ptr = v - j->lo < j->hi - j->lo && v >= 4096;
        int vt = !ptr && v - j->file_lo < j->file_hi - j->file_lo && ml_reach_may_be_vtable(j->snap, v);
        if ((ptr || vt || extra || arena_head(p, a)) && keep_word(p, a, v)) return -ENOMEM;
    }
    return 0;
}

static int read_part(struct reader *rd, struct part *p)
{
    const struct ml_region *r = p->r;
    size_t k = p->k, kw = p->k;
    uint64_t c = p->walk;
    for (uint64_t a0 = p->start; a0 < p->end; a0 += PIECE) {
        uint64_t a1 = p->end - a0 < PIECE ? p->end : a0 + PIECE;
        rd->b0 = a0;
        rd->b1 = r->end - a1 < AFTER ? r->end : a1 + AFTER;
        memset(rd->buf, 0, rd->b1 - rd->b0);      /* pages never written read as zeros */
        if (!ml_region_untouched(r, a0 - r->start, rd->b1 - a0)) {
            ml_read_remote(rd->job->pid, rd->buf, rd->b0, rd->b1 - rd->b0);
            p->scanned += a1 - a0;
        }
        rd->nextra = 0;
        int rc = note_heads(rd, p, a1, &k);
        if (rc == 0) rc = walk_piece(rd, p, a1, &c, &kw);
        if (rc == 0) rc = filter_piece(rd, p, a0, a1);
        if (rc) return rc;
    }
    return 0;
}

static void *reader_main(void *arg)
{
    struct job *j = arg;
    struct reader rd = {.job = j, .buf = malloc(PIECE + AFTER)};
    for (;;) {
        size_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= j->nparts) break;
        j->parts[i].rc = rd.buf ? read_part(&rd, &j->parts[i]) : -ENOMEM;
    }
    free(rd.buf);
    free(rd.extra);
    return NULL;
}

/* ---- planning and joining ------------------------------------------------------- */

int ml_heapread_prepare(struct ml_snapshot *snap, const struct ml_blocks *blocks)
{
    size_t n = 0;
    const struct ml_block *sorted = blocks ? ml_blocks_frozen(blocks, &n) : NULL;
    if (!sorted) return -ENOENT;
    uint64_t *size_word = malloc((n ? n : 1) * sizeof *size_word);
    unsigned char *shape = calloc(n ? n : 1, 1);
    if (!size_word || !shape) {
        free(size_word);
        free(shape);
        return -ENOMEM;
    }
    snap->heads = (struct ml_heads){sorted, n, size_word, shape};
    return 0;
}

int ml_heapread_holds_block(const struct ml_snapshot *snap, const struct ml_region *r)
{
    const struct ml_heads *h = &snap->heads;
    size_t k = h->blocks ? ml_block_first_at(h->blocks, h->n, r->start) : 0;
    return h->blocks && k < h->n && h->blocks[k].addr < r->end;
}

/* Cut the sparse regions into parts: a large one in two, at the header of
 * a live block (where the brk heap's chunk walk passes too), so that each
 * part starts its walk at a known chunk.  Returns the number of parts. */
static size_t plan_parts(struct job *j, struct ml_snapshot *snap)
{
    size_t np = 0;
    for (size_t i = 0; i < snap->nregions; i++) {
        struct ml_region *r = &snap->regions[i];
        if (!r->sparse) continue;
        uint64_t walk = r->kind == ML_RK_HEAP ? (r->start + 15) & ~15ull : 0, split = 0;
        size_t k0 = ml_block_first_at(j->blocks, j->n, r->start), k1 = k0;
        if (r->end - r->start >= SPLIT_MIN) {
            k1 = ml_block_first_at(j->blocks, j->n, r->start + (r->end - r->start) / 2 + 16);
            if (k1 < j->n && j->blocks[k1].addr < r->end) split = j->blocks[k1].addr - 16;
        }
        if (j->parts)
            j->parts[np] = (struct part){.r = r, .start = r->start, .end = split ? split : r->end,
                                         .walk = walk, .k = k0};
        np++;
        if (!split) continue;
        if (j->parts)
            j->parts[np] = (struct part){.r = r, .start = split, .end = r->end,
                                         .walk = walk ? split : 0, .k = k1};
        np++;
    }
    return np;
}

/* The words of the parts of each region, joined in order into the region. */
static void join_parts(struct job *j, struct ml_snapshot *snap)
{
    for (size_t i = 0; i < j->nparts;) {
        struct ml_region *r = j->parts[i].r;
        size_t e = i, total = 0;
        int rc = 0;
        for (; e < j->nparts && j->parts[e].r == r; e++) {
            total += j->parts[e].nwords;
            rc |= j->parts[e].rc;
            snap->bytes_scanned += j->parts[e].scanned;
        }
        r->words = rc ? NULL : malloc((total ? total : 1) * sizeof *r->words);
        r->nwords = 0;
        for (; i < e; i++) {
            if (r->words) memcpy(r->words + r->nwords, j->parts[i].words,
                                 j->parts[i].nwords * sizeof *r->words);
            if (r->words) r->nwords += j->parts[i].nwords;
            free(j->parts[i].words);
        }
        if (!r->words) r->sparse = 0;       /* no memory: left to the caller's fallback */
    }
}

static void file_span(const struct ml_snapshot *snap, uint64_t *lo, uint64_t *hi)
{
    *lo = UINT64_MAX;
    *hi = 0;
    for (size_t i = 0; i < snap->nregions; i++) {
        const struct ml_region *r = &snap->regions[i];
        if (r->path[0] != '/') continue;
        if (r->start < *lo) *lo = r->start;
        if (r->end > *hi) *hi = r->end;
    }
    if (*lo > *hi) *lo = *hi = 0;
}

void ml_heapread_run(int pid, struct ml_snapshot *snap)
{
    const struct ml_heads *h = &snap->heads;
    if (!h->blocks) return;
    struct job j = {.pid = pid, .snap = snap, .heads = &snap->heads, .blocks = h->blocks, .n = h->n};
    if (h->n) {                       /* no block: no word can point at one, nor a vtable matter */
        j.lo = h->blocks[0].addr;
        j.hi = h->blocks[h->n - 1].addr + (h->blocks[h->n - 1].size ? h->blocks[h->n - 1].size : 1);
        file_span(snap, &j.file_lo, &j.file_hi);
    }
    j.nparts = plan_parts(&j, snap);
    if (!j.nparts) return;
    if (!(j.parts = calloc(j.nparts, sizeof *j.parts))) {
        for (size_t i = 0; i < snap->nregions; i++) snap->regions[i].sparse = 0;
        return;
    }
    plan_parts(&j, snap);
    pthread_t helper;
    int two = j.nparts > 1 && pthread_create(&helper, NULL, reader_main, &j) == 0;
    reader_main(&j);
    if (two) pthread_join(helper, NULL);
    join_parts(&j, snap);
    free(j.parts);
}

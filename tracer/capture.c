/* capture.c - exit snapshot of one stopped process (see capture.h). */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include "heapread.h"

char *ml_read_proc_file(int pid, const char *name, size_t *lenp)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) { free(buf); buf = NULL; break; }
            buf = p;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        len += (size_t)got;
    }
    close(fd);
    if (buf) buf[len] = '\0';
    if (lenp) *lenp = len;
    return buf;
}

/* Whether the shim's own file maps r (its data holds the lists of its own
 * mappings and descriptors, read at exit). */
static int is_shim(const struct ml_region *r)
{
    const char *base = strrchr(r->path, '/');
    return base && strcmp(base + 1, "libmemlens.so") == 0;
}

/* Whether the exit analysis needs the bytes of this region.  Reachability
 * reads every root, but only when a block is live (roots: there is one);
 * the heap analysis reads the heaps (the brk heap, anonymous mappings, a
 * bss an arena may have merged into) and the shim's data is read always. */
static int wanted(const struct ml_snapshot *snap, size_t i, int roots)
{
    const struct ml_region *r = &snap->regions[i];
    if (r->perms[0] != 'r' || r->kind == ML_RK_SESSION || r->kind == ML_RK_VVAR ||
        r->kind == ML_RK_VSYSCALL || r->kind == ML_RK_VDSO)
        return 0;
    if (!roots && r->kind != ML_RK_HEAP && r->kind != ML_RK_MMAP_ANON && r->kind != ML_RK_BSS &&
        !is_shim(r))
        return 0;
    if (strncmp(r->path, "/dev/", 5) == 0 && strncmp(r->path, "/dev/shm/", 9) != 0 &&
        strcmp(r->path, "/dev/zero") != 0)
        return 0;                               /* device memory may have side effects */
    if (r->perms[1] == 'w') return 1;
    /* read-only: only loaded objects' data (vtables live there) */
    return r->kind == ML_RK_RODATA;
}

/* Capture copies in pieces, on two threads: most of its time is the kernel
 * giving the copy fresh pages, and the two threads take those faults in
 * parallel.  A piece that cannot be read whole is read page by page;
 * unreadable pages stay 0. */
#define PIECE (1ul << 20)

struct piece {
    unsigned char *dst;
    uint64_t src, len;
};

struct pieces {
    int pid;
    struct piece *v;
    size_t n;
    size_t next;          /* next piece to take (atomic) */
};

static void read_piece(int pid, const struct piece *p)
{
    ml_read_remote(pid, p->dst, p->src, p->len);
}

static void *read_pieces(void *arg)
{
    struct pieces *ps = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&ps->next, 1, __ATOMIC_RELAXED);
        if (i >= ps->n) return NULL;
        read_piece(ps->pid, &ps->v[i]);
    }
}

/* Give each wanted region a buffer and cut it into pieces; -ENOMEM.
 * Regions already scanned (words kept) are not copied. */
static int plan_pieces(struct ml_snapshot *snap, struct pieces *ps, int roots)
{
    size_t cap = 0;
    for (size_t i = 0; i < snap->nregions; i++)
        if (wanted(snap, i, roots) && !snap->regions[i].words && !snap->regions[i].sparse)
            cap += (snap->regions[i].end - snap->regions[i].start + PIECE - 1) / PIECE;
    ps->v = malloc((cap ? cap : 1) * sizeof *ps->v);
    if (!ps->v) return -ENOMEM;
    for (size_t i = 0; i < snap->nregions; i++) {
        struct ml_region *r = &snap->regions[i];
        uint64_t len = r->end - r->start;
        if (!wanted(snap, i, roots) || r->words || r->sparse) continue;
        if (!(r->data = calloc(1, len ? len : 1))) continue;   /* see scan_uncopied */
        for (uint64_t off = 0; off < len; off += PIECE) {
            uint64_t n = len - off < PIECE ? len - off : PIECE;
            if (ml_region_untouched(r, off, n)) continue;   /* never written: zeros */
            ps->v[ps->n++] = (struct piece){r->data + off, r->start + off, n};
            snap->bytes_read += n;
        }
    }
    return 0;
}

static int read_regions(int pid, struct ml_snapshot *snap, int roots)
{
    struct pieces ps = {.pid = pid};
    if (plan_pieces(snap, &ps, roots) != 0) return -ENOMEM;
    pthread_t helper;
    int two = ps.n > 1 && pthread_create(&helper, NULL, read_pieces, &ps) == 0;
    read_pieces(&ps);
    if (two) pthread_join(helper, NULL);
    free(ps.v);
    return 0;
}

/* Rss and Swap of each region from /proc/PID/smaps. */
static void read_smaps(int pid, struct ml_snapshot *snap)
{
    char *text = ml_read_proc_file(pid, "smaps", NULL);
    struct ml_region *cur = NULL;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        unsigned long long start, end, kb;
        /* sscanf measures the whole string it is given: hand it one line's
         * start, not the rest of a text of thousands of lines */
        char head[64];
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len >= sizeof head) len = sizeof head - 1;
        memcpy(head, line, len);
        head[len] = '\0';
        char *sp = strchr(head, ' ');
        if (sscanf(head, "%llx-%llx ", &start, &end) == 2 && sp && strchr(head, '-') < sp)
            cur = ml_snapshot_find(snap, start);
        else if (cur && sscanf(head, "Rss: %llu kB", &kb) == 1)
            cur->resident = kb * 1024;
        else if (cur && sscanf(head, "Swap: %llu kB", &kb) == 1)
            cur->swapped = kb * 1024;
        line = nl ? nl + 1 : NULL;
    }
    free(text);
}

/* Page presence of the regions where heap blocks or the program's own
 * mappings can live (brk heap, private anonymous read-write mappings, and
 * bss: the kernel merges an anonymous mapping placed right after a
 * library's bss into it), from /proc/PID/pagemap, read in batches.  Up to
 * 64 GiB a region (a byte a page kept); larger ones stay unknown. */
#define PAGEMAP_BATCH 65536u
#define PAGEMAP_MAX_PAGES (1u << 24)

static int read_presence(int fd, struct ml_region *r, size_t npages, uint64_t *ents)
{
    for (size_t done = 0; done < npages;) {
        size_t n = npages - done < PAGEMAP_BATCH ? npages - done : PAGEMAP_BATCH;
        off_t at = (off_t)((r->start / ML_PAGE_SIZE + done) * 8);
        if (pread(fd, ents, n * 8, at) != (ssize_t)(n * 8)) return -1;
        for (size_t k = 0; k < n; k++)
            r->pages[done + k] = (unsigned char)(((ents[k] >> 63) & 1) ? ML_PAGE_PRESENT
                                                 : ((ents[k] >> 62) & 1) ? ML_PAGE_SWAPPED : 0);
        done += n;
    }
    return 0;
}

static void read_pagemap(int pid, struct ml_snapshot *snap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/pagemap", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t *ents = fd >= 0 ? malloc(PAGEMAP_BATCH * 8) : NULL;
    for (size_t i = 0; ents && i < snap->nregions; i++) {
        struct ml_region *r = &snap->regions[i];
        size_t npages = (r->end - r->start) / ML_PAGE_SIZE;
        int heapish = r->kind == ML_RK_HEAP || r->kind == ML_RK_BSS ||
                      (r->kind == ML_RK_MMAP_ANON && r->perms[1] == 'w');
        if (!heapish || npages == 0 || npages > PAGEMAP_MAX_PAGES) continue;
        r->pages = calloc(npages, 1);
        if (r->pages && read_presence(fd, r, npages, ents) != 0) {
            free(r->pages);
            r->pages = NULL;
        }
    }
    free(ents);
    if (fd >= 0) close(fd);
}

/* ---- large mappings that hold no block: scanned, not copied ------------- */

/* A private anonymous mapping this large that holds no live block is a
 * root and nothing else (a custom allocator's arena, a buffer pool): the
 * words that may point at a block are kept, not the bytes. */
#define SCAN_ONLY_MIN (64ul << 20)
#define ARENA_ALIGN (64ul << 20)   /* glibc's HEAP_MAX_SIZE: arena heaps start aligned */

struct holders {
    struct ml_region **cand;       /* candidate regions, by address */
    size_t n;
    unsigned char *holds;          /* per candidate: a live block lies in it */
    uint64_t lo, hi;               /* every live block lies in [lo, hi) */
};

/* The live blocks lie in [lo, hi). */
static void note_bounds(void *ctx, const struct ml_block *b)
{
    struct holders *h = ctx;
    uint64_t end = b->addr + (b->size ? b->size : 1);
    if (b->addr < h->lo) h->lo = b->addr;
    if (end > h->hi) h->hi = end;
}

static void note_block(void *ctx, const struct ml_block *b)
{
    struct holders *h = ctx;
    note_bounds(ctx, b);
    size_t lo = 0, hi = h->n;                    /* last candidate starting at or below */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->cand[mid]->start <= b->addr) lo = mid + 1;
        else hi = mid;
    }
    if (lo && b->addr < h->cand[lo - 1]->end) h->holds[lo - 1] = 1;
}

/* Whether a glibc arena heap (its heap_info at a 64 MiB boundary) may
 * start inside r: the fragmentation analysis reads those, so r is copied. */
static int may_hold_arena(int pid, const struct ml_region *r)
{
    for (uint64_t base = (r->start + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1); base + 32 <= r->end;
         base += ARENA_ALIGN) {
        uint64_t info[4] = {0};      /* ar_ptr, prev, size, mprotect_size */
        struct iovec l = {info, sizeof info}, rm = {(void *)base, sizeof info};
        if (process_vm_readv(pid, &l, 1, &rm, 1, 0) != (ssize_t)sizeof info) continue;
        if (info[0] && info[2] && info[2] <= info[3] && info[3] <= ARENA_ALIGN) return 1;
    }
    return 0;
}

/* Read r through buf (PIECE bytes), keeping the words in [lo, hi). */
static int scan_region(int pid, struct ml_region *r, uint64_t lo, uint64_t hi, uint64_t *buf,
                       uint64_t *read)
{
    size_t cap = 0;
    for (uint64_t off = 0; off < r->end - r->start; off += PIECE) {
        uint64_t n = r->end - r->start - off < PIECE ? r->end - r->start - off : PIECE;
        if (ml_region_untouched(r, off, n)) continue;
        memset(buf, 0, n);
        read_piece(pid, &(struct piece){(unsigned char *)buf, r->start + off, n});
        *read += n;
        for (uint64_t k = 0; k < n / 8; k++) {
            if (buf[k] - lo >= hi - lo || buf[k] < 4096) continue;
            if (r->nwords == cap) {
                struct ml_word *w = realloc(r->words, (cap = cap ? cap * 2 : 256) * sizeof *w);
                if (!w) return -ENOMEM;
                r->words = w;
            }
            r->words[r->nwords++] = (struct ml_word){r->start + off + 8 * k, buf[k]};
        }
    }
    if (!r->words) r->words = malloc(sizeof *r->words);   /* marks the region scanned */
    return r->words ? 0 : -ENOMEM;
}

/* Wanted regions memlens had no memory to copy: scanned through a small
 * buffer instead when the live blocks are known (their pointers are kept,
 * their other bytes lost), else counted as unread. */
static void scan_uncopied(int pid, struct ml_snapshot *snap, const struct ml_blocks *blocks, int roots)
{
    struct holders h = {.lo = UINT64_MAX, .hi = 0};
    uint64_t *buf = NULL;
    for (size_t i = 0; i < snap->nregions; i++) {
        struct ml_region *r = &snap->regions[i];
        uint64_t len = r->end - r->start;
        if (!wanted(snap, i, roots) || r->data || r->words) continue;
        if (blocks && !buf && (buf = malloc(PIECE)) != NULL) {
            ml_blocks_each(blocks, note_bounds, &h);
            if (h.lo > h.hi) h.lo = h.hi = 0;
        }
        if (buf && scan_region(pid, r, h.lo, h.hi, buf, &snap->bytes_scanned) == 0) {
            snap->uncopied_bytes += len;
        } else {
            free(r->words);
            r->words = NULL;
            r->nwords = 0;
            snap->unread_bytes += len;    /* reported: its pointers go unseen */
        }
    }
    free(buf);
}

static void scan_large_roots(int pid, struct ml_snapshot *snap, const struct ml_blocks *blocks)
{
    struct holders h = {.lo = UINT64_MAX, .hi = 0};
    h.cand = malloc((snap->nregions ? snap->nregions : 1) * sizeof *h.cand);
    h.holds = calloc(snap->nregions ? snap->nregions : 1, 1);
    for (size_t i = 0; h.cand && h.holds && i < snap->nregions; i++) {
        struct ml_region *r = &snap->regions[i];
        if (wanted(snap, i, 1) && r->kind == ML_RK_MMAP_ANON && strcmp(r->perms, "rw-p") == 0 &&
            r->end - r->start >= SCAN_ONLY_MIN)
            h.cand[h.n++] = r;
    }
    if (h.n) ml_blocks_each(blocks, note_block, &h);
    if (h.lo > h.hi) h.lo = h.hi = 0;       /* no block: no word can point at one */
    uint64_t *buf = h.n ? malloc(PIECE) : NULL;
    for (size_t k = 0; buf && k < h.n; k++) {
        struct ml_region *r = h.cand[k];
        if (h.holds[k] || may_hold_arena(pid, r)) continue;
        if (scan_region(pid, r, h.lo, h.hi, buf, &snap->bytes_scanned) != 0) {
            free(r->words);                 /* no memory to keep them: copy it, or report it */
            r->words = NULL;
            r->nwords = 0;
        }
    }
    free(buf);
    free(h.cand);
    free(h.holds);
}

/* Whether region i is read sparsely (heapread.h): the brk heap (malloc's
 * own, never a root: only its chunk headers are read), and a private
 * anonymous mapping that holds a live block (an arena, an allocator's
 * mapping) or any when no block is live (then no root is read). */
static int sparse_wanted(const struct ml_snapshot *snap, size_t i, int roots)
{
    const struct ml_region *r = &snap->regions[i];
    if (r->words || !wanted(snap, i, roots) || strcmp(r->perms, "rw-p") != 0) return 0;
    if (r->kind == ML_RK_HEAP) return 1;
    return r->kind == ML_RK_MMAP_ANON && (!roots || ml_heapread_holds_block(snap, r));
}

int ml_capture(int pid, const struct ml_thread_state *threads, size_t nthreads,
               const struct ml_blocks *blocks, struct ml_snapshot *out)
{
    memset(out, 0, sizeof *out);
    out->maps_text = ml_read_proc_file(pid, "maps", NULL);
    if (!out->maps_text) return -errno;
    int rc = ml_snapshot_parse_maps(out, out->maps_text);
    if (rc) return rc;
    out->threads = calloc(nthreads ? nthreads : 1, sizeof *out->threads);
    if (!out->threads) return -ENOMEM;
    memcpy(out->threads, threads, nthreads * sizeof *threads);
    out->nthreads = nthreads;
    /* Thread stacks are anonymous mappings: name them by the threads' stack pointers. */
    for (size_t t = 0; t < nthreads; t++) {
        struct ml_region *r = ml_snapshot_find(out, threads[t].sp);
        if (r && r->kind == ML_RK_MMAP_ANON) r->kind = ML_RK_STACK;
    }
    /* Residency before reading memory: reading faults pages in (an untouched
     * anonymous page gets the zero page, which pagemap reports present; a
     * shared page becomes resident in smaps too). */
    read_smaps(pid, out);
    read_pagemap(pid, out);
    int roots = blocks && ml_blocks_stats(blocks)->live_blocks > 0;
    if (blocks) scan_large_roots(pid, out, blocks);
    if (ml_heapread_prepare(out, blocks) == 0)
        for (size_t i = 0; i < out->nregions; i++)
            if (sparse_wanted(out, i, roots)) out->regions[i].sparse = 1;
    rc = read_regions(pid, out, roots);
    if (rc) return rc;
    ml_heapread_run(pid, out);
    scan_uncopied(pid, out, blocks, roots);
    out->scanned = 1;
    return 0;
}

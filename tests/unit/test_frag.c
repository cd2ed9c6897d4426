/* test_frag.c - heap fragmentation and residency on a hand-built snapshot.
 *
 * Three regions laid out the way glibc leaves them (x86_64):
 *
 * [heap] at HEAP, 16 pages:
 *   0x0000  tcache_perthread_struct, chunk 0x290, in use (malloc's own)
 *   0x0290  block A, malloc(100) by site 1: chunk 0x70
 *   0x0300  free chunk, 0x1d00 bytes
 *   0x2000  block B, malloc(24) by site 2: chunk 0x20
 *   0x2020  free chunk, 0x2fe0 bytes
 *   0x5000  block C, malloc(12280) by site 1: chunk 0x3000
 *   0x8000  top chunk, 0x8000 bytes
 *   pages: 0-3 and 5-9 present, 4 swapped out, 10-15 never touched
 *
 * an arena heap at ARENA (64 MiB-aligned), 0x21 pages, all present:
 *   heap_info {ar_ptr = ARENA + 32, size = mprotect_size = 0x21000},
 *   the arena's malloc_state, then at 0x8c0 the thread's tcache (0x290),
 *   at 0xb50 block D, malloc(256) by site 3: chunk 0x110, then the top chunk
 *
 * an mmapped chunk at MMAP, 3 pages (2 present): block E, malloc(10000) by
 * site 4, chunk size 0x3000 with IS_MMAPPED.
 *
 * Every expected figure below is worked out from that layout by hand.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* open_memstream */
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "frag.h"
#include "memlens/session.h"
#include "model.h"
#include "render.h"
#include "stacktab.h"

#define HEAP   0x100000ull
#define ARENA  0x7f0000000000ull
#define MMAP   0x7f1000000000ull
#define HEAP_SIZE  0x10000ull
#define ARENA_SIZE 0x21000ull
#define MMAP_SIZE  0x3000ull
#define PG 4096ull

struct fixture {
    struct ml_snapshot snap;
    struct ml_region regs[3];
    struct ml_block blocks[8];
    size_t n;
};

static void region(struct fixture *f, int i, uint64_t start, uint64_t size, const char *path,
                   enum ml_region_kind kind)
{
    f->regs[i] = (struct ml_region){.start = start, .end = start + size, .path = (char *)path,
                                    .kind = kind};
    strcpy(f->regs[i].perms, "rw-p");
    f->regs[i].data = calloc(1, size);
    f->regs[i].pages = calloc(size / PG, 1);
    assert_non_null(f->regs[i].data);
    assert_non_null(f->regs[i].pages);
}

static void put(struct fixture *f, uint64_t addr, uint64_t value)
{
    for (int i = 0; i < 3; i++)
        if (addr >= f->regs[i].start && addr + 8 <= f->regs[i].end) {
            memcpy(f->regs[i].data + (addr - f->regs[i].start), &value, 8);
            return;
        }
    fail_msg("address 0x%llx outside the fixture", (unsigned long long)addr);
}

static void set_pages(struct fixture *f, int r, size_t first, size_t last, unsigned bits)
{
    for (size_t k = first; k <= last; k++) f->regs[r].pages[k] = (unsigned char)bits;
}

/* A live block whose chunk starts at chunk; size_word is written before it. */
static void block(struct fixture *f, uint64_t chunk, uint64_t size, uint64_t size_word,
                  uint32_t stack)
{
    put(f, chunk + 8, size_word);
    f->blocks[f->n++] = (struct ml_block){.addr = chunk + 16, .size = size, .seq = f->n,
                                          .stack = stack, .fn = ML_FN_MALLOC};
}

static struct fixture *fx_new(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    region(f, 0, HEAP, HEAP_SIZE, "[heap]", ML_RK_HEAP);
    region(f, 1, ARENA, ARENA_SIZE, "", ML_RK_MMAP_ANON);
    region(f, 2, MMAP, MMAP_SIZE, "", ML_RK_MMAP_ANON);
    f->snap.regions = f->regs;
    f->snap.nregions = 3;
    f->snap.scanned = 1;

    put(f, HEAP + 8, 0x290 | 1);                      /* tcache */
    block(f, HEAP + 0x290, 100, 0x70 | 1, 1);         /* A */
    put(f, HEAP + 0x308, 0x1d00 | 1);                 /* free */
    block(f, HEAP + 0x2000, 24, 0x20, 2);             /* B (previous chunk free) */
    put(f, HEAP + 0x2028, 0x2fe0 | 1);                /* free */
    block(f, HEAP + 0x5000, 12280, 0x3000, 1);        /* C */
    put(f, HEAP + 0x8008, 0x8000 | 1);                /* top */
    set_pages(f, 0, 0, 3, ML_PAGE_PRESENT);
    set_pages(f, 0, 4, 4, ML_PAGE_SWAPPED);
    set_pages(f, 0, 5, 9, ML_PAGE_PRESENT);

    put(f, ARENA, ARENA + 32);                        /* heap_info.ar_ptr */
    put(f, ARENA + 16, ARENA_SIZE);                   /* size */
    put(f, ARENA + 24, ARENA_SIZE);                   /* mprotect_size */
    put(f, ARENA + 0x8c8, 0x290 | 5);                 /* tcache, NON_MAIN_ARENA */
    block(f, ARENA + 0xb50, 256, 0x110 | 5, 3);       /* D */
    put(f, ARENA + 0xc68, (ARENA_SIZE - 0xc60) | 5);  /* top */
    set_pages(f, 1, 0, ARENA_SIZE / PG - 1, ML_PAGE_PRESENT);

    block(f, MMAP, 10000, 0x3000 | 2, 4);             /* E, prev_size 0 */
    set_pages(f, 2, 0, 1, ML_PAGE_PRESENT);
    return f;
}

static void fx_free(struct fixture *f)
{
    for (int i = 0; i < 3; i++) {
        free(f->regs[i].data);
        free(f->regs[i].pages);
    }
    free(f);
}

static const uint64_t *no_frames(void *ctx, uint32_t id, uint32_t *depth)
{
    (void)ctx, (void)id;
    *depth = 0;
    return NULL;
}

static void build(struct fixture *f, struct ml_proc_report *r)
{
    memset(r, 0, sizeof *r);
    r->stacks = ml_stacktab_new();
    assert_non_null(r->stacks);
    struct ml_frag_input in = {.snap = &f->snap, .blocks = f->blocks, .nblocks = f->n,
                               .stacks = {.frames = no_frames, .into = r->stacks}};
    assert_int_equal(ml_frag_build(&in, &r->heap), 0);
    assert_true(r->heap.present);
}

static void check_figures(const struct ml_heap_figures *g, const uint64_t want[8], double ext)
{
    assert_int_equal(g->extent_bytes, want[0]);
    assert_int_equal(g->live_bytes, want[1]);
    assert_int_equal(g->usable_bytes, want[2]);
    assert_int_equal(g->internal_fragmentation_bytes, want[2] - want[1]);
    assert_int_equal(g->free_bytes, want[3]);
    assert_int_equal(g->largest_free_bytes, want[4]);
    assert_int_equal(g->resident_bytes, want[5]);
    assert_int_equal(g->resident_free_pages, want[6]);
    assert_int_equal(g->trimmable_bytes, want[7]);
    assert_true(g->external_fragmentation > ext - 1e-9 && g->external_fragmentation < ext + 1e-9);
}

static void parts_have_exact_figures(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    struct ml_proc_report r;
    build(f, &r);
    const struct ml_heap_out *h = &r.heap;
    assert_int_equal(h->nparts, 3);

    /* main: free = 0x10000 - 0x290 (tcache) - 0x70 - 0x20 - 0x3000 = 52,448;
     * trimmable: page 1 (in the first gap), page 3 (page 4 is swapped out),
     * page 9 of the top chunk (its last 7 pages go, only page 9 is resident) */
    assert_int_equal(h->parts[0].kind, ML_HEAP_MAIN);
    assert_int_equal(h->parts[0].start, HEAP);
    assert_int_equal(h->parts[0].end, HEAP + HEAP_SIZE);
    check_figures(&h->parts[0].fig,
                  (uint64_t[]){65536, 12404, 12408, 52448, 32768, 9 * PG, 4, 3 * PG},
                  1.0 - 32768.0 / 52448.0);

    /* arena: everything after D is its top chunk, which malloc_trim leaves alone */
    assert_int_equal(h->parts[1].kind, ML_HEAP_ARENA);
    assert_int_equal(h->parts[1].start, ARENA);
    check_figures(&h->parts[1].fig,
                  (uint64_t[]){ARENA_SIZE, 256, 264, ARENA_SIZE - 0xc60, ARENA_SIZE - 0xc60,
                               ARENA_SIZE, 32, 0},
                  0.0);

    /* mmapped: usable = chunk size - 16 */
    assert_int_equal(h->parts[2].kind, ML_HEAP_MMAPPED);
    assert_int_equal(h->parts[2].start, MMAP);
    assert_int_equal(h->parts[2].end, MMAP + MMAP_SIZE);
    check_figures(&h->parts[2].fig, (uint64_t[]){MMAP_SIZE, 10000, 12272, 0, 0, 2 * PG, 0, 0}, 0.0);

    check_figures(&h->total,
                  (uint64_t[]){65536 + ARENA_SIZE + MMAP_SIZE, 22660, 24944, 52448 + 132000,
                               132000, 9 * PG + ARENA_SIZE + 2 * PG, 36, 3 * PG},
                  1.0 - 132000.0 / 184448.0);
    ml_proc_report_free(&r);
    fx_free(f);
}

static void gaps_and_page_strip(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    struct ml_proc_report r;
    build(f, &r);
    const struct ml_heap_out *h = &r.heap;
    for (size_t i = 0; i < 24; i++) {
        uint64_t want = i == 8 ? 1 : i == 9 ? 1 : 0;  /* 7,424 in [4K, 8K), 12,256 in [8K, 16K) */
        assert_int_equal(h->gap_histogram[i], want);
    }
    assert_int_equal(h->page_map_start, HEAP);
    assert_int_equal(h->npages, 16);
    const char *want = "LFLF.LLLFF......";
    for (size_t k = 0; k < 16; k++) {
        int s = want[k] == 'L' ? ML_PAGE_LIVE : want[k] == 'F' ? ML_PAGE_FREE_RESIDENT
                                                               : ML_PAGE_FREE_RELEASED;
        assert_int_equal(h->page_map[k], s);
    }
    ml_proc_report_free(&r);
    fx_free(f);
}

/* A page is pinned when one site's blocks are its only live data and at
 * least half of it is free.  Page 0 of the brk heap holds the tcache and A:
 * not pinned.  B's 32-byte chunk is alone on page 2: site 2 pins it.  C's
 * chunk fills pages 5-7 and E's mmapped chunk its pages: full, so sites 1
 * and 4 pin none; D shares its page with the arena's header.  E's bytes on
 * its untouched third page are not resident: 10,000 - 1,824 = 8,176. */
static void sites_ranked_by_pinned_pages(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    struct ml_proc_report r;
    build(f, &r);
    const struct ml_heap_out *h = &r.heap;
    assert_int_equal(h->nsites, 4);
    const uint64_t want[4][4] = {
        {1, 24, 24, 1}, {2, 12380, 12380, 0}, {1, 10000, 8176, 0}, {1, 256, 256, 0},
    };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(h->sites[i].blocks, want[i][0]);
        assert_int_equal(h->sites[i].live_bytes, want[i][1]);
        assert_int_equal(h->sites[i].resident_bytes, want[i][2]);
        assert_int_equal(h->sites[i].pinned_pages, want[i][3]);
        assert_int_equal(h->sites[i].stack.nframes, 1);
        const struct ml_frame_out *top;
        ml_stack_frames(&h->sites[i].stack, &top);
        assert_string_equal(top->function, "malloc");
    }
    ml_proc_report_free(&r);
    fx_free(f);
}

static void span_residency(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    uint64_t res, swp;
    ml_frag_span_pages(&f->snap, HEAP + 0x3ff0, HEAP + 0x5010, &res, &swp);
    assert_int_equal(res, 0x20);        /* 16 bytes of page 3, 16 of page 5 */
    assert_int_equal(swp, PG);          /* page 4 */
    ml_frag_span_pages(&f->snap, HEAP + 0xa000, HEAP + 0xb000, &res, &swp);
    assert_int_equal(res + swp, 0);     /* never touched */
    fx_free(f);
}

/* When the arena's first chunk is not where glibc's struct sizes put it,
 * the malloc_state counts as free instead of derailing the walk. */
static void arena_first_chunk_checked(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    put(f, ARENA + 0x8c8, 0x2a0 | 5);             /* the chain misses D's chunk */
    struct ml_proc_report r;
    build(f, &r);
    const struct ml_heap_figures *a = &r.heap.parts[1].fig;
    assert_int_equal(a->free_bytes, ARENA_SIZE - 32 - 0x110);
    assert_int_equal(a->live_bytes, 256);
    ml_proc_report_free(&r);
    fx_free(f);
}

/* A size word that cannot be the block's chunk: glibc's size for the request. */
static void bad_size_word_falls_back(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    put(f, HEAP + 0x2008, 0xdead0);               /* B's chunk would run past the heap */
    struct ml_proc_report r;
    build(f, &r);
    assert_int_equal(r.heap.parts[0].fig.usable_bytes, 12408);
    assert_int_equal(r.heap.parts[0].fig.free_bytes, 52448);
    ml_proc_report_free(&r);
    fx_free(f);
}

static void not_scanned_is_not_present(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    f->snap.scanned = 0;
    struct ml_heap_out h;
    struct ml_frag_input in = {.snap = &f->snap, .blocks = f->blocks, .nblocks = f->n};
    assert_int_equal(ml_frag_build(&in, &h), 0);
    assert_false(h.present);
    assert_int_equal(h.nparts, 0);
    fx_free(f);
}

/* More sites than are kept: the table grows, the worst 50 stay, in order. */
static void many_sites_capped(void **state)
{
    (void)state;
    enum { N = 1200 };
    struct ml_region reg = {.start = HEAP, .end = HEAP + 0x10000, .kind = ML_RK_HEAP,
                            .path = (char *)"[heap]"};
    strcpy(reg.perms, "rw-p");
    reg.data = calloc(1, 0x10000);
    reg.pages = calloc(16, 1);
    struct ml_block *b = calloc(N, sizeof *b);
    assert_non_null(reg.data);
    assert_non_null(b);
    for (size_t i = 0; i < N; i++) {
        uint64_t chunk = HEAP + 0x20 * i;
        memcpy(reg.data + (chunk + 8 - HEAP), &(uint64_t){0x21}, 8);
        b[i] = (struct ml_block){.addr = chunk + 16, .size = 1 + i % 24,
                                 .stack = (uint32_t)i + 1, .fn = ML_FN_MALLOC};
    }
    struct ml_snapshot snap = {.regions = &reg, .nregions = 1, .scanned = 1};
    struct ml_proc_report r = {.stacks = ml_stacktab_new()};
    assert_non_null(r.stacks);
    struct ml_frag_input in = {.snap = &snap, .blocks = b, .nblocks = N, .stacks = {.into = r.stacks}};
    assert_int_equal(ml_frag_build(&in, &r.heap), 0);
    assert_int_equal(r.heap.nsites, ML_FRAG_MAX_SITES);
    assert_int_equal(r.heap.sites[0].live_bytes, 24);
    for (size_t i = 1; i < r.heap.nsites; i++)
        assert_true(r.heap.sites[i].live_bytes <= r.heap.sites[i - 1].live_bytes);
    assert_int_equal(r.heap.total.live_bytes, (uint64_t)N / 24 * (24 * 25 / 2));
    ml_proc_report_free(&r);
    free(b);
    free(reg.data);
    free(reg.pages);
}

/* The text sections and the JSON heap object carry the figures. */
static void rendered(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    struct ml_proc_report p;
    build(f, &p);
    p.pid = 42;
    p.saw_shim = 1;
    p.scanned = 1;
    p.alloc.live_blocks = 5;
    struct ml_report rep = {.mode = "run", .procs = &p, .nprocs = 1};
    struct ml_render_opts o = {.show_kinds = ~0u, .leak_check = ML_LEAK_CHECK_FULL};
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(ml_render_text(m, &rep, &o), 0);
    fclose(m);
    assert_non_null(strstr(buf, "==42== HEAP FRAGMENTATION:\n"));
    assert_non_null(strstr(buf, "free bytes: 184,448, largest free range 132,000 bytes"));
    assert_non_null(strstr(buf, "external fragmentation: 0.284"));
    assert_non_null(strstr(buf, "malloc_trim(0) could return 12,288 resident bytes"));
    assert_non_null(strstr(buf, "==42== 1 pinned pages (4,096 bytes) by 24 live bytes in 1 blocks"));
    assert_null(strstr(buf, "pinned pages (0 bytes)"));     /* a site that pins none is no culprit */
    assert_non_null(strstr(buf, "==42== RESIDENCY:\n"));
    free(buf);
    m = open_memstream(&buf, &len);
    assert_int_equal(ml_render_json(m, &rep, &o), 0);
    fclose(m);
    assert_non_null(strstr(buf, "\"free_bytes\":184448"));
    assert_non_null(strstr(buf, "\"resident_free_pages\":36"));
    assert_non_null(strstr(buf, "\"pinned_pages\":1"));
    assert_non_null(strstr(buf, "\"page_map\":\"LFLF.LLLFF......\""));
    free(buf);
    ml_proc_report_free(&p);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parts_have_exact_figures),
        cmocka_unit_test(gaps_and_page_strip),
        cmocka_unit_test(sites_ranked_by_pinned_pages),
        cmocka_unit_test(span_residency),
        cmocka_unit_test(arena_first_chunk_checked),
        cmocka_unit_test(bad_size_word_falls_back),
        cmocka_unit_test(not_scanned_is_not_present),
        cmocka_unit_test(many_sites_capped),
        cmocka_unit_test(rendered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

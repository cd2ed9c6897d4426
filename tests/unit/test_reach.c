/* test_reach.c - memcheck's leak kinds on hand-built snapshots.
 *
 * A root region (globals), a [heap] region holding the blocks, and a stack
 * region with a thread's stack pointer; each test writes pointers where the
 * rule under test needs them and checks the kinds that memcheck gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "heapwalk.h"
#include "model.h"
#include "reach.h"

#define DATA  0x10000ull
#define HEAP  0x100000ull
#define STACK 0x200000ull
#define SIZE  0x10000ull

struct fixture {
    struct ml_snapshot snap;
    struct ml_region regs[3];
    struct ml_thread_state threads[2];
    struct ml_block blocks[16];
    size_t n;
    uint64_t indirect[16];
};

static struct fixture *fx_new(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    const char *paths[] = {"/bin/prog", "[heap]", "[stack]"};
    uint64_t starts[] = {DATA, HEAP, STACK};
    enum ml_region_kind kinds[] = {ML_RK_DATA, ML_RK_HEAP, ML_RK_STACK};
    for (int i = 0; i < 3; i++) {
        f->regs[i] = (struct ml_region){.start = starts[i], .end = starts[i] + SIZE,
                                        .path = (char *)paths[i], .kind = kinds[i]};
        strcpy(f->regs[i].perms, "rw-p");
        f->regs[i].data = calloc(1, SIZE);
    }
    f->snap.regions = f->regs;
    f->snap.nregions = 3;
    f->threads[0] = (struct ml_thread_state){.tid = 1, .sp = STACK + SIZE / 2};
    f->snap.threads = f->threads;
    f->snap.nthreads = 1;
    f->snap.scanned = 1;
    return f;
}

static void fx_free(struct fixture *f)
{
    for (int i = 0; i < 3; i++) free(f->regs[i].data);
    free(f);
}

static void put(struct fixture *f, uint64_t addr, uint64_t value)
{
    for (int i = 0; i < 3; i++)
        if (addr >= f->regs[i].start && addr + 8 <= f->regs[i].end)
            memcpy(f->regs[i].data + (addr - f->regs[i].start), &value, 8);
}

/* A heap block at HEAP + off (blocks must be added in address order). */
static uint64_t block(struct fixture *f, uint64_t off, uint64_t size)
{
    f->blocks[f->n] = (struct ml_block){.addr = HEAP + off, .size = size, .seq = f->n};
    put(f, HEAP + off - 8, ((size + 8 + 15) & ~15ull) | 1);   /* a chunk size word */
    f->n++;
    return HEAP + off;
}

static void classify(struct fixture *f, unsigned heuristics)
{
    struct ml_heap_layout h = {0};
    assert_int_equal(ml_heap_layout_build(&f->snap, f->blocks, f->n, &h), 0);
    assert_int_equal(ml_reach_classify(&f->snap, &h, f->blocks, f->n, heuristics, f->indirect), 0);
    ml_heap_layout_free(&h);
}

static void start_interior_and_propagation(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    uint64_t a = block(f, 0x100, 32), b = block(f, 0x200, 32), c = block(f, 0x300, 32);
    uint64_t d = block(f, 0x400, 16), e = block(f, 0x500, 16), g = block(f, 0x600, 16);
    put(f, DATA + 0x10, a);          /* start pointer from a root */
    put(f, DATA + 0x18, b + 8);      /* interior pointer from a root */
    put(f, c, d);                    /* c is lost and owns d */
    put(f, a + 8, e);                /* reachable a -> e */
    put(f, b, g);                    /* possible b -> g: only possible */
    classify(f, ML_HEUR_ALL);
    assert_int_equal(f->blocks[0].kind, ML_LK_REACHABLE);
    assert_int_equal(f->blocks[1].kind, ML_LK_POSSIBLE);
    assert_int_equal(f->blocks[2].kind, ML_LK_DEFINITE);
    assert_int_equal(f->blocks[3].kind, ML_LK_INDIRECT);
    assert_int_equal(f->blocks[4].kind, ML_LK_REACHABLE);
    assert_int_equal(f->blocks[5].kind, ML_LK_POSSIBLE);
    assert_int_equal(f->indirect[2], 16);
    fx_free(f);
}

static void cycles_and_clique_absorption(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    uint64_t a = block(f, 0x100, 100), b = block(f, 0x200, 200);
    uint64_t c = block(f, 0x300, 300), d = block(f, 0x500, 400);
    put(f, a, b);
    put(f, b, a);                    /* a <-> b, lost together */
    put(f, c, a + 50);               /* c points into a */
    put(f, d, c);                    /* d is the only way in */
    classify(f, ML_HEUR_ALL);
    assert_int_equal(f->blocks[0].kind, ML_LK_INDIRECT);
    assert_int_equal(f->blocks[1].kind, ML_LK_INDIRECT);
    assert_int_equal(f->blocks[2].kind, ML_LK_INDIRECT);
    assert_int_equal(f->blocks[3].kind, ML_LK_DEFINITE);
    assert_int_equal(f->indirect[3], 600);   /* memcheck: 1,000 (400 direct, 600 indirect) */
    assert_int_equal(f->indirect[0], 0);
    fx_free(f);
}

static void plain_cycle_leader_is_lowest(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    uint64_t a = block(f, 0x100, 24), b = block(f, 0x200, 40);
    put(f, a, b);
    put(f, b, a);
    classify(f, ML_HEUR_ALL);
    assert_int_equal(f->blocks[0].kind, ML_LK_DEFINITE);
    assert_int_equal(f->blocks[1].kind, ML_LK_INDIRECT);
    assert_int_equal(f->indirect[0], 40);
    fx_free(f);
}

/* memcheck's leader is the lowest address, which under valgrind's
 * allocator is the block allocated first: with glibc the second block may
 * sit lower (a reused chunk), and the leader is still the first allocated. */
static void cycle_leader_in_allocation_order(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    uint64_t b = block(f, 0x100, 24), a = block(f, 0x200, 56);
    f->blocks[0].seq = 2;            /* b: allocated second, lower address */
    f->blocks[1].seq = 1;            /* a: allocated first */
    put(f, a, b);
    put(f, b, a);
    classify(f, ML_HEUR_ALL);
    assert_int_equal(f->blocks[1].kind, ML_LK_DEFINITE);
    assert_int_equal(f->blocks[0].kind, ML_LK_INDIRECT);
    assert_int_equal(f->indirect[1], 24);
    fx_free(f);
}

/* A word pointing at a live block's chunk header (the 16 bytes before it)
 * lands in the preceding block's last bytes: it is no interior pointer. */
static void chunk_header_of_next_block(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    uint64_t p = block(f, 0x110, 24);            /* chunk 0x100..0x120: usable 24 */
    uint64_t q = block(f, 0x130, 24);            /* the next chunk's header at 0x120 */
    uint64_t r = block(f, 0x310, 40);
    put(f, DATA, q - 16);                        /* inside p, but q's header */
    put(f, DATA + 8, q);
    put(f, DATA + 16, r + 8);                    /* a real interior pointer stays one */
    classify(f, ML_HEUR_ALL);
    assert_int_equal(p + 16, q - 16);
    assert_int_equal(f->blocks[0].kind, ML_LK_DEFINITE);
    assert_int_equal(f->blocks[1].kind, ML_LK_REACHABLE);
    assert_int_equal(f->blocks[2].kind, ML_LK_POSSIBLE);
    fx_free(f);
}

static void stack_below_sp_and_registers(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    uint64_t a = block(f, 0x100, 16), b = block(f, 0x200, 16), c = block(f, 0x300, 16);
    uint64_t d = block(f, 0x400, 16);
    put(f, STACK + SIZE / 2 - 64, a);    /* below the stack pointer: dead */
    put(f, STACK + SIZE / 2 + 64, b);    /* above it: live */
    f->threads[0].regs[5] = c;           /* rbx of a live thread */
    f->threads[1] = (struct ml_thread_state){.tid = 2, .exited = 1, .sp = 0};
    f->threads[1].regs[5] = d;           /* an exited thread's registers are gone */
    f->snap.nthreads = 2;
    classify(f, ML_HEUR_ALL);
    assert_int_equal(f->blocks[0].kind, ML_LK_DEFINITE);
    assert_int_equal(f->blocks[1].kind, ML_LK_REACHABLE);
    assert_int_equal(f->blocks[2].kind, ML_LK_REACHABLE);
    assert_int_equal(f->blocks[3].kind, ML_LK_DEFINITE);
    fx_free(f);
}

static void heuristics(void **state)
{
    (void)state;
    for (int on = 0; on <= 1; on++) {
        struct fixture *f = fx_new();
        uint64_t arr = block(f, 0x100, 8 + 3 * 16);     /* new[] of 3 x 16 bytes */
        uint64_t len = block(f, 0x200, 8 + 40);         /* length64 */
        uint64_t str = block(f, 0x300, 24 + 31 + 1);    /* old std::string, capacity 31 */
        uint64_t no = block(f, 0x400, 40);              /* interior, nothing matches */
        put(f, arr, 3);
        put(f, len, 40);
        put(f, str, 10);
        put(f, str + 8, 31);
        put(f, no, 7);
        put(f, DATA, arr + 8);
        put(f, DATA + 8, len + 8);
        put(f, DATA + 16, str + 24);
        put(f, DATA + 24, no + 8);
        classify(f, on ? ML_HEUR_ALL : 0);
        int want = on ? ML_LK_REACHABLE : ML_LK_POSSIBLE;
        assert_int_equal(f->blocks[0].kind, want);
        assert_int_equal(f->blocks[1].kind, want);
        assert_int_equal(f->blocks[2].kind, want);
        assert_int_equal(f->blocks[3].kind, ML_LK_POSSIBLE);
        fx_free(f);
    }
}

/* malloc's pointer to the chunk after a live block (bins, top) overlaps the
 * block's last bytes; it must not count as an interior pointer. */
static void malloc_metadata_is_not_a_reference(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    put(f, HEAP + 8, 0x20 | 1);            /* chunk at HEAP: 32 bytes, user at +16 */
    f->blocks[0] = (struct ml_block){.addr = HEAP + 16, .size = 24};
    f->n = 1;
    put(f, HEAP + 32 + 8, (SIZE - 32) | 1); /* top chunk at HEAP + 32 */
    put(f, DATA + 0x40, HEAP + 32);         /* e.g. main_arena.top */
    put(f, HEAP + 0x1000, HEAP + 16);       /* a stale pointer in free heap memory */
    classify(f, ML_HEUR_ALL);
    assert_int_equal(f->blocks[0].kind, ML_LK_DEFINITE);
    fx_free(f);
}

static void zero_size_and_one_past_end(void **state)
{
    (void)state;
    struct fixture *f = fx_new();
    uint64_t z = block(f, 0x100, 0), e = block(f, 0x200, 16);
    put(f, DATA, z);
    put(f, DATA + 8, e + 16);              /* one past the end points nowhere */
    classify(f, ML_HEUR_ALL);
    assert_int_equal(f->blocks[0].kind, ML_LK_REACHABLE);
    assert_int_equal(f->blocks[1].kind, ML_LK_DEFINITE);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_interior_and_propagation),
        cmocka_unit_test(cycles_and_clique_absorption),
        cmocka_unit_test(plain_cycle_leader_is_lowest),
        cmocka_unit_test(cycle_leader_in_allocation_order),
        cmocka_unit_test(chunk_header_of_next_block),
        cmocka_unit_test(stack_below_sp_and_registers),
        cmocka_unit_test(heuristics),
        cmocka_unit_test(malloc_metadata_is_not_a_reference),
        cmocka_unit_test(zero_size_and_one_past_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

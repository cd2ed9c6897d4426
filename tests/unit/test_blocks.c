/* test_blocks.c - the live-block table against a plain reference array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "blocks.h"

static void alloc_free_stats(void **state)
{
    (void)state;
    struct ml_blocks *b = ml_blocks_new();
    struct ml_block x = {.addr = 0x1000, .size = 48, .stack = 7, .seq = 1};
    assert_int_equal(ml_blocks_alloc(b, &x), 0);
    x.addr = 0x2000; x.size = 16; x.seq = 2;
    ml_blocks_alloc(b, &x);
    assert_int_equal(ml_blocks_release(b, 0x1000), 1);
    assert_int_equal(ml_blocks_release(b, 0x1000), 0);   /* double free: unknown */
    assert_int_equal(ml_blocks_release(b, 0), 0);        /* free(NULL) */
    const struct ml_alloc_stats *s = ml_blocks_stats(b);
    assert_int_equal(s->calls, 2);
    assert_int_equal(s->frees, 1);
    assert_int_equal(s->bytes, 64);
    assert_int_equal(s->live_blocks, 1);
    assert_int_equal(s->live_bytes, 16);
    assert_int_equal(s->peak_live_bytes, 64);
    assert_int_equal(s->unknown_frees, 1);
    assert_non_null(ml_blocks_find(b, 0x2000));
    assert_null(ml_blocks_find(b, 0x1000));
    ml_blocks_free(b);
}

/* Many inserts and deletes (growth, backward-shift deletion) against a reference. */
static void churn_matches_reference(void **state)
{
    (void)state;
    enum { N = 20000 };
    static uint64_t live[N];
    struct ml_blocks *b = ml_blocks_new();
    srand(42);
    for (int round = 0; round < 200000; round++) {
        int i = rand() % N;
        uint64_t addr = 0x10000 + (uint64_t)i * 32;
        ml_blocks_prefetch(b, addr);   /* a hint: the table's answers stay the reference's */
        if (live[i]) {
            assert_int_equal(ml_blocks_release(b, addr), 1);
            live[i] = 0;
        } else {
            struct ml_block x = {.addr = addr, .size = (uint64_t)(i % 100)};
            ml_blocks_alloc(b, &x);
            live[i] = 1;
        }
    }
    size_t expect = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < N; i++) {
        uint64_t addr = 0x10000 + (uint64_t)i * 32;
        assert_int_equal(ml_blocks_find(b, addr) != NULL, live[i] != 0);
        expect += live[i] != 0;
        bytes += live[i] ? (uint64_t)(i % 100) : 0;
    }
    struct ml_block *sorted;
    long n = ml_blocks_sorted(b, &sorted);
    assert_int_equal(n, expect);
    assert_int_equal(ml_blocks_stats(b)->live_bytes, bytes);
    for (long k = 1; k < n; k++) assert_true(sorted[k - 1].addr < sorted[k].addr);
    free(sorted);
    ml_blocks_free(b);
}

/* Every view of the table, then a clone, reuse and frees: 800 blocks 48
 * bytes apart fill 10 pages, so buckets grow many times and pages hold
 * both ends of a block run. */
static void views_during_growth(void **state)
{
    (void)state;
    enum { N = 800 };
    struct ml_blocks *b = ml_blocks_new();
    for (uint64_t i = 0; i < N; i++) {
        struct ml_block x = {.addr = 0x40000 + i * 48, .size = i + 1};
        assert_int_equal(ml_blocks_alloc(b, &x), 0);
    }
    struct ml_blocks *c = ml_blocks_clone(b);
    assert_non_null(c);
    for (uint64_t i = 0; i < N; i++) {
        const struct ml_block *f = ml_blocks_find(b, 0x40000 + i * 48);
        assert_non_null(f);
        assert_int_equal(f->size, i + 1);
    }
    struct ml_block re = {.addr = 0x40000, .size = 5000};   /* reused address: replaced */
    ml_blocks_alloc(b, &re);
    assert_int_equal(ml_blocks_find(b, 0x40000)->size, 5000);
    for (uint64_t i = 1; i < N; i += 2) assert_int_equal(ml_blocks_release(b, 0x40000 + i * 48), 1);
    assert_int_equal(ml_blocks_release(b, 0x40000 + 48), 0);       /* already gone */
    struct ml_block *sorted;
    long n = ml_blocks_sorted(b, &sorted);
    assert_int_equal(n, N / 2);
    for (long k = 0; k < n; k++) assert_int_equal(sorted[k].addr, 0x40000 + (uint64_t)k * 96);
    free(sorted);
    assert_int_equal(ml_blocks_stats(b)->live_blocks, N / 2);
    n = ml_blocks_sorted(c, &sorted);                  /* the clone kept all of them */
    assert_int_equal(n, N);
    free(sorted);
    assert_null(ml_blocks_find(b, 1));
    ml_blocks_free(c);
    ml_blocks_free(b);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Moving the blocks out sorted: two blocks in three have random
 * addresses over 2^40 bytes, each on a page of its own (about 33,000
 * pages: the directory grows six times); the third make one dense run of
 * 16-byte blocks, 256 to a page. */
static void take_sorted_moves_out(void **state)
{
    (void)state;
    enum { N = 50000 };
    static uint64_t want[N];
    struct ml_blocks *b = ml_blocks_new();
    uint64_t r = 88172645463325252ull;
    size_t n = 0;
    for (; n < N; n++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        uint64_t addr = n % 3 ? 0x100000000000ull + ((r & ((1ull << 40) - 1)) & ~15ull)
                              : 0x7f0000000000ull + n * 16;   /* a dense run */
        if (ml_blocks_find(b, addr)) { n--; continue; }
        struct ml_block x = {.addr = addr, .size = n, .seq = n};
        assert_int_equal(ml_blocks_alloc(b, &x), 0);
        want[n] = addr;
    }
    qsort(want, n, sizeof *want, cmp_u64);
    struct ml_block *copy, *moved;
    long nc = ml_blocks_sorted(b, &copy);
    long nm = ml_blocks_take_sorted(b, &moved);
    assert_int_equal(nc, n);
    assert_int_equal(nm, n);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(copy[k].addr, want[k]);
        assert_int_equal(moved[k].addr, want[k]);
        assert_int_equal(moved[k].size, moved[k].seq);   /* whole entries moved */
    }
    assert_int_equal(ml_blocks_stats(b)->live_blocks, n);   /* statistics stay */
    assert_null(ml_blocks_find(b, want[0]));                /* the table is empty */
    struct ml_block *none;
    assert_int_equal(ml_blocks_sorted(b, &none), 0);
    struct ml_block x = {.addr = want[1], .size = 1};       /* and usable again */
    assert_int_equal(ml_blocks_alloc(b, &x), 0);
    assert_non_null(ml_blocks_find(b, want[1]));
    free(none);
    free(copy);
    free(moved);
    ml_blocks_free(b);
}

static void count_block(void *ctx, const struct ml_block *blk)
{
    (void)blk;
    ++*(size_t *)ctx;
}

/* A frozen table answers as the table did, and takes events again.
 * 3,000 blocks 64 bytes apart, inserted from the highest address down:
 * every insert goes to the front of its page's bucket. */
static void freeze_then_events(void **state)
{
    (void)state;
    enum { N = 3000 };
    struct ml_blocks *b = ml_blocks_new();
    for (uint64_t i = N; i-- > 0;) {            /* inserted high to low */
        struct ml_block x = {.addr = 0x50000 + i * 64, .size = i + 1};
        assert_int_equal(ml_blocks_alloc(b, &x), 0);
    }
    ml_blocks_freeze(b);
    ml_blocks_freeze(b);                        /* twice is once */
    for (uint64_t i = 0; i < N; i++) {
        const struct ml_block *f = ml_blocks_find(b, 0x50000 + i * 64);
        assert_non_null(f);
        assert_int_equal(f->size, i + 1);
    }
    assert_null(ml_blocks_find(b, 0x50000 + 32));        /* between two blocks */
    assert_null(ml_blocks_find(b, 0x50000 + N * 64));    /* past the last */
    assert_null(ml_blocks_find(b, 0x40000));             /* before the first */
    size_t seen = 0;
    ml_blocks_each(b, count_block, &seen);
    assert_int_equal(seen, N);
    struct ml_blocks *c = ml_blocks_clone(b);           /* a copy keeps every block */
    assert_non_null(c);
    assert_non_null(ml_blocks_find(c, 0x50000 + 64));
    struct ml_block *sorted;
    long n = ml_blocks_sorted(b, &sorted);
    assert_int_equal(n, N);
    for (long k = 0; k < n; k++) assert_int_equal(sorted[k].addr, 0x50000 + (uint64_t)k * 64);
    free(sorted);
    /* An event after the freeze: the table is a table of buckets again. */
    assert_int_equal(ml_blocks_release(b, 0x50000 + 64), 1);
    struct ml_block y = {.addr = 0x10, .size = 7};
    assert_int_equal(ml_blocks_alloc(b, &y), 0);
    assert_null(ml_blocks_find(b, 0x50000 + 64));
    assert_non_null(ml_blocks_find(b, 0x10));
    assert_int_equal(ml_blocks_stats(b)->live_blocks, N);
    ml_blocks_freeze(b);
    n = ml_blocks_take_sorted(b, &sorted);
    assert_int_equal(n, N);
    assert_int_equal(sorted[0].addr, 0x10);
    assert_int_equal(sorted[1].addr, 0x50000);
    assert_int_equal(sorted[2].addr, 0x50000 + 128);
    free(sorted);
    struct ml_blocks *e = ml_blocks_new();              /* an empty table freezes too */
    ml_blocks_freeze(e);
    assert_null(ml_blocks_find(e, 0x50000));
    seen = 0;
    ml_blocks_each(e, count_block, &seen);
    assert_int_equal(seen, 0);
    ml_blocks_free(e);
    ml_blocks_free(c);
    ml_blocks_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alloc_free_stats),
        cmocka_unit_test(churn_matches_reference),
        cmocka_unit_test(views_during_growth),
        cmocka_unit_test(take_sorted_moves_out),
        cmocka_unit_test(freeze_then_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

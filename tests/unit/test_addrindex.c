/* test_addrindex.c - the page index answers exactly as the binary search.
 *
 * Sorted, disjoint blocks of every shape (zero-sized, many on one page, one
 * spanning many pages, far apart); every address around each block's
 * edges and page boundaries must map to the same block as
 * ml_block_index() finds, or to none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "addrindex.h"
#include "heapwalk.h"

static void check_all(const struct ml_block *b, size_t n)
{
    struct ml_addr_index x;
    assert_int_equal(ml_addr_index_build(&x, b, n), 0);
    for (size_t i = 0; i < n; i++) {
        uint64_t end = b[i].addr + (b[i].size ? b[i].size : 1);
        uint64_t probes[] = {b[i].addr - 1, b[i].addr, b[i].addr + 1, end - 1, end, end + 1,
                             b[i].addr & ~4095ull, (b[i].addr | 4095) + 1, (end & ~4095ull) - 1};
        for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++)
            assert_int_equal(ml_addr_index_find(&x, probes[k]), ml_block_index(b, n, probes[k]));
    }
    assert_int_equal(ml_addr_index_find(&x, 0), -1);
    assert_int_equal(ml_addr_index_find(&x, UINT64_MAX), -1);
    assert_int_equal(ml_addr_index_find(&x, 0x1111111111111111ull), -1);
    ml_addr_index_free(&x);
}

static void shapes(void **state)
{
    (void)state;
    const struct ml_block b[] = {
        {.addr = 0x10010, .size = 0},          /* zero-sized: one byte counts */
        {.addr = 0x10020, .size = 24},
        {.addr = 0x10040, .size = 4000},       /* crosses into the next page */
        {.addr = 0x11000, .size = 16},
        {.addr = 0x20000, .size = 3 * 4096 + 8},   /* spans four pages */
        {.addr = 0x23010, .size = 16},         /* shares the last of them */
        {.addr = 0x7f0000001000, .size = 1 << 20},  /* far away, mmapped */
    };
    check_all(b, sizeof b / sizeof b[0]);
}

static void many_random(void **state)
{
    (void)state;
    size_t n = 20000;
    struct ml_block *b = calloc(n, sizeof *b);
    uint64_t a = 0x555500000000ull, s = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        a += 16 * (s % 300);                   /* gaps of 0 to 4,784 bytes */
        b[i].addr = a;
        b[i].size = (s >> 20) % 9000;
        a += b[i].size ? b[i].size : 1;
        a = (a + 15) & ~15ull;
    }
    check_all(b, n);
    free(b);
}

static void empty(void **state)
{
    (void)state;
    check_all(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shapes),
        cmocka_unit_test(many_random),
        cmocka_unit_test(empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

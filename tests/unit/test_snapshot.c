/* test_snapshot.c - maps parsing, region kinds and captured-memory lookups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "snapshot.h"

static const char maps[] =
    "555555554000-555555555000 r--p 00000000 08:01 100 /usr/bin/prog\n"
    "555555555000-555555556000 r-xp 00001000 08:01 100 /usr/bin/prog\n"
    "555555556000-555555557000 r--p 00002000 08:01 100 /usr/bin/prog\n"
    "555555557000-555555558000 rw-p 00003000 08:01 100 /usr/bin/prog\n"
    "555555558000-555555559000 rw-p 00000000 00:00 0 \n"
    "555555559000-55555557a000 rw-p 00000000 00:00 0                          [heap]\n"
    "7ffff7000000-7ffff7100000 rw-s 00000000 00:01 5   /memfd:memlens-session (deleted)\n"
    "7ffff7200000-7ffff7300000 rw-p 00000000 00:00 0 \n"
    "7ffff7300000-7ffff7301000 ---p 00000000 00:00 0 \n"
    "7ffff7400000-7ffff7401000 rw-s 00000000 00:01 32768 /SYSV0000abcd (deleted)\n"
    "7ffff7500000-7ffff7501000 r--p 00000000 08:01 7 /usr/share/data.bin\n"
    "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"
    "7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]\n";

static void kinds_and_paths(void **state)
{
    (void)state;
    struct ml_snapshot s = {0};
    assert_int_equal(ml_snapshot_parse_maps(&s, maps), 0);
    assert_int_equal(s.nregions, 13);
    enum ml_region_kind want[] = {
        ML_RK_RODATA, ML_RK_TEXT, ML_RK_RODATA, ML_RK_DATA, ML_RK_BSS, ML_RK_HEAP,
        ML_RK_SESSION, ML_RK_MMAP_ANON, ML_RK_GUARD, ML_RK_SHM, ML_RK_MMAP_FILE,
        ML_RK_STACK, ML_RK_VDSO,
    };
    for (size_t i = 0; i < s.nregions; i++) assert_int_equal(s.regions[i].kind, want[i]);
    assert_string_equal(s.regions[0].path, "/usr/bin/prog");
    assert_string_equal(s.regions[4].path, "");
    assert_string_equal(s.regions[3].perms, "rw-p");
    assert_int_equal(s.regions[1].offset, 0x1000);
    assert_string_equal(ml_region_kind_name(ML_RK_MMAP_ANON), "mmap-anon");
    ml_snapshot_free(&s);
}

static void find_and_read(void **state)
{
    (void)state;
    struct ml_snapshot s = {0};
    assert_int_equal(ml_snapshot_parse_maps(&s, maps), 0);
    struct ml_region *heap = ml_snapshot_find(&s, 0x555555560000);
    assert_non_null(heap);
    assert_int_equal(heap->kind, ML_RK_HEAP);
    assert_null(ml_snapshot_find(&s, 0x1000));
    assert_null(ml_snapshot_find(&s, 0x55555557a000));   /* end is exclusive */
    uint64_t w = 0;
    assert_int_equal(ml_snapshot_read_word(&s, 0x555555559000, &w), 0);  /* not captured */
    heap->data = calloc(1, heap->end - heap->start);
    uint64_t v = 0xdeadbeef;
    memcpy(heap->data + 0x10, &v, 8);
    assert_int_equal(ml_snapshot_read_word(&s, 0x555555559010, &w), 1);
    assert_int_equal(w, 0xdeadbeef);
    assert_int_equal(ml_snapshot_read_word(&s, 0x55555557a000 - 4, &w), 0);  /* straddles the end */
    ml_snapshot_free(&s);
}

/* Only private anonymous memory whose pages are neither present nor
 * swapped reads as zeros for sure. */
static void untouched_ranges(void **state)
{
    (void)state;
    unsigned char pages[4] = {0, ML_PAGE_PRESENT, 0, ML_PAGE_SWAPPED};
    struct ml_region r = {.start = 0x10000, .end = 0x14000, .perms = "rw-p", .path = "",
                          .kind = ML_RK_MMAP_ANON, .pages = pages};
    assert_true(ml_region_untouched(&r, 0, 4096));
    assert_false(ml_region_untouched(&r, 0, 4097));          /* reaches the present page */
    assert_true(ml_region_untouched(&r, 2 * 4096, 4096));
    assert_false(ml_region_untouched(&r, 3 * 4096, 8));      /* swapped out: has data */
    assert_false(ml_region_untouched(&r, 0, 0));
    r.perms[3] = 's';                                        /* shared: others may write */
    assert_false(ml_region_untouched(&r, 0, 4096));
    r.perms[3] = 'p';
    r.kind = ML_RK_DATA;                                     /* file-backed: the file's bytes */
    assert_false(ml_region_untouched(&r, 0, 4096));
    r.kind = ML_RK_HEAP;
    r.pages = NULL;                                          /* pagemap not read */
    assert_false(ml_region_untouched(&r, 0, 4096));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kinds_and_paths),
        cmocka_unit_test(find_and_read),
        cmocka_unit_test(untouched_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

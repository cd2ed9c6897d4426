/* test_stackrec.c - the shared table's stored stacks read back whole
 * (include/memlens/session.h): a record holding all its frames, and one
 * holding its innermost ML_INNER_FRAMES with its callers in another. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "memlens/session.h"

/* Put a record of `kept` frames fr (depth in all, callers `outer`) at
 * offset *at of the frames area as stack id. */
static void put(char *base, uint64_t *at, uint32_t id, const uint64_t *fr, uint32_t kept,
                uint32_t depth, uint32_t outer)
{
    struct ml_stack_rec *rec = (struct ml_stack_rec *)(base + ML_OFF_FRAMES + *at);
    rec->depth = depth;
    rec->outer = outer;
    memcpy(rec->frames, fr, kept * sizeof *fr);
    ml_stack_offsets(base)[id] = *at + 1;
    *at += sizeof *rec + kept * sizeof *fr;
}

static void joined(void **state)
{
    (void)state;
    size_t size = ML_OFF_FRAMES + 65536;
    char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(base != MAP_FAILED);
    enum { DEPTH = 20 };
    uint64_t fr[DEPTH], out[ML_MAX_FRAMES], at = 0;
    for (uint32_t i = 0; i < DEPTH; i++) fr[i] = 0x1000 + i;
    put(base, &at, 1, fr + ML_INNER_FRAMES, DEPTH - ML_INNER_FRAMES, DEPTH - ML_INNER_FRAMES, 0);
    put(base, &at, 2, fr, ML_INNER_FRAMES, DEPTH, 1);
    put(base, &at, 3, fr, ML_INNER_FRAMES, DEPTH, 2);     /* callers not a whole record */
    put(base, &at, 4, fr, ML_INNER_FRAMES, DEPTH + 1, 1); /* depths that do not add up */
    const struct ml_stack_rec *whole = ml_stack(base, 1), *split = ml_stack(base, 2);
    assert_ptr_equal(ml_stack_join(base, whole, out), whole->frames);
    const uint64_t *got = ml_stack_join(base, split, out);
    assert_ptr_equal(got, out);
    assert_memory_equal(got, fr, sizeof fr);
    assert_null(ml_stack_join(base, ml_stack(base, 3), out));
    assert_null(ml_stack_join(base, ml_stack(base, 4), out));
    assert_null(ml_stack(base, 5));                        /* not published */
    munmap(base, size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(joined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

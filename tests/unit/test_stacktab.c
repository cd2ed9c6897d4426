/* test_stacktab.c - the stacks of a report: each distinct frame kept once,
 * stacks with the same callers sharing them, every stack read back as it
 * was put, innermost first, through the tables' growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "stacktab.h"
#include "strpool.h"

/* A frame named fn_N at address N, its strings the table's. */
static struct ml_frame_out frame(struct ml_stacktab *t, unsigned n)
{
    char name[32];
    snprintf(name, sizeof name, "fn_%u", n);
    struct ml_frame_out f = {.address = n, .line = (int)n % 7,
                             .function = ml_strpool_get(ml_stacktab_strings(t), name),
                             .module = ml_strpool_get(ml_stacktab_strings(t), "/bin/prog")};
    assert_non_null(f.function);
    return f;
}

static void assert_stack(const struct ml_stack_out *st, const struct ml_frame_out *want, size_t n)
{
    const struct ml_frame_out *got[64];
    assert_int_equal(st->nframes, n);
    ml_stack_frames(st, got);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(got[i]->address, want[i].address);
        assert_ptr_equal(got[i]->function, want[i].function);
        assert_int_equal(got[i]->line, want[i].line);
        assert_int_equal(got[i]->inlined, want[i].inlined);
    }
}

/* 4^5 = 1,024 stacks of 12 frames: a leaf frame, five levels of one of
 * four frames (the stack number's base-4 digits), then six frames every
 * stack has.  The tables start at 64 slots and double at half full, so
 * they grow several times; each stack still reads back as put, the same
 * frame is one copy in every stack, and the 1,024 stacks hold 4 + 16 +
 * ... + 1,024 = 1,364 nodes for the levels, 1,024 for the leaves and 6
 * for the shared callers: ml_stacktab_bytes stays far below the
 * 1,024 * 12 * 64 bytes of copies. */
static void shared_and_read_back(void **state)
{
    (void)state;
    enum { N = 1024, DEPTH = 12 };
    struct ml_stacktab *t = ml_stacktab_new();
    assert_non_null(t);
    static struct ml_stack_out st[N];
    static struct ml_frame_out f[N][DEPTH];
    for (unsigned s = 0; s < N; s++) {
        f[s][0] = frame(t, 1000 + s);                       /* the leaf: one per stack */
        for (unsigned l = 0; l < 5; l++)
            f[s][1 + l] = frame(t, 100 + 10 * l + ((s >> (2 * (4 - l))) & 3));
        for (unsigned k = 6; k < DEPTH; k++) f[s][k] = frame(t, k);
        assert_int_equal(ml_stacktab_put(t, f[s], DEPTH, &st[s]), 0);
    }
    for (unsigned s = 0; s < N; s++) assert_stack(&st[s], f[s], DEPTH);
    const struct ml_frame_out *a[DEPTH], *b[DEPTH];
    ml_stack_frames(&st[0], a);
    ml_stack_frames(&st[N - 1], b);
    assert_ptr_equal(a[DEPTH - 1], b[DEPTH - 1]);           /* one copy of a shared frame */
    assert_ptr_not_equal(a[0], b[0]);
    struct ml_stack_out again;                              /* the same stack: the same node */
    assert_int_equal(ml_stacktab_put(t, f[5], DEPTH, &again), 0);
    assert_int_equal(again.top, st[5].top);
    size_t nodes = 1364 + N + 6 + 1, frames = N + 5 * 4 + 6;
    assert_true(ml_stacktab_bytes(t) < 4 * (nodes * 8 + frames * sizeof(struct ml_frame_out)));
    ml_stacktab_free(t);
    ml_stacktab_free(NULL);
}

/* The first frame put is frame 0 and its node's caller is the root, the
 * key an index slot of the root itself would have: a stack of just that
 * frame must read back as that frame, not as the root.  A stack with no
 * frames has no table. */
static void first_frame_and_empty(void **state)
{
    (void)state;
    struct ml_stacktab *t = ml_stacktab_new();
    assert_non_null(t);
    struct ml_frame_out one = frame(t, 7), two[2] = {frame(t, 8), frame(t, 7)};
    struct ml_stack_out a, b, c, none;
    assert_int_equal(ml_stacktab_put(t, &one, 1, &a), 0);
    for (unsigned i = 0; i < 100; i++) {                    /* grow the node index */
        struct ml_frame_out g = frame(t, 200 + i);
        assert_int_equal(ml_stacktab_put(t, &g, 1, &c), 0);
    }
    assert_int_equal(ml_stacktab_put(t, two, 2, &b), 0);
    assert_int_equal(ml_stacktab_put(t, &one, 1, &c), 0);
    assert_int_equal(c.top, a.top);
    assert_int_not_equal(a.top, ML_STACK_ROOT);
    assert_stack(&a, &one, 1);
    assert_stack(&b, two, 2);
    assert_int_equal(ml_stacktab_put(t, NULL, 0, &none), 0);
    assert_int_equal(none.nframes, 0);
    assert_null(none.tab);
    assert_null(ml_stack_view(&none));
    const struct ml_frame_out **v = ml_stack_view(&b);
    assert_non_null(v);
    assert_int_equal(v[1]->address, 7);
    free(v);
    ml_stacktab_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_and_read_back),
        cmocka_unit_test(first_frame_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

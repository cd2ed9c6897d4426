/* test_strpool.c - the string set: one copy per distinct string, kept
 * through the table's growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "strpool.h"

/* 5,000 distinct strings, each asked for three times: the table starts at
 * 64 slots and doubles at half full, so it grows eight times on the way,
 * and every answer must still be the first copy handed out. */
static void one_copy_each(void **state)
{
    (void)state;
    enum { N = 5000 };
    static char *first[N];
    struct ml_strpool *p = ml_strpool_new();
    assert_non_null(p);
    char buf[32];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
            snprintf(buf, sizeof buf, "fn_%d", i);
            char *got = ml_strpool_get(p, buf);
            assert_non_null(got);
            assert_string_equal(got, buf);
            assert_ptr_not_equal(got, buf);          /* the pool's own copy */
            if (round == 0) first[i] = got;
            else assert_ptr_equal(got, first[i]);
        }
    assert_ptr_not_equal(first[1], first[10]);        /* "fn_1" is not "fn_10" */
    assert_null(ml_strpool_get(p, NULL));
    char *empty = ml_strpool_get(p, "");
    assert_non_null(empty);
    assert_ptr_equal(ml_strpool_get(p, ""), empty);
    ml_strpool_free(p);
    ml_strpool_free(NULL);
}

/* One buffer holding one string after another: each answer is the copy of
 * what the buffer holds now, not of what it held when last asked. */
static void same_address_new_text(void **state)
{
    (void)state;
    struct ml_strpool *p = ml_strpool_new();
    assert_non_null(p);
    char buf[16];
    strcpy(buf, "alpha");
    char *a = ml_strpool_get(p, buf);
    assert_ptr_equal(ml_strpool_get(p, buf), a);
    strcpy(buf, "beta");
    char *b = ml_strpool_get(p, buf);
    assert_string_equal(b, "beta");
    assert_string_equal(a, "alpha");
    strcpy(buf, "alpha");
    assert_ptr_equal(ml_strpool_get(p, buf), a);
    assert_ptr_equal(ml_strpool_get(p, "beta"), b);
    ml_strpool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_copy_each),
        cmocka_unit_test(same_address_new_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

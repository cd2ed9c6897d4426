/* test_jsonload.c - unit tests for report/jsonr.c (the JSON parser) and
 * report/jsonload.c (a saved report back into the model): values and
 * escapes, exact 64-bit integers, the nesting limit, errors with their
 * offset, and a report that json.c wrote read back field for field. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonload.h"
#include "jsonr.h"
#include "render.h"
#include "stacktab.h"

static struct ml_jsonr *parse(const char *text)
{
    char err[128];
    return ml_jsonr_parse(text, strlen(text), err, sizeof err);
}

static void test_values(void **state)
{
    (void)state;
    struct ml_jsonr *v = parse(" {\"a\": [1, -2, 2.5, true, false, null], \"s\": \"x\\\"\\n\\u00e9\\ud83d\\ude00\","
                               " \"big\": 18446744073709551615, \"neg\": -9223372036854775808, \"hex\": \"0x7f00\"} ");
    assert_non_null(v);
    const struct ml_jsonr *a = ml_jsonr_get(v, "a");
    assert_int_equal(ml_jsonr_len(a), 6);
    assert_int_equal(ml_jsonr_uint(ml_jsonr_at(a, 0), 0), 1);
    assert_int_equal(ml_jsonr_int(ml_jsonr_at(a, 1), 0), -2);
    assert_true(ml_jsonr_double(ml_jsonr_at(a, 2), 0) == 2.5);
    assert_int_equal(ml_jsonr_bool(ml_jsonr_at(a, 3), 0), 1);
    assert_int_equal(ml_jsonr_bool(ml_jsonr_at(a, 4), 1), 0);
    assert_int_equal(ml_jsonr_at(a, 5)->type, ML_JSON_NULL);
    assert_null(ml_jsonr_at(a, 6));
    assert_string_equal(ml_jsonr_str(ml_jsonr_get(v, "s")), "x\"\n\xc3\xa9\xf0\x9f\x98\x80");
    assert_true(ml_jsonr_uint(ml_jsonr_get(v, "big"), 0) == UINT64_MAX);
    assert_true(ml_jsonr_int(ml_jsonr_get(v, "neg"), 0) == INT64_MIN);
    assert_int_equal(ml_jsonr_hex(ml_jsonr_get(v, "hex"), 0), 0x7f00);
    /* wrong types and missing keys give the default */
    assert_int_equal(ml_jsonr_uint(ml_jsonr_get(v, "s"), 7), 7);
    assert_null(ml_jsonr_str(ml_jsonr_get(v, "nope")));
    assert_int_equal(ml_jsonr_hex(ml_jsonr_get(v, "s"), 3), 3);
    ml_jsonr_free(v);
    /* numbers out of range are held to it, never converted out of it */
    v = parse("[1e30, -1e30, 99999999999999999999, -99999999999999999999, 2.9]");
    assert_non_null(v);
    assert_true(ml_jsonr_uint(ml_jsonr_at(v, 0), 0) == UINT64_MAX);
    assert_true(ml_jsonr_int(ml_jsonr_at(v, 0), 0) == INT64_MAX);
    assert_true(ml_jsonr_int(ml_jsonr_at(v, 1), 0) == INT64_MIN);
    assert_int_equal(ml_jsonr_uint(ml_jsonr_at(v, 1), 5), 5);
    assert_true(ml_jsonr_uint(ml_jsonr_at(v, 2), 0) == UINT64_MAX);
    assert_true(ml_jsonr_int(ml_jsonr_at(v, 3), 0) == INT64_MIN);
    assert_int_equal(ml_jsonr_uint(ml_jsonr_at(v, 4), 0), 2);
    ml_jsonr_free(v);
}

static void test_errors(void **state)
{
    static const char *const bad[] = {"", "{", "[1,]", "{\"a\" 1}", "\"open", "01x", "[1] 2",
                                      "{\"a\":tru}", "\"\\x\"", "\"a\001\"", "-", "1.", "[\"\\u12\"]"};
    char err[128];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_null(ml_jsonr_parse(bad[i], strlen(bad[i]), err, sizeof err));
        assert_int_equal(errno, EINVAL);
        assert_memory_equal(err, "offset ", 7);
    }
    assert_null(ml_jsonr_parse("[1, ?]", 6, err, sizeof err));
    assert_string_equal(err, "offset 4: bad number");
}

static void test_depth_limit(void **state)
{
    char deep[2 * (ML_JSONR_MAX_DEPTH + 2) + 1];
    (void)state;
    for (int n = ML_JSONR_MAX_DEPTH; n <= ML_JSONR_MAX_DEPTH + 1; n++) {
        memset(deep, '[', (size_t)n + 1);
        memset(deep + n + 1, ']', (size_t)n + 1);
        deep[2 * (n + 1)] = '\0';
        struct ml_jsonr *v = parse(deep);
        if (n == ML_JSONR_MAX_DEPTH) assert_non_null(v);
        else assert_null(v);
        ml_jsonr_free(v);
    }
}

/* A report json.c writes, read back: the fields --load needs. */
static void test_report_round_trip(void **state)
{
    struct ml_frame_out frames[2] = {
        {.address = 0x4841, .function = "operator new(unsigned long)", .module = "/lib/libmemlens.so",
         .mangled = "_Znwm"},
        {.address = 0x1091, .function = "make", .file = "/src/a.cc", .line = 12, .module = "/src/a", .inlined = 1},
    };
    struct ml_leak_record recs[2] = {
        {.kind = ML_LK_DEFINITE, .blocks = 2, .bytes = 96, .indirect_bytes = 32},
        {.kind = ML_LK_REACHABLE, .blocks = 1, .bytes = 16, .suppressed = 1, .suppression = "mine"},
    };
    struct ml_stacktab *tab = ml_stacktab_new();
    assert_non_null(tab);
    assert_int_equal(ml_stacktab_put(tab, frames, 2, &recs[0].stack), 0);
    assert_int_equal(ml_stacktab_put(tab, frames, 1, &recs[1].stack), 0);
    char *argv[] = {"./a", "x", NULL};
    struct ml_proc_report p = {.pid = 7, .ppid = 1, .exe = "/src/a", .argv = argv,
                               .exit_how = ML_EXIT_SIGNAL, .exit_value = 11, .scanned = 1, .saw_shim = 1,
                               .records = recs, .nrecords = 2};
    p.summary[ML_LK_DEFINITE] = (struct ml_totals){2, 96};
    p.summary[ML_LK_SUPPRESSED] = (struct ml_totals){1, 16};
    char *supp[] = {"my.supp", NULL};
    struct ml_report r = {.mode = "attach", .command = argv, .procs = &p, .nprocs = 1,
                          .options = {.leak_check = ML_LEAK_CHECK_SUMMARY, .show_kinds = 1u << ML_LK_DEFINITE,
                                      .error_kinds = 1u << ML_LK_POSSIBLE, .num_callers = 30,
                                      .error_exitcode = 3, .suppressions = supp}};
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;
    assert_int_equal(ml_render_json(f, &r, NULL), 0);
    fclose(f);
    struct ml_report *back = NULL;
    assert_int_equal(ml_report_load_text("t.json", buf, len, &back, err, sizeof err), 0);
    assert_string_equal(back->mode, "attach");
    assert_string_equal(back->command[1], "x");
    assert_int_equal(back->options.leak_check, ML_LEAK_CHECK_SUMMARY);
    assert_int_equal(back->options.show_kinds, 1u << ML_LK_DEFINITE);
    assert_int_equal(back->options.error_kinds, 1u << ML_LK_POSSIBLE);
    assert_int_equal(back->options.num_callers, 30);
    assert_int_equal(back->options.error_exitcode, 3);
    assert_string_equal(back->options.suppressions[0], "my.supp");
    assert_int_equal(back->nprocs, 1);
    const struct ml_proc_report *q = &back->procs[0];
    assert_int_equal(q->pid, 7);
    assert_int_equal(q->exit_how, ML_EXIT_SIGNAL);
    assert_int_equal(q->exit_value, 11);
    assert_int_equal(q->nrecords, 2);
    assert_int_equal(q->records[0].kind, ML_LK_DEFINITE);
    assert_int_equal(q->records[0].indirect_bytes, 32);
    const struct ml_frame_out *got[2];
    assert_int_equal(q->records[0].stack.nframes, 2);
    ml_stack_frames(&q->records[0].stack, got);
    assert_string_equal(got[0]->mangled, "_Znwm");
    assert_int_equal(got[1]->line, 12);
    assert_int_equal(got[1]->inlined, 1);
    assert_int_equal(q->records[1].suppressed, 1);
    assert_string_equal(q->records[1].suppression, "mine");
    assert_int_equal(q->summary[ML_LK_SUPPRESSED].bytes, 16);
    ml_report_free(back);
    ml_stacktab_free(tab);
    free(buf);
    assert_int_equal(ml_report_load_text("t.json", "{\"tool\":\"x\"}", 12, &back, err, sizeof err), -1);
    assert_string_equal(err, "t.json: not a memlens report (no \"tool\": \"memlens\", \"schema\": 1)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_report_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

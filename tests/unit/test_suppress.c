/* test_suppress.c - unit tests for report/suppress.c: the valgrind-format
 * parser (entries kept and skipped, errors with file:line) and the matcher
 * (wildcards, "...", mangled names, obj:, src:, kinds, valgrind's names). */
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
#include <unistd.h>
#include <cmocka.h>

#include "stacktab.h"
#include "suppress.h"

/* ---- helpers ---------------------------------------------------------------- */

struct fr { const char *fn, *mangled, *file; int line; const char *mod; int inl; };

#define MAXF 16
struct stack { struct ml_frame_out f[MAXF]; size_t n; struct ml_stack_out st; };

/* The table of every stack made here (the frames' strings are literals). */
static struct ml_stacktab *tab;

/* Put s's frames (again, after a change) into the table as s->st. */
static void seal(struct stack *s)
{
    if (!tab) tab = ml_stacktab_new();
    assert_non_null(tab);
    assert_int_equal(ml_stacktab_put(tab, s->f, s->n, &s->st), 0);
}

static void make_stack(struct stack *s, const struct fr *f, size_t n)
{
    assert_true(n <= MAXF);
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < n; i++) {
        s->f[i].address = 0x1000 + i;
        s->f[i].function = (char *)f[i].fn;
        s->f[i].mangled = (char *)f[i].mangled;
        s->f[i].file = (char *)f[i].file;
        s->f[i].line = f[i].line;
        s->f[i].module = (char *)f[i].mod;
        s->f[i].inlined = f[i].inl;
    }
    s->n = n;
    seal(s);
}

static const struct fr c_leak[] = {
    {"malloc", "malloc", NULL, 0, NULL, 0},
    {"leak_one", NULL, "/src/leaky.c", 12, "/bin/leaky", 0},
    {"main", NULL, "/src/leaky.c", 30, "/bin/leaky", 0},
    {"__libc_start_call_main", NULL, "libc_start_call_main.h", 58, "/lib/libc.so.6", 0},
    {"_start", NULL, NULL, 0, "/bin/leaky", 0},
};

static const struct fr cxx_leak[] = {
    {"operator new(unsigned long)", "_Znwm", NULL, 0, NULL, 0},
    {"Foo::make()", "_ZN3Foo4makeEv", "/src/foo.h", 7, "/bin/cxx", 1},
    {"Foo::bar()", "_ZN3Foo3barEv", "/src/foo.cpp", 20, "/bin/cxx", 0},
    {"main", NULL, "/src/main.cpp", 5, "/bin/cxx", 0},
};

static struct ml_suppressions *load(const char *text)
{
    char err[256] = "";
    struct ml_suppressions *s = ml_suppressions_new();

    assert_non_null(s);
    if (ml_suppressions_load_text(s, "t.supp", text, err, sizeof err) != 0)
        fail_msg("unexpected parse error: %s", err);
    return s;
}

/* The error message for text, which must fail to parse. */
static void assert_parse_error(const char *text, const char *want)
{
    char err[256] = "";
    struct ml_suppressions *s = ml_suppressions_new();

    assert_int_equal(ml_suppressions_load_text(s, "bad.supp", text, err, sizeof err), -1);
    assert_int_equal(errno, EINVAL);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
    ml_suppressions_free(s);
}

static const char *match_c(const char *text, enum ml_leak_kind kind)
{
    static char name[128];
    struct stack st;
    struct ml_suppressions *s = load(text);
    const char *m;

    make_stack(&st, c_leak, sizeof c_leak / sizeof c_leak[0]);
    m = ml_suppressions_match(s, kind, &st.st);
    snprintf(name, sizeof name, "%s", m ? m : "");
    ml_suppressions_free(s);
    return m ? name : NULL;
}

#define LEAK(name, body) "{\n   " name "\n   Memcheck:Leak\n" body "}\n"

/* ---- wildcards ----------------------------------------------------------------- */

static void test_wildcard(void **state)
{
    (void)state;
    assert_true(ml_supp_wildcard("malloc", "malloc"));
    assert_false(ml_supp_wildcard("malloc", "malloc2"));
    assert_false(ml_supp_wildcard("malloc2", "malloc"));
    assert_true(ml_supp_wildcard("*", ""));
    assert_true(ml_supp_wildcard("*", "anything"));
    assert_true(ml_supp_wildcard("*alloc", "calloc"));
    assert_true(ml_supp_wildcard("*alloc", "posix_memalloc"));
    assert_false(ml_supp_wildcard("*alloc", "posix_memalign"));
    assert_true(ml_supp_wildcard("leak_?ne", "leak_one"));
    assert_false(ml_supp_wildcard("leak_?ne", "leak_ne"));
    assert_true(ml_supp_wildcard("a*b*c", "axxbyyc"));
    assert_true(ml_supp_wildcard("a*b*c", "abcbc"));
    assert_false(ml_supp_wildcard("a*b*c", "axxbyy"));
    assert_true(ml_supp_wildcard("/usr/lib/*", "/usr/lib/x86_64-linux-gnu/libc.so.6"));
    assert_true(ml_supp_wildcard("f\\*", "f*"));
    assert_false(ml_supp_wildcard("f\\*", "fx"));
    assert_true(ml_supp_wildcard("\\?", "?"));
    assert_false(ml_supp_wildcard("", "x"));
    assert_true(ml_supp_wildcard("", ""));
}

/* ---- parser ------------------------------------------------------------------------ */

static void test_parse_entries(void **state)
{
    (void)state;
    struct ml_suppressions *s = load(
        "# a comment\n"
        "\n"
        "{\n"
        "   first\n"
        "   Memcheck:Leak\n"
        "   match-leak-kinds: definite,possible\n"
        "   fun:malloc\n"
        "   ...\n"
        "}\n"
        "  {  \n"
        "   # comments inside an entry are fine\n"
        "   race\n"
        "   Helgrind:Race\n"
        "   fun:foo\n"
        "}\n"
        "{\n"
        "   param\n"
        "   Memcheck:Param\n"
        "   write(buf)\n"
        "   fun:write\n"
        "}\n"
        "{\n"
        "   other-tools\n"
        "   Helgrind,DRD:Race\n"
        "   obj:*\n"
        "}\n"
        "{\n"
        "   cond\n"
        "   Memcheck:Cond\n"
        "   fun:strlen\n"
        "}\n"
        "{\n"
        "   second\n"
        "   Memcheck:Leak\n"
        "   obj:/lib/*\n"
        "   src:leaky.c:12\n"
        "}\n");
    assert_int_equal(ml_suppressions_count(s), 2);
    ml_suppressions_free(s);
}

static void test_parse_several_files(void **state)
{
    (void)state;
    char err[256];
    struct ml_suppressions *s = ml_suppressions_new();

    assert_int_equal(ml_suppressions_load_text(s, "a.supp", LEAK("a", "   fun:malloc\n"), err, sizeof err), 0);
    assert_int_equal(ml_suppressions_load_text(s, "b.supp", LEAK("b", "   fun:calloc\n"), err, sizeof err), 0);
    assert_int_equal(ml_suppressions_load_text(s, "c.supp", "# nothing\n", err, sizeof err), 0);
    assert_int_equal(ml_suppressions_count(s), 2);
    ml_suppressions_free(s);
}

static void test_parse_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_suppress.XXXXXX", err[512];
    int fd = mkstemp(path);
    struct ml_suppressions *s = ml_suppressions_new();
    const char *text = LEAK("from-file", "   fun:malloc\n") "{\n   broken\n";

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(ml_suppressions_load(s, path, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s:7: ", path);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "end of file"));
    assert_int_equal(ml_suppressions_count(s), 1);    /* what came before stays */
    unlink(path);
    assert_int_equal(ml_suppressions_load(s, path, err, sizeof err), -1);
    assert_int_equal(errno, ENOENT);
    assert_non_null(strstr(err, "No such file"));
    ml_suppressions_free(s);
}

static void test_parse_errors(void **state)
{
    (void)state;
    assert_parse_error("fun:malloc\n", "bad.supp:1: expected '{'");
    assert_parse_error("\n# c\n{\n", "bad.supp:3: unexpected end of file");
    assert_parse_error("{\n}\n", "bad.supp:2: expected the suppression's name");
    assert_parse_error("{\n  name\n  MemcheckLeak\n}\n", "bad.supp:3: expected 'Tool:Kind'");
    assert_parse_error("{\n  name\n  Memcheck:leak\n}\n", "bad.supp:3: unknown Memcheck suppression kind 'leak'");
    assert_parse_error("{\n  n\n  Memcheck:Leak\n  match-leak-kinds: definite,lost\n  fun:x\n}\n",
                       "bad.supp:4: bad match-leak-kinds 'definite,lost'");
    assert_parse_error("{\n  n\n  Memcheck:Leak\n  fun:malloc\n  func:main\n}\n",
                       "bad.supp:5: a frame must be");
    assert_parse_error("{\n  n\n  Memcheck:Leak\n  match-leak-kinds: all\n}\n",
                       "bad.supp:5: suppression 'n' has no frames");
    assert_parse_error("{\n  n\n  Memcheck:Leak\n  fun:malloc\n", "bad.supp:4: unexpected end of file");
    assert_parse_error("{\n  n\n  Helgrind:Race\n  fun:malloc\n", "bad.supp:4: unexpected end of file");
    assert_parse_error(LEAK("ok", "   fun:m\n") "}\n", "bad.supp:6: expected '{'");
}

/* ---- matching ------------------------------------------------------------------------ */

static void test_match_functions(void **state)
{
    (void)state;
    assert_string_equal(match_c(LEAK("exact", "   fun:malloc\n   fun:leak_one\n   fun:main\n"),
                                ML_LK_DEFINITE), "exact");
    /* a prefix of the stack is enough; the whole stack too */
    assert_non_null(match_c(LEAK("prefix", "   fun:malloc\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("all", "   fun:malloc\n   fun:leak_one\n   fun:main\n"
                                        "   fun:__libc_start_call_main\n   fun:_start\n"), ML_LK_DEFINITE));
    /* longer than the stack, or out of order: no */
    assert_null(match_c(LEAK("long", "   fun:malloc\n   fun:leak_one\n   fun:main\n"
                                     "   fun:*\n   fun:*\n   fun:*\n"), ML_LK_DEFINITE));
    assert_null(match_c(LEAK("order", "   fun:leak_one\n   fun:malloc\n"), ML_LK_DEFINITE));
    /* anchored at the allocator */
    assert_null(match_c(LEAK("anchored", "   fun:leak_one\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("wild", "   fun:*alloc\n   fun:leak_?ne\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("below", "   fun:malloc\n   fun:leak_one\n   fun:main\n"
                                          "   fun:(below main)\n"), ML_LK_DEFINITE));
}

static void test_match_frame_wildcard(void **state)
{
    (void)state;
    assert_non_null(match_c(LEAK("lead", "   ...\n   fun:main\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("mid", "   fun:malloc\n   ...\n   fun:main\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("zero", "   fun:malloc\n   ...\n   fun:leak_one\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("tail", "   fun:malloc\n   ...\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("only", "   ...\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("two", "   ...\n   fun:leak_one\n   ...\n   fun:_start\n"), ML_LK_DEFINITE));
    assert_null(match_c(LEAK("absent", "   fun:malloc\n   ...\n   fun:nowhere\n"), ML_LK_DEFINITE));
    assert_null(match_c(LEAK("after-end", "   ...\n   fun:_start\n   fun:main\n"), ML_LK_DEFINITE));
}

static void test_match_obj_src(void **state)
{
    (void)state;
    assert_non_null(match_c(LEAK("obj", "   fun:malloc\n   obj:/bin/leaky\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("objwild", "   obj:*\n   obj:*/leaky\n   obj:/bin/*\n"), ML_LK_DEFINITE));
    assert_null(match_c(LEAK("objother", "   fun:malloc\n   obj:/lib/*\n"), ML_LK_DEFINITE));
    /* an unknown object reads "???" */
    assert_non_null(match_c(LEAK("unknown", "   obj:???\n"), ML_LK_DEFINITE));
    assert_non_null(match_c(LEAK("src", "   fun:malloc\n   src:leaky.c:12\n   src:leaky.c\n"), ML_LK_DEFINITE));
    assert_null(match_c(LEAK("srcline", "   fun:malloc\n   src:leaky.c:13\n"), ML_LK_DEFINITE));
}

static void test_match_kinds(void **state)
{
    (void)state;
    const char *text = LEAK("dp", "   match-leak-kinds: definite,possible\n   fun:malloc\n");

    assert_non_null(match_c(text, ML_LK_DEFINITE));
    assert_non_null(match_c(text, ML_LK_POSSIBLE));
    assert_null(match_c(text, ML_LK_INDIRECT));
    assert_null(match_c(text, ML_LK_REACHABLE));
    assert_non_null(match_c(LEAK("any", "   fun:malloc\n"), ML_LK_REACHABLE));
    assert_non_null(match_c(LEAK("all", "   match-leak-kinds: all\n   fun:malloc\n"), ML_LK_INDIRECT));
    assert_null(match_c(LEAK("none", "   match-leak-kinds: none\n   fun:malloc\n"), ML_LK_DEFINITE));
    /* the first entry that matches names the record */
    assert_string_equal(match_c(LEAK("r", "   match-leak-kinds: reachable\n   fun:malloc\n")
                                LEAK("d", "   match-leak-kinds: definite\n   fun:malloc\n")
                                LEAK("d2", "   fun:malloc\n"), ML_LK_DEFINITE), "d");
}

static void test_match_cxx(void **state)
{
    (void)state;
    struct stack st;
    struct ml_suppressions *s = load(
        LEAK("mangled", "   match-leak-kinds: definite\n   fun:_Znwm\n   fun:_ZN3Foo4makeEv\n"
                        "   fun:_ZN3Foo3barEv\n   fun:main\n")
        LEAK("demangled", "   match-leak-kinds: reachable\n   fun:operator new(unsigned long)\n"
                          "   fun:Foo::make()\n")
        LEAK("no-inline", "   match-leak-kinds: indirect\n   fun:_Znwm\n   fun:_ZN3Foo3barEv\n")
        LEAK("skip-inline", "   match-leak-kinds: possible\n   fun:_Znwm\n   fun:*\n   fun:_ZN3Foo3barEv\n"));

    make_stack(&st, cxx_leak, sizeof cxx_leak / sizeof cxx_leak[0]);
    assert_string_equal(ml_suppressions_match(s, ML_LK_DEFINITE, &st.st), "mangled");
    assert_string_equal(ml_suppressions_match(s, ML_LK_REACHABLE, &st.st), "demangled");
    /* the inlined Foo::make() is a frame of its own, as in valgrind */
    assert_null(ml_suppressions_match(s, ML_LK_INDIRECT, &st.st));
    assert_string_equal(ml_suppressions_match(s, ML_LK_POSSIBLE, &st.st), "skip-inline");
    ml_suppressions_free(s);
}

static void test_match_inline_counts(void **state)
{
    (void)state;
    struct stack st;
    struct ml_suppressions *s = load(
        LEAK("no-inline", "   fun:_Znwm\n   fun:_ZN3Foo3barEv\n"));

    make_stack(&st, cxx_leak, sizeof cxx_leak / sizeof cxx_leak[0]);
    assert_null(ml_suppressions_match(s, ML_LK_DEFINITE, &st.st));
    ml_suppressions_free(s);
}

/* Stacks show the memalign family as valgrind 3.19 does: posix_memalign as
 * memalign called by posix_memalign, valloc / aligned_alloc as memalign, so
 * its entries apply; an older entry that starts at posix_memalign does too. */
static void test_match_valgrind_allocators(void **state)
{
    (void)state;
    static const struct fr posix[] = {
        {"memalign", "memalign", NULL, 0, NULL, 0},
        {"posix_memalign", "posix_memalign", NULL, 0, NULL, 0},
        {"leak_memalign", NULL, "/src/leaky.c", 109, "/bin/leaky", 0},
        {"main", NULL, "/src/leaky.c", 211, "/bin/leaky", 0},
    };
    static const struct fr valloc_[] = {
        {"memalign", "memalign", NULL, 0, NULL, 0},
        {"leak_valloc", NULL, "/src/leaky.c", 9, "/bin/leaky", 0},
    };
    struct stack st;
    struct ml_suppressions *s = load(
        LEAK("vg-posix", "   match-leak-kinds: definite\n"
                         "   fun:memalign\n   fun:posix_memalign\n   fun:leak_memalign\n   fun:main\n")
        LEAK("vg-valloc", "   fun:memalign\n   fun:leak_valloc\n")
        LEAK("own", "   match-leak-kinds: reachable\n   fun:posix_memalign\n   fun:leak_memalign\n"));

    make_stack(&st, posix, 4);
    assert_string_equal(ml_suppressions_match(s, ML_LK_DEFINITE, &st.st), "vg-posix");
    assert_string_equal(ml_suppressions_match(s, ML_LK_REACHABLE, &st.st), "own");
    make_stack(&st, valloc_, 2);
    assert_string_equal(ml_suppressions_match(s, ML_LK_DEFINITE, &st.st), "vg-valloc");
    ml_suppressions_free(s);
}

/* A frame shows the public name (setlocale); an entry that names one of its
 * aliases (glibc's __GI_setlocale, as older memlens files do) still applies. */
static void test_match_alias_names(void **state)
{
    (void)state;
    static const struct fr locale[] = {
        {"malloc", "malloc", NULL, 0, NULL, 0},
        {"setlocale", NULL, "setlocale.c", 220, "/lib/libc.so.6", 0},
        {"main", NULL, "/src/sort.c", 30, "/bin/sort", 0},
    };
    struct stack st;
    struct ml_suppressions *s = load(LEAK("old", "   fun:malloc\n   fun:__GI_setlocale\n")
                                     LEAK("new", "   fun:malloc\n   fun:setlocale\n"));

    make_stack(&st, locale, 3);
    assert_string_equal(ml_suppressions_match(s, ML_LK_REACHABLE, &st.st), "new");
    st.f[1].aliases[0] = "__GI_setlocale";
    seal(&st);
    assert_string_equal(ml_suppressions_match(s, ML_LK_REACHABLE, &st.st), "old");
    st.f[1].aliases[0] = NULL;
    st.f[1].aliases[1] = "__GI_setlocale";
    seal(&st);
    assert_string_equal(ml_suppressions_match(s, ML_LK_REACHABLE, &st.st), "old");
    ml_suppressions_free(s);
}

static void test_match_edge_cases(void **state)
{
    (void)state;
    struct stack st;
    struct ml_suppressions *s = load(LEAK("any", "   ...\n") LEAK("unknown-fn", "   fun:???\n"));
    static const struct fr unknown[] = {{NULL, NULL, NULL, 0, NULL, 0}};

    make_stack(&st, NULL, 0);
    assert_string_equal(ml_suppressions_match(s, ML_LK_DEFINITE, &st.st), "any");
    make_stack(&st, unknown, 1);
    assert_string_equal(ml_suppressions_match(s, ML_LK_DEFINITE, &st.st), "any");
    assert_null(ml_suppressions_match(NULL, ML_LK_DEFINITE, &st.st));
    assert_null(ml_suppressions_match(s, ML_LK_COUNT, &st.st));
    ml_suppressions_free(s);
    s = load(LEAK("unknown-fn", "   fun:???\n"));
    assert_string_equal(ml_suppressions_match(s, ML_LK_DEFINITE, &st.st), "unknown-fn");
    ml_suppressions_free(s);
    ml_suppressions_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wildcard),
        cmocka_unit_test(test_parse_entries),
        cmocka_unit_test(test_parse_several_files),
        cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_match_functions),
        cmocka_unit_test(test_match_frame_wildcard),
        cmocka_unit_test(test_match_obj_src),
        cmocka_unit_test(test_match_kinds),
        cmocka_unit_test(test_match_cxx),
        cmocka_unit_test(test_match_inline_counts),
        cmocka_unit_test(test_match_valgrind_allocators),
        cmocka_unit_test(test_match_alias_names),
        cmocka_unit_test(test_match_edge_cases),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    ml_stacktab_free(tab);
    return failed;
}

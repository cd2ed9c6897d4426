/* test_symbols.c - unit tests for report/symbols.c.
 *
 * Symbolizes addresses of this very process from its own /proc/self/maps:
 * functions, exact lines (recorded with __LINE__ by symbols_fixture.c),
 * inlined frames, the module path, unknown addresses and the cache.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "symbols.h"

void *fixture_probe(void);
void *fixture_plain(void);
void *fixture_outer(int k);
extern int fixture_plain_line, fixture_inner_line, fixture_outer_line;

#define MAXF 16

static char *read_self_maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char *text = NULL;
    size_t cap = 0, len = 0, n;

    assert_non_null(f);
    do {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 65536;
            text = realloc(text, cap);
            assert_non_null(text);
        }
        n = fread(text + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose(f);
    text[len] = '\0';
    return text;
}

static int setup(void **state)
{
    char *maps = read_self_maps();
    *state = ml_symbolizer_new(maps, getpid());
    free(maps);
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    ml_symbolizer_free(*state);
    return 0;
}

static void assert_in_fixture(const struct ml_symframe *f, const char *function, int line)
{
    static const char suffix[] = "symbols_fixture.c";

    assert_non_null(f->function);
    assert_string_equal(f->function, function);
    assert_non_null(f->file);
    assert_int_equal(f->file[0], '/');     /* joined with the compilation directory */
    size_t len = strlen(f->file);
    assert_true(len >= sizeof suffix - 1);
    assert_string_equal(f->file + len - (sizeof suffix - 1), suffix);
    assert_int_equal(f->line, line);
}

static void test_plain_function(void **state)
{
    struct ml_symframe out[MAXF];
    void *ra = fixture_plain();
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

    assert_true(n > 0);
    exe[n] = '\0';
    assert_int_equal(ml_symbolize(*state, (uintptr_t)ra, 1, out, MAXF), 1);
    assert_int_equal(out[0].address, (uintptr_t)ra);
    assert_in_fixture(&out[0], "fixture_plain", fixture_plain_line);
    assert_int_equal(out[0].inlined, 0);
    assert_non_null(out[0].module);
    assert_string_equal(out[0].module, exe);
}

static void test_function_entry(void **state)
{
    struct ml_symframe out[MAXF];
    uintptr_t entry = (uintptr_t)&fixture_probe;

    assert_int_equal(ml_symbolize(*state, entry, 0, out, MAXF), 1);
    assert_int_equal(out[0].address, entry);
    assert_non_null(out[0].function);
    assert_string_equal(out[0].function, "fixture_probe");
}

static void test_inlined_frames(void **state)
{
    struct ml_symframe out[MAXF];
    void *ra = fixture_outer(3);
    int n = ml_symbolize(*state, (uintptr_t)ra, 1, out, MAXF);

    assert_int_equal(n, 2);
    assert_in_fixture(&out[0], "fixture_inner", fixture_inner_line);
    assert_int_equal(out[0].inlined, 1);
    assert_in_fixture(&out[1], "fixture_outer", fixture_outer_line);
    assert_int_equal(out[1].inlined, 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(out[i].address, (uintptr_t)ra);
    assert_ptr_equal(out[0].module, out[1].module);

    /* room for one frame: the innermost one */
    assert_int_equal(ml_symbolize(*state, (uintptr_t)ra, 1, out, 1), 1);
    assert_string_equal(out[0].function, "fixture_inner");
}

static void test_unknown_address(void **state)
{
    struct ml_symframe out[MAXF];

    memset(out, 0xa5, sizeof out);
    assert_int_equal(ml_symbolize(*state, 0x10, 1, out, MAXF), 1);
    assert_int_equal(out[0].address, 0x10);
    assert_null(out[0].function);
    assert_null(out[0].file);
    assert_int_equal(out[0].line, 0);
    assert_null(out[0].module);
    assert_int_equal(out[0].inlined, 0);

    /* the heap lies above the executable but in no module */
    char *heap = malloc(16);
    assert_non_null(heap);
    assert_int_equal(ml_symbolize(*state, (uintptr_t)heap, 0, out, MAXF), 1);
    assert_null(out[0].function);
    assert_null(out[0].module);
    free(heap);
}

static void test_cache_returns_same_strings(void **state)
{
    struct ml_symframe a[MAXF], b[MAXF];
    void *ra = fixture_outer(5);
    int na = ml_symbolize(*state, (uintptr_t)ra, 1, a, MAXF);
    int nb = ml_symbolize(*state, (uintptr_t)ra, 1, b, MAXF);

    assert_int_equal(na, nb);
    for (int i = 0; i < na; i++) {
        assert_ptr_equal(a[i].function, b[i].function);
        assert_ptr_equal(a[i].file, b[i].file);
        assert_ptr_equal(a[i].module, b[i].module);
        assert_int_equal(a[i].line, b[i].line);
    }
}

/* The vDSO is read from /proc/PID/mem: named while the process lives, and
 * an unknown frame (no module: it is not a file) when pid is 0. */
static void test_vdso(void **state)
{
    struct ml_symframe out[MAXF];
    char *maps = read_self_maps(), *p = strstr(maps, "[vdso]");
    unsigned long start = 0, end = 0, a;
    struct ml_symbolizer *nopid;

    if (p == NULL) {
        free(maps);
        skip();
    }
    while (p > maps && p[-1] != '\n')
        p--;
    assert_int_equal(sscanf(p, "%lx-%lx", &start, &end), 2);
    nopid = ml_symbolizer_new(maps, 0);
    free(maps);
    assert_non_null(nopid);
    for (a = start; a < end; a += 16)
        if (ml_symbolize(*state, a, 0, out, MAXF) >= 1 && out[0].function != NULL)
            break;
    assert_true(a < end);
    assert_null(out[0].module);
    assert_int_equal(ml_symbolize(nopid, a, 0, out, MAXF), 1);
    assert_null(out[0].function);
    assert_null(out[0].module);
    ml_symbolizer_free(nopid);
}

static void test_tolerates_odd_maps(void **state)
{
    static const char maps[] =
        "00400000-00401000 r-xp 00000000 00:01 77 /memfd:jit (deleted)\n"
        "00500000-00501000 r-xp 00000000 08:01 78 /usr/lib/gone.so (deleted)\n"
        "00600000-00601000 r-xp 00000000 08:01 79 /nonexistent/lib.so\n"
        "00700000-00701000 rw-p 00000000 00:00 0 [heap]\n"
        "garbage line\n"
        "00800000-00801000 r-xp 00000000 00:00 0";      /* no newline at the end */
    struct ml_symframe out[MAXF];
    struct ml_symbolizer *s = ml_symbolizer_new(maps, 0);

    assert_non_null(s);
    for (uint64_t a = 0x400100; a <= 0x800100; a += 0x100000) {
        assert_int_equal(ml_symbolize(s, a, 1, out, MAXF), 1);
        assert_null(out[0].function);
        if (a == 0x600100)     /* unreadable, but its path is known */
            assert_string_equal(out[0].module, "/nonexistent/lib.so");
        else
            assert_null(out[0].module);
    }
    ml_symbolizer_free(s);

    s = ml_symbolizer_new("", 0);
    assert_non_null(s);
    assert_int_equal(ml_symbolize(s, (uintptr_t)&fixture_probe, 0, out, MAXF), 1);
    assert_null(out[0].function);
    ml_symbolizer_free(s);

    errno = 0;
    assert_null(ml_symbolizer_new(NULL, 0));
    assert_int_equal(errno, EINVAL);
    (void)state;
}

/* Functions found by name in this test's own binary, each answer the same
 * when asked again (the second time from the symbolizer's memory, which
 * must keep the answers of different names apart). */
static void test_symbol_address_by_name(void **state)
{
    struct ml_symbolizer *s = *state;
    const char *module = NULL;
    for (int round = 0; round < 2; round++) {
        assert_int_equal(ml_symbol_address(s, "test_symbols", "fixture_plain", &module),
                         (uint64_t)(uintptr_t)fixture_plain);
        assert_non_null(module);
        assert_non_null(strstr(module, "test_symbols"));
        assert_int_equal(ml_symbol_address(s, "test_symbols", "fixture_probe", NULL),
                         (uint64_t)(uintptr_t)fixture_probe);
        assert_int_equal(ml_symbol_address(s, "test_symbols", "no_such_function", &module), 0);
        assert_null(module);
        assert_int_equal(ml_symbol_address(s, "no_such_module.so", "fixture_plain", NULL), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_function),
        cmocka_unit_test(test_function_entry),
        cmocka_unit_test(test_inlined_frames),
        cmocka_unit_test(test_unknown_address),
        cmocka_unit_test(test_cache_returns_same_strings),
        cmocka_unit_test(test_vdso),
        cmocka_unit_test(test_tolerates_odd_maps),
        cmocka_unit_test(test_symbol_address_by_name),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

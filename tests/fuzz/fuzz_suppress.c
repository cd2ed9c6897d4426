/* fuzz_suppress.c - libFuzzer harness for the suppression file parser and matcher.
 * The input is a suppression file; every entry it yields is matched against
 * a fixed C++ leak stack, so the matcher's wildcard and "..." paths run too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "model.h"
#include "stacktab.h"
#include "strpool.h"
#include "suppress.h"

static const struct ml_frame_out frames[] = {
    {.address = 0, .function = "operator new(unsigned long)", .mangled = "_Znwm"},
    {.address = 0x401000, .function = "Foo::make(int)", .mangled = "_ZN3Foo4makeEi",
     .file = "/src/foo.cc", .line = 12, .module = "/usr/bin/app"},
    {.address = 0x401100, .function = "main", .file = "/src/main.c", .line = 3,
     .module = "/usr/bin/app"},
    {.address = 0x7f0000001000, .function = NULL, .module = "/lib/x86_64-linux-gnu/libc.so.6"},
};

/* The fixed stack, its strings in the table's pool (made once). */
static const struct ml_stack_out *the_stack(void)
{
    static struct ml_stacktab *tab;
    static struct ml_stack_out st;
    enum { N = sizeof frames / sizeof frames[0] };
    if (tab) return &st;
    if (!(tab = ml_stacktab_new())) abort();
    struct ml_strpool *pool = ml_stacktab_strings(tab);
    struct ml_frame_out f[N];
    for (size_t i = 0; i < N; i++) {
        f[i] = frames[i];
        f[i].function = frames[i].function ? ml_strpool_get(pool, frames[i].function) : NULL;
        f[i].mangled = frames[i].mangled ? ml_strpool_get(pool, frames[i].mangled) : NULL;
        f[i].file = frames[i].file ? ml_strpool_get(pool, frames[i].file) : NULL;
        f[i].module = frames[i].module ? ml_strpool_get(pool, frames[i].module) : NULL;
    }
    if (ml_stacktab_put(tab, f, N, &st) != 0) abort();
    return &st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), err[256];
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct ml_suppressions *s = ml_suppressions_new();
    if (s && ml_suppressions_load_text(s, "fuzz.supp", text, err, sizeof err) == 0) {
        const struct ml_stack_out *st = the_stack();
        for (int k = 0; k < ML_LK_COUNT; k++) (void)ml_suppressions_match(s, (enum ml_leak_kind)k, st);
    }
    ml_suppressions_free(s);
    free(text);
    return 0;
}

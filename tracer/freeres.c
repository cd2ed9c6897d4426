/* freeres.c - the freeres functions called in an exiting process (see freeres.h). */
#include "freeres.h"

#include <errno.h>
#include <stdlib.h>
#include "elfsym.h"

#define SYSCALL_INSN_LEN 2     /* syscall (0f 05) */

/* The address of name in the loaded module whose file name starts with lib, or 0. */
static uint64_t find_function(int pid, const char *lib, const char *name)
{
    struct ml_module m;
    uint64_t addr = 0;
    if (ml_module_find(pid, ml_module_named, (void *)lib, &m) != 0) return 0;
    return ml_module_symbol(pid, &m, name, &addr) == 0 ? addr : 0;
}

int ml_freeres_run(int tid, unsigned which, double timeout,
                   ml_inject_other_fn other, void *ctx)
{
    uint64_t fns[2] = {
        which & ML_FREERES_CXX ? find_function(tid, "libstdc++.so", "_ZN9__gnu_cxx9__freeresEv") : 0,
        which & ML_FREERES_LIBC ? find_function(tid, "libc.so", "__libc_freeres") : 0,
    };
    if (!fns[0] && !fns[1]) return ML_FREERES_NONE;
    struct ml_inject *in = malloc(sizeof *in);
    if (!in) return -ENOMEM;
    int rc = ml_inject_begin(in, tid);
    for (int i = 0; rc == 0 && i < 2; i++) {
        uint64_t ret;
        if (fns[i]) rc = ml_inject_call(in, fns[i], NULL, 0, timeout, other, ctx, &ret);
    }
    if (!in->gone && in->saved.rip) {
        /* Back to the syscall instruction, with its number in rax: the
         * seccomp stop it was taken at is gone, so exit_group runs again. */
        in->saved.rip -= SYSCALL_INSN_LEN;
        in->saved.rax = in->saved.orig_rax;
        int end = ml_inject_end(in);
        if (rc == 0) rc = end;
    }
    free(in);
    return rc;
}

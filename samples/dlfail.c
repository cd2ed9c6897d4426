/* dlfail.c - allocations made inside the dynamic loader.
 *
 * dlopen() of a library that does not exist fails; glibc records the
 * failure in a 24-byte result block it allocates (held from a thread-local
 * variable) and a message it allocates: "libmemlens-no-such-lib.so.0:
 * cannot open shared object file: No such file or directory", 86 characters
 * and its NUL.  dlerror() hands the message out and keeps both blocks
 * until the next dlerror() call or thread exit.
 *
 * Expected answer (valgrind --run-libc-freeres=no):
 *   definitely lost   0
 *   indirectly lost   0
 *   possibly lost     0
 *   still reachable   2 blocks  111 bytes   the result block and the message
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O0", "no-inline")
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "scrub.h"

static const char *g_message;

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        static const unsigned long k[8] = {0, 0, 0, 0, 0, 0, 2, 111};
        return expect_kinds(k);
    }
    if (dlopen("libmemlens-no-such-lib.so.0", RTLD_NOW) != NULL)
        return 1;
    g_message = dlerror();
    scrub_stack();
    return g_message ? 0 : 1;
}

/* dlclean.c - a clean program whose dlopen fails and which reads dlerror().
 *
 * glibc keeps the failed dlopen's error state (the message and its buffer,
 * per thread) until the next dl* call, and its freeres releases it at exit:
 * memcheck reports nothing of it with its defaults.
 *
 * Expected answer: with `--leak-check=full --error-exitcode=7`, valgrind and
 * memlens both exit 0.  `dlclean leak` also drops one malloc(40) block of its
 * own in main (one definitely lost block of 40 bytes): both exit 7.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    void *h = dlopen("libmemlens-sample-absent.so.0", RTLD_NOW);
    const char *why = h ? NULL : dlerror();
    printf("dlopen %s\n", why ? "failed" : "succeeded");
    if (argc > 1 && strcmp(argv[1], "leak") == 0) {
        void *volatile own = malloc(40);
        own = NULL;
        (void)own;
    }
    return 0;
}

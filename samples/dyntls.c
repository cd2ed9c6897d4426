/* dyntls.c - dynamic TLS of a dlopen'ed module in a thread alive at exit.
 *
 * main dlopens samples/.libs/tlsplugin.so (never closed) and calls
 * tls_touch(); then a worker thread calls it too and waits in pause() while
 * main returns.  Nothing of the program's own is allocated.
 *
 * Expected answer (memlens and valgrind, --leak-check=full):
 *   - the worker's 200-byte TLS block (tlsplugin.c), allocated by ld.so in
 *     allocate_dtv_entry: possibly lost (its DTV holds the aligned start),
 *     suppressed by memlens's default suppression glibc-dynamic-tls-block;
 *   - the worker's DTV (calloc in _dl_allocate_tls under pthread_create):
 *     possibly lost, as under memcheck, not suppressed;
 *   - main's TLS block: still reachable.
 * So with the defaults: possibly lost 1 block, suppressed 1 block of 200
 * bytes; with --default-suppressions=no: possibly lost 2 blocks.  Exit 0;
 * `--error-exitcode=7` makes both tools exit 7 (the DTV).
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int (*tls_touch)(int);

static void *worker(void *arg)
{
    (void)arg;
    tls_touch(2);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    char path[PATH_MAX];
    const char *slash = strrchr(argv[0], '/');
    (void)argc;
    snprintf(path, sizeof path, "%.*s.libs/tlsplugin.so",
             slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
    void *h = dlopen(path, RTLD_NOW);
    if (!h || !(tls_touch = (int (*)(int))dlsym(h, "tls_touch"))) {
        fprintf(stderr, "dyntls: %s\n", dlerror());
        return 1;
    }
    tls_touch(1);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    usleep(20000);
    return 0;
}

/* service.c - a long-running service that leaks at a known rate (attach mode).
 *
 * usage: service [PROGRESS_FILE [LIFETIME_SECONDS [PLUGIN]]]
 *        service --expect
 * Until it is killed (or LIFETIME_SECONDS have passed, then it exits 0), it
 * runs a loop of ticks, about 200 a second.  Each tick:
 *   - handle_request(): allocates three buffers (64, 256, 1,000 bytes) and
 *     frees them again: nothing of it is ever live for long;
 *   - remember(): replaces one of the 64 slots of `registry`, a block
 *     allocated at start-up, with a new 40-byte block (the old one freed):
 *     the new blocks are reachable only through that older block;
 *   - forget_old(): during the first 100 ticks, frees one of the 100 blocks
 *     allocated at start-up;
 *   - leak_request(): as many 72-byte blocks as are due so that exactly
 *     LEAK_RATE (100) a second have been leaked since start, measured on
 *     CLOCK_MONOTONIC, each written once and dropped: definitely lost.
 * When PROGRESS_FILE is given, the tick count is written at its start (as
 * text, overwritten every tick), so a watcher can see the loop progressing.
 * LIFETIME_SECONDS 0 means forever.  PLUGIN, the path of samples/plugin.c
 * built as a shared library, is loaded with dlopen 1 second after start;
 * from then on every tick calls its plugin_work(), which leaks 24-byte
 * blocks in plugin_leak() at 50 a second since the load.
 *
 * Expected answer for any recording window of S seconds that starts after
 * start-up: the definitely lost blocks are leak_request's, 72 bytes each,
 * 100 * S of them (less the ones leaked in the window's last tick); nothing
 * allocated by handle_request or remember is lost (remember's blocks are
 * reachable through `registry`, a block from before the window).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LEAK_RATE 100
#define LEAK_SIZE 72
#define SLOTS 64
#define OLD_BLOCKS 100
#define PLUGIN_AFTER 1.0     /* seconds after start */

struct registry {
    void *slot[SLOTS];
};

struct registry *registry;
static void *old_blocks[OLD_BLOCKS];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

void handle_request(unsigned tick)
{
    char *a = malloc(64), *b = malloc(256), *c = malloc(1000);
    snprintf(a, 64, "request %u", tick);
    memcpy(b, a, 64);
    memcpy(c, b, 64);
    free(c);
    free(b);
    free(a);
}

void remember(unsigned tick)
{
    unsigned i = tick % SLOTS;
    free(registry->slot[i]);
    registry->slot[i] = malloc(40);
    memset(registry->slot[i], (int)tick, 40);
}

void forget_old(unsigned tick)
{
    if (tick < OLD_BLOCKS) {
        free(old_blocks[tick]);
        old_blocks[tick] = NULL;
    }
}

/* Leak what is due; returns the new total. */
long leak_request(long leaked, double elapsed)
{
    while (leaked < (long)(elapsed * LEAK_RATE)) {
        volatile char *p = malloc(LEAK_SIZE);
        p[0] = 1;
        leaked++;
    }
    return leaked;
}

typedef void (*plugin_fn)(double);

/* The plugin's work function once it is due and loaded, else NULL. */
static plugin_fn plugin(const char *path, double t)
{
    static plugin_fn fn;
    static int tried;
    if (!path || fn || tried || t < PLUGIN_AFTER) return fn;
    tried = 1;
#ifdef SERVICE_STATIC               /* no dlopen in the statically linked build */
    void *h = NULL;
    fprintf(stderr, "service: %s: no plugins when statically linked\n", path);
    exit(2);
#else
    void *h = dlopen(path, RTLD_NOW);
#endif
    if (!h) {
        fprintf(stderr, "service: %s\n", dlerror());
        exit(2);
    }
    fn = (plugin_fn)dlsym(h, "plugin_work");
    return fn;
}

static void progress(int fd, unsigned tick)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%u\n", tick);
    if (fd >= 0 && pwrite(fd, buf, (size_t)n, 0) < 0) fd = -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--expect") == 0) {
        printf("{\"leak_function\":\"leak_request\",\"leak_size\":%d,\"leak_rate\":%d,"
               "\"not_leaking_functions\":[\"handle_request\",\"remember\",\"forget_old\"],"
               "\"plugin_function\":\"plugin_leak\",\"plugin_leak_size\":24,"
               "\"plugin_leak_rate\":50,\"plugin_after\":%g}\n",
               LEAK_SIZE, LEAK_RATE, PLUGIN_AFTER);
        return 0;
    }
    int fd = argc > 1 ? open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
    double lifetime = argc > 2 ? atof(argv[2]) : 0;
    const char *plugin_path = argc > 3 ? argv[3] : NULL;
    registry = calloc(1, sizeof *registry);
    for (int i = 0; i < OLD_BLOCKS; i++) old_blocks[i] = malloc(24);
    double start = now();
    long leaked = 0;
    for (unsigned tick = 0;; tick++) {
        double t = now() - start;
        if (lifetime > 0 && t >= lifetime) break;
        handle_request(tick);
        remember(tick);
        forget_old(tick);
        leaked = leak_request(leaked, t);
        plugin_fn work = plugin(plugin_path, t);
        if (work) work(t - PLUGIN_AFTER);
        progress(fd, tick);
        usleep(5000);
    }
    return 0;
}

/* plugin.c - a library that samples/service loads with dlopen while it runs.
 *
 * plugin_work() leaks PLUGIN_LEAK_SIZE-byte blocks in plugin_leak() so that
 * exactly PLUGIN_LEAK_RATE a second have been leaked since the plugin was
 * loaded (the caller passes the seconds since then).  An attached memlens
 * sees these only if it redirects the allocation functions of objects
 * loaded after the attach.
 */
#include <stdlib.h>

#define PLUGIN_LEAK_RATE 50
#define PLUGIN_LEAK_SIZE 24

static long leaked;

__attribute__((noinline)) void plugin_leak(void)
{
    volatile char *p = malloc(PLUGIN_LEAK_SIZE);
    p[0] = 2;
}

void plugin_work(double seconds_since_load)
{
    while (leaked < (long)(seconds_since_load * PLUGIN_LEAK_RATE)) {
        plugin_leak();
        leaked++;
    }
}

/* wrapped.c - leaks made through allocation wrappers.
 *
 * Reports name the first frame outside allocation wrappers as the place a
 * block was allocated at.  Two definitely lost blocks, each from its own
 * stack:
 *   48 bytes: leak_via_xmalloc -> xmalloc -> malloc   (xmalloc: a known wrapper,
 *             so "Allocated at" is leak_via_xmalloc)
 *   72 bytes: leak_via_pool -> pool_get -> xmalloc -> malloc   (pool_get is
 *             known only with --alloc-fn=pool_get; without it the site is
 *             pool_get, the first frame past xmalloc)
 * Nothing else stays live.  Built with -O0 -fno-inline: every function is a
 * frame of its own.
 */
#include <stdlib.h>

void *xmalloc(size_t n);
void *pool_get(size_t n);

void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    return p;
}

void *pool_get(size_t n)
{
    char *p = xmalloc(n);   /* a wrapper of a wrapper: both are skipped */
    p[0] = 0;               /* work after the call: no tail call, a frame of its own */
    return p;
}

static void leak_via_xmalloc(void)
{
    volatile char *p = xmalloc(48);
    p[0] = 1;               /* the only pointer dies with the frame */
}

static void leak_via_pool(void)
{
    volatile char *p = pool_get(72);
    p[0] = 1;
}

int main(void)
{
    leak_via_xmalloc();
    leak_via_pool();
    return 0;
}

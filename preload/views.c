/* views.c - the session's mappings in libmemlens.so (see views.h).
 * Only system calls: this runs inside allocation calls and fork handlers. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "views.h"

#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memlens/session.h"
#include "shim.h"

#define ML_MAX_VIEWS 40u
struct ml_view {
    char *base;
    uint64_t size;
};
static struct ml_view g_views[ML_MAX_VIEWS];
static unsigned g_nviews;            /* views of the current session (atomic) */
static int g_view_lock;

void ml_views_reset(void *base, uint64_t size)
{
    for (unsigned i = 0; i < g_nviews; i++)
        if (g_views[i].base != base)
            syscall(SYS_munmap, g_views[i].base, g_views[i].size);
    g_views[0].base = base;
    g_views[0].size = size;
    __atomic_store_n(&g_nviews, base ? 1u : 0u, __ATOMIC_RELEASE);
}

void *ml_view(uint64_t end)
{
    unsigned n = __atomic_load_n(&g_nviews, __ATOMIC_ACQUIRE);
    if (n == 0)
        return NULL;
    if (ML_LIKELY(g_views[n - 1].size >= end))
        return g_views[n - 1].base;
    if (end > ML_SESSION_SIZE)
        return NULL;
    while (__atomic_exchange_n(&g_view_lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
    n = __atomic_load_n(&g_nviews, __ATOMIC_ACQUIRE);
    struct ml_view *v = &g_views[n - 1];
    void *got = v->base;
    if (v->size < end) {
        uint64_t size = v->size * 2 > end ? v->size * 2 : (end + 4095u) & ~4095ull;
        if (size > ML_SESSION_SIZE)
            size = ML_SESSION_SIZE;
        void *nb = n < ML_MAX_VIEWS ? (void *)syscall(SYS_mremap, v->base, 0, size, MREMAP_MAYMOVE)
                                    : MAP_FAILED;
        if (nb == MAP_FAILED) {
            got = NULL;
        } else {
            g_views[n].base = nb;
            g_views[n].size = size;
            __atomic_store_n(&g_nviews, n + 1, __ATOMIC_RELEASE);
            got = nb;
        }
    }
    __atomic_store_n(&g_view_lock, 0, __ATOMIC_RELEASE);
    return got;
}

uint64_t ml_view_reserve(struct ml_header *hdr, uint64_t bytes, uint64_t align)
{
    uint64_t old = __atomic_load_n(&hdr->frames_used, __ATOMIC_RELAXED), off;

    do {
        off = (old + align - 1) & ~(align - 1);
        if (off + bytes > ML_FRAMES_BYTES)
            return UINT64_MAX;
    } while (!__atomic_compare_exchange_n(&hdr->frames_used, &old, off + bytes, 1,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return ml_view(ML_OFF_FRAMES + off + bytes) ? off : UINT64_MAX;
}

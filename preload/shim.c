/* shim.c - the allocation interposers of libmemlens.so.
 *
 * Exports malloc, calloc, realloc, reallocarray, free, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc and every C++ operator new/delete
 * (by mangled name), and mmap, munmap, mremap and shmget (see the end of the
 * file); nothing else leaves the library.  Each interposer calls
 * the real function found with dlsym(RTLD_NEXT) and reports the call to
 * record.c exactly once:
 *   - allocations are reported after the real call returned a block,
 *     releases before the real call (so a reused address is never seen
 *     allocated twice); realloc claims its sequence number before the call;
 *   - a per-thread guard is held around the real call and the reporting, so
 *     that whatever allocates underneath (the real operator new calling
 *     malloc, dlsym, the unwinder) passes straight through unrecorded.
 *     C++ operators release the guard with a cleanup handler, which also
 *     runs when the real operator throws (this file needs -fexceptions).
 *
 * Until the real functions are known (dlsym itself allocates), requests are
 * served from a static buffer whose blocks are never released.
 *
 * Owns: the table of real functions, the bootstrap buffer, the guard, and
 * the library constructor that starts recording.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memlens/session.h"
#include "record.h"
#include "stacks.h"

#ifndef __EXCEPTIONS
#error "shim.c must be built with -fexceptions (see the guard cleanup below)"
#endif

/* ---- real functions ---------------------------------------------------- */

struct ml_real {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
};

static struct ml_real real;
static int g_ready;        /* real is complete (atomic, release) */
static int g_resolving;    /* one thread runs dlsym (atomic) */

static ML_TLS int t_guard; /* inside the shim on this thread */

#define ML_SYM(field, name) \
    (r.field = (__typeof__(r.field))dlsym(RTLD_NEXT, name), r.field != NULL)

/* Look up the real functions once; false while they are not known yet
 * (the caller then serves itself from the bootstrap buffer). */
static bool resolve_real(void)
{
    int expect = 0;

    if (__atomic_compare_exchange_n(&g_resolving, &expect, 1, 0,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        struct ml_real r;
        int err = errno;
        bool ok = ML_SYM(malloc, "malloc") & ML_SYM(calloc, "calloc") &
                  ML_SYM(realloc, "realloc") & ML_SYM(free, "free") &
                  ML_SYM(posix_memalign, "posix_memalign") &
                  ML_SYM(aligned_alloc, "aligned_alloc") &
                  ML_SYM(memalign, "memalign") & ML_SYM(valloc, "valloc") &
                  ML_SYM(pvalloc, "pvalloc");
        if (!ok) {
            static const char msg[] = "memlens: cannot find the C allocator\n";
            (void)!write(2, msg, sizeof(msg) - 1);
            abort();
        }
        real = r;
        ml_rec_guard_at(&t_guard, (const void *)r.malloc);   /* before any session exists: see mmap below */
        errno = err;
        __atomic_store_n(&g_ready, 1, __ATOMIC_RELEASE);
    }
    return __atomic_load_n(&g_ready, __ATOMIC_ACQUIRE) != 0;
}

static inline bool ready(void)
{
    return ML_LIKELY(__atomic_load_n(&g_ready, __ATOMIC_ACQUIRE)) || resolve_real();
}

/* ---- bootstrap buffer -------------------------------------------------- */

#define ML_BOOT_BYTES (256u * 1024u)
#define ML_BOOT_HDR   16u          /* block size is stored just before a block */

static char g_boot[ML_BOOT_BYTES] __attribute__((aligned(4096)));
static size_t g_boot_used;         /* atomic bump pointer */

static inline bool in_boot(const void *p)
{
    return (const char *)p >= g_boot && (const char *)p < g_boot + ML_BOOT_BYTES;
}

/* Zeroed memory (the buffer is never reused); align is a power of two. */
static void *boot_alloc(size_t n, size_t align)
{
    size_t old = __atomic_load_n(&g_boot_used, __ATOMIC_RELAXED), start;

    if (align < ML_BOOT_HDR)
        align = ML_BOOT_HDR;
    do {
        start = (old + ML_BOOT_HDR + align - 1) & ~(align - 1);
        if (n > ML_BOOT_BYTES || align > 4096 || start + n > ML_BOOT_BYTES) {
            errno = ENOMEM;
            return NULL;
        }
    } while (!__atomic_compare_exchange_n(&g_boot_used, &old, start + n, 1,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    memcpy(g_boot + start - ML_BOOT_HDR, &n, sizeof(n));
    return g_boot + start;
}

static size_t boot_size(const void *p)
{
    size_t n;

    memcpy(&n, (const char *)p - ML_BOOT_HDR, sizeof(n));
    return n;
}

/* ---- guard ------------------------------------------------------------- */

/* Take the guard; false when this thread is already inside the shim. */
static inline bool guard_take(void)
{
    if (t_guard)
        return false;
    t_guard = 1;
    return true;
}

static void guard_cleanup(int *unused)
{
    (void)unused;
    t_guard = 0;
}

bool ml_guard_take(void)
{
    return guard_take();
}

void ml_guard_release(void)
{
    t_guard = 0;
}

/* Releases the guard when the enclosing block is left, by return or throw. */
#define ML_GUARD_SCOPE \
    int ml_scope_ __attribute__((cleanup(guard_cleanup), unused)) = 1

/* ---- stack scrubbing --------------------------------------------------- */

/* Bytes below an interposer's frame that the real allocator and the
 * recording may have used (measured: the real malloc, the fast unwinder
 * and the event write stay well inside; libunwind's walk goes deeper, but
 * ml_rec_alloc() hides the block's address from it). */
#define ML_SCRUB_BYTES 1024u

/* Zero the dead stack just below the caller's frame.  The real allocator
 * and the recording leave copies of the new block's address there; a
 * program that later dies deep in its stack (abort(), a crash in a callee)
 * would have those stale copies inside live but never-written frames, and
 * its lost block would look reachable.  memcheck never sees such copies
 * (its allocator runs on its own stack, and it ignores undefined words):
 * scrubbing gives the same answer.
 *
 * It runs after every allocation, so the stores are spelled out: the
 * compiler turns a memset of this size into `rep stos`, whose start-up
 * costs three times what 32 vector stores do (bench/ measures it).  The
 * array sits right below the saved frame pointer either way; the stores
 * are unaligned, so no realignment gap is left unwritten.  AVX2 stores
 * are used where the CPU has them (chosen once, by scrub_pick()). */
typedef char ml_v16 __attribute__((vector_size(16)));
typedef char ml_v32 __attribute__((vector_size(32)));

/* Zero dead[0 .. ML_SCRUB_BYTES) with `insn` stores of the zero vector z,
 * four stores a step. */
#define ML_SCRUB_STORES(insn, z)                                           \
    for (unsigned i = 0; i < ML_SCRUB_BYTES; i += 4 * sizeof(z))          \
        __asm__ volatile(insn " %1, (%0)\n\t"                              \
                         insn " %1, %c2(%0)\n\t"                           \
                         insn " %1, 2*%c2(%0)\n\t"                         \
                         insn " %1, 3*%c2(%0)"                               \
                         : : "r"(dead + i), "x"(z), "i"(sizeof(z)) : "memory")

__attribute__((noinline)) static void scrub_sse2(void)
{
    char dead[ML_SCRUB_BYTES];
    ml_v16 z = { 0 };

    ML_SCRUB_STORES("movups", z);
    __asm__ volatile("" : : "r"(dead) : "memory");
}

__attribute__((noinline, target("avx2"))) static void scrub_avx2(void)
{
    char dead[ML_SCRUB_BYTES];
    ml_v32 z = { 0 };

    ML_SCRUB_STORES("vmovdqu", z);
    __asm__ volatile("" : : "r"(dead) : "memory");
}

static void (*g_scrub)(void) = scrub_sse2;

/* Once, from the constructor: the widest stores this CPU has. */
static void scrub_pick(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        g_scrub = scrub_avx2;
}

static inline void scrub_below(void)
{
    g_scrub();
}

/* ---- fresh blocks ------------------------------------------------------
 * glibc hands a freed chunk out again at once, so the bytes of a new block
 * that the program never writes still hold whatever the chunk held before,
 * pointers included: the exit scan would follow them.  memcheck never sees
 * such words (its allocator delays reuse, and it ignores bytes never
 * written), so every new block is zeroed before the program gets it: a
 * memset costs less than the event that records the block.  From
 * ML_ZERO_PROBE bytes on only the block's resident pages are zeroed (a page
 * never touched reads as zeros already; writing it would make the program
 * resident where it is not, and a large fresh mapping stays untouched). */
#define ML_ZERO_PROBE (64u * 1024u)
#define ML_PAGE 4096u

static void zero_resident(char *p, size_t n)
{
    unsigned char vec[1024];
    uintptr_t end = (uintptr_t)p + n, page = (uintptr_t)p & ~(uintptr_t)(ML_PAGE - 1);

    while (page < end) {
        size_t len = end - page, pages;
        if (len > sizeof(vec) * (size_t)ML_PAGE)
            len = sizeof(vec) * (size_t)ML_PAGE;
        pages = (len + ML_PAGE - 1) / ML_PAGE;
        if (syscall(SYS_mincore, page, len, vec) != 0)
            memset(vec, 1, pages);          /* unknown: zero them all */
        for (size_t i = 0; i < pages; i++) {
            uintptr_t a = page + i * ML_PAGE, b = a + ML_PAGE;
            if (!(vec[i] & 1))
                continue;
            if (a < (uintptr_t)p)
                a = (uintptr_t)p;
            if (b > end)
                b = end;
            memset((void *)a, 0, b - a);
        }
        page += pages * ML_PAGE;
    }
}

/* Zero n bytes of a new block at p (NULL: nothing). */
static inline void zero_fresh(void *p, size_t n)
{
    if (!p || !ml_rec_zero_new())
        return;
    if (ML_LIKELY(n < ML_ZERO_PROBE))
        memset(p, 0, n);
    else
        zero_resident(p, n);
}

/* Report an allocation (guard held), release the guard, return p. */
static inline void *alloc_done(void *p, size_t n, unsigned fn)
{
    if (p && ml_rec_on())
        ml_rec_alloc(p, n, fn);
    scrub_below();
    t_guard = 0;
    return p;
}

/* alloc_done() for a block whose bytes the allocator did not set. */
static inline void *fresh_done(void *p, size_t n, unsigned fn)
{
    zero_fresh(p, n);
    return alloc_done(p, n, fn);
}

/* A block about to be released: the real allocator first reads the
 * block's header, just below it, and in a program that frees blocks it has
 * not touched for a while that read misses the caches.  Asking for the
 * line before the release is recorded overlaps the two (a prefetch never
 * faults, whatever p is). */
static inline void release_soon(const void *p)
{
    __builtin_prefetch((const char *)p - 16);
}

static void find_allocator(void);

__attribute__((constructor)) static void ml_ctor(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    int err = errno;
    scrub_pick();
    if (ready() && guard_take()) {
        ml_rec_start(envp);
        find_allocator();
        t_guard = 0;
    }
    errno = err;
}

/* ---- malloc family ----------------------------------------------------- */

ML_EXPORT void *malloc(size_t n)
{
    if (!ready())
        return boot_alloc(n, 0);
    if (!guard_take())
        return real.malloc(n);
    return fresh_done(real.malloc(n), n, ML_FN_MALLOC);
}

ML_EXPORT void *calloc(size_t n, size_t m)
{
    size_t bytes;

    if (!ready()) {
        if (__builtin_mul_overflow(n, m, &bytes)) {
            errno = ENOMEM;
            return NULL;
        }
        return boot_alloc(bytes, 0);
    }
    if (!guard_take())
        return real.calloc(n, m);
    return alloc_done(real.calloc(n, m), n * m, ML_FN_CALLOC);
}

ML_EXPORT void free(void *p)
{
    if (!p || in_boot(p) || !ready())   /* not ready: p cannot be a real block */
        return;
    if (!guard_take()) {
        real.free(p);
        return;
    }
    release_soon(p);
    if (ml_rec_on())
        ml_rec_free(p, 0, ML_FN_FREE);
    real.free(p);
    t_guard = 0;
}

/* realloc of a bootstrap block: move it to the real heap. */
static void *boot_realloc(void *p, size_t n, unsigned fn)
{
    size_t old = boot_size(p);

    if (n == 0)
        return NULL;   /* like glibc: the block is released, NULL returned */
    bool outer = ready() && guard_take();
    void *q = ready() ? real.malloc(n) : boot_alloc(n, 0);
    if (q)
        memcpy(q, p, old < n ? old : n);
    return outer ? alloc_done(q, n, fn) : q;
}

/* Report a finished realloc; seq was claimed for p before the call. */
static void realloc_done(void *p, void *q, size_t n, uint64_t seq, unsigned fn)
{
    if (q) {
        if (p)
            ml_rec_free_at(seq, p, fn);
        ml_rec_alloc(q, n, fn);
    } else if (p) {
        if (n == 0)
            ml_rec_free_at(seq, p, fn);   /* glibc frees p and returns NULL */
        else
            ml_rec_nop(seq);              /* failed: p is untouched */
    }
}

static void *realloc_common(void *p, size_t n, unsigned fn)
{
    if (p && in_boot(p))
        return boot_realloc(p, n, fn);
    if (!ready())
        return p ? NULL : boot_alloc(n, 0);
    if (!guard_take())
        return real.realloc(p, n);
    if (p)
        release_soon(p);
    bool on = ml_rec_on();
    uint64_t seq = on && p ? ml_rec_claim() : ML_NO_SEQ;
    size_t had = p ? malloc_usable_size(p) : 0;   /* what the block keeps */
    void *q = real.realloc(p, n);
    if (q && n > had)
        zero_fresh((char *)q + had, n - had);
    if (on)
        realloc_done(p, q, n, seq, fn);
    scrub_below();
    t_guard = 0;
    return q;
}

/* A block that realloc(NULL, n) makes is recorded as malloc's, as valgrind
 * names its allocator (glibc's realloc calls malloc for it). */
ML_EXPORT void *realloc(void *p, size_t n)
{
    return realloc_common(p, n, p ? ML_FN_REALLOC : ML_FN_MALLOC);
}

/* glibc's reallocarray is exactly this: realloc after an overflow check;
 * its blocks are recorded as realloc's (malloc's for NULL), as valgrind,
 * which does not replace reallocarray, sees them. */
ML_EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
    size_t bytes;

    if (__builtin_mul_overflow(n, m, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc_common(p, bytes, p ? ML_FN_REALLOC : ML_FN_MALLOC);
}

ML_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (!ready()) {
        if (align < sizeof(void *) || (align & (align - 1)))
            return EINVAL;
        void *p = boot_alloc(n, align);
        return p ? (*out = p, 0) : ENOMEM;
    }
    if (!guard_take())
        return real.posix_memalign(out, align, n);
    int rc = real.posix_memalign(out, align, n);
    fresh_done(rc == 0 ? *out : NULL, n, ML_FN_POSIX_MEMALIGN);
    return rc;
}

ML_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (!ready())
        return boot_alloc(n, align);
    if (!guard_take())
        return real.aligned_alloc(align, n);
    return fresh_done(real.aligned_alloc(align, n), n, ML_FN_ALIGNED_ALLOC);
}

ML_EXPORT void *memalign(size_t align, size_t n)
{
    if (!ready())
        return boot_alloc(n, align);
    if (!guard_take())
        return real.memalign(align, n);
    return fresh_done(real.memalign(align, n), n, ML_FN_MEMALIGN);
}

ML_EXPORT void *valloc(size_t n)
{
    if (!ready())
        return boot_alloc(n, 4096);
    if (!guard_take())
        return real.valloc(n);
    return fresh_done(real.valloc(n), n, ML_FN_VALLOC);
}

ML_EXPORT void *pvalloc(size_t n)
{
    if (!ready())
        return boot_alloc((n + 4095) & ~(size_t)4095, 4096);
    if (!guard_take())
        return real.pvalloc(n);
    return fresh_done(real.pvalloc(n), n, ML_FN_PVALLOC);
}

/* ---- C++ operators ----------------------------------------------------- */

/* After a failed dlsym or dlopen of the shim's own (guard held): glibc
 * keeps the failure in a per-thread result block and a message, both
 * allocated unrecorded.  Left there, the program's own first failure would
 * reuse that block instead of allocating it, and the message it then
 * allocates would hang from a block memlens never saw (definitely lost,
 * where memcheck finds both still reachable).  The first dlerror() hands
 * the message out, the second releases both. */
static void dl_forget_error(void)
{
    (void)dlerror();
    (void)dlerror();
}

/* The real operator `name`, looked up on first use: the C++ runtime may be
 * loaded after us, or dlopen'ed privately (then RTLD_NEXT cannot see it). */
static void *op_sym(void **slot, const char *name)
{
    static const char *const runtimes[] = { "libstdc++.so.6", "libc++.so.1" };
    void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

    if (ML_LIKELY(f != NULL))
        return f;
    int saved = t_guard, err = errno;
    t_guard = 1;   /* what dlsym allocates is not the program's */
    f = dlsym(RTLD_NEXT, name);
    bool failed = f == NULL;
    for (unsigned i = 0; !f && i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
        void *h = dlopen(runtimes[i], RTLD_LAZY | RTLD_NOLOAD);
        f = h ? dlsym(h, name) : NULL;   /* h stays open: f must stay valid */
    }
    if (failed)
        dl_forget_error();
    t_guard = saved;
    errno = err;
    if (!f) {
        static const char msg[] = "memlens: cannot find the real C++ operator\n";
        (void)!write(2, msg, sizeof(msg) - 1);
        abort();
    }
    __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    return f;
}

static inline void *op_new_done(void *p, size_t n, unsigned fn)
{
    zero_fresh(p, n);
    if (p && ml_rec_on())
        ml_rec_alloc(p, n, fn);
    scrub_below();
    return p;
}

static inline void op_delete_note(void *p, size_t n, unsigned fn)
{
    release_soon(p);
    if (ml_rec_on())
        ml_rec_free(p, n, fn);
}

typedef void *(*ml_new_t)(size_t);
typedef void *(*ml_new_nt_t)(size_t, const void *);
typedef void *(*ml_new_al_t)(size_t, size_t);
typedef void *(*ml_new_al_nt_t)(size_t, size_t, const void *);
typedef void (*ml_del_t)(void *);
typedef void (*ml_del_sz_t)(void *, size_t);
typedef void (*ml_del_nt_t)(void *, const void *);
typedef void (*ml_del_al_nt_t)(void *, size_t, const void *);
typedef void (*ml_del_sz_al_t)(void *, size_t, size_t);

/* operator new variant `sym`: PARAMS name the size `n`. */
#define ML_NEW(sym, fn, type, PARAMS, ARGS)                   \
    ML_EXPORT void *sym PARAMS                                \
    {                                                         \
        static void *slot;                                    \
        type f = (type)op_sym(&slot, #sym);                   \
        if (!guard_take())                                    \
            return f ARGS;                                    \
        ML_GUARD_SCOPE;                                       \
        return op_new_done(f ARGS, n, fn);                    \
    }

/* operator delete variant `sym`: PARAMS name the pointer `p`; SIZE is the
 * size argument of a sized delete, 0 otherwise. */
#define ML_DELETE(sym, fn, type, PARAMS, ARGS, SIZE)          \
    ML_EXPORT void sym PARAMS                                 \
    {                                                         \
        static void *slot;                                    \
        type f = (type)op_sym(&slot, #sym);                   \
        if (!p || !guard_take()) {                            \
            f ARGS;                                           \
            return;                                           \
        }                                                     \
        ML_GUARD_SCOPE;                                       \
        op_delete_note(p, SIZE, fn);                          \
        f ARGS;                                               \
    }

#define NT const void *nt /* std::nothrow_t const & */
#define AL size_t al      /* std::align_val_t */

ML_NEW(_Znwm, ML_FN_NEW, ml_new_t, (size_t n), (n))
ML_NEW(_Znam, ML_FN_NEW_ARRAY, ml_new_t, (size_t n), (n))
ML_NEW(_ZnwmRKSt9nothrow_t, ML_FN_NEW, ml_new_nt_t, (size_t n, NT), (n, nt))
ML_NEW(_ZnamRKSt9nothrow_t, ML_FN_NEW_ARRAY, ml_new_nt_t, (size_t n, NT), (n, nt))
ML_NEW(_ZnwmSt11align_val_t, ML_FN_NEW, ml_new_al_t, (size_t n, AL), (n, al))
ML_NEW(_ZnamSt11align_val_t, ML_FN_NEW_ARRAY, ml_new_al_t, (size_t n, AL), (n, al))
ML_NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, ML_FN_NEW, ml_new_al_nt_t,
       (size_t n, AL, NT), (n, al, nt))
ML_NEW(_ZnamSt11align_val_tRKSt9nothrow_t, ML_FN_NEW_ARRAY, ml_new_al_nt_t,
       (size_t n, AL, NT), (n, al, nt))

ML_DELETE(_ZdlPv, ML_FN_DELETE, ml_del_t, (void *p), (p), 0)
ML_DELETE(_ZdaPv, ML_FN_DELETE_ARRAY, ml_del_t, (void *p), (p), 0)
ML_DELETE(_ZdlPvm, ML_FN_DELETE, ml_del_sz_t, (void *p, size_t n), (p, n), n)
ML_DELETE(_ZdaPvm, ML_FN_DELETE_ARRAY, ml_del_sz_t, (void *p, size_t n), (p, n), n)
ML_DELETE(_ZdlPvRKSt9nothrow_t, ML_FN_DELETE, ml_del_nt_t, (void *p, NT), (p, nt), 0)
ML_DELETE(_ZdaPvRKSt9nothrow_t, ML_FN_DELETE_ARRAY, ml_del_nt_t, (void *p, NT), (p, nt), 0)
ML_DELETE(_ZdlPvSt11align_val_t, ML_FN_DELETE, ml_del_sz_t, (void *p, AL), (p, al), 0)
ML_DELETE(_ZdaPvSt11align_val_t, ML_FN_DELETE_ARRAY, ml_del_sz_t, (void *p, AL), (p, al), 0)
ML_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, ML_FN_DELETE, ml_del_al_nt_t,
          (void *p, AL, NT), (p, al, nt), 0)
ML_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, ML_FN_DELETE_ARRAY, ml_del_al_nt_t,
          (void *p, AL, NT), (p, al, nt), 0)
ML_DELETE(_ZdlPvmSt11align_val_t, ML_FN_DELETE, ml_del_sz_al_t,
          (void *p, size_t n, AL), (p, n, al), n)
ML_DELETE(_ZdaPvmSt11align_val_t, ML_FN_DELETE_ARRAY, ml_del_sz_al_t,
          (void *p, size_t n, AL), (p, n, al), n)

/* ---- the program's own mappings ----------------------------------------
 * mmap, munmap, mremap and shmget made by the program itself (malloc, the
 * thread library and the loader call the kernel directly and never come
 * here) are reported with their stacks, so that mappings never unmapped and
 * SysV segments never removed can be traced to their callers.  They go
 * straight to the kernel: no real function needs to be found first. */

static inline bool map_guard(void)
{
    return ready() && guard_take();
}

/* The allocator's code: the object that defines the real malloc, found on
 * first use.  An allocator other than glibc's (jemalloc, tcmalloc,
 * mimalloc) maps its memory through mmap, and may do so outside any
 * allocation call (from its constructor, which can run before ours). */
static uintptr_t g_alloc_lo, g_alloc_hi;
static int g_alloc_known;   /* 0 unknown, 1 known (atomic) */

/* Find the allocator's object once.  Unless it is the C library, its
 * thread-local storage (jemalloc keeps its thread caches and lookup caches
 * there) is the allocator's own: its place is published for the tracer. */
static void find_allocator(void)
{
    struct ml_object o;
    Dl_info di;

    if (__atomic_load_n(&g_alloc_known, __ATOMIC_ACQUIRE))
        return;
    if (!ml_object_at((const void *)real.malloc, &o))
        memset(&o, 0, sizeof(o));
    g_alloc_lo = o.text_lo;
    g_alloc_hi = o.text_hi;
    const char *name = dladdr((const void *)real.malloc, &di) && di.dli_fname ?
                       strrchr(di.dli_fname, '/') : NULL;
    if (o.tls && name && strncmp(name + 1, "libc.so", 7) != 0)
        ml_rec_allocator_tls(o.tls, o.tls_size);
    __atomic_store_n(&g_alloc_known, 1, __ATOMIC_RELEASE);
}

static bool from_allocator(const void *caller)
{
    find_allocator();
    return (uintptr_t)caller >= g_alloc_lo && (uintptr_t)caller < g_alloc_hi;
}

/* A mapping the allocator makes for itself is made with the guard held:
 * the tracer, which reads the guard at the mmap stop, counts it as the
 * allocator's (never a root), and it is not reported as the program's.
 * True when the guard was taken here for the allocator's code.  Either way
 * the session is started first, so that the tracer knows where to read
 * (an allocator initialises inside the first allocation call, before the
 * block it returns is recorded). */
static bool allocator_maps(const void *caller)
{
    if (!ready())
        return false;
    if (t_guard) {
        (void)ml_rec_on();
        return false;
    }
    if (!from_allocator(caller))
        return false;
    t_guard = 1;
    (void)ml_rec_on();
    return true;
}

static void *mmap_for(const void *caller, void *addr, size_t len, int prot, int flags, int fd,
                      off_t off)
{
    if (allocator_maps(caller)) {
        void *q = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
        t_guard = 0;
        return q;
    }
    void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (p != MAP_FAILED && map_guard()) {
        if (ml_rec_on())
            ml_rec_map(ML_EV_MMAP, p, len);
        t_guard = 0;
    }
    return p;
}

ML_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap_for(__builtin_return_address(0), addr, len, prot, flags, fd, off);
}

ML_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap_for(__builtin_return_address(0), addr, len, prot, flags, fd, off);
}

ML_EXPORT int munmap(void *addr, size_t len)
{
    if (map_guard()) {               /* before the call, as free: the range may be reused at once */
        if (ml_rec_on())
            ml_rec_map(ML_EV_MUNMAP, addr, len);
        t_guard = 0;
    }
    return (int)syscall(SYS_munmap, addr, len);
}

ML_EXPORT void *mremap(void *old, size_t oldlen, size_t len, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    void *want = (flags & MREMAP_FIXED) ? va_arg(ap, void *) : NULL;
    va_end(ap);
    void *p = (void *)syscall(SYS_mremap, old, oldlen, len, flags, want);
    if (p != MAP_FAILED && map_guard()) {
        if (ml_rec_on()) {
            ml_rec_map(ML_EV_MUNMAP, old, oldlen);
            ml_rec_map(ML_EV_MMAP, p, len);
        }
        t_guard = 0;
    }
    return p;
}

ML_EXPORT int shmget(key_t key, size_t size, int shmflg)
{
    int id = (int)syscall(SYS_shmget, key, size, shmflg);
    if (id >= 0 && map_guard()) {
        if (ml_rec_on())
            ml_rec_map(ML_EV_SHMGET, (const void *)(intptr_t)id, size);
        t_guard = 0;
    }
    return id;
}

/* stacks.c - call-stack capture and deduplication for libmemlens.so.
 *
 * The reference is libunwind's unw_backtrace with the leading frames that
 * belong to the unwinder or to the shim itself dropped (found by address
 * range, so inlining and compiler choices do not matter).  The fast path
 * gives the same frames: it climbs the shim's own frames by their frame
 * pointers to the first return address outside the shim, then walks the
 * program's frames with unwind.c; whatever unwind.c does not model goes to
 * libunwind.  MEMLENS_CHECK_UNWIND=1 compares every fast walk with
 * libunwind's and aborts on a difference (the tests run with it).
 *
 * Each thread has a state block (mmap'ed on its first stack, recycled when
 * the thread exits): its stack's bounds, the walk guesses of unwind.h, and
 * a cache of the stacks it has seen (hash -> id and where the record is),
 * which it checks frame by frame against the record before trusting it.
 *
 * The frames become a stack id in the session's shared table:
 *   - a 64-bit hash picks a slot; open addressing, linear probing;
 *   - a new stack claims its slot by CAS on slot.hash (0 -> h), reserves its
 *     bytes in the frames area, then an id, writes the record, publishes
 *     offsets[id] and finally slot.id (both release);
 *   - a reader that meets its hash waits for slot.id, then compares frames,
 *     so a true hash collision just continues probing.
 * A slot whose winner found the table or the frames area full gets the id
 * ML_SLOT_DEAD; every stack that cannot be stored is reported as id 0 and
 * header.stacks_full is set.
 *
 * Owns: the skip ranges, the per-thread states and their free list.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stacks.h"

#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "memlens/session.h"
#include "shim.h"
#include "unwind.h"

#define ML_SKIP_SLACK 16u          /* room for the unwinder's and shim's frames */
#define ML_SLOT_DEAD  UINT32_MAX    /* claimed slot that holds no stack */
#define ML_GUESSES    128u          /* per-thread walk guesses, power of two */
#define ML_CACHE_SETS 4096u         /* per-thread stack cache: sets of 2, power of two */

struct ml_range {
    uintptr_t lo, hi;
};

/* [0]: the shim's text, [1]: libunwind's text. */
static struct ml_range g_skip[2];
static int g_check;                 /* MEMLENS_CHECK_UNWIND=1 */

struct ml_cache_ent {
    uint32_t tag;       /* upper half of the stack's hash */
    uint32_t ver;       /* layout (guess version) the stack was walked with, 0 = none */
    uint32_t id;        /* 0 = empty */
    uint32_t off;       /* the record's offset in the frames area */
};

struct ml_thread {
    uint32_t gen;                   /* session generation of cache[] */
    uint32_t epoch;                 /* ml_unwind_epoch() of guess[] and cache[] */
    uint64_t lo, hi;                /* the thread's stack, [lo, hi) */
    uint32_t next_ver;              /* layout numbers handed out */
    uint32_t pad2;
    struct ml_thread *next;         /* free list */
    struct ml_walk_guess guess[ML_GUESSES];
    struct ml_cache_ent cache[ML_CACHE_SETS][2];
};

static ML_TLS struct ml_thread *t_state;
static ML_TLS int t_state_gone;     /* the thread's key destructor has run */
static pthread_key_t g_key;
static int g_key_ok;
static struct ml_thread *g_free;    /* states of exited threads */
static int g_free_lock;

/* ---- set-up ------------------------------------------------------------ */

static int find_text_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct ml_range *r = arg;
    uintptr_t want = r->lo, lo = UINTPTR_MAX, hi = 0;
    int found = 0;

    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        uintptr_t b = a + ph->p_memsz;
        if (want >= a && want < b)
            found = 1;
        if (a < lo)
            lo = a;
        if (b > hi)
            hi = b;
    }
    if (!found)
        return 0;
    r->lo = lo;
    r->hi = hi;
    return 1;
}

/* The executable range of the loaded object that contains addr. */
static struct ml_range text_of(const void *addr)
{
    struct ml_range r = { (uintptr_t)addr, 0 };

    if (!dl_iterate_phdr(find_text_cb, &r))
        r.lo = r.hi = 0;
    return r;
}

static void thread_gone(void *arg);
static void fork_prepare(void);
static void fork_done(void);

void ml_stacks_init(void)
{
    const char *chk = getenv("MEMLENS_CHECK_UNWIND");
    g_check = chk && chk[0] == '1';
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    unw_set_cache_size(unw_local_addr_space, 1024, 0);
    g_skip[0] = text_of((const void *)&ml_stacks_init);
    g_skip[1] = text_of((const void *)&unw_backtrace);
    g_key_ok = pthread_key_create(&g_key, thread_gone) == 0;
    pthread_atfork(fork_prepare, fork_done, fork_done);
}

/* ---- per-thread state ------------------------------------------------- */

static void free_lock(void)
{
    while (__atomic_exchange_n(&g_free_lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void free_unlock(void)
{
    __atomic_store_n(&g_free_lock, 0, __ATOMIC_RELEASE);
}

/* Key destructor at thread exit: the state goes back to the free list. */
static void thread_gone(void *arg)
{
    struct ml_thread *t = arg;

    t_state = NULL;
    t_state_gone = 1;
    free_lock();
    t->next = g_free;
    g_free = t;
    free_unlock();
}

static void stack_bounds(struct ml_thread *t)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;

    t->lo = t->hi = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        t->lo = (uint64_t)(uintptr_t)addr;
        t->hi = t->lo + size;
    }
    pthread_attr_destroy(&attr);
}

/* The calling thread's state, made on first use; NULL when none can be had
 * (out of memory, or the thread is exiting). */
static struct ml_thread *thread_state(void)
{
    struct ml_thread *t = t_state;

    if (ML_LIKELY(t != NULL))
        return t;
    if (t_state_gone || !g_key_ok)
        return NULL;
    free_lock();
    t = g_free;
    if (t)
        g_free = t->next;
    free_unlock();
    if (!t) {
        void *p = (void *)syscall(SYS_mmap, NULL, sizeof(*t), PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        t = p;   /* zeroed: gen 0 matches no session, no guess */
    }
    stack_bounds(t);
    if (pthread_setspecific(g_key, t) != 0) {
        free_lock();
        t->next = g_free;
        g_free = t;
        free_unlock();
        return NULL;
    }
    t_state = t;
    return t;
}

/* fork: a lock held by another thread would stay held in the child. */
static void fork_prepare(void)
{
    free_lock();
}

static void fork_done(void)
{
    free_unlock();
}

/* ---- capture ----------------------------------------------------------- */

static int is_skipped(uintptr_t a)
{
    return (a >= g_skip[0].lo && a < g_skip[0].hi) ||
           (a >= g_skip[1].lo && a < g_skip[1].hi);
}

/* Frames are return addresses as the session stores them. */
_Static_assert(sizeof(void *) == sizeof(uint64_t), "64-bit addresses only");
typedef const uint64_t ml_frame_t;

/* Unwind with libunwind into raw[]; *first is set to the caller's return
 * address, the result is the depth from there (at most max_frames). */
static uint32_t capture_full(void **raw, uint32_t max_frames, uint32_t *first)
{
    int n = unw_backtrace(raw, (int)(max_frames + ML_SKIP_SLACK));
    int s = 0;

    while (s < n && is_skipped((uintptr_t)raw[s]))
        s++;
    uint32_t depth = 0;
    while (s + (int)depth < n && depth < max_frames && raw[(uint32_t)s + depth] != NULL)
        depth++;
    *first = (uint32_t)s;
    return depth;
}

/* The program's frame that called into the shim: the shim's own frames are
 * climbed by their frame pointers (the shim is built with them) up to the
 * first return address outside it.  0 when libunwind must do the walk. */
static int shim_caller(struct ml_frame_regs *r)
{
    const uint64_t *fp = __builtin_frame_address(0);

    for (unsigned i = 0; i < ML_SKIP_SLACK; i++) {
        uint64_t ra = fp[1];
        if (!(ra >= g_skip[0].lo && ra < g_skip[0].hi)) {
            if (ra >= g_skip[1].lo && ra < g_skip[1].hi)
                return 0;   /* the program inside libunwind: its frames are skipped too */
            r->ip = ra;
            r->sp = (uint64_t)(uintptr_t)(fp + 2);
            r->bp = fp[0];
            return 1;
        }
        const uint64_t *next = (const uint64_t *)(uintptr_t)fp[0];
        if (next <= fp)
            return 0;
        fp = next;
    }
    return 0;
}

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* Frames mixed one by one and summed: the terms do not wait for each
 * other, and the position takes part in each term. */
static inline uint64_t hash_frames(ml_frame_t *fr, uint32_t depth)
{
    uint64_t h = 0x9e3779b97f4a7c15ull * (depth + 1);

    for (uint32_t i = 0; i < depth; i++) {
        uint64_t x = (fr[i] ^ (i * 0xc2b2ae3d27d4eb4full)) * 0xff51afd7ed558ccdull;
        h += x ^ (x >> 31);
    }
    h = fmix64(h);
    return h ? h : 1;   /* 0 marks an empty slot */
}

/* ---- shared table ------------------------------------------------------ */

static int same_frames(const struct ml_stack_rec *rec, ml_frame_t *fr, uint32_t depth)
{
    if (rec->depth != depth)
        return 0;
    uint64_t diff = 0;
    for (uint32_t i = 0; i < depth; i++)
        diff |= rec->frames[i] ^ fr[i];
    return diff == 0;
}

static int same_stack(void *base, uint32_t id, ml_frame_t *fr, uint32_t depth)
{
    const struct ml_stack_rec *rec = ml_stack(base, id);

    return rec && same_frames(rec, fr, depth);
}

/* Bounded atomic add: returns the old value, or UINT64_MAX when old + add
 * would exceed limit. */
static uint64_t add_bounded64(uint64_t *v, uint64_t add, uint64_t limit)
{
    uint64_t old = __atomic_load_n(v, __ATOMIC_RELAXED);

    do {
        if (old + add > limit)
            return UINT64_MAX;
    } while (!__atomic_compare_exchange_n(v, &old, old + add, 1,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old;
}

static uint32_t next_id(struct ml_header *hdr)
{
    uint32_t old = __atomic_load_n(&hdr->stack_count, __ATOMIC_RELAXED);

    do {
        if (old + 1 >= ML_MAX_STACKS)
            return 0;
    } while (!__atomic_compare_exchange_n(&hdr->stack_count, &old, old + 1, 1,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    return old + 1;
}

/* Store a new stack; returns its id, or 0 when there is no room. */
static uint32_t store_stack(struct ml_header *hdr, ml_frame_t *fr, uint32_t depth)
{
    void *base = hdr;
    uint64_t bytes = sizeof(struct ml_stack_rec) + depth * sizeof(uint64_t);
    uint64_t off = add_bounded64(&hdr->frames_used, bytes, ML_FRAMES_BYTES);
    if (off == UINT64_MAX)
        return 0;
    uint32_t id = next_id(hdr);
    if (id == 0)
        return 0;
    struct ml_stack_rec *rec =
        (struct ml_stack_rec *)((char *)base + ML_OFF_FRAMES + off);
    rec->depth = depth;
    memcpy(rec->frames, fr, depth * sizeof(uint64_t));
    __atomic_store_n(&ml_stack_offsets(base)[id], off + 1, __ATOMIC_RELEASE);
    return id;
}

static uint32_t wait_slot_id(struct ml_stack_slot *s)
{
    uint32_t id;

    for (unsigned spins = 0;
         (id = __atomic_load_n(&s->id, __ATOMIC_ACQUIRE)) == 0; spins++) {
        if (spins < 256)
            __builtin_ia32_pause();
        else
            sched_yield();
    }
    return id;
}

static uint32_t mark_full(struct ml_header *hdr)
{
    __atomic_store_n(&hdr->stacks_full, 1, __ATOMIC_RELAXED);
    return 0;
}

/* Find or insert the stack; returns its id (0 when it cannot be stored). */
static uint32_t intern(struct ml_header *hdr, uint64_t h, ml_frame_t *fr,
                       uint32_t depth)
{
    struct ml_stack_slot *slots = ml_slots(hdr);
    uint32_t mask = ML_STACK_SLOTS - 1;

    for (uint32_t i = (uint32_t)h & mask, n = 0; n < ML_STACK_SLOTS;
         i = (i + 1) & mask, n++) {
        struct ml_stack_slot *s = &slots[i];
        uint64_t cur = __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE);
        if (cur == 0) {
            if (__atomic_load_n(&hdr->stacks_full, __ATOMIC_RELAXED))
                return 0;
            if (__atomic_compare_exchange_n(&s->hash, &cur, h, 0,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                uint32_t id = store_stack(hdr, fr, depth);
                __atomic_store_n(&s->id, id ? id : ML_SLOT_DEAD, __ATOMIC_RELEASE);
                return id ? id : mark_full(hdr);
            }
        }
        if (cur != h)
            continue;
        uint32_t id = wait_slot_id(s);
        if (id != ML_SLOT_DEAD && same_stack(hdr, id, fr, depth))
            return id;
    }
    return mark_full(hdr);
}

/* ---- entry point ------------------------------------------------------- */

/* The stack by libunwind (the reference), as return addresses in out[]. */
static uint32_t capture_slow(uint64_t *out, uint32_t max_frames)
{
    void *raw[ML_MAX_FRAMES + ML_SKIP_SLACK];
    uint32_t first, depth = capture_full(raw, max_frames, &first);

    memcpy(out, raw + first, depth * sizeof(uint64_t));
    return depth;
}

/* MEMLENS_CHECK_UNWIND=1: every fast walk is compared with libunwind's. */
static void check_walk(const uint64_t *fast, uint32_t depth, uint32_t max_frames)
{
    uint64_t ref[ML_MAX_FRAMES + ML_SKIP_SLACK];
    uint32_t n = capture_slow(ref, max_frames);

    /* capture_slow runs one frame deeper: its own frame is a shim frame, so
     * both start at the program's first frame. */
    if (n == depth && memcmp(ref, fast, depth * sizeof(uint64_t)) == 0)
        return;
    static const char msg[] = "memlens: fast stack walk differs from libunwind's\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    abort();
}

static inline const struct ml_stack_rec *rec_at(struct ml_header *hdr, uint32_t off)
{
    return (const struct ml_stack_rec *)((char *)hdr + ML_OFF_FRAMES + off);
}

static inline struct ml_cache_ent *cache_set(struct ml_thread *t, uint64_t h)
{
    return t->cache[(h >> 12) & (ML_CACHE_SETS - 1)];
}

/* The cached stack of hash h whose frames are fr, or NULL. */
static inline struct ml_cache_ent *cache_find(struct ml_header *hdr, struct ml_thread *t,
                                              uint64_t h, ml_frame_t *fr, uint32_t depth)
{
    struct ml_cache_ent *set = cache_set(t, h);
    uint32_t tag = (uint32_t)(h >> 32);

    for (int w = 0; w < 2; w++)
        if (set[w].tag == tag && set[w].id && same_frames(rec_at(hdr, set[w].off), fr, depth))
            return &set[w];
    return NULL;
}

/* A stack this thread has seen, walked with the layout of g: its return
 * addresses are read where the layout says (no rule looked up beyond the
 * first frame's), and the cached stack they name is checked frame by frame.
 * The layout is a function of the return addresses (whole), so equal
 * addresses read at the places it gives are the walk's own result.
 * Returns the id, or 0 (the walk decides). */
static inline uint32_t seen_stack(struct ml_header *hdr, struct ml_thread *t,
                                  const struct ml_walk_guess *g, const struct ml_frame_regs *r,
                                  uint64_t ip1, uint64_t *fr, uint32_t max_frames)
{
    if (g->ip0 != r->ip || g->ip1 != ip1 || !g->whole || g->ver == 0 ||
        g->max != max_frames || g->n < 2 || r->sp < t->lo || r->sp >= t->hi)
        return 0;
    uint32_t n = g->n;
    fr[0] = r->ip;
    fr[1] = ip1;
    for (uint32_t k = 2; k < n; k++) {
        uint64_t at = r->sp + g->rel[k - 1];
        if (at > t->hi || g->rel[k - 1] < 8)
            return 0;
        fr[k] = *(const uint64_t *)(uintptr_t)(at - 8);
    }
    const struct ml_cache_ent *c = cache_find(hdr, t, hash_frames(fr, n), fr, n);
    if (!c || c->ver != g->ver)
        return 0;
    if (ML_UNLIKELY(g_check))
        check_walk(fr, n, max_frames);
    return c->id;
}

static uint32_t lookup(struct ml_header *hdr, struct ml_thread *t, const uint64_t *fr,
                       uint32_t depth, uint32_t ver)
{
    uint64_t h = hash_frames(fr, depth);
    if (!t)
        return intern(hdr, h, fr, depth);
    struct ml_cache_ent *c = cache_find(hdr, t, h, fr, depth);
    if (c) {
        c->ver = ver;
        return c->id;
    }
    uint32_t id = intern(hdr, h, fr, depth);
    if (id) {
        struct ml_cache_ent *set = cache_set(t, h);
        set[1] = set[0];
        set[0].tag = (uint32_t)(h >> 32);
        set[0].ver = ver;
        set[0].id = id;
        set[0].off = (uint32_t)(__atomic_load_n(&ml_stack_offsets(hdr)[id], __ATOMIC_ACQUIRE) - 1);
    }
    return id;
}

/* Number a layout; on wrap-around every number handed out is forgotten. */
static uint32_t new_ver(struct ml_thread *t)
{
    if (++t->next_ver == 0) {
        memset(t->guess, 0, sizeof(t->guess));
        for (uint32_t i = 0; i < ML_CACHE_SETS; i++)
            t->cache[i][0].ver = t->cache[i][1].ver = 0;
        t->next_ver = 1;
    }
    return t->next_ver;
}

uint32_t ml_stack_id(struct ml_header *hdr, uint32_t gen, uint32_t max_frames)
{
    uint64_t fr[ML_MAX_FRAMES + ML_SKIP_SLACK];
    struct ml_frame_regs r;

    if (max_frames == 0)
        return 0;
    struct ml_thread *t = thread_state();
    if (t && ML_UNLIKELY(t->gen != gen || t->epoch != ml_unwind_epoch())) {
        memset(t->guess, 0, sizeof(t->guess));
        memset(t->cache, 0, sizeof(t->cache));
        t->gen = gen;
        t->epoch = ml_unwind_epoch();
    }
    if (!shim_caller(&r))
        goto slow;
    struct ml_walk_guess *g = NULL;
    int walked;
    if (t) {
        /* Layouts are kept per pair of first return addresses: a helper
         * such as strdup has one first frame for many callers. */
        uint32_t off0;
        uint64_t ip1 = 0;
        if (r.sp >= t->lo && r.sp < t->hi && ml_unwind_rsp_frame(r.ip, &off0) &&
            r.sp + off0 <= t->hi)
            ip1 = *(const uint64_t *)(uintptr_t)(r.sp + off0 - 8);
        g = &t->guess[(uint32_t)((r.ip ^ (r.ip >> 17) ^ ip1 * 0x9e3779b1u) >> 4) & (ML_GUESSES - 1)];
        uint32_t id = seen_stack(hdr, t, g, &r, ip1, fr, max_frames);
        if (id)
            return id;
        walked = ml_unwind_walk(&r, fr, max_frames, g, t->lo, t->hi);
        if (walked >= 0) {
            if (g->ip1 != ip1) {
                g->ip1 = ip1;
                g->ver = 0;
            }
            if (g->ver == 0)
                g->ver = new_ver(t);
        }
    } else {
        walked = ml_unwind_walk(&r, fr, max_frames, NULL, 0, 0);
    }
    if (walked < 0)
        goto slow;
    if (ML_UNLIKELY(g_check))
        check_walk(fr, (uint32_t)walked, max_frames);
    if (walked == 0)
        return 0;
    return lookup(hdr, t, fr, (uint32_t)walked, g && g->whole ? (uint32_t)g->ver : 0);
slow:
    __atomic_add_fetch(&hdr->slow_walks, 1, __ATOMIC_RELAXED);
    uint32_t depth = capture_slow(fr, max_frames);
    return depth ? lookup(hdr, t, fr, depth, 0) : 0;
}

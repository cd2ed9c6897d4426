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
 * a cache of the stacks it has seen.  A cache entry holds two independent
 * 64-bit hashes of the frames (and their number), so a hit costs one cache
 * line and never reads the shared record (see the hashes for why a false
 * hit is out of reach); entries are only made from ids the shared table
 * gave after comparing the frames themselves.
 *
 * The frames become a stack id in the session's shared table:
 *   - a 64-bit hash picks a slot; open addressing, linear probing;
 *   - a new stack claims its slot by CAS on slot.hash (0 -> h), reserves its
 *     bytes in the frames area, then an id, writes the record, publishes
 *     offsets[id] and finally slot.id (both release);
 *   - a reader that meets its hash waits for slot.id, then compares frames,
 *     so a true hash collision just continues probing.
 *   - a new stack deeper than ML_SPLIT_DEPTH keeps only its innermost
 *     ML_INNER_FRAMES: its callers are interned first as a stack of their own
 *     (published before the slot of the stack that names them is claimed),
 *     so stacks that share their callers share one copy of those frames;
 *     comparisons are frame by frame either way.
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

#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "memlens/session.h"
#include "shim.h"
#include "unwind.h"
#include "views.h"

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

/* The two hashes of one stack (hash_frames). */
struct ml_hash2 {
    uint64_t h1;        /* the shared table's hash */
    uint64_t h2;        /* independent of h1: only the per-thread cache uses it */
};

struct ml_cache_ent {
    struct ml_hash2 h;  /* the stack's hashes */
    uint32_t id;        /* 0 = empty */
    uint32_t ver;       /* layout (guess version) the stack was walked with, 0 = none */
    uint32_t depth;
    uint32_t pad;
};

/* A set is one cache line: a hit or a miss reads nothing else. */
struct ml_cache_set {
    struct ml_cache_ent way[2];
} __attribute__((aligned(64)));

struct ml_thread {
    uint32_t gen;                   /* session generation of cache[] */
    uint32_t epoch;                 /* ml_unwind_epoch() of guess[] and cache[] */
    uint64_t lo, hi;                /* the thread's stack, [lo, hi) */
    uint32_t next_ver;              /* layout numbers handed out */
    uint32_t pad2;
    struct ml_thread *next;         /* free list */
    struct ml_walk_guess guess[ML_GUESSES];
    struct ml_cache_set cache[ML_CACHE_SETS];
};

static ML_TLS struct ml_thread *t_state;
static ML_TLS int t_state_gone;     /* the thread's key destructor has run */
static pthread_key_t g_key;
static int g_key_ok;
static struct ml_thread *g_free;    /* states of exited threads */
static int g_free_lock;

/* ---- set-up ------------------------------------------------------------ */

/* What find_text_cb learns of the object holding `want`. */
struct ml_found {
    struct ml_range text;
    const void *tls;        /* the calling thread's block of the object's TLS, or NULL */
    size_t tls_size;
};

static int find_text_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct ml_found *f = arg;
    uintptr_t want = f->text.lo, lo = UINTPTR_MAX, hi = 0;
    int found = 0;
    size_t tls_size = 0;

    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_TLS)
            tls_size = ph->p_memsz;
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
    f->text.lo = lo;
    f->text.hi = hi;
    f->tls = info->dlpi_tls_data;
    f->tls_size = info->dlpi_tls_data ? tls_size : 0;
    return 1;
}

static struct ml_found object_of(const void *addr)
{
    struct ml_found f = { { (uintptr_t)addr, 0 }, NULL, 0 };

    if (!dl_iterate_phdr(find_text_cb, &f))
        f.text.lo = f.text.hi = 0;
    return f;
}

/* The executable range of the loaded object that contains addr. */
static struct ml_range text_of(const void *addr)
{
    return object_of(addr).text;
}

bool ml_object_at(const void *addr, struct ml_object *out)
{
    struct ml_found f = object_of(addr);

    out->text_lo = f.text.lo;
    out->text_hi = f.text.hi;
    out->tls = f.tls;
    out->tls_size = f.tls_size;
    return f.text.hi > f.text.lo;
}

static void thread_gone(void *arg);
static void fork_prepare(void);
static void fork_done(void);
static void draw_keys(void);

void ml_stacks_init(void)
{
    const char *chk = getenv("MEMLENS_CHECK_UNWIND");
    g_check = chk && chk[0] == '1';
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    unw_set_cache_size(unw_local_addr_space, 1024, 0);
    g_skip[0] = text_of((const void *)&ml_stacks_init);
    g_skip[1] = text_of((const void *)&unw_backtrace);
    draw_keys();
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

/* memlens's own mappings, for the report (session.h). */
ML_EXPORT struct ml_own_maps memlens_own_maps;

static void note_own_map(void *p, size_t len)
{
    uint64_t i = __atomic_fetch_add(&memlens_own_maps.n, 1, __ATOMIC_RELAXED);
    if (i < ML_OWN_MAPS_MAX) {
        memlens_own_maps.v[i].addr = (uint64_t)(uintptr_t)p;
        memlens_own_maps.v[i].len = len;
    }
}

/* A new state block between two PROT_NONE guard pages, or NULL.  The
 * guards keep the kernel from merging the block with a neighbouring
 * anonymous mapping (the program's, or one libunwind makes), so that
 * /proc/PID/maps shows it as regions of its own, which the report can
 * tell apart as memlens's: the list names the whole reservation. */
static struct ml_thread *map_state_block(void)
{
    size_t page = 4096, body = (sizeof(struct ml_thread) + page - 1) & ~(page - 1);
    char *p = (char *)syscall(SYS_mmap, NULL, body + 2 * page, PROT_NONE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (syscall(SYS_mprotect, p + page, body, PROT_READ | PROT_WRITE) != 0) {
        syscall(SYS_munmap, p, body + 2 * page);
        return NULL;
    }
    note_own_map(p, body + 2 * page);
    return (struct ml_thread *)(p + page);
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
        t = map_state_block();   /* zeroed: gen 0 matches no session, no guess */
        if (!t)
            return NULL;
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

/* Two hashes of the frames, each multilinear: h = seed(depth) + the sum over
 * positions i of key[i] * frame[i] (mod 2^64), each hash with its own odd
 * keys, drawn at random once per process (h1 is then mixed so that its low
 * bits pick table slots well; h2 is only ever compared whole).
 *
 * Why a false match is out of reach: for two different stacks of the same
 * depth, let d_i be the differences of their frames.  If one d_i only is
 * non-zero, neither hash can match (an odd key times d_i is never 0).
 * Otherwise take a position whose d_i has the fewest trailing zero bits, t:
 * whatever the other keys, at most 2^t of the 2^63 odd values of its key
 * make a hash match, so with random keys one hash matches with probability
 * at most 2^(t-63), and both, whose keys come from independent seeds, at
 * most 2^(2t-126).  Return addresses of different call sites differ in their
 * low bits (t of a few bits); even the same code in two copies of an object
 * loaded 2 MiB apart (t = 21) gives 2^-84 a pair, and a session holds at
 * most 2^20 stacks.
 *
 * The terms do not wait for each other: a term is two loads of keys and two
 * multiply-adds. */
struct ml_hash_keys {
    uint64_t k1, k2;
};
static struct ml_hash_keys g_keys[ML_MAX_FRAMES];
static uint64_t g_seed1, g_seed2;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Once per process: the keys of both hashes, from two independent seeds. */
static void draw_keys(void)
{
    uint64_t seed[2];
    int err = errno;

    if (syscall(SYS_getrandom, seed, sizeof(seed), GRND_NONBLOCK) != (long)sizeof(seed)) {
        /* No entropy yet: fixed keys, which no program's stacks depend on either. */
        seed[0] = 0x6a09e667f3bcc908ull;
        seed[1] = 0xbb67ae8584caa73bull;
    }
    for (uint32_t i = 0; i < ML_MAX_FRAMES; i++) {
        g_keys[i].k1 = splitmix64(&seed[0]) | 1;
        g_keys[i].k2 = splitmix64(&seed[1]) | 1;
    }
    g_seed1 = splitmix64(&seed[0]);
    g_seed2 = splitmix64(&seed[1]);
    errno = err;
}

/* A hash being computed: the two sums. */
struct ml_hasher {
    uint64_t s1, s2;
};

static inline void hash_init(struct ml_hasher *h, uint32_t depth)
{
    h->s1 = g_seed1 * (depth + 1);
    h->s2 = g_seed2 * (depth + 1);
}

/* Frame i of the stack. */
static inline void hash_add(struct ml_hasher *h, uint64_t frame, uint32_t i)
{
    h->s1 += g_keys[i].k1 * frame;
    h->s2 += g_keys[i].k2 * frame;
}

/* fmix64 is a bijection: equal h1 means equal sums. */
static inline struct ml_hash2 hash_done(const struct ml_hasher *h)
{
    struct ml_hash2 r = { fmix64(h->s1), h->s2 };

    return r;
}

static inline struct ml_hash2 hash_frames(ml_frame_t *fr, uint32_t depth)
{
    struct ml_hasher h;

    hash_init(&h, depth);
    for (uint32_t i = 0; i < depth; i++)
        hash_add(&h, fr[i], i);
    return hash_done(&h);
}

/* ---- shared table ------------------------------------------------------ */

static int same_frames(const uint64_t *a, ml_frame_t *fr, uint32_t n)
{
    uint64_t diff = 0;
    for (uint32_t i = 0; i < n; i++)
        diff |= a[i] ^ fr[i];
    return diff == 0;
}

/* Are the frames of stack id these?  Compared frame by frame, however the
 * record holds them (a stored outer stack is published before the record
 * that names it, so it is in the view too). */
static int same_stack(void *hdr, uint32_t id, ml_frame_t *fr, uint32_t depth)
{
    void *base = ml_view(ml_session_used(hdr));   /* a view that holds every record */
    const struct ml_stack_rec *rec = base ? ml_stack(base, id) : NULL;

    if (!rec || rec->depth != depth)
        return 0;
    if (rec->outer == 0)
        return same_frames(rec->frames, fr, depth);
    const struct ml_stack_rec *o = ml_stack(base, rec->outer);
    return o && o->outer == 0 && o->depth == depth - ML_INNER_FRAMES &&
           same_frames(rec->frames, fr, ML_INNER_FRAMES) &&
           same_frames(o->frames, fr + ML_INNER_FRAMES, o->depth);
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

/* Store a new stack, its frames past the first ML_INNER_FRAMES the stored
 * stack `outer` when that is not 0; returns its id, or 0 when there is no
 * room. */
static uint32_t store_stack(struct ml_header *hdr, ml_frame_t *fr, uint32_t depth, uint32_t outer)
{
    uint32_t kept = outer ? ML_INNER_FRAMES : depth;
    uint64_t bytes = sizeof(struct ml_stack_rec) + kept * sizeof(uint64_t);
    uint64_t off = ml_view_reserve(hdr, bytes, 8);
    if (off == UINT64_MAX)
        return 0;
    uint32_t id = next_id(hdr);
    void *base = ml_view(ML_OFF_FRAMES + off + bytes);
    if (id == 0 || !base)
        return 0;
    struct ml_stack_rec *rec =
        (struct ml_stack_rec *)((char *)base + ML_OFF_FRAMES + off);
    rec->depth = depth;
    rec->outer = outer;
    memcpy(rec->frames, fr, kept * sizeof(uint64_t));
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

static uint32_t intern(struct ml_header *hdr, uint64_t h1, ml_frame_t *fr, uint32_t depth,
                       int share);

/* The stored stack of a new stack's callers (its frames past the first
 * ML_INNER_FRAMES), for a stack deeper than ML_SPLIT_DEPTH while fewer
 * than half the ids are handed out (a stack and its callers take two: so
 * that a table of stacks with no callers in common still holds 3/4 of
 * ML_MAX_STACKS); 0: the stack keeps all its frames. */
static uint32_t callers_id(struct ml_header *hdr, ml_frame_t *fr, uint32_t depth)
{
    if (depth <= ML_SPLIT_DEPTH ||
        __atomic_load_n(&hdr->stack_count, __ATOMIC_RELAXED) >= ML_MAX_STACKS / 2)
        return 0;
    uint32_t n = depth - ML_INNER_FRAMES;
    return intern(hdr, hash_frames(fr + ML_INNER_FRAMES, n).h1, fr + ML_INNER_FRAMES, n, 0);
}

/* Find or insert the stack of hash h1; returns its id (0 when it cannot be
 * stored).  share: a new stack may keep its callers as a stack of their
 * own, found or stored first (callers_id), before its slot is claimed, so
 * that nobody waits on a claimed slot while another is looked up. */
static uint32_t intern(struct ml_header *hdr, uint64_t h1, ml_frame_t *fr, uint32_t depth,
                       int share)
{
    uint64_t h = h1 ? h1 : 1;   /* 0 marks an empty slot */
    struct ml_stack_slot *slots = ml_slots(hdr);
    uint32_t mask = ML_STACK_SLOTS - 1;
    uint32_t outer = 0;
    int outer_known = !share;

    for (uint32_t i = (uint32_t)h & mask, n = 0; n < ML_STACK_SLOTS;
         i = (i + 1) & mask, n++) {
        struct ml_stack_slot *s = &slots[i];
        uint64_t cur = __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE);
        if (cur == 0) {
            if (__atomic_load_n(&hdr->stacks_full, __ATOMIC_RELAXED))
                return 0;
            if (!outer_known) {
                outer = callers_id(hdr, fr, depth);
                outer_known = 1;
            }
            if (__atomic_compare_exchange_n(&s->hash, &cur, h, 0,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                uint32_t id = store_stack(hdr, fr, depth, outer);
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

static inline struct ml_cache_set *cache_set(struct ml_thread *t, uint64_t h1)
{
    return &t->cache[(h1 >> 12) & (ML_CACHE_SETS - 1)];
}

/* The cached stack with hashes h and depth frames, or NULL.  A hit is
 * trusted without reading the frames: the entry was made for frames the
 * shared table compared one by one, and another stack matches it only if it
 * has the same depth and both hashes collide (see hash_add: negligible). */
static inline struct ml_cache_ent *cache_find(struct ml_thread *t, struct ml_hash2 h,
                                              uint32_t depth)
{
    struct ml_cache_ent *way = cache_set(t, h.h1)->way;

    for (int w = 0; w < 2; w++)
        if (way[w].h.h1 == h.h1 && way[w].h.h2 == h.h2 && way[w].depth == depth &&
            way[w].id)
            return &way[w];
    return NULL;
}

static void cache_put(struct ml_thread *t, struct ml_hash2 h, uint32_t depth,
                      uint32_t id, uint32_t ver)
{
    struct ml_cache_ent *way = cache_set(t, h.h1)->way;

    way[1] = way[0];
    way[0].h = h;
    way[0].id = id;
    way[0].ver = ver;
    way[0].depth = depth;
}

/* Return address k (k >= 2) of a stack walked with layout g, whose first
 * frame's rsp is sp. */
static inline uint64_t layout_frame(const struct ml_walk_guess *g, uint64_t sp, uint32_t k)
{
    return *(const uint64_t *)(uintptr_t)(sp + g->rel[k - 1] - 8);
}

/* A stack this thread has seen, walked with the layout of g: its return
 * addresses are read where the layout says (no rule looked up beyond the
 * first frame's) and hashed as they are read; the cached stack they name
 * must have been walked with the same layout.  They are not kept (stores
 * would queue behind the ring's, see record.c) except for the check.
 * The layout is a function of the return addresses (whole), so equal
 * addresses read at the places it gives are the walk's own result.
 * Returns the id, or 0 (the walk decides). */
static inline uint32_t seen_stack(struct ml_thread *t, const struct ml_walk_guess *g,
                                  const struct ml_frame_regs *r, uint64_t ip1,
                                  uint64_t *fr, uint32_t max_frames)
{
    if (g->ip0 != r->ip || g->ip1 != ip1 || !g->whole || g->ver == 0 ||
        g->max != max_frames || g->n < 2 || r->sp < t->lo || r->sp >= t->hi)
        return 0;
    uint32_t n = g->n;
    uint64_t sp = r->sp, hi = t->hi;
    struct ml_hasher h;
    hash_init(&h, n);
    hash_add(&h, r->ip, 0);
    hash_add(&h, ip1, 1);
    for (uint32_t k = 2; k < n; k++) {
        uint32_t rel = g->rel[k - 1];
        if (sp + rel > hi || rel < 8)
            return 0;
        hash_add(&h, layout_frame(g, sp, k), k);
    }
    const struct ml_cache_ent *c = cache_find(t, hash_done(&h), n);
    if (!c || c->ver != g->ver)
        return 0;
    if (ML_UNLIKELY(g_check)) {
        fr[0] = r->ip;
        fr[1] = ip1;
        for (uint32_t k = 2; k < n; k++)
            fr[k] = layout_frame(g, sp, k);
        check_walk(fr, n, max_frames);
    }
    return c->id;
}

static uint32_t lookup(struct ml_header *hdr, struct ml_thread *t, const uint64_t *fr,
                       uint32_t depth, uint32_t ver)
{
    struct ml_hash2 h = hash_frames(fr, depth);
    if (!t)
        return intern(hdr, h.h1, fr, depth, 1);
    struct ml_cache_ent *c = cache_find(t, h, depth);
    if (c) {
        c->ver = ver;
        return c->id;
    }
    uint32_t id = intern(hdr, h.h1, fr, depth, 1);
    if (id)
        cache_put(t, h, depth, id, ver);
    return id;
}

/* A new session, or objects were unloaded: drop every guess and cached
 * stack.  A state that never served a session is still as mmap left it, all
 * zero: its pages are left untouched until used. */
static void forget_all(struct ml_thread *t, uint32_t gen)
{
    if (t->gen != 0) {
        memset(t->guess, 0, sizeof(t->guess));
        memset(t->cache, 0, sizeof(t->cache));
    }
    t->gen = gen;
    t->epoch = ml_unwind_epoch();
}

/* Number a layout; on wrap-around every number handed out is forgotten. */
static uint32_t new_ver(struct ml_thread *t)
{
    if (++t->next_ver == 0) {
        memset(t->guess, 0, sizeof(t->guess));
        for (uint32_t i = 0; i < ML_CACHE_SETS; i++)
            t->cache[i].way[0].ver = t->cache[i].way[1].ver = 0;
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
    if (t && ML_UNLIKELY(t->gen != gen || t->epoch != ml_unwind_epoch()))
        forget_all(t, gen);
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
        uint32_t id = seen_stack(t, g, &r, ip1, fr, max_frames);
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

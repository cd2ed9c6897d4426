/* stacks.c - call-stack capture and deduplication for libmemlens.so.
 *
 * Captures return addresses with libunwind, drops the leading frames that
 * belong to the unwinder or to the shim itself (found by address range, so
 * inlining and compiler choices do not matter), and turns the remaining
 * frames into a stack id in the session's shared table:
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
 * Owns: the skip ranges, the per-thread cache of recent stacks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "stacks.h"

#include <link.h>
#include <sched.h>
#include <string.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "memlens/session.h"
#include "shim.h"

#define ML_SKIP_SLACK 16u          /* room for the unwinder's and shim's frames */
#define ML_SLOT_DEAD  UINT32_MAX    /* claimed slot that holds no stack */
#define ML_CACHE_SIZE 16u           /* per-thread cache entries, power of two */

struct ml_range {
    uintptr_t lo, hi;
};

/* [0]: the shim's text, [1]: libunwind's text. */
static struct ml_range g_skip[2];

struct ml_cache_ent {
    uint64_t hash;
    uint32_t id;
};

static ML_TLS uint32_t t_cache_gen;
static ML_TLS struct ml_cache_ent t_cache[ML_CACHE_SIZE];

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

void ml_stacks_init(void)
{
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    unw_set_cache_size(unw_local_addr_space, 1024, 0);
    g_skip[0] = text_of((const void *)&ml_stacks_init);
    g_skip[1] = text_of((const void *)&unw_backtrace);
}

/* ---- capture ----------------------------------------------------------- */

static int is_skipped(uintptr_t a)
{
    return (a >= g_skip[0].lo && a < g_skip[0].hi) ||
           (a >= g_skip[1].lo && a < g_skip[1].hi);
}

/* Frames are kept as the unwinder wrote them (void *) and copied to the
 * session byte for byte: the same representation as uint64_t here. */
_Static_assert(sizeof(void *) == sizeof(uint64_t), "64-bit addresses only");
typedef void *const ml_frame_t;

/* Unwind into raw[]; *first is set to the caller's return address, the
 * result is the depth from there (at most max_frames). */
static uint32_t capture(void **raw, uint32_t max_frames, uint32_t *first)
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

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_frames(ml_frame_t *fr, uint32_t depth)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ depth;

    for (uint32_t i = 0; i < depth; i++) {
        h ^= fmix64((uint64_t)(uintptr_t)fr[i] + i);
        h = (h << 27 | h >> 37) * 0x9e3779b97f4a7c15ull;
    }
    h = fmix64(h);
    return h ? h : 1;   /* 0 marks an empty slot */
}

/* ---- shared table ------------------------------------------------------ */

static int same_stack(void *base, uint32_t id, ml_frame_t *fr, uint32_t depth)
{
    const struct ml_stack_rec *rec = ml_stack(base, id);

    return rec && rec->depth == depth &&
           memcmp(rec->frames, fr, depth * sizeof(uint64_t)) == 0;
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

uint32_t ml_stack_id(struct ml_header *hdr, uint32_t gen, uint32_t max_frames)
{
    void *raw[ML_MAX_FRAMES + ML_SKIP_SLACK];
    uint32_t first;

    if (max_frames == 0)
        return 0;
    uint32_t depth = capture(raw, max_frames, &first);
    if (depth == 0)
        return 0;
    ml_frame_t *fr = raw + first;
    uint64_t h = hash_frames(fr, depth);
    if (t_cache_gen != gen) {
        memset(t_cache, 0, sizeof(t_cache));
        t_cache_gen = gen;
    }
    struct ml_cache_ent *c = &t_cache[(h >> 7) & (ML_CACHE_SIZE - 1)];
    if (c->hash == h && same_stack(hdr, c->id, fr, depth))
        return c->id;
    uint32_t id = intern(hdr, h, fr, depth);
    if (id) {
        c->hash = h;
        c->id = id;
    }
    return id;
}

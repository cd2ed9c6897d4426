/* record.c - session life cycle and event publication for libmemlens.so.
 *
 * Owns the process's session (include/memlens/session.h): it is created once
 * per process image when MEMLENS_SESSION is set, kept only if a tracer adopts
 * it during the mmap, replaced by a fresh one in every forked child, and
 * given up (the shim goes inert) when nobody adopts it or the tracer resets
 * `adopted` to 0 to detach.  In attach mode (attach.c) ml_rec_attach()
 * hands it a session that memlens adopted before recording starts.
 *
 * Events go to per-thread rings: a thread claims a FREE ring on its first
 * event and keeps it until it exits (the tracer frees it).  Publishing is a
 * slot write plus a release store of `head`; a full ring or an empty ring
 * directory makes the thread wait for the tracer, never drop the event.
 *
 * Fork detection: a private page advised MADV_WIPEONFORK holds a non-zero
 * word; a child created by any kind of fork reads 0 there, so the first
 * recording attempt in the child replaces the inherited session before
 * anything is written into the parent's.  A pthread_atfork child handler does
 * the same eagerly, and alone when the kernel lacks MADV_WIPEONFORK.
 *
 * Owns: g_state, g_hdr, g_gen (bumped per session so stale per-thread ring
 * pointers are noticed), the per-thread ring cursor t_rec.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "record.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "memlens/session.h"
#include "shim.h"
#include "stacks.h"
#include "views.h"

#define ML_DEFAULT_FRAMES 24u

enum ml_state { ML_ST_UNINIT, ML_ST_BUSY, ML_ST_ON, ML_ST_OFF };

static int g_state = ML_ST_UNINIT;   /* enum ml_state, atomic */
static struct ml_header *g_hdr;      /* current session, valid while ON */
static uint32_t g_gen = 1;           /* session generation, atomic */
static uint32_t g_frames = ML_DEFAULT_FRAMES;
static pid_t g_sess_pid;             /* process the current session belongs to */
static int g_fork_lock;              /* serialises session replacement */
static uint32_t g_canary_static = 1;
static uint32_t *g_canary = &g_canary_static;  /* 0 in a forked child */

struct ml_tls {
    uint32_t gen;            /* session generation of `ring` */
    struct ml_ring *ring;
    struct ml_event *ev;
    uint64_t head;           /* our copy of ring->head */
    uint64_t tail;           /* last tail seen */
};

static ML_TLS struct ml_tls t_rec;

/* ---- small helpers ----------------------------------------------------- */

static void sleep_us(long us)
{
    struct timespec ts = { 0, us * 1000 };

    nanosleep(&ts, NULL);
}

static int g_prefetchw;   /* the CPU has PREFETCHW (see claim_ahead) */

static void cpu_init(void)
{
    unsigned a, b, c, d;

    g_prefetchw = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & bit_PRFCHW);
}

static int adopted(const struct ml_header *hdr)
{
    return __atomic_load_n(&hdr->adopted, __ATOMIC_ACQUIRE) != 0;
}

/* Value of NAME in env, or NULL (getenv without any allocation). */
static const char *env_get(char **env, const char *name)
{
    size_t len = strlen(name);

    for (; *env; env++)
        if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
            return *env + len + 1;
    return NULL;
}

int ml_fds_on = -1;                  /* record descriptors (fds=1), see record.h */

/* MEMLENS_SESSION holds comma-separated key=value options; unknown keys are
 * ignored so that the tracer can add options older shims do not know.
 * The value of key as a number (at most max), or dflt when absent. */
static uint32_t parse_option(const char *opts, const char *key, uint32_t dflt, uint32_t max)
{
    uint32_t val = dflt;
    size_t len = strlen(key);

    for (const char *p = opts; *p;) {
        if (strncmp(p, key, len) == 0 && p[len] == '=' && p[len + 1] >= '0' &&
            p[len + 1] <= '9') {
            uint64_t v = 0;
            for (p += len + 1; *p >= '0' && *p <= '9'; p++)
                if (v <= max)
                    v = v * 10 + (uint64_t)(*p - '0');
            val = v > max ? max : (uint32_t)v;
        }
        while (*p && *p != ',')
            p++;
        if (*p == ',')
            p++;
    }
    return val;
}

static bool g_zero_new = true;

bool ml_rec_zero_new(void)
{
    return g_zero_new;
}

/* ---- session creation -------------------------------------------------- */

/* Where the shim's guard lies relative to the thread pointer (the same
 * for every thread: initial-exec TLS), for the tracer: a mapping made while
 * a thread is inside an allocation call belongs to the allocator. */
static int64_t g_guard_tls;
static uint64_t g_real_malloc;
static bool g_guard_known;

static int64_t g_alloc_tls;
static uint64_t g_alloc_tls_size;

static void publish_guard(struct ml_header *h)
{
    h->alloc_tls = g_alloc_tls;
    h->alloc_tls_size = g_alloc_tls_size;
    if (!g_guard_known)
        return;
    h->guard_tls = g_guard_tls;
    h->real_malloc = g_real_malloc;
    __atomic_store_n(&h->guard_known, 1u, __ATOMIC_RELEASE);
}

void ml_rec_guard_at(const int *guard, const void *real_malloc)
{
    g_guard_tls = (int64_t)((intptr_t)guard - (intptr_t)__builtin_thread_pointer());
    g_real_malloc = (uint64_t)(uintptr_t)real_malloc;
    g_guard_known = true;
    if (g_hdr)
        publish_guard(g_hdr);
}

void ml_rec_allocator_tls(const void *tls, size_t size)
{
    g_alloc_tls = (int64_t)((intptr_t)tls - (intptr_t)__builtin_thread_pointer());
    g_alloc_tls_size = size;
    if (g_hdr)
        publish_guard(g_hdr);
}

static void fill_header(struct ml_header *h, uint32_t frames, pid_t pid)
{
    memset(h, 0, sizeof(*h));
    publish_guard(h);
    h->magic = ML_SESSION_MAGIC;
    h->version = ML_SESSION_VERSION;
    h->pid = pid;
    h->file_size = ML_SESSION_SIZE;
    h->max_frames = frames;
}

static int write_header(int fd, uint32_t frames, pid_t pid)
{
    struct ml_header h;

    fill_header(&h, frames, pid);
    return pwrite(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h);
}

/* The header written in place, magic last. */
static void header_at(struct ml_header *base, uint32_t frames, pid_t pid)
{
    struct ml_header h;

    fill_header(&h, frames, pid);
    uint64_t magic = h.magic;
    h.magic = 0;
    memcpy(base, &h, sizeof(h));
    __atomic_store_n(&base->magic, magic, __ATOMIC_RELEASE);
}

/* The shim's own mappings go straight to the kernel: the exported mmap and
 * munmap report the program's calls and must never see these (the fork
 * handler runs them without the re-entrancy guard). */
static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int raw_munmap(void *addr, size_t len)
{
    return (int)syscall(SYS_munmap, addr, len);
}

/* Descriptors too: the exported close records the program's closes. */
static void raw_close(int fd)
{
    syscall(SYS_close, fd);
}

/* A file size limit below the session size would raise SIGXFSZ. */
static int size_allowed(void)
{
    struct rlimit rl;

    return getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
           rl.rlim_cur >= ML_SESSION_SIZE;
}

/* A freshly mapped session: kept when the tracer adopted it, else unmapped
 * (NULL). */
static struct ml_header *session_taken(void *base)
{
    if (!adopted(base)) {
        raw_munmap(base, ML_SESSION_FIRST);
        return NULL;
    }
    ml_views_reset(base, ML_SESSION_FIRST);
    return base;
}

/* No descriptor slot is free (the program uses them all, or lowered
 * RLIMIT_NOFILE): the session is a SysV segment instead, which takes none.
 * Attached whole, it is shrunk at once to the first mapping's size; the
 * tracer adopts it when the shim removes its id (IPC_RMID), after which it
 * lives as long as the two mappings. */
static struct ml_header *session_open_shm(uint32_t frames, pid_t pid)
{
    int id = -1;
    for (unsigned n = 0; id < 0 && n < 64; n++) {
        key_t key = (key_t)(ML_SESSION_SHM_KEY | (((unsigned)pid + n) & 0xffffu));
        id = (int)syscall(SYS_shmget, key, ML_SESSION_SIZE,
                          IPC_CREAT | IPC_EXCL | 0600 | SHM_NORESERVE);
        if (id < 0 && errno != EEXIST)
            return NULL;
    }
    if (id < 0)
        return NULL;
    void *base = (void *)syscall(SYS_shmat, id, NULL, 0);
    if (base != (void *)-1 &&
        (void *)syscall(SYS_mremap, base, ML_SESSION_SIZE, ML_SESSION_FIRST, 0) != base) {
        syscall(SYS_shmdt, base);
        base = (void *)-1;
    }
    if (base != (void *)-1)
        header_at(base, frames, pid);
    syscall(SYS_shmctl, id, IPC_RMID, NULL);      /* the tracer adopts it here */
    return base == (void *)-1 ? NULL : session_taken(base);
}

/* Create, map and hand over a session; NULL when no tracer adopted it. */
static struct ml_header *session_open(uint32_t frames, pid_t pid)
{
    if (!size_allowed())
        return NULL;
    int fd = (int)syscall(SYS_memfd_create, ML_SESSION_NAME, MFD_CLOEXEC);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE))
        return session_open_shm(frames, pid);
    if (fd < 0)
        return NULL;
    void *base = MAP_FAILED;
    if (ftruncate(fd, (off_t)ML_SESSION_SIZE) == 0 && write_header(fd, frames, pid))
        base = raw_mmap(NULL, ML_SESSION_FIRST, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    raw_close(fd);
    /* The tracer, stopped at that mmap, has set `adopted` before it returned. */
    return base == MAP_FAILED ? NULL : session_taken(base);
}

/* ---- descriptors open when recording starts ---------------------------- */

struct ml_dirent64 {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

static void emit_fd(unsigned type, int fd, unsigned fn, uint32_t stack);

/* The shim's own descriptors (session.h, ML_OWN_FDS_SYMBOL). */
ML_EXPORT int32_t memlens_own_fds[ML_OWN_FDS_MAX];

static bool own_fd(int fd)
{
    for (unsigned i = 0; i < ML_OWN_FDS_MAX; i++)
        if (__atomic_load_n(&memlens_own_fds[i], __ATOMIC_RELAXED) == fd + 1)
            return true;
    return false;
}

/* Replace slot value `from` by `to` (fd + 1 or 0) in the first slot holding it. */
static void own_swap(int32_t from, int32_t to)
{
    for (unsigned i = 0; i < ML_OWN_FDS_MAX; i++) {
        int32_t want = from;
        if (__atomic_compare_exchange_n(&memlens_own_fds[i], &want, to, 0,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return;
    }
}

/* first .. last are closing: none of them is the shim's any more. */
static void own_forget(unsigned first, unsigned last)
{
    for (unsigned i = 0; i < ML_OWN_FDS_MAX; i++) {
        int32_t v = __atomic_load_n(&memlens_own_fds[i], __ATOMIC_RELAXED);
        if (v > 0 && (unsigned)(v - 1) >= first && (unsigned)(v - 1) <= last)
            __atomic_compare_exchange_n(&memlens_own_fds[i], &v, 0, 0,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
}

/* Every descriptor open now was inherited (from the parent process, or
 * across a fork): one ML_FD_INHERITED event each, without a stack.  Only
 * system calls: this runs in the fork child handler too. */
static void note_inherited_fds(void)
{
    char buf[4096];
    int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd",
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    long n;

    if (dir < 0)
        return;
    while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            const struct ml_dirent64 *d = (const void *)(buf + off);
            int fd = 0, digits = 0;
            for (const char *c = d->name; *c >= '0' && *c <= '9'; c++, digits++)
                fd = fd * 10 + (*c - '0');
            if (digits && d->name[digits] == '\0' && fd != dir && !own_fd(fd))
                emit_fd(ML_EV_FD_OPEN, fd, ML_FD_INHERITED, 0);
            off += d->reclen;
        }
    }
    raw_close(dir);
}

/* ---- fork -------------------------------------------------------------- */

static void canary_init(void)
{
    void *p = raw_mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        return;
    if (madvise(p, 4096, MADV_WIPEONFORK) != 0) {
        raw_munmap(p, 4096);
        return;
    }
    *(volatile uint32_t *)p = 1;
    g_canary = p;
}

static void fork_lock(void)
{
    while (__atomic_exchange_n(&g_fork_lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

/* In a forked child: drop the inherited session and open the child's own. */
static bool fork_recover(void)
{
    fork_lock();
    pid_t pid = getpid();
    if (__atomic_load_n(&g_state, __ATOMIC_ACQUIRE) == ML_ST_ON && g_sess_pid != pid) {
        ml_views_reset(NULL, 0);                 /* first: address space may be tight */
        struct ml_header *hdr = session_open(g_frames, pid);
        if (hdr) {
            g_hdr = hdr;
            g_sess_pid = pid;
            __atomic_add_fetch(&g_gen, 1, __ATOMIC_RELEASE);
            *(volatile uint32_t *)g_canary = 1;
            if (ml_fds_on)
                note_inherited_fds();
        } else {
            __atomic_store_n(&g_state, ML_ST_OFF, __ATOMIC_RELEASE);
            g_hdr = NULL;
        }
    }
    __atomic_store_n(&g_fork_lock, 0, __ATOMIC_RELEASE);
    return __atomic_load_n(&g_state, __ATOMIC_ACQUIRE) == ML_ST_ON;
}

/* pthread_atfork child handler: the forking thread is the only thread. */
static void on_fork_child(void)
{
    __atomic_store_n(&g_fork_lock, 0, __ATOMIC_RELAXED);
    if (__atomic_load_n(&g_state, __ATOMIC_ACQUIRE) == ML_ST_ON)
        fork_recover();
}

/* ---- start and hot-path test ------------------------------------------- */

static bool open_first(const char *opts)
{
    pid_t pid = getpid();

    g_frames = parse_option(opts, "frames", ML_DEFAULT_FRAMES, ML_MAX_FRAMES);
    g_zero_new = parse_option(opts, "zero", 1, 1) != 0;
    ml_fds_on = parse_option(opts, "fds", 0, 1) == 1;
    struct ml_header *hdr = session_open(g_frames, pid);
    if (!hdr)
        return false;
    g_hdr = hdr;
    g_sess_pid = pid;
    canary_init();
    cpu_init();
    ml_stacks_init();
    pthread_atfork(NULL, NULL, on_fork_child);   /* once: we run once */
    if (ml_fds_on)
        note_inherited_fds();
    return true;
}

bool ml_rec_start(char **envp)
{
    int st = ML_ST_UNINIT;

    if (!__atomic_compare_exchange_n(&g_state, &st, ML_ST_BUSY, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
        return st == ML_ST_ON;
    char **env = envp ? envp : environ;
    if (!env) {   /* too early: the C library has not set environ yet */
        __atomic_store_n(&g_state, ML_ST_UNINIT, __ATOMIC_RELEASE);
        return false;
    }
    const char *opts = env_get(env, ML_ENV_SESSION);
    st = opts && open_first(opts) ? ML_ST_ON : ML_ST_OFF;
    if (st == ML_ST_OFF)
        ml_fds_on = 0;
    __atomic_store_n(&g_state, st, __ATOMIC_RELEASE);
    return st == ML_ST_ON;
}

/* First use or first use after a fork: system calls, errno preserved. */
static bool rec_on_slow(int st)
{
    int err = errno;
    bool on = st == ML_ST_UNINIT ? ml_rec_start(NULL) : fork_recover();

    errno = err;
    return on;
}

bool ml_rec_on(void)
{
    int st = __atomic_load_n(&g_state, __ATOMIC_ACQUIRE);

    if (ML_LIKELY(st == ML_ST_ON)) {
        if (ML_UNLIKELY(*(volatile uint32_t *)g_canary == 0))
            return rec_on_slow(st);
        if (ML_LIKELY(__atomic_load_n(&g_hdr->adopted, __ATOMIC_RELAXED)))
            return true;
        /* The tracer detached: stop recording, keep the mapping (other
         * threads may still be writing into it). */
        __atomic_store_n(&g_state, ML_ST_OFF, __ATOMIC_RELEASE);
        return false;
    }
    return st == ML_ST_UNINIT && rec_on_slow(st);
}

/* ---- rings ------------------------------------------------------------- */

static void raise_ring_count(struct ml_header *hdr, uint32_t n)
{
    uint32_t cur = __atomic_load_n(&hdr->ring_count, __ATOMIC_RELAXED);

    while (cur < n && !__atomic_compare_exchange_n(&hdr->ring_count, &cur, n, 1,
                                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
}

/* A claimed ring's events, given room in the growing area on its first
 * claim; NULL (the ring handed back) when there is no room. */
static struct ml_event *ring_events(struct ml_header *hdr, uint32_t i)
{
    struct ml_ring *r = &ml_rings(hdr)[i];
    uint64_t data = __atomic_load_n(&r->data, __ATOMIC_ACQUIRE);

    if (data == 0) {
        uint64_t off = ml_view_reserve(hdr, ML_RING_BYTES, 4096);
        if (off == UINT64_MAX) {
            __atomic_store_n(&r->state, (uint32_t)ML_RING_FREE, __ATOMIC_RELEASE);
            return NULL;
        }
        data = off + 1;
        __atomic_store_n(&r->data, data, __ATOMIC_RELEASE);
    }
    char *base = ml_view(ML_OFF_FRAMES + data - 1 + ML_RING_BYTES);
    return base ? ml_ring_events(base, i) : NULL;
}

static bool take_ring(struct ml_tls *t, struct ml_header *hdr, uint32_t i, uint32_t gen)
{
    struct ml_ring *r = &ml_rings(hdr)[i];
    struct ml_event *ev = ring_events(hdr, i);

    if (!ev)
        return false;
    __atomic_store_n(&r->tid, (int32_t)syscall(SYS_gettid), __ATOMIC_RELAXED);
    t->ring = r;
    t->ev = ev;
    t->head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
    t->tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    t->gen = gen;
    raise_ring_count(hdr, i + 1);
    return true;
}

/* Claim a FREE ring, waiting for the tracer to free one if need be. */
static bool claim_ring(struct ml_tls *t, uint32_t gen)
{
    struct ml_header *hdr = g_hdr;
    struct ml_ring *rings = ml_rings(hdr);

    for (;;) {
        for (uint32_t i = 0; i < ML_MAX_RINGS; i++) {
            uint32_t st = ML_RING_FREE;
            if (__atomic_load_n(&rings[i].state, __ATOMIC_RELAXED) != ML_RING_FREE)
                continue;
            if (__atomic_compare_exchange_n(&rings[i].state, &st, ML_RING_LIVE, 0,
                                            __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                if (take_ring(t, hdr, i, gen))
                    return true;
                __atomic_add_fetch(&hdr->lost, 1, __ATOMIC_RELAXED);   /* said at exit */
                return false;
            }
        }
        if (!adopted(hdr))
            return false;
        sleep_us(1000);
    }
}

static bool ensure_ring(struct ml_tls *t)
{
    uint32_t gen = __atomic_load_n(&g_gen, __ATOMIC_ACQUIRE);

    if (ML_LIKELY(t->gen == gen))
        return true;
    return claim_ring(t, gen);
}

/* Wait until the tracer has made room; false if it went away. */
static bool wait_room(struct ml_tls *t)
{
    for (unsigned i = 0;; i++) {
        t->tail = __atomic_load_n(&t->ring->tail, __ATOMIC_ACQUIRE);
        if (t->head - t->tail < ML_RING_EVENTS)
            return true;
        if (i == 0)   /* a real wait, not just a stale copy of tail */
            __atomic_add_fetch(&g_hdr->ring_waits, 1, __ATOMIC_RELAXED);
        if (i < 128) {
            __builtin_ia32_pause();
            continue;
        }
        if (!adopted(g_hdr))
            return false;
        if (i < 256)
            sched_yield();
        else
            sleep_us(20);
    }
}

/* The next free slot of the thread's ring, waiting for room; NULL if the
 * tracer went away. */
static inline struct ml_event *next_slot(struct ml_tls *t)
{
    uint64_t h = t->head;

    if (ML_UNLIKELY(h - t->tail >= ML_RING_EVENTS) && !wait_room(t))
        return NULL;
    return &t->ev[h & (ML_RING_EVENTS - 1)];
}

/* Make the slot next_slot() gave visible to the tracer. */
static inline void publish(struct ml_tls *t)
{
    uint64_t h = t->head + 1;

    __atomic_store_n(&t->ring->head, h, __ATOMIC_RELEASE);
    t->head = h;
}

static uint64_t next_seq(void)
{
    return __atomic_fetch_add(&g_hdr->seq, 1, __ATOMIC_SEQ_CST);
}

/* ---- events ------------------------------------------------------------ */

/* How far ahead of head ring lines are asked for in exclusive state. */
#define ML_CLAIM_AHEAD 8u

/* The tracer read the ring's lines on its previous lap, so its core holds
 * them: writing an event would wait for the line to come back, and every
 * store after it (the shim's scrub above all) would queue behind.  Asking
 * for the line a few events ahead, for writing, hides that wait. */
static inline void claim_ahead(const struct ml_tls *t)
{
    if (ML_LIKELY(g_prefetchw))
        __asm__ volatile("prefetchw %0"
                         : : "m"(t->ev[(t->head + ML_CLAIM_AHEAD) & (ML_RING_EVENTS - 1)]));
}

/* The fields are stored straight into the ring slot: an event built on
 * the stack and copied would be read back with wider loads than it was
 * written with, which stalls store forwarding on every event. */
static void emit(uint64_t seq, unsigned type, unsigned fn, const void *p,
                 uint64_t size, uint32_t stack)
{
    struct ml_tls *t = &t_rec;
    struct ml_event *e = next_slot(t);

    if (!e)
        return;
    claim_ahead(t);
    e->seq = seq;
    e->addr = (uint64_t)(uintptr_t)p;
    e->size = size;
    e->stack = stack;
    e->type = (uint16_t)type;
    e->fn = (uint16_t)fn;
    publish(t);
}

/* A block's address is kept scrambled while the stack is walked: the walk
 * (libunwind's above all) goes deeper than the shim scrubs afterwards, and
 * its frames must hold no copy of the address (see scrub_below() in shim.c). */
#define ML_HIDE 0xa5a5a5a5a5a5a5a5ull

void ml_rec_alloc(const void *p, size_t size, unsigned fn)
{
    int err = errno;
    uint64_t hidden = (uint64_t)(uintptr_t)p ^ ML_HIDE;

    __asm__ volatile("" : "+r"(hidden));
    if (ensure_ring(&t_rec)) {
        uint32_t stack = ml_stack_id(g_hdr, t_rec.gen, g_frames);
        __asm__ volatile("" : "+r"(hidden));
        emit(next_seq(), ML_EV_ALLOC, fn, (const void *)(uintptr_t)(hidden ^ ML_HIDE), size, stack);
    }
    errno = err;
}

void ml_rec_map(unsigned type, const void *p, size_t size)
{
    int err = errno;

    if (ensure_ring(&t_rec)) {
        uint32_t stack = type == ML_EV_MUNMAP ? 0 : ml_stack_id(g_hdr, t_rec.gen, g_frames);
        emit(next_seq(), type, 0, p, size, stack);
    }
    errno = err;
}

static void emit_fd(unsigned type, int fd, unsigned fn, uint32_t stack)
{
    if (ensure_ring(&t_rec))
        emit(next_seq(), type, fn, (const void *)(uintptr_t)(unsigned)fd, 0, stack);
}

void ml_rec_fd_close_range(unsigned first, unsigned last)
{
    int err = errno;

    own_forget(first, last);
    if (g_sess_pid == (pid_t)syscall(SYS_getpid) && first <= last && ensure_ring(&t_rec))
        emit(next_seq(), ML_EV_FD_CLOSE, 0, (const void *)(uintptr_t)first, last - first, 0);
    errno = err;
}

void ml_rec_fd(unsigned type, int fd, unsigned fn)
{
    int err = errno;

    /* A vfork child shares the parent's memory, session included, but not
     * its descriptor table: what it opens and closes is not the parent's. */
    if (g_sess_pid != (pid_t)syscall(SYS_getpid)) {
        errno = err;
        return;
    }
    if (type == ML_EV_FD_CLOSE)
        own_forget((unsigned)fd, (unsigned)fd);   /* the program closes it: no longer ours */
    if (ensure_ring(&t_rec))
        emit_fd(type, fd, fn, type == ML_EV_FD_OPEN ? ml_stack_id(g_hdr, t_rec.gen, g_frames) : 0);
    errno = err;
}

/* No event: this may run inside the shim, even in a signal handler that
 * interrupted an event being written on this thread. */
void ml_rec_own_fd(unsigned type, int fd)
{
    if (type == ML_EV_FD_OPEN)
        own_swap(0, fd + 1);
    else
        own_forget((unsigned)fd, (unsigned)fd);
}

void ml_rec_free(const void *p, size_t size, unsigned fn)
{
    int err = errno;

    if (ensure_ring(&t_rec))
        emit(next_seq(), ML_EV_FREE, fn, p, size, 0);
    errno = err;
}

uint64_t ml_rec_claim(void)
{
    int err = errno;
    uint64_t seq = ensure_ring(&t_rec) ? next_seq() : ML_NO_SEQ;

    errno = err;
    return seq;
}

void ml_rec_free_at(uint64_t seq, const void *p, unsigned fn)
{
    int err = errno;

    if (seq != ML_NO_SEQ)
        emit(seq, ML_EV_FREE, fn, p, 0, 0);
    errno = err;
}

void ml_rec_nop(uint64_t seq)
{
    int err = errno;

    if (seq != ML_NO_SEQ)
        emit(seq, ML_EV_NOP, 0, NULL, 0, 0);
    errno = err;
}

/* ---- attach mode (attach.c) -------------------------------------------- */

static int g_attach_inited;          /* fork handling set up for attach mode */

void ml_rec_detached(struct ml_header *hdr)
{
    int st = ML_ST_ON;

    if (g_hdr == hdr)
        __atomic_compare_exchange_n(&g_state, &st, ML_ST_OFF, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED);
}

bool ml_rec_attach(struct ml_header *hdr, uint32_t frames)
{
    int st = __atomic_load_n(&g_state, __ATOMIC_ACQUIRE);

    /* A previous attach's session that memlens has let go is replaced. */
    if (st == ML_ST_ON && g_hdr && !adopted(g_hdr))
        ml_rec_detached(g_hdr);
    st = __atomic_load_n(&g_state, __ATOMIC_ACQUIRE);

    do {
        if (st == ML_ST_ON || st == ML_ST_BUSY)
            return false;
    } while (!__atomic_compare_exchange_n(&g_state, &st, ML_ST_BUSY, 0,
                                          __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE));
    g_frames = frames;
    g_hdr = hdr;
    ml_fds_on = 0;                              /* an attach never records descriptors */
    ml_views_reset(hdr, ML_SESSION_FIRST);      /* the previous attach's views go */
    publish_guard(hdr);
    g_sess_pid = getpid();
    __atomic_add_fetch(&g_gen, 1, __ATOMIC_RELEASE);   /* threads claim rings anew */
    if (!g_attach_inited) {
        g_attach_inited = 1;
        if (g_canary == &g_canary_static)
            canary_init();
        cpu_init();
        ml_stacks_init();
        pthread_atfork(NULL, NULL, on_fork_child);
    }
    __atomic_store_n(&g_state, ML_ST_ON, __ATOMIC_RELEASE);
    return true;
}

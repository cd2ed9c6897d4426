/* session.c - adopting sessions and replaying their events (see session.h). */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>
#include "memlens/session.h"
#include "memtrace.h"
#include "openfds.h"

#define WINDOW (1u << 18)     /* reorder window, events; power of two */

/* The tracer maps the session file as far as the shim has used it, and
 * maps it again, larger, when the shim has gone further; older mappings
 * stay until the session closes (pointers into them were handed out). */
#define MAX_VIEWS 40
struct ml_session {
    void *base;               /* the largest mapping, `mapped` bytes */
    uint64_t mapped;
    void *old[MAX_VIEWS];     /* the smaller ones, and their sizes */
    uint64_t old_size[MAX_VIEWS];
    int nold;
    pthread_mutex_t view_lock;
    int pid;
    struct ml_blocks *blocks;
    struct ml_event *window;  /* slot seq % WINDOW, its type + 1; type 0 = empty */
    uint64_t next_seq;
    uint64_t top_seq;         /* one past the highest sequence number taken in */
    struct ml_memtrace prog;  /* the program's own mmaps and shmgets, from the shim */
    struct ml_fd_table fds;   /* who made each open descriptor (--track-fds=yes) */
    pthread_mutex_t lock;
    struct ml_session *next;  /* drainer list */
};

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ml_session *sessions;
static pthread_t drainer;
static int drainer_running, drainer_stop;

/* A window slot holds its event's type + 1, so that the window, mapped
 * anonymous (zero pages the kernel gives as they are touched), starts all
 * empty: a process with few events pays for the pages it uses, not 8 MiB. */
#define EMPTY 0u
#define WINDOW_BYTES (WINDOW * sizeof(struct ml_event))

static struct ml_event *window_new(void)
{
    void *w = mmap(NULL, WINDOW_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return w == MAP_FAILED ? NULL : w;
}

static void window_free(struct ml_event *w)
{
    if (w) munmap(w, WINDOW_BYTES);
}

static int is_session_fd(int pid, int fd)
{
    char path[64], link[256];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    ssize_t len = readlink(path, link, sizeof link - 1);
    if (len < 0) return 0;
    link[len] = '\0';
    return strncmp(link, "/memfd:" ML_SESSION_NAME, strlen("/memfd:" ML_SESSION_NAME)) == 0;
}

/* The session's first mapping at base: checked, kept. */
static int keep_first(struct ml_session *s, void *base)
{
    const struct ml_header *h = base;
    if (h->magic != ML_SESSION_MAGIC || h->version != ML_SESSION_VERSION ||
        h->file_size != ML_SESSION_SIZE) {
        munmap(base, ML_SESSION_FIRST);
        errno = EPROTO;
        return -1;
    }
    s->base = base;
    s->mapped = ML_SESSION_FIRST;
    return 0;
}

static int map_session(struct ml_session *s, int pid, int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    int myfd = open(path, O_RDWR | O_CLOEXEC);
    if (myfd < 0) return -1;
    void *base = mmap(NULL, ML_SESSION_FIRST, PROT_READ | PROT_WRITE, MAP_SHARED, myfd, 0);
    close(myfd);
    return base == MAP_FAILED ? -1 : keep_first(s, base);
}

/* A SysV session (session.h): attached whole, then shrunk to the first mapping. */
static int map_session_shm(struct ml_session *s, int shmid)
{
    void *base = shmat(shmid, NULL, 0);
    if (base == (void *)-1) return -1;
    if (mremap(base, ML_SESSION_SIZE, ML_SESSION_FIRST, 0) != base) {
        shmdt(base);
        return -1;
    }
    return keep_first(s, base);
}

/* A mapping of the session that reaches `end` bytes, or NULL. */
static void *view(struct ml_session *s, uint64_t end)
{
    void *base = __atomic_load_n(&s->base, __ATOMIC_ACQUIRE);
    if (end <= __atomic_load_n(&s->mapped, __ATOMIC_ACQUIRE)) return base;
    if (end > ML_SESSION_SIZE) return NULL;
    pthread_mutex_lock(&s->view_lock);
    if (end > s->mapped && s->nold < MAX_VIEWS) {
        uint64_t size = s->mapped * 2 > end ? s->mapped * 2 : (end + 4095u) & ~4095ull;
        if (size > ML_SESSION_SIZE) size = ML_SESSION_SIZE;
        void *nb = mremap(s->base, 0, size, MREMAP_MAYMOVE);   /* the same pages, more of them */
        if (nb != MAP_FAILED) {
            s->old[s->nold] = s->base;
            s->old_size[s->nold++] = s->mapped;
            __atomic_store_n(&s->base, nb, __ATOMIC_RELEASE);
            __atomic_store_n(&s->mapped, size, __ATOMIC_RELEASE);
        }
    }
    base = end <= s->mapped ? s->base : NULL;
    pthread_mutex_unlock(&s->view_lock);
    return base;
}

static void unmap_views(struct ml_session *s)
{
    for (int i = 0; i < s->nold; i++) munmap(s->old[i], s->old_size[i]);
    if (s->base) munmap(s->base, s->mapped);
}

/* Adopt the session of pid, mapped by map() as `what` names it. */
static struct ml_session *adopt(int pid, int what, int shm, struct ml_blocks *initial)
{
    struct ml_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (shm) map_session_shm(s, what);
    else map_session(s, pid, what);
    s->blocks = initial ? initial : ml_blocks_new();
    s->window = window_new();
    if (!s->base || !s->blocks || !s->window) {
        int err = errno ? errno : ENOMEM;
        unmap_views(s);
        if (s->blocks != initial) ml_blocks_free(s->blocks);
        window_free(s->window);
        free(s);
        errno = err;
        return NULL;
    }
    s->pid = pid;
    ml_memtrace_init(&s->prog, 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->view_lock, NULL);
    struct ml_header *h = s->base;
    h->tracer_pid = getpid();
    __atomic_store_n(&h->adopted, 1u, __ATOMIC_RELEASE);
    pthread_mutex_lock(&list_lock);
    s->next = sessions;
    sessions = s;
    pthread_mutex_unlock(&list_lock);
    return s;
}

struct ml_session *ml_session_adopt(int pid, int fd, struct ml_blocks *initial)
{
    if (!is_session_fd(pid, fd)) {
        errno = ENOENT;
        return NULL;
    }
    return adopt(pid, fd, 0, initial);
}

int ml_session_is_shm(int pid, int shmid)
{
    struct shmid_ds ds;
    return shmctl(shmid, IPC_STAT, &ds) == 0 && ds.shm_segsz == ML_SESSION_SIZE &&
           ds.shm_cpid == pid && ((uint32_t)ds.shm_perm.__key & 0xffff0000u) == ML_SESSION_SHM_KEY;
}

struct ml_session *ml_session_adopt_shm(int pid, int shmid, struct ml_blocks *initial)
{
    if (!ml_session_is_shm(pid, shmid)) {
        errno = ENOENT;
        return NULL;
    }
    return adopt(pid, shmid, 1, initial);
}

static void apply(struct ml_session *s, const struct ml_event *ev)
{
    if (ev->type == ML_EV_ALLOC) {
        struct ml_block b = {.addr = ev->addr, .size = ev->size, .seq = ev->seq,
                             .stack = ev->stack, .fn = ev->fn};
        ml_blocks_alloc(s->blocks, &b);
    } else if (ev->type == ML_EV_FREE) {
        ml_blocks_release(s->blocks, ev->addr);
    } else if (ev->type == ML_EV_MMAP) {
        ml_memtrace_prog_mmap(&s->prog, ev->addr, ev->size, ev->stack);
    } else if (ev->type == ML_EV_MUNMAP) {
        ml_memtrace_prog_munmap(&s->prog, ev->addr, ev->size);
    } else if (ev->type == ML_EV_SHMGET) {
        ml_memtrace_shm_stack(&s->prog, (int)ev->addr, ev->stack);
    } else if (ev->type == ML_EV_FD_OPEN) {
        ml_fd_table_open(&s->fds, (int)ev->addr, ev->fn, ev->stack, ev->seq);
    } else if (ev->type == ML_EV_FD_CLOSE) {
        ml_fd_table_close_range(&s->fds, ev->addr, ev->addr + ev->size);
    }
}

#define LOOKAHEAD 16    /* events between a block slot's prefetch and its use */

/* Start loading the table slots of the event LOOKAHEAD places after seq:
 * at millions of live blocks every insert and free misses the cache, and
 * the misses of a run of events overlap instead of following each other. */
static void prefetch_ahead(const struct ml_session *s, uint64_t seq)
{
    const struct ml_event *ev = &s->window[(seq + LOOKAHEAD) & (WINDOW - 1)];
    if (ev->seq == seq + LOOKAHEAD && (ev->type == ML_EV_ALLOC + 1 || ev->type == ML_EV_FREE + 1))
        ml_blocks_prefetch(s->blocks, ev->addr);
}

/* Apply the window's events from next_seq on while they are contiguous. */
static void advance(struct ml_session *s)
{
    for (uint64_t q = 0; q < LOOKAHEAD; q++) prefetch_ahead(s, s->next_seq + q - LOOKAHEAD);
    for (;;) {
        struct ml_event *slot = &s->window[s->next_seq & (WINDOW - 1)];
        if (slot->type == EMPTY || slot->seq != s->next_seq) return;
        prefetch_ahead(s, s->next_seq);
        struct ml_event ev = *slot;
        ev.type--;
        apply(s, &ev);
        slot->type = EMPTY;
        s->next_seq++;
    }
}

/* Events moved from a ring before they are applied: few enough that the
 * window's slots they fill are still in the cache when advance reads them
 * back (a whole window is 8 MiB, larger than the caches). */
#define PULL_BATCH 2048u

/* Move up to PULL_BATCH published events of one ring into the window.
 * Returns events moved. */
static size_t pull_ring(struct ml_session *s, struct ml_ring *ring, struct ml_event *evs)
{
    uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
    uint64_t tail = ring->tail, moved = 0;
    if (head - tail > PULL_BATCH) head = tail + PULL_BATCH;
    while (tail < head) {
        const struct ml_event *ev = &evs[tail & (ML_RING_EVENTS - 1)];
        if (ev->seq - s->next_seq >= WINDOW) break;     /* window full: wait for a gap */
        struct ml_event *slot = &s->window[ev->seq & (WINDOW - 1)];
        *slot = *ev;
        slot->type++;
        if (ev->seq >= s->top_seq) s->top_seq = ev->seq + 1;
        tail++;
        moved++;
    }
    if (moved) __atomic_store_n(&ring->tail, tail, __ATOMIC_RELEASE);
    return moved;
}

static size_t drain(struct ml_session *s)
{
    struct ml_header *h = s->base;
    uint32_t nrings = __atomic_load_n(&h->ring_count, __ATOMIC_ACQUIRE);
    size_t moved = 0;
    if (nrings > ML_MAX_RINGS) nrings = ML_MAX_RINGS;
    for (uint32_t r = 0; r < nrings; r++) {
        struct ml_ring *ring = &ml_rings(s->base)[r];
        if (__atomic_load_n(&ring->state, __ATOMIC_ACQUIRE) == ML_RING_FREE) continue;
        uint64_t data = __atomic_load_n(&ring->data, __ATOMIC_ACQUIRE);
        void *base = data ? view(s, ML_OFF_FRAMES + data - 1 + ML_RING_BYTES) : NULL;
        if (!base) continue;                      /* no events yet, or no room to map them */
        /* As many batches as the ring held at the start, at most. */
        for (size_t k = 0, got = 1; got && k < ML_RING_EVENTS / PULL_BATCH + 1; k++) {
            got = pull_ring(s, ring, ml_ring_events(base, r));
            advance(s);
            moved += got;
        }
    }
    return moved;
}

void ml_session_thread_exited(struct ml_session *s, int tid)
{
    pthread_mutex_lock(&s->lock);
    drain(s);
    struct ml_header *h = s->base;
    uint32_t nrings = h->ring_count < ML_MAX_RINGS ? h->ring_count : ML_MAX_RINGS;
    for (uint32_t r = 0; r < nrings; r++) {
        struct ml_ring *ring = &ml_rings(s->base)[r];
        if (ring->state != ML_RING_LIVE || ring->tid != tid) continue;
        /* Events the window could not take yet stay in the ring; keep it then. */
        if (__atomic_load_n(&ring->head, __ATOMIC_ACQUIRE) != ring->tail) continue;
        ring->tid = 0;
        __atomic_store_n(&ring->state, (uint32_t)ML_RING_FREE, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&s->lock);
}

/* Lowest sequence number waiting in the window, or UINT64_MAX: every one
 * waiting lies in [next_seq, top_seq), each in its own slot. */
static uint64_t lowest_waiting(const struct ml_session *s)
{
    for (uint64_t q = s->next_seq; q < s->top_seq && q - s->next_seq < WINDOW; q++) {
        const struct ml_event *slot = &s->window[q & (WINDOW - 1)];
        if (slot->type != EMPTY && slot->seq == q) return q;
    }
    return UINT64_MAX;
}

void ml_session_finish(struct ml_session *s)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        size_t moved = drain(s);
        advance(s);
        if (moved) continue;
        /* A gap: a thread died between taking a number and publishing. */
        uint64_t low = lowest_waiting(s);
        if (low == UINT64_MAX) break;
        s->next_seq = low;
        advance(s);
    }
    pthread_mutex_unlock(&s->lock);
}

void ml_session_freeze(struct ml_session *s)
{
    pthread_mutex_lock(&s->lock);
    ml_blocks_freeze(s->blocks);
    pthread_mutex_unlock(&s->lock);
}

void ml_session_take_maps(struct ml_session *s, struct ml_memtrace *mt)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->prog.nprog; i++) {
        const struct ml_prog_map *p = &s->prog.prog[i];
        ml_memtrace_prog_mmap(mt, p->addr, p->len, p->stack);
    }
    for (size_t i = 0; i < s->prog.nshm; i++)
        ml_memtrace_shm_stack(mt, s->prog.shm[i].shmid, s->prog.shm[i].stack);
    pthread_mutex_unlock(&s->lock);
}

struct ml_blocks *ml_session_clone_blocks(struct ml_session *s)
{
    pthread_mutex_lock(&s->lock);
    drain(s);
    struct ml_blocks *copy = ml_blocks_clone(s->blocks);
    pthread_mutex_unlock(&s->lock);
    return copy;
}

const struct ml_fd_table *ml_session_fds(const struct ml_session *s)
{
    return &s->fds;
}

int ml_session_copy_fds(struct ml_session *s, struct ml_fd_table *out)
{
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    drain(s);
    for (size_t fd = 0; !rc && fd < s->fds.cap; fd++) {
        const struct ml_fd_rec *r = ml_fd_table_get(&s->fds, (int)fd);
        if (r) rc = ml_fd_table_open(out, (int)fd, r->fn, r->stack, r->seq);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

struct ml_blocks *ml_session_blocks(struct ml_session *s)
{
    return s->blocks;
}

/* A stack whose callers are shared is put together here: valid until the
 * calling thread's next call. */
static __thread uint64_t joined[ML_MAX_FRAMES];

static const uint64_t *stack_frames(void *ctx, uint32_t id, uint32_t *depth)
{
    struct ml_session *s = ctx;
    void *base = view(s, ml_session_used(s->base));
    const struct ml_stack_rec *rec = base ? ml_stack(base, id) : NULL;
    const uint64_t *frames = rec ? ml_stack_join(base, rec, joined) : NULL;
    if (!frames) return NULL;
    *depth = rec->depth;
    return frames;
}

struct ml_stack_source ml_session_stacks(struct ml_session *s)
{
    return (struct ml_stack_source){.frames = stack_frames, .ctx = s};
}

int ml_session_stacks_full(const struct ml_session *s)
{
    return ((const struct ml_header *)s->base)->stacks_full != 0;
}

struct ml_header *ml_session_header(struct ml_session *s)
{
    return s->base;
}

/* MEMLENS_STATS=1: what the session cost, on stderr (for bench/). */
static void print_stats(const struct ml_session *s)
{
    const char *e = getenv("MEMLENS_STATS");
    if (!e || e[0] != '1') return;
    const struct ml_header *h = s->base;
    fprintf(stderr, "memlens-stats: pid=%d events=%llu stacks=%u frames_bytes=%llu "
            "rings=%u ring_waits=%llu slow_walks=%llu\n", s->pid,
            (unsigned long long)h->seq, h->stack_count, (unsigned long long)h->frames_used,
            h->ring_count, (unsigned long long)h->ring_waits, (unsigned long long)h->slow_walks);
}

void ml_session_close(struct ml_session *s)
{
    if (!s) return;
    print_stats(s);
    pthread_mutex_lock(&list_lock);
    for (struct ml_session **p = &sessions; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    pthread_mutex_unlock(&list_lock);
    unmap_views(s);
    ml_blocks_free(s->blocks);
    ml_memtrace_free(&s->prog);
    ml_fd_table_free(&s->fds);
    window_free(s->window);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->view_lock);
    free(s);
}

#define IDLE_MIN_NS 50000L      /* first nap after a pass that moved nothing */
#define IDLE_MAX_NS 2000000L    /* longest nap: an idle target costs ~500 wake-ups a second */

static void *drainer_main(void *arg)
{
    (void)arg;
    long idle_ns = IDLE_MIN_NS;
    while (!__atomic_load_n(&drainer_stop, __ATOMIC_ACQUIRE)) {
        size_t moved = 0;
        pthread_mutex_lock(&list_lock);
        for (struct ml_session *s = sessions; s; s = s->next) {
            __atomic_add_fetch(&((struct ml_header *)s->base)->tracer_beat, 1, __ATOMIC_RELEASE);
            if (pthread_mutex_trylock(&s->lock) != 0) continue;
            moved += drain(s);
            pthread_mutex_unlock(&s->lock);
        }
        pthread_mutex_unlock(&list_lock);
        if (moved) {
            idle_ns = IDLE_MIN_NS;
            continue;
        }
        nanosleep(&(struct timespec){0, idle_ns}, NULL);   /* naps double while idle */
        if (idle_ns < IDLE_MAX_NS) idle_ns = idle_ns * 2 < IDLE_MAX_NS ? idle_ns * 2 : IDLE_MAX_NS;
    }
    return NULL;
}

int ml_drainer_start(void)
{
    int rc = pthread_create(&drainer, NULL, drainer_main, NULL);
    if (rc) return -rc;
    drainer_running = 1;
    return 0;
}

void ml_drainer_stop(void)
{
    if (!drainer_running) return;
    __atomic_store_n(&drainer_stop, 1, __ATOMIC_RELEASE);
    pthread_join(drainer, NULL);
    drainer_running = 0;
}

/* session.h - the shared-memory protocol between libmemlens.so and memlens.
 *
 * One session per traced process image: a memfd that the shim creates,
 * writes its header into (pwrite), maps MAP_SHARED and then closes.  The
 * file is large and sparse; each side maps only the part in use and maps
 * more as it grows (the shim without a descriptor: mremap with old size 0
 * makes a larger mapping of the same pages, and the old one stays valid),
 * so a traced process pays address space for what it records, not for the
 * file's size.  A process with no free descriptor slot gets a SysV segment
 * of the same size instead (key ML_SESSION_SHM_KEY | n, mode 0600, shrunk to
 * the first mapping at once), which the tracer adopts at the shim's IPC_RMID
 * of it.  The
 * tracer sees that mmap at its seccomp stop, recognises the memfd by name,
 * opens its own descriptor and maps it too, and sets `adopted` before the
 * mmap returns.  A shim that finds `adopted` still 0 after mapping has no
 * tracer and goes inert (plain pass-through).
 *
 * Layout of the file (all offsets fixed by the constants below, sparse):
 *   [ml_header][ml_ring x ML_MAX_RINGS][stack slots][stack offsets]
 *   [frames area][ring data x ML_MAX_RINGS]
 *
 * Writers: the shim owns everything except `adopted`, `tracer_pid` and each
 * ring's `tail` and `state` transition CLOSED/LIVE -> FREE, which the tracer
 * owns.  Events carry a dense global sequence number so that the tracer can
 * replay the events of all threads in the order the allocator saw them:
 * an allocation takes its number after the real call returns, a free before
 * the real call starts.
 */
#ifndef MEMLENS_SESSION_H
#define MEMLENS_SESSION_H

#include <stdint.h>

#define ML_SESSION_MAGIC   0x314e454c4d454d4dULL /* "MMEMLEN1" */
#define ML_SESSION_VERSION 3u
#define ML_SESSION_NAME    "memlens-session"  /* memfd name */
#define ML_SESSION_SHM_KEY 0x6d6c0000         /* "ml": a SysV session's key, its low 16
                                                 bits the first free from the pid on */
#define ML_SESSION_SHM_MAPS "/SYSV6d6c"       /* its mappings' names in /proc/PID/maps */
#define ML_ENV_SESSION     "MEMLENS_SESSION"  /* set by the tracer: options */
#define ML_ENV_PRELOAD     "LD_PRELOAD"

#define ML_MAX_FRAMES      256u               /* upper bound of --num-callers */
#define ML_MAX_RINGS       2048u
#define ML_RING_EVENTS     16384u             /* power of two */
#define ML_STACK_SLOTS     (1u << 22)         /* hash slots, power of two */
#define ML_MAX_STACKS      (ML_STACK_SLOTS / 2u)  /* ids 1..ML_MAX_STACKS-1 */
/* The growing area: stack records and each ring's events, handed out in
 * order (frames_used); sparse, mapped as far as it is used. */
#define ML_FRAMES_BYTES    (1ull << 35)
#define ML_GROW_BYTES      (4ull << 20)       /* the first mapping's share of it */

enum ml_event_type {
    ML_EV_NOP = 0,     /* a sequence number that ended up carrying nothing */
    ML_EV_ALLOC = 1,   /* addr = returned pointer, size = requested bytes */
    ML_EV_FREE = 2,    /* addr = pointer handed to free/delete/realloc */
    ML_EV_MMAP = 3,    /* the program's own mmap: addr = result, size = length */
    ML_EV_MUNMAP = 4,  /* the program's own munmap: addr, size = length */
    ML_EV_SHMGET = 5,  /* the program's shmget: addr = shmid returned, size = size */
    ML_EV_FD_OPEN = 6, /* a descriptor the program made: addr = fd, fn = enum ml_fd_fn */
    ML_EV_FD_CLOSE = 7,/* the program is about to close descriptors addr .. addr + size */
};

/* Which call made a descriptor (fds=1 in MEMLENS_SESSION turns the events on).
 * ML_FD_INHERITED: open when the session started (inherited), no stack. */
enum ml_fd_fn {
    ML_FD_INHERITED = 1, ML_FD_OPEN, ML_FD_OPENAT, ML_FD_CREAT, ML_FD_SOCKET,
    ML_FD_SOCKETPAIR, ML_FD_ACCEPT, ML_FD_ACCEPT4, ML_FD_PIPE, ML_FD_PIPE2, ML_FD_DUP,
    ML_FD_DUP2, ML_FD_DUP3, ML_FD_FCNTL, ML_FD_EVENTFD, ML_FD_MEMFD_CREATE,
    ML_FD_EPOLL_CREATE, ML_FD_EPOLL_CREATE1, ML_FD_INOTIFY_INIT, ML_FD_INOTIFY_INIT1,
    ML_FD_SIGNALFD, ML_FD_TIMERFD_CREATE, ML_FD_FOPEN, ML_FD_FREOPEN, ML_FD_TMPFILE,
    ML_FD_OPENDIR, ML_FD_MKSTEMP, ML_FD_SHM_OPEN, ML_FD_POSIX_OPENPT, ML_FD_POPEN,
    ML_FD_COUNT
};

/* The descriptors the shim made for itself (libunwind's pipe), listed in
 * its data under ML_OWN_FDS_SYMBOL as fd + 1 (0: free slot) for the exit
 * snapshot, as its mappings are below: never the program's, never listed.
 * Written by the shim only, with atomic compare-and-swap (signal-safe). */
#define ML_OWN_FDS_SYMBOL "memlens_own_fds"
#define ML_OWN_FDS_MAX    16u

enum ml_alloc_fn {     /* which entry point made or released the block */
    ML_FN_MALLOC = 1, ML_FN_CALLOC, ML_FN_REALLOC, ML_FN_REALLOCARRAY,
    ML_FN_POSIX_MEMALIGN, ML_FN_ALIGNED_ALLOC, ML_FN_MEMALIGN, ML_FN_VALLOC,
    ML_FN_PVALLOC, ML_FN_NEW, ML_FN_NEW_ARRAY, ML_FN_FREE, ML_FN_DELETE,
    ML_FN_DELETE_ARRAY,
};

struct ml_event {
    uint64_t seq;
    uint64_t addr;
    uint64_t size;
    uint32_t stack;    /* stack id, 0 = none */
    uint16_t type;     /* enum ml_event_type */
    uint16_t fn;       /* enum ml_alloc_fn */
};

enum ml_ring_state { ML_RING_FREE = 0, ML_RING_LIVE = 1 };

/* One per thread that allocates; its own cache lines. */
struct ml_ring {
    uint32_t state;    /* FREE -> LIVE by the shim (CAS), LIVE -> FREE by the tracer */
    int32_t tid;       /* owner thread, written by the shim when claiming */
    uint64_t data;     /* offset + 1 of its events in the growing area; 0 until the
                          shim first claims it (shim, release, before any event) */
    uint32_t pad0[12];
    uint64_t head;     /* events published (shim, release) */
    uint64_t pad1[7];
    uint64_t tail;     /* events consumed (tracer, release) */
    uint64_t pad2[7];
} __attribute__((aligned(64)));

/* Stack hash slot: `id` is published last (release) once the frames are written. */
struct ml_stack_slot {
    uint64_t hash;
    uint32_t id;
    uint32_t pad;
};

/* A stored stack, in the frames area at offsets[id]: depth, then its
 * frames.  Stacks deeper than ML_SPLIT_DEPTH share their callers: the
 * record holds only the innermost ML_INNER_FRAMES, and the others are the
 * stored stack `outer` (a stack of its own, whose frames are all in its
 * record), published before the record that names it. */
#define ML_INNER_FRAMES    8u
#define ML_SPLIT_DEPTH     (2u * ML_INNER_FRAMES)
struct ml_stack_rec {
    uint32_t depth;     /* frames in all */
    uint32_t outer;     /* 0: all depth frames are in frames[]; else the id of the
                           frames past the first ML_INNER_FRAMES */
    uint64_t frames[];  /* return addresses, innermost first */
};

/* The shim's own anonymous mappings (its per-thread state blocks, each
 * with the two guard pages around it), listed in its data under the symbol
 * ML_OWN_MAPS_SYMBOL so that the exit snapshot
 * holds the list and the report can tell them from the program's mappings
 * (report/owner.c).  Written by the shim only: n counts the entries made
 * (it may pass ML_OWN_MAPS_MAX; those past it are not listed). */
#define ML_OWN_MAPS_SYMBOL "memlens_own_maps"
#define ML_OWN_MAPS_MAX    1024u
struct ml_own_maps {
    uint64_t n;
    struct { uint64_t addr, len; } v[ML_OWN_MAPS_MAX];
};

struct ml_header {
    uint64_t magic;
    uint32_t version;
    int32_t pid;            /* the process that created the session */
    uint64_t file_size;
    uint32_t max_frames;    /* --num-callers */
    uint32_t adopted;       /* tracer: 1 once it holds the session */
    int32_t tracer_pid;     /* tracer */
    uint32_t pad0;
    uint64_t ring_waits;    /* statistics (shim, atomic): times a thread found its ring full */
    uint64_t slow_walks;    /* stacks the fast walker left to libunwind */
    int64_t guard_tls;      /* the shim's per-thread "inside an allocation call" flag (an
                               int, nonzero inside): its offset from the thread pointer */
    uint32_t guard_known;   /* 1 once guard_tls and real_malloc are set (shim, release) */
    uint32_t pad5;
    uint64_t real_malloc;   /* the malloc the shim forwards to: whose heap it is */
    int64_t alloc_tls;      /* that allocator's thread-local storage, when it is not the C
                               library's: offset from the thread pointer, and size */
    uint64_t alloc_tls_size;    /* 0: none */
    uint64_t lost;          /* events the shim could not record: no address space
                               for the session to grow into (atomic) */
    uint64_t tracer_beat;   /* tracer: bumped while it lives (atomic), so that a shim
                               in another pid namespace, where TracerPid reads 0,
                               can tell a live tracer from a dead one */
    uint64_t pad1[1];
    uint64_t seq;           /* next event sequence number (atomic) */
    uint64_t pad2[7];
    uint32_t stack_count;   /* ids handed out so far, id 0 unused (atomic) */
    uint32_t stacks_full;   /* set once a stack could not be stored */
    uint64_t frames_used;   /* bytes of the frames area handed out (atomic) */
    uint64_t pad3[6];
    uint32_t ring_count;    /* highest ring index ever claimed + 1 (atomic) */
    uint32_t pad4[15];
} __attribute__((aligned(64)));

/* Offsets of each area in the file. */
#define ML_OFF_RINGS      ((uint64_t)sizeof(struct ml_header))
#define ML_OFF_SLOTS      (ML_OFF_RINGS + (uint64_t)ML_MAX_RINGS * sizeof(struct ml_ring))
#define ML_OFF_STACKOFFS  (ML_OFF_SLOTS + (uint64_t)ML_STACK_SLOTS * sizeof(struct ml_stack_slot))
#define ML_OFF_FRAMES     ((ML_OFF_STACKOFFS + (uint64_t)ML_MAX_STACKS * sizeof(uint64_t) + \
                            4095u) & ~4095ull)
#define ML_RING_BYTES     ((uint64_t)ML_RING_EVENTS * sizeof(struct ml_event))
#define ML_SESSION_SIZE   (ML_OFF_FRAMES + ML_FRAMES_BYTES)
#define ML_SESSION_FIRST  (ML_OFF_FRAMES + ML_GROW_BYTES)  /* the first mapping */

static inline struct ml_ring *ml_rings(void *base)
{
    return (struct ml_ring *)((char *)base + ML_OFF_RINGS);
}
static inline struct ml_stack_slot *ml_slots(void *base)
{
    return (struct ml_stack_slot *)((char *)base + ML_OFF_SLOTS);
}
static inline uint64_t *ml_stack_offsets(void *base)
{
    return (uint64_t *)((char *)base + ML_OFF_STACKOFFS);
}
/* The events of a ring whose data is set, in a mapping that reaches them. */
static inline struct ml_event *ml_ring_events(void *base, uint32_t ring)
{
    uint64_t data = __atomic_load_n(&ml_rings(base)[ring].data, __ATOMIC_ACQUIRE);
    return (struct ml_event *)((char *)base + ML_OFF_FRAMES + data - 1);
}
/* Where a mapping must reach to hold everything handed out so far. */
static inline uint64_t ml_session_used(const void *base)
{
    const struct ml_header *h = (const struct ml_header *)base;
    return ML_OFF_FRAMES + __atomic_load_n(&h->frames_used, __ATOMIC_ACQUIRE);
}
/* The stored stack `id`, or 0 when the id is not (yet) published. */
static inline const struct ml_stack_rec *ml_stack(void *base, uint32_t id)
{
    if (id == 0 || id >= ML_MAX_STACKS) return 0;
    uint64_t off = __atomic_load_n(&ml_stack_offsets(base)[id], __ATOMIC_ACQUIRE);
    if (off == 0) return 0;
    return (const struct ml_stack_rec *)((char *)base + ML_OFF_FRAMES + off - 1);
}
/* The frames of rec (depth of them), innermost first: rec's own when it
 * holds them all, else copied into out (room for ML_MAX_FRAMES) from rec
 * and its outer stack; 0 when that stack is not readable. */
static inline const uint64_t *ml_stack_join(void *base, const struct ml_stack_rec *rec,
                                            uint64_t *out)
{
    if (rec->outer == 0) return rec->frames;
    const struct ml_stack_rec *o = ml_stack(base, rec->outer);
    if (!o || o->outer != 0 || rec->depth > ML_MAX_FRAMES ||
        o->depth != rec->depth - ML_INNER_FRAMES)
        return 0;
    for (uint32_t i = 0; i < ML_INNER_FRAMES; i++) out[i] = rec->frames[i];
    for (uint32_t i = 0; i < o->depth; i++) out[ML_INNER_FRAMES + i] = o->frames[i];
    return out;
}

#endif

/* memtrace.h - a process's memory map as the syscall watcher saw it change.
 *
 * The tracer feeds it every completed brk, mmap, munmap, mremap, mprotect
 * and SysV shm call (and the shim's record of which mmap/shmget calls the
 * program made itself, with their stacks); report/regions.c joins it with
 * the exit snapshot.  Owns: the interval map of current mappings with the
 * syscall that made each, the SysV segments, the heap-size timeline, the
 * syscall counts and the program's own mappings.
 */
#ifndef ML_MEMTRACE_H
#define ML_MEMTRACE_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

struct ml_map_interval {
    uint64_t start, end;
    int syscall;               /* enum ml_syscall_index that made it */
    uint64_t seq;              /* watcher event counter when it was made */
    int prot, flags;
    int anon;                  /* MAP_ANONYMOUS (or brk) */
    int allocator;             /* mapped while the thread was inside an allocation
                                  call: malloc's own memory, never a root */
};

struct ml_shm_seg {
    int shmid;
    int64_t key;
    uint64_t size;
    uint64_t attached;         /* last attach address, 0 never */
    int attaches, detaches;
    int removed;               /* IPC_RMID seen */
    uint32_t stack;            /* shmget's stack from the shim, 0 unknown */
};

/* A mapping the program made itself (the shim saw the libc call). */
struct ml_prog_map {
    uint64_t addr, len;
    uint32_t stack;
};

struct ml_memtrace {
    struct ml_map_interval *maps;   /* sorted, disjoint */
    size_t nmaps, capmaps;
    uint64_t brk_start, brk_cur;
    uint64_t anon_bytes;            /* anonymous mmapped bytes now */
    uint64_t seq;
    double t0;                      /* monotonic seconds at the start */
    uint64_t counts[ML_SC_COUNT];
    struct ml_shm_seg *shm;
    size_t nshm, capshm;
    struct ml_timeline_point *timeline;
    size_t ntimeline, captimeline;
    unsigned timeline_stride;       /* keep one point in stride (thinning) */
    struct ml_prog_map *prog;
    size_t nprog, capprog;
    char **posix_shm;               /* /dev/shm files the program mapped */
    size_t nposix_shm;
};

void ml_memtrace_init(struct ml_memtrace *mt, double now);
void ml_memtrace_free(struct ml_memtrace *mt);
/* A forked child starts with its parent's mappings. */
void ml_memtrace_inherit(struct ml_memtrace *child, const struct ml_memtrace *parent);
void ml_memtrace_count(struct ml_memtrace *mt, int syscall);
void ml_memtrace_mmap(struct ml_memtrace *mt, uint64_t addr, uint64_t len, int prot, int flags, double now);
/* The mapping just made at [addr, addr+len) was made inside an allocation call. */
void ml_memtrace_mark_allocator(struct ml_memtrace *mt, uint64_t addr, uint64_t len);
void ml_memtrace_munmap(struct ml_memtrace *mt, uint64_t addr, uint64_t len, double now);
void ml_memtrace_mremap(struct ml_memtrace *mt, uint64_t old, uint64_t oldlen, uint64_t addr,
                        uint64_t len, double now);
void ml_memtrace_mprotect(struct ml_memtrace *mt, uint64_t addr, uint64_t len, int prot);
void ml_memtrace_brk(struct ml_memtrace *mt, uint64_t result, double now);
void ml_memtrace_shmget(struct ml_memtrace *mt, int shmid, int64_t key, uint64_t size);
void ml_memtrace_shmat(struct ml_memtrace *mt, int shmid, uint64_t addr, uint64_t size, double now);
void ml_memtrace_shmdt(struct ml_memtrace *mt, uint64_t addr, double now);
void ml_memtrace_shm_rmid(struct ml_memtrace *mt, int shmid);
void ml_memtrace_shm_stack(struct ml_memtrace *mt, int shmid, uint32_t stack);
void ml_memtrace_prog_mmap(struct ml_memtrace *mt, uint64_t addr, uint64_t len, uint32_t stack);
void ml_memtrace_prog_munmap(struct ml_memtrace *mt, uint64_t addr, uint64_t len);
void ml_memtrace_posix_shm(struct ml_memtrace *mt, const char *path);
/* The interval containing addr, or NULL. */
const struct ml_map_interval *ml_memtrace_find(const struct ml_memtrace *mt, uint64_t addr);
/* Where the first watched mapping at or above addr begins (addr itself
 * when one holds it), UINT64_MAX when there is none. */
uint64_t ml_memtrace_next_start(const struct ml_memtrace *mt, uint64_t addr);
/* Bytes of [addr, addr+len) that are still mapped. */
uint64_t ml_memtrace_mapped_bytes(const struct ml_memtrace *mt, uint64_t addr, uint64_t len);

#endif

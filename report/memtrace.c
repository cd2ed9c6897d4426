/* memtrace.c - the watcher's interval map, SysV segments and timeline (see memtrace.h). */
#include "memtrace.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define TIMELINE_MAX 4096

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    void *q = realloc(*p, ncap * elem);
    if (!q) return -1;
    *p = q;
    *cap = ncap;
    return 0;
}

void ml_memtrace_init(struct ml_memtrace *mt, double now)
{
    memset(mt, 0, sizeof *mt);
    mt->t0 = now;
    mt->timeline_stride = 1;
}

void ml_memtrace_free(struct ml_memtrace *mt)
{
    free(mt->maps);
    free(mt->shm);
    free(mt->timeline);
    free(mt->prog);
    for (size_t i = 0; i < mt->nposix_shm; i++) free(mt->posix_shm[i]);
    free(mt->posix_shm);
    memset(mt, 0, sizeof *mt);
}

void ml_memtrace_inherit(struct ml_memtrace *child, const struct ml_memtrace *parent)
{
    if (grow((void **)&child->maps, &child->capmaps, parent->nmaps, sizeof *child->maps)) return;
    memcpy(child->maps, parent->maps, parent->nmaps * sizeof *child->maps);
    child->nmaps = parent->nmaps;
    child->anon_bytes = parent->anon_bytes;
    child->brk_start = parent->brk_start;
    child->brk_cur = parent->brk_cur;
}

void ml_memtrace_count(struct ml_memtrace *mt, int syscall)
{
    if (syscall >= 0 && syscall < ML_SC_COUNT) mt->counts[syscall]++;
    mt->seq++;
}

static void timeline_point(struct ml_memtrace *mt, double now)
{
    if (mt->seq % mt->timeline_stride) return;
    if (mt->ntimeline == TIMELINE_MAX) {         /* thin: keep every other point */
        for (size_t i = 0; i < TIMELINE_MAX / 2; i++) mt->timeline[i] = mt->timeline[2 * i + 1];
        mt->ntimeline = TIMELINE_MAX / 2;
        mt->timeline_stride *= 2;
    }
    if (grow((void **)&mt->timeline, &mt->captimeline, mt->ntimeline + 1, sizeof *mt->timeline))
        return;
    mt->timeline[mt->ntimeline++] = (struct ml_timeline_point){
        .seq = mt->seq, .seconds = now - mt->t0,
        .brk_bytes = mt->brk_cur - mt->brk_start, .mmap_bytes = mt->anon_bytes};
}

/* Cut [start, end) out of the interval map. */
static void remove_range(struct ml_memtrace *mt, uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < mt->nmaps;) {
        struct ml_map_interval *m = &mt->maps[i];
        if (m->end <= start || m->start >= end) { i++; continue; }
        uint64_t cut_lo = m->start > start ? m->start : start;
        uint64_t cut_hi = m->end < end ? m->end : end;
        if (m->anon) mt->anon_bytes -= cut_hi - cut_lo;
        if (m->start < start && m->end > end) {           /* split in two */
            if (grow((void **)&mt->maps, &mt->capmaps, mt->nmaps + 1, sizeof *mt->maps)) return;
            m = &mt->maps[i];
            memmove(m + 1, m, (mt->nmaps - i) * sizeof *m);
            mt->nmaps++;
            m[0].end = start;
            m[1].start = end;
            return;
        }
        if (m->start < start) { m->end = start; i++; continue; }
        if (m->end > end) { m->start = end; i++; continue; }
        memmove(m, m + 1, (mt->nmaps - i - 1) * sizeof *m);
        mt->nmaps--;
    }
}

static void insert(struct ml_memtrace *mt, const struct ml_map_interval *iv)
{
    remove_range(mt, iv->start, iv->end);
    if (grow((void **)&mt->maps, &mt->capmaps, mt->nmaps + 1, sizeof *mt->maps)) return;
    size_t i = 0;
    while (i < mt->nmaps && mt->maps[i].start < iv->start) i++;
    memmove(&mt->maps[i + 1], &mt->maps[i], (mt->nmaps - i) * sizeof *mt->maps);
    mt->maps[i] = *iv;
    mt->nmaps++;
    if (iv->anon) mt->anon_bytes += iv->end - iv->start;
}

static uint64_t page_up(uint64_t v)
{
    return (v + 4095) & ~4095ull;
}

void ml_memtrace_mmap(struct ml_memtrace *mt, uint64_t addr, uint64_t len, int prot, int flags, double now)
{
    struct ml_map_interval iv = {.start = addr, .end = addr + page_up(len), .syscall = ML_SC_MMAP,
                                 .seq = mt->seq, .prot = prot, .flags = flags,
                                 .anon = (flags & MAP_ANONYMOUS) != 0};
    insert(mt, &iv);
    timeline_point(mt, now);
}

void ml_memtrace_mark_allocator(struct ml_memtrace *mt, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + page_up(len);
    for (size_t i = 0; i < mt->nmaps; i++)
        if (mt->maps[i].start >= addr && mt->maps[i].end <= end) mt->maps[i].allocator = 1;
}

void ml_memtrace_munmap(struct ml_memtrace *mt, uint64_t addr, uint64_t len, double now)
{
    remove_range(mt, addr, addr + page_up(len));
    timeline_point(mt, now);
}

void ml_memtrace_mremap(struct ml_memtrace *mt, uint64_t old, uint64_t oldlen, uint64_t addr,
                        uint64_t len, double now)
{
    const struct ml_map_interval *src = ml_memtrace_find(mt, old);
    struct ml_map_interval iv = {.start = addr, .end = addr + page_up(len), .syscall = ML_SC_MREMAP,
                                 .seq = mt->seq, .prot = src ? src->prot : 0,
                                 .flags = src ? src->flags : 0, .anon = src ? src->anon : 1,
                                 .allocator = src ? src->allocator : 0};
    remove_range(mt, old, old + page_up(oldlen));
    insert(mt, &iv);
    for (size_t i = 0; i < mt->nprog; i++)          /* the program's mapping moved */
        if (mt->prog[i].addr == old) {
            mt->prog[i].addr = addr;
            mt->prog[i].len = len;
        }
    timeline_point(mt, now);
}

void ml_memtrace_mprotect(struct ml_memtrace *mt, uint64_t addr, uint64_t len, int prot)
{
    uint64_t end = addr + page_up(len);
    for (size_t i = 0; i < mt->nmaps; i++)
        if (mt->maps[i].start < end && mt->maps[i].end > addr) mt->maps[i].prot = prot;
}

void ml_memtrace_brk(struct ml_memtrace *mt, uint64_t result, double now)
{
    if (!mt->brk_start) mt->brk_start = result;
    if (result == mt->brk_cur) return;
    mt->brk_cur = result;
    timeline_point(mt, now);
}

static struct ml_shm_seg *shm_find(struct ml_memtrace *mt, int shmid)
{
    for (size_t i = 0; i < mt->nshm; i++)
        if (mt->shm[i].shmid == shmid) return &mt->shm[i];
    return NULL;
}

static struct ml_shm_seg *shm_get(struct ml_memtrace *mt, int shmid)
{
    struct ml_shm_seg *s = shm_find(mt, shmid);
    if (s || grow((void **)&mt->shm, &mt->capshm, mt->nshm + 1, sizeof *mt->shm)) return s;
    s = &mt->shm[mt->nshm++];
    memset(s, 0, sizeof *s);
    s->shmid = shmid;
    s->key = -1;
    return s;
}

void ml_memtrace_shmget(struct ml_memtrace *mt, int shmid, int64_t key, uint64_t size)
{
    struct ml_shm_seg *s = shm_get(mt, shmid);
    if (!s) return;
    s->key = key;
    if (size) s->size = size;
}

void ml_memtrace_shmat(struct ml_memtrace *mt, int shmid, uint64_t addr, uint64_t size, double now)
{
    struct ml_shm_seg *s = shm_get(mt, shmid);
    if (!s) return;
    if (size) s->size = size;
    s->attached = addr;
    s->attaches++;
    struct ml_map_interval iv = {.start = addr, .end = addr + page_up(s->size), .syscall = ML_SC_SHMAT,
                                 .seq = mt->seq, .prot = PROT_READ | PROT_WRITE, .flags = MAP_SHARED};
    insert(mt, &iv);
    timeline_point(mt, now);
}

void ml_memtrace_shmdt(struct ml_memtrace *mt, uint64_t addr, double now)
{
    for (size_t i = 0; i < mt->nshm; i++)
        if (mt->shm[i].attached == addr && mt->shm[i].detaches < mt->shm[i].attaches) {
            mt->shm[i].detaches++;
            remove_range(mt, addr, addr + page_up(mt->shm[i].size));
            break;
        }
    timeline_point(mt, now);
}

void ml_memtrace_shm_rmid(struct ml_memtrace *mt, int shmid)
{
    struct ml_shm_seg *s = shm_get(mt, shmid);
    if (s) s->removed = 1;
}

void ml_memtrace_shm_stack(struct ml_memtrace *mt, int shmid, uint32_t stack)
{
    struct ml_shm_seg *s = shm_get(mt, shmid);
    if (s && !s->stack) s->stack = stack;
}

void ml_memtrace_prog_mmap(struct ml_memtrace *mt, uint64_t addr, uint64_t len, uint32_t stack)
{
    if (grow((void **)&mt->prog, &mt->capprog, mt->nprog + 1, sizeof *mt->prog)) return;
    mt->prog[mt->nprog++] = (struct ml_prog_map){.addr = addr, .len = len, .stack = stack};
}

/* Forget what [addr, addr+len) unmaps of the program's mappings; a mapping
 * unmapped in part keeps only what is left, so that a later mapping placed
 * in the freed range is never counted as part of it. */
void ml_memtrace_prog_munmap(struct ml_memtrace *mt, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + page_up(len);
    for (size_t i = 0; i < mt->nprog;) {
        struct ml_prog_map *p = &mt->prog[i];
        uint64_t pend = p->addr + page_up(p->len);
        if (end <= p->addr || addr >= pend) {
            i++;
        } else if (addr <= p->addr && end >= pend) {
            *p = mt->prog[--mt->nprog];          /* wholly unmapped: forget it */
        } else if (addr > p->addr && end < pend) {  /* a hole: two pieces remain */
            struct ml_prog_map tail = {.addr = end, .len = pend - end, .stack = p->stack};
            p->len = addr - p->addr;
            if (grow((void **)&mt->prog, &mt->capprog, mt->nprog + 1, sizeof *mt->prog)) return;
            mt->prog[mt->nprog++] = tail;
            i++;
        } else if (addr <= p->addr) {              /* the head went */
            p->len = pend - end;
            p->addr = end;
            i++;
        } else {                                    /* the tail went */
            p->len = addr - p->addr;
            i++;
        }
    }
}

void ml_memtrace_posix_shm(struct ml_memtrace *mt, const char *path)
{
    for (size_t i = 0; i < mt->nposix_shm; i++)
        if (strcmp(mt->posix_shm[i], path) == 0) return;
    char **p = realloc(mt->posix_shm, (mt->nposix_shm + 1) * sizeof *p);
    if (!p) return;
    mt->posix_shm = p;
    if ((p[mt->nposix_shm] = strdup(path))) mt->nposix_shm++;
}

uint64_t ml_memtrace_next_start(const struct ml_memtrace *mt, uint64_t addr)
{
    size_t lo = 0, hi = mt->nmaps;          /* first interval ending above addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mt->maps[mid].end <= addr) lo = mid + 1;
        else hi = mid;
    }
    if (lo == mt->nmaps) return UINT64_MAX;
    return mt->maps[lo].start > addr ? mt->maps[lo].start : addr;
}

const struct ml_map_interval *ml_memtrace_find(const struct ml_memtrace *mt, uint64_t addr)
{
    for (size_t i = 0; i < mt->nmaps; i++)
        if (addr >= mt->maps[i].start && addr < mt->maps[i].end) return &mt->maps[i];
    return NULL;
}

uint64_t ml_memtrace_mapped_bytes(const struct ml_memtrace *mt, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + page_up(len), total = 0;
    for (size_t i = 0; i < mt->nmaps; i++) {
        uint64_t lo = mt->maps[i].start > addr ? mt->maps[i].start : addr;
        uint64_t hi = mt->maps[i].end < end ? mt->maps[i].end : end;
        if (hi > lo) total += hi - lo;
    }
    return total;
}
